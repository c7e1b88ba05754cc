//! Real ZooKeeper, Kafka and QuestDB: they start, answer their protocols, and nothing of them
//! outlives the process that started them, however it ends.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{
    assert_each_service_restarts_with_its_data, assert_services_answer, one_at_a_time,
    print_startup, run_aborting_child, zookeeper,
};
use harness::error::ServiceError;
use harness::process::ServiceProcess;
use harness::provision;
use harness::services::{self, BackendChoice, QuestDb, Services};
use harness::wait::wait_until;

/// True if `pid` is a live process (a zombie counts as gone: it runs nothing and holds nothing).
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next());
    !matches!(state, Some('Z') | Some('X') | None)
}

fn gone(pids: &[u32], dirs: &[PathBuf]) -> Result<(), String> {
    let live: Vec<u32> = pids.iter().copied().filter(|&p| alive(p)).collect();
    let left: Vec<&PathBuf> = dirs.iter().filter(|d| d.exists()).collect();
    if live.is_empty() && left.is_empty() {
        Ok(())
    } else {
        Err(format!("still alive: {live:?}; still there: {left:?}"))
    }
}

/// `harness services` takes Ctrl-C from its first byte of output on, and then stops its
/// services and exits 0. Deterministically, without racing it: its stdout is a one-page pipe
/// this test fills but for 100 bytes, so the command blocks in its first lines of output until
/// the pipe is drained; SIGINT is sent while it is held there. A handler installed only after
/// the endpoints are printed (the bug this guards) is not in place yet, and the default action
/// kills the process (`signal: 2`).
#[test]
fn harness_services_stops_them_on_ctrl_c() {
    use std::io::{Read, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    let _turn = one_at_a_time();
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two new descriptors, each owned once below.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (mut reader, writer) = unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from(OwnedFd::from_raw_fd(fds[1])),
        )
    };
    const PAGE: usize = 4096;
    // SAFETY: resizing a pipe this test owns.
    let size = unsafe { libc::fcntl(fds[1], libc::F_SETPIPE_SZ, PAGE as libc::c_int) };
    assert_eq!(size, PAGE as libc::c_int, "F_SETPIPE_SZ");
    let filler = vec![b'#'; PAGE - 100];
    (&writer).write_all(&filler).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["services", "--backend", "process"])
        .stdout(writer)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let queued = |fd: i32| {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes the byte count of our own pipe into n.
        unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n) };
        n as usize
    };
    let first_output = wait_until(
        "`harness services` to print its first line",
        Duration::from_secs(180),
        || match (queued(fds[0]), child.try_wait()) {
            (_, Ok(Some(status))) => Ok(Err(format!("exited before printing: {status}"))),
            (n, _) if n > filler.len() => Ok(Ok(n - filler.len())),
            (n, _) => Err(format!("{} bytes printed", n - filler.len())),
        },
    )
    .unwrap_or_else(|e| {
        let _ = child.kill();
        panic!("{e}")
    });
    let printed_before = first_output.unwrap_or_else(|e| panic!("{e}"));
    // It cannot get past its first lines until the pipe is read.
    // SAFETY: signalling a child this test spawned and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut printed = Vec::new();
    let _ = reader.read_to_end(&mut printed);
    let printed = String::from_utf8_lossy(&printed[filler.len()..]).into_owned();
    let status = wait_until(
        "`harness services` to stop after Ctrl-C",
        Duration::from_secs(60),
        || match child.try_wait() {
            Ok(Some(status)) => Ok(status),
            Ok(None) => Err("still running".to_owned()),
            Err(e) => Err(e.to_string()),
        },
    )
    .unwrap_or_else(|e| {
        let _ = child.kill();
        panic!("{e}")
    });
    assert!(
        status.success(),
        "{status} (SIGINT after its first {printed_before} bytes); it printed:\n{printed}"
    );
    assert!(printed.contains("Kafka bootstrap servers"), "{printed}");
}

#[test]
fn services_restart_after_sigkill_with_their_data() {
    let _turn = one_at_a_time();
    let mut services = Services::start_on(BackendChoice::Process).unwrap_or_else(|e| panic!("{e}"));
    assert_each_service_restarts_with_its_data(&mut services);
}

