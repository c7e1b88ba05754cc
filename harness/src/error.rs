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

    /// No usable `java`.
    /// A container backend problem; the error names the container and port.
    #[error("{0}")]
    Container(Box<crate::services::docker::ContainerError>),
    /// A harness setting (environment variable) with a value it cannot use.
    #[error("{0}")]
    Config(String),
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
