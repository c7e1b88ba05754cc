//! The generated records of a fault case, produced in parts around its faults (moved out of
//! [`super::run`] to keep it under 600 lines).

use super::Production;
use crate::fixture::FaultTarget;
use crate::kafka;
use crate::services::{FaultAction, ServiceName};

/// The case's generated records, produced in parts: record `i` (`id64` = i) to partition
/// `i % partitions`.
pub(super) struct Stream {
    pub bootstrap: String,
    pub topic: String,
    pub partitions: i32,
    /// Records produced so far (the next one's number).
    pub produced: u64,
    /// `@bad every=N`.
    pub bad_every: Option<u64>,
}

/// Whether record `i` is a bad one under `@bad every=N`.
pub fn is_bad(bad_every: Option<u64>, i: u64) -> bool {
    bad_every.is_some_and(|n| (i + 1).is_multiple_of(n))
}

/// Bad records among `0..records`.
pub fn bad_count(bad_every: Option<u64>, records: u64) -> u64 {
    bad_every.map_or(0, |n| records / n)
}

/// A bad record: not JSON, so JsonConverter (and the sink) cannot read it; it names its number.
fn bad_record(i: u64) -> Vec<u8> {
    format!("not json: bad record {i}").into_bytes()
}

/// The number a dead letter's value names, if it is one of [`bad_record`]'s.
pub fn bad_record_number(value: &str) -> Option<u64> {
    value.strip_prefix("not json: bad record ")?.parse().ok()
}

impl Stream {
    /// Good records produced so far: the ones the table should hold.
    pub fn good(&self) -> u64 {
        self.produced - self.bad()
    }

    /// Bad records produced so far: their offsets are committed once dead-lettered, with no row,
    /// so a committed offset may run ahead of the rows stored by at most this many.
    pub fn bad(&self) -> u64 {
        bad_count(self.bad_every, self.produced)
    }

    /// Produces records `produced..end`, blocking (call it off the runtime's worker or inside
    /// `block_in_place`).
    pub fn produce_to(&mut self, end: u64) -> anyhow::Result<()> {
        if end > self.produced {
            kafka::produce_spread_from(
                &self.bootstrap,
                &self.topic,
                self.partitions,
                self.produced,
                (self.produced..end).map(|i| match is_bad(self.bad_every, i) {
                    true => bad_record(i),
                    false => crate::bench::envelope(i),
                }),
            )?;
            self.produced = end;
        }
        Ok(())
    }
}

/// When the part after a fault can be produced: not while Kafka (or the ZooKeeper it needs)
/// is away; while any other fault with a duration holds (network faults too); else right after.
pub(super) fn production(target: FaultTarget, action: FaultAction) -> Production {
    match (target, action) {
        // A cluster takes records with a broker down.
        (FaultTarget::Proxy(_) | FaultTarget::Broker(_), _) => Production::WhileHeld,
        (FaultTarget::Service(ServiceName::Kafka | ServiceName::ZooKeeper), _) => {
            Production::OnceBack
        }
        (_, action) if action.holds() => Production::WhileHeld,
        _ => Production::AfterStruck, // a kill, a restart, a dropped table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nth_record_is_bad_and_names_its_number() {
        let bad: Vec<u64> = (0..10).filter(|&i| is_bad(Some(4), i)).collect();
        assert_eq!(bad, [3, 7]);
        assert_eq!(bad_count(Some(4), 10), 2);
        assert_eq!(bad_count(None, 10), 0);
        let value = String::from_utf8(bad_record(7)).unwrap();
        assert_eq!(bad_record_number(&value), Some(7));
        assert_eq!(bad_record_number("{\"schema\":null}"), None);
    }
}
