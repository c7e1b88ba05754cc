//! Change data capture end to end (issue 27.3): SQL on a real PostgreSQL
//! ([`crate::services::Postgres`]), Debezium's Postgres source connector in a Kafka Connect
//! worker ([`source`]), the `sink` binary into QuestDB, and what QuestDB holds rendered for a
//! reviewed snapshot. Cases are `fixtures/cdc/*.cdc` ([`case`]); [`run`] runs one.

pub mod case;
pub mod render;
pub mod run;
pub mod source;

pub use case::CdcCase;
pub use run::{run_case, CdcOutcome, CdcTarget};
pub use source::SourceWorker;
