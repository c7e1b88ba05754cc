//! One service's container, through testcontainers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use testcontainers::bollard::query_parameters::KillContainerOptionsBuilder;
use testcontainers::core::logs::LogFrame;
use testcontainers::core::{ContainerPort, Mount, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt, TestcontainersError};

use super::run::{prepare_run, remove_container, run_id, run_labels, SERVICE_LABEL};
use super::{engine, off_runtime, EngineError, Network, ENGINE_TIMEOUT};
use crate::error::ContainerError;
use crate::wait::wait_until;

/// How many lines of a container's log go into errors.
const LOG_TAIL_LINES: usize = 40;
/// How many lines of the log are kept in memory for the errors of a failed start (the engine
/// forgets the log of a container testcontainers removed).
const CAPTURED_LINES: usize = 5_000;

/// What to run: image, environment, network, published ports, and when it counts as started.
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
    /// The port the readiness probe dials, which errors name.
    pub port: u16,
    /// A line the service logs once it listens: testcontainers' wait condition. The protocol
    /// probe afterwards is the real readiness check; the line makes a container that exits
    /// during startup fail at once (its log ends without it). `None`: started is enough (the
    /// sink, whose readiness is its own health endpoint, or its exit).
    pub ready_line: Option<&'static str>,
    /// Told apart from other containers of the same service in this run (`kq-sink-<run>-3`).
    pub instance: Option<String>,
    /// The command (arguments to the image's entrypoint); empty: the image's own.
    pub cmd: Vec<String>,
    /// Host folders bind-mounted into the container: (host path, container path).
    pub mounts: Vec<(std::path::PathBuf, String)>,
    /// How long the start may take, up to the line.
    pub timeout: Duration,
}

/// The last lines a container logged, in the order it logged them (stdout and stderr mixed),
/// as testcontainers' log consumer hands them over.
#[derive(Debug, Default)]
struct LogCapture {
    lines: VecDeque<String>,
    partial: String,
}

impl LogCapture {
    fn push(&mut self, bytes: &[u8]) {
        self.partial.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=end).collect();
            if self.lines.len() == CAPTURED_LINES {
                self.lines.pop_front();
            }
            self.lines.push_back(line.trim_end().to_owned());
        }
    }

    fn text(&self) -> String {
        let mut text: Vec<&str> = self.lines.iter().map(String::as_str).collect();
        if !self.partial.is_empty() {
            text.push(&self.partial);
        }
        text.join("\n")
    }
}

/// A running container, removed (with its anonymous volumes) when dropped.
pub struct ServiceContainer {
    service: &'static str,
    name: String,
    id: String,
    image: String,
    port: u16,
    started_at: Mutex<Instant>,
    /// `None` once removed.
    container: Mutex<Option<Container<GenericImage>>>,
}

impl std::fmt::Debug for ServiceContainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceContainer")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

/// True for the engine's answer to killing a container that is not running (409).
fn is_not_running(e: &testcontainers::bollard::errors::Error) -> bool {
    matches!(
        e,
        testcontainers::bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            message,
        } if message.contains("not running")
    )
}

/// `repository[:tag]` split for testcontainers (`latest` when there is no tag; a registry's
/// `host:port/` prefix is not a tag).
fn split_image(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (image, "latest"),
    }
}

