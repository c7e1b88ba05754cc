//! Runs one change-data-capture case: a database of its own on the harness's PostgreSQL,
//! Debezium's Postgres connector streaming it into Kafka, the case's SQL, then the `sink` binary
//! over the captured topics until it has caught up, and what QuestDB holds read back.
//!
//! When is Debezium done? The runner commits a marker row last (in `kq.marker`, a schema the
//! sink does not read) and waits until the connector's committed source offset reaches the
//! marker's transaction: Connect commits an offset only once every record before it is
//! acknowledged by Kafka, so every change the case made is in its topic by then.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sink::config::SinkConfig;
use sink::run::report::SummaryFile;
use tokio_postgres::SimpleQueryMessage;

use super::case::CdcCase;
use super::source::{connector_config, SourceWorker, MARKER_SCHEMA, MARKER_TABLE};
use crate::kafka;
use crate::readback::{self, Table};
use crate::replay::{write_properties, Target};
use crate::services::Postgres;
use crate::wait::wait_until_async;

/// What a case runs on.
#[derive(Debug, Clone)]
pub struct CdcTarget {
    /// Kafka and QuestDB.
    pub target: Target,
    pub postgres: Arc<Postgres>,
    pub worker: Arc<SourceWorker>,
    /// The `sink` binary.
    pub sink: PathBuf,
    /// How long each wait of a case may take (the connector, Debezium, the sink).
    pub timeout: Duration,
}

/// What a case produced, ready to render.
#[derive(Debug, Clone)]
pub struct CdcOutcome {
    pub case: String,
    pub statements: usize,
    /// Each captured topic: its records and the sink's committed offset.
    pub topics: Vec<(String, i64, Option<i64>)>,
    pub ddl: Vec<String>,
    pub coercions: Vec<String>,
    /// The sink's error.
    pub error: Option<String>,
    pub tables: Vec<(String, Option<Table>)>,
    /// Where the time went (not rendered): SQL and Debezium, the sink, the read-back.
    pub phases: Vec<(&'static str, Duration)>,
}

/// Runs `case` on `on`. An `Err` is a case that could not run (the SQL failed, the connector
/// failed, a wait timed out), with what was last observed.
pub async fn run_case(case: &CdcCase, on: &CdcTarget) -> Result<CdcOutcome, String> {
    let mut phases = Vec::new();
    let mut last = Instant::now();
    let mut mark = |phase: &'static str, phases: &mut Vec<_>| {
        phases.push((phase, last.elapsed()));
        last = Instant::now();
    };
    let timeout = on.timeout;
    let prefix = &case.prefix;
    let admin = on.postgres.connect("postgres").await?;
    sql(&admin, &format!("CREATE DATABASE {prefix}")).await?;
    let db = on.postgres.connect(prefix).await?;
    sql(
        &db,
        &format!(
            "CREATE SCHEMA {MARKER_SCHEMA}; \
             CREATE TABLE {MARKER_TABLE} (id serial PRIMARY KEY, note text)"
        ),
    )
    .await?;

    let connector = format!("cdc-source-{prefix}");
    let config = connector_config(prefix, on.postgres.port, &case.source);
    blocking(&on.worker, {
        let (connector, config) = (connector.clone(), config.clone());
        move |w: &SourceWorker| {
            w.add(&connector, &config)?;
            w.wait_running(&connector, timeout)
        }
    })
    .await?;
    // The slot exists and a WAL sender reads it: every change from here on is streamed.
    let slot = format!("{prefix}_slot");
    wait_until_async(&format!("replication slot {slot} active"), timeout, || {
        let (db, slot) = (&db, &slot);
        async move {
            let rows = query(
                db,
                &format!("SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'"),
            )
            .await?;
            match rows.first().and_then(|r| r.first()).cloned().flatten() {
                Some(active) if active == "t" => Ok(()),
                other => Err(format!("active: {other:?}")),
            }
        }
    })
    .await
    .map_err(|e| e.to_string())?;
    mark("connector", &mut phases);

    for (line, statement) in &case.statements {
        sql(&db, statement)
            .await
            .map_err(|e| format!("{} line {line}: {e}", case.name))?;
    }
    let rows = query(
        &db,
        &format!(
            "BEGIN; INSERT INTO {MARKER_TABLE} (note) VALUES ('end of case'); \
             SELECT txid_current()::text; COMMIT"
        ),
    )
    .await?;
    let tx: i64 = rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|t| t.parse().ok())
        .ok_or("txid_current() gave no number")?;
    mark("sql", &mut phases);
    blocking(&on.worker, {
        let connector = connector.clone();
        move |w: &SourceWorker| w.wait_past(&connector, tx, timeout)
    })
    .await?;
    mark("debezium", &mut phases);

    let bootstrap = on.target.bootstrap.clone();
    let mut topics = kafka::topics_with_prefix(&bootstrap, &format!("{prefix}.public."))
        .map_err(|e| e.to_string())?;
    topics.sort();
    let props = sink_properties(case, &topics, &on.target)?;
    let sink_config = SinkConfig::from_properties(&props)
        .map_err(|e| format!("{}: the sink refused its properties: {e}", case.name))?;
    let summary = run_sink(case, &props, on, timeout).await?;
    mark("sink", &mut phases);

    let group = sink_config.group_id();
    let mut counted = Vec::new();
    for topic in &topics {
        let records = kafka::high_watermark(&bootstrap, topic, 0).map_err(|e| e.to_string())?;
        let committed =
            kafka::committed_offset(&bootstrap, &group, topic, 0).map_err(|e| e.to_string())?;
        counted.push((topic.clone(), records, committed));
    }
    let names: Vec<String> = match &case.tables[..] {
        [] => topics.iter().map(|t| sink_config.table_name(t)).collect(),
        listed => listed.to_vec(),
    };
    let connection = readback::connection(&on.target.pg_host, on.target.pg_port);
    let mut tables = Vec::new();
    for name in names {
        let state = readback::read_table(&connection, &name)
            .await
            .map_err(|e| e.to_string())?;
        tables.push((name, state));
    }
    mark("readback", &mut phases);
    blocking(&on.worker, move |w: &SourceWorker| {
        w.delete(&connector);
        Ok(())
    })
    .await?;
    Ok(CdcOutcome {
        case: case.name.clone(),
        statements: case.statements.len(),
        topics: counted,
        ddl: summary.ddl,
        coercions: summary.coercions,
        error: summary
            .error
            .map(|e| crate::connect::redact_request_ids(&e)),
        tables,
        phases,
    })
}

