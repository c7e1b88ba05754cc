//! A real Kafka Connect standalone worker as a sink under test: the pipeline the seed describes,
//! with a sink connector from a plugin path (by default the Debezium JDBC sink, the JDBC sink on
//! Maven Central; Confluent's is not there).
//!
//! One worker per run ([`ConnectWorker::start`]: a guarded JVM, REST on a free loopback port);
//! each case adds its connector through the REST API, waits until the connector's consumer
//! group has committed every record or its task failed, and deletes it.
//! [`connector_config`] maps the fixture's JDBC-sink keys to the connector's, or says why the
//! case does not apply to it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::connect_standalone;
use crate::error::ServiceError;
use crate::fixture::Family;
use crate::process::ServiceProcess;
use crate::provision;
use crate::wait::wait_until;

/// A sink connector the harness knows how to configure from a fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// `io.debezium.connector.jdbc.JdbcSinkConnector` (Maven Central, pinned in the services pom).
    Debezium,
    /// Confluent's `io.confluent.connect.jdbc.JdbcSinkConnector`, from a plugin path the user
    /// gives: the fixture's properties are the seed's, so they pass as they are.
    ConfluentJdbc,
    /// QuestDB's own `io.questdb.kafka.QuestDBSinkConnector` (not on Maven Central), from a
    /// plugin path: it runs the cases of its family (`fixtures/questdb-connector/`), whose
    /// properties are its own, as they are.
    QuestDb,
}

impl Connector {
    pub fn name(self) -> &'static str {
        match self {
            Connector::Debezium => "debezium",
            Connector::ConfluentJdbc => "confluent-jdbc",
            Connector::QuestDb => "questdb-connector",
        }
    }

    /// The fixture family whose properties this connector reads.
    pub fn family(self) -> Family {
        match self {
            Connector::Debezium | Connector::ConfluentJdbc => Family::Jdbc,
            Connector::QuestDb => Family::QuestDbConnector,
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Connector::Debezium => "io.debezium.connector.jdbc.JdbcSinkConnector",
            Connector::ConfluentJdbc => "io.confluent.connect.jdbc.JdbcSinkConnector",
            Connector::QuestDb => "io.questdb.kafka.QuestDBSinkConnector",
        }
    }
}

/// Fixture keys the Debezium JDBC sink has no equivalent for: a case setting one is not
/// applicable, with this reason.
const DEBEZIUM_NOT_APPLICABLE: &[(&str, &str)] = &[
    (
        "sink.integer.overflow",
        "a setting of this sink only (refuse out-of-range integers)",
    ),
    (
        "fields.whitelist",
        "Debezium's field.include.list names fields per topic; not mapped",
    ),
    (
        "timestamp.field.name",
        "QuestDB-native tables are a setting of this sink only",
    ),
    (
        "timestamp.kafka.native",
        "QuestDB-native tables are a setting of this sink only",
    ),
    (
        "client.conf.string",
        "ILP is a write path of this sink only",
    ),
];

