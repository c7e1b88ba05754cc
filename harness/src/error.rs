//! Errors from provisioning and starting the real services.
//!
//! Every variant names the service (and, where there is one, its port) and carries what is
//! needed to act on it without rerunning: the command's output, the last observed probe
//! result and the last lines of the service's log.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// `mvn dependency:copy-dependencies` (or the cache it fills) failed.
    #[error(
        "provisioning the services failed: `{command}`\nhint: {hint}\n--- output ---\n{output}"
    )]
    Provision {
        command: String,
        output: String,
        hint: String,
    },

    /// A container backend problem; the error names the container and port.
    #[error("{0}")]
    Container(Box<ContainerError>),
    /// A harness setting (environment variable) with a value it cannot use.
    #[error("{0}")]
    Config(String),
    /// No usable `java`.
    #[error("no usable java: {hint}")]
    Java { hint: String },

    /// The service's process (or its guardian) could not be spawned.
    #[error("could not spawn {service}: {source}")]
    Spawn {
        service: &'static str,
        #[source]
        source: io::Error,
    },

    /// The service did not answer its readiness probe in time.
    #[error(
        "{service} on 127.0.0.1:{port} was not ready after {waited:.1?}; last observed: {last_observed}\n\
         --- last lines of the {service} log ---\n{log_tail}"
    )]
    NotReady {
        service: &'static str,
        port: u16,
        waited: Duration,
        last_observed: String,
        log_tail: String,
    },

    /// The service's process died while starting.
    #[error("{service} exited during startup ({status})\n--- last lines of the {service} log ---\n{log_tail}")]
    Exited {
        service: &'static str,
        status: String,
        log_tail: String,
    },

    /// Preparing files for a service (cache dir, data dir, config, log) failed.
    #[error("{what} ({}): {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

impl ServiceError {
    pub(crate) fn io(what: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ServiceError::Io {
            what,
            path: path.into(),
            source,
        }
    }
}

/// Something the docker backend could not do. Variants name the container (and port) involved.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// A request to the engine failed (testcontainers or its bollard client).
    #[error("{operation} for {container} failed: {detail}")]
    Engine {
        container: String,
        operation: &'static str,
        detail: String,
    },

    /// No engine answers.
    #[error(
        "no Docker engine answers: {detail}; start one (Debian: `bash ci/docker/engine.sh`) or \
         point DOCKER_HOST at it"
    )]
    NoEngine { detail: String },

    /// The engine is older than the API testcontainers needs.
    #[error(
        "the Docker engine {version} speaks API {api}, older than the {minimum} the harness \
         needs (testcontainers); install Debian 13's engine with `bash ci/docker/engine.sh`"
    )]
    OldEngine {
        version: String,
        api: String,
        minimum: &'static str,
    },

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

    /// A container that should have exited (a run to the end of its input) still runs.
    #[error(
        "container {container} did not exit within {waited:.1?}; last observed: {last_observed}\n\
         --- last lines of the {container} log ---\n{log_tail}"
    )]
    NoExit {
        container: String,
        waited: Duration,
        last_observed: String,
        log_tail: String,
    },

    /// The sink's image is missing, or was built from another binary than this checkout's.
    #[error(
        "sink image {image}: {problem}; build it: bash ci/docker/build-sink-image.sh {binary}"
    )]
    SinkImage {
        image: String,
        problem: String,
        binary: String,
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
    /// The harness's error for `service`: readiness failures keep their shape (so that a
    /// taken port is seen and retried), the rest are wrapped.
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
