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
    /// The first [`COERCION_SAMPLES`] values changed on decoding as JsonConverter changes them
    /// (e.g. int8 222 -> -34), with where; the rest are only counted, so that a stream of
    /// coerced records keeps the sink's memory flat.
    pub coercions: Vec<String>,
    /// Every value changed on decoding, sampled or not.
    pub coercions_total: u64,
    /// The last committed offset (next to read) per topic and partition.
    pub committed: BTreeMap<(String, i32), i64>,
}

/// Coercions kept as text in a summary. Enough for every conformance case's coercions to be
/// shown in full (the property cases reach 11), and a few KB however long the sink runs.
pub const COERCION_SAMPLES: usize = 100;

impl RunSummary {
    /// Counts one coercion, keeping its note while there are fewer than [`COERCION_SAMPLES`];
    /// the note is only formatted when kept.
    pub fn coerced(&mut self, note: impl std::fmt::Display) {
        self.coercions_total += 1;
        if self.coercions.len() < COERCION_SAMPLES {
            self.coercions.push(note.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercions_are_counted_and_only_the_first_kept() {
        let mut summary = RunSummary::default();
        for i in 0..(COERCION_SAMPLES as u64 + 5_000) {
            summary.coerced(format_args!("note {i}"));
        }
        assert_eq!(summary.coercions_total, COERCION_SAMPLES as u64 + 5_000);
        assert_eq!(summary.coercions.len(), COERCION_SAMPLES);
        assert_eq!(summary.coercions[0], "note 0");
        assert_eq!(
            summary.coercions.last().unwrap(),
            &format!("note {}", COERCION_SAMPLES - 1)
        );
    }
}
