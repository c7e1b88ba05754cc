//! `harness bench`: throughput and memory, every number on the same services and the same
//! topic; targets are printed, never asserted.

use super::fail;
use harness::bench;
use harness::replay::{self, Target};
use harness::services::BackendChoice;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Records to send through the pipeline.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// The connector's batch.size.
    #[arg(long, default_value_t = 3000)]
    batch_size: usize,
    /// Where the services run: process, docker, or auto (KQ_BACKEND).
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(args: Args) -> ExitCode {
    let services = match super::start_services(args.backend).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let target: Target = services.endpoints().into();
    let result = measure(&target, args.records, args.batch_size).await;
    drop(services);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

async fn measure(target: &Target, records: u64, batch_size: usize) -> anyhow::Result<()> {
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
