//! The consumer's rdkafka context: librdkafka's statistics as per-partition metrics, and the
//! last refusal (login, certificate) librdkafka logged, for the start-up wait to stop on; and
//! the rebalances: a revoke commits what was handled of its partitions ([`crate::source::ownership`]).

use crate::metrics::{COMMITTED_OFFSET, CONSUMER_LAG};
use crate::source::ownership::{Ownership, Partition};
use crate::source::security::Refusal;
use crate::source::topic_wait::TopicWait;
use metrics::gauge;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::{Offset, Statistics, TopicPartitionList};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// One assigned partition as librdkafka's statistics describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState {
    pub topic: String,
    pub partition: i32,
    /// Records after the committed offset; `None` while the end of the partition is unknown.
    pub lag: Option<i64>,
    /// `None` while the group has no committed offset for it.
    pub committed: Option<i64>,
}

/// The partitions this consumer is assigned (librdkafka's "desired" ones), from its statistics.
pub fn partition_states(stats: &Statistics) -> Vec<PartitionState> {
    let mut states = Vec::new();
    for (topic, t) in &stats.topics {
        for (&partition, p) in &t.partitions {
            // -1 is librdkafka's internal "unassigned" partition.
            if partition < 0 || !p.desired {
                continue;
            }
            let committed = (p.committed_offset >= 0).then_some(p.committed_offset);
            let lag = match committed {
                _ if p.consumer_lag >= 0 => Some(p.consumer_lag),
                // Nothing committed yet: all of it is still to read.
                None if p.hi_offset >= 0 => Some(p.hi_offset - p.lo_offset.max(0)),
                _ => None,
            };
            states.push(PartitionState {
                topic: topic.clone(),
                partition,
                lag,
                committed,
            });
        }
    }
    states.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    states
}

/// The consumer's rdkafka context: it turns librdkafka's statistics (emitted every
/// `statistics.interval.ms`, set only when metrics are on) into the per-partition gauges, and
/// keeps the last refusal librdkafka logged (a login or a certificate the broker refused,
/// with librdkafka's words) for the start-up wait to stop on.
pub struct SinkContext {
    refused: std::sync::Mutex<Option<(Refusal, String)>>,
    /// Subscribed topics that do not exist yet.
    pub topic_wait: std::sync::Mutex<TopicWait>,
    ownership: Mutex<Ownership>,
}

impl Default for SinkContext {
    fn default() -> SinkContext {
        SinkContext {
            refused: Default::default(),
            topic_wait: std::sync::Mutex::new(TopicWait::new(std::time::Duration::from_secs(60))),
            ownership: Mutex::default(),
        }
    }
}

impl SinkContext {
    /// The last refusal librdkafka logged, if any.
    pub fn refused(&self) -> Option<(Refusal, String)> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }

    /// Which polled records are still this process's, and the offsets lent for a poll. Never
    /// held across a call into librdkafka (a poll runs the callback, which takes it).
    pub fn ownership(&self) -> MutexGuard<'_, Ownership> {
        // Each change is one call: the state is consistent whatever panicked holding it.
        self.ownership.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<Partition> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

