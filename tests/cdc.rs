//! Change data capture end to end (issue 27.3): each `fixtures/cdc/*.cdc` case runs its SQL on a
//! real PostgreSQL while Debezium's Postgres connector (in a Kafka Connect worker) streams it
//! into Kafka, then the `sink` binary stores the topics in QuestDB; what QuestDB holds must
//! equal the reviewed snapshot `tests/snapshots/cdc__<name>.snap`. The upstream scenario
//! (`fixtures/cdc/slow/`, 200,010 changes) is too slow for CI: `harness cdc --slow` runs it.
//!
//! A test binary of its own: PostgreSQL and the source worker start once for it, beside its own
//! ZooKeeper, Kafka and QuestDB.

use harness::cdc::{self, CdcCase, CdcTarget, SourceWorker};
use harness::services::{start_timeout, Postgres, Services};
use harness::snapshot;
use rstest::rstest;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The services, PostgreSQL and the source worker, started once (PostgreSQL beside the worker).
fn on() -> CdcTarget {
    static ON: OnceLock<Result<CdcTarget, String>> = OnceLock::new();
    ON.get_or_init(|| {
        let services = Services::shared();
        let bootstrap = services.kafka.bootstrap();
        let (postgres, worker) = std::thread::scope(|scope| {
            let postgres = scope.spawn(Postgres::start);
            let worker = SourceWorker::start(&bootstrap, start_timeout(Duration::from_secs(120)));
            (postgres.join().expect("PostgreSQL start"), worker)
        });
        Ok(CdcTarget {
            target: services.endpoints().into(),
            postgres: Arc::new(postgres.map_err(|e| e.to_string())?),
            worker: Arc::new(worker.map_err(|e| e.to_string())?),
            sink: harness::replay::sink_binary()?,
            timeout: harness::wait::case_timeout(),
        })
    })
    .clone()
    .unwrap_or_else(|e| panic!("starting PostgreSQL and the Debezium worker failed:\n{e}"))
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case(
    #[files("fixtures/cdc/**/*.cdc")]
    #[exclude("/slow/")]
    path: PathBuf,
) {
    let case = CdcCase::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let on = tokio::task::spawn_blocking(on).await.expect("start");
    let outcome = cdc::run_case(&case, &on)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    snapshot::assert(
        &snapshot::name(&case.name),
        &format!("{}.cdc", case.name),
        &cdc::render::outcome(&outcome),
    );
}
