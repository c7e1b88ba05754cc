//! Fixture files: one file is one conformance case.
//!
//! A case is the lines one would paste into `kafka-console-producer`, plus directives:
//!
//! ```text
//! # a comment
//! @topic example-topic          the topic (and, by default, table); default: the file stem
//! @set auto.evolve=true         a connector property on top of the seed's connect-jdbc.properties
//! @sql CREATE TABLE "t" (a INT) a statement run on QuestDB before anything is produced
//! @tombstone                    a record with a null value
//! @raw not json                 a record whose value is the rest of the line, as is
//! @record-key k-1               the key of the next record (the rest of the line, as is); default: none
//! @record-timestamp 1700000000000  the Kafka timestamp (ms) of the next record; default: the producer's clock
//! @record-header trace=abc-1    a header of the next record (repeatable, in order); default: none
//! @table orders-${topic}        a table the case reads back (repeatable, `${topic}` replaced), for
//!                               cases that write several tables or one the configuration does not
//!                               name (a transform routes them); default: the configured table
//! {"schema":...,"payload":...}  any other non-empty line: a record value, as is
//! ```
//!
//! **Families.** A folder holding a `connector.properties` starts a family: every case under it
//! starts from that file instead of the seed's `connect-jdbc.properties` (`@set` still overrides
//! per case), see [`Family`]. `fixtures/questdb-connector/` is QuestDB's own connector's.
//!
//! **Fault cases** (`fixtures/faults/`, run by `tests/faults.rs` on services of their own, one
//! case at a time) generate their records and break something while the `sink` binary stores
//! them; their outcome is [`crate::scenario`]'s, not a table dump:
//!
//! ```text
//! @records 20000                 seed-shaped envelopes (`id64` = 0, 1, ...), instead of record lines
//! @partitions 2                  the topic's partitions (default 1); record i goes to i % partitions
//! @sinks 2                       sink processes of the one connector, `--task 0`, `--task 1`, ...
//! @key id64                      the column duplicates and missing rows are counted by (default id64)
//! @fault after=2000 kill sink    what breaks once records 0..1999 are stored. Faults run in file order.
//! @paths pg ilp connector        run the case once per write path (a variant each, see below)
//! @tolerance none all            ... and once per errors.tolerance (`all` with a dead letter topic)
//! ```
//!
//! **Phases.** A fault cannot be outrun by a fast sink: the runner produces the records up to
//! the fault's `after` only, waits until they are stored, strikes, and produces the next part
//! (up to the next fault's `after`, or the rest) while the fault holds (`stop ... for=`, but not
//! of Kafka or ZooKeeper: then once it is back) or after it struck (`kill`, `restart`). So `after`
//! values rise from fault to fault and stay below `@records`.
//!
//! **Variants.** `@paths` (`pg`: PG wire, the seed's properties; `ilp`: ILP over HTTP,
//! `client.conf.string` with the Kafka timestamp designated; `connector`: QuestDB-connector
//! mode, `fixtures/questdb-connector/connector.properties`) and `@tolerance` (`none`; `all`, with
//! the dead letter topic `<topic>-dlq`) expand one file into a case per combination, named
//! `<name>+<path>-<tolerance>.case` (snapshot `faults__<name>+<path>-<tolerance>.snap`), on a
//! topic and table of its own (`<topic>-<path>-<tolerance>`); the case's `@set` lines apply too.
//!
//! A fault is `ACTION TARGET [for=DURATION]`: TARGET is `sink` (task 0), `sink:N` (task N),
//! `questdb`, `kafka` or `zookeeper`; ACTION is `kill` (SIGKILL, started again at once, same
//! ports and data), `restart` (a clean stop, then started again) or `stop` with `for=5s` (a clean
//! stop, down that long, started again). `kill-sink` is short for `kill sink`. `pause` with
//! `for=5s` freezes it (SIGSTOP) that long with its connections open, then thaws it (SIGCONT).
//!
//! **Network faults** (through Toxiproxy, [`crate::services::toxiproxy`]) strike a proxy the
//! sink dials through, and hold `for=DURATION`: TARGET is `questdb-http` (ILP), `questdb-pg` or
//! `kafka` (every broker connection); ACTION is `latency=500ms` (answers delayed), `timeout` (a
//! black hole), `reset` (connections reset), `bandwidth=KB` (KB/s each way) or `down` (closed,
//! refused), e.g. `@fault after=2000 timeout questdb-pg for=20s`. The harness produces and reads
//! back directly, so the next part is produced while the fault holds. `@slow latency=100ms
//! questdb-pg` (or `bandwidth=KB`) holds such a fault for the whole case, other faults included.
//!
//! **Broker faults** (`@brokers 3`: a three-broker KRaft cluster, [`crate::services::cluster`])
//! are Kafka's system-test matrix: `clean-shutdown`, `hard-shutdown` (SIGTERM or SIGKILL, left
//! down until the case ends), `clean-bounce`, `hard-bounce` (started again at once) of the
//! `leader` (of the topic's partition 0, from the metadata) or the `controller` (the active one,
//! from `DescribeQuorum`), and `rolling-restart brokers` (each in turn, a clean restart, the
//! next once every replica is in sync), e.g. `@fault after=2000 hard-bounce leader`.
//!
//! `@fault at=start stop questdb for=5s` strikes before the sinks start instead of after N
//! rows: the service is stopped, the sinks are started while it is down, and it comes back
//! after `for`. It must be the case's first fault, a `stop` of a service.

mod cluster;
mod network;

use std::path::{Path, PathBuf};

/// One record to produce, with the fixture line it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub line: usize,
    /// `None` is a tombstone.
    pub value: Option<String>,
    /// The record's key (`@record-key`); `None` is a null key.
    pub key: Option<String>,
    /// The record's Kafka timestamp in ms (`@record-timestamp`); `None` lets the producer stamp it.
    pub timestamp: Option<i64>,
    /// The record's headers (`@record-header name=value`), in order.
    pub headers: Vec<(String, String)>,
}

/// Which connector's properties a case is written for: its folder's family, chosen once per
/// case by its path. A connector under test runs the cases of its own family only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// The seed's: Kafka Connect's JDBC sink, `fixtures/seed/connect-jdbc.properties`.
    Jdbc,
    /// QuestDB's own connector (`io.questdb.kafka.QuestDBSinkConnector`):
    /// `fixtures/questdb-connector/connector.properties`.
    QuestDbConnector,
}

