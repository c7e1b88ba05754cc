//! A minimal Kafka -> QuestDB sink that does what Kafka Connect's JDBC sink does with the
//! JSON converter (`schemas.enable=true`), described in `shared/reference/connect-behaviour.md`.
//!
//! Pure logic (no I/O, tested in microseconds):
//! - [`properties`]: the Java `.properties` format Connect reads its config from;
//! - [`config`]: the JDBC sink's config keys, validated;
//! - [`kafka_security`]: Connect's Kafka security keys as librdkafka's;
//! - [`connect`]: the Connect data model and the JsonConverter envelope decoder;
//! - [`mapping`]: Connect schema -> column types, and values -> SQL parameters;
//! - [`ddl`]: the CREATE / ALTER / INSERT text the JDBC sink would issue.
//!
//! I/O at the edges:
//! - [`questdb`]: QuestDB over its PostgreSQL wire protocol;
//! - [`pipeline`]: the consume -> decode -> write -> commit loop over rdkafka;
//! - [`report`]: the JSON summary the binary writes at exit;
//! - [`startup`], [`stop`]: waiting for Kafka and QuestDB at start-up, a clean stop on a signal;
//! - [`telemetry`], [`endpoint`]: metrics, and the opt-in HTTP endpoint for metrics and health.
pub mod config;
pub mod connect;
pub mod ddl;
pub mod endpoint;
pub mod error;
pub mod kafka_security;
pub mod mapping;
pub mod native;
pub mod pipeline;
mod prepare;
pub mod properties;
pub mod questdb;
pub mod questdb_connector;
pub mod report;
pub mod startup;
pub mod stop;
pub mod telemetry;
pub mod writer;

pub use config::SinkConfig;
pub use error::SinkError;
pub use pipeline::{run, RunOptions, RunSummary, StopWhen};
