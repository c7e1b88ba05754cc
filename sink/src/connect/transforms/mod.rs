//! Connect's single message transforms as pure code over a Connect [`Record`]: Kafka's built-in
//! transforms and predicates (`org.apache.kafka.connect.transforms.*` of Kafka 3.9.2) and
//! Debezium's `ExtractNewRecordState` (debezium-core 3.4.3.Final), chained as a Connect worker
//! chains them (`transforms=`, `transforms.<name>.type`, `.predicate`, `.negate`, `predicates=`).
//!
//! Entry points: [`Chain::from_properties`] (refuses a class or key it does not implement, naming
//! it), [`Chain::apply`] (`None`: the record was filtered out), [`is_chain_key`] (the keys the
//! chain consumes). No I/O. The real classes run as an oracle in `harness::oracle::transforms`;
//! every difference is a deviation named in `docs/transforms.md`.

mod cast;
mod chain;
mod config;
mod data;
mod datefmt;
mod drop_headers;
mod extract_field;
mod extract_new_record_state;
mod flatten;
mod header_from;
mod hoist_field;
mod insert_field;
mod insert_header;
mod java;
mod mask_field;
mod predicates;
mod regex_router;
mod replace_field;
mod set_schema_metadata;
mod timestamp_converter;
mod timestamp_router;
mod value_to_key;

pub use chain::{is_chain_key, Chain, PREDICATE_CLASSES, TRANSFORM_CLASSES};
pub use config::ConfigError;

use super::schema::Schema;
use super::value::Value;

/// A Connect header: its key, schema (`None`: schemaless) and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub schema: Option<Schema>,
    pub value: Value,
}

/// A sink record as transforms see it. A `None` schema goes with a null value (a tombstone or
/// an absent key); schemaless non-null data is refused by the transforms that look inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch; `None` when the record has none.
    pub timestamp: Option<i64>,
    pub key_schema: Option<Schema>,
    pub key: Value,
    pub value_schema: Option<Schema>,
    pub value: Value,
    pub headers: Vec<Header>,
}

/// Which half of the record a `$Key` / `$Value` transform works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Key,
    Value,
}

impl Record {
    pub fn schema(&self, side: Side) -> Option<&Schema> {
        match side {
            Side::Key => self.key_schema.as_ref(),
            Side::Value => self.value_schema.as_ref(),
        }
    }

    pub fn data(&self, side: Side) -> &Value {
        match side {
            Side::Key => &self.key,
            Side::Value => &self.value,
        }
    }

    /// The record with one side replaced, as `newRecord` does.
    pub fn with(mut self, side: Side, schema: Option<Schema>, value: Value) -> Record {
        match side {
            Side::Key => {
                self.key_schema = schema;
                self.key = value;
            }
            Side::Value => {
                self.value_schema = schema;
                self.value = value;
            }
        }
        self
    }
}

/// Why a transform could not transform a record (Connect's `DataException` and kin).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("transform `{transform}` ({class}): {message}")]
pub struct TransformError {
    /// The alias in `transforms=`.
    pub transform: String,
    pub class: String,
    pub message: String,
    /// `Some(name)`: upstream would have transformed this record; the port does not (a
    /// deviation named in docs/transforms.md).
    pub unsupported: Option<&'static str>,
}

/// A failure inside one transform, before the chain names the transform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// What upstream fails on too.
    Data(String),
    /// Deviation: data upstream handles that this port does not (schemaless values, a date
    /// pattern letter it cannot parse); the name is the deviation's in docs/transforms.md.
    Unsupported(&'static str, String),
}

impl Failure {
    pub(crate) fn data(message: impl Into<String>) -> Failure {
        Failure::Data(message.into())
    }
}

pub(crate) type Outcome<T> = Result<T, Failure>;

/// One configured transform.
pub(crate) trait Transform: std::fmt::Debug + Send + Sync {
    fn apply(&self, record: Record) -> Outcome<Option<Record>>;
}
