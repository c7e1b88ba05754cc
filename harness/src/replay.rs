//! Runs one case end to end: setup SQL, topic, records, the sink, then reads back what QuestDB
//! and Kafka hold.

use crate::fixture::{Case, Family};
use crate::kafka;
use crate::readback::{self, Table};
use sink::config::SinkConfig;
use sink::error::SinkError;
use sink::run::report::SummaryFile;
use sink::write::pg::QuestDb;
use sink::{RunOptions, StopWhen};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the services are.
#[derive(Debug, Clone)]
pub struct Target {
    pub bootstrap: String,
    pub pg_host: String,
    pub pg_port: u16,
    /// QuestDB's HTTP port, for ILP over HTTP.
    pub http_port: u16,
    /// On services the user already has: the run's prefix, which every topic and table the
    /// case touches must carry ([`crate::staging`]); `None` on the harness's own services.
    pub prefix: Option<String>,
}

impl Target {
    /// `client.conf.string` for ILP over HTTP to this QuestDB.
    pub fn ilp_conf(&self) -> String {
        format!("http::addr={}:{};", self.pg_host, self.http_port)
    }

    /// A case's `client.conf.string` pointed at this QuestDB: its `addr` is this run's HTTP
    /// endpoint, its other keys stay (a fixture's `addr` is a placeholder, as the seed's
    /// `connection.url` is).
    pub fn ilp_conf_from(&self, conf: &str) -> String {
        let addr = format!("{}:{}", self.pg_host, self.http_port);
        let Some((schema, rest)) = conf.split_once("::") else {
            return self.ilp_conf();
        };
        let mut out = format!("{schema}::addr={addr};");
        for pair in rest.split(';').filter(|p| !p.trim().is_empty()) {
            if pair.split_once('=').map(|(k, _)| k.trim()) != Some("addr") {
                out.push_str(pair);
                out.push(';');
            }
        }
        out
    }
}

impl From<crate::services::Endpoints> for Target {
    fn from(e: crate::services::Endpoints) -> Target {
        Target {
            bootstrap: e.kafka_bootstrap,
            pg_host: e.pg_host,
            pg_port: e.pg_port,
            http_port: e.http_port,
            prefix: None,
        }
    }
}

/// How the sink runs.
#[derive(Debug, Clone)]
pub enum SinkMode {
    /// Through the library API, in this process.
    InProcess,
    /// The `sink` binary at this path, as a user runs it.
    Binary(PathBuf),
    /// A sink connector in a real Kafka Connect worker.
    Connect(std::sync::Arc<crate::connect::ConnectWorker>),
    /// The sink's container image, run as a deployment would (host networking, the properties
    /// file mounted, not root); it must store exactly what the binary stores.
    Image(crate::services::docker::SinkImage),
}

/// Everything a case produced, ready to render.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: String,
    pub topic: String,
    pub table: String,
    pub produced: usize,
    /// DDL the sink issued (the binary reports it in its `--summary` file).
    pub ddl: Option<Vec<String>>,
    pub coercions: Vec<String>,
    /// The sink's error, with the fixture line of the record it names.
    pub error: Option<String>,
    /// The consumer group's committed offset read back from Kafka.
    pub committed: Option<i64>,
    pub table_state: Option<Table>,
    /// The case's other tables (`@table` after the first), each with what it holds.
    pub other_tables: Vec<(String, Option<Table>)>,
    /// The dead letter queue's topic and records, when the case configures one.
    pub dead_letters: Option<(String, Vec<kafka::Record>)>,
    pub elapsed: Duration,
    /// Where the case's time went, phase by phase (not part of the snapshot).
    pub phases: Phases,
    /// Why the case does not apply to the sink under test (nothing ran).
    pub not_applicable: Option<String>,
}

