//! The docker backend: the containers start, answer on 127.0.0.1, and none of them outlives the
//! process that started them, however it ends.
//!
//! These tests need an engine and the images (`bash ci/docker/engine.sh && bash
//! ci/docker/build-images.sh`) and run only with `KQ_BACKEND=docker`; otherwise they pass
//! after saying they were skipped. `.ci/run` runs them with `KQ_BACKEND=docker`.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::{
    assert_each_service_restarts_with_its_data, assert_services_answer, one_at_a_time,
    print_startup, run_aborting_child, run_child, zookeeper,
};
use harness::services::docker::{self, containers_of_run};
use harness::services::{Backend, BackendChoice, Services};
use harness::wait::wait_until;

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
    print_startup(&services);
    let endpoints = services.endpoints();
    assert_eq!(
        endpoints.kafka_bootstrap,
        format!("127.0.0.1:{}", services.kafka.port)
    );
    assert_eq!(endpoints.pg_host, "127.0.0.1");

    // ZooKeeper: ruok -> imok; Kafka: broker 0 advertises the address the client dialled;
    // QuestDB: /ping and SELECT 1.
    assert_services_answer(&services);

    // Each service is a container of this run, named after it, with its log.
    let run = docker::run_id().to_owned();
    let containers = [
        zookeeper(&services).container().expect("a container"),
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

#[test]
fn containers_restart_after_sigkill_with_their_data() {
    if !docker_requested("containers_restart_after_sigkill_with_their_data") {
        return;
    }
    let _turn = one_at_a_time();
    let mut services = Services::start_on(BackendChoice::Docker).unwrap_or_else(|e| panic!("{e}"));
    assert_each_service_restarts_with_its_data(&mut services);
    let run = docker::run_id().to_owned();
    drop(services);
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
    let stdout = run_aborting_child(
        "orphan_containers_child",
        &[("KQ_ORPHAN_CONTAINERS", "1"), ("KQ_BACKEND", "docker")],
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
    let output = run_child(
        "missing_image_child",
        &[
            ("KQ_MISSING_IMAGE_CHILD", "1"),
            ("KQ_BACKEND", "docker"),
            ("KQ_KAFKA_IMAGE", image),
        ],
    );
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

/// The sink's image (`ci/docker/build-sink-image.sh`) run as a deployment would run it: the
/// seed's case stores exactly the binary's snapshot; a long run serves metrics and health that
/// count what was produced, and `docker stop`'s SIGTERM ends it with exit 0, everything
/// committed; no container of the run is left afterwards.
#[test]
fn the_sink_image_stores_what_the_binary_stores_and_stops_cleanly() {
    use harness::faults::sinks::Launch;
    use harness::fixture::{self, Case};
    use harness::replay::{self, SinkMode, Target};
    use harness::services::docker::SinkImage;
    use harness::{operate, render, snapshot};
    use sink::metrics as m;

    if !docker_requested("the_sink_image_stores_what_the_binary_stores_and_stops_cleanly") {
        return;
    }
    let _turn = one_at_a_time();
    let binary = replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let image = SinkImage::from_env();
    image.check(&binary).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        image.user().unwrap_or_else(|e| panic!("{e}")),
        "10001:10001",
        "the image runs as a user of its own, not root"
    );
    let services = Services::start_on(BackendChoice::Docker).unwrap_or_else(|e| panic!("{e}"));
    let target: Target = services.endpoints().into();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");

    let root = fixture::root().canonicalize().expect("fixtures folder");
    let case =
        Case::load(&root.join("seed/example-topic.case"), &root).unwrap_or_else(|e| panic!("{e}"));
    let outcome = runtime
        .block_on(replay::run_case(
            &case,
            &target,
            &SinkMode::Image(image.clone()),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let rendered = render::outcome(&outcome);
    let accepted = snapshot::accepted(&case.name).expect("the seed's snapshot");
    assert!(
        snapshot::matches(&accepted, &rendered),
        "{}",
        snapshot::first_difference(&case.name, &accepted, &rendered)
    );

    let run = runtime
        .block_on(operate::metrics_run(&target, &Launch::Image(image), 1000))
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!(
        "image: ready {:?}; stopped after SIGTERM in {:?}: {}",
        run.ready, run.stop_time, run.exit
    );
    let topic = [("topic", run.topic.as_str())];
    assert_eq!(run.live, (200, "live\n".to_string()));
    assert_eq!(
        run.scrape.value(m::ROWS_STORED, &topic),
        Some(run.good as f64)
    );
    assert_eq!(run.rows, run.good, "rows in the table");
    assert_eq!(run.dead_letters as u64, run.bad, "dead letters");
    for (p, end) in run.per_partition.iter().enumerate() {
        let labels = [("topic", run.topic.as_str()), ("partition", &p.to_string())];
        assert_eq!(
            run.scrape.value(m::COMMITTED_OFFSET, &labels),
            Some(*end as f64)
        );
    }
    assert_eq!(run.exit, "exit status 0");

    let run_id = docker::run_id().to_owned();
    drop(runtime);
    drop(services);
    assert_eq!(no_containers_left(&run_id), Ok(()));
}
