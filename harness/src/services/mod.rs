//! Real ZooKeeper, Kafka (3.9, ZooKeeper mode) and QuestDB as local JVM processes.
//!
//! [`Services::start`] provisions the jars (see [`crate::provision`]) and starts all three on
//! free loopback ports, each in a fresh temp dir, ready when a protocol probe answers.
//! [`Services::shared`] starts them once per process for all tests of a test binary; the
//! guardians of [`crate::process::ServiceProcess`] stop them when the process ends.

mod kafka;
mod questdb;
mod zookeeper;

pub use kafka::{metadata_probe, Kafka};
pub use questdb::{ping, QuestDb, QuestDbOptions};
pub use zookeeper::{ruok, ZooKeeper};

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::provision;
use crate::wait::wait_until;

/// Default readiness timeouts; `KQ_START_TIMEOUT_SECS` overrides all of them.
pub const ZOOKEEPER_TIMEOUT: Duration = Duration::from_secs(60);
pub const KAFKA_TIMEOUT: Duration = Duration::from_secs(90);
pub const QUESTDB_TIMEOUT: Duration = Duration::from_secs(90);

/// How many lines of a service's log go into errors.
const LOG_TAIL_LINES: usize = 40;

/// ZooKeeper, Kafka and QuestDB, running.
///
/// Dropping it stops Kafka and QuestDB first (in parallel), then ZooKeeper, and removes their
/// data dirs.
#[derive(Debug)]
pub struct Services {
    // Declaration order is drop order: Kafka before the ZooKeeper it needs for a clean stop.
    pub kafka: Kafka,
    pub questdb: QuestDb,
    pub zookeeper: ZooKeeper,
    /// How long each step took: `provision` (finding or filling the jar cache), then
    /// `zookeeper`, `kafka`, `questdb` (spawn to ready; QuestDB starts in parallel with the
    /// other two).
    pub startup: Vec<(&'static str, Duration)>,
}

/// Where to reach the services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `127.0.0.1:<port>`
    pub kafka_bootstrap: String,
    /// `127.0.0.1`; user `admin`, password `quest`, database `qdb`.
    pub pg_host: String,
    pub pg_port: u16,
    pub http_port: u16,
    /// `127.0.0.1:<port>`
    pub zookeeper: String,
}

impl Services {
    /// Provisions the jars if needed, then starts ZooKeeper and Kafka, and QuestDB in parallel
    /// with them. Synchronous; prints one progress line per service on stderr.
    pub fn start() -> Result<Services, ServiceError> {
        let began = Instant::now();
        let libs = provision::libs()?;
        let provisioned = began.elapsed();
        let java = provision::java()?;

        let (zk_and_kafka, questdb) = thread::scope(|scope| {
            let questdb =
                scope.spawn(|| QuestDb::start(&libs, &java, start_timeout(QUESTDB_TIMEOUT)));
            let zk_and_kafka = ZooKeeper::start(&libs, &java, start_timeout(ZOOKEEPER_TIMEOUT))
                .and_then(|zk| {
                    let kafka = Kafka::start(
                        &libs,
                        &java,
                        &zk.connect_string(),
                        start_timeout(KAFKA_TIMEOUT),
                    )?;
                    Ok((zk, kafka))
                });
            let questdb = questdb
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (zk_and_kafka, questdb)
        });
        let (zookeeper, kafka) = zk_and_kafka?;
        let questdb = questdb?;
        let startup = vec![
            ("provision", provisioned),
            ("zookeeper", zookeeper.startup),
            ("kafka", kafka.startup),
            ("questdb", questdb.startup),
        ];
        Ok(Services {
            kafka,
            questdb,
            zookeeper,
            startup,
        })
    }

    /// The services of this process, started on first use. Never dropped: the guardians stop
    /// them when the process exits, however it exits.
    ///
    /// # Panics
    /// If starting failed (now or on an earlier call), with the full error.
    pub fn shared() -> &'static Services {
        static SHARED: OnceLock<Result<Services, String>> = OnceLock::new();
        match SHARED.get_or_init(|| Services::start().map_err(|e| e.to_string())) {
            Ok(services) => services,
            Err(e) => panic!("starting ZooKeeper, Kafka and QuestDB failed:\n{e}"),
        }
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            kafka_bootstrap: self.kafka.bootstrap(),
            pg_host: "127.0.0.1".to_owned(),
            pg_port: self.questdb.pg_port,
            http_port: self.questdb.http_port,
            zookeeper: self.zookeeper.connect_string(),
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        // Stop Kafka and QuestDB together; the fields' own drops then wait for them in
        // declaration order and stop ZooKeeper last.
        self.kafka.process().begin_shutdown();
        self.questdb.process().begin_shutdown();
    }
}