/// The connector properties for a case, or why the case does not apply to the connector.
/// `props` are the case's properties (its family's file plus the case's `@set` lines); a case
/// of another family than the connector's does not apply.
pub fn connector_config(
    connector: Connector,
    family: Family,
    props: &BTreeMap<String, String>,
    pg_host: &str,
    pg_port: u16,
) -> Result<BTreeMap<String, String>, String> {
    if family != connector.family() {
        return Err(format!(
            "a case written with {} properties; this connector reads {}",
            family.label(),
            connector.family().label()
        ));
    }
    let url = format!("jdbc:postgresql://{pg_host}:{pg_port}/qdb");
    let get = |k: &str| props.get(k).map(String::as_str);
    let mut c = BTreeMap::new();
    let mut set = |k: &str, v: &str| {
        c.insert(k.to_owned(), v.to_owned());
    };
    set("connector.class", connector.class());
    set("tasks.max", "1");
    set("topics", get("topics").unwrap_or_default());
    // Connect-level keys mean the same for every connector.
    for key in [
        "errors.tolerance",
        "errors.deadletterqueue.topic.name",
        "errors.deadletterqueue.context.headers.enable",
        "errors.log.enable",
    ] {
        if let Some(v) = get(key) {
            set(key, v);
        }
    }
    // The worker's consumer settings for this connector (Connect's override policy decides).
    for (k, v) in props.range("consumer.override.".to_owned()..) {
        if !k.starts_with("consumer.override.") {
            break;
        }
        set(k, v);
    }
    if get("errors.deadletterqueue.topic.name").is_some() {
        set("errors.deadletterqueue.topic.replication.factor", "1");
    }
    match connector {
        Connector::QuestDb => {
            // Its own properties file, as its users write it (the harness pointed
            // `client.conf.string` at this run's QuestDB).
            for (k, v) in props {
                if k != "name" && !k.starts_with("errors.") {
                    set(k, v);
                }
            }
        }
        Connector::ConfluentJdbc => {
            for (k, v) in props {
                if k != "name" && k != "connector.class" && !k.starts_with("errors.") {
                    set(k, v);
                }
            }
            set("connection.url", &url);
        }
        Connector::Debezium => {
            if let Some((key, why)) = DEBEZIUM_NOT_APPLICABLE
                .iter()
                .find(|(k, _)| props.contains_key(*k))
            {
                return Err(format!("`{key}`: {why}"));
            }
            set("connection.url", &url);
            set(
                "connection.username",
                get("connection.user").unwrap_or("admin"),
            );
            set(
                "connection.password",
                get("connection.password").unwrap_or("quest"),
            );
            set("insert.mode", get("insert.mode").unwrap_or("insert"));
            set("primary.key.mode", get("pk.mode").unwrap_or("none"));
            if let Some(fields) = get("pk.fields") {
                set("primary.key.fields", fields);
            }
            let evolve = get("auto.create") == Some("true") || get("auto.evolve") == Some("true");
            set("schema.evolution", if evolve { "basic" } else { "none" });
            set(
                "collection.name.format",
                get("table.name.format").unwrap_or("${topic}"),
            );
            // The JDBC sink quotes identifiers always; Debezium only when asked.
            set("quote.identifiers", "true");
            if let Some(n) = get("batch.size") {
                set("batch.size", n);
            }
            // The JDBC sink's retries of a failed write, in Debezium's words.
            if let Some(n) = get("max.retries") {
                set("flush.max.retries", n);
            }
            if let Some(ms) = get("retry.backoff.ms") {
                set("flush.retry.delay.ms", ms);
            }
            // Measured: with Hibernate's defaults the task dies querying pg_catalog.pg_settings,
            // which QuestDB does not have.
            set(
                "hibernate.dialect",
                "org.hibernate.dialect.PostgreSQLDialect",
            );
            set("hibernate.boot.allow_jdbc_metadata_access", "false");
        }
    }
    Ok(c)
}

/// The plugin folder name Confluent's archive unpacks to: `confluentinc-kafka-connect-jdbc-<version>`.
const CONFLUENT_FOLDER: &str = "confluentinc-kafka-connect-jdbc-";
/// The connector's jar in that folder's `lib/`: `kafka-connect-jdbc-<version>.jar`.
const CONFLUENT_JAR: &str = "kafka-connect-jdbc-";