/// Wall time per phase of a case, in order: what `harness conformance --timings` sums up.
#[derive(Debug, Clone, Default)]
pub struct Phases(pub Vec<(&'static str, Duration)>);

impl Phases {
    /// Records the time since the previous mark (or `since`) under `phase`.
    fn mark(&mut self, phase: &'static str, last: &mut Instant) {
        let now = Instant::now();
        self.0.push((phase, now - *last));
        *last = now;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{0}")]
    Fixture(String),
    #[error(transparent)]
    Kafka(#[from] kafka::KafkaError),
    #[error("QuestDB: {0}")]
    Db(#[from] sink::write::error::DbError),
    #[error("case {case}: the sink did not store or report every record within {waited:?}; last observed: committed offset {committed:?} of {produced} records produced. {hint}")]
    Timeout {
        case: String,
        waited: Duration,
        committed: Option<i64>,
        produced: usize,
        hint: String,
    },
    #[error("case {case}: the Connect worker: {message}")]
    Connect { case: String, message: String },
    #[error("case {case}: cannot run the sink binary {path}: {message}")]
    Binary {
        case: String,
        path: PathBuf,
        message: String,
    },
    #[error("case {case}: cannot run the sink image {image}: {message}")]
    Image {
        case: String,
        image: String,
        message: String,
    },
}

impl Outcome {
    /// A case the sink under test has no equivalent for: nothing was produced or run.
    pub fn not_applicable(case: &Case, reason: String) -> Outcome {
        Outcome {
            case: case.name.clone(),
            topic: case.topic.clone(),
            table: String::new(),
            produced: 0,
            ddl: None,
            coercions: Vec::new(),
            error: None,
            committed: None,
            table_state: None,
            other_tables: Vec::new(),
            dead_letters: None,
            elapsed: Duration::ZERO,
            phases: Phases::default(),
            not_applicable: Some(reason),
        }
    }
}

/// The seed document's connector file, verbatim: every case of the JDBC family starts from it.
pub fn seed_properties_path() -> PathBuf {
    Family::Jdbc.properties_path()
}

/// Writes connector properties as a `.properties` file (`key=value` lines), for a `sink` process.
pub fn write_properties(path: &Path, props: &BTreeMap<String, String>) -> std::io::Result<()> {
    let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(path, text)
}

/// The connector properties of a case: its family's file (the seed's, or e.g.
/// `fixtures/questdb-connector/connector.properties`) or its own folder's (a case outside
/// fixtures/), the case's `@set` lines, and the case's
/// topic (the seed subscribes `example-events` but writes `example-topic`; see README).
pub fn case_properties(case: &Case) -> Result<BTreeMap<String, String>, ReplayError> {
    let path = match &case.outside {
        Some(outside) => outside.properties.clone(),
        None => case.family().properties_path(),
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ReplayError::Fixture(format!("{}: {e}", path.display())))?;
    let mut props = sink::config::properties::parse(&text);
    // One consumer group per case, as two Connect connectors would have.
    let name = format!(
        "{}-{}",
        props.get("name").map(String::as_str).unwrap_or("kq"),
        case.topic
    );
    props.insert("name".into(), name);
    props.insert("topics".into(), case.topic.clone());
    for (k, v) in &case.properties {
        props.insert(k.clone(), v.clone());
    }
    Ok(props)
}

pub async fn run_case(
    case: &Case,
    target: &Target,
    mode: &SinkMode,
) -> Result<Outcome, ReplayError> {
    let started = Instant::now();
    let mut phases = Phases::default();
    let mut last = started;
    let mut props = case_properties(case)?;
    // A case asks for ILP with any `client.conf.string`; the address is this run's QuestDB.
    if let Some(conf) = props.get("client.conf.string") {
        let conf = target.ilp_conf_from(conf);
        props.insert("client.conf.string".into(), conf);
    }
    let connector = match mode {
        SinkMode::Connect(worker) => Some(
            match crate::connect::connector_config(
                worker.connector,
                case.family(),
                &props,
                &target.pg_host,
                target.pg_port,
            ) {
                Ok(c) => (worker.clone(), c),
                Err(reason) => return Ok(Outcome::not_applicable(case, reason)),
            },
        ),
        _ => None,
    };
    // Our sink's configuration: only when our sink runs, or when the family's names (group,
    // table, dead letters) come from it. A QuestDB-connector case may be about a configuration
    // the connector refuses: our sink refusing it too is the case's outcome, not a harness error.
    let config = match (case.family(), mode) {
        (
            Family::QuestDbConnector,
            SinkMode::Connect(_) | SinkMode::Binary(_) | SinkMode::Image(_),
        ) => None,
        _ => Some(SinkConfig::from_properties(&props).map(|mut config| {
            config.connection.host = target.pg_host.clone();
            config.connection.port = target.pg_port;
            config
        })),
    };
    let names = match (case.family(), &config) {
        (Family::Jdbc, Some(Ok(config))) => Names::of_sink(config, &case.topic),
        (Family::Jdbc, Some(Err(e))) => {
            return Err(ReplayError::Fixture(format!("{}: {e}", case.name)))
        }
        _ => Names::of_questdb_connector(&props, &case.topic, target),
    };

    if let Some(prefix) = &target.prefix {
        let foreign = [Some(&names.table), names.dlq_topic.as_ref()]
            .into_iter()
            .flatten()
            .find(|name| !name.to_lowercase().starts_with(prefix.as_str()));
        if let Some(name) = foreign {
            return Err(ReplayError::Fixture(format!(
                "{}: refused on shared services: {name} does not carry this run's prefix {prefix}",
                case.name
            )));
        }
    }
    let db = QuestDb::connect(&names.connection).await?;
    for sql in &case.setup_sql {
        db.execute(sql).await?;
    }
    phases.mark("setup", &mut last);
    kafka::create_topic(&target.bootstrap, &case.topic).await?;
    phases.mark("topic", &mut last);
    let produced_at = std::time::SystemTime::now();
    let records: Vec<kafka::Outgoing<'_>> = case
        .messages
        .iter()
        .map(|m| kafka::Outgoing {
            key: m.key.as_deref().map(str::as_bytes),
            value: m.value.as_deref().map(str::as_bytes),
            timestamp: m.timestamp,
            headers: &m.headers,
        })
        .collect();
    kafka::produce_records(&target.bootstrap, &case.topic, &records).await?;
    phases.mark("produce", &mut last);

    let timeout = crate::wait::case_timeout();
    let (ddl, coercions, error) = match mode {
        SinkMode::InProcess => match config.as_ref().expect("built for our sink") {
            Err(refused) => (
                Some(Vec::new()),
                Vec::new(),
                Some(format!("the sink refused its configuration: {refused}")),
            ),
            Ok(config) => {
                let mut options = RunOptions::new(target.bootstrap.clone());
                options.stop_when = StopWhen::CaughtUp;
                match tokio::time::timeout(timeout, sink::run(config, options)).await {
                    Err(_) => return Err(timeout_error(case, &names.group, target, timeout)),
                    Ok(Ok(summary)) => (Some(summary.ddl), summary.coercions, None),
                    Ok(Err(failed)) => {
                        let error = describe_error(case, &failed.error);
                        (
                            Some(failed.summary.ddl),
                            failed.summary.coercions,
                            Some(error),
                        )
                    }
                }
            }
        },
        SinkMode::Connect(_) => {
            let (worker, connector_config) = connector.expect("set for Connect");
            let (bootstrap, group, topic) = (
                target.bootstrap.clone(),
                names.group.clone(),
                case.topic.clone(),
            );
            let produced = case.messages.len() as i64;
            let name = names.connector.clone();
            let run = tokio::task::spawn_blocking(move || {
                worker.run(&name, &connector_config, timeout, || {
                    let committed = kafka::committed_offset(&bootstrap, &group, &topic, 0)
                        .map_err(|e| e.to_string())?;
                    Ok(committed.is_some_and(|c| c >= produced))
                })
            })
            .await
            .expect("connector task");
            match run {
                Ok(run) => (None, Vec::new(), run.error),
                Err(message) => {
                    return Err(ReplayError::Connect {
                        case: case.name.clone(),
                        message,
                    })
                }
            }
        }
        SinkMode::Binary(_) | SinkMode::Image(_) => {
            let summary = run_sink_process(case, &props, target, mode, timeout).await?;
            let error = summary
                .error
                .map(|e| with_fixture_line(case, e, summary.error_offset));
            (Some(summary.ddl), summary.coercions, error)
        }
    };

    phases.mark("sink", &mut last);
    let committed = kafka::committed_offset(&target.bootstrap, &names.group, &case.topic, 0)?;
    phases.mark("offsets", &mut last);
    let mut tables = Vec::new();
    let names_read: Vec<String> = match &case.tables[..] {
        [] => vec![names.table.clone()],
        listed => listed
            .iter()
            .map(|t| t.replace("${topic}", &case.topic))
            .collect(),
    };
    for table in names_read {
        let mut state = readback::read_table(&names.connection, &table).await?;
        if let Some(t) = state
            .as_mut()
            .filter(|_| names.family == Family::QuestDbConnector)
        {
            let window = (
                utc_text(produced_at - Duration::from_secs(1)),
                utc_text(std::time::SystemTime::now() + Duration::from_secs(1)),
            );
            t.mask_designated_within(&window, INGESTION_TIME);
        }
        tables.push((table, state));
    }
    let mut tables = tables.into_iter();
    let (table, table_state) = tables.next().expect("at least one table");
    let dead_letters = match &names.dlq_topic {
        Some(topic) => {
            let mut records = kafka::read_all(&target.bootstrap, topic)?;
            // A dead letter's timestamp is the original record's: shown only when the case
            // set them (`@record-timestamp`), since the producer's clock differs every run.
            if case.messages.iter().all(|m| m.timestamp.is_none()) {
                records.iter_mut().for_each(|r| r.timestamp = None);
            }
            // Error headers may quote QuestDB's answer, with its per-run request id.
            for (_, value) in records.iter_mut().flat_map(|r| r.headers.iter_mut()) {
                *value = crate::connect::redact_request_ids(value);
            }
            Some((topic.clone(), records))
        }
        None => None,
    };
    phases.mark("readback", &mut last);
    Ok(Outcome {
        case: case.name.clone(),
        topic: case.topic.clone(),
        table,
        produced: case.messages.len(),
        ddl,
        coercions,
        error,
        committed,
        table_state,
        other_tables: tables.collect(),
        dead_letters,
        elapsed: started.elapsed(),
        phases,
        not_applicable: None,
    })
}

/// What a snapshot shows instead of a designated timestamp taken from a clock during the case
/// (QuestDB's, for ILP rows without a timestamp; the producer's, for Kafka timestamps): it
/// differs on every run. Only for QuestDB's connector's family, whose connector leaves the
/// timestamp to the server unless told otherwise; the seed's family keeps today's snapshots.
pub const INGESTION_TIME: &str = "<ingestion time>";

/// A UTC time as QuestDB renders a TIMESTAMP over PG wire (`2023-11-14 22:13:20.000000`), so
/// that rendered timestamps compare with it as text.
pub fn utc_text(t: std::time::SystemTime) -> String {
    let since = t
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = since.as_secs() as i64;
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = sink::mapping::questdb_connector::timestamp::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:06}",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60,
        since.subsec_micros()
    )
}

/// Where a case's results are: the connector's name and consumer group, the table it writes,
/// its dead letter topic, and QuestDB's PG endpoint to read them back.
#[derive(Debug, Clone)]
struct Names {
    connector: String,
    group: String,
    table: String,
    dlq_topic: Option<String>,
    connection: sink::config::Connection,
    family: Family,
}

impl Names {
    /// As our sink's configuration says (the JDBC family: `table.name.format`, ...).
    fn of_sink(config: &SinkConfig, topic: &str) -> Names {
        Names {
            connector: config.name.clone(),
            group: config.group_id(),
            table: config.table_name(topic),
            dlq_topic: config.errors.dlq_topic.clone(),
            connection: config.connection.clone(),
            family: Family::Jdbc,
        }
    }

    /// As QuestDB's connector names them: the table is `table` (its `${topic}` and
    /// `${partition}` replaced; cases write to partition 0), else the topic; the group is
    /// Connect's `connect-<name>`.
    fn of_questdb_connector(
        props: &BTreeMap<String, String>,
        topic: &str,
        target: &Target,
    ) -> Names {
        let connector = props.get("name").cloned().unwrap_or_default();
        Names {
            group: format!("connect-{connector}"),
            connector,
            table: props.get("table").map_or(topic.to_owned(), |t| {
                t.replace("${topic}", topic).replace("${partition}", "0")
            }),
            dlq_topic: props.get("errors.deadletterqueue.topic.name").cloned(),
            connection: readback::connection(&target.pg_host, target.pg_port),
            family: Family::QuestDbConnector,
        }
    }
}

/// The error text, pointing at the fixture line of the record it names.
fn describe_error(case: &Case, error: &SinkError) -> String {
    let offset = match error {
        SinkError::Record(record) => Some(record.at.offset),
        _ => None,
    };
    with_fixture_line(case, error.to_string(), offset)
}

fn with_fixture_line(case: &Case, error: String, offset: Option<i64>) -> String {
    let error = crate::connect::redact_request_ids(&error);
    match offset.and_then(|o| case.line_of(o)) {
        Some(line) => format!("{error}\n(fixture {}:{line})", case.name),
        None => error,
    }
}

fn timeout_error(case: &Case, group: &str, target: &Target, waited: Duration) -> ReplayError {
    let committed = kafka::committed_offset(&target.bootstrap, group, &case.topic, 0)
        .ok()
        .flatten();
    ReplayError::Timeout {
        case: case.name.clone(),
        waited,
        committed,
        produced: case.messages.len(),
        hint: "Raise KQ_CASE_TIMEOUT_SECS if the machine is slow; otherwise the sink is stuck: run the case alone with RUST_LOG=debug".into(),
    }
}

/// Runs the case through the `sink` binary or its image (the same arguments either way) until
/// it is caught up, and reads its `--summary`.
async fn run_sink_process(
    case: &Case,
    props: &BTreeMap<String, String>,
    target: &Target,
    mode: &SinkMode,
    timeout: Duration,
) -> Result<SummaryFile, ReplayError> {
    let failed = |message: String| match mode {
        SinkMode::Image(image) => ReplayError::Image {
            case: case.name.clone(),
            image: image.image.clone(),
            message,
        },
        SinkMode::Binary(path) => ReplayError::Binary {
            case: case.name.clone(),
            path: path.clone(),
            message,
        },
        _ => unreachable!("only the binary and the image run as a process"),
    };
    let dir = tempfile::tempdir().map_err(|e| failed(e.to_string()))?;
    write_properties(&dir.path().join("connector.properties"), props)
        .map_err(|e| failed(e.to_string()))?;
    let (success, stderr, status) = match mode {
        SinkMode::Binary(path) => {
            let child = tokio::process::Command::new(path)
                .args(sink_args(dir.path(), target))
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| failed(format!("{e}; build it with `cargo build -p sink`")))?;
            let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
                Ok(output) => output.map_err(|e| failed(e.to_string()))?,
                Err(_) => return Err(failed(format!("no exit within {timeout:?}"))),
            };
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            (output.status.success(), stderr, output.status.to_string())
        }
        SinkMode::Image(image) => {
            let run = crate::services::docker::SinkRun {
                dir: dir.path().to_owned(),
                args: sink_args(Path::new(crate::services::docker::RUN_DIR), target),
                env: vec![
                    ("RUST_LOG".into(), "warn".into()),
                    // One metrics port per container would collide on the host network.
                    ("KQ_METRICS_LISTEN".into(), String::new()),
                ],
                timeout,
            };
            let image = image.clone();
            let exited = tokio::task::spawn_blocking(move || {
                let container = image.start(&run)?;
                let code = container.wait_exit(timeout)?;
                Ok::<_, crate::error::ContainerError>((code, container.log_tail(40)))
            })
            .await
            .expect("sink container")
            .map_err(|e| failed(e.to_string()))?;
            let (code, log) = exited;
            (code == 0, log, format!("exit code {code}"))
        }
        _ => unreachable!("only the binary and the image run as a process"),
    };
    let summary = std::fs::read_to_string(dir.path().join("summary.json"))
        .ok()
        .and_then(|t| SummaryFile::parse(&t));
    match summary {
        // The exit status and the summary must agree: an error exactly when the run failed.
        Some(s) if s.error.is_some() != success => Ok(s),
        _ => Err(failed(format!(
            "{status} without a matching summary; stderr:\n{stderr}"
        ))),
    }
}

/// The sink's arguments for a case whose files are in `dir` (as the sink sees that folder).
fn sink_args(dir: &Path, target: &Target) -> Vec<String> {
    vec![
        dir.join("connector.properties").display().to_string(),
        "--bootstrap-servers".into(),
        target.bootstrap.clone(),
        "--pg-host".into(),
        target.pg_host.clone(),
        "--pg-port".into(),
        target.pg_port.to_string(),
        "--until-caught-up".into(),
        "--summary".into(),
        dir.join("summary.json").display().to_string(),
    ]
}

/// The `sink` binary: `KQ_SINK_BIN`, else next to the running executable or one folder up
/// (test binaries live in `target/<profile>/deps`, the sink in `target/<profile>`).
///
/// A binary found next to this one must be newer than the sink's sources in this checkout:
/// `cargo test -p kq-conformance` or `cargo build -p harness` do not rebuild it, and a stale
/// one silently tests yesterday's sink. The error says what to build.
pub fn sink_binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("KQ_SINK_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let dir = exe.parent().unwrap_or(&exe);
    let binary = [Some(dir.join("sink")), dir.parent().map(|d| d.join("sink"))]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "no sink binary next to {}; build it with `cargo build -p sink` (with --release \
                 for a release harness) or set KQ_SINK_BIN",
                exe.display()
            )
        })?;
    // Its sources: what cargo rebuilds the binary for (not sink/tests, which would not).
    let sink = crate::fixture::workspace_root().join("sink");
    let newest = newest_file(&sink.join("src"))
        .into_iter()
        .chain(modified(&sink.join("Cargo.toml")).map(|t| (t, sink.join("Cargo.toml"))))
        .max_by_key(|(t, _)| *t);
    if let (Some(built), Some((newest, changed))) = (modified(&binary), newest) {
        if newest > built {
            return Err(format!(
                "{} is older than {}: build it again with `cargo build -p sink` (with --release \
                 for a release harness) or set KQ_SINK_BIN",
                binary.display(),
                changed.display()
            ));
        }
    }
    Ok(binary)
}

