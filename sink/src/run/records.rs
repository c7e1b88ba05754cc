//! The ledger of a run: each record stored, or reported as bad (log, dead letter queue) and
//! skipped, or the reason the sink stops; the offsets handled, committed once stored.

use crate::config::{SinkConfig, Tolerance};
use crate::error::{Problem, RecordError, SinkError};
use crate::mapping::prepare::{at, Coerced};
use crate::metrics;
use crate::run::coercion_log::CoercionLog;
use crate::run::summary::RunSummary;
use crate::source::consumer::KafkaConsumer;
use crate::source::dead_letter::{DeadLetters, Undelivered};
use crate::write::store::Outcomes;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) struct Records<'a> {
    config: &'a SinkConfig,
    dead_letters: Option<DeadLetters>,
    pub summary: &'a mut RunSummary,
    /// The highest offset handled (stored or reported) per partition, not yet committed.
    done: BTreeMap<(String, i32), i64>,
    coercion_log: CoercionLog,
}

impl<'a> Records<'a> {
    pub fn new(
        config: &'a SinkConfig,
        dead_letters: Option<DeadLetters>,
        summary: &'a mut RunSummary,
    ) -> Records<'a> {
        Records {
            config,
            dead_letters,
            summary,
            done: BTreeMap::new(),
            coercion_log: CoercionLog::new(std::time::Duration::from_secs(60)),
        }
    }

    /// A value decoding changed: counted (metric, summary), sampled, and logged rate-limited.
    pub fn coerced(&mut self, c: Coerced) {
        metrics::coerced(c.field(), c.coercion.target);
        if let Some(line) = self.coercion_log.note(&c, std::time::Instant::now()) {
            tracing::warn!("{line}");
        }
        self.summary.coerced(&c);
    }

    /// A record with nothing to write (a tombstone QuestDB's connector skips) is handled.
    pub fn nothing_to_write(&mut self, message: &OwnedMessage) {
        self.mark_done(message);
    }

    fn mark_done(&mut self, message: &OwnedMessage) {
        self.done.insert(
            (message.topic().to_string(), message.partition()),
            message.offset(),
        );
    }

    /// Waits until Kafka took every dead letter sent so far. A partition whose dead letter it
    /// did not take is committed only up to that record, and the sink stops on it.
    pub async fn dead_letters_acknowledged(&mut self) -> Result<(), SinkError> {
        let Some(dead_letters) = &mut self.dead_letters else {
            return Ok(());
        };
        let undelivered = dead_letters.acknowledged().await;
        let Some(first) = undelivered.first() else {
            return Ok(());
        };
        hold_back(&mut self.done, &undelivered);
        Err(dead_letters.error(format!(
            "Kafka did not take the dead letter of {}-{} offset {}: {}; nothing from that offset on is committed",
            first.topic, first.partition, first.offset, first.error
        )))
    }

    /// Lends the offsets handled and not committed to the consumer's context for a poll: a
    /// revoke in there commits those of its partitions and forgets them.
    pub fn lend_handled(&mut self, consumer: &KafkaConsumer) {
        consumer.context().ownership().handled = std::mem::take(&mut self.done);
    }

    /// Takes back what a poll's revokes left of them, and notes what they committed.
    pub fn take_back_handled(&mut self, consumer: &KafkaConsumer) {
        let mut ownership = consumer.context().ownership();
        self.done = std::mem::take(&mut ownership.handled);
        for ((topic, partition), next) in ownership.committed.drain(..) {
            metrics::committed(&topic, partition, next);
            self.summary.committed.insert((topic, partition), next);
        }
    }

    /// Commits the offsets after the records handled since the last commit, and waits for
    /// Kafka's answer.
    pub fn commit(&mut self, consumer: &KafkaConsumer) -> Result<(), rdkafka::error::KafkaError> {
        if self.done.is_empty() {
            return Ok(());
        }
        let result = consumer.commit(&offset_list(&self.done)?, CommitMode::Sync);
        let offsets = std::mem::take(&mut self.done);
        self.committed(offsets, result)
    }

    /// Starts committing the offsets handled so far on a thread of its own, so that the next
    /// batch is written meanwhile; [`Records::finish_commit`] waits for Kafka's answer. One
    /// commit is in flight at a time, and never during a poll (the loop finishes it first), so
    /// a revoke's commit in the rebalance callback never overtakes it.
    pub fn start_commit(&mut self, consumer: &Arc<KafkaConsumer>) -> Option<InFlight> {
        if self.done.is_empty() {
            return None;
        }
        let offsets = std::mem::take(&mut self.done);
        let list = offsets.clone();
        let consumer = consumer.clone();
        let handle = tokio::task::spawn_blocking(move || {
            consumer.commit(&offset_list(&list)?, CommitMode::Sync)
        });
        Some(InFlight { offsets, handle })
    }

    /// Kafka's answer to a commit [`Records::start_commit`] sent.
    pub async fn finish_commit(
        &mut self,
        in_flight: InFlight,
    ) -> Result<(), rdkafka::error::KafkaError> {
        let result = in_flight
            .handle
            .await
            // A panic in there is the sink's own bug: raise it here.
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        self.committed(in_flight.offsets, result)
    }

    /// Notes a commit's outcome: committed, or the offsets pending again for the next commit
    /// (merged with what was handled since: the higher offset per partition).
    fn committed(
        &mut self,
        offsets: BTreeMap<(String, i32), i64>,
        result: Result<(), rdkafka::error::KafkaError>,
    ) -> Result<(), rdkafka::error::KafkaError> {
        if let Err(e) = result {
            for (partition, offset) in offsets {
                let pending = self.done.entry(partition).or_insert(offset);
                *pending = (*pending).max(offset);
            }
            return Err(e);
        }
        for ((topic, partition), offset) in offsets {
            metrics::committed(&topic, partition, offset + 1);
            self.summary
                .committed
                .insert((topic, partition), offset + 1);
        }
        Ok(())
    }
}

