//! `harness conformance`: every case through the sink under test, each judged against its
//! accepted snapshot; fault cases last, one at a time, with the `sink` binary.

use super::report::{self, CaseResult, Verdict};
use super::{fail, Sink};
use harness::faults::run::SinkUnder;
use harness::fixture::Case;
use harness::recording::{self, Recording};
use harness::replay::{self, Outcome};
use harness::services::BackendChoice;
use harness::staging::{self, RunPrefix};
use harness::versions::Versions;
use harness::{render, snapshot};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Case files or folders; default: the repository's fixtures/. A folder elsewhere is a
    /// user's own: its cases start from its `connect-jdbc.properties` or `connector.properties`
    /// (in a case's folder or a parent, else the seed's) and are judged against its
    /// `snapshots/` (README: Bring your own cases).
    paths: Vec<PathBuf>,
    /// The snapshots folder of cases outside fixtures/, instead of `DIR/snapshots/`.
    #[arg(long)]
    snapshots: Option<PathBuf>,
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
    /// Run on services you already have instead of starting them: QuestDB's HTTP address
    /// (`http://HOST:9000`; its PG wire port is `--questdb-pg-port`). Every topic and table of
    /// the run carries a prefix of its own and is dropped afterwards; cases that would touch
    /// anything else are refused (README: Bring your own cases).
    #[arg(long, requires = "bootstrap_servers")]
    questdb: Option<String>,
    /// QuestDB's PG wire port, with `--questdb`.
    #[arg(long, default_value_t = 8812)]
    questdb_pg_port: u16,
    /// The Kafka cluster to run on, with `--questdb`.
    #[arg(long, requires = "questdb")]
    bootstrap_servers: Option<String>,
    /// Where the services run: `process`, `docker`, or `auto` (docker when an engine
    /// answers and the images are present locally).
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
    /// Kafka brokers: 1, or 3 (a KRaft cluster of local processes: replication factor 3,
    /// min.insync.replicas=2). Cases with network faults need one broker and are left out;
    /// fault cases with `@brokers 3` get a cluster of their own on a one-broker run.
    #[arg(long, env = "KQ_BROKERS", default_value = "1", value_parser = harness::services::parse_brokers)]
    brokers: usize,
}

