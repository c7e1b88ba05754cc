//! The sink processes of a fault case or an operations run, one per task of the connector:
//! the `sink` binary as a [`ServiceProcess`] (its own process group, a guardian), or the sink's
//! image as a container of this run ([`Launch`]), so none outlives the run, even after a panic
//! or a SIGKILL of the harness.

use crate::process::ServiceProcess;
use crate::replay::Target;
use crate::services::docker::{ServiceContainer, SinkImage, SinkRun, RUN_DIR};
use sink::run::report::SummaryFile;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The sink under test in a fault case.
#[derive(Debug, Clone)]
pub enum SinkUnder {
    /// The `sink` binary at this path, a process per task.
    Binary(PathBuf),
    /// A connector in Kafka Connect workers, a worker per task (issue 29.3).
    Connect(super::worker::ConnectSink),
}

/// How a sink process is launched.
#[derive(Debug, Clone)]
pub enum Launch {
    /// The `sink` binary at this path.
    Binary(PathBuf),
    /// The sink's image, host networking, the properties file mounted.
    Image(SinkImage),
    /// A Kafka Connect worker running the case's connector (one worker per task).
    Connect(Box<super::worker::ConnectLaunch>),
}

/// The running sink.
enum Handle {
    Process(ServiceProcess),
    /// The container, and the folder mounted into it (properties in, summary out), removed
    /// with it.
    Container {
        container: Box<ServiceContainer>,
        _mounted: tempfile::TempDir,
    },
    Worker(super::worker::WorkerTask),
}

pub struct SinkProcess {
    pub task: u32,
    launch: Launch,
    properties: PathBuf,
    target: Target,
    handle: Option<Handle>,
    summary: PathBuf,
    /// Why a Connect worker did not start (it exits while Kafka is down): a sink that gave up.
    start_failure: Option<String>,
    /// When the current process was spawned.
    pub spawned: Instant,
}

impl SinkProcess {
    /// Starts `sink properties --task task` against `target`, running until stopped.
    pub fn start(
        launch: &Launch,
        properties: &Path,
        target: &Target,
        task: u32,
    ) -> anyhow::Result<SinkProcess> {
        let mut sink = SinkProcess {
            task,
            launch: launch.clone(),
            properties: properties.into(),
            target: target.clone(),
            handle: None,
            summary: PathBuf::new(),
            start_failure: None,
            spawned: Instant::now(),
        };
        sink.spawn()?;
        Ok(sink)
    }

    /// The arguments after the properties file, with the summary written to `summary`.
    fn args(&self, summary: &Path) -> Vec<String> {
        vec![
            "--bootstrap-servers".into(),
            self.target.bootstrap.clone(),
            "--pg-host".into(),
            self.target.pg_host.clone(),
            "--pg-port".into(),
            self.target.pg_port.to_string(),
            "--task".into(),
            self.task.to_string(),
            "--summary".into(),
            summary.display().to_string(),
        ]
    }