/// A commit on its way to Kafka.
pub(crate) struct InFlight {
    offsets: BTreeMap<(String, i32), i64>,
    handle: tokio::task::JoinHandle<Result<(), rdkafka::error::KafkaError>>,
}

/// The offsets to commit: the one after each partition's last handled record.
fn offset_list(
    done: &BTreeMap<(String, i32), i64>,
) -> Result<TopicPartitionList, rdkafka::error::KafkaError> {
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in done {
        offsets.add_partition_offset(topic, *partition, Offset::Offset(offset + 1))?;
    }
    Ok(offsets)
}

/// Keeps the offsets to commit before each dead letter Kafka did not take: the partition is
/// committed up to that record, not past it.
fn hold_back(done: &mut BTreeMap<(String, i32), i64>, undelivered: &[Undelivered]) {
    for u in undelivered {
        let key = (u.topic.clone(), u.partition);
        match done.get(&key) {
            // Nothing before it in this partition to commit.
            Some(_) if u.offset == 0 => {
                done.remove(&key);
            }
            Some(&handled) if handled >= u.offset => {
                done.insert(key, u.offset - 1);
            }
            _ => {}
        }
    }
}

impl Drop for Records<'_> {
    /// The coercions counted since the last line are logged when the run ends.
    fn drop(&mut self) {
        if let Some(line) = self.coercion_log.flush(std::time::Instant::now()) {
            tracing::warn!("{line}");
        }
    }
}

impl Outcomes for Records<'_> {
    fn stored(&mut self, batch: &[OwnedMessage], indexes: &[usize]) {
        // Counted per topic: a table may take several topics' records.
        let mut per_topic: BTreeMap<&str, u64> = BTreeMap::new();
        for &i in indexes {
            self.mark_done(&batch[i]);
            *per_topic.entry(batch[i].topic()).or_default() += 1;
        }
        for (topic, rows) in per_topic {
            metrics::stored(topic, rows);
        }
        self.summary.rows += indexes.len() as u64;
    }

    fn issued(&mut self, sql: &str) {
        self.summary.ddl.push(sql.to_string());
    }

    /// A bad record: stop (tolerance none) or report it and count it as handled (tolerance all).
    async fn rejected(
        &mut self,
        message: &OwnedMessage,
        problem: Problem,
    ) -> Result<(), SinkError> {
        metrics::error(metrics::problem_kind(&problem));
        let error = RecordError {
            at: at(message),
            problem,
        };
        if self.config.errors.tolerance == Tolerance::None {
            return Err(SinkError::Record(error));
        }
        if self.config.errors.log {
            tracing::error!("skipping bad record: {error}");
        }
        if let Some(dead_letters) = &mut self.dead_letters {
            dead_letters.send(message, &error).await?;
        }
        metrics::skipped(message.topic(), self.dead_letters.is_some());
        self.summary.reported += 1;
        self.mark_done(message);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undelivered(partition: i32, offset: i64) -> Undelivered {
        Undelivered {
            topic: "t".into(),
            partition,
            offset,
            error: "timed out".into(),
        }
    }

    #[test]
    fn a_failed_commit_leaves_its_offsets_pending_under_later_ones() {
        let config = SinkConfig::from_properties(&crate::config::properties::parse(include_str!(
            "../../../fixtures/seed/connect-jdbc.properties"
        )))
        .expect("the seed's properties");
        let mut summary = RunSummary::default();
        let mut records = Records::new(&config, None, &mut summary);
        // Handled since the commit was sent: partition 0 further on, partition 2 new.
        records.done = [(("t".into(), 0), 120), (("t".into(), 2), 5)].into();
        let sent: BTreeMap<(String, i32), i64> =
            [(("t".into(), 0), 90), (("t".into(), 1), 50)].into();
        let failed = rdkafka::error::KafkaError::ConsumerCommit(
            rdkafka::types::RDKafkaErrorCode::RebalanceInProgress,
        );
        assert!(records.committed(sent.clone(), Err(failed)).is_err());
        let expected: BTreeMap<(String, i32), i64> = [
            (("t".into(), 0), 120),
            (("t".into(), 1), 50),
            (("t".into(), 2), 5),
        ]
        .into();
        assert_eq!(records.done, expected, "never an offset lower than handled");
        records.committed(sent, Ok(())).expect("committed");
        assert_eq!(records.summary.committed[&("t".to_string(), 0)], 91);
        assert_eq!(records.summary.committed[&("t".to_string(), 1)], 51);
    }

    #[test]
    fn nothing_is_committed_from_an_undelivered_dead_letter_on() {
        let mut done: BTreeMap<(String, i32), i64> = [
            (("t".into(), 0), 90),
            (("t".into(), 1), 50),
            (("t".into(), 2), 7),
        ]
        .into();
        // Partition 0: two failed, the earlier one counts; 1: its first record; 2: untouched.
        hold_back(
            &mut done,
            &[undelivered(0, 80), undelivered(0, 60), undelivered(1, 0)],
        );
        let expected: BTreeMap<(String, i32), i64> =
            [(("t".into(), 0), 59), (("t".into(), 2), 7)].into();
        assert_eq!(done, expected);
    }
}
