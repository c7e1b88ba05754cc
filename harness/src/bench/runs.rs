//! Draining one backlog with each sink: the minimal pipe (the limit), this sink's binary over ILP
//! and over PG wire, and connectors in a Kafka Connect worker (QuestDB's own, given its plugin
//! folder, and the Debezium JDBC sink). Every run starts its sink(s) on the whole topic, with a
//! new group and table, and ends when QuestDB shows every row; CPU and peak memory are those of
//! the sink's processes (the worker JVM for a connector) over the run.

use super::questdb_http::QuestDbHttp;
use super::usage::Watched;
use crate::connect::{self, ConnectWorker, Connector};
use crate::replay::Target;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A sink the bench measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Peer {
    /// The minimal Rust pipe: rdkafka in, ILP out, nothing decoded beyond what ILP needs.
    Pipe,
    /// This sink's binary over ILP/HTTP (native table, Kafka timestamp designated).
    Ilp,
    /// This sink's binary over PG wire (the same table settings).
    Pg,
    /// QuestDB's Kafka connector in a Connect worker (`--peer-plugin`).
    Questdb,
    /// The Debezium JDBC sink in a Connect worker, over PG wire.
    Debezium,
}

impl Peer {
    pub fn label(self) -> &'static str {
        match self {
            Peer::Pipe => "minimal pipe (limit)",
            Peer::Ilp => "ours, ILP",
            Peer::Pg => "ours, PG wire",
            Peer::Questdb => "QuestDB connector",
            Peer::Debezium => "Debezium JDBC sink",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Peer::Pipe => "pipe",
            Peer::Ilp => "ilp",
            Peer::Pg => "pg",
            Peer::Questdb => "questdb",
            Peer::Debezium => "debezium",
        }
    }

    pub fn in_connect(self) -> bool {
        matches!(self, Peer::Questdb | Peer::Debezium)
    }
}

/// QuestDB's connector class (kafka-questdb-connector).
pub const QUESTDB_CONNECTOR_CLASS: &str = "io.questdb.kafka.QuestDBSinkConnector";

/// One drained backlog.
#[derive(Debug, Clone)]
pub struct Measurement {
    pub peer: Peer,
    /// The backlog's records.
    pub shape: super::Shape,
    pub partitions: i32,
    pub tasks: u32,
    pub rows: u64,
    /// From the sink's start to every row visible in QuestDB.
    pub secs: f64,
    /// From the sink's start to the first row visible (start-up and the first batch).
    pub first_row_secs: f64,
    pub cpu_secs: f64,
    /// The sink's processes' peaks, added up.
    pub peak_rss_mib: f64,
    /// 1-minute load average when the run ended.
    pub load: f64,
}

impl Measurement {
    pub fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.secs
    }

    pub fn cpu_secs_per_million(&self) -> f64 {
        self.cpu_secs * 1e6 / self.rows as f64
    }
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// What the runs share: where the services are, the programs, the Connect worker.
pub struct Runner {
    pub target: Target,
    /// The harness itself (it runs the pipe as `harness bench-pipe`).
    pub harness: PathBuf,
    pub sink: Option<PathBuf>,
    pub worker: Option<ConnectWorker>,
    pub batch_size: usize,
    pub timeout: Duration,
    /// Where the children's stderr goes, for the error when one fails.
    pub logs: tempfile::TempDir,
}

/// How often the processes and QuestDB's row count are read during a run.
const TICK: Duration = Duration::from_millis(50);