impl Family {
    /// The fixtures folder of each family other than the seed's.
    const FOLDERS: [(&'static str, Family); 1] = [("questdb-connector", Family::QuestDbConnector)];

    /// The family of the case named `name` (its path under fixtures/).
    pub fn of(name: &str) -> Family {
        let top = name.split('/').next().unwrap_or_default();
        Family::FOLDERS
            .iter()
            .find(|(folder, _)| *folder == top)
            .map_or(Family::Jdbc, |(_, family)| *family)
    }

    /// The connector properties file every case of the family starts from.
    pub fn properties_path(self) -> PathBuf {
        match self {
            Family::Jdbc => root().join("seed/connect-jdbc.properties"),
            Family::QuestDbConnector => root().join("questdb-connector/connector.properties"),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Family::Jdbc => "the JDBC sink's (the seed's connect-jdbc.properties)",
            Family::QuestDbConnector => "QuestDB's connector's (fixtures/questdb-connector/)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub path: PathBuf,
    /// The path relative to the fixtures root, with `/` separators: the case's name.
    pub name: String,
    pub topic: String,
    pub properties: Vec<(String, String)>,
    pub setup_sql: Vec<String>,
    /// `@table`: the tables read back, in order (`${topic}` not yet replaced); empty: the one
    /// the configuration names.
    pub tables: Vec<String>,
    pub messages: Vec<Message>,
    /// A fault case (`@records`, `@fault`, ...): generated records and faults instead of lines.
    pub scenario: Option<Scenario>,
    /// Where a case from a folder outside fixtures/ takes its base properties and keeps its
    /// snapshots (`harness conformance DIR`, see [`crate::folder`]); `None` under fixtures/.
    pub outside: Option<Outside>,
}

/// A case's own folder's settings, for a case outside fixtures/.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The properties file the case starts from (instead of its family's).
    pub properties: PathBuf,
    /// Which connector's properties those are.
    pub family: Family,
    /// The folder of the case's accepted snapshots.
    pub snapshots: PathBuf,
}

/// What a fault case produces and breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    pub records: u64,
    pub partitions: i32,
    pub sinks: u32,
    pub key: String,
    pub faults: Vec<FaultStep>,
    /// `@paths`: the write paths the case runs on, a variant each (empty: its own properties).
    pub paths: Vec<WritePath>,
    /// `@tolerance`: the `errors.tolerance` values it runs with, a variant each.
    pub tolerances: Vec<Tolerance>,
    /// Which of the file's variants this case is, once expanded ([`Case::variants`]).
    pub variant: Option<Variant>,
    /// `@ci`: the variants `cargo test` runs by default (labels such as `ilp-all`); the rest
    /// run with `KQ_FAULTS=all` and in `harness conformance`. Empty: every variant; `off`:
    /// none (a long case the CI budget has no room for; `cargo test` still parses it).
    pub ci: Vec<String>,
    /// `@slow ACTION TARGET`: a network fault (latency, bandwidth) held for the whole case.
    pub slow: Option<(crate::services::ProxyName, crate::services::NetworkFault)>,
    /// `@brokers 3`: the case runs on a three-broker cluster (1: any set of services).
    pub brokers: usize,
    /// `@bad every=N`: every Nth record is not JSON (record `i` when `(i + 1) % N == 0`), a bad
    /// record the sink must dead-letter, among good ones (`@tolerance all` only).
    pub bad_every: Option<u64>,
}

/// A write path a fault case runs on (`@paths`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// PG wire inserts, the seed's properties.
    Pg,
    /// ILP over HTTP (`client.conf.string`), the Kafka timestamp designated.
    Ilp,
    /// QuestDB-connector mode (`connector.class=io.questdb.kafka.QuestDBSinkConnector`).
    Connector,
}

impl WritePath {
    pub fn label(self) -> &'static str {
        match self {
            WritePath::Pg => "pg",
            WritePath::Ilp => "ilp",
            WritePath::Connector => "connector",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            WritePath::Pg => "PG wire (the seed's properties)",
            WritePath::Ilp => "ILP over HTTP (client.conf.string, timestamp.kafka.native=true)",
            WritePath::Connector => {
                "QuestDB-connector mode (fixtures/questdb-connector/connector.properties)"
            }
        }
    }

    fn parse(word: &str) -> Option<WritePath> {
        [WritePath::Pg, WritePath::Ilp, WritePath::Connector]
            .into_iter()
            .find(|p| p.label() == word)
    }
}

/// `errors.tolerance` of a variant (`@tolerance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    None,
    /// With a dead letter topic, `<topic>-dlq`.
    All,
}

impl Tolerance {
    pub fn label(self) -> &'static str {
        match self {
            Tolerance::None => "none",
            Tolerance::All => "all",
        }
    }
}

/// One combination of `@paths` and `@tolerance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    pub path: Option<WritePath>,
    pub tolerance: Option<Tolerance>,
}

impl Variant {
    /// `ilp-all`, `pg`, `none`: what the case's name and topic get.
    pub fn label(&self) -> String {
        let words: Vec<&str> = [
            self.path.map(WritePath::label),
            self.tolerance.map(Tolerance::label),
        ]
        .into_iter()
        .flatten()
        .collect();
        words.join("-")
    }

    /// The properties the variant sets after the case's own `@set` lines (they win: the path
    /// and the tolerance are what the variant is about).
    fn properties(&self, topic: &str) -> Vec<(String, String)> {
        let mut props = Vec::new();
        let mut set = |k: &str, v: &str| props.push((k.to_string(), v.to_string()));
        if self.path == Some(WritePath::Ilp) {
            // The fault runner points `addr` at the run's QuestDB, as the case runner does.
            set("client.conf.string", "http::addr=localhost:9000;");
            set("timestamp.kafka.native", "true");
        }
        match self.tolerance {
            Some(Tolerance::None) => set("errors.tolerance", "none"),
            Some(Tolerance::All) => {
                set("errors.tolerance", "all");
                set("errors.deadletterqueue.topic.name", &dlq_topic(topic));
                set("errors.deadletterqueue.topic.replication.factor", "1");
            }
            None => {}
        }
        props
    }
}

/// The dead letter topic of a `@tolerance all` variant.
pub fn dlq_topic(topic: &str) -> String {
    format!("{topic}-dlq")
}

impl Scenario {
    /// Whether a fault strikes through Toxiproxy: the services must run with the proxies and
    /// the sinks dial through them.
    pub fn network_faults(&self) -> bool {
        self.slow.is_some()
            || self
                .faults
                .iter()
                .any(|f| matches!(f.target, FaultTarget::Proxy(_)))
    }

    /// Whether a fault strikes ZooKeeper, which Kafka in KRaft mode (4.x) runs without.
    pub fn breaks_zookeeper(&self) -> bool {
        self.faults
            .iter()
            .any(|f| f.target == FaultTarget::Service(crate::services::ServiceName::ZooKeeper))
    }
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            records: 0,
            partitions: 1,
            sinks: 1,
            key: "id64".into(),
            faults: Vec::new(),
            paths: Vec::new(),
            tolerances: Vec::new(),
            variant: None,
            ci: Vec::new(),
            slow: None,
            brokers: 1,
            bad_every: None,
        }
    }
}

