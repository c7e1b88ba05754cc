//! `harness cdc`: the change-data-capture cases (`fixtures/cdc/`) on services of its own, with
//! PostgreSQL and Debezium's Postgres connector; `--slow` adds `fixtures/cdc/slow/` (the
//! upstream scenario, 200,010 changes, minutes). Each case is judged against its snapshot as
//! `cargo test --test cdc` judges it; `INSTA_UPDATE=always` writes the snapshots instead.

use super::fail;
use harness::cdc::{self, CdcCase, CdcTarget, SourceWorker};
use harness::replay::Target;
use harness::services::{start_timeout, BackendChoice, Postgres};
use harness::snapshot;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Case files (default: fixtures/cdc/*.cdc).
    paths: Vec<PathBuf>,
    /// Also the slow cases in fixtures/cdc/slow/.
    #[arg(long)]
    slow: bool,
    /// Print each case's whole outcome.
    #[arg(long)]
    verbose: bool,
    /// Where Kafka and QuestDB run: process, docker, or auto (KQ_BACKEND). PostgreSQL and the
    /// Connect worker are local processes either way.
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(args: Args) -> ExitCode {
    let paths = if args.paths.is_empty() {
        cdc::run::discover(args.slow)
    } else {
        args.paths.clone()
    };
    let cases: Result<Vec<CdcCase>, String> = paths.iter().map(|p| CdcCase::load(p)).collect();
    let cases = match cases {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return fail("no .cdc case found"),
        Err(e) => return fail(e),
    };
    let sink = match harness::replay::sink_binary_or_build() {
        Ok(b) => b,
        Err(e) => return fail(e),
    };
    let services = match super::start_services(args.backend).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let bootstrap = services.kafka.bootstrap();
    let started = tokio::task::spawn_blocking(move || {
        std::thread::scope(|scope| {
            let postgres = scope.spawn(Postgres::start);
            let worker = SourceWorker::start(&bootstrap, start_timeout(Duration::from_secs(120)));
            (postgres.join().expect("PostgreSQL start"), worker)
        })
    })
    .await
    .expect("start task");
    let on = match started {
        (Ok(postgres), Ok(worker)) => CdcTarget {
            target: Target::from(services.endpoints()),
            postgres: Arc::new(postgres),
            worker: Arc::new(worker),
            sink,
            // The slow cases stream 200,010 changes: minutes, not the minute a case gets.
            timeout: match args.slow {
                true => harness::wait::case_timeout().max(Duration::from_secs(1800)),
                false => harness::wait::case_timeout(),
            },
        },
        (Err(e), _) => return fail(e.to_string()),
        (_, Err(e)) => return fail(e.to_string()),
    };
    let update = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always");
    let mut failed = 0;
    for case in &cases {
        let began = Instant::now();
        let outcome = match cdc::run_case(case, &on).await {
            Ok(o) => o,
            Err(e) => {
                failed += 1;
                println!(
                    "ERROR {} ({:.1}s): {e}",
                    case.name,
                    began.elapsed().as_secs_f64()
                );
                continue;
            }
        };
        let rendered = cdc::render::outcome(&outcome);
        let name = snapshot::name(&case.name);
        let phases: Vec<String> = outcome
            .phases
            .iter()
            .map(|(p, d)| format!("{p} {:.1}s", d.as_secs_f64()))
            .collect();
        let verdict = match snapshot::accepted(&case.name) {
            _ if update => {
                snapshot::assert(&name, &format!("{}.cdc", case.name), &rendered);
                "written".to_owned()
            }
            Some(accepted) if snapshot::matches(&accepted, &rendered) => "pass".to_owned(),
            Some(accepted) => {
                failed += 1;
                format!(
                    "FAIL {}",
                    snapshot::first_difference("snapshot", &accepted, &rendered)
                )
            }
            None => {
                failed += 1;
                "NEW (no snapshot; INSTA_UPDATE=always writes it)".to_owned()
            }
        };
        println!(
            "{verdict}: {} in {:.1}s ({})",
            case.name,
            began.elapsed().as_secs_f64(),
            phases.join(", ")
        );
        if args.verbose {
            println!("{rendered}");
        }
    }
    drop(on);
    drop(services);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        fail(format!("{failed} of {} cases did not pass", cases.len()))
    }
}