impl Runner {
    /// Drains `topic` (`partitions` partitions, `records` records) with `tasks` processes or
    /// tasks of `peer` into a new table.
    pub fn drain(
        &self,
        peer: Peer,
        topic: &str,
        partitions: i32,
        records: u64,
        tasks: u32,
    ) -> anyhow::Result<Measurement> {
        // Underscores only: the Debezium sink does not find a table with hyphens.
        let table = format!("{}_{}_{tasks}t", topic.replace('-', "_"), peer.key());
        let started = Instant::now();
        let mut watched = Vec::new();
        let mut connector = None;
        match peer {
            Peer::Pipe => {
                for task in 0..tasks {
                    let mine: Vec<String> = (0..partitions)
                        .filter(|p| *p as u32 % tasks == task)
                        .map(|p| p.to_string())
                        .collect();
                    let mut cmd = Command::new(&self.harness);
                    cmd.arg("bench-pipe")
                        .args(["--bootstrap", &self.target.bootstrap])
                        .args(["--topic", topic])
                        .args(["--partitions", &mine.join(",")])
                        .args(["--ilp-conf", &self.target.ilp_conf()])
                        .args(["--table", &table])
                        .args(["--batch-size", &self.batch_size.to_string()]);
                    watched.push(self.spawn(cmd, &format!("{table}-{task}"))?);
                }
            }
            Peer::Ilp | Peer::Pg => {
                let binary = self
                    .sink
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("no sink binary"))?;
                let props = super::sink_properties(
                    &self.target,
                    topic,
                    &table,
                    self.batch_size,
                    peer == Peer::Ilp,
                    &[],
                )?;
                let file = self.logs.path().join(format!("{table}.properties"));
                crate::replay::write_properties(&file, &props)?;
                for task in 0..tasks {
                    let mut cmd = Command::new(binary);
                    cmd.arg(&file)
                        .args(["--bootstrap-servers", &self.target.bootstrap])
                        .args(["--pg-host", &self.target.pg_host])
                        .args(["--pg-port", &self.target.pg_port.to_string()])
                        .args(["--task", &task.to_string()])
                        .arg("--until-caught-up")
                        .env("RUST_LOG", "warn");
                    watched.push(self.spawn(cmd, &format!("{table}-{task}"))?);
                }
            }
            Peer::Questdb | Peer::Debezium => {
                let worker = self
                    .worker
                    .as_ref()
                    .ok_or_else(|| anyhow::anyhow!("no Connect worker"))?;
                let config = self.connector_config(peer, topic, &table, tasks)?;
                watched.push(Watched::running(worker.pid()));
                let name = format!("bench-{table}");
                let body = serde_json::json!({ "name": name, "config": config }).to_string();
                let (status, answer) =
                    connect::http(worker.port, "POST", "/connectors", Some(&body))
                        .map_err(anyhow::Error::msg)?;
                anyhow::ensure!(status == 201, "POST /connectors {name}: {status} {answer}");
                connector = Some((worker, name));
            }
        }
        let result = self.watch(&mut watched, connector.as_ref(), &table, records, started);
        if let Some((worker, name)) = &connector {
            let _ = connect::http(worker.port, "DELETE", &format!("/connectors/{name}"), None);
        }
        let (secs, first_row_secs) = result?;
        Ok(Measurement {
            peer,
            shape: super::Shape::Seed,
            partitions,
            tasks,
            rows: records,
            secs,
            first_row_secs,
            cpu_secs: watched.iter().map(Watched::cpu_secs).sum(),
            peak_rss_mib: watched.iter().map(Watched::peak_mib).sum(),
            load: load_average(),
        })
    }

    fn spawn(&self, mut cmd: Command, name: &str) -> anyhow::Result<Watched> {
        let log = std::fs::File::create(self.logs.path().join(format!("{name}.log")))?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        Ok(Watched::child(child))
    }

    fn log_tail(&self, table: &str) -> String {
        let mut out = String::new();
        let Ok(entries) = std::fs::read_dir(self.logs.path()) else {
            return out;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".log") && name.starts_with(table) {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(10).collect();
                out.push_str(&format!("--- {name} ---\n"));
                for line in tail.into_iter().rev() {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Samples the processes and QuestDB's row count until every row is visible and every
    /// process ended (a connector's worker keeps running; what an ended process stored may
    /// still be applied to a WAL table, which the deadline bounds): seconds to the last row
    /// and to the first.
    fn watch(
        &self,
        watched: &mut [Watched],
        connector: Option<&(&ConnectWorker, String)>,
        table: &str,
        records: u64,
        started: Instant,
    ) -> anyhow::Result<(f64, f64)> {
        let deadline = started + self.timeout;
        let (mut first, mut all) = (None, None);
        let mut last_status = Instant::now();
        let mut count = 0;
        let mut questdb = QuestDbHttp::new(self.target.http_port);
        loop {
            let mut running = false;
            for w in watched.iter_mut() {
                running |= w.sample();
                if let Some(status) = w.exit().filter(|s| !s.success()) {
                    anyhow::bail!(
                        "a {table} process failed ({status}) with {count} of {records} rows stored\n{}",
                        self.log_tail(table)
                    );
                }
            }
            count = questdb.count_rows(table).map_err(anyhow::Error::msg)?;
            let now = started.elapsed().as_secs_f64();
            if count > 0 && first.is_none() {
                first = Some(now);
            }
            if count >= records && all.is_none() {
                all = Some(now);
            }
            if let (Some(all), Some(first)) = (all, first) {
                if connector.is_some() || !running {
                    return Ok((all, first));
                }
            }
            if let Some((worker, name)) = connector {
                if last_status.elapsed() > Duration::from_secs(1) {
                    last_status = Instant::now();
                    let path = format!("/connectors/{name}/status");
                    if let Ok((200, body)) = connect::http(worker.port, "GET", &path, None) {
                        if let Some(cause) = failed_cause(&body) {
                            anyhow::bail!(
                                "connector {name} failed with {count} of {records} rows stored: {cause}"
                            );
                        }
                    }
                }
            }
            if Instant::now() > deadline {
                anyhow::bail!(
                    "{table}: {count} of {records} rows visible after {:?}\n{}",
                    self.timeout,
                    self.log_tail(table)
                );
            }
            std::thread::sleep(TICK);
        }
    }

    /// A Connect connector's configuration for the bench topic.
    pub fn connector_config(
        &self,
        peer: Peer,
        topic: &str,
        table: &str,
        tasks: u32,
    ) -> anyhow::Result<BTreeMap<String, String>> {
        let mut config = match peer {
            Peer::Debezium => {
                let mut props = super::seed_properties()?;
                props.insert("topics".into(), topic.into());
                props.insert("table.name.format".into(), table.into());
                props.insert("batch.size".into(), self.batch_size.to_string());
                connect::connector_config(
                    Connector::Debezium,
                    crate::fixture::Family::Jdbc,
                    &props,
                    &self.target.pg_host,
                    self.target.pg_port,
                )
                .map_err(anyhow::Error::msg)?
            }
            Peer::Questdb => questdb_connector_config(&self.target, topic, table),
            _ => anyhow::bail!("{} does not run in Connect", peer.label()),
        };
        config.insert("tasks.max".into(), tasks.to_string());
        Ok(config)
    }
}

/// The last `Caused by` line of a failed task in a connector's status, or its first line.
fn failed_cause(status: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(status).ok()?;
    let failed = json["tasks"]
        .as_array()?
        .iter()
        .chain(std::iter::once(&json["connector"]))
        .find(|t| t["state"] == "FAILED")?;
    let trace = failed["trace"].as_str().unwrap_or("(no trace)");
    let cause = trace
        .lines()
        .rfind(|l| l.starts_with("Caused by: "))
        .or_else(|| trace.lines().next())
        .unwrap_or_default();
    Some(cause.to_owned())
}

/// QuestDB's connector as its documentation sets it up for JSON with schemas: ILP over HTTP,
/// the Kafka timestamp designated (as this sink's `timestamp.kafka.native`), keys left out.
pub fn questdb_connector_config(
    target: &Target,
    topic: &str,
    table: &str,
) -> BTreeMap<String, String> {
    [
        ("connector.class", QUESTDB_CONNECTOR_CLASS),
        ("topics", topic),
        ("table", table),
        ("client.conf.string", &target.ilp_conf()),
        ("timestamp.kafka.native", "true"),
        ("include.key", "false"),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A plugin path holding the harness's plugins (Debezium's) and, when given, QuestDB's
/// connector folder, linked side by side, so one worker runs both.
pub fn plugin_path(peer_plugin: Option<&Path>) -> anyhow::Result<tempfile::TempDir> {
    let libs = crate::provision::connect_libs()?;
    let dir = tempfile::Builder::new()
        .prefix("kq-bench-plugins-")
        .tempdir()?;
    for entry in std::fs::read_dir(&libs.plugin_path)? {
        let entry = entry?;
        std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name()))?;
    }
    if let Some(peer) = peer_plugin {
        let peer = peer.canonicalize()?;
        std::os::unix::fs::symlink(&peer, dir.path().join("questdb-connector"))?;
    }
    Ok(dir)
}

/// Starts a Connect worker with [`plugin_path`] and checks it lists QuestDB's connector when
/// asked for it.
pub fn start_worker(
    bootstrap: &str,
    plugins: &Path,
    questdb: bool,
) -> anyhow::Result<ConnectWorker> {
    let worker = ConnectWorker::start(
        bootstrap,
        Connector::Debezium,
        Some(plugins.to_path_buf()),
        Duration::from_secs(120),
    )?;
    if questdb {
        let (_, body) = connect::http(worker.port, "GET", "/connector-plugins", None)
            .map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            body.contains(QUESTDB_CONNECTOR_CLASS),
            "the Connect worker does not list {QUESTDB_CONNECTOR_CLASS} from the peer plugin \
             folder; it lists: {body}"
        );
    }
    Ok(worker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_task_is_told_by_its_last_cause() {
        let status = r#"{"connector":{"state":"RUNNING"},"tasks":[{"id":0,"state":"FAILED","trace":"x.ConnectException: Exiting\n\tat a.b(C.java:1)\nCaused by: y: sink failure\nCaused by: java.sql.SQLException: Could not find table: t\n\t... 17 more"}]}"#;
        assert_eq!(
            failed_cause(status).as_deref(),
            Some("Caused by: java.sql.SQLException: Could not find table: t")
        );
        let running = r#"{"connector":{"state":"RUNNING"},"tasks":[{"id":0,"state":"RUNNING"}]}"#;
        assert_eq!(failed_cause(running), None);
    }
}
