//! A Connect standalone worker's process ([`spawn_worker`]), and what its command line needs
//! besides its worker properties.
//!
//! Kafka 2.x's `ConnectStandalone` refuses to start without at least one connector properties
//! file (3.x starts with none); the harness adds its connectors through the REST API. On 2.x the
//! worker gets a placeholder: Connect's own `MockSinkConnector` (in connect-runtime) on a topic
//! nothing writes to, deleted as soon as the REST API answers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::provision;
use crate::services::{data_dir, free_ports, wait_ready, write_file, write_log4j_properties};

/// The placeholder connector's name (and its topic's).
pub const PLACEHOLDER: &str = "kq-standalone-placeholder";

/// Whether a worker of this Kafka version needs a connector file to start: 2.x and older.
pub fn needs_connector_file(kafka_version: &str) -> bool {
    kafka_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|major| major < 3)
}

/// The connector files to pass after the worker properties: the placeholder's, written into
/// `dir`, when the version needs one; else none.
pub fn connector_files(kafka_version: &str, dir: &Path) -> Result<Vec<PathBuf>, ServiceError> {
    if !needs_connector_file(kafka_version) {
        return Ok(Vec::new());
    }
    let path = dir.join("placeholder-connector.properties");
    write_file(
        &path,
        &format!(
            "name={PLACEHOLDER}\n\
             connector.class=org.apache.kafka.connect.tools.MockSinkConnector\n\
             tasks.max=1\n\
             topics={PLACEHOLDER}\n"
        ),
    )?;
    Ok(vec![path])
}

/// One request to the worker's REST API on 127.0.0.1: port, method, path, body -> status, body
/// (`crate::connect::http`; passed in, as that module starts workers through this one).
pub type Rest = fn(u16, &str, &str, Option<&str>) -> Result<(u16, String), String>;

/// Starts a worker against `bootstrap` with `plugin_path` (a Connect `plugin.path`, several
/// folders separated by commas), and waits until its REST API (called through `rest`) lists
/// `class`: the REST port and the guarded process. JsonConverter with schemas for keys and
/// values, offsets in a file.
pub(crate) fn spawn_worker(
    bootstrap: &str,
    plugin_path: &Path,
    class: &str,
    timeout: Duration,
    rest: Rest,
) -> Result<(u16, ServiceProcess), ServiceError> {
    let libs = provision::connect_libs()?;
    let java = provision::java()?;
    let port = free_ports(1)?[0];
    let dir = data_dir("connect")?;
    let properties = dir.path().join("worker.properties");
    write_file(
        &properties,
        &format!(
            "bootstrap.servers={bootstrap}\n\
                 key.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 value.converter=org.apache.kafka.connect.json.JsonConverter\n\
                 key.converter.schemas.enable=true\n\
                 value.converter.schemas.enable=true\n\
                 offset.storage.file.filename={}\n\
                 offset.flush.interval.ms=200\n\
                 plugin.path={}\n\
                 listeners=http://127.0.0.1:{port}\n",
            dir.path().join("offsets").display(),
            plugin_path.display()
        ),
    )?;
    let log4j = write_log4j_properties(dir.path())?;
    let kafka = crate::versions::Versions::from_env()?.kafka;
    let placeholder = connector_files(&kafka, dir.path())?;
    let mut cmd = Command::new(java);
    cmd.arg("-Xmx512m")
        .arg("-Djava.awt.headless=true")
        .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
        .arg("-cp")
        .arg(&libs.classpath)
        .arg("org.apache.kafka.connect.cli.ConnectStandalone")
        .arg(&properties)
        .args(&placeholder)
        .current_dir(dir.path());
    let process = ServiceProcess::spawn("connect", cmd, dir)?;
    let startup = wait_ready(&process, port, timeout, || {
        let (status, body) = rest(port, "GET", "/connector-plugins", None)?;
        if status == 200 && body.contains(class) {
            Ok(())
        } else {
            Err(format!("GET /connector-plugins: {status} {body}"))
        }
    })?;
    if !placeholder.is_empty() {
        let path = format!("/connectors/{PLACEHOLDER}");
        let _ = rest(port, "DELETE", &path, None);
    }
    eprintln!(
        "Kafka Connect ready on 127.0.0.1:{port} in {:.1}s ({class})",
        startup.as_secs_f64()
    );
    Ok((port, process))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kafka_2_and_older_need_a_connector_file() {
        assert!(needs_connector_file("2.6.0"));
        assert!(needs_connector_file("1.1.1"));
        assert!(!needs_connector_file("3.9.2"));
        assert!(!needs_connector_file("4.1.1"));
        assert!(!needs_connector_file("not-a-version"));
    }

    #[test]
    fn the_placeholder_is_written_for_2x_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(connector_files("3.9.2", dir.path()).unwrap().is_empty());
        let files = connector_files("2.6.0", dir.path()).unwrap();
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("MockSinkConnector"), "{text}");
        assert!(text.contains(&format!("name={PLACEHOLDER}")), "{text}");
    }
}
