//! The docker backend: ZooKeeper, Kafka and QuestDB as containers.
//!
//! Images default to the pinned official ones (see [`Images`]); on machines without a registry
//! `ci/docker/build-images.sh` builds stand-ins under the same names from the jars in
//! `ci/services/pom.xml`, honouring the same environment variables. Nothing is ever pulled: a
//! missing image is an error that says how to build it.
//!
//! # Why the `docker` CLI and not the testcontainers crate
//! testcontainers-rs 0.20..=0.28 talks to the engine through bollard with a fixed API version
//! (1.44 in 0.20, 1.53 in 0.28) and never negotiates it down, and an engine rejects any request
//! above its own maximum ("client version 1.53 is too new. Maximum supported API version is
//! 1.41"). Debian 12's `docker.io` (20.10, API 1.41), the only engine these machines can
//! install, rejects every testcontainers 0.2x request; so would Docker 28 (API 1.51) with 0.28.
//! The CLI negotiates, honours `DOCKER_HOST` and Docker contexts (Docker Desktop), and is what
//! the guardian needs anyway. It does what testcontainers would: run, wait, log, remove on drop.
//!
//! # Nothing survives a run
//! Every container (and, with bridge networking, the network) carries the labels `kq.run=<run
//! id>` and `kq.owner=<host>/<pid>/<process start time>`. [`ServiceContainer`]'s `Drop` removes
//! its container. For the ends where no destructor runs (abort, SIGKILL, `Services::shared()`,
//! which is never dropped) a guardian — `sh` reading a pipe only this process holds, in its own
//! process group — removes everything labelled with this run once the pipe closes, i.e. when
//! this process is gone however it ended. Before the first container of a process, a sweep
//! removes what runs on this host left behind whose owner process is dead (a guardian that was
//! itself killed, a machine that lost power).

use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::ServiceError;
use crate::wait::wait_until;

/// The pinned official images: Confluent Platform 7.9 ships Apache Kafka 3.9 (the last line with
/// ZooKeeper mode, like `kafka_2.13:3.9.1` in `ci/services/pom.xml`); QuestDB 9.3.4 as in the pom.
pub const DEFAULT_ZOOKEEPER_IMAGE: &str = "confluentinc/cp-zookeeper:7.9.1";
pub const DEFAULT_KAFKA_IMAGE: &str = "confluentinc/cp-kafka:7.9.1";
pub const DEFAULT_QUESTDB_IMAGE: &str = "questdb/questdb:9.3.4";

/// The label every container and network of a run carries; its value is [`run_id`].
pub const RUN_LABEL: &str = "kq.run";
/// `<host>/<pid>/<start time>` of the process that owns the run, for the sweep of dead runs.
const OWNER_LABEL: &str = "kq.owner";

/// How long one `docker` command may take (`docker run` of a local image takes well under a
/// second; a busy engine on 2 cores gets ample slack).
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `docker info` may take when `auto` asks whether an engine answers.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How many lines of a container's log go into errors.
const LOG_TAIL_LINES: usize = 40;

/// Something the docker backend could not do. Variants name the container (and port) involved.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The `docker` CLI could not be run at all.
    #[error(
        "could not run `{command}`: {source}; install Docker (Debian: `bash ci/docker/engine.sh`) \
         or put the `docker` CLI on PATH"
    )]
    Cli {
        command: String,
        #[source]
        source: io::Error,
    },

    /// A `docker` command failed.
    #[error("`{command}` for {container} failed ({status}): {output}")]
    Command {
        container: String,
        command: String,
        status: String,
        output: String,
    },

    /// A `docker` command did not finish in time (and was killed).
    #[error(
        "`{command}` for {container} did not finish within {waited:.1?}; last output: {output}"
    )]
    CommandTimeout {
        container: String,
        command: String,
        waited: Duration,
        output: String,
    },

    /// `docker info` did not answer.
    #[error("no Docker engine answers: {detail}")]
    NoEngine { detail: String },

    /// An image is not present locally (and nothing is pulled).
    #[error(
        "image {image} for {service} is not present locally and is never pulled: build the \
         stand-ins with `bash ci/docker/build-images.sh`, or set {variable} to a local image"
    )]
    MissingImage {
        service: &'static str,
        image: String,
        variable: &'static str,
    },

    /// The container stopped while starting.
    #[error(
        "container {container} ({service}, port {port}) exited during startup ({status})\n\
         --- last lines of the {container} log ---\n{log_tail}"
    )]
    Exited {
        service: &'static str,
        container: String,
        port: u16,
        status: String,
        log_tail: String,
    },

    /// The container runs but did not answer its readiness probe in time.
    #[error(
        "container {container} ({service}) on 127.0.0.1:{port} was not ready after {waited:.1?}; \
         last observed: {last_observed}\n--- last lines of the {container} log ---\n{log_tail}"
    )]
    NotReady {
        service: &'static str,
        container: String,
        port: u16,
        waited: Duration,
        last_observed: String,
        log_tail: String,
    },

    /// A setting in the environment has a value the backend does not know.
    #[error("{variable}={value:?} is not valid: expected {expected}")]
    Config {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },

    /// The guardian that removes this run's containers after the process is gone.
    #[error("could not start the container guardian (`sh`): {0}")]
    Guardian(#[source] io::Error),
}

