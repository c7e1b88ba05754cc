//! One test per fixture file: the case is replayed through the sink (in process) and its
//! rendered outcome must equal the accepted snapshot. An empty glob does not compile.
//! QuestDB's connector's family (`fixtures/questdb-connector/`) runs in `questdb_connector.rs`.

use harness::fixture::{self, Case};
use harness::replay::{self, SinkMode};
use harness::{render, snapshot};
use rstest::rstest;
use std::path::PathBuf;

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case(
    #[files("fixtures/**/*.case")]
    #[exclude("^fixtures/(faults|questdb-connector)/")]
    path: PathBuf,
) {
    let root = fixture::root().canonicalize().expect("fixtures folder");
    let case = Case::load(&path, &root).unwrap_or_else(|e| panic!("{e}"));
    let outcome = replay::run_case(&case, &crate::target(), &SinkMode::InProcess)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Other versions (KQ_QUESTDB_VERSION, KQ_KAFKA_VERSION) are judged against the default
    // snapshot or the case's reviewed variant for them.
    let versions = &harness::services::Services::shared().versions;
    snapshot::assert_case(&case.name, versions, &render::outcome(&outcome));
}
