//! `harness`: the conformance run on real services, and a way to start those services by hand.

use clap::{Parser, Subcommand, ValueEnum};
use harness::connect::{ConnectWorker, Connector};
use harness::fixture::{self, Case};
use harness::replay::{self, Outcome, SinkMode, Target};
use harness::services::{BackendChoice, Services};
use harness::versions::Versions;
use harness::{render, snapshot};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    version,
    about = "Replays fixture cases through the sink on real ZooKeeper, Kafka and QuestDB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replay every fixture (or the given files or folders) and compare with the accepted snapshots.
    Conformance {
        /// Fixture files or folders; default: the repository's fixtures/.
        paths: Vec<PathBuf>,
        /// Cases run at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Where to write the Markdown report.
        #[arg(long, default_value = "target/conformance-report.md")]
        report: PathBuf,
        /// The sink under test: this sink in this process or as the `sink` binary, the Debezium
        /// JDBC sink in a Kafka Connect worker, or any connector of the JDBC sink family from
        /// `--plugin-path` (Confluent's, with the seed's properties as they are).
        #[arg(long, value_enum, default_value_t = Sink::InProcess)]
        sink: Sink,
        /// A Kafka Connect plugin path holding the connector (`--sink connect`; for `debezium`,
        /// instead of the pinned plugin).
        #[arg(long)]
        plugin_path: Option<PathBuf>,
        /// Print each case's rendered outcome.
        #[arg(long)]
        verbose: bool,
        /// Where the services run: `process`, `docker`, or `auto` (docker when an engine
        /// answers and the images are present locally).
        #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
        backend: BackendChoice,
    },
    /// Run the conformance suite on every combination of service versions (local processes)
    /// and report, per case and combination, whether it differs from the default snapshot.
    Matrix {
        /// Fixture files or folders; default: the repository's fixtures/.
        paths: Vec<PathBuf>,
        /// QuestDB versions (repeatable); default: the pom's `kq.matrix.questdb`.
        #[arg(long = "questdb")]
        questdb: Vec<String>,
        /// Kafka versions (repeatable; 4.x runs in KRaft mode); default: the pom's
        /// `kq.matrix.kafka`.
        #[arg(long = "kafka")]
        kafka: Vec<String>,
        /// Cases run at once.
        #[arg(long, default_value_t = 4)]
        jobs: usize,
        /// Where to write the Markdown report.
        #[arg(long, default_value = "target/matrix-report.md")]
        report: PathBuf,
    },
    /// Run the cases through two sinks under test on the same services and print, per case,
    /// whether they created the same table shape, column types and rows.
    Compare {
        /// The first sink under test.
        #[arg(value_enum)]
        a: Sink,
        /// The second sink under test.
        #[arg(value_enum)]
        b: Sink,
        /// Fixture files or folders; default: the repository's fixtures/.
        #[arg(long = "cases")]
        paths: Vec<PathBuf>,
        /// A Kafka Connect plugin path (for `connect`, or instead of the pinned Debezium).
        #[arg(long)]
        plugin_path: Option<PathBuf>,
        /// Cases run at once.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Where to write the Markdown report.
        #[arg(long, default_value = "target/compare-report.md")]
        report: PathBuf,
        /// Where the services run: `process`, `docker`, or `auto`.
        #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
        backend: BackendChoice,
    },
    /// Compare the sink's decoder with Kafka's own JsonConverter: every fixture record, their
    /// mutations, and random envelopes; print identical / documented deviation / bug counts.
    Oracle {
        /// Random envelopes to draw.
        #[arg(long, default_value_t = 100_000)]
        envelopes: usize,
        /// Seed of the random envelopes (the same seed draws the same envelopes).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many bugs to print in full.
        #[arg(long, default_value_t = 5)]
        show: usize,
    },
    /// Start the services, print their endpoints, and keep them until Ctrl-C.
    Services {
        /// Where the services run: `process`, `docker`, or `auto`.
        #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
        backend: BackendChoice,
    },
    /// Exactly-once under kill -9: the sink binary stores a stream into a native DEDUP table
    /// (pk.mode=kafka) and is SIGKILLed mid-stream again and again; then 0 missing, 0 duplicated.
    Kill9 {
        /// How many times the sink is killed.
        #[arg(long, default_value_t = 20)]
        kills: usize,
        /// Records produced before each restart.
        #[arg(long, default_value_t = 2000)]
        chunk: u64,
        /// Also run the same without DEDUP (a plain table) and print its duplicates.
        #[arg(long)]
        control: bool,
        /// Where the services run: process, docker, or auto (KQ_BACKEND).
        #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
        backend: BackendChoice,
    },
    /// Print throughput numbers: decoding alone, then Kafka -> sink -> QuestDB on real services.
    Bench {
        /// Records to send through the pipeline.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// The connector's batch.size.
        #[arg(long, default_value_t = 3000)]
        batch_size: usize,
        /// Where the services run: process, docker, or auto (KQ_BACKEND).
        #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
        backend: BackendChoice,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Sink {
    InProcess,
    Binary,
    /// The Debezium JDBC sink in a Kafka Connect worker (snapshots: tests/snapshots/debezium).
    Debezium,
    /// Confluent's JdbcSinkConnector from `--plugin-path` in a Kafka Connect worker (snapshots:
    /// tests/snapshots/confluent-jdbc).
    Connect,
}

impl Sink {
    /// The snapshot set of a connector; `None` for this sink's own snapshots.
    fn snapshot_set(self) -> Option<&'static str> {
        match self {
            Sink::InProcess | Sink::Binary => None,
            Sink::Debezium => Some(Connector::Debezium.name()),
            Sink::Connect => Some(Connector::ConfluentJdbc.name()),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Sink::InProcess => "in-process",
            Sink::Binary => "binary",
            Sink::Debezium => "debezium",
            Sink::Connect => "connect",
        }
    }
}