impl ContainerError {
    /// The harness's error for `service`: readiness failures keep their shape (so that
    /// [`super::retry_on_port_race`] sees a taken port), the rest are wrapped.
    pub(crate) fn into_service_error(self, service: &'static str) -> ServiceError {
        match self {
            ContainerError::Exited {
                container,
                status,
                log_tail,
                ..
            } => ServiceError::Exited {
                service,
                status: format!("container {container}: {status}"),
                log_tail,
            },
            ContainerError::NotReady {
                container,
                port,
                waited,
                last_observed,
                log_tail,
                ..
            } => ServiceError::NotReady {
                service,
                port,
                waited,
                last_observed: format!("{last_observed} (container {container})"),
                log_tail,
            },
            other => ServiceError::Container(Box::new(other)),
        }
    }
}

/// How the containers are networked (`KQ_DOCKER_NETWORK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// The host's network namespace: services bind 127.0.0.1 ports picked on the host, and
    /// clients dial them as with local processes. The default on Linux, and what CI uses.
    Host,
    /// A network of this run plus ports published on 127.0.0.1, for Docker Desktop, where host
    /// networking does not reach the host. Kafka advertises the address the client dials.
    Bridge,
}

impl Network {
    /// `KQ_DOCKER_NETWORK` (`host` or `bridge`); default `host` on Linux, else `bridge`.
    pub fn from_env() -> Result<Network, ContainerError> {
        match std::env::var("KQ_DOCKER_NETWORK") {
            Ok(v) if !v.trim().is_empty() => v.parse(),
            _ if cfg!(target_os = "linux") => Ok(Network::Host),
            _ => Ok(Network::Bridge),
        }
    }
}

impl FromStr for Network {
    type Err = ContainerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "host" => Ok(Network::Host),
            "bridge" => Ok(Network::Bridge),
            _ => Err(ContainerError::Config {
                variable: "KQ_DOCKER_NETWORK",
                value: s.to_owned(),
                expected: "`host` or `bridge`",
            }),
        }
    }
}

/// The image of each service: the pinned defaults, or `KQ_ZOOKEEPER_IMAGE`, `KQ_KAFKA_IMAGE`,
/// `KQ_QUESTDB_IMAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    pub zookeeper: String,
    pub kafka: String,
    pub questdb: String,
}

impl Images {
    pub fn from_env() -> Images {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Images {
            zookeeper: var("KQ_ZOOKEEPER_IMAGE", DEFAULT_ZOOKEEPER_IMAGE),
            kafka: var("KQ_KAFKA_IMAGE", DEFAULT_KAFKA_IMAGE),
            questdb: var("KQ_QUESTDB_IMAGE", DEFAULT_QUESTDB_IMAGE),
        }
    }

    fn each(&self) -> [(&'static str, &str, &'static str); 3] {
        [
            ("zookeeper", &self.zookeeper, "KQ_ZOOKEEPER_IMAGE"),
            ("kafka", &self.kafka, "KQ_KAFKA_IMAGE"),
            ("questdb", &self.questdb, "KQ_QUESTDB_IMAGE"),
        ]
    }

    /// `Ok` if all three images are present locally.
    pub fn check_present(&self) -> Result<(), ContainerError> {
        for (service, image, variable) in self.each() {
            let args = ["image", "inspect", "--format", "{{.Id}}", image];
            match docker(&args, image, CLI_TIMEOUT) {
                Ok(_) => {}
                Err(ContainerError::Command { output, .. })
                    if output.to_ascii_lowercase().contains("no such image") =>
                {
                    return Err(ContainerError::MissingImage {
                        service,
                        image: image.to_owned(),
                        variable,
                    })
                }
                Err(other) => return Err(other),
            }
        }
        Ok(())
    }
}

