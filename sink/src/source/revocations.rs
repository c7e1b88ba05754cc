//! Which records a rebalance took from this process: pure bookkeeping between the consumer's
//! rebalance callback and the loop that writes and commits.
//!
//! A revoke is taken in two steps. librdkafka's callback (inside a poll, possibly while a
//! batch is being written) only records it as pending; the loop, between batches, commits what
//! is stored and then gives the partitions back ([`Revocations::settled`]). Until then this
//! process still owns them, so nobody else writes them meanwhile; from the callback on, no new
//! row of them is written. A record polled before its partition's revoke was settled is stale
//! forever after: it is never written nor committed, even if the partition comes back (its new
//! assignment starts again from the group's committed offset).

use std::collections::BTreeMap;

/// A topic partition.
pub type Partition = (String, i32);

/// When a batch was polled, in revocation epochs: see [`Revocations::epoch`].
pub type Polled = u64;

/// A revoke librdkafka delivered and the loop has not settled yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub partitions: Vec<Partition>,
    /// The assignment was lost (session timed out, `max.poll.interval.ms` exceeded): the
    /// group has given the partitions away already, so nothing of them is committed.
    pub lost: bool,
}

#[derive(Debug, Default)]
pub struct Revocations {
    epoch: u64,
    /// Per partition, the epoch its last revoke was settled in.
    settled_at: BTreeMap<Partition, u64>,
    pending: Option<Pending>,
}

impl Revocations {
    /// The current epoch: a batch remembers it when its poll starts.
    pub fn epoch(&self) -> Polled {
        self.epoch
    }

    /// librdkafka revokes these partitions (the loop settles them later). Two revokes before
    /// a settle add up.
    pub fn revoke(&mut self, partitions: impl IntoIterator<Item = Partition>, lost: bool) {
        let pending = self.pending.get_or_insert(Pending {
            partitions: Vec::new(),
            lost,
        });
        pending.lost |= lost;
        for p in partitions {
            if !pending.partitions.contains(&p) {
                pending.partitions.push(p);
            }
        }
    }

    /// The revoke waiting for the loop, if any.
    pub fn pending(&self) -> Option<&Pending> {
        self.pending.as_ref()
    }

    /// The loop committed what it stored and gave the partitions back: every record of them
    /// polled until now is stale.
    pub fn settled(&mut self) -> Option<Pending> {
        let pending = self.pending.take()?;
        self.epoch += 1;
        for p in &pending.partitions {
            self.settled_at.insert(p.clone(), self.epoch);
        }
        Some(pending)
    }

    /// Whether a record of `partition`, from a batch whose poll started at `polled`, may
    /// still be written and committed.
    pub fn owned(&self, topic: &str, partition: i32, polled: Polled) -> bool {
        let p = (topic.to_string(), partition);
        let pending = self
            .pending
            .as_ref()
            .is_some_and(|r| r.partitions.contains(&p));
        let settled_since = self.settled_at.get(&p).is_some_and(|&at| at > polled);
        !pending && !settled_since
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: i32) -> Partition {
        ("t".to_string(), n)
    }

    #[test]
    fn a_revoked_partition_is_not_written_from_the_callback_on() {
        let mut r = Revocations::default();
        let polled = r.epoch();
        assert!(r.owned("t", 0, polled));
        r.revoke([p(0)], false);
        assert!(!r.owned("t", 0, polled), "pending: no new row of it");
        assert!(r.owned("t", 1, polled), "the other partition is still ours");
        assert_eq!(
            r.settled(),
            Some(Pending {
                partitions: vec![p(0)],
                lost: false
            })
        );
        assert!(!r.owned("t", 0, polled), "polled before the settle: stale");
        assert!(r.owned("t", 1, polled));
        assert_eq!(r.settled(), None, "settled once");
    }

    #[test]
    fn records_polled_after_a_partition_came_back_are_ours_again() {
        let mut r = Revocations::default();
        let before = r.epoch();
        r.revoke([p(0), p(1)], false);
        // Polled while the revoke was pending: librdkafka still delivers them until settled.
        let during = r.epoch();
        assert!(!r.owned("t", 0, during));
        r.settled();
        let after = r.epoch();
        assert!(!r.owned("t", 0, before));
        assert!(!r.owned("t", 0, during));
        assert!(
            r.owned("t", 0, after),
            "reassigned: fetched from the committed offset"
        );
    }

    #[test]
    fn revokes_before_a_settle_add_up_and_a_lost_one_stays_lost() {
        let mut r = Revocations::default();
        r.revoke([p(0)], false);
        r.revoke([p(0), p(2)], true);
        assert_eq!(
            r.pending(),
            Some(&Pending {
                partitions: vec![p(0), p(2)],
                lost: true
            })
        );
    }
}
