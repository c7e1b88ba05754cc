//! What a run did, for the binary's `--summary` and the harness.

use std::collections::BTreeMap;

/// What a run did, also returned when it fails.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Records consumed.
    pub records: u64,
    /// Rows stored in QuestDB.
    pub rows: u64,
    /// Bad records reported and skipped (`errors.tolerance=all`).
    pub reported: u64,
    /// Every DDL statement the sink issued, in order.
    pub ddl: Vec<String>,
    /// Values changed on decoding as JsonConverter changes them (e.g. int8 222 -> -34), with where.
    pub coercions: Vec<String>,
    /// The last committed offset (next to read) per topic and partition.
    pub committed: BTreeMap<(String, i32), i64>,
}
