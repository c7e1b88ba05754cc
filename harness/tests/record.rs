//! `harness record` on real services: records produced to a topic (keys, Kafka timestamps) are
//! recorded as a `.case` by the `harness` binary, and that case, run from a folder of the
//! user's own (its `connector.properties`), stores the same rows as the records themselves.

use harness::fixture::Case;
use harness::replay::{self, SinkMode, Target};
use harness::services::{BackendChoice, Services};
use std::path::Path;

/// QuestDB's connector's properties, with the key and the Kafka timestamp in the table: rows
/// that differ if a key or a timestamp were recorded wrongly.
fn properties() -> String {
    let base =
        std::fs::read_to_string(harness::fixture::Family::QuestDbConnector.properties_path())
            .unwrap();
    format!(
        "{base}include.key=true\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
         key.converter.schemas.enable=true\ntimestamp.kafka.native=true\n"
    )
}

const ORIGINAL: &str = r##"@topic record-original
@record-key {"schema":{"type":"int64","optional":false},"payload":7}
@record-timestamp 1700092800000
{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"rec"},"payload":{"id":1,"note":"first"}}
@record-key {"schema":{"type":"int64","optional":false},"payload":8}
@record-timestamp 1700000000000
{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"rec"},"payload":{"id":2,"note":null}}
@record-key {"schema":{"type":"int64","optional":false},"payload":9}
@record-timestamp 1700000000001
{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":true,"field":"note"}],"optional":false,"name":"rec"},"payload":{"id":3,"note":"#third"}}
"##;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn only_case(dir: &Path) -> Case {
    let mut cases = harness::folder::discover(dir, None).unwrap();
    assert_eq!(cases.len(), 1, "{cases:?}");
    cases.remove(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_topic_runs_as_a_case_with_the_same_rows() {
    let services = tokio::task::spawn_blocking(|| Services::start_on(BackendChoice::Process))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let target: Target = services.endpoints().into();
    let dir = tempfile::tempdir().unwrap();
    let original_dir = dir.path().join("original");
    write(&original_dir.join("connector.properties"), &properties());
    write(&original_dir.join("original.case"), ORIGINAL);
    let original = only_case(&original_dir);
    let stored = replay::run_case(&original, &target, &SinkMode::InProcess)
        .await
        .unwrap();
    assert_eq!(stored.error, None);

    // The topic now holds the original records: record them with the command a user runs.
    let recorded_dir = dir.path().join("recorded");
    write(&recorded_dir.join("connector.properties"), &properties());
    let file = recorded_dir.join("recorded.case");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["record", "--bootstrap-servers", &target.bootstrap])
        .args(["--topic", "record-original", "--count", "10", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut recorded = only_case(&recorded_dir);
    let strip = |c: &Case| {
        c.messages
            .iter()
            .map(|m| (m.key.clone(), m.value.clone(), m.timestamp))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&recorded), strip(&original));
    assert_eq!(recorded.topic, "record-original");
    // These services hold the original topic already (a conformance run starts fresh ones):
    // the copy goes to a topic and table of its own.
    recorded.topic = "record-copy".into();
    let copy = replay::run_case(&recorded, &target, &SinkMode::InProcess)
        .await
        .unwrap();
    assert_eq!(copy.error, None);
    let rows = |o: &replay::Outcome| o.table_state.as_ref().expect("a table").rows.clone();
    assert_eq!(rows(&stored).len(), 3, "{:?}", rows(&stored));
    assert_eq!(rows(&copy), rows(&stored));
    drop(services);
}
