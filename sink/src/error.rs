//! Errors that say where: every problem with a record names its topic, partition and offset,
//! and the field when there is one.

use crate::config::ConfigError;
use crate::connect::json::DecodeError;
use crate::mapping::jdbc::MappingError;
use crate::write::error::DbError;
use std::fmt;

/// Where a record lives in Kafka.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordAt {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl fmt::Display for RecordAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "topic {}, partition {}, offset {}",
            self.topic, self.partition, self.offset
        )
    }
}

/// What is wrong with one record.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error(
        "the value is null (a tombstone); with pk.mode=none there is nothing to write or delete"
    )]
    Tombstone,
    /// The record key could not be read (`pk.mode=record_key`).
    #[error("record key: {0}")]
    Key(String),
    #[error("the record has no key, but pk.mode=record_key takes the row's key columns from it")]
    MissingKey,
    #[error("{0}")]
    Mapping(#[from] MappingError),
    #[error("table \"{table}\" is missing and auto-creation is disabled; set auto.create=true or create the table first")]
    TableMissing { table: String },
    #[error("table \"{table}\" is missing fields ({fields}) and auto-evolution is disabled; set auto.evolve=true or add the columns")]
    MissingFields { table: String, fields: String },
    #[error("table \"{table}\" cannot gain required field \"{field}\": it has no default, so rows already in the table would have no value; make the field optional or give it a default")]
    RequiredFieldAdded { table: String, field: String },
    #[error("{0}")]
    Write(DbError),
    /// QuestDB's connector cannot make a row of the record (`connector.class=...QuestDBSinkConnector`).
    #[error("{0}")]
    Row(#[from] crate::mapping::questdb_connector::flatten::RowError),
    /// A transform of `transforms=` failed on the record (boxed: the error is large).
    #[error("{0}")]
    Transform(#[from] Box<crate::connect::transforms::TransformError>),
    /// An existing table does not deduplicate as the configuration needs: the sink stops.
    #[error("{0}")]
    DedupKeys(crate::mapping::jdbc::dedup_check::MissingDedupKeys),
    /// The record before this one, for the same table, could not be written for this reason.
    #[error("table \"{table}\" cannot take this record either: {reason}")]
    TableRefused { table: String, reason: String },
}

impl Problem {
    /// The Connect stage the problem happened in, for dead-letter headers.
    pub fn stage(&self) -> &'static str {
        match self {
            Problem::Decode(_) | Problem::Tombstone => "VALUE_CONVERTER",
            Problem::Key(_) | Problem::MissingKey => "KEY_CONVERTER",
            Problem::Transform(_) => "TRANSFORMATION",
            _ => "TASK_PUT",
        }
    }
}

/// A record that could not be stored.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {problem}")]
pub struct RecordError {
    pub at: RecordAt,
    pub problem: Problem,
}

/// Why the sink stopped.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("Kafka {context}: {message}. Check that bootstrap servers {bootstrap} are reachable")]
    Kafka {
        context: String,
        message: String,
        bootstrap: String,
    },
    /// The broker answered and refused the sink's login or its TLS handshake: waiting will
    /// not help, so the sink stops at once.
    #[error("Kafka at {bootstrap} refused the sink's {what}: {reason}. Fix: {fix}")]
    KafkaRefused {
        bootstrap: String,
        what: &'static str,
        reason: String,
        fix: String,
    },
    #[error("{0}")]
    Db(#[from] DbError),
    /// QuestDB stayed unreachable through every retry: the sink stops (like a Connect task
    /// failing after its retries) without committing what it did not store.
    #[error("QuestDB at {host}:{port} did not take the rows of {at} and after (table \"{table}\") through {retries} retries {backoff_ms} ms apart (max.retries, retry.backoff.ms); nothing from that offset on is committed: once QuestDB is back, start the sink again and it resumes there. Last error: {last}")]
    Unavailable {
        host: String,
        port: u16,
        retries: u32,
        backoff_ms: u128,
        table: String,
        at: RecordAt,
        last: DbError,
    },
    /// Kafka or QuestDB did not answer within `startup.timeout.ms` at start-up.
    #[error("gave up waiting for {what}: no answer within startup.timeout.ms ({timeout_ms} ms); last error: {last}")]
    NotReachable {
        what: String,
        timeout_ms: u128,
        last: String,
    },
    /// The shutdown signal came while QuestDB was being retried: a clean stop, nothing from
    /// `at` on stored or committed.
    #[error("stopped while QuestDB was unavailable; nothing from {at} on is committed")]
    Interrupted { at: RecordAt },
    /// Kafka refused to create the dead letter topic at start (Connect fails the task then).
    #[error("Could not initialize dead letter queue with topic={topic}: Kafka refused to create it with replication factor {replication_factor} (errors.deadletterqueue.topic.replication.factor): {reason}. Fix: {fix}")]
    DeadLetterTopic {
        topic: String,
        replication_factor: i16,
        reason: String,
        fix: String,
    },
    /// Another process joined the consumer group with this one's static member id and took
    /// its partitions over: a clean stop (exit 0), not a failure.
    #[error("another process joined consumer group {group} as static member {instance} (the same connector name, --task and topics) and took over its partitions; this one stops. What it stored since its last commit is read again by the other process (a table without DEDUP keys may hold those rows twice). To run N processes side by side, give each its own --task 0..N-1")]
    Fenced { group: String, instance: String },
    /// The metrics and health endpoint could not listen.
    #[error("cannot listen on {addr} (metrics.listen): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// An existing table does not deduplicate as the configuration needs (not a bad record).
    #[error("{0}")]
    DedupKeys(crate::mapping::jdbc::dedup_check::MissingDedupKeys),
    #[error("bad record (errors.tolerance=none stops the sink; its offset is not committed): {0}")]
    Record(#[from] RecordError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
