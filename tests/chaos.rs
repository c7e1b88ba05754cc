//! `harness chaos` with a fixed seed (issue 26): two short schedules drawn from it, each a
//! fault case run by the fault runner on real services, must keep every invariant (nothing
//! missing, no duplicate on a DEDUP table, no committed offset ahead of the stored rows, every
//! fault mid-stream, nothing dead-lettered, the sink resumed).
//!
//! A test binary of its own: the schedules break its services, which no other test uses.

use harness::chaos::draw::Bounds;
use harness::chaos::run::{self, Options, Until};
use harness::services::Services;

/// Drawn with `Bounds::quick()`: a pause of QuestDB on PG wire into a DEDUP table with a dead
/// letter topic, then a pause of one of two sink processes. `harness chaos --seed 34
/// --schedules 2 --quick` runs the same.
const SEED: u64 = 34;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_short_schedules_keep_every_invariant() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let mut services = tokio::task::spawn_blocking(Services::start)
        .await
        .expect("start task")
        .unwrap_or_else(|e| panic!("starting ZooKeeper, Kafka and QuestDB failed:\n{e}"));
    let options = Options {
        seed: SEED,
        until: Until::Schedules(2),
        bounds: Bounds::quick(),
        // A failure here is printed as its case; shrinking it is `harness chaos`'s job.
        shrink_runs: 0,
    };
    let mut lines = Vec::new();
    let report = run::run(&options, &mut services, &binary, &mut |line| {
        println!("{line}");
        lines.push(line)
    })
    .await;
    drop(services);
    println!("{}", report.tally.table());
    assert_eq!(report.tally.schedules, 2);
    assert!(
        report.failures.is_empty(),
        "{} schedule(s) failed:\n{}",
        report.failures.len(),
        lines.join("\n")
    );
}