/// One `@fault` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultStep {
    pub line: usize,
    /// Rows stored before the fault strikes.
    pub after: u64,
    /// `at=start`: the fault strikes before the sinks are started (`after` is 0).
    pub at_start: bool,
    pub target: FaultTarget,
    pub action: FaultAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// The `sink` process of this task.
    Sink {
        task: u32,
    },
    Service(crate::services::ServiceName),
    /// The case's table (`drop table`: an operator drops it over PG wire mid-stream).
    Table,
    /// The case's topic (`at=start create topic for=D`: created only after the sinks started).
    Topic,
    /// A Toxiproxy proxy in front of a service (network faults).
    Proxy(crate::services::ProxyName),
    /// A broker of a three-broker cluster, found when the fault strikes (`@brokers 3`).
    Broker(crate::services::BrokerPick),
}

pub use crate::services::FaultAction;

impl std::fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultTarget::Sink { task: 0 } => f.write_str("sink"),
            FaultTarget::Sink { task } => write!(f, "sink:{task}"),
            FaultTarget::Service(s) => write!(f, "{s}"),
            FaultTarget::Table => f.write_str("table"),
            FaultTarget::Topic => f.write_str("topic"),
            FaultTarget::Proxy(p) => write!(f, "{p} (proxy)"),
            FaultTarget::Broker(b) => write!(f, "{b}"),
        }
    }
}

/// `5s`, `500ms`, `1.5s`.
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => (text.strip_suffix('s')?, 1.0),
    };
    let n: f64 = number.parse().ok()?;
    (n.is_finite() && n >= 0.0).then(|| std::time::Duration::from_secs_f64(n * scale))
}

