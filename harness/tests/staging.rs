//! `harness conformance --questdb URL --bootstrap-servers B` on services someone already has
//! (here: services this test starts, holding a topic and a table of "their own"): the cases
//! pass against the usual snapshots, a case that would write outside the run's prefix is
//! refused, and afterwards nothing of the run is left while their topic and table are.

use harness::readback::{self, simple_rows};
use harness::services::{BackendChoice, Services};
use sink::write::pg::QuestDb;
use std::process::Output;

fn conformance(args: &[&str], target: &[String]) -> Output {
    let report = tempfile::NamedTempFile::new().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("conformance")
        .args(args)
        .args(target)
        .arg("--report")
        .arg(report.path())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_on_shared_services_and_leaves_only_what_was_there() {
    let services = tokio::task::spawn_blocking(|| Services::start_on(BackendChoice::Process))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}"));
    let e = services.endpoints();
    let connection = readback::connection(&e.pg_host, e.pg_port);
    let db = QuestDb::connect(&connection).await.unwrap();
    db.execute("CREATE TABLE \"their-table\" (a INT)")
        .await
        .unwrap();
    harness::kafka::create_topic(&e.kafka_bootstrap, "their-topic")
        .await
        .unwrap();
    let target = vec![
        "--questdb".to_owned(),
        format!("http://{}:{}", e.pg_host, e.http_port),
        "--questdb-pg-port".to_owned(),
        e.pg_port.to_string(),
        "--bootstrap-servers".to_owned(),
        e.kafka_bootstrap.clone(),
    ];

    let seed = harness::fixture::root().join("seed");
    let passed = conformance(&[seed.to_str().unwrap()], &target);
    assert!(passed.status.success(), "{}", text(&passed));
    assert!(
        text(&passed).contains("1 passed, 0 failed"),
        "{}",
        text(&passed)
    );

    // A folder whose table name is fixed, not the (prefixed) topic: refused, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let seed = std::fs::read_to_string(harness::replay::seed_properties_path()).unwrap();
    std::fs::write(
        dir.path().join("connect-jdbc.properties"),
        format!("{seed}\ntable.name.format=their-table\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("fixed.case"), "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"a\"}],\"optional\":false},\"payload\":{\"a\":1}}\n").unwrap();
    let refused = conformance(&[dir.path().to_str().unwrap()], &target);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains("does not carry this run's prefix"),
        "{}",
        text(&refused)
    );

    let tables: Vec<String> = simple_rows(&db, "SELECT table_name FROM tables()")
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    assert_eq!(tables, ["their-table"], "tables left: {tables:?}");
    let count = simple_rows(&db, "SELECT count() FROM \"their-table\"")
        .await
        .unwrap();
    assert_eq!(count, [[Some("0".to_owned())]]);
    let bootstrap = e.kafka_bootstrap.clone();
    let topics = tokio::task::spawn_blocking(move || {
        (
            harness::kafka::topics_with_prefix(&bootstrap, "kqrun-").unwrap(),
            harness::kafka::topics_with_prefix(&bootstrap, "their-").unwrap(),
        )
    })
    .await
    .unwrap();
    assert_eq!(topics.0, Vec::<String>::new());
    assert_eq!(topics.1, ["their-topic"]);
    drop(services);
}