#[test]
fn services_answer_and_leave_nothing_behind() {
    let _turn = one_at_a_time();
    // These tests are about the process backend, whatever KQ_BACKEND says.
    let services = Services::start_on(BackendChoice::Process).unwrap_or_else(|e| panic!("{e}"));
    print_startup(&services);
    let endpoints = services.endpoints();
    assert_eq!(
        endpoints.kafka_bootstrap,
        format!("127.0.0.1:{}", services.kafka.port)
    );
    assert_eq!(
        endpoints.zookeeper,
        Some(format!("127.0.0.1:{}", zookeeper(&services).port))
    );
    assert_eq!(endpoints.pg_host, "127.0.0.1");
    assert_eq!(
        (endpoints.pg_port, endpoints.http_port),
        (services.questdb.pg_port, services.questdb.http_port)
    );

    // ZooKeeper: ruok -> imok, over a plain socket; Kafka: a metadata request lists broker 0
    // at the advertised address; QuestDB: /ping -> 204 over HTTP, SELECT 1 over PG wire.
    assert_services_answer(&services);

    // The logs are there, with their startup lines.
    let kafka_log = services.kafka.process();
    assert!(kafka_log
        .log_find(&["[KafkaServer id=0] started"])
        .is_some());
    let questdb_log = services.questdb.process();
    assert!(
        questdb_log.log_find(&["enjoy"]).is_some(),
        "{}",
        services.questdb.log_tail(50)
    );
    assert!(!zookeeper(&services).log_tail(5).is_empty());

    let processes = [
        zookeeper(&services).process(),
        services.kafka.process(),
        services.questdb.process(),
    ];
    let pids: Vec<u32> = processes
        .iter()
        .flat_map(|p| [p.pid(), p.guardian_pid()])
        .collect();
    let dirs: Vec<PathBuf> = processes
        .iter()
        .map(|p| p.data_dir().to_path_buf())
        .collect();
    assert!(dirs.iter().all(|d| d.is_dir()));
    assert!(pids.iter().all(|&p| alive(p)), "{pids:?}");

    let stopping = std::time::Instant::now();
    drop(services);
    eprintln!("stopped in {:.2}s", stopping.elapsed().as_secs_f64());
    // Drop reaps the JVMs and the guardians: nothing to wait for.
    assert_eq!(gone(&pids, &dirs), Ok(()));
}

/// Not a test on its own: `services_do_not_outlive_an_aborted_process` runs the test binary
/// again with `KQ_ORPHAN_CHILD=1` to run this, which starts the shared services, prints what
/// it started and aborts (no destructors, no atexit).
#[test]
fn orphan_child() {
    if std::env::var_os("KQ_ORPHAN_CHILD").is_none() {
        return;
    }
    let services = Services::shared();
    assert!(std::ptr::eq(services, Services::shared()), "started twice");
    let mut out = std::io::stdout().lock();
    for p in [
        zookeeper(services).process(),
        services.kafka.process(),
        services.questdb.process(),
    ] {
        writeln!(
            out,
            "SERVICE {} {} {} {}",
            p.name(),
            p.pid(),
            p.guardian_pid(),
            p.data_dir().display()
        )
        .unwrap();
    }
    out.flush().unwrap();
    std::process::abort();
}

#[test]
fn services_do_not_outlive_an_aborted_process() {
    let _turn = one_at_a_time();
    let stdout = run_aborting_child(
        "orphan_child",
        &[("KQ_ORPHAN_CHILD", "1"), ("KQ_BACKEND", "process")],
    );

    let mut pids = Vec::new();
    let mut dirs = Vec::new();
    // The test harness prints `test orphan_child ... ` without a newline before our lines.
    for line in stdout
        .lines()
        .filter_map(|l| l.split_once("SERVICE ").map(|(_, rest)| rest))
    {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        pids.push(fields[1].parse::<u32>().unwrap());
        pids.push(fields[2].parse::<u32>().unwrap());
        dirs.push(PathBuf::from(fields[3]));
    }
    assert_eq!(dirs.len(), 3, "{stdout}");

    let waited = std::time::Instant::now();
    wait_until(
        "the orphaned services to be stopped",
        Duration::from_secs(30),
        || gone(&pids, &dirs),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "orphans gone {:.2}s after the abort",
        waited.elapsed().as_secs_f64()
    );
}

