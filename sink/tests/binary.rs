//! The `sink` binary as a user runs it, on real ZooKeeper, Kafka and QuestDB: the seed
//! document's example must come out exactly as through the library.

use harness::fixture::{self, Case};
use harness::replay::{self, SinkMode, Target};
use harness::services::Services;
use harness::{render, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_example_through_the_sink_binary() {
    let root = fixture::root().canonicalize().expect("fixtures folder");
    let mut case =
        Case::load(&root.join("seed/example-topic.case"), &root).unwrap_or_else(|e| panic!("{e}"));
    // Its own topic, table and group, apart from the library run of the same fixture.
    case.topic = "example-topic-binary".into();
    let target: Target = Services::shared().endpoints().into();
    let binary = env!("CARGO_BIN_EXE_sink").into();
    let outcome = replay::run_case(&case, &target, &SinkMode::Binary(binary))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    snapshot::assert(
        "seed__example-topic-binary",
        &case.name,
        &render::outcome(&outcome),
    );
}
