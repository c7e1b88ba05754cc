//! The `sink` binary against secured services ([`crate::services::SecuredServices`]): Kafka
//! over SASL_SSL (SCRAM), QuestDB with a PG password and HTTP basic auth in front of ILP. One
//! run produces seed envelopes to a topic of its own (over the broker's PLAINTEXT listener),
//! runs the sink with the credentials a case gives until it catches up or stops, and collects
//! what a user sees (exit status, every line it printed, its summary) and what it did (rows in
//! the table, the group's committed offset). `tests/conformance/security.rs` asserts; this
//! module only observes.

use crate::kafka;
use crate::process::ServiceProcess;
use crate::replay;
use crate::services::SecuredServices;
use anyhow::Context;
use sink::config::Connection;
use sink::write::pg::QuestDb;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The credentials and trust a run gives the sink.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub kafka_user: String,
    pub kafka_password: String,
    pub sasl_mechanism: String,
    /// The PEM file of the CA the sink trusts.
    pub truststore: PathBuf,
    pub pg_user: String,
    pub pg_password: String,
    /// `Some((user, password))`: write over ILP (native table) with these; `None`: PG wire.
    pub ilp: Option<(String, String)>,
    /// One bad record after the good ones, `errors.tolerance=all` and a dead letter queue whose
    /// producer logs in with the same `producer.override.` keys.
    pub dead_letter: bool,
    /// QuestDB-connector mode (`fixtures/questdb-connector/connector.properties`) over ILP with
    /// `ilp`'s credentials; no PG wire setting at all.
    pub questdb_connector: bool,
}

impl Credentials {
    /// The right ones, over PG wire.
    pub fn right(services: &SecuredServices) -> Credentials {
        let s = &services.secrets;
        Credentials {
            kafka_user: s.kafka_user.clone(),
            kafka_password: s.kafka_password.clone(),
            sasl_mechanism: "SCRAM-SHA-256".into(),
            truststore: services.ca_file(),
            pg_user: s.pg_user.clone(),
            pg_password: s.pg_password.clone(),
            ilp: None,
            dead_letter: false,
            questdb_connector: false,
        }
    }
}

/// What a run saw.
#[derive(Debug)]
pub struct SecuredRun {
    pub topic: String,
    pub records: u64,
    /// `exit status 0`, `exit status 1`, ...
    pub exit: String,
    /// From start to exit.
    pub took: Duration,
    /// Everything the sink printed (stdout and stderr), and its summary file.
    pub log: String,
    pub summary: String,
    /// The `error:` lines of its output.
    pub error: String,
    /// Rows in the table (0 if there is none), and the group's committed offset.
    pub rows: u64,
    /// Records in the dead letter queue topic (with `dead_letter`).
    pub dead_letters: usize,
    pub committed: Option<i64>,
    /// The properties file the sink was given (it holds the secrets, as a user's would).
    pub properties: String,
}

