//! The docker backend: the containers start, answer on 127.0.0.1, and none of them outlives the
//! process that started them, however it ends.
//!
//! These tests need an engine and the images (`bash ci/docker/engine.sh && bash
//! ci/docker/build-images.sh`) and run only with `KQ_BACKEND=docker`; otherwise they pass
//! after saying they were skipped. `.ci/run` runs them with `KQ_BACKEND=docker`.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use harness::services::docker::{self, containers_of_run};
use harness::services::{self, Backend, BackendChoice, Services};
use harness::wait::wait_until;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// The machines have 2 cores: tests that start JVMs take turns.
static JVMS: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    JVMS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// True if the docker backend was asked for; else prints why the test does nothing.
fn docker_requested(test: &str) -> bool {
    match std::env::var("KQ_BACKEND").ok().as_deref().map(str::trim) {
        Some("docker") => true,
        other => {
            eprintln!(
                "SKIPPED {test}: needs KQ_BACKEND=docker (it is {other:?}), a Docker engine and \
                 the images (bash ci/docker/engine.sh && bash ci/docker/build-images.sh)"
            );
            false
        }
    }
}

fn pg_select_1(pg_port: u16) -> Result<i32, String> {
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
        let row = client
            .query_one("SELECT 1", &[])
            .await
            .map_err(|e| format!("SELECT 1: {e}"))?;
        let one: i32 = row.try_get(0).map_err(|e| format!("column 0: {e}"))?;
        drop(client);
        let _ = connection.await;
        Ok(one)
    })
}

fn no_containers_left(run: &str) -> Result<(), String> {
    match containers_of_run(run) {
        Ok(left) if left.is_empty() => Ok(()),
        Ok(left) => Err(format!("still there: {left:?}")),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn containers_answer_and_leave_nothing_behind() {
    if !docker_requested("containers_answer_and_leave_nothing_behind") {
        return;
    }
    let _turn = one_at_a_time();
    let services = Services::start_on(BackendChoice::Docker).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(services.backend, Backend::Docker);
    for (step, took) in &services.startup {
        eprintln!("startup: {step} {:.2}s", took.as_secs_f64());
    }
    let endpoints = services.endpoints();
    assert_eq!(
        endpoints.kafka_bootstrap,
        format!("127.0.0.1:{}", services.kafka.port)
    );
    assert_eq!(endpoints.pg_host, "127.0.0.1");

    // ZooKeeper: ruok -> imok.
    {
        let mut zk = std::net::TcpStream::connect(&endpoints.zookeeper).unwrap();
        zk.write_all(b"ruok").unwrap();
        let mut answer = String::new();
        zk.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "imok");
    }

    // Kafka: broker 0 advertises the address the client dialled.
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

    // QuestDB: /ping and SELECT 1.
    services::ping(endpoints.http_port).unwrap();
    assert_eq!(pg_select_1(endpoints.pg_port), Ok(1));

    // Each service is a container of this run, named after it, with its log.
    let run = docker::run_id().to_owned();
    let containers = [
        services.zookeeper.container().expect("a container"),
        services.kafka.container().expect("a container"),
        services.questdb.container().expect("a container"),
    ];
    let mut names: Vec<String> = containers.iter().map(|c| c.name().to_owned()).collect();
    names.sort();
    let mut listed = containers_of_run(&run).unwrap();
    listed.sort();
    assert_eq!(listed, names);
    assert!(services
        .kafka
        .container()
        .unwrap()
        .log_find(&["[KafkaServer id=0] started"])
        .is_some());
    assert!(
        services
            .questdb
            .container()
            .unwrap()
            .log_find(&["enjoy"])
            .is_some(),
        "{}",
        services.questdb.log_tail(50)
    );

    let stopping = Instant::now();
    drop(services);
    eprintln!("removed in {:.2}s", stopping.elapsed().as_secs_f64());
    // Drop removes the containers itself: nothing to wait for.
    assert_eq!(no_containers_left(&run), Ok(()));
}

/// Not a test on its own: `containers_do_not_outlive_an_aborted_process` runs the test binary
/// again with `KQ_ORPHAN_CONTAINERS=1` to run this, which starts the shared services on
/// containers, prints its run id and aborts (no destructors, no atexit).
#[test]
fn orphan_containers_child() {
    if std::env::var_os("KQ_ORPHAN_CONTAINERS").is_none() {
        return;
    }
    let services = Services::shared();
    assert_eq!(services.backend, Backend::Docker);
    let mut out = std::io::stdout().lock();
    writeln!(out, "RUN {}", docker::run_id()).unwrap();
    out.flush().unwrap();
    std::process::abort();
}

#[test]
fn containers_do_not_outlive_an_aborted_process() {
    if !docker_requested("containers_do_not_outlive_an_aborted_process") {
        return;
    }
    let _turn = one_at_a_time();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphan_containers_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KQ_ORPHAN_CONTAINERS", "1")
        .env("KQ_BACKEND", "docker")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("child stderr:\n{stderr}");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGABRT),
        "{stdout}\n{stderr}"
    );
    // The test harness prints `test orphan_containers_child ... ` without a newline first.
    let run = stdout
        .lines()
        .find_map(|l| l.split_once("RUN ").map(|(_, id)| id.trim().to_owned()))
        .unwrap_or_else(|| panic!("no run id in:\n{stdout}"));

    let waited = Instant::now();
    wait_until(
        "the aborted run's containers to be removed",
        Duration::from_secs(60),
        || no_containers_left(&run),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "orphaned containers gone {:.2}s after the abort",
        waited.elapsed().as_secs_f64()
    );
}

/// Not a test on its own: starts the services with the environment the parent chose and prints
/// the error.
#[test]
fn missing_image_child() {
    if std::env::var_os("KQ_MISSING_IMAGE_CHILD").is_none() {
        return;
    }
    match Services::start() {
        Ok(_) => println!("STARTED"),
        Err(e) => println!("ERR {e}"),
    }
}

#[test]
fn a_missing_image_is_never_pulled_and_says_how_to_build_it() {
    if !docker_requested("a_missing_image_is_never_pulled_and_says_how_to_build_it") {
        return;
    }
    let image = "kq/no-such-image:0";
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "missing_image_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KQ_MISSING_IMAGE_CHILD", "1")
        .env("KQ_BACKEND", "docker")
        .env("KQ_KAFKA_IMAGE", image)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "image {image} for kafka is not present locally and is never pulled"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("bash ci/docker/build-images.sh"),
        "{stdout}"
    );
    assert!(stdout.contains("KQ_KAFKA_IMAGE"), "{stdout}");
}
