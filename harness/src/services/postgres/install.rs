//! Provisioning of the change-data-capture pieces from Maven Central, cached like the service
//! jars ([`crate::provision`]): zonky's PostgreSQL server binaries (a jar holding a `.txz`,
//! unpacked into `postgres/`) and Debezium's Postgres source connector plugin (a tarball,
//! unpacked into `plugins/`), pinned in `ci/services/cdc/pom.xml` with the Debezium version of
//! `ci/services/pom.xml`. One Maven run the first time; every later run finds the cache.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::ServiceError;
use crate::provision::{cached, maven, short_hash};

/// The provisioned server and plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdcLibs {
    /// The server's tree: `bin/initdb`, `bin/postgres`, `lib/`, `share/`.
    pub postgres_home: PathBuf,
    /// A Connect `plugin.path` holding `debezium-connector-postgres/`.
    pub plugin_path: PathBuf,
}

/// The pom that pins them.
pub fn pom_path() -> PathBuf {
    crate::fixture::workspace_root().join("ci/services/cdc/pom.xml")
}

/// zonky's name for this machine's architecture (`-Dpostgres.arch`).
pub fn zonky_arch() -> Result<&'static str, ServiceError> {
    match std::env::consts::ARCH {
        "x86_64" => Ok("amd64"),
        "aarch64" => Ok("arm64v8"),
        other => Err(ServiceError::Config(format!(
            "no PostgreSQL binaries for {other} on Maven Central (zonky packs amd64 and arm64v8)"
        ))),
    }
}

/// The Maven properties of a provisioning: the pinned Debezium and the architecture.
fn maven_properties() -> Result<Vec<String>, ServiceError> {
    Ok(vec![
        format!(
            "-Ddebezium.version={}",
            crate::oracle::transforms::pinned_debezium()?
        ),
        format!("-Dpostgres.arch={}", zonky_arch()?),
    ])
}

/// The server and plugin, provisioned first if this pom and these versions were not yet.
/// Concurrent callers serialise on the provisioning lock, as for the jars.
pub fn cdc_libs() -> Result<CdcLibs, ServiceError> {
    let pom = pom_path();
    let pom_bytes = fs::read(&pom).map_err(|e| ServiceError::io("reading", &pom, e))?;
    let properties = maven_properties()?;
    let mut key = pom_bytes;
    key.extend(properties.join(" ").bytes());
    let what = "provisioning PostgreSQL and Debezium's Postgres connector from Maven Central";
    let dir = cached(&format!("cdc-{}", short_hash(&key)), what, |tmp| {
        let unpacked = tmp.join("unpacked");
        let mut args = vec!["dependency:unpack-dependencies".to_owned()];
        args.extend(properties.iter().cloned());
        args.push(format!("-DoutputDirectory={}", unpacked.display()));
        args.push(format!(
            "-Dcdc.build.directory={}",
            tmp.join("build").display()
        ));
        maven(&pom, &args)?;
        let txz = find_file(&unpacked, ".txz")?;
        let home = tmp.join("postgres");
        fs::create_dir_all(&home).map_err(|e| ServiceError::io("creating", &home, e))?;
        untar(&txz, "-xJf", &home)?;
        let plugins = tmp.join("plugins");
        fs::create_dir_all(&plugins).map_err(|e| ServiceError::io("creating", &plugins, e))?;
        let plugin = unpacked.join("debezium-connector-postgres");
        fs::rename(&plugin, plugins.join("debezium-connector-postgres"))
            .map_err(|e| ServiceError::io("moving the plugin into place", &plugin, e))?;
        for done in [&unpacked, &tmp.join("build")] {
            fs::remove_dir_all(done).map_err(|e| ServiceError::io("removing", done, e))?;
        }
        fs::write(tmp.join("versions"), properties.join("\n") + "\n")
            .map_err(|e| ServiceError::io("writing the versions into the cache", tmp, e))
    })?;
    Ok(CdcLibs {
        postgres_home: dir.join("postgres"),
        plugin_path: dir.join("plugins"),
    })
}

/// The one file in `dir` whose name ends with `suffix`.
fn find_file(dir: &Path, suffix: &str) -> Result<PathBuf, ServiceError> {
    fs::read_dir(dir)
        .map_err(|e| ServiceError::io("listing", dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .ok_or_else(|| ServiceError::Provision {
            command: format!("ls {}", dir.display()),
            output: format!("no *{suffix} in {}", dir.display()),
            hint: "the zonky jar holds one postgres-linux-*.txz; check ci/services/cdc/pom.xml"
                .to_owned(),
        })
}

fn untar(archive: &Path, mode: &str, into: &Path) -> Result<(), ServiceError> {
    let output = Command::new("tar")
        .arg(mode)
        .arg(archive)
        .arg("-C")
        .arg(into)
        .output()
        .map_err(|e| ServiceError::io("running tar on", archive, e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(ServiceError::Provision {
        command: format!("tar {mode} {} -C {}", archive.display(), into.display()),
        output: String::from_utf8_lossy(&output.stderr).into_owned(),
        hint: "unpacking the .txz needs xz (Debian: apt-get install xz-utils)".to_owned(),
    })
}