/// `after=N ACTION TARGET [for=D]` (or `after=N kill-sink`), or `at=start stop SERVICE for=D`.
fn parse_fault(line: usize, rest: &str) -> Result<FaultStep, String> {
    let usage = "expected `@fault after=N ACTION TARGET [for=DURATION]`, `@fault after=N drop table` or `@fault at=start stop SERVICE for=DURATION`, ACTION kill, restart, stop or pause, TARGET sink, sink:N, questdb, kafka or zookeeper; or a network fault ACTION latency=DURATION, timeout, reset, bandwidth=KB or down, TARGET questdb-http, questdb-pg or kafka, with for=DURATION";
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    if let Some(i) = words.iter().position(|w| *w == "kill-sink") {
        words.splice(i..=i, ["kill", "sink"]);
    }
    let mut after = None;
    let mut at_start = false;
    let mut down = None;
    let mut plain = Vec::new();
    for w in &words {
        if let Some(n) = w.strip_prefix("after=") {
            after = Some(
                n.parse::<u64>()
                    .map_err(|_| format!("`after={n}`: not a number of rows; {usage}"))?,
            );
        } else if let Some(at) = w.strip_prefix("at=") {
            if at != "start" {
                return Err(format!(
                    "`at={at}`: only `at=start` (before the sinks start); {usage}"
                ));
            }
            at_start = true;
        } else if let Some(d) = w.strip_prefix("for=") {
            down = Some(
                parse_duration(d)
                    .ok_or_else(|| format!("`for={d}`: not a duration like 5s or 500ms"))?,
            );
        } else {
            plain.push(*w);
        }
    }
    let after = match (after, at_start) {
        (Some(_), true) => {
            return Err(format!(
                "`at=start` and `after=N` exclude each other; {usage}"
            ))
        }
        (Some(n), false) => n,
        (None, true) => 0,
        (None, false) => return Err(format!("no `after=N`; {usage}")),
    };
    let [action, target] = plain[..] else {
        return Err(format!("`@fault {rest}`: {usage}"));
    };
    if let Some((target, action)) = cluster::step(action, target, down)? {
        if at_start {
            return Err(format!(
                "`at=start {action} {target}`: a broker fault strikes mid-stream"
            ));
        }
        return Ok(FaultStep {
            line,
            after,
            at_start,
            target,
            action,
        });
    }
    if let Some(fault) = network::parse_action(action)? {
        if at_start {
            return Err(format!("`at=start {action}`: before the sinks start, only `stop SERVICE for=DURATION` makes sense"));
        }
        let (target, action) = network::step(fault, action, target, down, usage)?;
        return Ok(FaultStep {
            line,
            after,
            at_start,
            target,
            action,
        });
    }
    let target = match target {
        "sink" => FaultTarget::Sink { task: 0 },
        "table" => FaultTarget::Table,
        "topic" => FaultTarget::Topic,
        t => match t.strip_prefix("sink:") {
            Some(n) => FaultTarget::Sink {
                task: n
                    .parse()
                    .map_err(|_| format!("`{t}`: expected sink:N with a task number"))?,
            },
            None => FaultTarget::Service(t.parse().map_err(|e| format!("{e}; {usage}"))?),
        },
    };
    let action = match (action, down) {
        ("drop", None) if target == FaultTarget::Table => FaultAction::Drop,
        ("create", Some(late)) if target == FaultTarget::Topic && at_start => {
            FaultAction::Create { late }
        }
        (_, _) if target == FaultTarget::Topic => {
            return Err(
                "a topic is only created late: `@fault at=start create topic for=DURATION`".into(),
            )
        }
        (http, Some(down)) if http.starts_with("http-") => {
            let status = http["http-".len()..]
                .parse::<u16>()
                .ok()
                .filter(|s| (500..600).contains(s))
                .ok_or_else(|| format!("`{http}`: expected http-5XX, a server error status"))?;
            if target != FaultTarget::Service(crate::services::ServiceName::QuestDb) {
                return Err(format!(
                    "`{http} {target}`: only QuestDB's HTTP port has a proxy"
                ));
            }
            FaultAction::Answer { status, down }
        }
        ("drop", _) => return Err(format!("`drop {target}`: only `drop table`, without for=")),
        (_, _) if target == FaultTarget::Table => {
            return Err(format!(
                "`{action} table`: a table can only be dropped (`drop table`)"
            ))
        }
        ("kill", None) => FaultAction::Kill,
        ("restart", None) => FaultAction::Restart,
        ("stop", Some(down)) => FaultAction::Stop { down },
        ("pause", Some(down)) => FaultAction::Pause { down },
        ("stop" | "pause", None) => {
            return Err(format!(
                "`{action} {target}` needs for=DURATION (how long it stays down)"
            ))
        }
        ("kill" | "restart", Some(_)) => {
            return Err(format!(
            "`{action}` starts {target} again at once; for a time down use `stop {target} for=...`"
        ))
        }
        _ => return Err(format!("unknown action `{action}`; {usage}")),
    };
    if at_start
        && !(matches!(target, FaultTarget::Service(_))
            && matches!(action, FaultAction::Stop { .. }))
        && target != FaultTarget::Topic
    {
        return Err(format!(
            "`at=start {action} {target}`: before the sinks start, only `stop SERVICE for=DURATION` makes sense"
        ));
    }
    Ok(FaultStep {
        line,
        after,
        at_start,
        target,
        action,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read fixture {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no fixture matched {pattern}: an empty fixture set is a failure, not a pass")]
    Empty { pattern: String },
}

/// The extension of case files.
pub const EXTENSION: &str = "case";

/// The repository's root folder.
pub fn workspace_root() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).to_path_buf()
}

/// The repository's fixtures folder.
pub fn root() -> PathBuf {
    workspace_root().join("fixtures")
}

impl Case {
    /// Which connector's properties the case is written for: its folder's, or QuestDB's
    /// connector's for a fault case's `connector` variant.
    pub fn family(&self) -> Family {
        let variant = self.scenario.as_ref().and_then(|s| s.variant);
        match (variant.and_then(|v| v.path), &self.outside) {
            (Some(WritePath::Connector), _) => Family::QuestDbConnector,
            (_, Some(outside)) => outside.family,
            _ => Family::of(&self.name),
        }
    }

    /// The cases this file stands for: itself, or one per combination of its `@paths` and
    /// `@tolerance`, each named, on a topic and with the properties of its variant.
    pub fn variants(&self) -> Vec<Case> {
        let Some(scenario) = &self.scenario else {
            return vec![self.clone()];
        };
        if scenario.variant.is_some()
            || (scenario.paths.is_empty() && scenario.tolerances.is_empty())
        {
            return vec![self.clone()];
        }
        let paths: Vec<Option<WritePath>> = match &scenario.paths[..] {
            [] => vec![None],
            p => p.iter().copied().map(Some).collect(),
        };
        let tolerances: Vec<Option<Tolerance>> = match &scenario.tolerances[..] {
            [] => vec![None],
            t => t.iter().copied().map(Some).collect(),
        };
        let stem = self
            .name
            .strip_suffix(&format!(".{EXTENSION}"))
            .unwrap_or(&self.name);
        let mut out = Vec::new();
        for path in &paths {
            for tolerance in &tolerances {
                let variant = Variant {
                    path: *path,
                    tolerance: *tolerance,
                };
                let label = variant.label();
                let mut case = self.clone();
                case.name = format!("{stem}+{label}.{EXTENSION}");
                case.topic = format!("{}-{label}", self.topic);
                case.properties.extend(variant.properties(&case.topic));
                let s = case.scenario.as_mut().expect("a fault case");
                s.variant = Some(variant);
                out.push(case);
            }
        }
        out
    }

    /// The variants `cargo test` runs by default: those `@ci` names (none for `@ci off`), else
    /// all of them.
    /// `KQ_FAULTS=all` runs every variant.
    pub fn ci_variants(&self) -> Vec<Case> {
        let all = self.variants();
        let wanted = match &self.scenario {
            Some(s) if !s.ci.is_empty() => &s.ci,
            _ => return all,
        };
        if std::env::var("KQ_FAULTS").is_ok_and(|v| v == "all") {
            return all;
        }
        all.into_iter()
            .filter(|c| {
                let label = c
                    .scenario
                    .as_ref()
                    .and_then(|s| s.variant)
                    .map(|v| v.label());
                label.is_some_and(|l| wanted.contains(&l))
            })
            .collect()
    }

    pub fn load(path: &Path, root: &Path) -> Result<Case, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.into(),
            source,
        })?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        Case::parse(path, &name, &text)
    }

    pub fn parse(path: &Path, name: &str, text: &str) -> Result<Case, FixtureError> {
        let syntax = |line: usize, message: String| FixtureError::Syntax {
            path: path.into(),
            line,
            message,
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case = Case {
            path: path.into(),
            name: name.into(),
            topic: stem,
            properties: Vec::new(),
            setup_sql: Vec::new(),
            tables: Vec::new(),
            messages: Vec::new(),
            scenario: None,
            outside: None,
        };
        // `@record-key` / `@record-timestamp`: for the next record line, with their own line.
        let mut key: Option<(usize, String)> = None;
        let mut timestamp: Option<(usize, i64)> = None;
        let mut headers: Vec<(usize, (String, String))> = Vec::new();
        let record = |line: usize,
                      value: Option<String>,
                      key: &mut Option<(usize, String)>,
                      timestamp: &mut Option<(usize, i64)>,
                      headers: &mut Vec<(usize, (String, String))>| Message {
            line,
            value,
            key: key.take().map(|(_, k)| k),
            timestamp: timestamp.take().map(|(_, t)| t),
            headers: std::mem::take(headers)
                .into_iter()
                .map(|(_, h)| h)
                .collect(),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let Some(directive) = raw.strip_prefix('@') else {
                case.messages.push(record(
                    line,
                    Some(raw.to_string()),
                    &mut key,
                    &mut timestamp,
                    &mut headers,
                ));
                continue;
            };
            let (word, rest) = directive.split_once(' ').unwrap_or((directive, ""));
            match word {
                "topic" if !rest.trim().is_empty() => case.topic = rest.trim().to_string(),
                "set" => {
                    let (k, v) = rest
                        .split_once('=')
                        .ok_or_else(|| syntax(line, format!("`@set {rest}`: expected @set key=value")))?;
                    case.properties.push((k.trim().to_string(), v.trim().to_string()));
                }
                "sql" if !rest.trim().is_empty() => case.setup_sql.push(rest.trim().to_string()),
                "table" if !rest.trim().is_empty() => case.tables.push(rest.trim().to_string()),
                "tombstone" => case.messages.push(record(line, None, &mut key, &mut timestamp, &mut headers)),
                "raw" => case.messages.push(record(line, Some(rest.to_string()), &mut key, &mut timestamp, &mut headers)),
                "record-header" => {
                    let (k, v) = rest
                        .split_once('=')
                        .ok_or_else(|| syntax(line, format!("`@record-header {rest}`: expected @record-header name=value")))?;
                    headers.push((line, (k.trim().to_string(), v.to_string())));
                }
                "record-key" => {
                    if let Some((first, _)) = key.replace((line, rest.to_string())) {
                        return Err(syntax(line, format!("a second `@record-key` before a record line (the first is on line {first})")));
                    }
                }
                "record-timestamp" => {
                    let ms = rest.trim().parse::<i64>().map_err(|_| syntax(line, format!("`@record-timestamp {rest}`: expected milliseconds since the epoch")))?;
                    if let Some((first, _)) = timestamp.replace((line, ms)) {
                        return Err(syntax(line, format!("a second `@record-timestamp` before a record line (the first is on line {first})")));
                    }
                }
                "ci" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    if words.is_empty() {
                        return Err(syntax(line, "`@ci` names at least one variant (e.g. `ilp-all`)".into()));
                    }
                    scenario.ci.extend(words.into_iter().map(String::from));
                }
                "paths" | "tolerance" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    let words: Vec<&str> = rest.split_whitespace().collect();
                    if words.is_empty() {
                        return Err(syntax(line, format!("`@{word}` names at least one value")));
                    }
                    for w in words {
                        if word == "paths" {
                            let p = WritePath::parse(w).ok_or_else(|| syntax(line, format!("`{w}`: expected pg, ilp or connector")))?;
                            if !scenario.paths.contains(&p) {
                                scenario.paths.push(p);
                            }
                        } else {
                            let t = match w {
                                "none" => Tolerance::None,
                                "all" => Tolerance::All,
                                _ => return Err(syntax(line, format!("`{w}`: expected none or all"))),
                            };
                            if !scenario.tolerances.contains(&t) {
                                scenario.tolerances.push(t);
                            }
                        }
                    }
                }
                "slow" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    scenario.slow = Some(network::slow(rest).map_err(|m| syntax(line, m))?);
                }
                "bad" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    let every = rest.trim().strip_prefix("every=").and_then(|n| n.parse::<u64>().ok()).filter(|n| *n > 1);
                    scenario.bad_every = Some(every.ok_or_else(|| syntax(line, format!("`@bad {rest}`: expected `@bad every=N`, N > 1 (every Nth record is bad)")))?);
                }
                "brokers" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    scenario.brokers = crate::services::parse_brokers(rest).map_err(|m| syntax(line, format!("`@brokers {rest}`: {m}")))?;
                }
                "records" | "partitions" | "sinks" | "key" | "fault" => {
                    let scenario = case.scenario.get_or_insert_with(Scenario::default);
                    let rest = rest.trim();
                    let number = |what: &str| {
                        rest.parse::<u64>()
                            .ok()
                            .filter(|n| *n > 0)
                            .ok_or_else(|| syntax(line, format!("`@{word} {rest}`: expected a positive number of {what}")))
                    };
                    match word {
                        "records" => scenario.records = number("records")?,
                        "partitions" => scenario.partitions = number("partitions")?.min(1024) as i32,
                        "sinks" => scenario.sinks = number("sink processes")?.min(64) as u32,
                        "key" if !rest.is_empty() => scenario.key = rest.to_string(),
                        "key" => return Err(syntax(line, "`@key` names a column".into())),
                        _ => scenario.faults.push(parse_fault(line, rest).map_err(|m| syntax(line, m))?),
                    }
                }
                _ => return Err(syntax(line, format!("unknown directive `@{word}`; expected @topic, @set, @sql, @table, @tombstone, @raw, @record-key, @record-timestamp, @record-header, or for fault cases @records, @partitions, @sinks, @key, @fault, @slow, @paths, @tolerance, @ci, @brokers, @bad"))),
            }
        }
        if let Some(line) = key
            .map(|(l, _)| l)
            .or(timestamp.map(|(l, _)| l))
            .or(headers.first().map(|(l, _)| *l))
        {
            return Err(syntax(line, "`@record-key`, `@record-timestamp` and `@record-header` apply to the next record line, and none follows".into()));
        }
        if let Some(scenario) = &case.scenario {
            if scenario.records == 0 {
                return Err(syntax(0, "a fault case (@fault, @sinks, @partitions, @key) generates its records: add `@records N`".into()));
            }
            if let Some(m) = case.messages.first() {
                return Err(syntax(
                    m.line,
                    "a fault case generates its records (@records): it has no record lines".into(),
                ));
            }
            if scenario.bad_every.is_some()
                && (scenario.tolerances != [Tolerance::All] || scenario.key != "id64")
            {
                return Err(syntax(
                    0,
                    "`@bad` needs `@tolerance all` alone (the sink stops at a bad record under none) and the key id64".into(),
                ));
            }
            if let Some(f) = scenario
                .faults
                .iter()
                .find(|f| matches!(f.target, FaultTarget::Broker(_)))
            {
                if scenario.brokers < crate::services::CLUSTER_BROKERS {
                    return Err(syntax(
                        f.line,
                        format!(
                            "`{}` strikes a broker of a cluster: add `@brokers 3`",
                            f.target
                        ),
                    ));
                }
            }
            if let Some(f) = scenario.faults.iter().skip(1).find(|f| f.at_start) {
                return Err(syntax(
                    f.line,
                    "`at=start` strikes before the sinks start: it must be the first @fault".into(),
                ));
            }
            // Phases: each fault's records are produced before it strikes, the next part after.
            let mut before = 0;
            for f in scenario.faults.iter().filter(|f| !f.at_start) {
                if f.after == 0 || f.after <= before || f.after >= scenario.records {
                    return Err(syntax(
                        f.line,
                        format!(
                            "`after={}`: a fault strikes once records 0..after-1 are stored and before the rest is produced, so `after` is above 0, above the previous fault's ({before}) and below @records ({})",
                            f.after, scenario.records
                        ),
                    ));
                }
                before = f.after;
            }
            if !scenario.tolerances.is_empty() {
                if let Some((k, _)) = case
                    .properties
                    .iter()
                    .find(|(k, _)| k == "errors.tolerance")
                {
                    return Err(syntax(0, format!("`@set {k}` and `@tolerance` exclude each other: @tolerance sets it per variant")));
                }
            }
            if !scenario.ci.is_empty() && scenario.ci != ["off"] {
                let labels: Vec<String> = case
                    .variants()
                    .iter()
                    .filter_map(|c| c.scenario.as_ref()?.variant.map(|v| v.label()))
                    .collect();
                if let Some(unknown) = scenario.ci.iter().find(|l| !labels.contains(l)) {
                    return Err(syntax(
                        0,
                        format!(
                            "`@ci {unknown}`: not a variant of this case; its variants are {}",
                            if labels.is_empty() {
                                "none (no @paths or @tolerance)".to_string()
                            } else {
                                labels.join(", ")
                            }
                        ),
                    ));
                }
            }
            for f in &scenario.faults {
                if let FaultTarget::Sink { task } = f.target {
                    if task >= scenario.sinks {
                        return Err(syntax(
                            f.line,
                            format!(
                                "`sink:{task}`: the case runs {} sink process(es), tasks 0..{}",
                                scenario.sinks,
                                scenario.sinks - 1
                            ),
                        ));
                    }
                }
            }
            return Ok(case);
        }
        if case.messages.is_empty() {
            return Err(syntax(
                0,
                "no messages: a case produces at least one record".into(),
            ));
        }
        Ok(case)
    }

    /// The fixture line of the message at a Kafka offset (cases go to one partition, in order).
    pub fn line_of(&self, offset: i64) -> Option<usize> {
        usize::try_from(offset)
            .ok()
            .and_then(|o| self.messages.get(o))
            .map(|m| m.line)
    }
}

