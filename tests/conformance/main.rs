//! End-to-end tests on real ZooKeeper, Kafka and QuestDB, started once for this binary
//! (`harness::services::Services::shared`) and isolated by one topic, table and consumer group
//! per case.

mod cases;
mod commit;
mod kill9;
mod membership;
mod native;
mod operate;
mod properties;
mod questdb_connector;
mod questdb_defects;
mod security;
mod type_mapping;

use harness::replay::Target;
use harness::services::Services;

/// The shared services, as a replay target.
pub fn target() -> Target {
    Services::shared().endpoints().into()
}

pub use harness::snapshot::assert as assert_snapshot;
