//! QuestDB's connector's family (`fixtures/questdb-connector/`): one test per fixture file, run
//! through this sink (in process) with the family's `connector.properties` (a
//! `QuestDBSinkConnector` file as its users write it) and the case's `@set` lines; the rendered
//! outcome must equal the accepted snapshot (`tests/snapshots/questdb-connector__*.snap`).
//! `harness/tests/reference.rs` compares those snapshots with the real connector's.
//!
//! Not named `cases`: CI's run on QuestDB 9.0.3 (`-- cases`) leaves the family out: the real
//! connector was recorded on the default QuestDB only, and on 9.0.3 every table of the family
//! (all WAL) differs in `SHOW CREATE TABLE`, so each case would need a reviewed variant
//! (fixtures/questdb-connector/README.md).

use harness::fixture::{self, Case};
use harness::replay::{self, SinkMode};
use harness::{render, snapshot};
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case(#[files("fixtures/questdb-connector/**/*.case")] path: PathBuf) {
    let root = fixture::root().canonicalize().expect("fixtures folder");
    let case = Case::load(&path, &root).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(case.family(), fixture::Family::QuestDbConnector);
    let outcome = replay::run_case(&case, &crate::target(), &SinkMode::InProcess)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let versions = &harness::services::Services::shared().versions;
    snapshot::assert_case(&case.name, versions, &render::outcome(&outcome));
}
