//! A Kafka Connect worker as a fault case's sink process (issue 29.3): one standalone worker
//! per task of the case, each running the case's connector under the same name, so that their
//! sink tasks share the consumer group `connect-<name>` and its partitions as the sink binary's
//! `--task N` do. A kill is a `kill -9` of the worker's JVM; it is started again with its
//! connector, as an operator restarts a standalone worker with its connector file. A task the
//! worker reports FAILED is a sink that gave up; the runner restarts it as an operator does
//! (`POST /connectors/<name>/tasks/0/restart`).

use crate::connect::{self, ConnectWorker, Connector};
use crate::fixture::Case;
use crate::replay::Target;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The connector a fault case runs in Connect workers.
#[derive(Debug, Clone)]
pub struct ConnectLaunch {
    pub connector: Connector,
    /// The plugin path (`None`: the one the harness provisions, Debezium's).
    pub plugin_path: Option<PathBuf>,
    /// The connector's name: its group is `connect-<name>`, the sink binary's too.
    pub name: String,
    pub config: BTreeMap<String, String>,
}

/// Which connector runs a fault case, and from which plugin path.
#[derive(Debug, Clone)]
pub struct ConnectSink {
    pub connector: Connector,
    pub plugin_path: Option<PathBuf>,
    /// How the outcome names it: `Debezium JDBC sink 3.4.3`, `Confluent JDBC sink 10.0.1`.
    pub label: String,
    /// Its snapshots' folder in `tests/snapshots/`: `debezium`, `confluent-jdbc-10.0.1`.
    pub set: String,
}

/// The snapshot of a case a connector does not run, and why.
pub fn not_applicable(case: &Case, label: &str, why: &str) -> String {
    format!(
        "case: {}
sink: {label}
not applicable: {why}
",
        case.name
    )
}

impl ConnectSink {
    /// Debezium's JDBC sink, the version `ci/services/pom.xml` pins.
    pub fn debezium() -> ConnectSink {
        ConnectSink {
            connector: Connector::Debezium,
            plugin_path: None,
            label: "Debezium JDBC sink 3.4.3".into(),
            set: Connector::Debezium.name().into(),
        }
    }

    /// The connector on a user's plugin path: Confluent's JDBC sink or QuestDB's connector.
    pub fn from_plugin(path: &std::path::Path) -> Result<ConnectSink, String> {
        let (connector, version) = connect::plugin_on(path)?;
        let label = match connector {
            Connector::QuestDb => format!("QuestDB connector {version}"),
            _ => format!("Confluent JDBC sink {version}"),
        };
        Ok(ConnectSink {
            connector,
            plugin_path: Some(path.to_owned()),
            label,
            set: connect::snapshot_set(connector, &version),
        })
    }

    /// The table to create before the connector starts, if it needs one: Debezium's JDBC sink
    /// declares the envelopes' `float` field `float4`, which QuestDB refuses, so it cannot
    /// create the table of the seed's message (`tests/snapshots/debezium/seed__example-topic.snap`);
    /// into an existing one it writes. This is the table the seed's JDBC sink creates
    /// (`tests/snapshots/seed__example-topic.snap`), as a Debezium user on QuestDB creates it.
    pub fn table_beforehand(&self, table: &str) -> Option<String> {
        (self.connector == Connector::Debezium).then(|| {
            format!(
                "CREATE TABLE IF NOT EXISTS \"{table}\" (\"flag\" BOOLEAN, \"id8\" SMALLINT, \
                 \"id16\" SMALLINT, \"id32\" INT, \"id64\" BIGINT, \"idFloat\" REAL, \
                 \"idDouble\" DOUBLE PRECISION, \"msg\" TEXT)"
            )
        })
    }

    /// Creates [`Self::table_beforehand`], if the connector needs it.
    pub async fn make_table(
        &self,
        connection: &sink::config::Connection,
        table: &str,
    ) -> anyhow::Result<()> {
        if let Some(sql) = self.table_beforehand(table) {
            let db = sink::write::pg::QuestDb::connect(connection).await?;
            db.execute(&sql)
                .await
                .with_context(|| format!("creating {table} beforehand for {}", self.label))?;
        }
        Ok(())
    }

    /// The variants of a fault case file this connector runs: those of its properties' family
    /// (the JDBC sinks the PG wire ones, QuestDB's connector the `connector` ones); the ILP
    /// variants are a write path of this sink only.
    pub fn variants(&self, file: &Case) -> Vec<Case> {
        file.variants()
            .into_iter()
            .filter(|v| self.runs(v))
            .collect()
    }

    /// Whether this connector runs a fault case's variant (see [`Self::variants`]).
    pub fn runs(&self, variant: &Case) -> bool {
        let path = variant.scenario.as_ref().and_then(|s| s.variant?.path);
        variant.family() == self.connector.family()
            && !matches!(path, Some(crate::fixture::WritePath::Ilp))
    }