/// Every case under `dir` (recursively), sorted by name; an empty result is an error.
pub fn discover(dir: &Path) -> Result<Vec<Case>, FixtureError> {
    let paths = case_files(dir)?;
    let root = root();
    let root = root.canonicalize().unwrap_or(root);
    let mut cases = Vec::new();
    for p in &paths {
        cases.extend(Case::load(&p.canonicalize().unwrap_or(p.clone()), &root)?.variants());
    }
    Ok(cases)
}

/// The `.case` files under `dir` (or `dir` itself, a file), sorted; none is an error.
pub fn case_files(dir: &Path) -> Result<Vec<PathBuf>, FixtureError> {
    let mut paths = Vec::new();
    collect(dir, &mut paths).map_err(|source| FixtureError::Read {
        path: dir.into(),
        source,
    })?;
    paths.sort();
    if paths.is_empty() {
        return Err(FixtureError::Empty {
            pattern: format!("{}/**/*.{EXTENSION}", dir.display()),
        });
    }
    Ok(paths)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == EXTENSION) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Case, FixtureError> {
        Case::parse(
            Path::new("fixtures/area/my-case.case"),
            "area/my-case.case",
            text,
        )
    }

    #[test]
    fn parses_directives_and_messages_with_their_lines() {
        let case = parse("# comment\n@topic t-1\n@set auto.evolve=true\n@sql CREATE TABLE x (a INT)\n\n{\"a\":1}\n@tombstone\n@raw not json\n").unwrap();
        assert_eq!(case.topic, "t-1");
        assert_eq!(
            case.properties,
            vec![("auto.evolve".to_string(), "true".to_string())]
        );
        assert_eq!(case.setup_sql, vec!["CREATE TABLE x (a INT)".to_string()]);
        assert_eq!(
            case.messages,
            vec![
                Message {
                    line: 6,
                    value: Some("{\"a\":1}".into()),
                    ..Message::default()
                },
                Message {
                    line: 7,
                    value: None,
                    ..Message::default()
                },
                Message {
                    line: 8,
                    value: Some("not json".into()),
                    ..Message::default()
                },
            ]
        );
        assert_eq!(case.line_of(1), Some(7));
        assert_eq!(case.line_of(3), None);
    }

    #[test]
    fn table_lines_name_the_tables_read_back_in_order() {
        let case = parse("@table orders\n@table ${topic}-rest\n{}\n").unwrap();
        assert_eq!(case.tables, ["orders", "${topic}-rest"]);
        assert!(parse("@table\n").is_err(), "a table needs a name");
        assert!(parse("{}\n").unwrap().tables.is_empty());
    }

    #[test]
    fn record_keys_and_timestamps_belong_to_the_next_record_line() {
        let case = parse("@record-key k-1\n@record-timestamp 1700000000000\n{\"a\":1}\n{\"a\":2}\n@record-key  {\"id\": 7} \n@tombstone\n@record-key\n@raw x\n").unwrap();
        let got: Vec<(usize, Option<&str>, Option<i64>)> = case
            .messages
            .iter()
            .map(|m| (m.line, m.key.as_deref(), m.timestamp))
            .collect();
        // The key is the rest of the line as is (spaces too); `@record-key` alone: an empty key.
        assert_eq!(
            got,
            vec![
                (3, Some("k-1"), Some(1700000000000)),
                (4, None, None),
                (6, Some(" {\"id\": 7} "), None),
                (8, Some(""), None),
            ]
        );
        let err = |text: &str| parse(text).unwrap_err().to_string();
        for (text, needle) in [
            ("{}\n@record-key k", ":2:"),
            ("@record-key a\n@record-key b\n{}", "the first is on line 1"),
            ("@record-timestamp soon\n{}", "milliseconds"),
            (
                "@record-timestamp 1\n@record-timestamp 2\n{}",
                "second `@record-timestamp`",
            ),
        ] {
            let e = err(text);
            assert!(e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn a_case_belongs_to_the_family_of_its_top_folder() {
        assert_eq!(Family::of("types/int8.case"), Family::Jdbc);
        assert_eq!(Family::of("seed/example-topic.case"), Family::Jdbc);
        assert_eq!(
            Family::of("questdb-connector/schemaless.case"),
            Family::QuestDbConnector
        );
        assert_eq!(
            Family::of("questdb-connector/keys/struct.case"),
            Family::QuestDbConnector
        );
        // Only the top folder counts.
        assert_eq!(Family::of("types/questdb-connector/x.case"), Family::Jdbc);
        for family in [Family::Jdbc, Family::QuestDbConnector] {
            assert!(
                family.properties_path().is_file(),
                "{}",
                family.properties_path().display()
            );
        }
        assert_eq!(
            parse("{}").unwrap().family(),
            Family::Jdbc,
            "area/my-case.case"
        );
    }

    #[test]
    fn topic_defaults_to_the_file_stem() {
        assert_eq!(parse("{}").unwrap().topic, "my-case");
    }

    #[test]
    fn unknown_directives_and_empty_cases_are_errors_with_a_line() {
        let e = parse("{}\n@frobnicate x").unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("@frobnicate"), "{e}");
        assert!(parse("# only a comment")
            .unwrap_err()
            .to_string()
            .contains("no messages"));
    }

    #[test]
    fn bad_records_mix_in_under_tolerance_all_only() {
        let case = parse("@records 10\n@bad every=4\n@tolerance all\n").unwrap();
        assert_eq!(case.scenario.unwrap().bad_every, Some(4));
        for (text, says) in [
            ("@records 10\n@bad every=4\n", "@tolerance all"),
            (
                "@records 10\n@bad every=4\n@tolerance none all\n",
                "@tolerance all",
            ),
            (
                "@records 10\n@bad every=4\n@tolerance all\n@key id8\n",
                "id64",
            ),
            ("@records 10\n@bad every=1\n@tolerance all\n", "every=N"),
            ("@records 10\n@bad 4\n@tolerance all\n", "every=N"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn parses_a_dropped_table() {
        let case = parse("@records 10\n@fault after=4 drop table\n").unwrap();
        let f = &case.scenario.unwrap().faults[0];
        assert_eq!(
            (f.after, f.target, f.action),
            (4, FaultTarget::Table, FaultAction::Drop)
        );
        let case = parse("@records 10\n@fault after=4 http-502 questdb for=30s\n").unwrap();
        let f = &case.scenario.unwrap().faults[0];
        let down = std::time::Duration::from_secs(30);
        assert_eq!(f.action, FaultAction::Answer { status: 502, down });
        for bad in ["http-200 questdb for=1s", "http-502 kafka for=1s"] {
            assert!(
                parse(&format!("@records 10\n@fault after=4 {bad}\n")).is_err(),
                "{bad}"
            );
        }
        for bad in [
            "drop questdb",
            "drop table for=5s",
            "kill table",
            "stop table for=5s",
        ] {
            let e = parse(&format!("@records 10\n@fault after=4 {bad}\n")).unwrap_err();
            assert!(e.to_string().contains("table"), "{bad}: {e}");
        }
    }

    #[test]
    fn parses_a_topic_created_late_at_start_only() {
        let case = parse("@records 10\n@fault at=start create topic for=8s\n").unwrap();
        let f = &case.scenario.unwrap().faults[0];
        let late = std::time::Duration::from_secs(8);
        assert_eq!(
            (f.at_start, f.target, f.action),
            (true, FaultTarget::Topic, FaultAction::Create { late })
        );
        for bad in [
            "after=4 create topic for=8s",
            "at=start create topic",
            "at=start stop topic for=8s",
            "at=start create questdb for=8s",
        ] {
            assert!(
                parse(&format!("@records 10\n@fault {bad}\n")).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn record_headers_belong_to_the_next_record_line_in_order() {
        let case = parse("@record-header a=1\n@record-header b=x=y\n{}\n{}\n").unwrap();
        let h = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(case.messages[0].headers, [h("a", "1"), h("b", "x=y")]);
        assert!(case.messages[1].headers.is_empty());
        assert!(
            parse("{}\n@record-header a=1\n").is_err(),
            "no record follows"
        );
        assert!(parse("@record-header a\n{}\n").is_err(), "no value");
    }

    #[test]
    fn broker_faults_need_a_cluster() {
        let case = parse("@brokers 3\n@records 100\n@fault after=10 hard-bounce leader\n@fault after=50 rolling-restart brokers\n").unwrap();
        let s = case.scenario.unwrap();
        assert_eq!(s.brokers, 3);
        use crate::services::BrokerPick;
        assert_eq!(
            s.faults
                .iter()
                .map(|f| (f.target, f.action))
                .collect::<Vec<_>>(),
            vec![
                (FaultTarget::Broker(BrokerPick::Leader), FaultAction::Kill),
                (FaultTarget::Broker(BrokerPick::Every), FaultAction::Restart),
            ]
        );
        let one = parse("@records 100\n@fault after=10 clean-shutdown controller\n").unwrap_err();
        assert!(one.to_string().contains("add `@brokers 3`"), "{one}");
        assert!(parse("@brokers 2\n@records 100\n").is_err());
        assert!(
            parse("@brokers 3\n@records 100\n@fault at=start clean-shutdown leader\n").is_err()
        );
    }

    #[test]
    fn parses_fault_cases() {
        let case = parse("# a fault case\n@set max.retries=2\n@records 20000\n@partitions 2\n@sinks 2\n@key id32\n@fault after=2000 kill-sink\n@fault after=3000 stop kafka for=5s\n@fault after=4000 restart zookeeper\n@fault after=5000 kill sink:1\n@fault after=6000 stop questdb for=250ms\n").unwrap();
        assert!(case.messages.is_empty());
        let s = case.scenario.unwrap();
        assert_eq!(
            (s.records, s.partitions, s.sinks, s.key.as_str()),
            (20000, 2, 2, "id32")
        );
        use crate::services::ServiceName::*;
        let f: Vec<(usize, u64, FaultTarget, FaultAction)> = s
            .faults
            .iter()
            .map(|f| (f.line, f.after, f.target, f.action))
            .collect();
        let secs = std::time::Duration::from_millis;
        assert_eq!(
            f,
            vec![
                (7, 2000, FaultTarget::Sink { task: 0 }, FaultAction::Kill),
                (
                    8,
                    3000,
                    FaultTarget::Service(Kafka),
                    FaultAction::Stop { down: secs(5000) }
                ),
                (
                    9,
                    4000,
                    FaultTarget::Service(ZooKeeper),
                    FaultAction::Restart
                ),
                (10, 5000, FaultTarget::Sink { task: 1 }, FaultAction::Kill),
                (
                    11,
                    6000,
                    FaultTarget::Service(QuestDb),
                    FaultAction::Stop { down: secs(250) }
                ),
            ]
        );
        let start =
            parse("@records 5\n@fault at=start stop questdb for=5s\n@fault after=3 kill sink")
                .unwrap()
                .scenario
                .unwrap();
        assert_eq!(
            start
                .faults
                .iter()
                .map(|f| (f.at_start, f.after, f.target, f.action))
                .collect::<Vec<_>>(),
            vec![
                (
                    true,
                    0,
                    FaultTarget::Service(QuestDb),
                    FaultAction::Stop { down: secs(5000) }
                ),
                (false, 3, FaultTarget::Sink { task: 0 }, FaultAction::Kill),
            ]
        );
        assert!(s.faults.iter().all(|f| !f.at_start));
        let plain = parse("@records 5").unwrap().scenario.unwrap();
        assert_eq!(
            (plain.partitions, plain.sinks, plain.key.as_str()),
            (1, 1, "id64")
        );
    }

    #[test]
    fn parses_a_pause_of_a_service_and_of_a_sink() {
        let s = parse("@records 9\n@sinks 2\n@fault after=3 pause questdb for=2s\n@fault after=6 pause sink:1 for=500ms")
            .unwrap()
            .scenario
            .unwrap();
        let f: Vec<(FaultTarget, FaultAction)> =
            s.faults.iter().map(|f| (f.target, f.action)).collect();
        let ms = std::time::Duration::from_millis;
        assert_eq!(
            f,
            vec![
                (
                    FaultTarget::Service(crate::services::ServiceName::QuestDb),
                    FaultAction::Pause { down: ms(2000) }
                ),
                (
                    FaultTarget::Sink { task: 1 },
                    FaultAction::Pause { down: ms(500) }
                ),
            ]
        );
        let no_time = parse("@records 9\n@fault after=3 pause kafka").unwrap_err();
        assert!(
            no_time
                .to_string()
                .contains("`pause kafka` needs for=DURATION"),
            "{no_time}"
        );
        let at_start = parse("@records 9\n@fault at=start pause questdb for=1s").unwrap_err();
        assert!(
            at_start.to_string().contains("only `stop SERVICE"),
            "{at_start}"
        );
    }

    #[test]
    fn fault_case_errors_name_the_line_and_what_is_expected() {
        let err = |text: &str| parse(text).unwrap_err().to_string();
        for (text, line, needle) in [
            ("@fault after=10 kill sink", ":0:", "add `@records N`"),
            ("@records 10\n{}", ":2:", "no record lines"),
            ("@records 10\n@fault kill sink", ":2:", "no `after=N`"),
            (
                "@records 10\n@fault after=x kill sink",
                ":2:",
                "not a number",
            ),
            (
                "@records 10\n@fault after=1 stop kafka",
                ":2:",
                "needs for=DURATION",
            ),
            (
                "@records 10\n@fault after=1 kill kafka for=5s",
                ":2:",
                "stop kafka for=",
            ),
            (
                "@records 10\n@fault after=1 stop kafka for=5",
                ":2:",
                "not a duration",
            ),
            (
                "@records 10\n@fault after=1 kill postgres",
                ":2:",
                "unknown service `postgres`",
            ),
            (
                "@records 10\n@fault after=1 melt kafka",
                ":2:",
                "unknown action `melt`",
            ),
            (
                "@records 10\n@fault after=1 kill sink:1",
                ":2:",
                "runs 1 sink process",
            ),
            ("@records 0", ":1:", "positive number of records"),
            ("@records 5\n@key", ":2:", "names a column"),
            (
                "@records 10\n@fault at=start kill questdb",
                ":2:",
                "only `stop SERVICE for=DURATION`",
            ),
            (
                "@records 10\n@fault at=start stop sink for=1s",
                ":2:",
                "only `stop SERVICE for=DURATION`",
            ),
            (
                "@records 10\n@fault at=start after=5 stop kafka for=1s",
                ":2:",
                "exclude each other",
            ),
            (
                "@records 10\n@fault at=end stop kafka for=1s",
                ":2:",
                "only `at=start`",
            ),
            (
                "@records 10\n@fault after=1 kill sink\n@fault at=start stop kafka for=1s",
                ":3:",
                "must be the first @fault",
            ),
            (
                "@records 10\n@fault after=10 kill sink",
                ":2:",
                "below @records (10)",
            ),
            ("@records 10\n@fault after=0 kill sink", ":2:", "above 0"),
            (
                "@records 10\n@fault after=5 kill sink\n@fault after=5 kill sink",
                ":3:",
                "above the previous fault's (5)",
            ),
        ] {
            let e = err(text);
            assert!(e.contains(line) && e.contains(needle), "{text:?}: {e}");
        }
    }

    #[test]
    fn ci_names_the_variants_cargo_test_runs_by_default() {
        let case =
            parse("@records 5\n@paths pg ilp\n@tolerance none all\n@ci ilp-all pg-none").unwrap();
        let names: Vec<String> = case.ci_variants().into_iter().map(|c| c.name).collect();
        if std::env::var("KQ_FAULTS").is_ok_and(|v| v == "all") {
            assert_eq!(names.len(), 4);
        } else {
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(
                names.iter().any(|n| n.ends_with("+ilp-all.case")),
                "{names:?}"
            );
            assert!(
                names.iter().any(|n| n.ends_with("+pg-none.case")),
                "{names:?}"
            );
        }
        let e = parse("@records 5\n@paths pg\n@ci ilp-all")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`@ci ilp-all`: not a variant of this case; its variants are pg"),
            "{e}"
        );
        let every = parse("@records 5\n@paths pg ilp").unwrap().ci_variants();
        assert_eq!(every.len(), 2, "no @ci: every variant");
        let off = parse("@records 5\n@paths pg ilp\n@ci off").unwrap();
        assert_eq!(off.variants().len(), 2);
        if std::env::var("KQ_FAULTS").is_err() {
            assert!(off.ci_variants().is_empty(), "@ci off: none by default");
        }
    }

    #[test]
    fn paths_and_tolerances_expand_into_named_variants() {
        let case = parse("@set max.retries=3\n@records 10\n@paths pg ilp connector\n@tolerance none all\n@fault after=2 stop questdb for=1s\n").unwrap();
        let variants = case.variants();
        let names: Vec<(&str, &str, Family)> = variants
            .iter()
            .map(|c| (c.name.as_str(), c.topic.as_str(), c.family()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("area/my-case+pg-none.case", "my-case-pg-none", Family::Jdbc),
                ("area/my-case+pg-all.case", "my-case-pg-all", Family::Jdbc),
                (
                    "area/my-case+ilp-none.case",
                    "my-case-ilp-none",
                    Family::Jdbc
                ),
                ("area/my-case+ilp-all.case", "my-case-ilp-all", Family::Jdbc),
                (
                    "area/my-case+connector-none.case",
                    "my-case-connector-none",
                    Family::QuestDbConnector
                ),
                (
                    "area/my-case+connector-all.case",
                    "my-case-connector-all",
                    Family::QuestDbConnector
                ),
            ]
        );
        let props = |i: usize| -> Vec<(String, String)> { variants[i].properties.clone() };
        let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            props(0),
            vec![kv("max.retries", "3"), kv("errors.tolerance", "none")]
        );
        assert_eq!(
            props(3),
            vec![
                kv("max.retries", "3"),
                kv("client.conf.string", "http::addr=localhost:9000;"),
                kv("timestamp.kafka.native", "true"),
                kv("errors.tolerance", "all"),
                kv("errors.deadletterqueue.topic.name", "my-case-ilp-all-dlq"),
                kv("errors.deadletterqueue.topic.replication.factor", "1"),
            ]
        );
        // An expanded variant is itself; a case without directives is one case.
        assert_eq!(variants[2].variants(), vec![variants[2].clone()]);
        assert_eq!(parse("@records 5").unwrap().variants().len(), 1);
        let one = parse("@records 5\n@paths ilp").unwrap().variants();
        assert_eq!(
            (one.len(), one[0].name.as_str()),
            (1, "area/my-case+ilp.case")
        );
        let err = |text: &str| parse(text).unwrap_err().to_string();
        assert!(err("@records 5\n@paths jdbc").contains("expected pg, ilp or connector"));
        assert!(err("@records 5\n@tolerance some").contains("expected none or all"));
        assert!(err("@records 5\n@paths").contains("at least one"));
        assert!(
            err("@set errors.tolerance=all\n@records 5\n@tolerance none")
                .contains("exclude each other")
        );
    }

    #[test]
    fn every_case_has_a_topic_of_its_own() {
        // Cases of one test binary share the services: two cases on one topic (or on one table:
        // QuestDB matches names case-insensitively) would see each other's records.
        let mut seen = std::collections::BTreeMap::new();
        for case in discover(&root()).unwrap() {
            if let Some(other) = seen.insert(case.topic.to_lowercase(), case.name.clone()) {
                panic!("{} and {other} use topic {}", case.name, case.topic);
            }
        }
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            discover(dir.path()),
            Err(FixtureError::Empty { .. })
        ));
    }
}
