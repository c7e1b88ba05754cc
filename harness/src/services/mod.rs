//! Real ZooKeeper, Kafka and QuestDB, as local JVM processes or as Docker containers, in the
//! versions the run asks for ([`crate::versions`]): Kafka 3.x with ZooKeeper (the default,
//! 3.9), Kafka 4.x in KRaft mode without ZooKeeper (processes only).
//!
//! [`Services::start`] picks the backend ([`BackendChoice::from_env`], `KQ_BACKEND`):
//! - `process`: provisions the jars (see [`crate::provision`]) and starts all three on free
//!   loopback ports, each in a fresh temp dir; the guardians of
//!   [`crate::process::ServiceProcess`] stop them when the process ends;
//! - `docker`: runs the pinned images (see [`docker`]), removed on drop, and by a guardian when
//!   the process ends;
//! - `auto` (the default): `docker` when an engine answers and the three images are present
//!   locally, else `process`.
//!
//! Either way they are ready when a protocol probe answers, and reached on 127.0.0.1 through
//! [`Services::endpoints`], so tests are written once. [`Services::shared`] starts them once
//! per process for all tests of a test binary.

pub mod cluster;
pub mod docker;
mod fault;
mod kafka;
pub mod postgres;
mod questdb;
mod quorum;
mod running;
mod secured;
pub mod toxiproxy;
mod zookeeper;

pub use cluster::{brokers_from_env, parse_brokers, BrokerPick, Replicas, CLUSTER_BROKERS};
pub use fault::{FaultAction, Injected, ServiceName, Signal};
pub use kafka::{metadata_probe, Coordination, Kafka};
pub use postgres::Postgres;
pub use questdb::{ping, QuestDb, QuestDbOptions};
pub use running::Running;
pub use secured::{random_secret, Pki, Secrets, SecuredListener, SecuredServices};
pub use toxiproxy::{NetworkFault, ProxyName, Toxiproxy};
pub use zookeeper::{ruok, ZooKeeper};

use std::fmt;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::{ContainerError, ServiceError};
use crate::process::ServiceProcess;
use crate::provision;
use crate::versions::{KafkaMode, Versions};
use crate::wait::wait_until;

/// Default readiness timeouts; `KQ_START_TIMEOUT_SECS` overrides all of them.
pub const ZOOKEEPER_TIMEOUT: Duration = Duration::from_secs(60);
pub const KAFKA_TIMEOUT: Duration = Duration::from_secs(90);
pub const QUESTDB_TIMEOUT: Duration = Duration::from_secs(90);

/// How long a clean stop (a fault case) may take before SIGKILL.
pub(crate) const STOP_GRACE: Duration = Duration::from_secs(30);

/// How many lines of a service's log go into errors.
const LOG_TAIL_LINES: usize = 40;

/// Where the services run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Local JVM processes.
    Process,
    /// Docker containers.
    Docker,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Process => "process",
            Backend::Docker => "docker",
        })
    }
}

/// The backend asked for: `KQ_BACKEND` or `harness --backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    Process,
    Docker,
    /// Docker when an engine answers and the images are present locally, else processes.
    #[default]
    Auto,
}

impl FromStr for BackendChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "process" | "processes" => Ok(BackendChoice::Process),
            "docker" | "container" | "containers" => Ok(BackendChoice::Docker),
            "auto" | "" => Ok(BackendChoice::Auto),
            other => Err(format!(
                "unknown backend {other:?}: expected `process`, `docker` or `auto`"
            )),
        }
    }
}

impl BackendChoice {
    /// `KQ_BACKEND`, default `auto`.
    pub fn from_env() -> Result<BackendChoice, ServiceError> {
        match std::env::var("KQ_BACKEND") {
            Ok(v) => v
                .parse()
                .map_err(|e: String| ServiceError::Config(format!("KQ_BACKEND: {e}"))),
            Err(_) => Ok(BackendChoice::Auto),
        }
    }

