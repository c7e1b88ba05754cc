//! The sink's metrics, recorded through the `metrics` facade and rendered in Prometheus' text
//! format by `metrics-exporter-prometheus` (served by [`crate::run::endpoint`]). Until
//! [`install`] runs (`metrics.listen` set) the facade has no recorder and every call here is
//! a no-op, so a sink without metrics pays nothing and behaves as before.
//!
//! Counters only count: rows/s is `rate(sink_rows_stored_total[1m])`, the scraper's job.

use crate::error::Problem;
use metrics::{counter, gauge, histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rdkafka::message::{Message, OwnedMessage};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

pub const RECORDS_CONSUMED: &str = "sink_records_consumed_total";
pub const ROWS_STORED: &str = "sink_rows_stored_total";
pub const RECORDS_SKIPPED: &str = "sink_records_skipped_total";
pub const RECORDS_DEAD_LETTERED: &str = "sink_records_dead_lettered_total";
pub const BATCH_RECORDS: &str = "sink_batch_records";
pub const BATCH_SECONDS: &str = "sink_batch_duration_seconds";
pub const WRITE_SECONDS: &str = "sink_write_duration_seconds";
pub const RETRIES: &str = "sink_retries_total";
pub const ERRORS: &str = "sink_errors_total";
pub const CONSUMER_LAG: &str = "sink_consumer_lag";
pub const COMMITTED_OFFSET: &str = "sink_committed_offset";
pub const ASSIGNED_PARTITIONS: &str = "sink_assigned_partitions";
pub const COERCIONS: &str = "sink_coercions_total";

/// Records per batch: up to `batch.size` (3000 by default).
const BATCH_BUCKETS: &[f64] = &[
    1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2000.0, 3000.0, 5000.0, 10000.0,
];
/// Seconds: a write of a few rows takes about a millisecond, a retried one seconds.
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Installs the process-wide Prometheus recorder once and returns its handle (a second run
/// in the same process, as the harness does, shares it and its counts).
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(BATCH_RECORDS.into()), BATCH_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                })
                .expect("the bucket lists are not empty");
            let handle = match builder.install_recorder() {
                Ok(handle) => handle,
                // Another recorder is installed (an embedding program's): render ours anyway.
                Err(e) => {
                    tracing::warn!("metrics: {e}; the endpoint shows no sink metrics");
                    PrometheusBuilder::new().build_recorder().handle()
                }
            };
            describe();
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(RECORDS_CONSUMED, "Records read from Kafka, per topic");
    describe_counter!(
        ROWS_STORED,
        "Rows QuestDB committed, per topic; rate() of it is rows per second"
    );
    describe_counter!(
        RECORDS_SKIPPED,
        "Bad records reported and skipped (errors.tolerance=all), per topic"
    );
    describe_counter!(
        RECORDS_DEAD_LETTERED,
        "Bad records written to the dead letter queue topic, per source topic"
    );
    describe_histogram!(BATCH_RECORDS, Unit::Count, "Records per batch");
    describe_histogram!(
        BATCH_SECONDS,
        Unit::Seconds,
        "A batch from its records polled to its offsets committed"
    );
    describe_histogram!(
        WRITE_SECONDS,
        Unit::Seconds,
        "One write to QuestDB: one transaction of one table's rows, each attempt"
    );
    describe_counter!(
        RETRIES,
        "Attempts repeated: questdb_write (max.retries), questdb_startup, kafka_startup (startup.timeout.ms)"
    );
    describe_counter!(ERRORS, "Errors seen, by kind");
    describe_gauge!(
        CONSUMER_LAG,
        "Records in the partition after the group's committed offset (librdkafka's statistics, every second)"
    );
    describe_gauge!(
        COMMITTED_OFFSET,
        "The group's committed offset (next record to read) of the partition"
    );
    describe_counter!(
        COERCIONS,
        "Values changed on decoding as JsonConverter changes them (int8 222 stored as -34), by field and Connect type"
    );
    describe_gauge!(
        ASSIGNED_PARTITIONS,
        "Partitions this process is assigned in its consumer group"
    );
}

/// A polled batch: records per topic and the batch's size.
pub fn consumed(batch: &[OwnedMessage]) {
    let mut per_topic: BTreeMap<&str, u64> = BTreeMap::new();
    for m in batch {
        *per_topic.entry(m.topic()).or_default() += 1;
    }
    for (topic, n) in per_topic {
        counter!(RECORDS_CONSUMED, "topic" => topic.to_owned()).increment(n);
    }
    histogram!(BATCH_RECORDS).record(batch.len() as f64);
}

