//! The conformance harness: real ZooKeeper, Kafka and QuestDB, fixture cases replayed through
//! the sink, and what QuestDB created read back and rendered for snapshots.
//!
//! - [`provision`], [`process`], [`services`], [`wait`], [`error`]: the real services as local
//!   JVM processes, pinned in `ci/services/pom.xml`, that never outlive the run;
//! - [`fixture`]: one `.case` file is one case;
//! - [`kafka`], [`replay`], [`readback`]: produce a case, run the sink, read back;
//! - [`connect`]: a real Kafka Connect worker and its sink connector as the sink under test;
//! - [`render`], [`snapshot`]: the text a reviewer reads, and the accepted snapshots;
//! - [`versions`], [`matrix`]: which service versions a run uses, and the suite across them;
//! - [`oracle`]: Kafka's own JsonConverter, to compare the sink's decoder with;
//! - [`operate`]: the `sink` binary operated: its metrics scraped, SIGTERM and restart;
//! - [`faults`], [`chaos`]: fault cases, and random fault schedules checked against invariants;
//! - [`cdc`]: change data capture from a real PostgreSQL through Debezium and the sink.
pub mod bench;
pub mod case_log;
pub mod case_writer;
pub mod cdc;
pub mod chaos;
pub mod compare;
pub mod connect;
pub mod connect_standalone;
pub mod doc_links;
pub mod error;
pub mod faults;
pub mod fixture;
pub mod folder;
pub mod kafka;
pub mod kill9;
pub mod matrix;
pub mod membership;
pub mod operate;
pub mod oracle;
pub mod outcomes_table;
pub mod process;
pub mod provision;
pub mod readback;
pub mod recorded;
pub mod recording;
pub mod reference;
pub mod render;
pub mod replay;
pub mod security;
pub mod services;
pub mod snapshot;
pub mod staging;
pub mod temporal;
pub mod versions;
pub mod wait;