/// How `sink` runs on `target`: starts a Connect worker for a connector.
async fn sink_mode(
    sink: Sink,
    plugin_path: Option<PathBuf>,
    target: &Target,
) -> Result<SinkMode, String> {
    let connector = match sink {
        Sink::InProcess => return Ok(SinkMode::InProcess),
        Sink::Binary => return replay::sink_binary_or_build().map(SinkMode::Binary),
        Sink::Debezium => Connector::Debezium,
        Sink::Connect => {
            if plugin_path.is_none() {
                return Err(
                    "--sink connect needs --plugin-path DIR: a Kafka Connect plugin path \
                     holding Confluent's kafka-connect-jdbc (its lib/ folder with the PostgreSQL \
                     driver); see README"
                        .to_owned(),
                );
            }
            Connector::ConfluentJdbc
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail,
    New,
    Error,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::New => "NEW",
            Verdict::Error => "ERROR",
        }
    }
}

struct CaseResult {
    case: String,
    verdict: Verdict,
    elapsed: Duration,
    phases: replay::Phases,
    detail: String,
    rendered: Option<String>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match cli.command {
        Command::Services { backend } => services(backend),
        Command::Compare {
            a,
            b,
            paths,
            plugin_path,
            jobs,
            report,
            backend,
        } => runtime.block_on(compare(
            (a, b),
            paths,
            plugin_path,
            jobs.max(1),
            report,
            backend,
        )),
        Command::Oracle {
            envelopes,
            seed,
            show,
        } => oracle(envelopes, seed, show),
        Command::Matrix {
            paths,
            questdb,
            kafka,
            jobs,
            report,
        } => runtime.block_on(matrix(paths, questdb, kafka, jobs.max(1), report)),
        Command::Kill9 {
            kills,
            chunk,
            control,
            backend,
        } => runtime.block_on(kill9(kills, chunk, control, backend)),
        Command::Bench {
            records,
            batch_size,
            backend,
        } => runtime.block_on(bench(records, batch_size, backend)),
        Command::Conformance {
            paths,
            jobs,
            report,
            sink,
            plugin_path,
            verbose,
            backend,
        } => runtime.block_on(conformance(
            paths,
            jobs.max(1),
            report,
            (sink, plugin_path),
            verbose,
            backend,
        )),
    }
}

