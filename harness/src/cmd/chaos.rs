//! `harness chaos --seed S --minutes M`: random fault schedules on one set of services, each
//! checked against invariants ([`harness::chaos`]); exit 1 if any failed.

use super::fail;
use harness::chaos::draw::Bounds;
use harness::chaos::run::{Options, Until};
use harness::replay;
use harness::services::BackendChoice;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The seed schedules are drawn from: the same seed draws the same schedules.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Draw schedules until this many minutes have passed (a schedule in flight finishes).
    #[arg(long, conflicts_with = "schedules")]
    minutes: Option<f64>,
    /// Run this many schedules instead.
    #[arg(long)]
    schedules: Option<u32>,
    /// Short schedules (2,000-4,000 records, one fault of QuestDB or a sink), as the test runs.
    #[arg(long)]
    quick: bool,
    /// Re-runs at most to shrink one failing schedule.
    #[arg(long, default_value_t = 8)]
    shrink_runs: u32,
    /// Where the services run: process, docker, or auto (KQ_BACKEND).
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(args: Args) -> ExitCode {
    let until = match (args.minutes, args.schedules) {
        (_, Some(n)) => Until::Schedules(n),
        (Some(m), None) if m > 0.0 => Until::Elapsed(Duration::from_secs_f64(m * 60.0)),
        (Some(m), None) => return fail(format!("--minutes {m}: expected a positive number")),
        (None, None) => Until::Elapsed(Duration::from_secs(10 * 60)),
    };
    let binary = match replay::sink_binary_or_build() {
        Ok(binary) => binary,
        Err(e) => return fail(e),
    };
    // The full bounds draw network faults: the services start behind their proxies, on one
    // broker (the proxies front one).
    let proxied = !args.quick;
    let mut services = match super::start_services_with(args.backend, proxied, 1).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let bounds = match args.quick {
        true => Bounds::quick(),
        false => Bounds::full(services.zookeeper.is_some()),
    };
    let options = Options {
        seed: args.seed,
        until,
        bounds,
        shrink_runs: args.shrink_runs,
    };
    let started = Instant::now();
    println!("chaos: seed {}, {until:?}", args.seed);
    let report = harness::chaos::run::run(&options, &mut services, &binary, &mut |line| {
        println!("{line}")
    })
    .await;
    drop(services);
    println!(
        "\nchaos: seed {} in {:.0}s\n{}",
        args.seed,
        started.elapsed().as_secs_f64(),
        report.tally.table()
    );
    for f in &report.failures {
        println!(
            "FAILED: {} (schedule {}): {}; smallest failing: {}",
            f.schedule.file_name(),
            f.schedule.index,
            f.reasons.join("; ").lines().next().unwrap_or_default(),
            f.smallest.summary()
        );
    }
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