/// The version of Confluent's JDBC sink on a plugin path: from the plugin folder's name
/// (`DIR/confluentinc-kafka-connect-jdbc-<version>/`, or `DIR` itself), else from the
/// connector jar's name in its `lib/`. Its snapshots are kept per version
/// ([`snapshot_set`]), so a plugin path holding two versions is refused.
pub fn confluent_jdbc_version(plugin_path: &Path) -> Result<String, String> {
    let mut found = std::collections::BTreeSet::new();
    let mut folders = vec![plugin_path.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(plugin_path) {
        folders.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for folder in folders {
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(v) = name
            .as_deref()
            .and_then(|n| n.strip_prefix(CONFLUENT_FOLDER))
        {
            found.insert(v.to_owned());
            continue;
        }
        let Ok(jars) = std::fs::read_dir(folder.join("lib")) else {
            continue;
        };
        for jar in jars.flatten() {
            let name = jar.file_name().to_string_lossy().into_owned();
            if let Some(v) = name
                .strip_prefix(CONFLUENT_JAR)
                .and_then(|n| n.strip_suffix(".jar"))
            {
                found.insert(v.to_owned());
            }
        }
    }
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(format!(
            "{}: no Confluent JDBC sink there (a folder `{CONFLUENT_FOLDER}<version>` whose \
             lib/ holds `{CONFLUENT_JAR}<version>.jar` and the PostgreSQL driver)",
            plugin_path.display()
        )),
        _ => Err(format!(
            "{}: several versions of Confluent's JDBC sink ({}); give a plugin path with one",
            plugin_path.display(),
            found.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The QuestDB connector's jar: `kafka-questdb-connector-<version>.jar`, in the plugin folder
/// its release archive unpacks to (`kafka-questdb-connector/`) or any other.
const QUESTDB_JAR: &str = "kafka-questdb-connector-";

/// The version of QuestDB's connector on a plugin path: from its jar's name in `DIR`, a folder
/// of `DIR`, or such a folder's `lib/`. Several versions there are refused.
pub fn questdb_connector_version(plugin_path: &Path) -> Result<String, String> {
    let mut folders = vec![plugin_path.to_path_buf(), plugin_path.join("lib")];
    if let Ok(entries) = std::fs::read_dir(plugin_path) {
        for dir in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            folders.push(dir.join("lib"));
            folders.push(dir);
        }
    }
    let mut found = std::collections::BTreeSet::new();
    for folder in folders {
        let Ok(jars) = std::fs::read_dir(&folder) else {
            continue;
        };
        for jar in jars.flatten() {
            let name = jar.file_name().to_string_lossy().into_owned();
            // `-sources`, `-tests` and the like are not the connector.
            if let Some(v) = name
                .strip_prefix(QUESTDB_JAR)
                .and_then(|n| n.strip_suffix(".jar"))
                .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()) && !v.contains("-"))
            {
                found.insert(v.to_owned());
            }
        }
    }
    match found.len() {
        1 => Ok(found.into_iter().next().expect("one")),
        0 => Err(format!(
            "{}: no QuestDB connector there (`{QUESTDB_JAR}<version>.jar` beside the QuestDB \
             client jar, in a folder of the plugin path)",
            plugin_path.display()
        )),
        _ => Err(format!(
            "{}: several versions of QuestDB's connector ({}); give a plugin path with one",
            plugin_path.display(),
            found.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Which connector a user's plugin path holds (Confluent's JDBC sink or QuestDB's connector),
/// and its version: one of them, not both.
pub fn plugin_on(plugin_path: &Path) -> Result<(Connector, String), String> {
    match (
        confluent_jdbc_version(plugin_path),
        questdb_connector_version(plugin_path),
    ) {
        (Ok(v), Err(_)) => Ok((Connector::ConfluentJdbc, v)),
        (Err(_), Ok(v)) => Ok((Connector::QuestDb, v)),
        (Ok(a), Ok(b)) => Err(format!(
            "{}: both Confluent's JDBC sink {a} and QuestDB's connector {b}; give a plugin path \
             with one",
            plugin_path.display()
        )),
        (Err(a), Err(b)) => Err(format!("{a}; {b}")),
    }
}

/// A connector's snapshot set for a version: `tests/snapshots/<name>-<version>/`.
pub fn snapshot_set(connector: Connector, version: &str) -> String {
    format!("{}-{version}", connector.name())
}

/// A running Connect standalone worker.
#[derive(Debug)]
pub struct ConnectWorker {
    pub port: u16,
    pub connector: Connector,
    process: ServiceProcess,
}

/// How a connector's run on a case ended.
#[derive(Debug, Clone)]
pub struct ConnectorRun {
    /// The task's failure, trimmed to its messages (no stack frames).
    pub error: Option<String>,
}

impl ConnectWorker {
    /// Starts a worker against `bootstrap` with the connector's plugin on its plugin path
    /// (`plugin_path`, else the one provisioned from the services pom), and waits until its REST
    /// API lists the connector's class.
    pub fn start(
        bootstrap: &str,
        connector: Connector,
        plugin_path: Option<PathBuf>,
        timeout: Duration,
    ) -> Result<ConnectWorker, ServiceError> {
        let plugin_path = match plugin_path {
            Some(path) => path,
            None => provision::connect_libs()?.plugin_path,
        };
        let (port, process) = connect_standalone::spawn_worker(
            bootstrap,
            &plugin_path,
            connector.class(),
            timeout,
            http,
        )?;
        Ok(ConnectWorker {
            port,
            connector,
            process,
        })
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// The worker JVM's process id (`harness bench` reads its CPU time and memory).
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// `Some(how it ended)` once the worker's JVM has exited.
    pub fn exited(&self) -> Option<String> {
        self.process.check_alive().err().map(|e| e.to_string())
    }

    /// Runs the connector `name` with `config` until `done()` says every record is stored or
    /// reported, or its task fails; then deletes it.
    pub fn run(
        &self,
        name: &str,
        config: &BTreeMap<String, String>,
        timeout: Duration,
        mut done: impl FnMut() -> Result<bool, String>,
    ) -> Result<ConnectorRun, String> {
        let body = serde_json::json!({ "name": name, "config": config }).to_string();
        let (status, answer) = http(self.port, "POST", "/connectors", Some(&body))?;
        if status != 201 {
            // A configuration the connector's validation refuses is the case's outcome (nothing
            // ran, as a sink that refuses its properties file at start-up), not a harness error.
            return match refused_config(status, &answer) {
                Some(message) => Ok(ConnectorRun {
                    error: Some(redact(&message)),
                }),
                None => Err(format!("POST /connectors {name}: {status} {answer}")),
            };
        }
        let status_path = format!("/connectors/{name}/status");
        let outcome = wait_until(&format!("connector {name}"), timeout, || {
            let (code, body) = http(self.port, "GET", &status_path, None)?;
            if code == 200 {
                if let Some(trace) = failed_trace(&body) {
                    return Ok(Some(trace));
                }
            }
            match done() {
                Ok(true) => Ok(None),
                Ok(false) => Err(format!("status {code}: {body}")),
                Err(e) => Err(e),
            }
        });
        let _ = http(self.port, "DELETE", &format!("/connectors/{name}"), None);
        match outcome {
            Ok(error) => Ok(ConnectorRun { error }),
            Err(timeout) => Err(format!(
                "{timeout}\n--- worker log tail ---\n{}",
                self.log_tail(30)
            )),
        }
    }
}

/// Why the worker refused to create a connector, when its validation did (400 or 500 with a
/// message): `the connector refused its configuration: ...`.
fn refused_config(status: u16, answer: &str) -> Option<String> {
    if !matches!(status, 400 | 500) {
        return None;
    }
    let json: serde_json::Value = serde_json::from_str(answer).ok()?;
    let message = json["message"].as_str()?;
    Some(format!(
        "the connector refused its configuration: {message}"
    ))
}

/// The trace of a FAILED connector or task in a status answer, without stack frames.
pub(crate) fn failed_trace(status: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_str(status).ok()?;
    let mut states = vec![&json["connector"]];
    if let Some(tasks) = json["tasks"].as_array() {
        states.extend(tasks);
    }
    let failed = states.into_iter().find(|s| s["state"] == "FAILED")?;
    let trace = failed["trace"].as_str().unwrap_or("(no trace)");
    let lines: Vec<&str> = trace
        .lines()
        .filter(|l| !l.trim_start().starts_with("at ") && !l.trim_start().starts_with("..."))
        .collect();
    Some(redact(&lines.join("\n")))
}

/// What in a connector's error text changes from run to run, replaced by a placeholder so that
/// a snapshot can hold it: the record timestamp Connect prints with a record's coordinates
/// (`timestamp=1796181179336`) and loopback ports (`127.0.0.1:41337`).
pub fn redact(text: &str) -> String {
    let text = replace_digits_after(text, "timestamp=", "<timestamp>");
    let text = replace_digits_after(&text, "127.0.0.1:", "<port>");
    let text = replace_digits_after(&text, "localhost:", "<port>");
    redact_request_ids(&text)
}

/// QuestDB's ILP-over-HTTP errors carry a request id that changes per run: the Java client
/// writes `[http-status=400, id: e172f0caf551-1,`, the Rust client QuestDB's JSON answer,
/// `"errorId":"2ff3276c6d39-1"`. Each becomes `<id>`.
pub fn redact_request_ids(text: &str) -> String {
    let text = replace_word_after(text, ", id: ", "<id>");
    replace_word_after(&text, "\"errorId\":\"", "<id>")
}

/// Each word (ASCII letters, digits and `-`) right after `marker`, replaced by `placeholder`.
fn replace_word_after(text: &str, marker: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (head, tail) = rest.split_at(at + marker.len());
        out.push_str(head);
        let word = tail.len()
            - tail
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-')
                .len();
        if word > 0 {
            out.push_str(placeholder);
        }
        rest = &tail[word..];
    }
    out.push_str(rest);
    out
}

/// Each run of ASCII digits right after `marker`, replaced by `placeholder`.
fn replace_digits_after(text: &str, marker: &str, placeholder: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (head, tail) = rest.split_at(at + marker.len());
        out.push_str(head);
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(placeholder);
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// One HTTP/1.1 request on loopback (the worker's REST API): status and body.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), String> {
    let context = |e: std::io::Error| format!("{method} {path} on 127.0.0.1:{port}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(context)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(context)?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(context)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(context)?;
    let text = String::from_utf8_lossy(&response);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {path}: not an HTTP answer: {head}"))?;
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> BTreeMap<String, String> {
        let text = std::fs::read_to_string(crate::replay::seed_properties_path()).unwrap();
        sink::config::properties::parse(&text)
    }

    #[test]
    fn maps_the_seed_to_debezium() {
        let c = connector_config(
            Connector::Debezium,
            Family::Jdbc,
            &seed(),
            "127.0.0.1",
            8812,
        )
        .unwrap();
        assert_eq!(
            c["connector.class"],
            "io.debezium.connector.jdbc.JdbcSinkConnector"
        );
        assert_eq!(c["connection.url"], "jdbc:postgresql://127.0.0.1:8812/qdb");
        assert_eq!(c["connection.username"], "admin");
        assert_eq!(c["primary.key.mode"], "none");
        assert_eq!(c["schema.evolution"], "basic");
        assert_eq!(c["collection.name.format"], "${topic}");
    }

    #[test]
    fn retries_and_consumer_overrides_reach_debezium() {
        let mut props = seed();
        props.insert("max.retries".into(), "40".into());
        props.insert("retry.backoff.ms".into(), "500".into());
        props.insert(
            "consumer.override.max.poll.interval.ms".into(),
            "6000".into(),
        );
        props.insert("consumer.poll".into(), "not an override".into());
        let c = connector_config(Connector::Debezium, Family::Jdbc, &props, "h", 1).unwrap();
        assert_eq!(c["flush.max.retries"], "40");
        assert_eq!(c["flush.retry.delay.ms"], "500");
        assert_eq!(c["consumer.override.max.poll.interval.ms"], "6000");
        assert!(!c.contains_key("consumer.poll"));
    }

    #[test]
    fn a_key_without_equivalent_makes_the_case_not_applicable() {
        let mut props = seed();
        props.insert("sink.integer.overflow".into(), "error".into());
        let why = connector_config(Connector::Debezium, Family::Jdbc, &props, "h", 1).unwrap_err();
        assert!(why.contains("sink.integer.overflow"), "{why}");
    }

    #[test]
    fn a_case_of_another_family_does_not_apply() {
        let why = connector_config(Connector::QuestDb, Family::Jdbc, &seed(), "h", 1).unwrap_err();
        assert!(why.contains("QuestDB's connector's"), "{why}");
        let why = connector_config(
            Connector::ConfluentJdbc,
            Family::QuestDbConnector,
            &seed(),
            "h",
            1,
        )
        .unwrap_err();
        assert!(why.contains("JDBC sink's"), "{why}");
    }

    #[test]
    fn the_questdb_connector_gets_its_own_properties_as_they_are() {
        let text = std::fs::read_to_string(Family::QuestDbConnector.properties_path()).unwrap();
        let mut props = sink::config::properties::parse(&text);
        props.insert("symbols".into(), "a,b".into());
        props.insert("errors.tolerance".into(), "all".into());
        props.insert("errors.deadletterqueue.topic.name".into(), "dlq".into());
        let c =
            connector_config(Connector::QuestDb, Family::QuestDbConnector, &props, "h", 1).unwrap();
        assert_eq!(
            c["connector.class"],
            "io.questdb.kafka.QuestDBSinkConnector"
        );
        assert_eq!(c["symbols"], "a,b");
        assert_eq!(c["client.conf.string"], props["client.conf.string"]);
        assert_eq!(c["value.converter"], props["value.converter"]);
        assert_eq!(c["errors.tolerance"], "all");
        assert_eq!(c["errors.deadletterqueue.topic.replication.factor"], "1");
        assert!(!c.contains_key("name"));
    }

    #[test]
    fn the_questdb_connector_is_found_by_its_jar() {
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("kafka-questdb-connector");
        std::fs::create_dir_all(&plugin).unwrap();
        assert!(plugin_on(dir.path())
            .unwrap_err()
            .contains("no QuestDB connector"));
        std::fs::write(plugin.join("questdb-client-1.0.1.jar"), "").unwrap();
        std::fs::write(plugin.join("kafka-questdb-connector-0.23.jar"), "").unwrap();
        std::fs::write(plugin.join("kafka-questdb-connector-0.23-tests.jar"), "").unwrap();
        assert_eq!(
            plugin_on(dir.path()).unwrap(),
            (Connector::QuestDb, "0.23".to_owned())
        );
        assert_eq!(questdb_connector_version(&plugin).unwrap(), "0.23");
        assert_eq!(
            snapshot_set(Connector::QuestDb, "0.23"),
            "questdb-connector-0.23"
        );
        let jdbc = dir
            .path()
            .join("confluentinc-kafka-connect-jdbc-10.7.6/lib");
        std::fs::create_dir_all(&jdbc).unwrap();
        assert!(plugin_on(dir.path()).unwrap_err().contains("both"));
    }

    #[test]
    fn failed_traces_lose_their_stack_frames() {
        let status = r#"{"name":"x","connector":{"state":"RUNNING"},"tasks":[{"id":0,"state":"FAILED","trace":"org.apache.kafka.connect.errors.ConnectException: boom\n\tat a.b(C.java:1)\nCaused by: x: y\n\t... 3 more"}]}"#;
        assert_eq!(
            failed_trace(status).unwrap(),
            "org.apache.kafka.connect.errors.ConnectException: boom\nCaused by: x: y"
        );
        assert_eq!(
            failed_trace(r#"{"connector":{"state":"RUNNING"},"tasks":[]}"#),
            None
        );
    }

    #[test]
    fn volatile_parts_of_errors_are_redacted() {
        assert_eq!(
            redact("record at (topic='t',partition=0,offset=1,timestamp=1796181179336) with"),
            "record at (topic='t',partition=0,offset=1,timestamp=<timestamp>) with"
        );
        assert_eq!(
            redact("Connection to 127.0.0.1:44341 refused; localhost:9 too; timestamp=none"),
            "Connection to 127.0.0.1:<port> refused; localhost:<port> too; timestamp=none"
        );
        assert_eq!(
            redact("cast error [http-status=400, id: e172f0caf551-12, code: invalid, line: 2]"),
            "cast error [http-status=400, id: <id>, code: invalid, line: 2]"
        );
        assert_eq!(
            redact_request_ids(r#"{"line":1,"errorId":"2ff3276c6d39-1"}"#),
            r#"{"line":1,"errorId":"<id>"}"#
        );
    }

    #[test]
    fn the_confluent_version_comes_from_the_plugin_folder_or_its_jar() {
        let dir = tempfile::tempdir().unwrap();
        let err = confluent_jdbc_version(dir.path()).unwrap_err();
        assert!(err.contains("no Confluent JDBC sink"), "{err}");
        let plugin = dir.path().join("confluentinc-kafka-connect-jdbc-10.7.6");
        std::fs::create_dir_all(plugin.join("lib")).unwrap();
        assert_eq!(confluent_jdbc_version(dir.path()).unwrap(), "10.7.6");
        assert_eq!(confluent_jdbc_version(&plugin).unwrap(), "10.7.6");
        assert_eq!(
            snapshot_set(Connector::ConfluentJdbc, "10.7.6"),
            "confluent-jdbc-10.7.6"
        );
        // A folder named otherwise: the jar's name says it.
        let other = dir.path().join("jdbc");
        std::fs::create_dir_all(other.join("lib")).unwrap();
        std::fs::write(other.join("lib/kafka-connect-jdbc-10.9.7.jar"), "").unwrap();
        std::fs::write(other.join("lib/postgresql-42.7.12.jar"), "").unwrap();
        let err = confluent_jdbc_version(dir.path()).unwrap_err();
        assert!(err.contains("10.7.6, 10.9.7"), "{err}");
        std::fs::remove_dir_all(&plugin).unwrap();
        assert_eq!(confluent_jdbc_version(dir.path()).unwrap(), "10.9.7");
    }

    #[test]
    fn a_refused_configuration_is_an_outcome() {
        let answer = r#"{"error_code":500,"message":"Cannot use 'a' with 'b'."}"#;
        assert_eq!(
            refused_config(500, answer).unwrap(),
            "the connector refused its configuration: Cannot use 'a' with 'b'."
        );
        assert_eq!(refused_config(409, answer), None);
        assert_eq!(refused_config(500, "not json"), None);
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