/// `Ok` with the engine's version if `docker info` answers within a few seconds.
pub fn engine_answers() -> Result<String, ContainerError> {
    match docker(
        &["info", "--format", "{{.ServerVersion}}"],
        "the engine",
        PROBE_TIMEOUT,
    ) {
        Ok(version) if !version.trim().is_empty() => Ok(version.trim().to_owned()),
        Ok(_) => Err(ContainerError::NoEngine {
            detail: "`docker info` printed no server version".to_owned(),
        }),
        Err(e @ ContainerError::Cli { .. }) => Err(e),
        Err(e) => Err(ContainerError::NoEngine {
            detail: e.to_string(),
        }),
    }
}

/// Runs `docker <args>` with a deadline; `Ok(stdout)` if it exits 0. `container` names what the
/// command is about, for the error.
pub(crate) fn docker(
    args: &[&str],
    container: &str,
    timeout: Duration,
) -> Result<String, ContainerError> {
    let command = format!("docker {}", args.join(" "));
    let mut cmd = Command::new("docker");
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| ContainerError::Cli {
        command: command.clone(),
        source,
    })?;
    // Drain both pipes on their own threads: `docker logs` can print more than a pipe holds.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(5)),
            Err(source) => {
                return Err(ContainerError::Cli { command, source });
            }
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    match status {
        Some(status) if status.success() => Ok(out),
        Some(status) => Err(ContainerError::Command {
            container: container.to_owned(),
            command,
            status: status.to_string(),
            output: last_lines(&format!("{err}{out}"), 20),
        }),
        None => Err(ContainerError::CommandTimeout {
            container: container.to_owned(),
            command,
            waited: started.elapsed(),
            output: last_lines(&format!("{err}{out}"), 20),
        }),
    }
}

/// This process's run: its id (the value of [`RUN_LABEL`]) and owner, fixed on first use.
struct Run {
    id: String,
    owner: String,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let pid = std::process::id();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        Run {
            // The pid alone is reused across runs (and machines); the nonce is not.
            id: format!("{pid}-{nanos:08x}"),
            owner: format!(
                "{}/{pid}/{}",
                hostname(),
                process_start_time(pid).unwrap_or_default()
            ),
        }
    })
}

/// The value of [`RUN_LABEL`] on every container this process starts.
pub fn run_id() -> &'static str {
    &run().id
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown-host".to_owned())
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot. With
/// the pid it identifies a process; a reused pid has another start time.
fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    // After the command name: state is field 3, so start time (22) is the 20th here.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// True if `owner` (a [`OWNER_LABEL`] value) names a process of this host that no longer runs.
fn owner_is_dead(owner: &str, host: &str) -> bool {
    let mut parts = owner.splitn(3, '/');
    let (Some(owner_host), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    // Another machine's run on a shared engine, or an owner whose start time could not be read
    // (no /proc): not ours to judge.
    if owner_host != host || start.is_empty() {
        return false;
    }
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    match process_start_time(pid) {
        None => true,
        Some(now) => now.to_string() != start,
    }
}

/// Removes the containers and networks of runs on this host whose owner process is dead.
/// Returns the names of what it removed.
pub fn sweep_dead_runs() -> Result<Vec<String>, ContainerError> {
    let host = hostname();
    let mut removed = Vec::new();
    let dead = of_dead_runs(&["ps", "-a"], "Names", &host)?;
    if !dead.is_empty() {
        let mut args = vec!["rm", "-f", "-v"];
        args.extend(dead.iter().map(|(id, _)| id.as_str()));
        docker(&args, "left-over containers", CLI_TIMEOUT)?;
        removed.extend(dead.into_iter().map(|(_, name)| name));
    }
    for (id, name) in of_dead_runs(&["network", "ls"], "Name", &host)? {
        docker(&["network", "rm", &id], &name, CLI_TIMEOUT)?;
        removed.push(name);
    }
    Ok(removed)
}

/// The ids and names of what `list` (`ps -a` or `network ls`) shows of runs on `host` whose
/// owner is dead. `name` is the listing's name column: `Names` for containers, `Name` for
/// networks.
fn of_dead_runs(
    list: &[&str],
    name: &str,
    host: &str,
) -> Result<Vec<(String, String)>, ContainerError> {
    let filter = format!("label={RUN_LABEL}");
    let format = format!("{{{{.ID}}}}\t{{{{.{name}}}}}\t{{{{.Label \"{OWNER_LABEL}\"}}}}");
    let mut args = list.to_vec();
    args.extend(["--filter", &filter, "--format", &format]);
    let listed = docker(&args, "the sweep", CLI_TIMEOUT)?;
    Ok(listed
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.next()?, f.next().unwrap_or("")))
        })
        .filter(|(_, _, owner)| owner_is_dead(owner, host))
        .map(|(id, name, _)| (id.to_owned(), name.to_owned()))
        .collect())
}

