//! `harness kill9`: exactly-once under `kill -9`. A stream is stored by the `sink` binary into a
//! native DEDUP table (`pk.mode=kafka`, the Kafka timestamp designated) while the binary is
//! killed with SIGKILL again and again, each time after it stored more rows and before the
//! stream ends; a last run catches up. Every offset must then be in the table exactly once.
//!
//! `--control` runs the same without DEDUP (a plain table): duplicates there show that kills did
//! land between a QuestDB commit and the Kafka commit, which is what DEDUP has to absorb.
//!
//! Restarts rejoin the group by static membership (`group.instance.id`), so 20 kills take
//! about 20 s: `tests/conformance/kill9.rs` runs it in `cargo test`; `harness kill9` on demand.

use crate::bench::envelope;
use crate::kafka;
use crate::process::ServiceProcess;
use crate::readback;
use crate::replay::{self, Target};
use sink::write::pg::QuestDb;
use sink::{RunOptions, SinkConfig, StopWhen};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

pub struct Kill9Report {
    pub kills: usize,
    /// Per restart: from spawning the sink to QuestDB's first commit of its rows. The sink
    /// rejoins its group by static membership, so no session timeout is waited out.
    pub resumes: Vec<std::time::Duration>,
    pub produced: u64,
    pub rows: usize,
    pub missing: u64,
    pub duplicated: u64,
}

fn properties(topic: &str, dedup: bool) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(replay::seed_properties_path())?;
    let mut props = sink::config::properties::parse(&text);
    for (k, v) in [
        ("name", format!("{topic}-sink")),
        ("topics", topic.to_string()),
        ("timestamp.kafka.native", "true".into()),
        ("pk.mode", "kafka".into()),
        // Small batches: many commits, so a kill lands between a QuestDB commit and the
        // Kafka commit now and then.
        ("batch.size", "200".into()),
    ] {
        props.insert(k.into(), v);
    }
    if !dedup {
        // The control: the same coordinates in a plain table, which has no DEDUP keys.
        props.remove("timestamp.kafka.native");
    }
    Ok(props)
}

/// What grows the moment QuestDB commits a transaction of the sink: a WAL table's
/// `sequencerTxn` (its rows become visible only later, once applied), else the row count.
async fn committed_txns(db: &QuestDb, table: &str, wal: bool) -> u64 {
    let sql = if wal {
        format!(
            "SELECT sequencerTxn FROM wal_tables() WHERE name = '{}'",
            table.replace('\'', "''")
        )
    } else {
        format!(
            "SELECT count() FROM {}",
            sink::mapping::jdbc::ddl::quote(table)
        )
    };
    match db.client().query_opt(&sql, &[]).await {
        Ok(Some(row)) => row.get::<_, i64>(0) as u64,
        _ => 0, // not created yet
    }
}

/// Runs the scenario; `Err` for anything that kept it from judging, `Ok` with the counts.
pub async fn run(
    target: &Target,
    binary: &Path,
    kills: usize,
    chunk: u64,
    dedup: bool,
) -> anyhow::Result<Kill9Report> {
    let topic = format!(
        "kill9-{}-{}",
        if dedup { "dedup" } else { "control" },
        std::process::id()
    );
    kafka::create_topic(&target.bootstrap, &topic).await?;
    let props = properties(&topic, dedup)?;
    let mut config = SinkConfig::from_properties(&props)?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(&topic);
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("connector.properties");
    replay::write_properties(&file, &props)?;
    let db = QuestDb::connect(&config.connection).await?;
    let timeout = crate::wait::case_timeout();

    let mut produced = 0u64;
    let mut resumes = Vec::new();
    for kill in 0..kills {
        // More of the stream arrives, then the sink is started and killed while storing it.
        let (bootstrap, t, from) = (target.bootstrap.clone(), topic.clone(), produced);
        tokio::task::spawn_blocking(move || {
            kafka::produce_many(&bootstrap, &t, (from..from + chunk).map(envelope))
        })
        .await??;
        produced += chunk;
        let before = committed_txns(&db, &table, dedup).await;
        let mut cmd = Command::new(binary);
        cmd.arg(&file)
            .args(["--bootstrap-servers", &target.bootstrap])
            .args(["--pg-host", &target.pg_host])
            .args(["--pg-port", &target.pg_port.to_string()])
            .env("RUST_LOG", "warn");
        let spawned = std::time::Instant::now();
        let sink = ServiceProcess::spawn("sink", cmd, tempfile::tempdir()?)?;
        // Polled without pause (bounded by the deadline), so that the kill lands as close as
        // possible after a QuestDB commit, where the Kafka commit may not have happened yet.
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Err(e) = sink.check_alive() {
                anyhow::bail!("the sink died on its own (kill {}): {e}", kill + 1);
            }
            let now = committed_txns(&db, &table, dedup).await;
            if now > before {
                resumes.push(spawned.elapsed());
                break;
            }
            if std::time::Instant::now() > deadline {
                anyhow::bail!(
                    "the sink (kill {}) committed nothing to {table} within {timeout:?} (still {now}); sink log:\n{}",
                    kill + 1,
                    sink.log_tail(30)
                );
            }
        }
        // SAFETY: kill(2) on the pid of a child this process has not reaped yet.
        unsafe { libc::kill(sink.pid() as i32, libc::SIGKILL) };
        drop(sink); // reaps it
    }

    // The restart after the last kill runs until the stream is stored and committed.
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.stop_when = StopWhen::CaughtUp;
    tokio::time::timeout(timeout * 4, sink::run(&config, options))
        .await
        .map_err(|_| anyhow::anyhow!("the last run did not catch up within {:?}", timeout * 4))?
        .map_err(|f| anyhow::anyhow!("the last run failed: {}", f.error))?;

    let stored = readback::read_table(&config.connection, &table)
        .await?
        .ok_or_else(|| anyhow::anyhow!("table {table} does not exist"))?;
    let offset_column = stored
        .columns
        .iter()
        .position(|c| c.name == "__connect_offset")
        .ok_or_else(|| anyhow::anyhow!("no __connect_offset column"))?;
    let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
    for row in &stored.rows {
        let offset: u64 = row[offset_column]
            .as_deref()
            .and_then(|o| o.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("a row without an offset: {row:?}"))?;
        *seen.entry(offset).or_default() += 1;
    }
    let missing = (0..produced).filter(|o| !seen.contains_key(o)).count() as u64;
    let duplicated = seen.values().map(|n| n - 1).sum();
    Ok(Kill9Report {
        kills,
        resumes,
        produced,
        rows: stored.rows.len(),
        missing,
        duplicated,
    })
}