/// The sink's properties: its family's file (the seed's `connect-jdbc.properties`, or QuestDB's
/// connector's with `client.conf.string` pointed at this run's QuestDB), a connector name of the
/// case's (its consumer group), the captured topics, then the case's `@set` lines.
pub fn sink_properties(
    case: &CdcCase,
    topics: &[String],
    target: &Target,
) -> Result<BTreeMap<String, String>, String> {
    let path = case.family.properties_path();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut props = sink::config::properties::parse(&text);
    if topics.is_empty() {
        return Err(format!(
            "{}: Debezium captured no table of schema public",
            case.name
        ));
    }
    props.insert("name".into(), format!("cdc-sink-{}", case.prefix));
    props.insert("topics".into(), topics.join(","));
    for (k, v) in &case.sink {
        props.insert(k.clone(), v.clone());
    }
    if let Some(conf) = props.get("client.conf.string") {
        let conf = target.ilp_conf_from(conf);
        props.insert("client.conf.string".into(), conf);
    }
    Ok(props)
}

/// Runs the `sink` binary until it has caught up; its log goes to
/// `target/conformance-logs/<case>.log`.
async fn run_sink(
    case: &CdcCase,
    props: &BTreeMap<String, String>,
    on: &CdcTarget,
    timeout: Duration,
) -> Result<SummaryFile, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let properties = dir.path().join("connector.properties");
    let summary = dir.path().join("summary.json");
    write_properties(&properties, props).map_err(|e| e.to_string())?;
    let logs = crate::case_log::default_folder();
    let _ = std::fs::create_dir_all(&logs);
    let log_path = logs.join(crate::case_log::file_name(&case.name));
    let log =
        std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let target = &on.target;
    let mut child = tokio::process::Command::new(&on.sink)
        .arg(&properties)
        .args(["--bootstrap-servers", &target.bootstrap])
        .args(["--pg-host", &target.pg_host])
        .args(["--pg-port", &target.pg_port.to_string()])
        .arg("--until-caught-up")
        .arg("--summary")
        .arg(&summary)
        .env("RUST_LOG", "info")
        .env("KQ_METRICS_LISTEN", "")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("running {}: {e}", on.sink.display()))?;
    let status = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => status.map_err(|e| e.to_string())?,
        Err(_) => {
            return Err(format!(
                "{}: the sink did not catch up within {timeout:?}; its log: {}",
                case.name,
                log_path.display()
            ))
        }
    };
    let parsed = std::fs::read_to_string(&summary)
        .ok()
        .and_then(|t| SummaryFile::parse(&t));
    match parsed {
        Some(s) if s.error.is_some() != status.success() => Ok(s),
        _ => Err(format!(
            "{}: the sink exited with {status} without a matching summary; its log: {}",
            case.name,
            log_path.display()
        )),
    }
}

/// Runs `f` on the worker off the runtime (its calls block).
async fn blocking<T: Send + 'static>(
    worker: &Arc<SourceWorker>,
    f: impl FnOnce(&SourceWorker) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let worker = worker.clone();
    tokio::task::spawn_blocking(move || f(&worker))
        .await
        .map_err(|e| format!("the worker call panicked: {e}"))?
}

async fn sql(db: &tokio_postgres::Client, statement: &str) -> Result<(), String> {
    db.batch_execute(statement)
        .await
        .map_err(|e| format!("PostgreSQL: {statement}: {}", pg_error(&e)))
}

/// The rows of a simple query, as text.
async fn query(
    db: &tokio_postgres::Client,
    statement: &str,
) -> Result<Vec<Vec<Option<String>>>, String> {
    let messages = db
        .simple_query(statement)
        .await
        .map_err(|e| format!("PostgreSQL: {statement}: {}", pg_error(&e)))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_owned))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

/// The server's message, which `Display` of tokio-postgres's error leaves out.
fn pg_error(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map_or_else(|| e.to_string(), |db| db.to_string())
}

/// `fixtures/cdc/*.cdc`, or with `slow` also `fixtures/cdc/slow/` (the upstream scenario).
pub fn discover(slow: bool) -> Vec<PathBuf> {
    let root = crate::fixture::root().join("cdc");
    let mut found = list(&root);
    if slow {
        found.extend(list(&root.join("slow")));
    }
    found
}

fn list(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cdc"))
        .collect();
    files.sort();
    files
}
