//! The harness's commands, one module each; what several of them share is here (choosing and
//! starting the sink under test, finding cases, running them) and in [`report`] (printing).

pub mod bench;
pub mod cdc;
pub mod chaos;
pub mod compare;
pub mod conformance;
pub mod kill9;
pub mod matrix;
pub mod oracle;
pub mod record;
pub mod report;
pub mod services;

use clap::ValueEnum;
use harness::connect::{ConnectWorker, Connector};
use harness::fixture::{self, Case};
use harness::replay::{self, Outcome, SinkMode, Target};
use harness::services::{BackendChoice, Services};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The sink under test.
#[derive(Clone, Copy, ValueEnum)]
pub enum Sink {
    InProcess,
    Binary,
    /// The sink's container image (KQ_SINK_IMAGE, default kq/sink:dev, built from the sink
    /// binary by ci/docker/build-sink-image.sh); needs a Docker engine, whatever the backend.
    Image,
    /// The Debezium JDBC sink in a Kafka Connect worker (snapshots: tests/snapshots/debezium).
    Debezium,
    /// The connector on `--plugin-path` in a Kafka Connect worker: Confluent's JdbcSinkConnector
    /// (snapshots: tests/snapshots/confluent-jdbc-<version>) or QuestDB's QuestDBSinkConnector
    /// (its family's cases only; tests/snapshots/questdb-connector-<version>).
    Connect,
}

impl Sink {
    /// The snapshot set of a connector; `None` for this sink's own snapshots. A connector from a
    /// plugin path keeps one set per version (`confluent-jdbc-<version>`,
    /// `questdb-connector-<version>`), read from the plugin path.
    pub fn snapshot_set(
        self,
        plugin_path: Option<&std::path::Path>,
    ) -> Result<Option<String>, String> {
        match self {
            Sink::InProcess | Sink::Binary | Sink::Image => Ok(None),
            Sink::Debezium => Ok(Some(Connector::Debezium.name().to_owned())),
            Sink::Connect => match plugin_path {
                // `mode` says what is missing.
                None => Ok(None),
                Some(path) => harness::connect::plugin_on(path)
                    .map(|(c, v)| Some(harness::connect::snapshot_set(c, &v))),
            },
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sink::InProcess => "in-process",
            Sink::Binary => "binary",
            Sink::Image => "image",
            Sink::Debezium => "debezium",
            Sink::Connect => "connect",
        }
    }

    /// The fixture family a connector runs (`None`: this sink, which runs every family); for
    /// `connect`, the one its plugin path holds.
    pub fn family(self, plugin_path: Option<&std::path::Path>) -> Option<fixture::Family> {
        match self {
            Sink::InProcess | Sink::Binary | Sink::Image => None,
            Sink::Debezium => Some(Connector::Debezium.family()),
            Sink::Connect => plugin_path
                .and_then(|p| harness::connect::plugin_on(p).ok())
                .map(|(c, _)| c.family()),
        }
    }

    /// Whether this is this project's sink (judged by this project's snapshots).
    pub fn is_ours(self) -> bool {
        matches!(self, Sink::InProcess | Sink::Binary | Sink::Image)
    }

    /// Whether the fault cases run with it: they start and break the sink binary themselves.
    pub fn runs_fault_cases(self) -> bool {
        matches!(self, Sink::InProcess | Sink::Binary)
    }

    /// The connector that runs the fault cases in Kafka Connect workers (`None`: this sink).
    pub fn connect_sink(
        self,
        plugin_path: Option<&std::path::Path>,
    ) -> Result<Option<harness::faults::worker::ConnectSink>, String> {
        use harness::faults::worker::ConnectSink;
        match (self, plugin_path) {
            (Sink::Debezium, path) => Ok(Some(ConnectSink {
                plugin_path: path.map(Into::into),
                ..ConnectSink::debezium()
            })),
            (Sink::Connect, Some(path)) => ConnectSink::from_plugin(path).map(Some),
            // `mode` says what is missing.
            _ => Ok(None),
        }
    }

