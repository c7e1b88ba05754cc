//! `harness matrix`: the cases on every combination of service versions (local processes),
//! each judged against the default snapshot or the case's reviewed variant; fault cases run
//! too, last and one at a time.

use super::{fail, report};
use harness::fixture::Case;
use harness::matrix::{self, Cell, Matrix};
use harness::render;
use harness::replay::{SinkMode, Target};
use harness::services::{BackendChoice, Services};
use harness::versions::{KafkaMode, Versions};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
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
}

pub async fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    let (default, all) = match (Versions::default_pinned(), Versions::matrix()) {
        (Ok(d), Ok(m)) => (d, m),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let combos = matrix::combinations(&default, all, &args.questdb, &args.kafka);
    let cases = match super::discover_all(&args.paths, None) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // Fault cases run on each combination too, after the others and one at a time, with the
    // sink binary (built first if missing or stale).
    let (faults, ordinary): (Vec<Case>, Vec<Case>) =
        cases.into_iter().partition(|c| c.scenario.is_some());
    let total = ordinary.len() + faults.len();
    // Network-fault cases need the Toxiproxy proxies, in every column.
    let proxied = faults
        .iter()
        .any(|c| c.scenario.as_ref().is_some_and(|s| s.network_faults()));
    let binary = match super::sink_binary_for(&faults) {
        Ok(binary) => binary,
        Err(e) => return fail(e),
    };
    let mut columns: Vec<Vec<Cell>> = Vec::new();
    for (i, versions) in combos.iter().enumerate() {
        eprintln!(
            "[{}/{}] {versions}: {} cases ({} fault cases); starting services...",
            i + 1,
            combos.len(),
            total,
            faults.len()
        );
        let start = {
            let versions = versions.clone();
            tokio::task::spawn_blocking(move || {
                Services::start_with(BackendChoice::Process, &versions, proxied)
            })
            .await
            .expect("start task")
        };
        let cells = match start {
            Err(e) => vec![Cell::Error(e.to_string()); total],
            Ok(mut services) => {
                let target: Target = services.endpoints().into();
                let outcomes =
                    super::run_all(ordinary.clone(), &target, &SinkMode::InProcess, args.jobs)
                        .await;
                let rendered: Vec<(String, Result<String, String>)> = outcomes
                    .iter()
                    .map(|(case, outcome)| {
                        let text = outcome.as_ref().map(render::outcome);
                        (case.name.clone(), text.map_err(|e| e.to_string()))
                    })
                    .collect();
                let mut cells: Vec<Cell> = rendered
                    .iter()
                    .map(|(case, text)| {
                        let text = text.as_deref().map_err(String::as_str);
                        matrix::classify(case, text, versions, &default)
                    })
                    .collect();
                for case in &faults {
                    let kraft = versions.kafka_mode() == KafkaMode::Kraft;
                    if kraft && case.scenario.as_ref().is_some_and(|s| s.breaks_zookeeper()) {
                        let why = "breaks ZooKeeper; Kafka runs without it in KRaft mode";
                        cells.push(Cell::NotApplicable(why.into()));
                        continue;
                    }
                    let binary = binary.as_deref().expect("built above");
                    eprintln!("fault case {}...", case.name);
                    let outcome = harness::faults::run::run(case, &mut services, binary).await;
                    let text = outcome.map(|o| harness::faults::render::outcome(&o));
                    let text = text.map_err(|e| format!("{e:#}"));
                    let text = text.as_deref().map_err(String::as_str);
                    cells.push(matrix::classify(&case.name, text, versions, &default));
                }
                drop(services);
                cells
            }
        };
        columns.push(cells);
    }
    let matrix = Matrix {
        combos,
        rows: ordinary
            .iter()
            .chain(&faults)
            .enumerate()
            .map(|(i, case)| {
                let cells = columns.iter().map(|c| c[i].clone()).collect();
                (case.name.clone(), cells)
            })
            .collect(),
    };
    print!("{}", matrix.terminal());
    report::write(&args.report, &matrix.markdown());
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
