//! Which polled records are still this process's to write and commit across rebalances: pure
//! bookkeeping between the consumer's rebalance callback ([`super::context`]) and the loop.
//!
//! librdkafka runs the rebalance callback inside a poll, and the loop polls only between
//! writes, so a revoke never lands while rows are being written. The callback commits what was
//! handled of the revoked partitions (lent here by the loop for the poll), as Connect's
//! `onPartitionsRevoked` does, and forgets it; records of them polled before the revoke are
//! stale: never written nor committed (the next owner, or this process if they come back, reads
//! them again from the committed offset).

use std::collections::BTreeMap;

/// A topic partition.
pub type Partition = (String, i32);

/// When a batch's poll ended, counted in revokes: see [`Ownership::current`].
pub type Stamp = u64;

#[derive(Debug, Default)]
pub struct Ownership {
    revokes: Stamp,
    /// Per topic and partition, the revoke that last took it.
    revoked_at: BTreeMap<String, BTreeMap<i32, Stamp>>,
    /// The highest offset handled per partition and not committed yet, lent by the loop while
    /// it polls.
    pub handled: BTreeMap<Partition, i64>,
    /// Offsets the callback committed (the next offset to read), for the run's summary.
    pub committed: Vec<(Partition, i64)>,
}

impl Ownership {
    /// The stamp of a batch whose poll ends now.
    pub fn stamp(&self) -> Stamp {
        self.revokes
    }

    /// A rebalance takes `partitions`: returns what was handled of them, to commit before they
    /// go (unless the assignment was lost), and forgets it either way.
    pub fn revoke(&mut self, partitions: &[Partition]) -> BTreeMap<Partition, i64> {
        self.revokes += 1;
        let mut handled = BTreeMap::new();
        for p in partitions {
            self.revoked_at
                .entry(p.0.clone())
                .or_default()
                .insert(p.1, self.revokes);
            if let Some(offset) = self.handled.remove(p) {
                handled.insert(p.clone(), offset);
            }
        }
        handled
    }

    /// Whether a record of `topic`/`partition` from a batch stamped `stamp` may still be
    /// written and committed: its partition was not revoked since.
    pub fn current(&self, topic: &str, partition: i32, stamp: Stamp) -> bool {
        stamp == self.revokes
            || self
                .revoked_at
                .get(topic)
                .and_then(|t| t.get(&partition))
                .is_none_or(|&at| at <= stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: i32) -> Partition {
        ("t".to_string(), n)
    }

    #[test]
    fn a_revoke_makes_records_polled_before_it_stale() {
        let mut o = Ownership::default();
        let before = o.stamp();
        assert!(o.current("t", 0, before));
        o.revoke(&[p(0)]);
        assert!(!o.current("t", 0, before), "polled before the revoke");
        assert!(o.current("t", 1, before), "not revoked: still ours");
        assert!(o.current("u", 0, before), "another topic's partition 0");
        let after = o.stamp();
        assert!(
            o.current("t", 0, after),
            "polled after: from the committed offset"
        );
        o.revoke(&[p(1)]);
        assert!(!o.current("t", 0, before), "stale stays stale");
        assert!(
            o.current("t", 0, after),
            "a later revoke of another partition"
        );
        assert!(!o.current("t", 1, after));
    }

    #[test]
    fn a_revoke_hands_over_what_was_handled_of_its_partitions_only() {
        let mut o = Ownership {
            handled: [(p(0), 90), (p(1), 50), (p(2), 7)].into(),
            ..Ownership::default()
        };
        let taken = o.revoke(&[p(0), p(2), p(3)]);
        assert_eq!(taken, [(p(0), 90), (p(2), 7)].into());
        assert_eq!(o.handled, [(p(1), 50)].into(), "kept for the next commit");
        assert!(o.revoke(&[p(0)]).is_empty(), "handed over once");
    }
}