    /// How this sink runs on `target`: starts a Connect worker for a connector.
    pub async fn mode(
        self,
        plugin_path: Option<PathBuf>,
        target: &Target,
    ) -> Result<SinkMode, String> {
        let connector = match self {
            Sink::InProcess => return Ok(SinkMode::InProcess),
            Sink::Binary => return replay::sink_binary_or_build().map(SinkMode::Binary),
            Sink::Image => {
                let binary = replay::sink_binary_or_build()?;
                let image = harness::services::docker::SinkImage::from_env();
                image.check(&binary).map_err(|e| e.to_string())?;
                return Ok(SinkMode::Image(image));
            }
            Sink::Debezium => Connector::Debezium,
            Sink::Connect => {
                let Some(path) = plugin_path.as_deref() else {
                    return Err(
                        "--sink connect needs --plugin-path DIR: a Kafka Connect plugin path \
                         holding Confluent's kafka-connect-jdbc (its lib/ folder with the \
                         PostgreSQL driver) or QuestDB's connector (its jar and the QuestDB \
                         client's); see README"
                            .to_owned(),
                    );
                };
                harness::connect::plugin_on(path)?.0
            }
        };
        let bootstrap = target.bootstrap.clone();
        let worker = tokio::task::spawn_blocking(move || {
            ConnectWorker::start(
                &bootstrap,
                connector,
                plugin_path,
                harness::services::start_timeout(Duration::from_secs(120)),
            )
        })
        .await
        .expect("worker start");
        worker
            .map(|w| SinkMode::Connect(Arc::new(w)))
            .map_err(|e| e.to_string())
    }
}

/// Prints `error: {e}` and returns the failing exit code: how every command gives up.
pub fn fail(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}

/// Starts the services off the async runtime.
pub async fn start_services(backend: BackendChoice) -> Result<Services, String> {
    tokio::task::spawn_blocking(move || Services::start_on(backend))
        .await
        .expect("start task")
        .map_err(|e| e.to_string())
}

/// [`start_services`] with `brokers` brokers (1, or a cluster of 3), and the Toxiproxy proxies
/// in front of them if `proxied`.
pub async fn start_services_with(
    backend: BackendChoice,
    proxied: bool,
    brokers: usize,
) -> Result<Services, String> {
    tokio::task::spawn_blocking(move || {
        let versions = harness::versions::Versions::from_env()?;
        Services::start_brokers(backend, &versions, proxied, brokers)
    })
    .await
    .expect("start task")
    .map_err(|e| e.to_string())
}

/// The ordinary (non-fault) cases under `paths`: what `compare` runs. Fault cases
/// (`fixtures/faults/`) test this sink's binary while they break services, so they run only in
/// `conformance` and `matrix`, after the others.
pub fn discover_ordinary(paths: &[PathBuf]) -> Result<Vec<Case>, String> {
    let cases: Vec<Case> = discover_all(paths, None)?
        .into_iter()
        .filter(|c| c.scenario.is_none())
        .collect();
    if cases.is_empty() {
        return Err(
            "no ordinary cases there (fault cases run with `harness conformance` or `matrix`)"
                .into(),
        );
    }
    Ok(cases)
}

/// The cases under `paths` (default: every fixture); a folder outside fixtures/ brings its own
/// properties and snapshots (`snapshots`: instead of its `snapshots/`), see [`harness::folder`].
pub fn discover_all(
    paths: &[PathBuf],
    snapshots: Option<&std::path::Path>,
) -> Result<Vec<Case>, String> {
    let default = [fixture::root()];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut cases = Vec::new();
    for path in paths {
        cases.extend(harness::folder::discover(path, snapshots).map_err(|e| e.to_string())?);
    }
    Ok(cases)
}

/// The sink binary fault cases run, built first when missing or stale; `None` (and no build)
/// when there are no fault cases.
pub fn sink_binary_for(faults: &[Case]) -> Result<Option<PathBuf>, String> {
    if faults.is_empty() {
        return Ok(None);
    }
    replay::sink_binary_or_build()
        .map(Some)
        .map_err(|e| format!("fault cases run the sink binary: {e}"))
}

/// Runs the cases, `jobs` at once, with a progress bar; returns each case with its outcome, in
/// the order given.
pub async fn run_all(
    cases: Vec<Case>,
    target: &Target,
    mode: &SinkMode,
    jobs: usize,
) -> Vec<(Case, Result<Outcome, replay::ReplayError>)> {
    let bar = ProgressBar::new(cases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}").expect("template"),
    );
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut tasks = Vec::new();
    for case in cases {
        let (permits, target, mode, bar) =
            (permits.clone(), target.clone(), mode.clone(), bar.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            bar.set_message(case.name.clone());
            let outcome =
                harness::case_log::scope(&case.name, replay::run_case(&case, &target, &mode)).await;
            bar.inc(1);
            (case, outcome)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("case task"));
    }
    bar.finish_and_clear();
    results
}