impl ServiceContainer {
    /// Starts `spec`'s container, labelled with this run, and waits for its ready line.
    pub(crate) fn run(spec: &ContainerSpec) -> Result<ServiceContainer, ContainerError> {
        prepare_run()?;
        let name = match &spec.instance {
            Some(instance) => format!("kq-{}-{}-{instance}", spec.service, run_id()),
            None => format!("kq-{}-{}", spec.service, run_id()),
        };
        let (repository, tag) = split_image(&spec.image);
        let captured = Arc::new(Mutex::new(LogCapture::default()));
        let capture = captured.clone();
        let wait = match spec.ready_line {
            Some(line) => WaitFor::message_on_either_std(line),
            None => WaitFor::Nothing,
        };
        let mut request = GenericImage::new(repository, tag)
            .with_wait_for(wait)
            .with_container_name(&name)
            .with_label(SERVICE_LABEL, spec.service)
            .with_startup_timeout(spec.timeout)
            .with_log_consumer(move |frame: &LogFrame| {
                if let Ok(mut log) = capture.lock() {
                    log.push(frame.bytes());
                }
            });
        for (key, value) in run_labels() {
            request = request.with_label(key, value);
        }
        for (key, value) in &spec.env {
            request = request.with_env_var(key, value);
        }
        for (host, inside) in &spec.mounts {
            request = request.with_mount(Mount::bind_mount(host.to_string_lossy(), inside));
        }
        if !spec.cmd.is_empty() {
            request = request.with_cmd(spec.cmd.clone());
        }
        request = match spec.network {
            Network::Host => request.with_network("host"),
            Network::Bridge => {
                if let Some(network) = &spec.bridge_network {
                    request = request.with_network(network);
                }
                for &port in &spec.ports {
                    request = request.with_mapped_port(port, ContainerPort::Tcp(port));
                }
                // testcontainers publishes on every interface; the services are for this host.
                request.with_host_config_modifier(|host| {
                    for bindings in host.port_bindings.iter_mut().flat_map(|m| m.values_mut()) {
                        for binding in bindings.iter_mut().flatten() {
                            binding.host_ip = Some("127.0.0.1".to_owned());
                        }
                    }
                })
            }
        };

        let started_at = Instant::now();
        let container = match off_runtime(|| request.start()) {
            Ok(container) => container,
            Err(error) => {
                // A start that timed out may leave the created container behind.
                let _ = remove_container(&name);
                let log_tail = last_lines(&captured.lock().map(|l| l.text()).unwrap_or_default());
                return Err(start_error(
                    spec,
                    &name,
                    error,
                    started_at.elapsed(),
                    log_tail,
                ));
            }
        };
        Ok(ServiceContainer {
            service: spec.service,
            id: container.id().to_owned(),
            name,
            image: spec.image.clone(),
            port: spec.port,
            started_at: Mutex::new(started_at),
            container: Mutex::new(Some(container)),
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

    /// Time since the container was (last) started.
    pub fn uptime(&self) -> Duration {
        self.started_at
            .lock()
            .map(|t| t.elapsed())
            .unwrap_or_default()
    }

    /// Runs `f` on the container, off any tokio runtime; `Err` if it was removed.
    fn with<T: Send>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Container<GenericImage>) -> Result<T, TestcontainersError> + Send,
    ) -> Result<T, ContainerError> {
        let guard = self.container.lock().unwrap_or_else(|p| p.into_inner());
        let Some(container) = guard.as_ref() else {
            return Err(ContainerError::Engine {
                container: self.name.clone(),
                operation,
                detail: "the container was removed".to_owned(),
            });
        };
        off_runtime(|| f(container)).map_err(|e| ContainerError::Engine {
            container: self.name.clone(),
            operation,
            detail: e.to_string(),
        })
    }

    /// The whole log so far (every start of the container), stdout then stderr.
    fn log_text(&self) -> Result<String, ContainerError> {
        self.with("reading the log", |c| {
            let mut text = c.stdout_to_vec()?;
            text.extend(c.stderr_to_vec()?);
            Ok(String::from_utf8_lossy(&text).into_owned())
        })
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        match self.log_text() {
            Ok(text) if text.trim().is_empty() => format!("(the log of {} is empty)", self.name),
            Ok(text) => {
                let all: Vec<&str> = text.trim_end().lines().collect();
                all[all.len().saturating_sub(lines)..].join("\n")
            }
            Err(e) => format!("(could not read the log of {}: {e})", self.name),
        }
    }

    /// The first line of the log that contains one of `needles`.
    pub fn log_find(&self, needles: &[&str]) -> Option<String> {
        find_line(&self.log_text().ok()?, needles)
    }

    /// `Err(Exited)` with the log tail if the container is no longer running.
    pub(crate) fn check_running(&self) -> Result<(), ContainerError> {
        let (running, code) = self.with("inspecting the container", |c| {
            Ok((c.is_running()?, c.exit_code()?))
        })?;
        if running {
            return Ok(());
        }
        let status = match code {
            Some(code) => format!("exited with code {code}"),
            None => "not running".to_owned(),
        };
        Err(ContainerError::Exited {
            service: self.service,
            container: self.name.clone(),
            port: self.port,
            status: self.with_cause(status),
            log_tail: self.log_tail(LOG_TAIL_LINES),
        })
    }

    /// Waits until `probe` succeeds, failing at once if the container stops and with the last
    /// probe result and the log tail once `timeout` has passed since the (last) start, which
    /// the wait for the ready line already spent part of. Returns the time since that start.
    pub(crate) fn wait_ready(
        &self,
        timeout: Duration,
        mut probe: impl FnMut() -> Result<(), String>,
    ) -> Result<Duration, ContainerError> {
        let what = format!("{} on 127.0.0.1:{}", self.name, self.port);
        let timeout = timeout.saturating_sub(self.uptime());
        let outcome = wait_until(&what, timeout, || match probe() {
            Ok(()) => Ok(Ok(())),
            // Only ask the engine when the probe failed: a ready service costs no extra call.
            Err(observed) => match self.check_running() {
                Ok(()) => Err(observed),
                Err(exited) => Ok(Err(exited)),
            },
        });
        match outcome {
            Ok(Ok(())) => Ok(self.uptime()),
            Ok(Err(exited)) => Err(exited),
            Err(timeout) => Err(ContainerError::NotReady {
                service: self.service,
                container: self.name.clone(),
                port: self.port,
                waited: timeout.waited,
                last_observed: timeout.last_observed,
                log_tail: self.log_tail(LOG_TAIL_LINES),
            }),
        }
    }

    /// Waits (bounded) until the container's process has exited; its exit code.
    pub fn wait_exit(&self, timeout: Duration) -> Result<i64, ContainerError> {
        let outcome = wait_until(&format!("{} to exit", self.name), timeout, || {
            match self.with("inspecting the container", |c| {
                Ok((c.is_running()?, c.exit_code()?))
            }) {
                Ok((false, Some(code))) => Ok(Ok(code)),
                Ok((running, code)) => Err(format!("running: {running}, exit code: {code:?}")),
                Err(e) => Ok(Err(e)),
            }
        });
        match outcome {
            Ok(result) => result,
            Err(timeout) => Err(ContainerError::NoExit {
                container: self.name.clone(),
                waited: timeout.waited,
                last_observed: timeout.last_observed,
                log_tail: self.log_tail(LOG_TAIL_LINES),
            }),
        }
    }

    /// Kills the container's process with SIGKILL, as a crash would; the container and its
    /// filesystem (the service's data) stay. testcontainers can only stop (SIGTERM first).
    pub fn kill(&self) -> Result<(), ContainerError> {
        self.signal("SIGKILL")?;
        // Killed means not running: wait for the engine to say so before anything starts it.
        wait_until(
            &format!("{} to stop", self.name),
            ENGINE_TIMEOUT,
            || match self.with("inspecting the container", |c| c.is_running()) {
                Ok(false) => Ok(Ok(())),
                Ok(true) => Err("still running".to_owned()),
                Err(e) => Ok(Err(e)),
            },
        )
        .map_err(|t| ContainerError::Engine {
            container: self.name.clone(),
            operation: "killing the container",
            detail: format!("still running after {:.1?}", t.waited),
        })?
    }

    /// Sends `signal` (`SIGTERM`, `SIGINT`, `SIGKILL`) to the container's main process and
    /// returns at once; a container that already exited is not an error.
    pub fn signal(&self, signal: &str) -> Result<(), ContainerError> {
        let id = self.id.clone();
        let sent = engine(ENGINE_TIMEOUT, |docker| async move {
            let options = KillContainerOptionsBuilder::default()
                .signal(signal)
                .build();
            docker.kill_container(&id, Some(options)).await
        });
        match sent {
            Ok(()) => Ok(()),
            // It exited on its own already (a broker that could not register, say): as good.
            Err(EngineError::Api(e)) if is_not_running(&e) => Ok(()),
            Err(e) => Err(e.into_container_error(&self.name, "signalling the container")),
        }
    }

    /// `None` while the container's process runs, else its exit code.
    pub fn exit_code(&self) -> Result<Option<i64>, ContainerError> {
        let (running, code) = self.with("inspecting the container", |c| {
            Ok((c.is_running()?, c.exit_code()?))
        })?;
        Ok(if running { None } else { code.or(Some(-1)) })
    }

    /// Stops the container cleanly (SIGTERM; SIGKILL after `grace`), keeping it and its
    /// filesystem for [`Self::start_again`].
    pub fn stop(&self, grace: Duration) -> Result<(), ContainerError> {
        let seconds = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        self.with("stopping the container", |c| {
            c.stop_with_timeout(Some(seconds))
        })
    }

    /// Starts the stopped container again: the same configuration, ports and filesystem.
    /// Does not wait for readiness (see [`Self::wait_ready`]).
    pub fn start_again(&self) -> Result<(), ContainerError> {
        *self.started_at.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.with("starting the container again", |c| c.start())
    }

    /// Names a taken port in the status when the log says so (Kafka logs its whole shutdown
    /// after the line, so it may have scrolled out of the tail).
    fn with_cause(&self, status: String) -> String {
        match self.log_find(super::super::PORT_TAKEN) {
            Some(line) => format!("{status}; the log says: {line}"),
            None => status,
        }
    }

    /// Removes the container now (idempotent: the first call takes it).
    pub fn remove(&self) {
        let taken = self
            .container
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(container) = taken {
            // testcontainers removes it (force, with volumes) when dropped.
            off_runtime(move || drop(container));
        }
    }
}

impl Drop for ServiceContainer {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Removes several containers at once (in parallel: each removal kills and waits for its
/// container).
pub(crate) fn remove_all(containers: &[&ServiceContainer]) {
    thread::scope(|scope| {
        for container in containers {
            scope.spawn(|| container.remove());
        }
    });
}

/// The error of a start that testcontainers gave up on (the container is gone with its log,
/// hence `log_tail` from the capture).
fn start_error(
    spec: &ContainerSpec,
    name: &str,
    error: TestcontainersError,
    waited: Duration,
    log_tail: String,
) -> ContainerError {
    use testcontainers::core::error::WaitContainerError;
    let log_tail = if log_tail.trim().is_empty() {
        format!("(the log of {name} is empty)")
    } else {
        log_tail
    };
    match error {
        TestcontainersError::WaitContainer(WaitContainerError::StartupTimeout) => {
            ContainerError::NotReady {
                service: spec.service,
                container: name.to_owned(),
                port: spec.port,
                waited,
                last_observed: format!("no line with {:?} in its log", spec.ready_line),
                log_tail,
            }
        }
        // The log ended without the line: the service exited.
        TestcontainersError::WaitContainer(WaitContainerError::WaitLog(_)) => {
            let cause = find_line(&log_tail, super::super::PORT_TAKEN)
                .map(|line| format!("; the log says: {line}"))
                .unwrap_or_default();
            ContainerError::Exited {
                service: spec.service,
                container: name.to_owned(),
                port: spec.port,
                status: format!("its log ended before {:?}{cause}", spec.ready_line),
                log_tail,
            }
        }
        other => ContainerError::Engine {
            container: name.to_owned(),
            operation: "starting the container",
            detail: other.to_string(),
        },
    }
}

/// The first line of `text` that contains one of `needles`, trimmed.
fn find_line(text: &str, needles: &[&str]) -> Option<String> {
    text.lines()
        .find(|line| needles.iter().any(|n| line.contains(n)))
        .map(|line| line.trim().to_owned())
}

fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.trim_end().lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split_into_repository_and_tag() {
        assert_eq!(
            split_image("questdb/questdb:9.3.4"),
            ("questdb/questdb", "9.3.4")
        );
        assert_eq!(split_image("kq/no-tag"), ("kq/no-tag", "latest"));
        assert_eq!(
            split_image("registry:5000/kq/kafka"),
            ("registry:5000/kq/kafka", "latest")
        );
        assert_eq!(
            split_image("registry:5000/kq/kafka:1"),
            ("registry:5000/kq/kafka", "1")
        );
    }

    #[test]
    fn the_capture_keeps_whole_lines_across_frames_and_only_the_last_ones() {
        let mut log = LogCapture::default();
        log.push(b"first li");
        log.push(b"ne\nsecond\nthi");
        assert_eq!(log.text(), "first line\nsecond\nthi");
        for i in 0..CAPTURED_LINES {
            log.push(format!("{i}\n").as_bytes());
        }
        assert_eq!(log.lines.len(), CAPTURED_LINES);
        assert_eq!(log.lines.front().map(String::as_str), Some("thi0"));
    }
}