    /// The backend to use. `auto` asks the engine (a few seconds at most) and says on stderr
    /// why it chose processes when it did.
    pub fn resolve(self) -> Backend {
        match self {
            BackendChoice::Process => Backend::Process,
            BackendChoice::Docker => Backend::Docker,
            BackendChoice::Auto => {
                let ready = docker::engine_answers()
                    .and_then(|_| docker::Images::from_env().check_present());
                match ready {
                    Ok(()) => Backend::Docker,
                    Err(why) => {
                        let why = why.to_string();
                        eprintln!(
                            "backend auto: local processes ({})",
                            why.lines().next().unwrap_or_default()
                        );
                        Backend::Process
                    }
                }
            }
        }
    }
}

/// The command that starts a service's process, again on the same ports and data after a crash.
pub(crate) type Relaunch = Box<dyn Fn() -> Command + Send + Sync>;

/// What runs a service: a local process or a container. The one place the two backends
/// differ once a service is started: its log, its readiness wait, a crash and a restart.
pub(crate) enum Runner {
    Process {
        process: ServiceProcess,
        relaunch: Relaunch,
    },
    Container(Box<docker::ServiceContainer>),
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Runner::Process { process, .. } => f.debug_tuple("Process").field(process).finish(),
            Runner::Container(c) => f.debug_tuple("Container").field(c).finish(),
        }
    }
}

impl Runner {
    /// Spawns `relaunch()`'s process in `dir` (not yet ready).
    pub(crate) fn spawn(
        service: &'static str,
        relaunch: Relaunch,
        dir: TempDir,
    ) -> Result<Runner, ServiceError> {
        let process = ServiceProcess::spawn(service, relaunch(), dir)?;
        Ok(Runner::Process { process, relaunch })
    }

    fn log_tail(&self, lines: usize) -> String {
        match self {
            Runner::Process { process, .. } => process.log_tail(lines),
            Runner::Container(c) => c.log_tail(lines),
        }
    }

    fn process(&self, service: &str) -> &ServiceProcess {
        match self {
            Runner::Process { process, .. } => process,
            Runner::Container(c) => panic!(
                "{service} runs in container {} (docker backend), not as a local process; \
                 use .container(), or KQ_BACKEND=process for tests about processes",
                c.name()
            ),
        }
    }

    fn container(&self) -> Option<&docker::ServiceContainer> {
        match self {
            Runner::Process { .. } => None,
            Runner::Container(c) => Some(c),
        }
    }

    /// Waits until `probe` (dialling `port`) succeeds, failing fast if the process or container
    /// is gone, and with the last probe result and the log tail after `timeout`. Returns the
    /// time since the (last) start.
    pub(crate) fn wait_ready(
        &self,
        service: &'static str,
        port: u16,
        timeout: Duration,
        probe: impl FnMut() -> Result<(), String>,
    ) -> Result<Duration, ServiceError> {
        match self {
            Runner::Process { process, .. } => wait_ready(process, port, timeout, probe),
            Runner::Container(c) => c
                .wait_ready(timeout, probe)
                .map_err(|e| e.into_service_error(service)),
        }
    }

    /// Stops the service, keeping its ports and data (the process's data dir, the container's
    /// filesystem) for [`Self::start_again`]: with SIGKILL, as a crash would, or cleanly
    /// (SIGTERM; SIGKILL after [`STOP_GRACE`]).
    pub(crate) fn halt(&mut self, service: &'static str, how: Halt) -> Result<(), ServiceError> {
        match (self, how) {
            (Runner::Process { process, .. }, how) => {
                let (signal, grace) = match how {
                    Halt::Kill => (libc::SIGKILL, Duration::ZERO),
                    Halt::Stop => (libc::SIGTERM, STOP_GRACE),
                };
                process.stop_keeping_data(signal, grace);
                Ok(())
            }
            (Runner::Container(c), Halt::Kill) => {
                c.kill().map_err(|e| e.into_service_error(service))
            }
            (Runner::Container(c), Halt::Stop) => c
                .stop(STOP_GRACE)
                .map_err(|e| e.into_service_error(service)),
        }
    }

