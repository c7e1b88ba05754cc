//! `harness oracle`: the sink's decoder against Kafka's own JsonConverter on a large sample.

use super::fail;
use harness::fixture;
use harness::oracle::{compare_corpus, Oracle, Tally};
use indicatif::ProgressBar;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Random envelopes to draw.
    #[arg(long, default_value_t = 100_000)]
    envelopes: usize,
    /// Seed of the random envelopes (the same seed draws the same envelopes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many bugs to print in full.
    #[arg(long, default_value_t = 5)]
    show: usize,
}

pub fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    let tally = match compare(&args) {
        Ok(tally) => tally,
        Err(e) => return fail(e),
    };
    print!("{}", tally.report(args.show));
    println!("in {:.1}s", started.elapsed().as_secs_f64());
    if tally.bugs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn compare(args: &Args) -> Result<Tally, String> {
    let mut oracle =
        Oracle::start(&[("schemas.enable".into(), "true".into())]).map_err(|e| e.to_string())?;
    let bar = ProgressBar::new(args.envelopes as u64);
    let tally = compare_corpus(
        &mut oracle,
        &fixture::root(),
        args.seed,
        args.envelopes,
        |i| {
            if i % 1000 == 0 {
                bar.set_position(i as u64);
            }
        },
    )?;
    bar.finish_and_clear();
    Ok(tally)
}