impl ClientContext for SinkContext {
    fn log(&self, level: rdkafka::config::RDKafkaLogLevel, fac: &str, message: &str) {
        use rdkafka::config::RDKafkaLogLevel as L;
        match level {
            L::Emerg | L::Alert | L::Critical | L::Error => {
                if let Some(refusal) = Refusal::from_log(message) {
                    if let Ok(mut last) = self.refused.lock() {
                        *last = Some((refusal, message.to_string()));
                    }
                }
                tracing::error!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            L::Warning => tracing::warn!(target: "librdkafka", "librdkafka: {fac} {message}"),
            L::Notice | L::Info => {
                tracing::info!(target: "librdkafka", "librdkafka: {fac} {message}")
            }
            L::Debug => tracing::debug!(target: "librdkafka", "librdkafka: {fac} {message}"),
        }
    }

    fn stats(&self, stats: Statistics) {
        for s in partition_states(&stats) {
            let labels = [
                ("topic", s.topic.clone()),
                ("partition", s.partition.to_string()),
            ];
            if let Some(lag) = s.lag {
                gauge!(CONSUMER_LAG, &labels).set(lag as f64);
            }
            if let Some(offset) = s.committed {
                gauge!(COMMITTED_OFFSET, &labels).set(offset as f64);
            }
        }
    }
}

/// librdkafka's default (eager) assignment is kept: the partitions are taken and given up
/// inside the callback, never deferred (a deferred give-back under cooperative-sticky hung a
/// `--until-caught-up` run, reverted in 200feae). The callback runs inside a poll, which the
/// loop makes only between writes, so no row of a revoked partition is being written now, and
/// none is written later ([`Ownership::current`]).
impl ConsumerContext for SinkContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let (revoked, lost) = match rebalance {
            Rebalance::Assign(tpl) => {
                tracing::info!("Kafka: assigned {}", describe(&partitions(tpl)));
                return;
            }
            Rebalance::Revoke(tpl) => (partitions(tpl), consumer.assignment_lost()),
            // librdkafka drops the whole assignment: nothing of it is committed.
            Rebalance::Error(e) => {
                tracing::warn!("Kafka: rebalance failed: {e}; giving up the assignment");
                let all = consumer.assignment().map(|a| partitions(&a));
                (all.unwrap_or_default(), true)
            }
        };
        let handled = self.ownership().revoke(&revoked);
        tracing::info!(
            "Kafka: revoking {}{}",
            describe(&revoked),
            match (lost, handled.is_empty()) {
                (true, _) => "; the assignment was lost: what was stored of them since the last commit is read again by their next owner",
                (false, true) => "",
                (false, false) => "; committing what was stored of them first",
            }
        );
        if lost || handled.is_empty() {
            return;
        }
        match commit(consumer, &handled) {
            Ok(()) => self
                .ownership()
                .committed
                .extend(handled.into_iter().map(|(p, o)| (p, o + 1))),
            // Nothing of them is committed later: a late commit could move the group's offset
            // back past the new owner's.
            Err(e) => {
                crate::metrics::error("kafka_commit");
                tracing::warn!("Kafka: commit before the revoke: {e}; their next owner reads what was stored since the last commit again");
            }
        }
    }
}

fn commit(
    consumer: &BaseConsumer<SinkContext>,
    handled: &BTreeMap<Partition, i64>,
) -> Result<(), rdkafka::error::KafkaError> {
    let mut offsets = TopicPartitionList::new();
    for ((topic, partition), offset) in handled {
        offsets.add_partition_offset(topic, *partition, Offset::Offset(offset + 1))?;
    }
    consumer.commit(&offsets, CommitMode::Sync)
}

fn describe(partitions: &[Partition]) -> String {
    let names: Vec<String> = partitions
        .iter()
        .map(|(t, p)| format!("{t}[{p}]"))
        .collect();
    format!("{} partition(s) {}", names.len(), names.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::statistics::{Partition, Topic};

    fn partition(id: i32, desired: bool, committed: i64, lag: i64, lo: i64, hi: i64) -> Partition {
        Partition {
            partition: id,
            desired,
            committed_offset: committed,
            consumer_lag: lag,
            lo_offset: lo,
            hi_offset: hi,
            ..Partition::default()
        }
    }

    #[test]
    fn assigned_partitions_with_their_lag_and_committed_offset() {
        let mut topic = Topic::default();
        for p in [
            partition(-1, true, -1001, -1, -1, -1), // librdkafka's internal one
            partition(0, true, 40, 60, 0, 100),
            partition(1, true, -1001, -1, 5, 30), // nothing committed yet
            partition(2, false, 10, 90, 0, 100),  // another member's
            partition(3, true, -1001, -1, -1, -1), // end not known yet
        ] {
            topic.partitions.insert(p.partition, p);
        }
        let mut stats = Statistics::default();
        stats.topics.insert("t".into(), topic);
        let state = |partition, lag, committed| PartitionState {
            topic: "t".into(),
            partition,
            lag,
            committed,
        };
        assert_eq!(
            partition_states(&stats),
            vec![
                state(0, Some(60), Some(40)),
                state(1, Some(25), None),
                state(3, None, None),
            ]
        );
    }
}