/// `default`, or `KQ_START_TIMEOUT_SECS` (a number of seconds, fractions allowed) when set.
pub fn start_timeout(default: Duration) -> Duration {
    std::env::var("KQ_START_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs >= 0.0)
        .map_or(default, Duration::from_secs_f64)
}

/// Waits until `probe` succeeds against `process`, failing fast with [`ServiceError::Exited`]
/// if the process dies and with [`ServiceError::NotReady`] (last probe result and log tail)
/// after `timeout`. Returns the time from spawn to ready.
pub fn wait_ready(
    process: &ServiceProcess,
    port: u16,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<(), String>,
) -> Result<Duration, ServiceError> {
    let what = format!("{} on 127.0.0.1:{port}", process.name());
    let outcome = wait_until(&what, timeout, || {
        if let Err(exited) = process.check_alive() {
            return Ok(Err(exited));
        }
        probe().map(Ok)
    });
    match outcome {
        Ok(Ok(())) => Ok(process.uptime()),
        Ok(Err(ServiceError::Exited {
            service,
            status,
            log_tail,
        })) => {
            // Name the cause when it scrolled out of the tail (Kafka logs its whole shutdown).
            let status = match process.log_find(PORT_TAKEN) {
                Some(line) if !log_tail.contains(&line) => {
                    format!("{status}; the log says: {line}")
                }
                _ => status,
            };
            Err(ServiceError::Exited {
                service,
                status,
                log_tail,
            })
        }
        Ok(Err(other)) => Err(other),
        Err(timeout) => Err(ServiceError::NotReady {
            service: process.name(),
            port,
            waited: timeout.waited,
            last_observed: timeout.last_observed,
            log_tail: process.log_tail(LOG_TAIL_LINES),
        }),
    }
}

/// What the services log when a port is taken.
const PORT_TAKEN: &[&str] = &["Address already in use", "BindException", "could not bind"];

/// `n` distinct free ports on 127.0.0.1 (bound to port 0 and released again, so another
/// process may take one before the service binds it; [`retry_on_port_race`] covers that).
pub fn free_ports(n: usize) -> Result<Vec<u16>, ServiceError> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            ServiceError::io("binding 127.0.0.1:0 to find a free port", "127.0.0.1:0", e)
        })?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServiceError::io("reading a free port", "127.0.0.1:0", e))
}

/// Runs `start` again (once, with new ports) if it failed because a port was taken between
/// [`free_ports`] and the service binding it.
pub(crate) fn retry_on_port_race<T>(
    service: &str,
    mut start: impl FnMut() -> Result<T, ServiceError>,
) -> Result<T, ServiceError> {
    match start() {
        Err(ServiceError::Exited {
            status, log_tail, ..
        }) if PORT_TAKEN
            .iter()
            .any(|needle| status.contains(needle) || log_tail.contains(needle)) =>
        {
            eprintln!("{service} lost a race for its port; retrying on new ports");
            start()
        }
        other => other,
    }
}

/// A fresh data dir under the system temp dir, e.g. `/tmp/kq-kafka-XXXXXX`.
pub(crate) fn data_dir(service: &str) -> Result<TempDir, ServiceError> {
    tempfile::Builder::new()
        .prefix(&format!("kq-{service}-"))
        .tempdir()
        .map_err(|e| ServiceError::io("creating a data dir", std::env::temp_dir(), e))
}

pub(crate) fn write_file(path: &Path, contents: &str) -> Result<(), ServiceError> {
    fs::write(path, contents)
        .map_err(|e| ServiceError::io("writing a service config file", path, e))
}

/// A log4j 1 (reload4j) config that logs INFO to stdout, which goes to the service's log.
pub(crate) fn write_log4j_properties(dir: &Path) -> Result<PathBuf, ServiceError> {
    let path = dir.join("log4j.properties");
    write_file(
        &path,
        "log4j.rootLogger=INFO, stdout\n\
         log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n\
         log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n\
         log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n\n",
    )?;
    Ok(path)
}

pub(crate) fn print_ready(what: &str, address: &str, startup: Duration) {
    eprintln!("{what} ready on {address} in {:.1}s", startup.as_secs_f64());
}