    /// Starts a halted service again on the same ports and data. Does not wait for it.
    pub(crate) fn start_again(&mut self, service: &'static str) -> Result<(), ServiceError> {
        match self {
            Runner::Process { process, relaunch } => process.respawn(relaunch()),
            Runner::Container(c) => c.start_again().map_err(|e| e.into_service_error(service)),
        }
    }

    /// [`Self::halt`] with SIGKILL, then [`Self::start_again`].
    pub(crate) fn kill_and_start_again(
        &mut self,
        service: &'static str,
    ) -> Result<(), ServiceError> {
        self.halt(service, Halt::Kill)?;
        self.start_again(service)
    }
}

/// How [`Runner::halt`] stops a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Halt {
    /// SIGKILL, as a crash would.
    Kill,
    /// A clean stop.
    Stop,
}

/// ZooKeeper, Kafka and QuestDB, running.
///
/// Dropping it stops Kafka and QuestDB first (in parallel), then ZooKeeper, and removes their
/// data dirs; with the docker backend it removes the three containers at once (their data is
/// inside them), then the run's network if there is one.
#[derive(Debug)]
pub struct Services {
    // Declaration order is drop order: Kafka before the ZooKeeper it needs for a clean stop.
    pub kafka: Kafka,
    /// A three-broker cluster's brokers 1 and 2 (`kafka` is broker 0); empty with one broker.
    pub more_brokers: Vec<Kafka>,
    pub questdb: QuestDb,
    /// `None` in KRaft mode (Kafka 4.x).
    pub zookeeper: Option<ZooKeeper>,
    /// The versions running.
    pub versions: Versions,
    /// How long each step took: `provision` (finding or filling the jar cache; `images` with
    /// the docker backend: checking they are present), then `zookeeper`, `kafka`, `questdb`
    /// (spawn or container start to ready; QuestDB starts in parallel with the other two).
    pub startup: Vec<(&'static str, Duration)>,
    /// Where they run.
    pub backend: Backend,
    /// With bridge networking: the run's network, removed after the containers.
    network: Option<docker::RunNetwork>,
    /// With [`Services::start_proxied`]: the proxies in front of QuestDB and Kafka, for
    /// network faults. Last: stopped after the services it fronts.
    pub toxiproxy: Option<Toxiproxy>,
}

/// Starts QuestDB on a thread of its own while ZooKeeper (unless KRaft mode leaves it out),
/// then Kafka against it, start on this one. On an error, what did start is dropped (stopped)
/// before this returns; the ZooKeeper or Kafka error wins over QuestDB's.
fn start_three(
    questdb: impl FnOnce() -> Result<QuestDb, ServiceError> + Send,
    zookeeper: Option<impl FnOnce() -> Result<ZooKeeper, ServiceError>>,
    kafka: impl FnOnce(Option<&ZooKeeper>) -> Result<Kafka, ServiceError>,
) -> Result<(Option<ZooKeeper>, Kafka, QuestDb), ServiceError> {
    let (zk_and_kafka, questdb) = thread::scope(|scope| {
        let questdb = scope.spawn(questdb);
        let zk_and_kafka = zookeeper.map(|start| start()).transpose().and_then(|zk| {
            let kafka = kafka(zk.as_ref())?;
            Ok((zk, kafka))
        });
        let questdb = questdb
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (zk_and_kafka, questdb)
    });
    let (zookeeper, kafka) = zk_and_kafka?;
    Ok((zookeeper, kafka, questdb?))
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
    /// `127.0.0.1:<port>`; `None` in KRaft mode.
    pub zookeeper: Option<String>,
}

impl Services {
    /// Starts the services on the backend `KQ_BACKEND` asks for (default `auto`): ZooKeeper
    /// and Kafka, and QuestDB in parallel with them. Synchronous; prints one progress line per
    /// service on stderr.
    pub fn start() -> Result<Services, ServiceError> {
        Self::start_on(BackendChoice::from_env()?)
    }

