//! The consumer's rdkafka context: librdkafka's statistics as per-partition metrics, and the
//! last refusal (login, certificate) librdkafka logged, for the start-up wait to stop on.

use crate::metrics::{COMMITTED_OFFSET, CONSUMER_LAG};
use crate::source::security::Refusal;
use crate::source::topic_wait::TopicWait;
use metrics::gauge;
use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::Statistics;

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
}

impl Default for SinkContext {
    fn default() -> SinkContext {
        SinkContext {
            refused: Default::default(),
            topic_wait: std::sync::Mutex::new(TopicWait::new(std::time::Duration::from_secs(60))),
        }
    }
}

impl SinkContext {
    /// The last refusal librdkafka logged, if any.
    pub fn refused(&self) -> Option<(Refusal, String)> {
        self.refused.lock().ok().and_then(|r| r.clone())
    }
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

impl ConsumerContext for SinkContext {}

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
