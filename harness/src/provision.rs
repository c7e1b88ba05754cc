//! Provisioning of the service jars from Maven Central, cached per version of the pom.
//!
//! `ci/services/pom.xml` is the one place where the versions of ZooKeeper/Kafka and QuestDB are
//! pinned. [`libs`] runs `mvn dependency:copy-dependencies` on it once per combination of
//! versions ([`Versions`]) and caches the jars under `services-<hash of the pom and the
//! versions>` in the cache dir, so changing a version re-provisions and every other run reuses
//! the cache without touching the network.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

use crate::error::ServiceError;
use crate::versions::{KafkaMode, Versions};

/// The provisioned jars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Libs {
    /// The directory holding every jar.
    pub dir: PathBuf,
    /// `:`-joined paths of every jar except QuestDB's: the ZooKeeper and Kafka classpath.
    pub kafka_classpath: String,
    /// QuestDB's jar (a module; run with `-p <jar> -m io.questdb/io.questdb.ServerMain`).
    pub questdb_jar: PathBuf,
    /// The versions these jars are.
    pub versions: Versions,
}

/// The cache root: `$KQ_CACHE_DIR`, else `$XDG_CACHE_HOME/kq-conformance`, else
/// `~/.cache/kq-conformance`.
pub fn cache_root() -> PathBuf {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("KQ_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = non_empty("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("kq-conformance");
    }
    let home = non_empty("HOME").unwrap_or_else(|| OsString::from("/tmp"));
    PathBuf::from(home).join(".cache").join("kq-conformance")
}

/// The jars of the run's versions ([`Versions::from_env`]): see [`libs_for`].
pub fn libs() -> Result<Libs, ServiceError> {
    libs_for(&Versions::from_env()?)
}

/// Returns the provisioned jars of `versions`, running Maven first if this pom and these
/// versions have not been provisioned yet ([`cached`]).
pub fn libs_for(versions: &Versions) -> Result<Libs, ServiceError> {
    let pom = crate::versions::pom_path();
    let pom_bytes =
        fs::read(&pom).map_err(|e| ServiceError::io("reading the services pom", &pom, e))?;
    let properties = versions.maven_properties();
    let mut key = pom_bytes.clone();
    key.extend(properties.join(" ").bytes());
    let what = format!("provisioning {versions} from Maven Central");
    let dir = cached(&format!("services-{}", short_hash(&key)), &what, |tmp| {
        run_maven(&pom, &properties, &tmp.join("libs"))?;
        // Keep a copy of the pom that produced the jars, for whoever looks at the cache.
        fs::write(tmp.join("pom.xml"), &pom_bytes)
            .map_err(|e| ServiceError::io("copying the pom into the cache", tmp, e))?;
        fs::write(tmp.join("versions"), properties.join("\n") + "\n")
            .map_err(|e| ServiceError::io("writing the versions into the cache", tmp, e))?;
        // ci/docker/build-images.sh takes the jars of the default versions only.
        if versions.is_default() {
            fs::write(tmp.join("default"), "")
                .map_err(|e| ServiceError::io("marking the default versions", tmp, e))?;
        }
        scan(&tmp.join("libs"), versions).map(drop)
    })?;
    scan(&dir.join("libs"), versions)
}

/// `<cache>/<name>`, built first if it is not there: `build` fills a fresh temp dir, which is
/// then moved into place whole, so a directory under its final name is always complete.
/// Concurrent callers (threads or processes) serialise on the cache's lock file; only the
/// first builds, the others find its result. `what` names the work on the progress line.
pub(crate) fn cached(
    name: &str,
    what: &str,
    build: impl FnOnce(&Path) -> Result<(), ServiceError>,
) -> Result<PathBuf, ServiceError> {
    let root = cache_root();
    let target = root.join(name);
    if target.is_dir() {
        return Ok(target);
    }
    fs::create_dir_all(&root).map_err(|e| ServiceError::io("creating the cache dir", &root, e))?;
    let lock_path = root.join("provision.lock");
    let lock = File::create(&lock_path)
        .map_err(|e| ServiceError::io("creating the provisioning lock file", &lock_path, e))?;
    flock_exclusive(&lock).map_err(|e| ServiceError::io("locking", &lock_path, e))?;
    // Someone else may have finished while we waited for the lock.
    if target.is_dir() {
        return Ok(target);
    }
    let tmp = root.join(format!(".tmp-{name}"));
    let _ = fs::remove_dir_all(&tmp); // left by a build that was killed
    fs::create_dir_all(&tmp).map_err(|e| ServiceError::io("creating", &tmp, e))?;
    let started = Instant::now();
    eprint!("{what} (first run only)... ");
    let _ = io::stderr().flush();
    if let Err(e) = build(&tmp) {
        eprintln!("failed after {:.1}s", started.elapsed().as_secs_f64());
        // Nothing half-done is left behind; the error says what went wrong.
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
    fs::rename(&tmp, &target).map_err(|e| ServiceError::io("moving into place", &target, e))?;
    drop(lock);
    Ok(target)
}

/// A Kafka Connect worker's jars and a plugin path holding the Debezium JDBC sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectLibs {
    /// `:`-joined jars: connect-runtime, connect-json and Kafka's own.
    pub classpath: String,
    /// A `plugin.path` with the plugins the pom lists, unpacked.
    pub plugin_path: PathBuf,
}