/// Removes everything labelled with run `$1` once its stdin reaches EOF, i.e. once the process
/// holding the pipe's write end is gone. Ignores the signals a terminal's Ctrl-C sends the
/// foreground group (it has its own group anyway).
const GUARDIAN_SCRIPT: &str = r#"
trap '' HUP INT QUIT PIPE TERM
while read -r _; do :; done
ids=$(docker ps -aq --filter "label=kq.run=$1")
if [ -n "$ids" ]; then docker rm -f -v $ids >/dev/null 2>&1; fi
nets=$(docker network ls -q --filter "label=kq.run=$1")
if [ -n "$nets" ]; then docker network rm $nets >/dev/null 2>&1; fi
"#;

struct Guardian {
    // Held (never dropped: it lives in a static) so the pipe closes only when the process ends.
    _pipe: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

/// Starts this process's guardian and sweeps dead runs, once; later calls return the outcome
/// of the first.
fn prepare_run() -> Result<(), ContainerError> {
    static PREPARED: OnceLock<Result<Guardian, String>> = OnceLock::new();
    let prepared = PREPARED.get_or_init(|| {
        match sweep_dead_runs() {
            Ok(removed) if !removed.is_empty() => eprintln!(
                "removed what earlier runs left behind: {}",
                removed.join(", ")
            ),
            Ok(_) => {}
            // Not fatal: this run's own containers are still looked after.
            Err(e) => eprintln!("warning: sweeping left-over containers failed: {e}"),
        }
        spawn_guardian().map_err(|e| e.to_string())
    });
    match prepared {
        Ok(_) => Ok(()),
        Err(e) => Err(ContainerError::Guardian(io::Error::other(e.clone()))),
    }
}

fn spawn_guardian() -> Result<Guardian, ContainerError> {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(GUARDIAN_SCRIPT)
        .arg("kq-container-guardian")
        .arg(run_id())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: Ctrl-C in the terminal must not kill it before it did its job.
        .process_group(0);
    crate::process::inherit_only_stdio(&mut cmd);
    let mut child = cmd.spawn().map_err(ContainerError::Guardian)?;
    let pipe = child
        .stdin
        .take()
        .ok_or_else(|| ContainerError::Guardian(io::Error::other("no stdin pipe")))?;
    Ok(Guardian {
        _pipe: Mutex::new(pipe),
        _child: Mutex::new(child),
    })
}

/// What to run: image, environment, network, published ports.
#[derive(Debug, Clone)]
pub(crate) struct ContainerSpec {
    pub service: &'static str,
    pub image: String,
    pub env: Vec<(String, String)>,
    pub network: Network,
    /// With [`Network::Bridge`]: the run's network, and the ports published on 127.0.0.1 (the
    /// same number inside and outside, so every address in the config is right on both sides).
    pub bridge_network: Option<String>,
    pub ports: Vec<u16>,
}

/// A running container, removed (with its anonymous volumes) when dropped.
#[derive(Debug)]
pub struct ServiceContainer {
    service: &'static str,
    name: String,
    id: String,
    image: String,
    started_at: Instant,
    removed: AtomicBool,
}

impl ServiceContainer {
    /// `docker run -d` of `spec`, labelled with this run. Does not wait for readiness.
    pub(crate) fn run(spec: &ContainerSpec) -> Result<ServiceContainer, ContainerError> {
        prepare_run()?;
        let name = format!("kq-{}-{}", spec.service, run_id());
        let labels = [
            format!("{RUN_LABEL}={}", run_id()),
            format!("{OWNER_LABEL}={}", run().owner),
            format!("kq.service={}", spec.service),
        ];
        let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--name".into(), name.clone()];
        for label in labels {
            args.extend(["--label".into(), label]);
        }
        match (spec.network, &spec.bridge_network) {
            (Network::Host, _) => args.extend(["--network".into(), "host".into()]),
            (Network::Bridge, Some(network)) => {
                args.extend(["--network".into(), network.clone()]);
                for port in &spec.ports {
                    args.extend(["-p".into(), format!("127.0.0.1:{port}:{port}")]);
                }
            }
            (Network::Bridge, None) => {
                for port in &spec.ports {
                    args.extend(["-p".into(), format!("127.0.0.1:{port}:{port}")]);
                }
            }
        }
        for (key, value) in &spec.env {
            args.extend(["-e".into(), format!("{key}={value}")]);
        }
        args.push(spec.image.clone());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let started_at = Instant::now();
        let id = match docker(&refs, &name, CLI_TIMEOUT) {
            Ok(out) => out.trim().to_owned(),
            Err(e) => {
                // `docker run` may have created the container before failing to start it.
                let _ = docker(&["rm", "-f", "-v", &name], &name, CLI_TIMEOUT);
                return Err(e);
            }
        };
        Ok(ServiceContainer {
            service: spec.service,
            name,
            id,
            image: spec.image.clone(),
            started_at,
            removed: AtomicBool::new(false),
        })
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// `kq-<service>-<run id>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn image(&self) -> &str {
        &self.image
    }

