//! A real PostgreSQL server for change-data-capture cases (issue 27.3): zonky's server binaries
//! from Maven Central ([`install`]), a fresh cluster per run (`initdb`), `postgres` with logical
//! decoding on a free loopback port ([`settings`]), a [`ServiceProcess`] whose guardian stops it
//! however the run ends, and removes its data dir.
//!
//! Processes only: it also runs as a local process when the other services run in containers,
//! as the Connect worker and Toxiproxy do; an image of its own is not built yet.
//!
//! Run as root (CI containers), the harness starts `initdb` and `postgres` as `nobody` (PostgreSQL
//! refuses root): the run's data dir is handed to that account, and the binaries are copied
//! into it, since the cache under root's home is not readable by others.

mod install;
pub mod settings;

pub use install::{cdc_libs, CdcLibs};
pub use settings::SUPERUSER;

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{data_dir, free_ports, print_ready, retry_on_port_race, start_timeout, wait_ready};
use crate::error::ServiceError;
use crate::process::ServiceProcess;

/// How long `initdb` plus the server's start may take.
pub const POSTGRES_TIMEOUT: Duration = Duration::from_secs(60);

/// PostgreSQL on 127.0.0.1:`port`, superuser [`SUPERUSER`] without a password (trust).
#[derive(Debug)]
pub struct Postgres {
    pub port: u16,
    /// Spawn to ready (after `initdb`).
    pub startup: Duration,
    /// `SHOW server_version`.
    pub version: String,
    /// The account it runs as when the harness is root.
    pub account: Option<&'static str>,
    process: ServiceProcess,
}

/// A user id and group id.
#[derive(Debug, Clone, Copy)]
struct Ids {
    uid: u32,
    gid: u32,
}

impl Postgres {
    /// Provisions the binaries if needed, makes a cluster and starts the server. Blocking (its
    /// readiness probe runs a runtime of its own): from async code, call it in
    /// `spawn_blocking`.
    pub fn start() -> Result<Postgres, ServiceError> {
        let libs = cdc_libs()?;
        // SAFETY: geteuid cannot fail.
        let account = settings::run_as(unsafe { libc::geteuid() });
        let ids = account.map(ids_of).transpose()?;
        retry_on_port_race("PostgreSQL", || start_once(&libs, account, ids))
    }

    /// A client configuration for `database` as the superuser.
    pub fn config(&self, database: &str) -> tokio_postgres::Config {
        client_config(self.port, database)
    }

    /// A connection to `database` (its driver task spawned on the current runtime).
    pub async fn connect(&self, database: &str) -> Result<tokio_postgres::Client, String> {
        connect(self.port, database).await
    }

    /// The last `lines` lines of the server's log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// The server's process id, which is also its process group's (its backends').
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// The run's dir: the cluster (`data/`), the log, the binaries' copy when run as root.
    pub fn data_dir(&self) -> &Path {
        self.process.data_dir()
    }
}

fn start_once(
    libs: &CdcLibs,
    account: Option<&'static str>,
    ids: Option<Ids>,
) -> Result<Postgres, ServiceError> {
    let dir = data_dir("postgres")?;
    let home = match ids {
        None => libs.postgres_home.clone(),
        Some(_) => copy_binaries(&libs.postgres_home, dir.path())?,
    };
    let data = dir.path().join("data");
    std::fs::create_dir(&data).map_err(|e| ServiceError::io("creating", &data, e))?;
    if let Some(ids) = ids {
        hand_over(dir.path(), &data, ids)?;
    }
    let data_text = data.to_string_lossy().into_owned();
    initdb(&home, &data_text, ids)?;
    let port = free_ports(1)?[0];
    let mut cmd = command(&home.join("bin/postgres"), ids);
    cmd.args(settings::server_args(&data_text, port));
    let process = ServiceProcess::spawn("postgres", cmd, dir)?;
    let timeout = start_timeout(POSTGRES_TIMEOUT);
    let mut version = String::new();
    let startup = wait_ready(&process, port, timeout, || {
        version = probe(port)?;
        Ok(())
    })?;
    print_ready(
        &format!("PostgreSQL {version}"),
        &format!("127.0.0.1:{port}"),
        startup,
    );
    Ok(Postgres {
        port,
        startup,
        version,
        account,
        process,
    })
}

