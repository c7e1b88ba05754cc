//! QuestDB's own Kafka connector (`io.questdb.kafka.QuestDBSinkConnector` 0.23), read from its
//! properties file as it is: which keys it has and what they mean ([`ConnectorConfig`]), how
//! its records become ILP rows ([`flatten`]), schemaless JSON as its converter hands it over
//! ([`loose`]), and its timestamps ([`timestamp`]). Pure; the rows go through the sink's one
//! pipeline and ILP writer. What differs from the real connector, and why: docs/questdb-connector.md.

pub mod flatten;
pub mod loose;
mod row;
pub mod timestamp;

use timestamp::{Format, Units};

/// The class name that selects this mapping.
pub const CONNECTOR_CLASS: &str = "io.questdb.kafka.QuestDBSinkConnector";

/// The name of the designated timestamp column of the tables the connector's ILP rows create.
pub const TIMESTAMP_COLUMN: &str = "timestamp";

/// How a record key or value is converted (`key.converter`, `value.converter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converter {
    /// JsonConverter: with `schemas.enable=true` a `{"schema","payload"}` envelope, else plain
    /// JSON inferred as [`loose::Loose`].
    Json { schemas: bool },
    /// StringConverter: the bytes as a UTF-8 string.
    String,
}

/// Where a row's designated timestamp comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Designated {
    /// The server's clock when it takes the row (no timestamp key).
    ServerTime,
    /// `timestamp.field.name=f`: the (flattened) field `f`, not written as a column.
    Field(String),
    /// `timestamp.field.name=date,time`: these fields' text concatenated, parsed with
    /// `timestamp.string.format`.
    Composed(Vec<String>),
    /// `timestamp.kafka.native=true`: the record's Kafka timestamp.
    Kafka,
}

/// `table`: a name with `${topic}`, `${key}` and `${partition}` in it, or the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TablePart {
    Literal(String),
    Topic,
    Key,
    Partition,
}

/// The QuestDB connector's keys, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorConfig {
    pub table: Vec<TablePart>,
    pub include_key: bool,
    pub key_prefix: String,
    pub value_prefix: String,
    pub skip_unsupported_types: bool,
    pub designated: Designated,
    /// `timestamp.units`; `None` is `auto`.
    pub units: Option<Units>,
    pub format: Format,
    pub string_timestamps: Vec<String>,
    pub symbols: Vec<String>,
    pub doubles: Vec<String>,
    pub key_converter: Converter,
    pub value_converter: Converter,
}

impl ConnectorConfig {
    /// Whether the record key is read at all.
    pub fn reads_key(&self) -> bool {
        self.include_key || self.table.contains(&TablePart::Key)
    }

    /// The table for a record (`key` as Java's `toString()`, `null` without a key).
    pub fn table_name(&self, topic: &str, key: &str, partition: i32) -> String {
        self.table
            .iter()
            .map(|p| match p {
                TablePart::Literal(l) => l.clone(),
                TablePart::Topic => topic.to_string(),
                TablePart::Key => key.to_string(),
                TablePart::Partition => partition.to_string(),
            })
            .collect()
    }
}