/// [`sink_binary`], building it first when it is missing or stale and this harness runs from
/// the workspace's `target/` (`cargo run -p harness` builds the harness, not the sink): runs
/// `cargo build -p sink -p harness` in the harness's own profile, its output on stderr.
pub fn sink_binary_or_build() -> Result<PathBuf, String> {
    let why = match sink_binary() {
        Ok(binary) => return Ok(binary),
        Err(why) => why,
    };
    let exe = std::env::current_exe().map_err(|e| format!("locating this executable: {e}"))?;
    let root = crate::fixture::workspace_root();
    if std::env::var_os("KQ_SINK_BIN").is_some() || !exe.starts_with(root.join("target")) {
        return Err(why);
    }
    let release = exe
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    // With the harness in the same build, cargo picks the features the harness's own build
    // picked, so no dependency is compiled again for the sink alone (measured: half the
    // dependency tree). And without the variables `cargo run` set for the harness: build
    // scripts that watch one of them (ring watches CARGO_MANIFEST_DIR) would otherwise be
    // stale for the next `cargo run -p harness`, which then rebuilt the harness (5 min).
    command
        .args(["build", "-p", "sink", "-p", "harness"])
        .current_dir(&root);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_")
            || matches!(
                &*key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
            )
        {
            command.env_remove(&*key);
        }
    }
    if release {
        command.arg("--release");
    }
    eprintln!(
        "{why}\nbuilding it: cargo build -p sink -p harness{}",
        if release { " --release" } else { "" }
    );
    let status = command
        .status()
        .map_err(|e| format!("{why}; running cargo failed: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{why}; `cargo build -p sink -p harness` failed ({status})"
        ));
    }
    sink_binary()
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The most recently modified file under `dir`, with its path.
fn newest_file(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Some(time) = modified(&path) {
                if newest.as_ref().is_none_or(|(t, _)| time > *t) {
                    newest = Some((time, path));
                }
            }
        }
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn a_client_conf_string_keeps_its_keys_and_gets_this_runs_address() {
        let target = Target {
            bootstrap: String::new(),
            pg_host: "127.0.0.1".into(),
            pg_port: 8812,
            http_port: 9123,
            prefix: None,
        };
        assert_eq!(
            target.ilp_conf_from("http::addr=(the run's QuestDB);"),
            "http::addr=127.0.0.1:9123;"
        );
        assert_eq!(
            target.ilp_conf_from("http::addr=localhost:9000;auto_flush_rows=10;retry_timeout=0"),
            "http::addr=127.0.0.1:9123;auto_flush_rows=10;retry_timeout=0;"
        );
        assert_eq!(
            target.ilp_conf_from("garbage"),
            "http::addr=127.0.0.1:9123;"
        );
    }

    #[test]
    fn utc_text_is_questdbs_rendering() {
        use std::time::{Duration, UNIX_EPOCH};
        let at = |micros: u64| super::utc_text(UNIX_EPOCH + Duration::from_micros(micros));
        assert_eq!(at(0), "1970-01-01 00:00:00.000000");
        assert_eq!(at(1_700_000_000_000_001), "2023-11-14 22:13:20.000001");
        assert_eq!(at(951_868_799_000_000), "2000-02-29 23:59:59.000000");
        assert_eq!(at(4_102_444_800_000_000), "2100-01-01 00:00:00.000000");
    }
}
