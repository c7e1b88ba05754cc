//! The sink's own image (`ci/docker/build-sink-image.sh`) as a container: a case's sink run to
//! its exit, or a long-running sink an operator would deploy, started, probed and stopped like
//! the services (labels of this run, removed when dropped, host networking).
//!
//! The image is never pulled or built here: [`SinkImage::check`] says it is missing, or that it
//! was built from another sink binary than the one this checkout builds (a stale image would
//! silently test yesterday's sink).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::container::{ContainerSpec, ServiceContainer};
use super::{engine, is_not_found, EngineError, Network, ENGINE_TIMEOUT};
use crate::error::ContainerError;

/// The tag `ci/docker/build-sink-image.sh` builds (`KQ_SINK_IMAGE` overrides both).
pub const DEFAULT_SINK_IMAGE: &str = "kq/sink:dev";
/// Where a run's folder (properties file in, summary out) is mounted in the container.
pub const RUN_DIR: &str = "/run/kq";
/// The label that holds the sha256 of the binary the image was built from.
const BINARY_LABEL: &str = "kq.sink.binary";

/// Containers of the sink in this run, numbered for their names.
static INSTANCES: AtomicUsize = AtomicUsize::new(0);

/// The sink's image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkImage {
    pub image: String,
}

/// What one container of the sink runs.
#[derive(Debug, Clone, Default)]
pub struct SinkRun {
    /// Mounted at [`RUN_DIR`], writable by the image's user: the properties file and whatever the
    /// sink writes (its `--summary`).
    pub dir: PathBuf,
    /// The sink's arguments, with paths under [`RUN_DIR`].
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// How long starting the container may take.
    pub timeout: Duration,
}

impl SinkImage {
    /// `KQ_SINK_IMAGE`, else [`DEFAULT_SINK_IMAGE`].
    pub fn from_env() -> SinkImage {
        let image = std::env::var("KQ_SINK_IMAGE")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_SINK_IMAGE.to_owned());
        SinkImage { image }
    }

    /// `Ok` if the image is present locally and was built from `binary` (same sha256).
    pub fn check(&self, binary: &Path) -> Result<(), ContainerError> {
        let problem = |problem: String| ContainerError::SinkImage {
            image: self.image.clone(),
            problem,
            binary: binary.display().to_string(),
        };
        let image = self.image.clone();
        let label = match engine(ENGINE_TIMEOUT, |docker| async move {
            docker.inspect_image(&image).await
        }) {
            Ok(inspected) => inspected
                .config
                .and_then(|c| c.labels)
                .and_then(|mut labels| labels.remove(BINARY_LABEL)),
            Err(EngineError::Api(e)) if is_not_found(&e) => {
                return Err(problem(
                    "not present locally (it is built here, never pulled)".into(),
                ))
            }
            Err(e) => return Err(e.into_container_error(&self.image, "inspecting the image")),
        };
        let bytes = std::fs::read(binary)
            .map_err(|e| problem(format!("cannot read the binary to compare: {e}")))?;
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        match label {
            Some(label) if label == sha => Ok(()),
            Some(label) => Err(problem(format!(
                "built from another binary (label {BINARY_LABEL}={}, the binary is {})",
                &label[..label.len().min(12)],
                &sha[..12]
            ))),
            None => Err(problem(format!("it has no {BINARY_LABEL} label"))),
        }
    }

    /// The user the image runs as (`Config.User`).
    pub fn user(&self) -> Result<String, ContainerError> {
        let image = self.image.clone();
        engine(ENGINE_TIMEOUT, |docker| async move {
            docker.inspect_image(&image).await
        })
        .map(|i| i.config.and_then(|c| c.user).unwrap_or_default())
        .map_err(|e| e.into_container_error(&self.image, "inspecting the image"))
    }

    /// Starts a container of the sink; it runs until it exits or is stopped
    /// ([`ServiceContainer::stop`] sends SIGTERM), and is removed when dropped.
    pub fn start(&self, run: &SinkRun) -> Result<ServiceContainer, ContainerError> {
        // The image's user (not root) writes the summary into the mounted folder.
        set_mode(&run.dir, 0o777).map_err(|e| ContainerError::Engine {
            container: self.image.clone(),
            operation: "opening the run folder to the image's user",
            detail: format!("{}: {e}", run.dir.display()),
        })?;
        let instance = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let spec = ContainerSpec {
            service: "sink",
            image: self.image.clone(),
            env: run.env.clone(),
            // The sink dials Kafka and QuestDB on 127.0.0.1 like a local process.
            network: Network::Host,
            bridge_network: None,
            ports: Vec::new(),
            port: 0,
            ready_line: None,
            instance: Some(instance.to_string()),
            cmd: run.args.clone(),
            mounts: vec![(run.dir.clone(), RUN_DIR.to_owned())],
            timeout: run.timeout,
        };
        ServiceContainer::run(&spec)
    }
}

fn set_mode(dir: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
}