/// Not a test on its own: runs `provision::libs()` twice in a child process with the
/// environment the parent chose and prints the outcome.
#[test]
fn provision_child() {
    if std::env::var_os("KQ_PROVISION_CHILD").is_none() {
        return;
    }
    for _ in 0..2 {
        match provision::libs() {
            Ok(libs) => println!("LIBS {}", libs.dir.display()),
            Err(e) => println!("ERR {e}"),
        }
    }
}

fn provision_in_child(cache: &Path, extra_env: &[(&str, &str)]) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "provision_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("KQ_PROVISION_CHILD", "1")
        .env("KQ_CACHE_DIR", cache)
        .envs(extra_env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> (String, String) {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

fn results(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.find("LIBS ")
                .or_else(|| l.find("ERR "))
                .map(|at| l[at..].to_owned())
        })
        .collect()
}

#[test]
fn provisioning_runs_once_and_is_reused() {
    let cache = tempfile::tempdir().unwrap();
    // Two processes at once on an empty cache: one provisions, the other waits for its lock.
    let first = provision_in_child(cache.path(), &[]);
    let second = provision_in_child(cache.path(), &[]);
    let (out1, err1) = finish(first);
    let (out2, err2) = finish(second);
    let announced = "from Maven Central (first run only)... done in";
    assert_eq!(
        [&err1, &err2]
            .iter()
            .filter(|e| e.contains(announced))
            .count(),
        1,
        "{err1}\n{err2}"
    );
    let all: Vec<String> = results(&out1).into_iter().chain(results(&out2)).collect();
    assert_eq!(all.len(), 4, "{out1}\n{out2}");
    assert!(
        all.iter().all(|r| r == &all[0] && r.starts_with("LIBS ")),
        "{all:?}"
    );
    let dir = PathBuf::from(all[0].strip_prefix("LIBS ").unwrap());
    let pinned = harness::versions::Versions::default_pinned().unwrap();
    let kafka_jar = format!("kafka_2.13-{}.jar", pinned.kafka);
    assert!(dir.join(&kafka_jar).is_file(), "{kafka_jar} in {dir:?}");
    let questdb_jar = format!("questdb-{}.jar", pinned.questdb);
    assert!(dir.join(&questdb_jar).is_file(), "{questdb_jar} in {dir:?}");

    let mut entries: Vec<String> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0], "provision.lock");
    assert!(entries[1].starts_with("services-"), "{entries:?}");

    // A later run finds the cache and says nothing.
    let (out3, err3) = finish(provision_in_child(cache.path(), &[]));
    assert_eq!(results(&out3), all[..2].to_vec());
    assert!(!err3.contains("provisioning"), "{err3}");
}

#[test]
fn provisioning_without_maven_says_what_to_do() {
    let cache = tempfile::tempdir().unwrap();
    let (out, err) = finish(provision_in_child(
        cache.path(),
        &[("KQ_MVN", "/nonexistent/mvn")],
    ));
    let results = results(&out);
    assert_eq!(results.len(), 2, "{out}");
    assert!(
        results[0].starts_with("ERR provisioning the services failed"),
        "{out}"
    );
    assert!(
        out.contains("hint: Maven (`mvn`) is not installed"),
        "{out}"
    );
    assert!(err.contains("failed after"), "{err}");
    // Nothing half-done is left behind.
    let entries: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the lock file: {entries:?}");
}

#[test]
fn readiness_timeout_names_service_port_and_log() {
    let _turn = one_at_a_time();
    let libs = provision::libs().unwrap();
    let java = provision::java().unwrap();
    let err = QuestDb::start(&libs, &java, Duration::from_millis(1)).unwrap_err();
    let text = err.to_string();
    let ServiceError::NotReady {
        service,
        port,
        waited,
        last_observed,
        log_tail,
    } = err
    else {
        panic!("expected NotReady, got {text}");
    };
    assert_eq!(service, "questdb");
    assert!(waited >= Duration::from_millis(1));
    assert!(last_observed.contains("connect"), "{last_observed}");
    assert!(!log_tail.is_empty());
    for needle in [
        format!("questdb on 127.0.0.1:{port} was not ready after"),
        format!("last observed: {last_observed}"),
        "--- last lines of the questdb log ---".to_owned(),
        log_tail.clone(),
    ] {
        assert!(text.contains(&needle), "{needle:?} not in:\n{text}");
    }
}

