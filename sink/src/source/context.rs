//! The consumer's rdkafka context: librdkafka's statistics as per-partition metrics, and the
//! last refusal (login, certificate) librdkafka logged, for the start-up wait to stop on; and
//! the rebalances: a revoke is recorded here and settled by the loop ([`revocations`]).

use crate::metrics::{COMMITTED_OFFSET, CONSUMER_LAG};
use crate::source::revocations::{self, Revocations};
use crate::source::security::Refusal;
use metrics::gauge;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{Statistics, TopicPartitionList};
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
#[derive(Default)]
pub struct SinkContext {
    refused: Mutex<Option<(Refusal, String)>>,
    revocations: Mutex<Revocations>,
}

impl SinkContext {
    /// The last refusal librdkafka logged, if any.
    pub fn refused(&self) -> Option<(Refusal, String)> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }

    /// What rebalances took from this process, and the revoke waiting to be settled.
    pub fn revocations(&self) -> MutexGuard<'_, Revocations> {
        // The state stays consistent whatever panicked while holding it: each step is one call.
        self.revocations.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A partition list's partitions.
pub fn partitions(tpl: &TopicPartitionList) -> Vec<revocations::Partition> {
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

/// An assignment is taken at once; a revoke is only recorded: the loop commits what it stored
/// of those partitions and then gives them back (`incremental_unassign`, or `unassign` under the
/// eager protocol), as Connect's `onPartitionsRevoked` commits before the revoke completes.
/// librdkafka waits for that call (up to `max.poll.interval.ms`, the group's rebalance timeout)
/// before the partitions go to another member, so a row this process is writing when the
/// callback runs never lands after the new owner's.
impl ConsumerContext for SinkContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                tracing::info!("Kafka: assigned {}", describe(tpl));
                let assigned = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = assigned {
                    tracing::error!("Kafka: cannot take the assignment: {e}");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let lost = consumer.assignment_lost();
                tracing::info!(
                    "Kafka: revoking {}{}; nothing more of them is written, what is stored is committed first",
                    describe(tpl),
                    if lost { " (assignment lost: nothing of them is committed)" } else { "" }
                );
                self.revocations().revoke(partitions(tpl), lost);
            }
            other => {
                // librdkafka asks for the assignment to be dropped: a revoke of all of it.
                tracing::error!("Kafka: rebalance failed: {other:?}; giving up the assignment");
                let all = if cooperative {
                    partitions(tpl)
                } else {
                    consumer
                        .assignment()
                        .map(|a| partitions(&a))
                        .unwrap_or_default()
                };
                self.revocations().revoke(all, true);
            }
        }
    }
}

fn describe(tpl: &TopicPartitionList) -> String {
    let parts: Vec<String> = partitions(tpl)
        .iter()
        .map(|(t, p)| format!("{t}[{p}]"))
        .collect();
    format!("{} partition(s) {}", parts.len(), parts.join(","))
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