/// Produces `records` seed envelopes to a new topic, runs the sink with `credentials` until
/// it catches up or stops (at most `timeout`), and reads back what it stored and committed.
pub async fn run(
    services: &SecuredServices,
    binary: &std::path::Path,
    case: &str,
    credentials: &Credentials,
    records: u64,
    timeout: Duration,
) -> anyhow::Result<SecuredRun> {
    let topic = format!("secured-{case}-{}", std::process::id());
    let plaintext = services.kafka.bootstrap();
    kafka::create_topic(&plaintext, &topic).await?;
    let (b, t) = (plaintext.clone(), topic.clone());
    let bad = credentials.dead_letter.then(|| b"not json".to_vec());
    tokio::task::spawn_blocking(move || {
        kafka::produce_many(&b, &t, (0..records).map(crate::bench::envelope).chain(bad))
    })
    .await??;

    let dir = tempfile::Builder::new().prefix("kq-sink-").tempdir()?;
    let properties = match credentials.questdb_connector {
        true => crate::fixture::root().join("questdb-connector/connector.properties"),
        false => replay::seed_properties_path(),
    };
    let text = std::fs::read_to_string(properties)?;
    let mut props = sink::config::properties::parse(&text);
    let c = credentials;
    let jaas = format!(
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"{}\" password=\"{}\";",
        c.kafka_user, c.kafka_password
    );
    let mut settings = vec![
        ("name", format!("{topic}-sink")),
        ("topics", topic.clone()),
        (
            "connection.url",
            format!(
                "jdbc:postgresql://127.0.0.1:{}/qdb",
                services.questdb.pg_port
            ),
        ),
        ("connection.user", c.pg_user.clone()),
        ("connection.password", c.pg_password.clone()),
        ("consumer.override.security.protocol", "SASL_SSL".into()),
        ("consumer.override.sasl.mechanism", c.sasl_mechanism.clone()),
        ("consumer.override.sasl.jaas.config", jaas),
        ("consumer.override.ssl.truststore.type", "PEM".into()),
        (
            "consumer.override.ssl.truststore.location",
            c.truststore.display().to_string(),
        ),
        // Long enough that a sink retrying a refused login would show in `took`.
        ("startup.timeout.ms", "120000".into()),
    ];
    if c.dead_letter {
        let producer: Vec<(&str, String)> = settings
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("consumer.override.").map(|k| (k, v.clone())))
            .collect();
        for (k, v) in producer {
            props.insert(format!("producer.override.{k}"), v);
        }
        settings.push(("errors.tolerance", "all".into()));
        settings.push(("errors.deadletterqueue.topic.name", format!("{topic}-dlq")));
        // One broker: Connect's default replication factor (3) cannot be created.
        settings.push((
            "errors.deadletterqueue.topic.replication.factor",
            "1".into(),
        ));
    }
    for (k, v) in settings {
        if c.questdb_connector && k.starts_with("connection.") {
            continue;
        }
        props.insert(k.into(), v);
    }
    if let Some((user, password)) = &c.ilp {
        props.insert("timestamp.kafka.native".into(), "true".into());
        props.insert(
            "client.conf.string".into(),
            format!(
                "http::addr=127.0.0.1:{};username={user};password={password};",
                services.questdb.http_port
            ),
        );
    }
    let file = dir.path().join("connector.properties");
    replay::write_properties(&file, &props)?;
    let properties = std::fs::read_to_string(&file)?;
    let summary_path = dir.path().join("summary.json");
    let binary = binary.to_path_buf();

    let mut cmd = Command::new(&binary);
    cmd.arg(&file)
        .args(["--bootstrap-servers", &services.secured_bootstrap()])
        .arg("--until-caught-up")
        .arg("--summary")
        .arg(&summary_path)
        // Every level of the sink's own log, and librdkafka's warnings: a secret must not
        // show at any of them.
        .env("RUST_LOG", "debug,rdkafka=debug");
    let started = Instant::now();
    let process = ServiceProcess::spawn("sink", cmd, dir)?;
    let exit = tokio::task::block_in_place(|| {
        crate::wait::wait_until(&format!("the sink of case {case} to exit"), timeout, || {
            match process.check_alive() {
                Ok(()) => Err("still running".to_string()),
                Err(crate::error::ServiceError::Exited { status, .. }) => Ok(status),
                Err(other) => Ok(other.to_string()),
            }
        })
    })
    .map_err(|e| anyhow::anyhow!("{e}; its log:\n{}", process.log_tail(30)))?;
    let took = started.elapsed();
    let log = std::fs::read_to_string(process.log_path()).unwrap_or_default();
    let summary = std::fs::read_to_string(&summary_path).unwrap_or_default();
    drop(process);
    let error = log
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect::<Vec<_>>()
        .join("\n");

    let connection = Connection {
        host: "127.0.0.1".into(),
        port: services.questdb.pg_port,
        database: "qdb".into(),
        user: services.secrets.pg_user.clone(),
        password: services.secrets.pg_password.clone(),
    };
    let db = QuestDb::connect(&connection)
        .await
        .context("reading back with the right PG credentials")?;
    let group = format!("connect-{topic}-sink");
    let committed =
        tokio::task::block_in_place(|| kafka::committed_offset(&plaintext, &group, &topic, 0))?;
    let sql = format!(
        "SELECT count() FROM {}",
        sink::mapping::jdbc::ddl::quote(&topic)
    );
    let count = || async {
        match db.client().query_opt(&sql, &[]).await {
            Ok(Some(row)) => row.get::<_, i64>(0).max(0) as u64,
            _ => 0,
        }
    };
    // A WAL table (ILP) shows its rows once QuestDB applied them: wait for what was committed.
    let expected = (committed.unwrap_or(0).max(0) as u64).min(records);
    let rows = crate::wait::wait_until_async(
        &format!("{expected} rows in table {topic}"),
        Duration::from_secs(15),
        || async {
            match count().await {
                n if n >= expected => Ok(n),
                n => Err(format!("{n} rows")),
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let dead_letters = match c.dead_letter {
        true => {
            let (b, dlq) = (plaintext.clone(), format!("{topic}-dlq"));
            tokio::task::spawn_blocking(move || kafka::read_all(&b, &dlq))
                .await??
                .len()
        }
        false => 0,
    };
    Ok(SecuredRun {
        dead_letters,
        topic,
        records,
        exit,
        took,
        log,
        summary,
        error,
        rows,
        committed,
        properties,
    })
}
