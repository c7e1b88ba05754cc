//! Native tables under a replay: the same Kafka records consumed again (a new consumer group
//! reads the topic from the start, as a sink that lost its committed offsets would) must not add
//! rows to a DEDUP table, and do add them to the same table without DEDUP (the control that shows
//! the replay really happened).

use harness::fixture::{Case, Message};
use harness::readback;
use harness::replay::{self, SinkMode};
use sink::{RunOptions, SinkConfig, StopWhen};
use std::collections::BTreeSet;
use std::path::PathBuf;

const RECORDS: usize = 50;

fn case(topic: &str, properties: &[(&str, &str)]) -> Case {
    let schema = r#"{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],"optional":false,"name":"event"}"#;
    Case {
        path: PathBuf::from(format!("(generated) {topic}")),
        name: format!("native/{topic}"),
        topic: topic.into(),
        properties: properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        setup_sql: Vec::new(),
        messages: (0..RECORDS)
            .map(|i| Message {
                line: i + 1,
                value: Some(format!(r#"{{"schema":{schema},"payload":{{"id":{i}}}}}"#)),
            })
            .collect(),
        scenario: None,
    }
}

/// Stores the case, then runs the sink again under another consumer group over the same records;
/// returns the rows read back and the table's dedup flag.
async fn store_then_replay(case: &Case) -> (Vec<Vec<Option<String>>>, bool) {
    let target = crate::target();
    let outcome = replay::run_case(case, &target, &SinkMode::InProcess)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.table_state.expect("table").rows.len(), RECORDS);

    let mut props = replay::case_properties(case).unwrap();
    let name = format!("{}-replay", props["name"]);
    props.insert("name".into(), name);
    let mut config = SinkConfig::from_properties(&props).unwrap();
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.stop_when = StopWhen::CaughtUp;
    let summary = tokio::time::timeout(replay::case_timeout(), sink::run(&config, options))
        .await
        .expect("the replay must catch up within the case timeout")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        summary.records, RECORDS as u64,
        "the replay read every record again"
    );

    let table = readback::read_table(&config.connection, &config.table_name(&case.topic))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("table");
    let designated = table
        .columns
        .iter()
        .find(|c| c.designated)
        .map(|c| c.name.clone());
    assert_eq!(designated.as_deref(), Some("__connect_timestamp"));
    (table.rows, table.shape.dedup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_adds_no_rows_to_a_kafka_dedup_table_and_does_without_dedup() {
    let kafka_keys = [("timestamp.kafka.native", "true"), ("pk.mode", "kafka")];
    let (rows, dedup) = store_then_replay(&case("native-replay-dedup", &kafka_keys)).await;
    assert!(dedup);
    let offsets: BTreeSet<String> = rows.iter().filter_map(|r| r[2].clone()).collect();
    assert_eq!(
        (rows.len(), offsets.len()),
        (RECORDS, RECORDS),
        "every offset once: {rows:?}"
    );

    // Control: the same replay into a native table without DEDUP duplicates every record.
    let (rows, dedup) = store_then_replay(&case(
        "native-replay-no-dedup",
        &[("timestamp.kafka.native", "true")],
    ))
    .await;
    assert!(!dedup);
    assert_eq!(rows.len(), 2 * RECORDS);
}
