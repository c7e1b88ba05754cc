//! Faults while the sink streams (issue 11): QuestDB, or the Kafka broker, is killed with
//! SIGKILL mid-stream and started again on the same ports and data. The sink retries its batch
//! (`max.retries`, `retry.backoff.ms`) and reconnects, librdkafka reconnects to the broker, and
//! no offset is committed for rows QuestDB did not store: after the restart every record is in
//! the table. Each scenario runs on a service of its own, not the shared ones.

use harness::bench::envelope;
use harness::kafka;
use harness::provision;
use harness::services::{
    start_timeout, Kafka, QuestDb, ZooKeeper, KAFKA_TIMEOUT, QUESTDB_TIMEOUT, ZOOKEEPER_TIMEOUT,
};
use harness::wait::wait_until;
use sink::questdb::QuestDb as Db;
use sink::{RunOptions, SinkConfig};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const RECORDS: u64 = 20_000;

/// `SELECT <sql>` as one number, `None` while the table does not exist (or QuestDB is down).
async fn number(connection: &sink::config::Connection, sql: &str) -> Option<i64> {
    let db = Db::connect(connection).await.ok()?;
    let row = db.client().query_one(sql, &[]).await.ok()?;
    row.try_get::<_, i64>(0).ok()
}

/// What a fault scenario measured.
struct Run {
    fault: Duration,
    caught_up: Duration,
    rows: i64,
    distinct: i64,
}

/// Streams `RECORDS` records through the sink (in process) from `bootstrap` into QuestDB at
/// `pg_port`; once 2,000 rows are stored, runs `fault` (off the runtime: it kills and restarts
/// a service and returns how long that took), then waits until every record is committed and
/// counts what the table holds.
async fn stream_through(
    name: &str,
    bootstrap: &str,
    pg_port: u16,
    log_tail: impl Fn() -> String,
    fault: impl FnOnce() -> Result<Duration, String> + Send + 'static,
) -> Run {
    let topic = format!("fault-{name}-{}", std::process::id());
    kafka::create_topic(bootstrap, &topic).await.unwrap();
    let (b, t) = (bootstrap.to_owned(), topic.clone());
    tokio::task::spawn_blocking(move || kafka::produce_many(&b, &t, (0..RECORDS).map(envelope)))
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
    config.connection.port = pg_port;
    let connection = config.connection.clone();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut options = RunOptions::new(bootstrap.to_owned());
    options.shutdown = Some(shutdown);
    let sink = tokio::spawn(async move { sink::run(&config, options).await });

    let count = format!("SELECT count() FROM '{topic}'");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stored = number(&connection, &count).await.unwrap_or(0);
        if stored >= 2_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sink stored {stored} rows within 60 s; log:\n{}",
            log_tail()
        );
    }
    let fault = tokio::task::spawn_blocking(fault)
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("the fault: {e}"));

    let group = format!("connect-{topic}-sink");
    let (b, t) = (bootstrap.to_owned(), topic.clone());
    let since = Instant::now();
    tokio::task::spawn_blocking(move || {
        wait_until(
            "the sink to commit every record",
            Duration::from_secs(120),
            || match kafka::committed_offset(&b, &group, &t, 0) {
                Ok(Some(c)) if c >= RECORDS as i64 => Ok(()),
                other => Err(format!("committed offset {other:?} of {RECORDS}")),
            },
        )
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", log_tail()));
    let caught_up = since.elapsed();
    let _ = stop.send(true);
    sink.await
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
        "{name}: fault took {fault:.1?}; {RECORDS} produced, {rows} rows, {distinct} distinct, \
         {} missing, {} duplicated; every record committed {caught_up:.1?} after it",
        RECORDS as i64 - distinct,
        rows - distinct
    );
    Run {
        fault,
        caught_up,
        rows,
        distinct,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_killed_and_restarted_mid_stream_loses_nothing() {
    // A QuestDB of its own: the shared one serves the other tests.
    let questdb = tokio::task::spawn_blocking(|| {
        let libs = provision::libs()?;
        let java = provision::java()?;
        QuestDb::start(&libs, &java, start_timeout(QUESTDB_TIMEOUT))
    })
    .await
    .expect("start task")
    .unwrap_or_else(|e| panic!("{e}"));
    let pg_port = questdb.pg_port;
    let questdb = Arc::new(Mutex::new(questdb));
    let (q, tail) = (questdb.clone(), questdb.clone());
    let run = stream_through(
        "questdb-restart",
        &crate::target().bootstrap,
        pg_port,
        move || tail.lock().unwrap().log_tail(30),
        move || {
            q.lock()
                .unwrap()
                .kill_and_restart(start_timeout(QUESTDB_TIMEOUT))
                .map_err(|e| e.to_string())
        },
    )
    .await;
    assert_eq!(
        run.distinct, RECORDS as i64,
        "records missing after the restart"
    );
    assert!(
        run.rows >= run.distinct && run.fault > Duration::ZERO && run.caught_up > Duration::ZERO
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_broker_killed_and_restarted_mid_stream_loses_nothing() {
    // A ZooKeeper and broker of their own: the shared ones serve the other tests.
    let kafka = tokio::task::spawn_blocking(|| {
        let libs = provision::libs()?;
        let java = provision::java()?;
        let zk = ZooKeeper::start(&libs, &java, start_timeout(ZOOKEEPER_TIMEOUT))?;
        let kafka = Kafka::start(
            &libs,
            &java,
            Some(&zk.connect_string()),
            start_timeout(KAFKA_TIMEOUT),
        )?;
        Ok::<_, harness::error::ServiceError>((zk, kafka))
    })
    .await
    .expect("start task")
    .unwrap_or_else(|e| panic!("{e}"));
    let (zk, kafka) = kafka;
    let bootstrap = kafka.bootstrap();
    let kafka = Arc::new(Mutex::new(kafka));
    let (k, tail) = (kafka.clone(), kafka.clone());
    let run = stream_through(
        "kafka-restart",
        &bootstrap,
        crate::target().pg_port,
        move || tail.lock().unwrap().log_tail(30),
        move || {
            k.lock()
                .unwrap()
                .kill_and_restart(start_timeout(KAFKA_TIMEOUT))
                .map_err(|e| e.to_string())
        },
    )
    .await;
    assert_eq!(
        run.distinct, RECORDS as i64,
        "records missing after the restart"
    );
    // Broker before ZooKeeper, as the services stop.
    drop(kafka);
    drop(zk);
}