pub async fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    // The sinks' log lines go to files, one per case: a passing run prints only its progress
    // and its table; a failing case's detail names its file.
    let logs = harness::case_log::default_folder();
    if let Err(e) = harness::case_log::send_to(&logs) {
        return fail(format!("cannot create {}: {e}", logs.display()));
    }
    let cases = match super::discover_all(&args.paths, args.snapshots.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let outside = cases.iter().any(|c| c.outside.is_some());
    // On services the user already has: a prefix for everything the run creates, and only
    // the cases that can keep to it.
    let staging = args.questdb.as_ref().map(|_| RunPrefix::new());
    let cases = match &staging {
        None => cases,
        Some(prefix) => {
            let (kept, refused): (Vec<Case>, Vec<Case>) = cases
                .into_iter()
                .partition(|c| staging::refusal(c).is_none());
            for case in &refused {
                let why = staging::refusal(case).unwrap_or_default();
                eprintln!("leaving out {} on shared services: {why}", case.name);
            }
            kept.into_iter()
                .map(|c| staging::prefixed(c, prefix))
                .collect()
        }
    };
    let (mut fault_cases, mut cases): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.scenario.is_some());
    // A connector reads the properties of its own family only (QuestDB's connector its
    // fixtures/questdb-connector/, the JDBC sinks the seed's).
    if let Some(family) = args.sink.family(args.plugin_path.as_deref()) {
        let before = cases.len();
        cases.retain(|c| c.family() == family);
        if cases.len() < before {
            eprintln!(
                "leaving out {} cases of another connector's properties (running {})",
                before - cases.len(),
                family.label()
            );
        }
    }
    // A connector runs the fault cases in Kafka Connect workers of its own, the variants of
    // its family's write path only (issue 29.3).
    let connect_sink = match args.sink.connect_sink(args.plugin_path.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if let Some(c) = &connect_sink {
        let before = fault_cases.len();
        fault_cases.retain(|case| c.runs(case));
        if fault_cases.len() < before {
            eprintln!(
                "leaving out {} fault case variants of another write path than {}'s",
                before - fault_cases.len(),
                c.label
            );
        }
    } else if !args.sink.runs_fault_cases() && !fault_cases.is_empty() {
        eprintln!(
            "leaving out {} fault cases: they test the sink binary",
            fault_cases.len()
        );
        fault_cases.clear();
    }
    if args.brokers > 1 {
        let before = fault_cases.len();
        fault_cases.retain(|c| !c.scenario.as_ref().is_some_and(|s| s.network_faults()));
        if fault_cases.len() < before {
            eprintln!(
                "leaving out {} fault cases with network faults: their proxies front one broker",
                before - fault_cases.len()
            );
        }
    }
    eprintln!(
        "{} cases ({} fault cases, run last and one at a time); starting services...",
        cases.len() + fault_cases.len(),
        fault_cases.len()
    );
    let binary_faults = match connect_sink {
        Some(_) => &[][..],
        None => &fault_cases[..],
    };
    let fault_binary = match super::sink_binary_for(binary_faults) {
        Ok(binary) => binary,
        Err(e) => return fail(e),
    };
    let set = match args.sink.snapshot_set(args.plugin_path.as_deref()) {
        Ok(set) => set,
        Err(e) => return fail(e),
    };
    let default = match Versions::default_pinned() {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    // Fault cases with network faults need the proxies in front of QuestDB and Kafka.
    let proxied = fault_cases
        .iter()
        .any(|c| c.scenario.as_ref().is_some_and(|s| s.network_faults()));
    let (mut services, target, _clean_up) = match (&staging, &args.questdb) {
        (Some(prefix), Some(url)) => {
            let bootstrap = args.bootstrap_servers.as_deref().unwrap_or_default();
            let target = match staging::target(url, args.questdb_pg_port, bootstrap, prefix) {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            let connection = cleanup_connection(&cases, &target);
            let guard = CleanUp(Some((target.clone(), connection, prefix.clone())));
            (None, target, guard)
        }
        _ => match super::start_services_with(args.backend, proxied, args.brokers).await {
            Ok(s) => {
                let target = s.endpoints().into();
                (Some(s), target, CleanUp(None))
            }
            Err(e) => return fail(e),
        },
    };
    let mode = match args.sink.mode(args.plugin_path, &target).await {
        Ok(mode) => mode,
        Err(e) => return fail(e),
    };

    // Shared services are judged as the default versions: their snapshots are the only ones.
    let versions = services
        .as_ref()
        .map_or_else(|| default.clone(), |s| s.versions.clone());
    let mut results: Vec<CaseResult> = if cases.is_empty() {
        Vec::new()
    } else {
        super::run_all(cases, &target, &mode, args.jobs)
            .await
            .into_iter()
            .map(|(case, outcome)| {
                let judged = Judged {
                    versions: &versions,
                    default: &default,
                    set: set.as_deref(),
                    prefix: staging.as_ref(),
                };
                judge(&case, outcome, &judged)
            })
            .collect()
    };
    // Fault cases break the services: after every other case, one at a time. Those of a
    // cluster (`@brokers 3`) on a one-broker run get a cluster of their own, started once.
    let mut cluster: Option<Result<harness::services::Services, String>> = None;
    for case in &fault_cases {
        eprintln!("fault case {}...", case.name);
        let brokers = case.scenario.as_ref().map_or(1, |s| s.brokers);
        let services = match services.as_mut() {
            Some(s) if s.brokers().len() < brokers => {
                if cluster.is_none() {
                    eprintln!("starting a three-broker cluster for the @brokers 3 cases...");
                    cluster = Some(super::start_services_with(args.backend, false, brokers).await);
                }
                match cluster.as_mut().expect("started above") {
                    Ok(c) => c,
                    Err(e) => {
                        let e = anyhow::anyhow!("starting a three-broker cluster: {e}");
                        results.push(judge_fault(case, Ok(Err(e)), set.as_deref()));
                        continue;
                    }
                }
            }
            s => s.expect("fault cases run on the harness's services"),
        };
        let under = match &connect_sink {
            Some(c) => match c.not_applicable(case) {
                Some(why) => {
                    let text = harness::faults::worker::not_applicable(case, &c.label, &why);
                    results.push(judge_fault(case, Err(text), set.as_deref()));
                    continue;
                }
                None => SinkUnder::Connect(c.clone()),
            },
            None => SinkUnder::Binary(fault_binary.clone().expect("built above")),
        };
        let outcome = harness::case_log::scope(
            &case.name,
            harness::faults::run::run_sink(case, services, &under),
        )
        .await;
        results.push(judge_fault(case, Ok(outcome), set.as_deref()));
    }
    drop(mode);
    drop(cluster);
    drop(services);
    drop(_clean_up);
    for r in results.iter_mut().filter(|r| r.verdict != Verdict::Pass) {
        name_log(r);
    }

    if args.verbose {
        for r in &results {
            if let Some(text) = &r.rendered {
                println!("=== {}\n{text}", r.case);
            }
        }
    }
    report::print_table(&results);
    let failed = results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        .count();
    report::write(&args.report, &report::markdown(&results, started.elapsed()));
    println!(
        "{} passed, {} failed in {:.1}s",
        results.len() - failed,
        failed,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 && outside {
        println!("A FAIL or NEW case of your own folder differs from its snapshot there: read the difference above, or accept this run's outcome with INSTA_UPDATE=always (README: Bring your own cases).");
        return ExitCode::FAILURE;
    }
    if failed > 0 {
        println!("A FAIL or NEW case differs from its snapshot in tests/snapshots/: run `cargo test --test conformance` (fault cases: `--test faults`) and review with `cargo insta review`.");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Drops a run's topics and tables on shared services when it goes out of scope: when the run
/// ends, passed, failed or panicked.
struct CleanUp(Option<(replay::Target, sink::config::Connection, RunPrefix)>);

impl Drop for CleanUp {
    fn drop(&mut self) {
        let Some((target, connection, prefix)) = self.0.take() else {
            return;
        };
        // On a thread of its own: this may run inside the command's runtime, or unwinding.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(staging::clean_up(&target, &connection, &prefix))
        })
        .join();
        match done {
            Ok(Ok(dropped)) => eprintln!("dropped this run's {} tables and topics", dropped.len()),
            Ok(Err(e)) => eprintln!("error: cleaning up this run's topics and tables: {e}"),
            Err(_) => eprintln!("error: cleaning up this run's topics and tables panicked"),
        }
    }
}

/// The QuestDB login to clean up with: the first case's `connection.user` and
/// `connection.password` (the user's own file's), else QuestDB's defaults.
fn cleanup_connection(cases: &[Case], target: &replay::Target) -> sink::config::Connection {
    let mut connection = harness::readback::connection(&target.pg_host, target.pg_port);
    if let Some(props) = cases.first().and_then(|c| replay::case_properties(c).ok()) {
        if let Some(user) = props.get("connection.user") {
            connection.user = user.clone();
        }
        if let Some(password) = props.get("connection.password") {
            connection.password = password.clone();
        }
    }
    connection
}

/// Names the case's log file, if it logged anything, on the first line of its detail (the one
/// the table prints).
fn name_log(r: &mut CaseResult) {
    if let Some(log) = harness::case_log::of_case(&r.case) {
        let (first, rest) = r.detail.split_once('\n').unwrap_or((&r.detail, ""));
        let shown = log
            .strip_prefix(harness::fixture::workspace_root())
            .unwrap_or(&log);
        r.detail = format!(
            "{first} (log: {}){}{rest}",
            shown.display(),
            if rest.is_empty() { "" } else { "\n" }
        );
    }
}

/// An ordinary case against its snapshot: its own folder's or the set's for a connector
/// ([`judge_at`]), else
/// ours (with the variant for these service versions, if it has one).
/// What a case is judged with: the service versions (a variant snapshot), a connector's set,
/// and on shared services the run's prefix (left out of what is compared).
struct Judged<'a> {
    versions: &'a Versions,
    default: &'a Versions,
    set: Option<&'a str>,
    prefix: Option<&'a RunPrefix>,
}

fn judge(
    case: &Case,
    outcome: Result<Outcome, replay::ReplayError>,
    judged: &Judged<'_>,
) -> CaseResult {
    let Judged {
        versions,
        default,
        set,
        prefix,
    } = *judged;
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
    let rendered = match prefix {
        Some(p) => p.strip(&rendered),
        None => rendered,
    };
    if let Some(outside) = &case.outside {
        let dir = &outside.snapshots;
        let label = dir.join(snapshot::name(&case.name)).display().to_string();
        return judge_at(dir, label, case, &outcome, rendered);
    }
    if let Some(set) = set {
        let label = format!("{set}/{}", snapshot::name(&case.name));
        return judge_at(&snapshot::set_dir(set), label, case, &outcome, rendered);
    }
    let (judged_by, accepted) = snapshot::judge_with(&case.name, versions, default);
    let (verdict, detail) = match accepted {
        None => (
            Verdict::New,
            format!(
                "no accepted snapshot at {}",
                snapshot::dir().join(format!("{judged_by}.snap")).display()
            ),
        ),
        Some(accepted) if snapshot::equivalent(&accepted, &rendered) => {
            (Verdict::Pass, report::summary(&outcome))
        }
        Some(accepted) => (
            Verdict::Fail,
            format!(
                "{judged_by}: {}",
                snapshot::first_difference("snapshot", &accepted, &rendered)
            ),
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

/// A case against the snapshots in `dir` (`judged_by` names its snapshot), recorded as insta
/// would (`INSTA_UPDATE`): a connector's set (no test can run Confluent's JDBC sink, so this run
/// is where its snapshots are written), or a user's own folder.
fn judge_at(
    dir: &std::path::Path,
    judged_by: String,
    case: &Case,
    outcome: &Outcome,
    rendered: String,
) -> CaseResult {
    let accepted = snapshot::accepted_at(dir, &case.name);
    let (verdict, detail) = match recording::record_at(dir, &case.name, &rendered) {
        Recording::Same => (Verdict::Pass, report::summary(outcome)),
        Recording::Accepted(path) => (Verdict::Pass, format!("written: {}", path.display())),
        Recording::Pending(path) => (
            if accepted.is_some() {
                Verdict::Fail
            } else {
                Verdict::New
            },
            format!(
                "to review (cargo insta review, or accept with INSTA_UPDATE=always): {}",
                path.display()
            ),
        ),
        Recording::Differs => match &accepted {
            None => (Verdict::New, format!("no accepted snapshot {judged_by}")),
            Some(a) => (
                Verdict::Fail,
                format!(
                    "{judged_by}: {}",
                    snapshot::first_difference("snapshot", a, &rendered)
                ),
            ),
        },
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

/// A fault case against its snapshot (the default one: fault cases have no version variants;
/// a connector's in its `set`). `Err(text)`: the case does not apply to the connector, `text`
/// saying why is its outcome.
fn judge_fault(
    case: &Case,
    outcome: Result<anyhow::Result<harness::faults::FaultOutcome>, String>,
    set: Option<&str>,
) -> CaseResult {
    let outcome = match outcome {
        Ok(Ok(o)) => Ok((
            harness::faults::render::outcome(&o),
            fault_summary(&o),
            o.elapsed,
        )),
        Ok(Err(e)) => Err(e),
        Err(text) => Ok((text, "not applicable".to_owned(), Duration::ZERO)),
    };
    let (verdict, elapsed, detail, rendered) = match outcome {
        Err(e) => (Verdict::Error, Duration::ZERO, format!("{e:#}"), None),
        Ok((rendered, summary, elapsed)) => {
            let dir = match (&case.outside, set) {
                (Some(o), _) => o.snapshots.clone(),
                (None, Some(set)) => snapshot::set_dir(set),
                (None, None) => snapshot::dir(),
            };
            let (accepted, path) = (
                snapshot::accepted_at(&dir, &case.name),
                dir.join(format!("{}.snap", snapshot::name(&case.name))),
            );
            let (verdict, detail) = match accepted {
                None => (
                    Verdict::New,
                    format!("no accepted snapshot at {}", path.display()),
                ),
                Some(accepted) if snapshot::matches(&accepted, &rendered) => {
                    (Verdict::Pass, summary)
                }
                Some(accepted) => (
                    Verdict::Fail,
                    snapshot::first_difference("snapshot", &accepted, &rendered),
                ),
            };
            (verdict, elapsed, detail, Some(rendered))
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

fn fault_summary(o: &harness::faults::FaultOutcome) -> String {
    let resumed: Vec<String> = o
        .faults
        .iter()
        .map(|f| match f.resumed {
            Some(d) => format!("{:.1}s", d.as_secs_f64()),
            None => "(not measured)".to_owned(),
        })
        .collect();
    format!(
        "{} rows, {} missing, resumed after {}",
        o.rows,
        o.missing(),
        resumed.join(", ")
    )
}
