//! `harness`: the conformance run on real services, and a way to start those services by hand.
//!
//! This file only parses arguments and dispatches: each command lives in `cmd/<command>.rs`,
//! with its arguments, and the printing they share in `cmd/report.rs`.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

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
    Conformance(cmd::conformance::Args),
    /// Run the conformance suite on every combination of service versions (local processes)
    /// and report, per case and combination, whether it differs from the default snapshot.
    Matrix(cmd::matrix::Args),
    /// Run the cases through two sinks under test on the same services and print, per case,
    /// whether they created the same table shape, column types and rows.
    Compare(cmd::compare::Args),
    /// Compare the sink's decoder with Kafka's own JsonConverter: every fixture record, their
    /// mutations, and random envelopes; print identical / documented deviation / bug counts.
    Oracle(cmd::oracle::Args),
    /// Write the first records of a live topic as a `.case` file (values as they are, keys and
    /// timestamps as directives), to run with `conformance DIR`.
    Record(cmd::record::Args),
    /// Start the services, print their endpoints, and keep them until Ctrl-C.
    Services(cmd::services::Args),
    /// Exactly-once under kill -9: the sink binary stores a stream into a native DEDUP table
    /// (pk.mode=kafka) and is SIGKILLed mid-stream again and again; then 0 missing, 0 duplicated.
    Kill9(cmd::kill9::Args),
    /// Random fault schedules drawn from a seed (kills, clean restarts, stops and pauses of
    /// QuestDB, Kafka, ZooKeeper and the sink processes), each checked against invariants; a
    /// failing one is printed as a fault case and shrunk.
    Chaos(cmd::chaos::Args),
    /// Change data capture: the fixtures/cdc/ cases on PostgreSQL, Debezium's Postgres connector
    /// and the sink binary, judged against their snapshots (`--slow`: the 200,010-change one).
    Cdc(cmd::cdc::Args),
    /// Print throughput numbers: decoding alone, then Kafka -> sink -> QuestDB on real services.
    Bench(cmd::bench::Args),
    /// The bench's minimal pipe (its limit), one process of it: `harness bench` runs it.
    #[command(hide = true)]
    BenchPipe(harness::bench::pipe::PipeArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(harness::case_log::Writer)
        // Log lines go to files in `conformance`: no colour codes in them.
        .with_ansi(false)
        .init();
    match Cli::parse().command {
        // `services` installs its signal handlers before anything else, on a runtime of its own.
        Command::Services(args) => cmd::services::run(args),
        Command::Oracle(args) => cmd::oracle::run(args),
        Command::Record(args) => cmd::record::run(args),
        Command::Conformance(args) => runtime().block_on(cmd::conformance::run(args)),
        Command::Matrix(args) => runtime().block_on(cmd::matrix::run(args)),
        Command::Compare(args) => runtime().block_on(cmd::compare::run(args)),
        Command::Kill9(args) => runtime().block_on(cmd::kill9::run(args)),
        Command::Chaos(args) => runtime().block_on(cmd::chaos::run(args)),
        Command::Cdc(args) => runtime().block_on(cmd::cdc::run(args)),
        Command::Bench(args) => runtime().block_on(cmd::bench::run(args)),
        Command::BenchPipe(args) => match harness::bench::pipe::run(&args) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => cmd::fail(format!("{e:#}")),
        },
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}
