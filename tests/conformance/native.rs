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
        tables: Vec::new(),
        messages: (0..RECORDS)
            .map(|i| Message {
                line: i + 1,
                value: Some(format!(r#"{{"schema":{schema},"payload":{{"id":{i}}}}}"#)),
                ..Message::default()
            })
            .collect(),
        scenario: None,
        outside: None,
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
    let summary = tokio::time::timeout(harness::wait::case_timeout(), sink::run(&config, options))
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

/// `insert.mode=upsert` with `pk.mode=record_key`: the key struct's fields become columns of
/// their own, first, NOT NULL and DEDUP UPSERT KEYS with the designated timestamp; a record
/// with the same key and timestamp replaces the row (the last one wins), a new timestamp makes
/// a new row (the deviation in docs/native-tables.md), and a record without a key stops the sink
/// naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_by_record_key_replaces_rows_with_the_same_key_and_timestamp() {
    let target = crate::target();
    let topic = "native-upsert-by-key";
    harness::kafka::create_topic(&target.bootstrap, topic)
        .await
        .unwrap();
    let key = |id: i32| {
        format!(
            r#"{{"schema":{{"type":"struct","fields":[{{"type":"int32","optional":false,"field":"id"}}],"optional":false,"name":"key"}},"payload":{{"id":{id}}}}}"#
        )
    };
    let value = |at: i64, msg: &str| {
        format!(
            r#"{{"schema":{{"type":"struct","fields":[{{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"at"}},{{"type":"string","optional":true,"field":"msg"}}],"optional":false,"name":"event"}},"payload":{{"at":{at},"msg":"{msg}"}}}}"#
        )
    };
    let t = 1_700_000_000_000;
    let records: Vec<(Option<String>, String)> = vec![
        (Some(key(1)), value(t, "first")),
        (Some(key(2)), value(t, "first")),
        (Some(key(1)), value(t, "replayed")),
        (Some(key(2)), value(t, "replayed")),
        (Some(key(1)), value(t + 1, "new timestamp, new row")),
        (None, value(t + 2, "no key")),
    ];
    let bytes: Vec<harness::kafka::KeyedRecord<'_>> = records
        .iter()
        .map(|(k, v)| (k.as_deref().map(str::as_bytes), Some(v.as_bytes())))
        .collect();
    harness::kafka::produce_keyed(&target.bootstrap, topic, &bytes)
        .await
        .unwrap();

    let text = std::fs::read_to_string(replay::seed_properties_path()).unwrap();
    let mut props = sink::config::properties::parse(&text);
    for (k, v) in [
        ("name", format!("{topic}-sink")),
        ("topics", topic.to_owned()),
        ("timestamp.field.name", "at".into()),
        ("insert.mode", "upsert".into()),
        ("pk.mode", "record_key".into()),
    ] {
        props.insert(k.into(), v);
    }
    let mut config = SinkConfig::from_properties(&props).unwrap();
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.stop_when = StopWhen::CaughtUp;
    let failed = tokio::time::timeout(harness::wait::case_timeout(), sink::run(&config, options))
        .await
        .expect("the sink must stop within the case timeout")
        .expect_err("the record without a key stops the sink");
    let error = failed.error.to_string();
    assert!(
        error.contains(&format!("topic {topic}, partition 0, offset 5"))
            && error.contains("the record has no key"),
        "{error}"
    );

    let db = sink::write::pg::QuestDb::connect(&config.connection)
        .await
        .unwrap();
    readback::wait_wal_applied(&db, topic, harness::wait::case_timeout())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let table = readback::read_table(&config.connection, topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .expect("table");
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["id", "at", "msg"]);
    assert!(table.shape.dedup, "{}", table.shape.create);
    // QuestDB lists the keys in column order (the DDL says KEYS("at","id")).
    assert!(
        table.shape.create.contains("DEDUP UPSERT KEYS(id,at)"),
        "{}",
        table.shape.create
    );
    let mut rows: Vec<(String, String)> = table
        .rows
        .iter()
        .map(|r| (r[0].clone().unwrap(), r[2].clone().unwrap_or_default()))
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("1".to_owned(), "new timestamp, new row".to_owned()),
            ("1".to_owned(), "replayed".to_owned()),
            ("2".to_owned(), "replayed".to_owned()),
        ]
    );
}
