//! Faults while the sink streams (issue 11): QuestDB is killed with SIGKILL mid-stream and
//! started again on the same ports and data. The sink retries its batch (`max.retries`,
//! `retry.backoff.ms`), reconnects, and commits no offset for rows QuestDB did not store: after
//! the restart every record is in the table.

use harness::bench::envelope;
use harness::kafka;
use harness::provision;
use harness::services::{start_timeout, QuestDb, QUESTDB_TIMEOUT};
use harness::wait::wait_until;
use sink::questdb::QuestDb as Db;
use sink::{RunOptions, SinkConfig};
use std::time::{Duration, Instant};

const RECORDS: u64 = 20_000;

/// `SELECT <sql>` as one number, `None` while the table does not exist (or QuestDB is down).
async fn number(connection: &sink::config::Connection, sql: &str) -> Option<i64> {
    let db = Db::connect(connection).await.ok()?;
    let row = db.client().query_one(sql, &[]).await.ok()?;
    row.try_get::<_, i64>(0).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_killed_and_restarted_mid_stream_loses_nothing() {
    // A QuestDB of its own: the shared one serves the other tests.
    let mut questdb = tokio::task::spawn_blocking(|| {
        let libs = provision::libs()?;
        let java = provision::java()?;
        QuestDb::start(&libs, &java, start_timeout(QUESTDB_TIMEOUT))
    })
    .await
    .expect("start task")
    .unwrap_or_else(|e| panic!("{e}"));
    let target = crate::target();
    let topic = format!("fault-questdb-restart-{}", std::process::id());
    kafka::create_topic(&target.bootstrap, &topic)
        .await
        .unwrap();
    let (bootstrap, t) = (target.bootstrap.clone(), topic.clone());
    tokio::task::spawn_blocking(move || {
        kafka::produce_many(&bootstrap, &t, (0..RECORDS).map(envelope))
    })
    .await
    .unwrap()
    .unwrap();

    let text = std::fs::read_to_string(harness::replay::seed_properties_path()).unwrap();
    let mut props = sink::properties::parse(&text);
    for (k, v) in [
        ("name", format!("{topic}-sink")),
        ("topics", topic.clone()),
        ("batch.size", "500".into()),
        // Enough retries to outlast a restart (a few seconds); the backoff is the JDBC
        // sink's own retry pause, not a wait for a condition.
        ("max.retries", "60".into()),
        ("retry.backoff.ms", "250".into()),
    ] {
        props.insert(k.into(), v);
    }
    let mut config = SinkConfig::from_properties(&props).unwrap();
    config.connection.host = "127.0.0.1".into();
    config.connection.port = questdb.pg_port;
    let connection = config.connection.clone();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.shutdown = Some(shutdown);
    let sink = tokio::spawn(async move { sink::run(&config, options).await });

    // Kill QuestDB once the sink has stored part of the stream.
    let count = format!("SELECT count() FROM '{topic}'");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stored = number(&connection, &count).await.unwrap_or(0);
        if stored >= 2_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sink stored {stored} rows within 60 s; QuestDB log:\n{}",
            questdb.log_tail(30)
        );
    }
    let (questdb, restart) = tokio::task::spawn_blocking(move || {
        let took = questdb.kill_and_restart(start_timeout(QUESTDB_TIMEOUT));
        (questdb, took)
    })
    .await
    .unwrap();
    let restart = restart.unwrap_or_else(|e| panic!("restarting QuestDB: {e}"));

    // Every record stored and committed, within a bound.
    let group = format!("connect-{topic}-sink");
    let (bootstrap, t) = (target.bootstrap.clone(), topic.clone());
    let caught_up = Instant::now();
    tokio::task::spawn_blocking(move || {
        wait_until(
            "the sink to commit every record",
            Duration::from_secs(120),
            || match kafka::committed_offset(&bootstrap, &group, &t, 0) {
                Ok(Some(c)) if c >= RECORDS as i64 => Ok(()),
                other => Err(format!("committed offset {other:?} of {RECORDS}")),
            },
        )
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}; QuestDB log:\n{}", questdb.log_tail(30)));
    let resumed = caught_up.elapsed();
    let _ = stop.send(true);
    let summary = sink
        .await
        .unwrap()
        .unwrap_or_else(|f| panic!("the sink gave up: {}", f.error));

    let rows = number(&connection, &count).await.expect("row count");
    let distinct = number(
        &connection,
        &format!("SELECT count_distinct(id64) FROM '{topic}'"),
    )
    .await
    .expect("distinct ids");
    println!(
        "QuestDB kill -9 and restart ({restart:.1?}) mid-stream: {RECORDS} produced, {rows} rows, \
         {distinct} distinct, {} missing, {} duplicated; caught up {resumed:.1?} after the restart; \
         sink: {} rows in {} records",
        RECORDS as i64 - distinct,
        rows - distinct,
        summary.rows,
        summary.records
    );
    assert_eq!(
        distinct, RECORDS as i64,
        "records missing after the restart"
    );
    drop(questdb);
}