    /// Why `case` does not apply to this connector (a key it has no equivalent for, a write
    /// path of this sink only), or `None`.
    pub fn not_applicable(&self, case: &Case) -> Option<String> {
        let props = crate::replay::case_properties(case).ok()?;
        if let Err(why) = connect::connector_config(self.connector, case.family(), &props, "h", 1) {
            return Some(why);
        }
        // Confluent's sink ignores the keys of this sink's QuestDB-native tables (Debezium's
        // mapping refuses them above): such a case tests a table it cannot make.
        let native = ["timestamp.kafka.native", "timestamp.field.name"];
        if let Some(key) = native.iter().find(|k| props.contains_key(**k)) {
            return Some(format!(
                "`{key}`: QuestDB-native tables are a setting of this sink only"
            ));
        }
        // Kafka 2.x's workers refuse any `consumer.override.` key: their
        // `connector.client.config.override.policy` is `None` (3.x: `All`).
        let kafka = crate::versions::Versions::from_env().ok()?.kafka;
        let overrides = props.keys().find(|k| k.starts_with("consumer.override."));
        match overrides {
            Some(key) if crate::connect_standalone::needs_connector_file(&kafka) => Some(format!(
                "`{key}`: a Kafka {kafka} worker's client override policy is `None`"
            )),
            _ => None,
        }
    }

    /// The connector's configuration for a case: its properties as the case runner maps them,
    /// QuestDB's PG address `target`'s (the proxy's in a case with network faults).
    pub fn launch(
        &self,
        case: &Case,
        props: &BTreeMap<String, String>,
        name: &str,
        target: &Target,
    ) -> anyhow::Result<ConnectLaunch> {
        let config = connect::connector_config(
            self.connector,
            case.family(),
            props,
            &target.pg_host,
            target.pg_port,
        )
        .map_err(|why| anyhow::anyhow!("{}: not applicable to {}: {why}", case.name, self.label))?;
        Ok(ConnectLaunch {
            connector: self.connector,
            plugin_path: self.plugin_path.clone(),
            name: name.to_owned(),
            config,
        })
    }
}

/// A running worker with the case's connector.
#[derive(Debug)]
pub struct WorkerTask {
    worker: ConnectWorker,
    name: String,
}

impl WorkerTask {
    /// Starts a worker against `bootstrap` and adds the connector; returns once the worker
    /// accepted it.
    pub fn start(launch: &ConnectLaunch, bootstrap: &str) -> anyhow::Result<WorkerTask> {
        let worker = ConnectWorker::start(
            bootstrap,
            launch.connector,
            launch.plugin_path.clone(),
            crate::services::start_timeout(Duration::from_secs(120)),
        )
        .context("starting a Kafka Connect worker")?;
        let body = serde_json::json!({ "name": launch.name, "config": launch.config }).to_string();
        let (status, answer) = connect::http(worker.port, "POST", "/connectors", Some(&body))
            .map_err(|e| anyhow::anyhow!(e))?;
        if status != 201 {
            bail!(
                "POST /connectors {}: {status} {answer}\n--- worker log:\n{}",
                launch.name,
                worker.log_tail(20)
            );
        }
        Ok(WorkerTask {
            worker,
            name: launch.name.clone(),
        })
    }

    pub fn pid(&self) -> u32 {
        self.worker.pid()
    }

    /// How the worker exited, or its task's failure (the trace without stack frames); `None`
    /// while both run (or the status cannot be read: a busy worker is not a failed one).
    pub fn failed(&self) -> Option<String> {
        if let Some(how) = self.worker.exited() {
            return Some(format!("the Kafka Connect worker exited: {how}"));
        }
        let path = format!("/connectors/{}/status", self.name);
        match connect::http(self.worker.port, "GET", &path, None) {
            Ok((200, body)) => connect::failed_trace(&body),
            _ => None,
        }
    }

    /// Whether the worker process still runs.
    pub fn alive(&self) -> bool {
        self.worker.exited().is_none()
    }

    /// Restarts the connector's failed task, as an operator does, and waits (up to 30 s) until
    /// the worker reports it RUNNING: its status says FAILED until the new task has started,
    /// which would read as a second failure.
    pub fn restart_task(&self) -> anyhow::Result<()> {
        let path = format!("/connectors/{}/tasks/0/restart", self.name);
        let (status, answer) =
            connect::http(self.worker.port, "POST", &path, None).map_err(|e| anyhow::anyhow!(e))?;
        if !(200..300).contains(&status) {
            bail!("POST {path}: {status} {answer}");
        }
        let status = format!("/connectors/{}/status", self.name);
        let running = || match connect::http(self.worker.port, "GET", &status, None) {
            Ok((200, body)) => task_state(&body).as_deref() == Some("RUNNING"),
            _ => false,
        };
        let until = std::time::Instant::now() + Duration::from_secs(30);
        // A task that fails again before it is seen running is judged as failed then.
        while !running() && std::time::Instant::now() < until && self.alive() {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.worker.log_tail(lines)
    }
}

/// The state of a connector's first task in a status answer (`RUNNING`, `FAILED`, ...).
fn task_state(status: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(status).ok()?;
    json["tasks"][0]["state"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_first_task_state_is_read_from_a_status_answer() {
        let status = r#"{"name":"x","connector":{"state":"RUNNING"},"tasks":[{"id":0,"state":"FAILED","trace":"boom"}]}"#;
        assert_eq!(super::task_state(status).as_deref(), Some("FAILED"));
        assert_eq!(super::task_state(r#"{"tasks":[]}"#), None);
    }
}
