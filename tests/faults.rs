//! Fault cases (`fixtures/faults/*.case`, issue 11): the `sink` binary stores generated records
//! while a sink process, QuestDB, the Kafka broker or ZooKeeper is killed, restarted or stopped
//! for a while; the outcome (records, rows, missing, duplicated, resume, the sink's error) must
//! equal the accepted snapshot `tests/snapshots/faults__<name>.snap`.
//!
//! A test binary of its own: the cases break its services, which no other test uses, and run
//! one at a time (they hold the services' lock). An empty glob does not compile.

use harness::fixture::{self, Case};
use harness::services::Services;
use harness::{faults, snapshot};
use rstest::rstest;
use std::path::PathBuf;
use std::sync::OnceLock;
use tokio::sync::Mutex;

fn services() -> &'static Mutex<Services> {
    static SERVICES: OnceLock<Result<Mutex<Services>, String>> = OnceLock::new();
    match SERVICES.get_or_init(|| Services::start().map(Mutex::new).map_err(|e| e.to_string())) {
        Ok(services) => services,
        Err(e) => panic!("starting ZooKeeper, Kafka and QuestDB failed:\n{e}"),
    }
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case(#[files("fixtures/faults/*.case")] path: PathBuf) {
    let root = fixture::root().canonicalize().expect("fixtures folder");
    let file = Case::load(&path, &root).unwrap_or_else(|e| panic!("{e}"));
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let lock = tokio::task::spawn_blocking(services)
        .await
        .expect("services");
    // Every variant (`@paths`, `@tolerance`) runs and is judged against its own snapshot; the
    // test fails after the last one, naming each that failed.
    // `@ci` picks the variants CI runs (the whole matrix takes about half an hour on two cores);
    // `KQ_FAULTS=all` runs every one of them.
    let variants = file.ci_variants();
    let mut failed = Vec::new();
    for case in &variants {
        // One case at a time (a case that panicked releases the lock too).
        let mut services = lock.lock().await;
        let outcome = faults::run::run(case, &mut services, &binary).await;
        drop(services);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                failed.push(format!("{}: {e:#}", case.name));
                continue;
            }
        };
        println!("{}: {outcome:?}", case.name);
        println!(
            "{}: missing {}, duplicated {}, resumed {:?}, wall {:.1}s",
            case.name,
            outcome.missing(),
            outcome.duplicated(),
            outcome.faults.iter().map(|f| f.resumed).collect::<Vec<_>>(),
            outcome.elapsed.as_secs_f64()
        );
        let rendered = faults::render::outcome(&outcome);
        let judged = std::panic::catch_unwind(|| {
            snapshot::assert(&snapshot::name(&case.name), &case.name, &rendered)
        });
        if judged.is_err() {
            failed.push(format!("{}: differs from its snapshot", case.name));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} variant(s) failed:\n{}",
        failed.len(),
        variants.len(),
        failed.join("\n")
    );
}