pub fn batch_done(took: Duration) {
    histogram!(BATCH_SECONDS).record(took.as_secs_f64());
}

pub fn stored(topic: &str, rows: u64) {
    counter!(ROWS_STORED, "topic" => topic.to_owned()).increment(rows);
}

pub fn write_attempt(took: Duration) {
    histogram!(WRITE_SECONDS).record(took.as_secs_f64());
}

/// A bad record reported and skipped; `dead_lettered` if it went to the dead letter queue.
pub fn skipped(topic: &str, dead_lettered: bool) {
    counter!(RECORDS_SKIPPED, "topic" => topic.to_owned()).increment(1);
    if dead_lettered {
        counter!(RECORDS_DEAD_LETTERED, "topic" => topic.to_owned()).increment(1);
    }
}

pub fn retry(reason: &'static str) {
    counter!(RETRIES, "reason" => reason).increment(1);
}

pub fn startup_retry(reason: &'static str) {
    retry(reason);
    error(match reason {
        "kafka_startup" => "kafka_unreachable",
        _ => "questdb_unavailable",
    });
}

pub fn error(kind: &'static str) {
    counter!(ERRORS, "kind" => kind).increment(1);
}

/// The kind of a bad record's problem, for [`ERRORS`].
pub fn problem_kind(problem: &Problem) -> &'static str {
    match problem {
        Problem::Decode(_) | Problem::Tombstone => "decode",
        Problem::Key(_) | Problem::MissingKey => "key",
        Problem::Mapping(_) | Problem::Row(_) => "mapping",
        Problem::Transform(_) => "transform",
        Problem::TableMissing { .. }
        | Problem::MissingFields { .. }
        | Problem::RequiredFieldAdded { .. }
        | Problem::TableRefused { .. }
        | Problem::DedupKeys(_) => "table",
        Problem::Write(_) => "questdb_rejected",
    }
}

/// A value decoding changed. Array indices are dropped from the field (`a[3].b` counts as
/// `a[].b`), so that the label has as many values as the schema has fields.
pub fn coerced(field: &str, target: &'static str) {
    counter!(COERCIONS, "field" => field_label(field), "target" => target).increment(1);
}

fn field_label(field: &str) -> String {
    let mut label = String::with_capacity(field.len());
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                label.push('[');
            }
            ']' => {
                in_index = false;
                label.push(']');
            }
            _ if in_index => {}
            _ => label.push(c),
        }
    }
    label
}

pub fn committed(topic: &str, partition: i32, offset: i64) {
    gauge!(COMMITTED_OFFSET, "topic" => topic.to_owned(), "partition" => partition.to_string())
        .set(offset as f64);
}

pub fn assigned(partitions: usize) {
    gauge!(ASSIGNED_PARTITIONS).set(partitions as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_record_problem_has_a_kind() {
        assert_eq!(problem_kind(&Problem::Tombstone), "decode");
        assert_eq!(problem_kind(&Problem::MissingKey), "key");
        assert_eq!(
            problem_kind(&Problem::TableMissing { table: "t".into() }),
            "table"
        );
    }

    #[test]
    fn coercion_labels_drop_array_indices() {
        assert_eq!(field_label("id8"), "id8");
        assert_eq!(field_label("a[3].b[12]"), "a[].b[]");
        let handle = install();
        coerced("metrics-test-id8", "int8");
        coerced("metrics-test-id8", "int8");
        let text = handle.render();
        assert!(
            text.contains("sink_coercions_total{field=\"metrics-test-id8\",target=\"int8\"} 2"),
            "{text}"
        );
    }

    #[test]
    fn renders_prometheus_text_with_histograms_not_summaries() {
        let handle = install();
        stored("telemetry-test", 3);
        stored("telemetry-test", 2);
        histogram!(BATCH_RECORDS).record(7.0);
        committed("telemetry-test", 1, 42);
        let text = handle.render();
        assert!(
            text.contains("sink_rows_stored_total{topic=\"telemetry-test\"} 5"),
            "{text}"
        );
        assert!(
            text.contains("sink_committed_offset{topic=\"telemetry-test\",partition=\"1\"} 42"),
            "{text}"
        );
        assert!(
            text.contains("sink_batch_records_bucket{le=\"10\"}"),
            "{text}"
        );
        assert!(
            text.contains("# HELP sink_rows_stored_total Rows QuestDB committed"),
            "{text}"
        );
    }
}