/// The same error from a stand-in service whose log is known: the tail is what it printed.
#[test]
fn readiness_timeout_carries_what_the_service_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("/bin/sh");
    cmd.args([
        "-c",
        "echo starting up; echo port 1 is taken >&2; exec sleep 600",
    ]);
    let process = ServiceProcess::spawn("stand-in", cmd, dir).unwrap();
    wait_until("the stand-in to log", Duration::from_secs(10), || {
        let tail = process.log_tail(10);
        if tail.contains("port 1 is taken") {
            Ok(())
        } else {
            Err(tail)
        }
    })
    .unwrap();
    let err = services::wait_ready(&process, 1, Duration::from_millis(50), || {
        Err("connect: Connection refused".to_owned())
    })
    .unwrap_err();
    let text = err.to_string();
    let ServiceError::NotReady {
        service,
        port,
        last_observed,
        log_tail,
        ..
    } = err
    else {
        panic!("expected NotReady, got {text}");
    };
    assert_eq!((service, port), ("stand-in", 1));
    assert_eq!(last_observed, "connect: Connection refused");
    assert_eq!(log_tail, "starting up\nport 1 is taken");
    assert!(
        text.contains("stand-in on 127.0.0.1:1 was not ready"),
        "{text}"
    );
    assert!(text.ends_with("starting up\nport 1 is taken"), "{text}");

    let (pid, data_dir) = (process.pid(), process.data_dir().to_path_buf());
    let guardian = process.guardian_pid();
    drop(process);
    assert_eq!(gone(&[pid, guardian], &[data_dir]), Ok(()));
}

#[test]
fn a_service_that_dies_while_starting_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("/bin/sh");
    // Like Kafka: the cause, then so many lines of shutdown that it scrolls out of the tail.
    cmd.args([
        "-c",
        "echo 'Socket server failed to bind to 127.0.0.1:1: Address already in use.'
         i=0; while [ $i -lt 60 ]; do echo shutting down $i; i=$((i+1)); done; exit 3",
    ]);
    let process = ServiceProcess::spawn("stand-in", cmd, dir).unwrap();
    let started = std::time::Instant::now();
    let err = services::wait_ready(&process, 1, Duration::from_secs(60), || {
        Err("not yet".to_owned())
    })
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30));
    match &err {
        ServiceError::Exited {
            service,
            status,
            log_tail,
        } => {
            assert_eq!(*service, "stand-in");
            assert_eq!(
                status,
                "exit status 3; the log says: \
                 Socket server failed to bind to 127.0.0.1:1: Address already in use."
            );
            assert!(log_tail.ends_with("shutting down 59"), "{log_tail}");
            assert!(!log_tail.contains("shutting down 19\n"), "{log_tail}");
        }
        other => panic!("expected Exited, got {other}"),
    }
    assert!(err
        .to_string()
        .starts_with("stand-in exited during startup (exit status 3; "));
    assert!(process.check_alive().is_err());
    drop(process);
}

#[test]
fn a_service_that_ignores_sigterm_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir: PathBuf = dir.path().to_path_buf();
    let mut cmd = Command::new("/bin/sh");
    // Ignores TERM; its child `sleep` inherits that. Only SIGKILL ends them.
    cmd.args(["-c", "trap '' TERM; echo up; sleep 600; echo unreachable"]);
    let process = ServiceProcess::spawn("stubborn", cmd, dir).unwrap();
    wait_until("the stand-in to log", Duration::from_secs(10), || {
        if process.log_tail(1) == "up" {
            Ok(())
        } else {
            Err(process.log_tail(1))
        }
    })
    .unwrap();
    let pid = process.pid();
    let started = std::time::Instant::now();
    drop(process);
    let took = started.elapsed();
    assert!(took >= harness::process::TERM_GRACE, "{took:?}");
    assert!(
        took < harness::process::TERM_GRACE + Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(gone(&[pid], &[data_dir]), Ok(()));
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || !alive(pid));
}