    /// [`Services::start`] on the given backend.
    pub fn start_on(choice: BackendChoice) -> Result<Services, ServiceError> {
        Self::start_versions(choice, &Versions::from_env()?)
    }

    /// [`Services::start_on`] with these versions rather than the run's.
    pub fn start_versions(
        choice: BackendChoice,
        versions: &Versions,
    ) -> Result<Services, ServiceError> {
        Self::start_with(choice, versions, false)
    }

    /// [`Services::start_on`] with Toxiproxy in front of QuestDB's HTTP and PG ports and of
    /// the broker ([`toxiproxy`]), for network faults; [`Self::proxied_endpoints`] are the
    /// addresses through the proxies.
    pub fn start_proxied(choice: BackendChoice) -> Result<Services, ServiceError> {
        Self::start_with(choice, &Versions::from_env()?, true)
    }

    /// [`Self::start_versions`], with the proxies if `proxied`, and as many brokers as
    /// `KQ_BROKERS` says.
    pub fn start_with(
        choice: BackendChoice,
        versions: &Versions,
        proxied: bool,
    ) -> Result<Services, ServiceError> {
        Self::start_brokers(choice, versions, proxied, brokers_from_env()?)
    }

    /// Provisions the jars if needed, then starts the services as local processes.
    fn start_processes(
        versions: &Versions,
        toxiproxy: Option<&Toxiproxy>,
    ) -> Result<Services, ServiceError> {
        let began = Instant::now();
        let libs = provision::libs_for(versions)?;
        let provisioned = began.elapsed();
        let java = provision::java()?;
        if !libs.versions.is_default() {
            eprintln!("versions: {}", libs.versions);
        }

        let zookeeper = (libs.versions.kafka_mode() == KafkaMode::ZooKeeper)
            .then_some(|| ZooKeeper::start(&libs, &java, start_timeout(ZOOKEEPER_TIMEOUT)));
        let (zookeeper, kafka, questdb) = start_three(
            || QuestDb::start(&libs, &java, start_timeout(QUESTDB_TIMEOUT)),
            zookeeper,
            |zk| {
                let zk = zk.map(|zk| zk.connect_string());
                let timeout = start_timeout(KAFKA_TIMEOUT);
                match toxiproxy {
                    Some(t) => Kafka::start_proxied(&libs, &java, zk.as_deref(), timeout, t),
                    None => Kafka::start(&libs, &java, zk.as_deref(), timeout),
                }
            },
        )?;
        Ok(Services::of(
            ("provision", provisioned),
            zookeeper,
            kafka,
            questdb,
            libs.versions,
            Backend::Process,
            None,
        ))
    }