    /// Time since `docker run` was issued.
    pub fn uptime(&self) -> Duration {
        self.started_at.elapsed()
    }

    /// The last `lines` lines of `docker logs` (stdout, then stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        let tail = lines.to_string();
        match docker(
            &["logs", "--tail", &tail, &self.id],
            &self.name,
            CLI_TIMEOUT,
        ) {
            Ok(text) if text.trim().is_empty() => format!("(the log of {} is empty)", self.name),
            Ok(text) => text.trim_end().to_owned(),
            Err(ContainerError::Command { output, .. }) => output.trim_end().to_owned(),
            Err(e) => format!("(could not read the log of {}: {e})", self.name),
        }
    }

    /// The first line of the log that contains one of `needles`.
    pub fn log_find(&self, needles: &[&str]) -> Option<String> {
        let text = match docker(&["logs", &self.id], &self.name, CLI_TIMEOUT) {
            Ok(text) => text,
            Err(ContainerError::Command { output, .. }) => output,
            Err(_) => return None,
        };
        text.lines()
            .find(|line| needles.iter().any(|n| line.contains(n)))
            .map(|line| line.trim().to_owned())
    }

    /// `Err(Exited)` with the log tail if the container is no longer running.
    pub(crate) fn check_running(&self, port: u16) -> Result<(), ContainerError> {
        let state = docker(
            &[
                "inspect",
                "--format",
                "{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}",
                &self.id,
            ],
            &self.name,
            CLI_TIMEOUT,
        )?;
        let mut fields = state.trim().splitn(3, ' ');
        let status = fields.next().unwrap_or_default();
        if matches!(status, "running" | "created" | "restarting") {
            return Ok(());
        }
        let code = fields.next().unwrap_or("?");
        let error = fields.next().unwrap_or("").trim();
        Err(ContainerError::Exited {
            service: self.service,
            container: self.name.clone(),
            port,
            status: if error.is_empty() {
                format!("{status}, exit code {code}")
            } else {
                format!("{status}, exit code {code}: {error}")
            },
            log_tail: self.log_tail(LOG_TAIL_LINES),
        })
    }

    /// Waits until `probe` succeeds, failing at once if the container stops and with the last
    /// probe result and the log tail after `timeout`. Returns the time from `docker run`.
    pub(crate) fn wait_ready(
        &self,
        port: u16,
        timeout: Duration,
        mut probe: impl FnMut() -> Result<(), String>,
    ) -> Result<Duration, ContainerError> {
        let what = format!("{} on 127.0.0.1:{port}", self.name);
        let outcome = wait_until(&what, timeout, || match probe() {
            Ok(()) => Ok(Ok(())),
            // Only ask the engine when the probe failed: a ready service costs no extra call.
            Err(observed) => match self.check_running(port) {
                Ok(()) => Err(observed),
                Err(exited) => Ok(Err(exited)),
            },
        });
        match outcome {
            Ok(Ok(())) => Ok(self.uptime()),
            Ok(Err(exited)) => Err(self.with_cause(exited)),
            Err(timeout) => Err(ContainerError::NotReady {
                service: self.service,
                container: self.name.clone(),
                port,
                waited: timeout.waited,
                last_observed: timeout.last_observed,
                log_tail: self.log_tail(LOG_TAIL_LINES),
            }),
        }
    }

