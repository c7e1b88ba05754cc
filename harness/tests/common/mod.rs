//! What the service tests (`services.rs`, process backend) and the container tests
//! (`containers.rs`, docker backend) share: taking turns, checking that the three services
//! answer their protocols, and running one test of this binary again as a child.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use harness::services::{self, Services};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// The machines have 2 cores: tests that start JVMs take turns.
static JVMS: Mutex<()> = Mutex::new(());

pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    JVMS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Prints how long each startup step took.
pub fn print_startup(services: &Services) {
    for (step, took) in &services.startup {
        eprintln!("startup: {step} {:.2}s", took.as_secs_f64());
    }
}

/// Asserts that ZooKeeper answers `ruok` with `imok` over a plain socket, that a Kafka
/// metadata request lists broker 0 at the address the client dialled, and that QuestDB answers
/// `/ping` over HTTP and `SELECT 1` over the PG wire protocol.
pub fn assert_services_answer(services: &Services) {
    let endpoints = services.endpoints();

    {
        let mut zk =
            std::net::TcpStream::connect(endpoints.zookeeper.as_deref().expect("ZooKeeper mode"))
                .unwrap();
        zk.write_all(b"ruok").unwrap();
        let mut answer = String::new();
        zk.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "imok");
    }

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &endpoints.kafka_bootstrap)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    let brokers: Vec<(i32, String, i32)> = metadata
        .brokers()
        .iter()
        .map(|b| (b.id(), b.host().to_owned(), b.port()))
        .collect();
    assert_eq!(
        brokers,
        vec![(0, "127.0.0.1".to_owned(), i32::from(services.kafka.port))]
    );
    drop(consumer);

    services::ping(endpoints.http_port).unwrap();
    assert_eq!(pg_select_1(endpoints.pg_port), Ok(1));
}

fn pg_select_1(pg_port: u16) -> Result<i32, String> {
    let rows = pg_simple(pg_port, "SELECT 1")?;
    rows.first()
        .and_then(|r| r.parse().ok())
        .ok_or_else(|| format!("SELECT 1 answered {rows:?}"))
}

/// Runs `sql` (statements separated by `;`) over PG wire's simple protocol; the first column
/// of every row, as text.
fn pg_simple(pg_port: u16, sql: &str) -> Result<Vec<String>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let config = format!("host=127.0.0.1 port={pg_port} user=admin password=quest dbname=qdb");
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let connection = tokio::spawn(connection);
        let mut rows = Vec::new();
        for message in client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{sql}: {e}"))?
        {
            if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                rows.push(row.get(0).unwrap_or_default().to_owned());
            }
        }
        drop(client);
        let _ = connection.await;
        Ok(rows)
    })
}

/// Kills each service with SIGKILL and starts it again, and checks it comes back on the same
/// ports with its data: a QuestDB row and a Kafka record written before the crash are there
/// after it, and the broker still answers after ZooKeeper was restarted under it.
pub fn assert_each_service_restarts_with_its_data(services: &mut Services) {
    let endpoints = services.endpoints();
    let timeout = Duration::from_secs(90);

    pg_simple(
        endpoints.pg_port,
        "CREATE TABLE crash_kept (x INT); INSERT INTO crash_kept VALUES (7)",
    )
    .unwrap();
    let took = services.questdb.kill_and_restart(timeout).unwrap();
    eprintln!("QuestDB restarted in {:.1}s", took.as_secs_f64());
    assert_eq!(services.endpoints(), endpoints, "QuestDB moved");
    assert_eq!(
        pg_simple(endpoints.pg_port, "SELECT x FROM crash_kept"),
        Ok(vec!["7".to_owned()])
    );

    let topic = "crash-kept";
    let produced = harness::kafka::produce_many(
        &endpoints.kafka_bootstrap,
        topic,
        std::iter::once(b"kept".to_vec()),
    )
    .unwrap();
    assert_eq!(produced, 1);
    let took = services.kafka.kill_and_restart(timeout).unwrap();
    eprintln!("Kafka restarted in {:.1}s", took.as_secs_f64());
    // Ready means the broker answers; its partitions have leaders a moment later.
    harness::wait::wait_until("the record produced before the crash", timeout, || {
        match harness::kafka::high_watermark(&endpoints.kafka_bootstrap, topic, 0) {
            Ok(1) => Ok(()),
            other => Err(format!("high watermark of {topic}/0: {other:?}")),
        }
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", services.kafka.log_tail(30)));

    let zookeeper = services.zookeeper.as_mut().expect("ZooKeeper mode");
    let took = zookeeper.kill_and_restart(timeout).unwrap();
    eprintln!("ZooKeeper restarted in {:.1}s", took.as_secs_f64());
    services::ruok(zookeeper.port).unwrap();
    assert_services_answer(services);
}

/// Runs test `test` of this binary alone in a child process, with `env` added, and waits for it.
pub fn run_child(test: &str, env: &[(&str, &str)]) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// [`run_child`] for a child that must end by `abort()` (no destructors, no atexit); prints
/// its stderr and returns its stdout.
pub fn run_aborting_child(test: &str, env: &[(&str, &str)]) -> String {
    let output = run_child(test, env);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("child stderr:\n{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "{stdout}\n{stderr}"
    );
    stdout
}

/// The ZooKeeper of services started in ZooKeeper mode (these tests run the default versions).
pub fn zookeeper(services: &Services) -> &services::ZooKeeper {
    services
        .zookeeper
        .as_ref()
        .expect("ZooKeeper mode: these tests run the default versions (Kafka 3.x)")
}
