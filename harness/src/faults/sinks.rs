//! The `sink` binary processes of a fault case, one per task of the connector. Each runs as a
//! [`ServiceProcess`] (its own process group, a guardian), so none outlives the run, even
//! after a panic or a SIGKILL of the harness.

use crate::process::ServiceProcess;
use crate::replay::Target;
use sink::report::SummaryFile;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub struct SinkProcess {
    pub task: u32,
    binary: PathBuf,
    properties: PathBuf,
    target: Target,
    process: Option<ServiceProcess>,
    summary: PathBuf,
    /// When the current process was spawned.
    pub spawned: Instant,
}

impl SinkProcess {
    /// Starts `binary properties --task task` against `target`, running until stopped.
    pub fn start(
        binary: &Path,
        properties: &Path,
        target: &Target,
        task: u32,
    ) -> anyhow::Result<SinkProcess> {
        let mut sink = SinkProcess {
            task,
            binary: binary.into(),
            properties: properties.into(),
            target: target.clone(),
            process: None,
            summary: PathBuf::new(),
            spawned: Instant::now(),
        };
        sink.spawn()?;
        Ok(sink)
    }

    /// Starts the process again (after a kill, a stop or giving up).
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        drop(self.process.take());
        let dir = tempfile::Builder::new().prefix("kq-sink-").tempdir()?;
        self.summary = dir.path().join("summary.json");
        let mut cmd = Command::new(&self.binary);
        cmd.arg(&self.properties)
            .args(["--bootstrap-servers", &self.target.bootstrap])
            .args(["--pg-host", &self.target.pg_host])
            .args(["--pg-port", &self.target.pg_port.to_string()])
            .args(["--task", &self.task.to_string()])
            .arg("--summary")
            .arg(&self.summary)
            .env("RUST_LOG", "warn");
        self.spawned = Instant::now();
        self.process = Some(ServiceProcess::spawn("sink", cmd, dir)?);
        Ok(())
    }

    /// SIGKILL, as a crash (or `kill -9`) would; reaped at once.
    pub fn kill(&mut self) {
        if let Some(p) = self.process.take() {
            // SAFETY: kill(2) on the pid of a child not reaped yet (`p` holds it).
            unsafe { libc::kill(p.pid() as i32, libc::SIGKILL) };
            drop(p);
        }
    }

    /// Ctrl-C: the sink stops after the batch in progress and commits it; waits for the exit.
    pub fn interrupt(&mut self) -> anyhow::Result<()> {
        let Some(p) = &self.process else {
            return Ok(());
        };
        // SAFETY: as in `kill`.
        unsafe { libc::kill(p.pid() as i32, libc::SIGINT) };
        crate::wait::wait_until(
            &format!("sink task {} to stop after Ctrl-C", self.task),
            std::time::Duration::from_secs(30),
            || match p.check_alive() {
                Ok(()) => Err("still running".into()),
                Err(_) => Ok(()),
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}; its log:\n{}", p.log_tail(20)))?;
        drop(self.process.take());
        Ok(())
    }

    /// SIGTERM, as an orchestrator stops a container: waits up to `timeout` for the process to
    /// exit and returns how it ended (`exit status 0` for a clean stop) and how long it took.
    pub fn terminate(
        &mut self,
        timeout: std::time::Duration,
    ) -> anyhow::Result<(String, std::time::Duration)> {
        let Some(p) = &self.process else {
            anyhow::bail!("sink task {} is not running", self.task);
        };
        let sent = Instant::now();
        // SAFETY: as in `kill`.
        unsafe { libc::kill(p.pid() as i32, libc::SIGTERM) };
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
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let took = sent.elapsed();
        drop(self.process.take());
        Ok((ended, took))
    }

    /// `Some(how it ended)` once the process has exited on its own; `None` while it runs (or
    /// after [`Self::kill`]).
    pub fn exited(&self) -> Option<String> {
        let p = self.process.as_ref()?;
        p.check_alive().err().map(|e| match e {
            crate::error::ServiceError::Exited { status, .. } => status,
            other => other.to_string(),
        })
    }

    /// The error the process reported in its summary, else how it ended and its log's end.
    pub fn error(&self) -> String {
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

    pub fn log_tail(&self, lines: usize) -> String {
        self.process
            .as_ref()
            .map_or("(not running)".into(), |p| p.log_tail(lines))
    }
}
