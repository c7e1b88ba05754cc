//! `harness record`: the first records of a live topic written down as a `.case` file, to run
//! with `harness conformance DIR` against a connector's properties (README: Bring your own
//! cases).

use super::fail;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The Kafka cluster to read from.
    #[arg(long)]
    bootstrap_servers: String,
    /// The topic (its partition 0, from the beginning).
    #[arg(long)]
    topic: String,
    /// How many records (fewer if the partition holds fewer).
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// The file to write; default `<topic>.case` here. An existing file is never overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> ExitCode {
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.case", args.topic)));
    if out.exists() {
        return fail(format!("{} exists: remove it or pass --out", out.display()));
    }
    let records = match harness::kafka::read_first(&args.bootstrap_servers, &args.topic, args.count)
    {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if records.is_empty() {
        return fail(format!(
            "topic {} holds no records at {} (partition 0)",
            args.topic, args.bootstrap_servers
        ));
    }
    let text = match harness::case_writer::render(&args.topic, &records) {
        Ok(t) => t,
        Err(e) => return fail(format!("topic {}: {e}", args.topic)),
    };
    if let Err(e) = std::fs::write(&out, text) {
        return fail(format!("cannot write {}: {e}", out.display()));
    }
    println!(
        "{}: {} records of {}",
        out.display(),
        records.len(),
        args.topic
    );
    ExitCode::SUCCESS
}
