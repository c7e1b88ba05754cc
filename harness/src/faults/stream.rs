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
}

impl Stream {
    /// Produces records `produced..end`, blocking (call it off the runtime's worker or inside
    /// `block_in_place`).
    pub fn produce_to(&mut self, end: u64) -> anyhow::Result<()> {
        if end > self.produced {
            kafka::produce_spread_from(
                &self.bootstrap,
                &self.topic,
                self.partitions,
                self.produced,
                (self.produced..end).map(crate::bench::envelope),
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
