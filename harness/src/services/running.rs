//! A started service, whichever it is: its [`Runner`], how to tell it is ready, and the faults
//! and accessors built on those two, written once for ZooKeeper, Kafka and QuestDB (each of
//! them derefs to its [`Running`]).

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::docker::ServiceContainer;
use super::{print_ready, Halt, Runner};
use crate::error::ServiceError;
use crate::process::ServiceProcess;

/// How a service tells it is ready: waits on `runner` until the service answers its protocol
/// on `port`, at most `timeout`; returns the time since its (last) start.
pub(crate) type Readiness = fn(&Runner, u16, Duration) -> Result<Duration, ServiceError>;

/// What a service started again right after a kill may log when it exits at once because its
/// previous self is still registered (Kafka in ZooKeeper mode, until the killed broker's
/// session expires): it is started again until the timeout.
const STILL_REGISTERED: &str = "NodeExists";

#[derive(Debug)]
pub struct Running {
    /// Spawn (or container start) to ready.
    pub startup: Duration,
    /// `questdb`, `kafka`, `zookeeper`: how errors name it.
    service: &'static str,
    /// The port its readiness probe dials.
    port: u16,
    runner: Runner,
    ready: Readiness,
}

impl Running {
    /// Waits until `runner`'s service is ready, then says so on stderr as `{label} ready on
    /// {address}`.
    pub(crate) fn wait(
        label: &str,
        service: &'static str,
        (port, address): (u16, String),
        runner: Runner,
        ready: Readiness,
        timeout: Duration,
    ) -> Result<Running, ServiceError> {
        let startup = ready(&runner, port, timeout)?;
        print_ready(label, &address, startup);
        Ok(Running {
            startup,
            service,
            port,
            runner,
            ready,
        })
    }

    /// Kills the service with SIGKILL, as a crash would, and starts it again on the same ports
    /// and data (process or container); returns once it answers again, with how long the
    /// restart took.
    pub fn kill_and_restart(&mut self, timeout: Duration) -> Result<Duration, ServiceError> {
        let started = Instant::now();
        loop {
            self.runner.kill_and_start_again(self.service)?;
            let left = timeout.saturating_sub(started.elapsed());
            match (self.ready)(&self.runner, self.port, left) {
                Ok(_) => return Ok(started.elapsed()),
                Err(ServiceError::Exited { log_tail, .. })
                    if log_tail.contains(STILL_REGISTERED) && started.elapsed() < timeout =>
                {
                    continue
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Stops the service cleanly (SIGTERM; SIGKILL after 30 s), keeping its ports and data for
    /// [`Self::start_again`] (a fault case).
    pub fn stop(&mut self) -> Result<(), ServiceError> {
        self.runner.halt(self.service, Halt::Stop)
    }

    /// Kills the service with SIGKILL and leaves it down (a hard shutdown), keeping its ports
    /// and data for [`Self::start_again`].
    pub fn stop_hard(&mut self) -> Result<(), ServiceError> {
        self.runner.halt(self.service, Halt::Kill)
    }

    /// Starts a service that [`Self::stop`] stopped, on the same ports and data; returns once
    /// it answers, with how long that took.
    pub fn start_again(&mut self, timeout: Duration) -> Result<Duration, ServiceError> {
        self.runner.start_again(self.service)?;
        (self.ready)(&self.runner, self.port, timeout)
    }

    /// Sends `signal` to the service's process group (or its container's process).
    pub fn signal(&self, signal: super::fault::Signal) -> Result<(), ServiceError> {
        match &self.runner {
            Runner::Process { process, .. } => {
                process.signal_group(signal.number());
                Ok(())
            }
            Runner::Container(c) => c
                .signal(signal.name())
                .map_err(|e| e.into_service_error(self.service)),
        }
    }

    /// Waits until the running service answers its protocol again (after a pause).
    pub fn wait_answering(&self, timeout: Duration) -> Result<Duration, ServiceError> {
        let started = Instant::now();
        (self.ready)(&self.runner, self.port, timeout)?;
        Ok(started.elapsed())
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.runner.log_tail(lines)
    }

    /// The local process.
    ///
    /// # Panics
    /// With the docker backend, which has no local process: see [`Self::container`].
    pub fn process(&self) -> &ServiceProcess {
        self.runner.process(self.service)
    }

    /// The container, with the docker backend.
    pub fn container(&self) -> Option<&ServiceContainer> {
        self.runner.container()
    }

    pub(crate) fn runner(&self) -> &Runner {
        &self.runner
    }
}

/// A service struct is its [`Running`] plus its own addresses.
macro_rules! deref_to_running {
    ($service:ty) => {
        impl std::ops::Deref for $service {
            type Target = $crate::services::Running;
            fn deref(&self) -> &Self::Target {
                &self.running
            }
        }
        impl std::ops::DerefMut for $service {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.running
            }
        }
    };
}
pub(crate) use deref_to_running;

/// A connection to a probe port on 127.0.0.1, reads and writes bounded to 2 s each, for the
/// readiness probes that speak a line of their service's protocol.
pub(crate) fn probe_connection(port: u16) -> Result<TcpStream, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(2);
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| e.to_string())?;
    Ok(stream)
}
