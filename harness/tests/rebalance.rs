//! Rebalances on real services (issue 25, deliverables 3 and 4): sink processes started with
//! identical settings (no `--task`, as a Deployment's replicas) share a topic's partitions
//! while a third joins and leaves mid-stream and QuestDB stops for a few seconds. Committed
//! offsets never go backwards, nothing is missing, and an upsert table fed rising values per
//! key ends with each key's last value: no revoked partition's old row lands after its new
//! owner's newer one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use harness::kafka;
use harness::services::{BackendChoice, FaultAction, ServiceName, Services};
use sink::write::pg::QuestDb;
use sink::SinkConfig;

const PARTITIONS: i32 = 4;
const KEYS: u64 = 40;
const ROUNDS: u64 = 300;

/// A sink process, killed with the test if still running.
struct Sink {
    child: Child,
    log: PathBuf,
}

impl Sink {
    fn start(binary: &Path, properties: &Path, bootstrap: &str, log: PathBuf) -> Sink {
        let child = Command::new(binary)
            .arg(properties)
            .args(["--bootstrap-servers", bootstrap])
            .env("RUST_LOG", "info,librdkafka=warn")
            .env_remove("KQ_TASK")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("sink log"))
            .spawn()
            .expect("the sink binary starts");
        Sink { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().expect("wait")
    }