/// Provisions (first time only, cached like [`libs`]) the pom's `connect` profile for the
/// run's versions ([`Versions::from_env`]): the worker's jars, and the plugin tarballs unpacked
/// into a plugin path. The worker is of the broker's Kafka version, as in the seed's stack
/// (Kafka 2.6.0's own Connect with `KQ_KAFKA_VERSION=2.6.0`).
pub fn connect_libs() -> Result<ConnectLibs, ServiceError> {
    let versions = Versions::from_env()?;
    let pom = crate::versions::pom_path();
    let pom_bytes =
        fs::read(&pom).map_err(|e| ServiceError::io("reading the services pom", &pom, e))?;
    let mut properties = versions.maven_properties();
    properties.push("-Dkq.connect=true".to_owned());
    properties.push("-DexcludeArtifactIds=questdb".to_owned());
    let mut key = pom_bytes.clone();
    key.extend(properties.join(" ").bytes());
    let what = "provisioning Kafka Connect and its sink plugins from Maven Central";
    let dir = cached(&format!("connect-{}", short_hash(&key)), what, |tmp| {
        run_maven(&pom, &properties, &tmp.join("libs"))?;
        let plugins = tmp.join("plugins");
        fs::create_dir_all(&plugins).map_err(|e| ServiceError::io("creating", &plugins, e))?;
        for entry in
            fs::read_dir(tmp.join("libs")).map_err(|e| ServiceError::io("listing", tmp, e))?
        {
            let path = entry
                .map_err(|e| ServiceError::io("listing", tmp, e))?
                .path();
            if !path.to_string_lossy().ends_with(".tar.gz") {
                continue;
            }
            let status = Command::new("tar")
                .arg("-xzf")
                .arg(&path)
                .arg("-C")
                .arg(&plugins)
                .status()
                .map_err(|e| ServiceError::io("running tar on", &path, e))?;
            if !status.success() {
                return Err(ServiceError::Provision {
                    command: format!("tar -xzf {}", path.display()),
                    output: status.to_string(),
                    hint: "check that the tarball Maven fetched is whole, and run again".to_owned(),
                });
            }
            fs::remove_file(&path).map_err(|e| ServiceError::io("removing", &path, e))?;
        }
        Ok(())
    })?;
    let libs = dir.join("libs");
    let mut jars: Vec<String> = fs::read_dir(&libs)
        .map_err(|e| ServiceError::io("listing", &libs, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jar"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    jars.sort();
    Ok(ConnectLibs {
        classpath: jars.join(":"),
        plugin_path: dir.join("plugins"),
    })
}

/// The `java` to run the services with: `$KQ_JAVA`, else `$JAVA_HOME/bin/java`, else `java` on
/// `PATH`. Checked once per process with `java -version` (Java 17 or later is required).
pub fn java() -> Result<PathBuf, ServiceError> {
    static CHECKED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    CHECKED
        .get_or_init(find_java)
        .clone()
        .map_err(|hint| ServiceError::Java { hint })
}

fn find_java() -> Result<PathBuf, String> {
    let (java, source) = if let Some(p) = std::env::var_os("KQ_JAVA").filter(|v| !v.is_empty()) {
        (PathBuf::from(p), "KQ_JAVA")
    } else if let Some(home) = std::env::var_os("JAVA_HOME").filter(|v| !v.is_empty()) {
        (PathBuf::from(home).join("bin").join("java"), "JAVA_HOME")
    } else {
        (PathBuf::from("java"), "PATH")
    };
    let output = Command::new(&java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "could not run `{} -version` (found via {source}): {e}. Install a JDK 17 \
                 (Debian: apt-get install openjdk-17-jre-headless) or point KQ_JAVA or JAVA_HOME at one",
                java.display()
            )
        })?;
    let text = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "`{} -version` (found via {source}) failed with {}: {}",
            java.display(),
            output.status,
            text.trim()
        ));
    }
    match java_major(&text) {
        Some(major) if major < 17 => Err(format!(
            "`{}` (found via {source}) is Java {major}, but the services need Java 17 or later; \
             point KQ_JAVA or JAVA_HOME at a JDK 17",
            java.display()
        )),
        _ => Ok(java),
    }
}

/// The major version in `java -version` output: `openjdk version "17.0.15" ...` -> 17,
/// `java version "1.8.0_392"` -> 8.
fn java_major(version_output: &str) -> Option<u32> {
    let quoted = version_output.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '-', '+', '_']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

