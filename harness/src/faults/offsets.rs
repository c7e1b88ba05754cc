//! What the fault runner sees of the group's committed offsets: every read is checked against
//! the last one, so a partition whose committed offset went back (a late commit of a process
//! that lost the partition to another) is reported, with the first such step.

use crate::fixture::Scenario;

use crate::kafka;

/// The committed offsets seen so far, per partition.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CommittedWatch {
    last: Vec<Option<i64>>,
    /// The first decrease seen: partition, from, to.
    pub first_decrease: Option<(i32, i64, i64)>,
    pub decreases: u64,
}

impl CommittedWatch {
    /// One read of every partition's committed offset (`None`: none yet, or not read).
    pub fn observe(&mut self, committed: &[Option<i64>]) {
        if self.last.len() < committed.len() {
            self.last.resize(committed.len(), None);
        }
        for (p, (last, now)) in self.last.iter_mut().zip(committed).enumerate() {
            match (*last, *now) {
                (Some(before), Some(now)) if now < before => {
                    self.decreases += 1;
                    self.first_decrease.get_or_insert((p as i32, before, now));
                    *last = Some(now);
                }
                (_, Some(now)) => *last = Some(now),
                // A read that found nothing (a broker away) says nothing about the offset.
                (_, None) => {}
            }
        }
    }

    pub fn never_decreased(&self) -> bool {
        self.decreases == 0
    }
}

/// The case's connector, its topic's partitions and what each will hold.
pub struct Plan<'a> {
    pub scenario: &'a Scenario,
    pub topic: String,
    pub group: String,
    pub per_partition: Vec<i64>,
    /// Every read of the committed offsets, checked never to go back.
    pub watch: std::sync::Mutex<CommittedWatch>,
}

impl Plan<'_> {
    /// Committed offsets per partition (`None` while a partition has none), off the runtime.
    pub fn committed(&self, bootstrap: &str) -> Result<Vec<Option<i64>>, String> {
        let committed: Vec<Option<i64>> = tokio::task::block_in_place(|| {
            (0..self.scenario.partitions)
                .map(|p| {
                    kafka::committed_offset(bootstrap, &self.group, &self.topic, p)
                        .map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()
        })?;
        self.watch().observe(&committed);
        Ok(committed)
    }

    pub fn watch(&self) -> std::sync::MutexGuard<'_, CommittedWatch> {
        self.watch.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn committed_sum(&self, bootstrap: &str) -> Result<i64, String> {
        Ok(self.committed(bootstrap)?.iter().flatten().sum())
    }

    /// Every partition committed up to the first `produced` records.
    pub fn all_committed(&self, committed: &[Option<i64>], produced: u64) -> bool {
        committed
            .iter()
            .zip(&super::spread(produced, self.scenario.partitions))
            .all(|(c, end)| c.is_some_and(|c| c >= *end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_back_is_reported_once_with_the_first_one() {
        let mut w = CommittedWatch::default();
        w.observe(&[None, Some(5)]);
        w.observe(&[Some(10), Some(5)]);
        w.observe(&[Some(10), None]); // a failed read of partition 1
        assert!(w.never_decreased());
        w.observe(&[Some(8), Some(6)]);
        w.observe(&[Some(12), Some(6)]);
        w.observe(&[Some(11), Some(7)]);
        assert!(!w.never_decreased());
        assert_eq!((w.decreases, w.first_decrease), (2, Some((0, 10, 8))));
    }
}