    /// Starts the services as containers of the images in [`docker::Images::from_env`],
    /// networked as `KQ_DOCKER_NETWORK` says. Never pulls: a missing image is an error.
    fn start_containers(
        versions: &Versions,
        toxiproxy: Option<&Toxiproxy>,
    ) -> Result<Services, ServiceError> {
        let wrap = |e: ContainerError| e.into_service_error("docker");
        if !versions.is_default() {
            return Err(ServiceError::Config(format!(
                "the docker backend runs the pinned default versions only (its images are built \
                 from them), not {versions}; run other versions with KQ_BACKEND=process"
            )));
        }
        let began = Instant::now();
        let images = docker::Images::from_env();
        let network = docker::Network::from_env().map_err(wrap)?;
        docker::engine_answers().map_err(wrap)?;
        images.check_present().map_err(wrap)?;
        let checked = began.elapsed();
        let run_network = match network {
            docker::Network::Host => None,
            docker::Network::Bridge => Some(docker::RunNetwork::create().map_err(wrap)?),
        };
        let bridge = run_network.as_ref().map(|n| n.name());
        eprintln!(
            "starting containers ({network} networking, run {})",
            docker::run_id()
        );

        // On an error, whatever did start is removed inside start_three, before the network.
        let (zookeeper, kafka, questdb) = start_three(
            || {
                QuestDb::start_container(
                    &images.questdb,
                    network,
                    bridge,
                    &QuestDbOptions::default(),
                )
            },
            Some(|| {
                ZooKeeper::start_container(
                    &images.zookeeper,
                    network,
                    bridge,
                    start_timeout(ZOOKEEPER_TIMEOUT),
                )
            }),
            |zk| {
                let zk = zk.expect("the docker backend runs Kafka with ZooKeeper");
                Kafka::start_container(
                    &images.kafka,
                    network,
                    bridge,
                    zk.peer_connect_string(),
                    start_timeout(KAFKA_TIMEOUT),
                    toxiproxy,
                )
            },
        )?;
        Ok(Services::of(
            ("images", checked),
            zookeeper,
            kafka,
            questdb,
            versions.clone(),
            Backend::Docker,
            run_network,
        ))
    }

    /// The services started, with how long `first` (the step before them) and each took.
    fn of(
        first: (&'static str, Duration),
        zookeeper: Option<ZooKeeper>,
        kafka: Kafka,
        questdb: QuestDb,
        versions: Versions,
        backend: Backend,
        network: Option<docker::RunNetwork>,
    ) -> Services {
        let mut startup = vec![first];
        if let Some(zk) = &zookeeper {
            startup.push(("zookeeper", zk.startup));
        }
        startup.extend([("kafka", kafka.startup), ("questdb", questdb.startup)]);
        Services {
            kafka,
            more_brokers: Vec::new(),
            questdb,
            zookeeper,
            versions,
            startup,
            backend,
            network,
            toxiproxy: None,
        }
    }

    /// The services of this process, started on first use (on the backend `KQ_BACKEND` asks
    /// for). Never dropped: the guardians stop them when the process exits, however it exits.
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

    /// With bridge networking, the name of the run's Docker network.
    pub fn docker_network(&self) -> Option<&str> {
        self.network.as_ref().map(|n| n.name())
    }

    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            kafka_bootstrap: self
                .brokers()
                .iter()
                .map(|b| b.bootstrap())
                .collect::<Vec<_>>()
                .join(","),
            pg_host: "127.0.0.1".to_owned(),
            pg_port: self.questdb.pg_port,
            http_port: self.questdb.http_port,
            zookeeper: self.zookeeper.as_ref().map(ZooKeeper::connect_string),
        }
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        crate::kafka::forget_clients(&self.endpoints().kafka_bootstrap);
        for broker in &self.more_brokers {
            if let Runner::Process { process, .. } = broker.runner() {
                process.begin_shutdown();
            }
        }
        let mut runners = vec![self.kafka.runner(), self.questdb.runner()];
        runners.extend(self.zookeeper.as_ref().map(|z| z.runner()));
        let containers: Vec<&docker::ServiceContainer> =
            runners.iter().filter_map(|r| r.container()).collect();
        if !containers.is_empty() {
            // Throw-away containers: no clean stop to wait for, so remove all three at once;
            // their own drops then do nothing.
            docker::remove_all(&containers);
        }
        // Stop Kafka and QuestDB together; the fields' own drops then wait for them in
        // declaration order and stop ZooKeeper last.
        for runner in &runners[..2] {
            if let Runner::Process { process, .. } = runner {
                process.begin_shutdown();
            }
        }
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
pub(crate) const PORT_TAKEN: &[&str] =
    &["Address already in use", "BindException", "could not bind"];

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