fn run_maven(pom: &Path, properties: &[String], out_dir: &Path) -> Result<(), ServiceError> {
    let mut args = vec!["dependency:copy-dependencies".to_owned()];
    args.extend(properties.iter().cloned());
    args.push("-DincludeScope=runtime".to_owned());
    args.push(format!("-DoutputDirectory={}", out_dir.display()));
    maven(pom, &args)
}

/// Runs `mvn -B -q -f <pom> <args>` (`KQ_MVN` overrides `mvn`); the error carries its output
/// and what to do.
pub(crate) fn maven(pom: &Path, args: &[String]) -> Result<(), ServiceError> {
    let mvn = std::env::var_os("KQ_MVN")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| OsString::from("mvn"));
    let mut cmd = Command::new(&mvn);
    cmd.arg("-B")
        .arg("-q")
        .arg("-f")
        .arg(pom)
        .args(args)
        .stdin(Stdio::null());
    let command = format!("{cmd:?}").replace('"', "");
    let output = match cmd.output() {
        Ok(output) => output,
        Err(e) => {
            return Err(ServiceError::Provision {
                command,
                output: e.to_string(),
                hint: if e.kind() == io::ErrorKind::NotFound {
                    "Maven (`mvn`) is not installed or not on PATH: install it (Debian: \
                     apt-get install maven) or set KQ_MVN to its path"
                        .to_owned()
                } else {
                    "could not run Maven; set KQ_MVN to a working `mvn`".to_owned()
                },
            })
        }
    };
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    let lower = text.to_lowercase();
    let network = [
        "could not transfer",
        "unknown host",
        "unknownhost",
        "connect timed out",
        "connection refused",
        "network is unreachable",
        "could not resolve",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    let hint = if network {
        "Maven could not download from Maven Central: check network access to \
         https://repo.maven.apache.org/maven2 (or a mirror/proxy in ~/.m2/settings.xml), then \
         run again; nothing was cached"
    } else {
        "Maven failed; check the pom (KQ_SERVICES_POM or ci/services/pom.xml) and network \
         access to Maven Central, then run again; nothing was cached"
    };
    Err(ServiceError::Provision {
        command,
        output: format!(
            "{}; last lines of its output:\n{}",
            output.status,
            last_lines(&text, 60)
        ),
        hint: hint.to_owned(),
    })
}

/// Lists the jars of a provisioned libs dir.
fn scan(dir: &Path, versions: &Versions) -> Result<Libs, ServiceError> {
    let entries =
        fs::read_dir(dir).map_err(|e| ServiceError::io("listing the provisioned jars", dir, e))?;
    let mut jars: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|ext| ext == "jar"))
        .collect();
    jars.sort();
    let file_name = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    let (questdb, others): (Vec<PathBuf>, Vec<PathBuf>) = jars
        .into_iter()
        .partition(|p| file_name(p).starts_with("questdb-"));
    let incomplete = |what: &str| ServiceError::Provision {
        command: format!("ls {}", dir.display()),
        output: format!("{what} is missing from {}", dir.display()),
        hint: format!(
            "the cache is incomplete or the pom lacks the artifact; delete {} and run again",
            dir.parent().unwrap_or(dir).display()
        ),
    };
    let questdb_jar = match questdb.as_slice() {
        [one] => one.clone(),
        [] => return Err(incomplete("questdb-*.jar")),
        _ => return Err(incomplete("exactly one questdb-*.jar (found several)")),
    };
    if !others.iter().any(|p| file_name(p).starts_with("kafka_2.")) {
        return Err(incomplete("kafka_2.*.jar"));
    }
    if versions.kafka_mode() == KafkaMode::ZooKeeper
        && !others
            .iter()
            .any(|p| file_name(p).starts_with("zookeeper-"))
    {
        return Err(incomplete("zookeeper-*.jar"));
    }
    let kafka_classpath = others
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":");
    Ok(Libs {
        dir: dir.to_path_buf(),
        kafka_classpath,
        questdb_jar,
        versions: versions.clone(),
    })
}

pub(crate) fn flock_exclusive(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: flock on a file descriptor we own; no memory is passed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// 64-bit FNV-1a, as 12 hex digits: stable across Rust versions, unlike `DefaultHasher`.
pub(crate) fn short_hash(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")[..12].to_owned()
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_versions() {
        assert_eq!(
            java_major(r#"openjdk version "17.0.15" 2025-04-15"#),
            Some(17)
        );
        assert_eq!(java_major(r#"java version "1.8.0_392""#), Some(8));
        assert_eq!(java_major(r#"openjdk version "25" 2025-09-16"#), Some(25));
        assert_eq!(java_major(r#"openjdk version "21-ea" 2023"#), Some(21));
        assert_eq!(java_major("garbage"), None);
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(short_hash(b""), "cbf29ce48422");
        assert_ne!(short_hash(b"a"), short_hash(b"b"));
        assert_eq!(short_hash(b"a").len(), 12);
    }
}
