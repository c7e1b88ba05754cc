//! `harness kill9`: exactly-once under kill -9, the sink binary SIGKILLed again and again while
//! it stores a stream into a native DEDUP table; then 0 missing and 0 duplicated, or a failure.

use super::fail;
use harness::replay::{self, Target};
use harness::services::BackendChoice;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
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
}

pub async fn run(args: Args) -> ExitCode {
    let binary = match replay::sink_binary_or_build() {
        Ok(binary) => binary,
        Err(e) => return fail(e),
    };
    let services = match super::start_services(args.backend).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let target: Target = services.endpoints().into();
    let started = Instant::now();
    let (kills, chunk) = (args.kills, args.chunk);
    let result = harness::kill9::run(&target, &binary, kills, chunk, true).await;
    if args.control {
        match harness::kill9::run(&target, &binary, kills, chunk, false).await {
            Ok(r) => println!(
                "control without DEDUP, kill -9 x{}: {} records produced, {} rows stored, {} missing, {} duplicated",
                r.kills, r.produced, r.rows, r.missing, r.duplicated
            ),
            Err(e) => eprintln!("control: error: {e}"),
        }
    }
    drop(services);
    let r = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
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
        fail("exactly-once violated")
    }
}