    /// Starts the process again (after a kill, a stop or giving up). A worker that still runs
    /// with a failed task has the task restarted instead, as an operator would.
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        if let Some(Handle::Worker(worker)) = &self.handle {
            if worker.alive() {
                self.spawned = Instant::now();
                return worker.restart_task();
            }
        }
        drop(self.handle.take());
        self.start_failure = None;
        if let Launch::Connect(launch) = &self.launch {
            self.spawned = Instant::now();
            match super::worker::WorkerTask::start(launch, &self.target.bootstrap) {
                Ok(worker) => self.handle = Some(Handle::Worker(worker)),
                // Its first line: the log's tail holds timestamps.
                Err(e) => {
                    self.start_failure = Some(
                        format!("{e:#}")
                            .lines()
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    )
                }
            }
            return Ok(());
        }
        let dir = tempfile::Builder::new().prefix("kq-sink-").tempdir()?;
        self.summary = dir.path().join("summary.json");
        self.spawned = Instant::now();
        self.handle = Some(match &self.launch {
            Launch::Binary(binary) => {
                let mut cmd = Command::new(binary);
                cmd.arg(&self.properties)
                    .args(self.args(&self.summary))
                    .env("RUST_LOG", "warn");
                Handle::Process(ServiceProcess::spawn("sink", cmd, dir)?)
            }
            Launch::Connect(_) => unreachable!("started above"),
            Launch::Image(image) => {
                let inside = Path::new(RUN_DIR);
                std::fs::copy(&self.properties, dir.path().join("connector.properties"))?;
                let mut args = vec![inside.join("connector.properties").display().to_string()];
                args.extend(self.args(&inside.join("summary.json")));
                let run = SinkRun {
                    dir: dir.path().to_owned(),
                    args,
                    env: vec![
                        ("RUST_LOG".into(), "warn".into()),
                        // The properties file's metrics.listen, as for the binary.
                        ("KQ_METRICS_LISTEN".into(), String::new()),
                    ],
                    timeout: Duration::from_secs(60),
                };
                let container = image.start(&run)?;
                Handle::Container {
                    container: Box::new(container),
                    _mounted: dir,
                }
            }
        });
        Ok(())
    }

    /// Sends `signal` to the sink.
    fn send(&self, signal: libc::c_int, name: &str) -> anyhow::Result<()> {
        match &self.handle {
            // SAFETY: kill(2) on the pid of a child not reaped yet (the handle holds it).
            Some(Handle::Process(p)) => unsafe {
                libc::kill(p.pid() as i32, signal);
            },
            Some(Handle::Container { container, .. }) => container.signal(name)?,
            // SAFETY: as above, the worker's JVM (its handle holds it).
            Some(Handle::Worker(w)) => unsafe {
                libc::kill(w.pid() as i32, signal);
            },
            None => {}
        }
        Ok(())
    }

    /// SIGKILL, as a crash (or `kill -9`) would; reaped at once.
    pub fn kill(&mut self) {
        match self.handle.take() {
            Some(Handle::Process(p)) => {
                // SAFETY: as in `send`.
                unsafe { libc::kill(p.pid() as i32, libc::SIGKILL) };
                drop(p);
            }
            Some(Handle::Container { container, .. }) => {
                if let Err(e) = container.kill() {
                    eprintln!("warning: killing sink task {}: {e}", self.task);
                }
            }
            Some(Handle::Worker(w)) => {
                // SAFETY: as in `send`.
                unsafe { libc::kill(w.pid() as i32, libc::SIGKILL) };
                drop(w);
            }
            None => {}
        }
    }

    /// SIGSTOP, `meanwhile` (producing the next part), frozen until `down` has passed, then
    /// SIGCONT: the same process goes on, with its connections and group membership (no new
    /// one is spawned).
    pub async fn pause(
        &mut self,
        down: Duration,
        meanwhile: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let until = Instant::now() + down;
        self.send(libc::SIGSTOP, "SIGSTOP")?;
        let produced = tokio::task::block_in_place(meanwhile);
        // The fault's own length, not a wait for a condition.
        tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
        self.send(libc::SIGCONT, "SIGCONT")?;
        produced
    }

    /// Ctrl-C: the sink stops after the batch in progress and commits it; waits for the exit.
    pub fn interrupt(&mut self) -> anyhow::Result<()> {
        if self.handle.is_none() {
            return Ok(());
        }
        self.send(libc::SIGINT, "SIGINT")?;
        crate::wait::wait_until(
            &format!("sink task {} to stop after Ctrl-C", self.task),
            Duration::from_secs(30),
            || match self.exited() {
                None => Err("still running".into()),
                Some(_) => Ok(()),
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}; its log:\n{}", self.log_tail(20)))?;
        drop(self.handle.take());
        Ok(())
    }

    /// SIGTERM, as an orchestrator stops a container: waits up to `timeout` for the process to
    /// exit and returns how it ended (`exit status 0` for a clean stop) and how long it took.
    pub fn terminate(&mut self, timeout: Duration) -> anyhow::Result<(String, Duration)> {
        if self.handle.is_none() {
            anyhow::bail!("sink task {} is not running", self.task);
        }
        let sent = Instant::now();
        self.send(libc::SIGTERM, "SIGTERM")?;
        // Polled every 5 ms (bounded by `timeout`) so the stop time is measured closely.
        let ended = loop {
            if let Some(how) = self.exited() {
                break how;
            }
            if sent.elapsed() > timeout {
                anyhow::bail!(
                    "sink task {} still running {timeout:?} after SIGTERM; its log:\n{}",
                    self.task,
                    self.log_tail(20)
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = sent.elapsed();
        drop(self.handle.take());
        Ok((ended, took))
    }

    /// `Some(how it ended)` once the process has exited on its own (`exit status N`, as for a
    /// process, for a container too); `None` while it runs (or after [`Self::kill`]).
    pub fn exited(&self) -> Option<String> {
        if let Some(failure) = &self.start_failure {
            return Some(failure.clone());
        }
        match self.handle.as_ref()? {
            Handle::Process(p) => p.check_alive().err().map(|e| match e {
                crate::error::ServiceError::Exited { status, .. } => status,
                other => other.to_string(),
            }),
            Handle::Container { container, .. } => match container.exit_code() {
                Ok(None) => None,
                Ok(Some(code)) => Some(format!("exit status {code}")),
                Err(e) => Some(e.to_string()),
            },
            Handle::Worker(w) => w.failed(),
        }
    }

    /// The error the process reported in its summary, else how it ended and its log's end.
    pub fn error(&self) -> String {
        if let Some(failure) = &self.start_failure {
            return failure.clone();
        }
        if let Some(Handle::Worker(w)) = &self.handle {
            return w.failed().unwrap_or_else(|| "running".into());
        }
        let summary = std::fs::read_to_string(&self.summary)
            .ok()
            .and_then(|t| SummaryFile::parse(&t));
        match summary.and_then(|s| s.error) {
            Some(e) => e,
            None => format!(
                "{} without an error in its summary; log:\n{}",
                self.exited().unwrap_or_else(|| "running".into()),
                self.log_tail(10)
            ),
        }
    }

    /// The running process's peak resident memory so far (`VmHWM`), in KiB; `None` in a
    /// container or once it exited.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        match &self.handle {
            Some(Handle::Process(p)) if self.exited().is_none() => {
                crate::bench::usage::peak_kib(p.pid())
            }
            _ => None,
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        match &self.handle {
            Some(Handle::Process(p)) => p.log_tail(lines),
            Some(Handle::Container { container, .. }) => container.log_tail(lines),
            Some(Handle::Worker(w)) => w.log_tail(lines),
            None => "(not running)".into(),
        }
    }
}
