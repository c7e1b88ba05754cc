//! Debezium's Postgres source connector in a Kafka Connect standalone worker of the pinned Kafka
//! (the worker of [`crate::connect`], its plugin path the provisioned
//! `debezium-connector-postgres/`), one connector per case, and the two things a case waits
//! for: the connector streaming (its replication slot active) and its offsets past a marker.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::connect::http;
use crate::connect_standalone::spawn_worker;
use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::services::postgres::{cdc_libs, SUPERUSER};
use crate::wait::wait_until;

/// The connector's class.
pub const CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// The schema and table the runner writes its marker into, last, to know when Debezium has
/// passed everything a case ran (its topic is not sunk).
pub const MARKER_SCHEMA: &str = "kq";
pub const MARKER_TABLE: &str = "kq.marker";

/// A Connect worker holding Debezium's Postgres connector plugin.
#[derive(Debug)]
pub struct SourceWorker {
    pub port: u16,
    process: ServiceProcess,
}

/// The connector's settings for a case: PostgreSQL on 127.0.0.1:`pg_port`, database and topic
/// prefix `prefix`, its own slot and publication (pgoutput, PostgreSQL's own plugin), then the
/// case's `overrides`.
pub fn connector_config(
    prefix: &str,
    pg_port: u16,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut c: BTreeMap<String, String> = [
        ("connector.class", CLASS.to_owned()),
        ("tasks.max", "1".to_owned()),
        ("database.hostname", "127.0.0.1".to_owned()),
        ("database.port", pg_port.to_string()),
        ("database.user", SUPERUSER.to_owned()),
        // Trust authentication: the password is not checked, but the connector wants one.
        ("database.password", SUPERUSER.to_owned()),
        ("database.dbname", prefix.to_owned()),
        ("topic.prefix", prefix.to_owned()),
        ("plugin.name", "pgoutput".to_owned()),
        ("slot.name", format!("{prefix}_slot")),
        ("publication.name", format!("{prefix}_pub")),
        ("publication.autocreate.mode", "all_tables".to_owned()),
        // Dropped with the connector, so that a deleted case leaves no slot holding WAL.
        ("slot.drop.on.stop", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in overrides {
        c.insert(k.clone(), v.clone());
    }
    c
}

impl SourceWorker {
    /// Provisions the plugin if needed and starts a worker against `bootstrap`.
    pub fn start(bootstrap: &str, timeout: Duration) -> Result<SourceWorker, ServiceError> {
        let libs = cdc_libs()?;
        let (port, process) = spawn_worker(bootstrap, &libs.plugin_path, CLASS, timeout, http)?;
        Ok(SourceWorker { port, process })
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Adds the connector `name`.
    pub fn add(&self, name: &str, config: &BTreeMap<String, String>) -> Result<(), String> {
        let body = serde_json::json!({ "name": name, "config": config }).to_string();
        let (status, answer) = http(self.port, "POST", "/connectors", Some(&body))?;
        if status == 201 {
            Ok(())
        } else {
            Err(format!("POST /connectors {name}: {status} {answer}"))
        }
    }

    /// Deletes the connector `name` (its slot goes with it).
    pub fn delete(&self, name: &str) {
        let _ = http(self.port, "DELETE", &format!("/connectors/{name}"), None);
    }

    /// The connector's and its task's state (`Err`: the worker did not answer), or the trace of
    /// whichever of them failed (the inner `Err`).
    pub fn state(&self, name: &str) -> Result<Result<String, String>, String> {
        let (code, body) = http(
            self.port,
            "GET",
            &format!("/connectors/{name}/status"),
            None,
        )?;
        let json: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET /connectors/{name}/status: {code} {e}: {body}"))?;
        let task = &json["tasks"][0];
        if task["state"] == "FAILED" || json["connector"]["state"] == "FAILED" {
            let trace = task["trace"]
                .as_str()
                .or(json["connector"]["trace"].as_str())
                .unwrap_or("(no trace)");
            let lines: Vec<&str> = trace
                .lines()
                .filter(|l| !l.trim_start().starts_with("at "))
                .take(12)
                .collect();
            return Ok(Err(format!(
                "the source connector {name} failed:\n{}",
                lines.join("\n")
            )));
        }
        Ok(Ok(format!(
            "connector {}, task {}",
            json["connector"]["state"], task["state"]
        )))
    }

    /// The transaction id of the last change the connector's committed source offset covers
    /// (`txId` of Debezium's offset), from the worker's offsets endpoint (Kafka 3.5+).
    pub fn committed_tx(&self, name: &str) -> Result<Option<i64>, String> {
        let (code, body) = http(
            self.port,
            "GET",
            &format!("/connectors/{name}/offsets"),
            None,
        )?;
        if code != 200 {
            return Err(format!("GET /connectors/{name}/offsets: {code} {body}"));
        }
        let json: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET /connectors/{name}/offsets: {e}: {body}"))?;
        Ok(json["offsets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["offset"]["txId"].as_i64())
            .max())
    }

    /// Waits until the connector's task runs, or fails with its trace.
    pub fn wait_running(&self, name: &str, timeout: Duration) -> Result<(), String> {
        self.wait(name, "running", timeout, |state| {
            if state.contains("task \"RUNNING\"") {
                Ok(())
            } else {
                Err(state.to_owned())
            }
        })
    }

    /// Waits until the connector's committed offset covers transaction `tx` (the marker's): then
    /// every change committed before it is in Kafka (Connect commits a source offset only once
    /// the records before it are acknowledged).
    pub fn wait_past(&self, name: &str, tx: i64, timeout: Duration) -> Result<(), String> {
        self.wait(name, &format!("past tx {tx}"), timeout, |_| {
            match self.committed_tx(name)? {
                Some(at) if at >= tx => Ok(()),
                at => Err(format!("committed offset at tx {at:?}")),
            }
        })
    }

    /// Waits until `done` (given the connector's state) holds; stops at once if it failed.
    fn wait(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        let outcome = wait_until(
            &format!("source connector {name} {what}"),
            timeout,
            || match self.state(name)? {
                Err(failed) => Ok(Err(failed)),
                Ok(state) => done(&state).map(Ok),
            },
        );
        match outcome {
            Ok(result) => result,
            Err(timeout) => Err(format!(
                "{timeout}\n--- worker log tail ---\n{}",
                self.log_tail(30)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_streams_one_database_through_pgoutput_with_its_own_slot() {
        let mut overrides = BTreeMap::new();
        overrides.insert("time.precision.mode".to_owned(), "connect".to_owned());
        let c = connector_config("cdc_items", 5432, &overrides);
        assert_eq!(c["connector.class"], CLASS);
        assert_eq!(c["database.port"], "5432");
        assert_eq!(c["database.dbname"], "cdc_items");
        assert_eq!(c["topic.prefix"], "cdc_items");
        assert_eq!(c["plugin.name"], "pgoutput");
        assert_eq!(c["slot.name"], "cdc_items_slot");
        assert_eq!(c["time.precision.mode"], "connect");
    }
}
