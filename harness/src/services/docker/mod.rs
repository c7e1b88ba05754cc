//! The docker backend: ZooKeeper, Kafka and QuestDB as containers, started, waited for and
//! removed through testcontainers-rs.
//!
//! Images default to the pinned official ones (see [`Images`]); on machines without a registry
//! `ci/docker/build-images.sh` builds stand-ins under the same names from the jars in
//! `ci/services/pom.xml`, honouring the same environment variables. Nothing is ever pulled
//! (testcontainers would pull a missing image, so [`Images::check_present`] refuses first and
//! says how to build it).
//!
//! - [`container`]: one service's container ([`ServiceContainer`]): a testcontainers
//!   `GenericImage` with the service's environment, host networking or ports published on
//!   127.0.0.1, a wait for the line the service logs when it is up, the log captured for error
//!   messages; then the harness's own protocol probe, as for processes.
//! - [`run`]: what makes sure nothing survives a run: labels, the guardian, the sweep.
//! - [`sink`]: the sink's own image, run like a service ([`SinkImage`]).
//!
//! The engine itself (is it there, are the images, the sweep, a bridge network with labels) is
//! asked through bollard, the client testcontainers is built on and re-exports; testcontainers
//! has no API for those.

mod container;
mod run;
mod sink;

pub use container::ServiceContainer;
pub(crate) use container::{remove_all, ContainerSpec};
pub use run::{containers_of_run, run_id, sweep_dead_runs, RunNetwork, RUN_LABEL};
pub use sink::{SinkImage, SinkRun, DEFAULT_SINK_IMAGE, RUN_DIR};

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::thread;
use std::time::Duration;

use testcontainers::bollard::{self, Docker};

use crate::error::ContainerError;

/// The pinned official images: Confluent Platform 7.9 ships Apache Kafka 3.9 (the last line with
/// ZooKeeper mode, like `kafka_2.13:3.9.2` in `ci/services/pom.xml`); QuestDB 9.3.4 as in the pom.
pub const DEFAULT_ZOOKEEPER_IMAGE: &str = "confluentinc/cp-zookeeper:7.9.1";
pub const DEFAULT_KAFKA_IMAGE: &str = "confluentinc/cp-kafka:7.9.1";
pub const DEFAULT_QUESTDB_IMAGE: &str = "questdb/questdb:9.3.4";

/// The oldest engine API the harness runs on: bollard 0.21 (under testcontainers 0.28) sends
/// requests that engines before Docker 25 (API 1.44) refuse; CI runs Debian 13's 26.1 (1.45).
pub const MIN_ENGINE_API: &str = "1.44";

/// How long one engine request may take (starting a local image takes well under a second; a
/// busy engine on 2 cores gets ample slack).
const ENGINE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the `auto` backend's question "does an engine answer?" may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

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

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Network::Host => "host",
            Network::Bridge => "bridge",
        })
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

    /// `Ok` if all three images are present locally.
    pub fn check_present(&self) -> Result<(), ContainerError> {
        for (service, image, variable) in [
            ("zookeeper", &self.zookeeper, "KQ_ZOOKEEPER_IMAGE"),
            ("kafka", &self.kafka, "KQ_KAFKA_IMAGE"),
            ("questdb", &self.questdb, "KQ_QUESTDB_IMAGE"),
        ] {
            let inspected = engine(ENGINE_TIMEOUT, |docker| {
                let image = image.clone();
                async move { docker.inspect_image(&image).await }
            });
            match inspected {
                Ok(_) => {}
                Err(EngineError::Api(e)) if is_not_found(&e) => {
                    return Err(ContainerError::MissingImage {
                        service,
                        image: image.clone(),
                        variable,
                    })
                }
                Err(e) => return Err(e.into_container_error(image, "inspecting the image")),
            }
        }
        Ok(())
    }
}

/// `Ok` with the engine's version if an engine answers within a few seconds and speaks at
/// least [`MIN_ENGINE_API`].
pub fn engine_answers() -> Result<String, ContainerError> {
    let version = engine(
        PROBE_TIMEOUT,
        |docker| async move { docker.version().await },
    )
    .map_err(|e| ContainerError::NoEngine {
        detail: e.to_string(),
    })?;
    let number = version.version.unwrap_or_default();
    let api = version.api_version.unwrap_or_default();
    if !api_at_least(&api, MIN_ENGINE_API) {
        return Err(ContainerError::OldEngine {
            version: number,
            api,
            minimum: MIN_ENGINE_API,
        });
    }
    Ok(format!("{number} (API {api})"))
}

/// True if the dotted version `api` is at least `minimum` (`1.45` >= `1.44`; `1.100` > `1.9`).
fn api_at_least(api: &str, minimum: &str) -> bool {
    let parts = |v: &str| -> Option<Vec<u32>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (parts(api.trim()), parts(minimum)) {
        (Some(have), Some(need)) => have >= need,
        _ => false,
    }
}

/// Why an engine request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EngineError {
    #[error("cannot reach the engine: {0}")]
    Connect(bollard::errors::Error),
    #[error("{0}")]
    Api(bollard::errors::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl EngineError {
    pub(crate) fn into_container_error(
        self,
        container: &str,
        operation: &'static str,
    ) -> ContainerError {
        ContainerError::Engine {
            container: container.to_owned(),
            operation,
            detail: self.to_string(),
        }
    }
}

/// True for the engine's 404 (no such image, container or network).
pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Runs one request against the engine (`DOCKER_HOST`, else the local socket) with a deadline.
pub(crate) fn engine<T, F>(
    timeout: Duration,
    request: impl FnOnce(Docker) -> F + Send,
) -> Result<T, EngineError>
where
    T: Send,
    F: Future<Output = Result<T, bollard::errors::Error>>,
{
    off_runtime(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Connect(bollard::errors::Error::IOError { err: e }))?;
        runtime.block_on(async move {
            let docker = Docker::connect_with_defaults().map_err(EngineError::Connect)?;
            match tokio::time::timeout(timeout, request(docker)).await {
                Ok(result) => result.map_err(EngineError::Api),
                Err(_) => Err(EngineError::Timeout(timeout)),
            }
        })
    })
}

/// Runs `f` on a thread outside any tokio runtime: testcontainers' blocking API and
/// [`engine`] block on runtimes of their own, which tokio refuses inside another runtime (and
/// the harness's callers are often async tests).
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_names() {
        assert_eq!("host".parse::<Network>().unwrap(), Network::Host);
        assert_eq!(" Bridge ".parse::<Network>().unwrap(), Network::Bridge);
        let err = "overlay".parse::<Network>().unwrap_err().to_string();
        assert!(err.contains("KQ_DOCKER_NETWORK"), "{err}");
    }

    #[test]
    fn engine_api_versions_compare_as_numbers() {
        assert!(api_at_least("1.45", "1.44"));
        assert!(api_at_least("1.44", "1.44"));
        assert!(api_at_least("1.100", "1.44"));
        assert!(!api_at_least("1.41", "1.44"));
        assert!(!api_at_least("1.9", "1.44"));
        assert!(!api_at_least("", "1.44"));
        assert!(!api_at_least("garbage", "1.44"));
    }

    #[test]
    fn off_runtime_runs_inside_and_outside_a_runtime() {
        assert_eq!(off_runtime(|| 1), 1);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        // Inside a runtime a nested block_on would panic; off_runtime moves it to a thread.
        let n = rt.block_on(async {
            off_runtime(|| {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(async { 2 })
            })
        });
        assert_eq!(n, 2);
    }
}
