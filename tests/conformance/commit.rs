//! The commit rule, checked against Kafka itself rather than through a snapshot: a bad record's
//! offset is not committed, and every record before it is stored and committed.

use harness::fixture::{self, Case};
use harness::kafka;
use harness::replay::{self, SinkMode};

fn load(name: &str) -> Case {
    let root = fixture::root().canonicalize().expect("fixtures folder");
    Case::load(&root.join(name), &root).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_is_not_committed_and_what_precedes_it_is() {
    let mut case = load("failures/not-json.case");
    case.topic = "commit-rule".into();
    let target = crate::target();
    let outcome = replay::run_case(&case, &target, &SinkMode::InProcess)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let error = outcome.error.expect("the sink must stop on the bad record");
    assert!(
        error.contains("topic commit-rule, partition 0, offset 1"),
        "{error}"
    );
    assert!(
        error.contains(&format!("fixture {}:", case.name)),
        "{error}"
    );
    // Read from Kafka itself, not from what the sink says it did.
    let group = sink::SinkConfig::from_properties(&replay::case_properties(&case).unwrap())
        .unwrap()
        .group_id();
    assert_eq!(
        kafka::committed_offset(&target.bootstrap, &group, &case.topic, 0).unwrap(),
        Some(1)
    );
    let rows = outcome.table_state.expect("table").rows;
    assert_eq!(
        rows.len(),
        1,
        "only the record before the bad one is stored: {rows:?}"
    );
}
