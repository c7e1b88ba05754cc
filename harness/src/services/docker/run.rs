//! Nothing survives a run.
//!
//! Every container (and, with bridge networking, the network) carries the labels `kq.run=<run
//! id>` and `kq.owner=<host>/<pid>/<process start time>`. [`super::ServiceContainer`] is
//! removed when dropped (testcontainers does that). For the ends where no destructor runs
//! (abort, SIGKILL, `Services::shared()`, which is never dropped) a guardian — `sh` reading a
//! pipe only this process holds, in its own process group — removes everything labelled with
//! this run once the pipe closes, i.e. when this process is gone however it ended.
//! testcontainers' own `watchdog` feature reacts to signals only, not to SIGKILL, and cannot
//! run after its process died; so the guardian is a separate process, and it uses the `docker`
//! CLI (the one place the harness still does). Before the first container of a process, a sweep
//! removes what runs on this host left behind whose owner process is dead (a guardian that was
//! itself killed, a machine that lost power).

use std::collections::HashMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use testcontainers::bollard::models::NetworkCreateRequest;
use testcontainers::bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, RemoveContainerOptionsBuilder,
};

use super::{engine, is_not_found, ENGINE_TIMEOUT};
use crate::error::ContainerError;

/// The label every container and network of a run carries; its value is [`run_id`].
pub const RUN_LABEL: &str = "kq.run";
/// `<host>/<pid>/<start time>` of the process that owns the run, for the sweep of dead runs.
pub(super) const OWNER_LABEL: &str = "kq.owner";
/// The service a container runs.
pub(super) const SERVICE_LABEL: &str = "kq.service";

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

/// The labels of everything this run creates.
pub(super) fn run_labels() -> [(&'static str, String); 2] {
    [
        (RUN_LABEL, run().id.clone()),
        (OWNER_LABEL, run().owner.clone()),
    ]
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

/// `label=<value>` as the engine's list filters take it.
fn label_filter(value: String) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![value])])
}

/// (id, name, owner label) of every container, running or not, matching `label`.
fn containers_labelled(label: String) -> Result<Vec<(String, String, String)>, ContainerError> {
    let filters = label_filter(label);
    let listed = engine(ENGINE_TIMEOUT, |docker| async move {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        docker.list_containers(Some(options)).await
    })
    .map_err(|e| e.into_container_error("the run's containers", "listing"))?;
    Ok(listed
        .into_iter()
        .map(|c| {
            let name = c
                .names
                .and_then(|n| n.into_iter().next())
                .map(|n| n.trim_start_matches('/').to_owned())
                .unwrap_or_default();
            let owner = c
                .labels
                .and_then(|mut l| l.remove(OWNER_LABEL))
                .unwrap_or_default();
            (c.id.unwrap_or_default(), name, owner)
        })
        .collect())
}

/// Names of the containers (running or not) labelled with run `run_id`.
pub fn containers_of_run(run_id: &str) -> Result<Vec<String>, ContainerError> {
    Ok(containers_labelled(format!("{RUN_LABEL}={run_id}"))?
        .into_iter()
        .map(|(_, name, _)| name)
        .collect())
}

/// Removes a container (and its anonymous volumes) by id or name; one that is gone already is
/// not an error.
pub(super) fn remove_container(id: &str) -> Result<(), ContainerError> {
    let target = id.to_owned();
    let removed = engine(ENGINE_TIMEOUT, |docker| async move {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        docker.remove_container(&target, Some(options)).await
    });
    match removed {
        Ok(()) => Ok(()),
        Err(super::EngineError::Api(e)) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e.into_container_error(id, "removing the container")),
    }
}

/// Removes the containers and networks of runs on this host whose owner process is dead.
/// Returns the names of what it removed.
pub fn sweep_dead_runs() -> Result<Vec<String>, ContainerError> {
    let host = hostname();
    let mut removed = Vec::new();
    for (id, name, owner) in containers_labelled(RUN_LABEL.to_owned())? {
        if owner_is_dead(&owner, &host) {
            remove_container(&id)?;
            removed.push(name);
        }
    }
    let filters = label_filter(RUN_LABEL.to_owned());
    let networks = engine(ENGINE_TIMEOUT, |docker| async move {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        docker.list_networks(Some(options)).await
    })
    .map_err(|e| e.into_container_error("the run's networks", "listing"))?;
    for network in networks {
        let owner = network
            .labels
            .as_ref()
            .and_then(|l| l.get(OWNER_LABEL))
            .cloned()
            .unwrap_or_default();
        let name = network.name.unwrap_or_default();
        if owner_is_dead(&owner, &host) {
            remove_network(&name)?;
            removed.push(name);
        }
    }
    Ok(removed)
}

fn remove_network(name: &str) -> Result<(), ContainerError> {
    let target = name.to_owned();
    match engine(ENGINE_TIMEOUT, |docker| async move {
        docker.remove_network(&target).await
    }) {
        Ok(()) => Ok(()),
        Err(super::EngineError::Api(e)) if is_not_found(&e) => Ok(()),
        Err(e) => Err(e.into_container_error(name, "removing the network")),
    }
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
pub(super) fn prepare_run() -> Result<(), ContainerError> {
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

/// A network of this run (bridge networking only), labelled like its containers and removed
/// when dropped. Created here rather than by testcontainers, which would create it without
/// labels (so neither the guardian nor the sweep could find it).
#[derive(Debug)]
pub struct RunNetwork {
    name: String,
}

impl RunNetwork {
    pub(crate) fn create() -> Result<RunNetwork, ContainerError> {
        prepare_run()?;
        let name = format!("kq-{}", run_id());
        let request = NetworkCreateRequest {
            name: name.clone(),
            labels: Some(
                run_labels()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            ),
            ..Default::default()
        };
        engine(ENGINE_TIMEOUT, |docker| async move {
            docker.create_network(request).await
        })
        .map_err(|e| e.into_container_error(&name, "creating the network"))?;
        Ok(RunNetwork { name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for RunNetwork {
    fn drop(&mut self) {
        if let Err(e) = remove_network(&self.name) {
            eprintln!("warning: {e}");
        }
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
}