/// A command for one of the server's binaries, as `ids` if given, in the C locale.
fn command(binary: &Path, ids: Option<Ids>) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env("LC_ALL", "C").env_remove("PGDATA");
    if let Some(ids) = ids {
        // std drops the supplementary groups too when it changes the uid as root.
        cmd.uid(ids.uid).gid(ids.gid);
    }
    cmd
}

fn initdb(home: &Path, data: &str, ids: Option<Ids>) -> Result<(), ServiceError> {
    let binary = home.join("bin/initdb");
    let output = command(&binary, ids)
        .args(settings::initdb_args(data))
        .output()
        .map_err(|source| ServiceError::Spawn {
            service: "initdb",
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(ServiceError::Exited {
        service: "initdb",
        status: output.status.to_string(),
        log_tail: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// The uid and gid of `account`.
fn ids_of(account: &str) -> Result<Ids, ServiceError> {
    let name = CString::new(account).expect("no NUL in an account name");
    // SAFETY: getpwnam reads a static buffer; the fields are copied out before any other call.
    let entry = unsafe { libc::getpwnam(name.as_ptr()) };
    if entry.is_null() {
        return Err(ServiceError::Config(format!(
            "PostgreSQL refuses to run as root, and this machine has no account `{account}` to \
             run it as; run the harness as another user"
        )));
    }
    // SAFETY: non-null pointer to getpwnam's static entry.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Ids { uid, gid })
}

/// Copies the server's tree into the run's dir (hard links where the file system allows).
fn copy_binaries(home: &Path, dir: &Path) -> Result<PathBuf, ServiceError> {
    let to = dir.join("server");
    let copied = |flags: &str| {
        Command::new("cp")
            .arg(flags)
            .arg(home)
            .arg(&to)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if copied("-al") || {
        let _ = std::fs::remove_dir_all(&to);
        copied("-a")
    } {
        Ok(to)
    } else {
        Err(ServiceError::io(
            "copying the PostgreSQL binaries",
            &to,
            std::io::Error::other(format!("cp -a {} failed", home.display())),
        ))
    }
}

/// Lets `ids` through the run's dir and gives it the (empty) data dir, as initdb wants it.
fn hand_over(dir: &Path, data: &Path, ids: Ids) -> Result<(), ServiceError> {
    let mode = |path: &Path, bits: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits))
            .map_err(|e| ServiceError::io("setting the mode of", path, e))
    };
    mode(dir, 0o755)?;
    std::os::unix::fs::chown(data, Some(ids.uid), Some(ids.gid))
        .map_err(|e| ServiceError::io("giving the data dir to the server's account", data, e))?;
    mode(data, 0o700)
}

fn client_config(port: u16, database: &str) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user(SUPERUSER)
        .dbname(database)
        .connect_timeout(Duration::from_secs(5));
    config
}

async fn connect(port: u16, database: &str) -> Result<tokio_postgres::Client, String> {
    let (client, connection) = client_config(port, database)
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("connecting to PostgreSQL on 127.0.0.1:{port}/{database}: {e}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// Connects and asks the server's version, on a thread and runtime of its own (the caller may
/// be inside a runtime).
fn probe(port: u16) -> Result<String, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(async {
                    let client = connect(port, "postgres").await?;
                    let rows = client
                        .simple_query("SHOW server_version")
                        .await
                        .map_err(|e| format!("SHOW server_version: {e}"))?;
                    rows.iter()
                        .find_map(|m| match m {
                            tokio_postgres::SimpleQueryMessage::Row(r) => {
                                r.get(0).map(str::to_owned)
                            }
                            _ => None,
                        })
                        .ok_or_else(|| "SHOW server_version: no row".to_owned())
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the probe panicked".to_owned()))
    })
}
