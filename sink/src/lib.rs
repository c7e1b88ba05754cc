//! A minimal Kafka -> QuestDB sink that does what Kafka Connect's JDBC sink does with the
//! JSON converter (`schemas.enable=true`), described in `shared/reference/connect-behaviour.md`.
//!
//! The folders are the pipeline's stages, in the order a record passes them:
//! - [`config`]: the connector's `.properties` file, read as Connect reads it (the JDBC
//!   sink's keys or QuestDB's connector's, and the keys every connector has); pure;
//! - [`source`]: Kafka in: the consumer and its settings, Connect's security keys as
//!   librdkafka's, the dead letter queue;
//! - [`connect`]: the Connect data model and the JsonConverter envelope decoder; pure;
//! - [`mapping`]: records to rows, the JDBC sink's way or QuestDB's connector's, and the DDL;
//!   pure;
//! - [`write`]: QuestDB over PG wire or ILP, tables created and evolved, retries, and whose
//!   fault a failure is;
//! - [`run`]: the loop that drives them (wait for the services, poll, prepare, store,
//!   commit), the stop, the HTTP endpoint and the summary;
//! - [`metrics`]: the counters every stage updates (no-ops unless `metrics.listen` is set).
pub mod config;
pub mod connect;
pub mod error;
pub mod mapping;
pub mod metrics;
pub mod run;
pub mod source;
pub mod write;

pub use config::SinkConfig;
pub use error::SinkError;
pub use run::{run, RunOptions, RunSummary, StopWhen};