    /// Names a taken port in the status when the log line saying so scrolled out of the tail
    /// (Kafka logs its whole shutdown after it).
    fn with_cause(&self, mut error: ContainerError) -> ContainerError {
        if let ContainerError::Exited {
            status, log_tail, ..
        } = &mut error
        {
            if let Some(line) = self.log_find(super::PORT_TAKEN) {
                if !log_tail.contains(&line) {
                    *status = format!("{status}; the log says: {line}");
                }
            }
        }
        error
    }

    /// Removes the container now (idempotent).
    pub fn remove(&self) {
        remove_all(&[self]);
    }
}

impl Drop for ServiceContainer {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Removes several containers with one `docker rm -f -v` (they stop in parallel); each is
/// removed at most once.
pub(crate) fn remove_all(containers: &[&ServiceContainer]) {
    let pending: Vec<&ServiceContainer> = containers
        .iter()
        .copied()
        .filter(|c| !c.removed.swap(true, Ordering::SeqCst))
        .collect();
    if pending.is_empty() {
        return;
    }
    let mut args = vec!["rm", "-f", "-v"];
    args.extend(pending.iter().map(|c| c.id.as_str()));
    let names: Vec<&str> = pending.iter().map(|c| c.name.as_str()).collect();
    if let Err(e) = docker(&args, &names.join(", "), CLI_TIMEOUT) {
        // The guardian removes them when this process ends; say so rather than fail a drop.
        eprintln!("warning: removing {} failed: {e}", names.join(", "));
    }
}

/// A network of this run (bridge networking only), removed when dropped.
#[derive(Debug)]
pub struct RunNetwork {
    name: String,
}

impl RunNetwork {
    pub(crate) fn create() -> Result<RunNetwork, ContainerError> {
        prepare_run()?;
        let name = format!("kq-{}", run_id());
        let run_label = format!("{RUN_LABEL}={}", run_id());
        let owner_label = format!("{OWNER_LABEL}={}", run().owner);
        docker(
            &[
                "network",
                "create",
                "--label",
                &run_label,
                "--label",
                &owner_label,
                &name,
            ],
            &name,
            CLI_TIMEOUT,
        )?;
        Ok(RunNetwork { name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for RunNetwork {
    fn drop(&mut self) {
        if let Err(e) = docker(&["network", "rm", &self.name], &self.name, CLI_TIMEOUT) {
            eprintln!("warning: removing network {} failed: {e}", self.name);
        }
    }
}

/// Names of the containers (running or not) labelled with run `run_id`.
pub fn containers_of_run(run_id: &str) -> Result<Vec<String>, ContainerError> {
    let filter = format!("label={RUN_LABEL}={run_id}");
    let out = docker(
        &["ps", "-a", "--filter", &filter, "--format", "{{.Names}}"],
        run_id,
        CLI_TIMEOUT,
    )?;
    Ok(out.lines().map(str::to_owned).collect())
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Host => "host",
            Network::Bridge => "bridge",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dead_owners_of_this_host_are_swept() {
        let me = std::process::id();
        let start = process_start_time(me).unwrap();
        assert!(!owner_is_dead(&format!("h/{me}/{start}"), "h"));
        // The same pid with another start time: the pid was reused, the owner is gone.
        assert!(owner_is_dead(&format!("h/{me}/{}", start + 1), "h"));
        assert!(owner_is_dead(&format!("h/{}/1", u32::MAX), "h"));
        assert!(!owner_is_dead(&format!("other/{}/1", u32::MAX), "h"));
        assert!(!owner_is_dead(&format!("h/{}/", u32::MAX), "h"));
        assert!(!owner_is_dead("garbage", "h"));
    }

    #[test]
    fn network_names() {
        assert_eq!("host".parse::<Network>().unwrap(), Network::Host);
        assert_eq!(" Bridge ".parse::<Network>().unwrap(), Network::Bridge);
        let err = "overlay".parse::<Network>().unwrap_err().to_string();
        assert!(err.contains("KQ_DOCKER_NETWORK"), "{err}");
    }
}