    /// SIGTERM, as an orchestrator scales down; the exit status once it stopped.
    fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our child, not reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the sink did not stop within {within:?} of SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Record `i`: key `i % KEYS`, value `i / KEYS` (rising per key), the key's own timestamp, so
/// the table's upsert keys (ts, k) make one row per key. Value `i` goes to partition
/// `i % PARTITIONS`: every key stays in one partition, in order.
fn envelope(i: u64) -> Vec<u8> {
    let (k, v) = (i % KEYS, i / KEYS);
    serde_json::json!({
        "schema": {"type": "struct", "optional": false, "fields": [
            {"field": "k", "type": "int64", "optional": false},
            {"field": "v", "type": "int64", "optional": false},
            {"field": "ts", "type": "int64", "optional": false,
             "name": "org.apache.kafka.connect.data.Timestamp", "version": 1}
        ]},
        "payload": {"k": k, "v": v, "ts": 1_700_000_000_000u64 + k * 1000}
    })
    .to_string()
    .into_bytes()
}

/// Every partition's committed offset, checked never to go backwards against `last`.
fn committed(bootstrap: &str, group: &str, topic: &str, last: &mut [Option<i64>]) -> Vec<i64> {
    (0..PARTITIONS)
        .map(|p| {
            let now = kafka::committed_offset(bootstrap, group, topic, p)
                .unwrap_or_else(|e| panic!("committed offset of {p}: {e}"));
            let before = last[p as usize];
            assert!(
                now >= before,
                "partition {p}'s committed offset went backwards: {before:?} -> {now:?}"
            );
            last[p as usize] = now;
            now.unwrap_or(0)
        })
        .collect()
}

#[test]
fn replicas_share_partitions_through_a_join_a_leave_and_a_questdb_stop() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let mut services = Services::start_on(BackendChoice::Process).unwrap_or_else(|e| panic!("{e}"));
    let endpoints = services.endpoints();
    let bootstrap = endpoints.kafka_bootstrap.clone();
    let topic = format!("rebalance-upsert-{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let properties = dir.path().join("connector.properties");
    let text = format!(
        "name=rebalance-{topic}\n\
         connector.class=io.confluent.connect.jdbc.JdbcSinkConnector\n\
         connection.url=jdbc:postgresql://127.0.0.1:{}/qdb\n\
         connection.user=admin\nconnection.password=quest\n\
         topics={topic}\ninsert.mode=insert\npk.mode=none\nauto.create=false\n\
         batch.size=200\nmax.retries=100\nretry.backoff.ms=200\n",
        endpoints.pg_port
    );
    std::fs::write(&properties, &text).unwrap();
    let config = SinkConfig::from_properties(&sink::config::properties::parse(&text)).unwrap();
    let group = config.group_id();

    rt.block_on(async {
        kafka::create_topic_with(&bootstrap, &topic, PARTITIONS)
            .await
            .unwrap();
        let db = QuestDb::connect(&config.connection).await.unwrap();
        db.client()
            .batch_execute(&format!(
                "CREATE TABLE \"{topic}\" (k LONG, v LONG, ts TIMESTAMP) TIMESTAMP(ts) \
                 PARTITION BY DAY WAL DEDUP UPSERT KEYS(ts, k)"
            ))
            .await
            .unwrap();
    });
    let total = KEYS * ROUNDS;
    let produce = |from: u64, to: u64| {
        kafka::produce_spread_from(
            &bootstrap,
            &topic,
            PARTITIONS,
            from,
            (from..to).map(envelope),
        )
        .unwrap();
    };
    let mut last = vec![None; PARTITIONS as usize];
    let wait_committed = |at_least: i64, last: &mut Vec<Option<i64>>, sinks: &mut [&mut Sink]| {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let now = committed(&bootstrap, &group, &topic, last);
            if now.iter().sum::<i64>() >= at_least {
                return;
            }
            for s in sinks.iter_mut() {
                assert!(s.exited().is_none(), "a sink exited:\n{}", s.log());
            }
            assert!(
                Instant::now() < deadline,
                "committed {now:?}, wanted {at_least} in all; logs:\n{}",
                sinks
                    .iter()
                    .map(|s| s.log())
                    .collect::<Vec<_>>()
                    .join("\n---\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };

    produce(0, total / 3);
    let logs = dir.path();
    let mut a = Sink::start(&binary, &properties, &bootstrap, logs.join("a.log"));
    let mut b = Sink::start(&binary, &properties, &bootstrap, logs.join("b.log"));
    wait_committed(1, &mut last, &mut [&mut a, &mut b]);
    // A third replica joins mid-stream.
    let mut c = Sink::start(&binary, &properties, &bootstrap, logs.join("c.log"));
    produce(total / 3, 2 * total / 3);
    // QuestDB stops for 4 s while the third leaves: its partitions move while rows are retried.
    let injected = services.inject(
        ServiceName::QuestDb,
        FaultAction::Stop {
            down: Duration::from_secs(4),
        },
        |down| {
            let status = c.terminate(Duration::from_secs(60));
            assert!(status.success(), "{status}:\n{}", c.log());
            std::thread::sleep(down.saturating_sub(Duration::from_secs(1)));
        },
    );
    injected.unwrap_or_else(|e| panic!("{e}"));
    produce(2 * total / 3, total);
    wait_committed(total as i64, &mut last, &mut [&mut a, &mut b]);

    let rows: Vec<(i64, i64)> = rt.block_on(async {
        let db = QuestDb::connect(&config.connection).await.unwrap();
        // A WAL table's rows show once applied: wait for every key's last value, bounded.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let rows: Vec<(i64, i64)> = db
                .client()
                .query(&format!("SELECT k, v FROM \"{topic}\" ORDER BY k"), &[])
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect();
            let done =
                rows.len() as u64 == KEYS && rows.iter().all(|&(_, v)| v as u64 == ROUNDS - 1);
            if done || Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let expected: Vec<(i64, i64)> = (0..KEYS as i64).map(|k| (k, ROUNDS as i64 - 1)).collect();
    assert_eq!(rows, expected, "each key's last value");
    let (la, lb, lc) = (a.log(), b.log(), c.log());
    assert!(
        [&la, &lb, &lc]
            .iter()
            .any(|l| l.contains("Kafka: revoking")),
        "no revoke seen: the case did not rebalance\n{la}\n---\n{lb}\n---\n{lc}"
    );
    assert!(
        !la.contains("Fenced") && !lb.contains("Fenced"),
        "{la}\n---\n{lb}"
    );
    drop(services);
}