async fn compare(
    (a, b): (Sink, Sink),
    paths: Vec<PathBuf>,
    plugin_path: Option<PathBuf>,
    jobs: usize,
    report: PathBuf,
    backend: BackendChoice,
) -> ExitCode {
    let started = Instant::now();
    let cases = match discover_ordinary(&paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Each sink on services of its own: the same topic and table names, no interference.
    let mut outcomes = Vec::new();
    for sink in [a, b] {
        let Some(services) = start_services(backend).await else {
            return ExitCode::FAILURE;
        };
        let target: Target = services.endpoints().into();
        let mode = match sink_mode(sink, plugin_path.clone(), &target).await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("{}: {} cases", sink.label(), cases.len());
        outcomes.push(run_all(cases.clone(), &target, &mode, jobs).await);
        drop(mode);
        drop(services);
    }
    let names = (a.label(), b.label());
    let mut rows = Vec::new();
    for ((case, oa), (_, ob)) in outcomes[0].iter().zip(&outcomes[1]) {
        let diffs = match (oa, ob) {
            (Ok(x), Ok(y)) => harness::compare::differences(x, y, names),
            (Err(e), _) | (_, Err(e)) => vec![format!("could not run: {e}")],
        };
        rows.push((case.name.clone(), diffs));
    }
    let width = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(4);
    for (case, diffs) in &rows {
        let verdict = if diffs.is_empty() { "same" } else { "differs" };
        println!(
            "{case:width$}  {verdict:7}  {}",
            diffs.first().map_or("", |d| d.as_str())
        );
        for d in diffs.iter().skip(1) {
            println!("{:width$}           {d}", "");
        }
    }
    let same = rows.iter().filter(|(_, d)| d.is_empty()).count();
    if let Some(dir) = report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&report, harness::compare::markdown(names, &rows)) {
        Ok(()) => println!("report: {}", report.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", report.display()),
    }
    println!(
        "{} vs {}: {same} of {} cases the same, in {:.1}s",
        names.0,
        names.1,
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

fn oracle(envelopes: usize, seed: u64, show: usize) -> ExitCode {
    use harness::oracle::{compare_corpus, Oracle};
    let started = Instant::now();
    let run = || -> Result<harness::oracle::Tally, String> {
        let mut oracle = Oracle::start(&[("schemas.enable".into(), "true".into())])
            .map_err(|e| e.to_string())?;
        let bar = ProgressBar::new(envelopes as u64);
        let tally = compare_corpus(&mut oracle, &fixture::root(), seed, envelopes, |i| {
            if i % 1000 == 0 {
                bar.set_position(i as u64);
            }
        })?;
        bar.finish_and_clear();
        Ok(tally)
    };
    match run() {
        Ok(tally) => {
            print!("{}", tally.report(show));
            println!("in {:.1}s", started.elapsed().as_secs_f64());
            if tally.bugs.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The ordinary (non-fault) cases under `paths`: what `compare` and `matrix` run. Fault cases
/// (`fixtures/faults/`) break services and run only in `conformance`, after the others.
fn discover_ordinary(paths: &[PathBuf]) -> Result<Vec<Case>, String> {
    let cases: Vec<Case> = discover_all(paths)?
        .into_iter()
        .filter(|c| c.scenario.is_none())
        .collect();
    if cases.is_empty() {
        return Err("no ordinary cases there (fault cases run with `harness conformance`)".into());
    }
    Ok(cases)
}

/// The cases under `paths` (default: every fixture), or the error to print.
fn discover_all(paths: &[PathBuf]) -> Result<Vec<Case>, String> {
    let default = [fixture::root()];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut cases = Vec::new();
    for path in paths {
        cases.extend(fixture::discover(path).map_err(|e| e.to_string())?);
    }
    Ok(cases)
}

async fn matrix(
    paths: Vec<PathBuf>,
    questdb: Vec<String>,
    kafka: Vec<String>,
    jobs: usize,
    report: PathBuf,
) -> ExitCode {
    let started = Instant::now();
    let (default, mut combos) = match (Versions::default_pinned(), Versions::matrix()) {
        (Ok(d), Ok(m)) => (d, m),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !questdb.is_empty() || !kafka.is_empty() {
        let pick = |asked: &[String], all: Vec<String>| {
            if asked.is_empty() {
                all
            } else {
                asked.to_vec()
            }
        };
        let qs = pick(&questdb, vec![default.questdb.clone()]);
        let ks = pick(&kafka, vec![default.kafka.clone()]);
        combos = vec![default.clone()];
        for k in &ks {
            for q in &qs {
                let v = Versions {
                    questdb: q.clone(),
                    kafka: k.clone(),
                };
                if !combos.contains(&v) {
                    combos.push(v);
                }
            }
        }
    }
    let cases = match discover_ordinary(&paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let names: Vec<String> = cases.iter().map(|c| c.name.clone()).collect();
    let mut columns: Vec<Vec<harness::matrix::Cell>> = Vec::new();
    for (i, versions) in combos.iter().enumerate() {
        eprintln!(
            "[{}/{}] {versions}: {} cases; starting services...",
            i + 1,
            combos.len(),
            cases.len()
        );
        let start = {
            let versions = versions.clone();
            tokio::task::spawn_blocking(move || {
                Services::start_versions(BackendChoice::Process, &versions)
            })
            .await
            .expect("start task")
        };
        let cells = match start {
            Err(e) => {
                let e = e.to_string();
                vec![harness::matrix::Cell::Error(e); cases.len()]
            }
            Ok(services) => {
                let target: Target = services.endpoints().into();
                let outcomes = run_all(cases.clone(), &target, &SinkMode::InProcess, jobs).await;
                drop(services);
                outcomes
                    .iter()
                    .map(|(case, outcome)| {
                        let rendered = outcome
                            .as_ref()
                            .map(render::outcome)
                            .map_err(|e| e.to_string());
                        let rendered = rendered.as_deref().map_err(String::as_str);
                        harness::matrix::classify(&case.name, rendered, versions, &default)
                    })
                    .collect()
            }
        };
        columns.push(cells);
    }
    let matrix = harness::matrix::Matrix {
        combos,
        rows: names
            .into_iter()
            .enumerate()
            .map(|(i, case)| (case, columns.iter().map(|c| c[i].clone()).collect()))
            .collect(),
    };
    print!("{}", matrix.terminal());
    if let Some(dir) = report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&report, matrix.markdown()) {
        Ok(()) => println!("report: {}", report.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", report.display()),
    }
    let problems = matrix.problems();
    println!(
        "{} cases x {} combinations in {:.1}s: {problems} to review",
        matrix.rows.len(),
        matrix.combos.len(),
        started.elapsed().as_secs_f64()
    );
    if problems > 0 {
        println!(
            "A DIFFERS cell is a version difference nobody reviewed: run that combination with \
             KQ_QUESTDB_VERSION/KQ_KAFKA_VERSION and INSTA_UPDATE=always cargo test --test \
             conformance -- cases, read the new <case>@<versions>.snap files, and commit them."
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Starts the services off the async runtime, saying why on failure.
async fn start_services(backend: BackendChoice) -> Option<Services> {
    match tokio::task::spawn_blocking(move || Services::start_on(backend))
        .await
        .expect("start task")
    {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

async fn kill9(kills: usize, chunk: u64, control: bool, backend: BackendChoice) -> ExitCode {
    let binary = match replay::sink_binary_or_build() {
        Ok(binary) => binary,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(services) = start_services(backend).await else {
        return ExitCode::FAILURE;
    };
    let target: Target = services.endpoints().into();
    let started = std::time::Instant::now();
    let result = harness::kill9::run(&target, &binary, kills, chunk, true).await;
    if control {
        match harness::kill9::run(&target, &binary, kills, chunk, false).await {
            Ok(r) => println!(
                "control without DEDUP, kill -9 x{}: {} records produced, {} rows stored, {} missing, {} duplicated",
                r.kills, r.produced, r.rows, r.missing, r.duplicated
            ),
            Err(e) => eprintln!("control: error: {e}"),
        }
    }
    drop(services);
    match result {
        Ok(r) => {
            println!(
                "kill -9 x{}: {} records produced, {} rows stored, {} missing, {} duplicated ({:.0}s)",
                r.kills,
                r.produced,
                r.rows,
                r.missing,
                r.duplicated,
                started.elapsed().as_secs_f64()
            );
            let mut resumes = r.resumes.clone();
            resumes.sort();
            if let (Some(first), Some(last)) = (resumes.first(), resumes.last()) {
                println!(
                    "restart to first stored rows: min {:.2}s, median {:.2}s, max {:.2}s (static group membership)",
                    first.as_secs_f64(),
                    resumes[resumes.len() / 2].as_secs_f64(),
                    last.as_secs_f64()
                );
            }
            if r.missing == 0 && r.duplicated == 0 && r.rows as u64 == r.produced {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: exactly-once violated");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn bench(records: u64, batch_size: usize, backend: BackendChoice) -> ExitCode {
    let Some(services) = start_services(backend).await else {
        return ExitCode::FAILURE;
    };
    let target: Target = services.endpoints().into();
    let result = bench_on(&target, records, batch_size).await;
    drop(services);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Every number on the same services and the same topic; targets are printed, never asserted.
async fn bench_on(target: &Target, records: u64, batch_size: usize) -> anyhow::Result<()> {
    use harness::bench;
    let (decode_uncached, decode) = bench::decode_rate(records.max(10_000));
    let topic = bench::produce(target, records).await?;
    println!(
        "produce:                 {:>10.0} records/s ({records} records in {:.2}s)",
        records as f64 / topic.produce_secs,
        topic.produce_secs
    );
    let consume = bench::raw_consume(target, &topic).await?;
    let (t, name) = (target.clone(), topic.name.clone());
    let limit = tokio::task::spawn_blocking(move || bench::raw_ilp(&t, &name, records, batch_size))
        .await??;
    let pg = bench::sink(target, &topic, batch_size, false).await?;
    let ilp = bench::sink(target, &topic, batch_size, true).await?;
    let line = |what: &str, rate: f64| {
        println!(
            "{what:<24} {rate:>10.0} rows/s   {:>5.2} of the ILP limit",
            rate / limit
        )
    };
    line("raw consume (no decode):", consume);
    line("raw ILP (questdb-rs):", limit);
    for (what, n) in [("sink over PG wire:", &pg), ("sink over ILP/HTTP:", &ilp)] {
        anyhow::ensure!(
            n.rows == records,
            "{what} stored {} of {records} rows",
            n.rows
        );
        line(what, n.rows as f64 / n.secs);
    }
    println!("decode (no I/O):         {decode:>10.0} records/s (schema cache; {decode_uncached:.0} parsing every schema)");
    for (what, n) in [("PG wire", &pg), ("ILP", &ilp)] {
        if let Some(mib) = n.peak_rss_mib {
            println!("peak RSS, sink over {what} (in process, with the harness): {mib:.0} MiB");
        }
    }
    let mut binary_rss = Vec::new();
    match replay::sink_binary_or_build() {
        Err(e) => println!("sink binary: skipped: {e}"),
        Ok(binary) => {
            for (what, over_ilp) in [("PG wire", false), ("ILP", true)] {
                let (t, name, b) = (target.clone(), topic.name.clone(), binary.clone());
                let topic = bench::BenchTopic {
                    name,
                    records,
                    produce_secs: 0.0,
                };
                let (rate, mib) = tokio::task::spawn_blocking(move || {
                    bench::sink_binary(&t, &topic, batch_size, over_ilp, &b)
                })
                .await??;
                binary_rss.push(mib);
                println!("sink binary over {what}: {rate:>10.0} rows/s   {:>5.2} of the ILP limit, peak RSS {mib:.0} MiB", rate / limit);
            }
        }
    }
    println!(
        "targets (not asserted): sink over ILP >= 0.5 of the limit ({:.2}), decode >= 500000 records/s ({decode:.0}), sink binary RSS <= 64 MiB for 200k records ({records} records: {:?} MiB; batch.size={batch_size})",
        ilp.rows as f64 / ilp.secs / limit,
        binary_rss.iter().map(|m| m.round()).collect::<Vec<_>>()
    );
    Ok(())
}

fn services(backend: BackendChoice) -> ExitCode {
    let services = match Services::start_on(backend) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let e = services.endpoints();
    println!("Backend:                 {}", services.backend);
    println!("Versions:                {}", services.versions);
    println!("Kafka bootstrap servers: {}", e.kafka_bootstrap);
    match &e.zookeeper {
        Some(zk) => println!("ZooKeeper:               {zk}"),
        None => println!("ZooKeeper:               none (Kafka in KRaft mode)"),
    }
    println!(
        "QuestDB PG wire:         {}:{} (user admin, password quest, database qdb)",
        e.pg_host, e.pg_port
    );
    println!(
        "QuestDB HTTP console:    http://{}:{}",
        e.pg_host, e.http_port
    );
    println!("Ctrl-C stops them and removes their data.");
    // Until Ctrl-C (SIGINT) or SIGTERM; the runtime only waits for the signal, so it must be
    // the one blocking (a task spawned on a runtime nobody drives never runs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    });
    drop(services);
    ExitCode::SUCCESS
}

async fn conformance(
    paths: Vec<PathBuf>,
    jobs: usize,
    report: PathBuf,
    (sink, plugin_path): (Sink, Option<PathBuf>),
    verbose: bool,
    backend: BackendChoice,
) -> ExitCode {
    let started = Instant::now();
    let cases = match discover_all(&paths) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (mut fault_cases, cases): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.scenario.is_some());
    if !matches!(sink, Sink::InProcess | Sink::Binary) && !fault_cases.is_empty() {
        eprintln!(
            "leaving out {} fault cases: they test the sink binary",
            fault_cases.len()
        );
        fault_cases.clear();
    }
    eprintln!(
        "{} cases ({} fault cases, run last and one at a time); starting services...",
        cases.len() + fault_cases.len(),
        fault_cases.len()
    );
    let fault_binary = match (fault_cases.is_empty(), replay::sink_binary_or_build()) {
        (true, _) => None,
        (false, Ok(binary)) => Some(binary),
        (false, Err(e)) => {
            eprintln!("error: fault cases run the sink binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(mut services) = start_services(backend).await else {
        return ExitCode::FAILURE;
    };
    let target: Target = services.endpoints().into();
    let mode = match sink_mode(sink, plugin_path, &target).await {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };

    let versions = services.versions.clone();
    let default = match Versions::default_pinned() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut results: Vec<CaseResult> = if cases.is_empty() {
        Vec::new()
    } else {
        run_all(cases, &target, &mode, jobs)
            .await
            .into_iter()
            .map(|(case, outcome)| judge(&case, outcome, &versions, &default, sink.snapshot_set()))
            .collect()
    };
    // Fault cases break the services: after every other case, one at a time.
    for case in &fault_cases {
        let binary = fault_binary.as_deref().expect("checked above");
        eprintln!("fault case {}...", case.name);
        let outcome = harness::faults::run::run(case, &mut services, binary).await;
        results.push(judge_fault(case, outcome));
    }
    drop(services);

    if verbose {
        for r in &results {
            if let Some(text) = &r.rendered {
                println!("=== {}\n{text}", r.case);
            }
        }
    }
    print_table(&results);
    let failed = results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .count();
    let markdown = markdown_report(&results, started.elapsed());
    if let Some(dir) = report.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&report, markdown) {
        Ok(()) => println!("report: {}", report.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", report.display()),
    }
    println!(
        "{} passed, {} failed in {:.1}s",
        results.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        println!("A FAIL or NEW case differs from its snapshot in tests/snapshots/: run `cargo test --test conformance` (fault cases: `--test faults`) and review with `cargo insta review`.");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs the cases, `jobs` at once, with a progress bar; returns each case with its outcome, in
/// the order given.
async fn run_all(
    cases: Vec<Case>,
    target: &Target,
    mode: &SinkMode,
    jobs: usize,
) -> Vec<(Case, Result<Outcome, replay::ReplayError>)> {
    let bar = ProgressBar::new(cases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}").expect("template"),
    );
    let permits = Arc::new(tokio::sync::Semaphore::new(jobs));
    let mut tasks = Vec::new();
    for case in cases {
        let (permits, target, mode, bar) =
            (permits.clone(), target.clone(), mode.clone(), bar.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.expect("semaphore");
            bar.set_message(case.name.clone());
            let outcome = replay::run_case(&case, &target, &mode).await;
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

fn judge(
    case: &Case,
    outcome: Result<Outcome, replay::ReplayError>,
    versions: &Versions,
    default: &Versions,
    set: Option<&str>,
) -> CaseResult {
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return CaseResult {
                case: case.name.clone(),
                verdict: Verdict::Error,
                elapsed: Duration::ZERO,
                phases: Default::default(),
                detail: e.to_string(),
                rendered: None,
            }
        }
    };
    let rendered = render::outcome(&outcome);
    let (judged_by, accepted) = match set {
        Some(set) => (
            format!("{set}/{}", snapshot::name(&case.name)),
            snapshot::accepted_in_set(set, &case.name),
        ),
        None => snapshot::judge_with(&case.name, versions, default),
    };
    let (verdict, detail) = match accepted {
        None => (
            Verdict::New,
            format!(
                "no accepted snapshot at {}",
                snapshot::dir().join(format!("{judged_by}.snap")).display()
            ),
        ),
        Some(accepted) if snapshot::equivalent(&accepted, &rendered) => {
            (Verdict::Pass, summary(&outcome))
        }
        Some(accepted) => (
            Verdict::Fail,
            format!("{judged_by}: {}", first_difference(&accepted, &rendered)),
        ),
    };
    CaseResult {
        case: case.name.clone(),
        verdict,
        elapsed: outcome.elapsed,
        phases: outcome.phases.clone(),
        detail,
        rendered: Some(rendered),
    }
}

/// A fault case against its snapshot (the default one: fault cases have no version variants).
fn judge_fault(case: &Case, outcome: anyhow::Result<harness::faults::FaultOutcome>) -> CaseResult {
    let (verdict, elapsed, detail, rendered) = match outcome {
        Err(e) => (Verdict::Error, Duration::ZERO, format!("{e:#}"), None),
        Ok(o) => {
            let rendered = harness::faults::render::outcome(&o);
            let (verdict, detail) = match snapshot::accepted(&case.name) {
                None => (
                    Verdict::New,
                    format!(
                        "no accepted snapshot at {}",
                        snapshot::path(&case.name).display()
                    ),
                ),
                Some(accepted) if snapshot::matches(&accepted, &rendered) => (
                    Verdict::Pass,
                    format!(
                        "{} rows, {} missing, resumed after {}",
                        o.rows,
                        o.missing(),
                        o.faults
                            .iter()
                            .map(|f| match f.resumed {
                                Some(d) => format!("{:.1}s", d.as_secs_f64()),
                                None => "(not measured)".to_owned(),
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Some(accepted) => (Verdict::Fail, first_difference(&accepted, &rendered)),
            };
            (verdict, o.elapsed, detail, Some(rendered))
        }
    };
    CaseResult {
        case: case.name.clone(),
        verdict,
        elapsed,
        phases: Default::default(),
        detail,
        rendered,
    }
}

fn summary(o: &Outcome) -> String {
    let rows = o.table_state.as_ref().map_or(0, |t| t.rows.len());
    match &o.error {
        None => format!("{rows} rows"),
        Some(e) => format!(
            "{rows} rows, error: {}",
            e.lines().next().unwrap_or_default()
        ),
    }
}

fn first_difference(accepted: &str, rendered: &str) -> String {
    for (i, (a, r)) in accepted.lines().zip(rendered.lines()).enumerate() {
        if a != r {
            return format!("snapshot line {}: expected `{a}`, got `{r}`", i + 1);
        }
    }
    "the outputs differ in length".into()
}

fn area(case: &str) -> &str {
    case.split('/').next().unwrap_or(case)
}

fn print_table(results: &[CaseResult]) {
    let width = results
        .iter()
        .map(|r| r.case.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:6}  {:>7}  detail", "case", "result", "time");
    for r in results {
        println!(
            "{:width$}  {:6}  {:>6.1}s  {}",
            r.case,
            r.verdict.label(),
            r.elapsed.as_secs_f64(),
            r.detail.lines().next().unwrap_or_default()
        );
    }
    print_phases(results);
    println!("\n{:12}  {:>5}  {:>6}", "area", "cases", "passed");
    for (area, (n, passed)) in areas(results) {
        println!("{area:12}  {n:>5}  {passed:>6}");
    }
}

/// Where the cases' time went: the sum and the mean of each phase over the cases that ran.
fn print_phases(results: &[CaseResult]) {
    let mut totals: Vec<(&str, Duration)> = Vec::new();
    for r in results {
        for (phase, took) in &r.phases.0 {
            match totals.iter_mut().find(|(p, _)| p == phase) {
                Some((_, total)) => *total += *took,
                None => totals.push((phase, *took)),
            }
        }
    }
    let ran = results.iter().filter(|r| !r.phases.0.is_empty()).count();
    if ran == 0 {
        return;
    }
    println!("\n{:12}  {:>8}  {:>9}", "phase", "total", "per case");
    for (phase, total) in totals {
        println!(
            "{phase:12}  {:>7.1}s  {:>8.0}ms",
            total.as_secs_f64(),
            total.as_secs_f64() * 1000.0 / ran as f64
        );
    }
}

/// Cases and passes per area (the fixture's folder).
fn areas(results: &[CaseResult]) -> std::collections::BTreeMap<&str, (usize, usize)> {
    let mut areas: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for r in results {
        let entry = areas.entry(area(&r.case)).or_default();
        entry.0 += 1;
        if r.verdict == Verdict::Pass {
            entry.1 += 1;
        }
    }
    areas
}

fn markdown_report(results: &[CaseResult], elapsed: Duration) -> String {
    let areas = areas(results);
    let mut s = format!(
        "# Conformance report\n\n{} cases in {:.1}s\n\n| area | cases | passed |\n|---|---|---|\n",
        results.len(),
        elapsed.as_secs_f64()
    );
    for (area, (n, passed)) in &areas {
        s.push_str(&format!("| {area} | {n} | {passed} |\n"));
    }
    s.push_str("\n| case | result | time | detail |\n|---|---|---|---|\n");
    for r in results {
        let detail = r
            .detail
            .lines()
            .next()
            .unwrap_or_default()
            .replace('|', "\\|");
        s.push_str(&format!(
            "| {} | {} | {:.1}s | {} |\n",
            r.case,
            r.verdict.label(),
            r.elapsed.as_secs_f64(),
            detail
        ));
    }
    s
}
