//! Records to rows, one mapping chosen once from `connector.class`: the JDBC sink's
//! ([`jdbc`]) or QuestDB's connector's ([`questdb_connector`]); [`prepare`] runs the chosen one
//! over a batch. Pure: no I/O.
pub mod jdbc;
pub(crate) mod prepare;
pub mod questdb_connector;
pub mod transform;
