//! Kafka's and Debezium's transforms as an oracle for `sink::connect::transforms`.
//!
//! `reference/transforms/` is a small Java program around the real classes (connect-transforms
//! of the pinned Kafka, debezium-core of the pinned Debezium). [`TransformsOracle::start`]
//! builds it with Maven on first use (cached, keyed by its sources and both versions) and starts
//! it; [`TransformsOracle::run`] sends one configuration and one record and reads the line the
//! real chain's result renders to. [`ours`] renders the sink's chain the same way and [`judge`]
//! compares the two: identical, a deviation named in docs/transforms.md, or a bug.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value as Json};
use sink::connect::canonical;
use sink::connect::transforms::{Chain, Header, Record};
use sink::connect::{encode_envelope, Schema};

use crate::error::ServiceError;
use crate::provision;
use crate::versions::Versions;

use super::OracleError;

/// The running JVM.
pub struct TransformsOracle {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl TransformsOracle {
    pub fn start() -> Result<TransformsOracle, OracleError> {
        let build = build()?;
        let java = provision::java()?;
        let dir = tempfile::Builder::new()
            .prefix("kq-transforms-oracle-")
            .tempdir()
            .map_err(|e| ServiceError::io("creating a temp dir", Path::new("/tmp"), e))?;
        let stderr_path = dir.path().join("stderr.log");
        let stderr = File::create(&stderr_path)
            .map_err(|e| ServiceError::io("creating the oracle's log", &stderr_path, e))?;
        let mut cmd = Command::new(java);
        cmd.arg("-Xmx256m")
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-cp")
            .arg(format!(
                "{}:{}/*",
                build.join("classes").display(),
                build.join("lib").display()
            ))
            .arg("kq.TransformsOracle")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        // SAFETY: prctl is async-signal-safe; the kernel kills the JVM if this process dies.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| ServiceError::Spawn {
            service: "transforms-oracle",
            source,
        })?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(TransformsOracle {
            child,
            stdin,
            stdout,
            stderr_path,
            _dir: dir,
        })
    }

    /// Upstream's line for this configuration and record.
    pub fn run(
        &mut self,
        config: &BTreeMap<String, String>,
        record: &Record,
    ) -> Result<String, OracleError> {
        let request = json!({ "config": config, "record": record_json(record) });
        let pid = self.child.id();
        let stdin = self.stdin.as_mut().expect("stdin open until drop");
        let sent = stdin
            .write_all(request.to_string().as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush());
        let stderr = || fs::read_to_string(&self.stderr_path).unwrap_or_default();
        if let Err(source) = sent {
            return Err(OracleError::Io {
                pid,
                what: "sending a record",
                source,
                stderr: stderr(),
            });
        }
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(OracleError::Exited {
                pid,
                stderr: stderr(),
            }),
            Ok(_) => Ok(line.trim_end_matches('\n').to_owned()),
            Err(source) => Err(OracleError::Io {
                pid,
                what: "reading its answer",
                source,
                stderr: stderr(),
            }),
        }
    }
}

impl Drop for TransformsOracle {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn envelope(schema: Option<&Schema>, value: &sink::connect::Value) -> Json {
    match schema {
        Some(s) => encode_envelope(s, value),
        None => Json::Null,
    }
}

fn record_json(r: &Record) -> Json {
    json!({
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "key": envelope(r.key_schema.as_ref(), &r.key),
        "value": envelope(r.value_schema.as_ref(), &r.value),
        "headers": r.headers.iter().map(|h| json!({"key": h.key, "value": envelope(h.schema.as_ref(), &h.value)})).collect::<Vec<_>>(),
    })
}

fn side(schema: Option<&Schema>, value: &sink::connect::Value) -> String {
    match schema {
        Some(s) => format!("{} = {}", canonical::schema(s), canonical::value(s, value)),
        None if value.is_null() => "- = null".into(),
        None => format!("- = {value:?}"),
    }
}

/// The sink's chain on the same request, rendered as the oracle renders upstream's.
pub fn ours(config: &BTreeMap<String, String>, record: &Record) -> String {
    let chain = match Chain::from_properties(config) {
        Ok(c) => c,
        Err(e) => return format!("CONFIG {e}"),
    };
    match chain.apply(record.clone()) {
        Ok(None) => "DROPPED".into(),
        Ok(Some(r)) => {
            let headers: Vec<String> = r
                .headers
                .iter()
                .map(|h: &Header| {
                    format!(
                        "{}:{}",
                        canonical::string(&h.key),
                        side(h.schema.as_ref(), &h.value)
                    )
                })
                .collect();
            format!(
                "topic={} | key={} | value={} | headers=[{}]",
                canonical::string(&r.topic),
                side(r.key_schema.as_ref(), &r.key),
                side(r.value_schema.as_ref(), &r.value),
                headers.join(",")
            )
        }
        Err(e) => match e.unsupported {
            Some(name) => format!("UNSUPPORTED {name}: {e}"),
            None => format!("ERROR {e}"),
        },
    }
}

/// How the sink's chain compares with upstream on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Identical,
    Deviation(String),
    Bug,
}

/// Compares our line with upstream's.
pub fn judge(ours: &str, upstream: &str) -> Verdict {
    let kind = |s: &str| s.split(' ').next().unwrap_or("").to_owned();
    match (kind(ours).as_str(), kind(upstream).as_str()) {
        _ if ours == upstream => Verdict::Identical,
        ("ERROR", "ERROR") | ("CONFIG", "CONFIG") => Verdict::Identical,
        // A deviation the port names itself (docs/transforms.md).
        ("UNSUPPORTED", _) => Verdict::Deviation(
            ours.trim_start_matches("UNSUPPORTED ")
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        _ => Verdict::Bug,
    }
}

/// The pinned Debezium version (`debezium.version` of ci/services/pom.xml).
pub fn pinned_debezium() -> Result<String, ServiceError> {
    let pom = crate::versions::pom_path();
    let text = fs::read_to_string(&pom).map_err(|e| ServiceError::io("reading", &pom, e))?;
    let start = text
        .find("<debezium.version>")
        .map(|i| i + "<debezium.version>".len());
    let end = text.find("</debezium.version>");
    match (start, end) {
        (Some(s), Some(e)) if s < e => Ok(text[s..e].trim().to_owned()),
        _ => Err(ServiceError::io(
            "finding debezium.version in",
            &pom,
            std::io::Error::other("no debezium.version property"),
        )),
    }
}

/// Builds the oracle into `<cache>/transforms-<hash>` (classes and lib) unless it is there.
fn build() -> Result<PathBuf, OracleError> {
    let source = crate::fixture::workspace_root().join("reference/transforms");
    let pom = source.join("pom.xml");
    let java = source.join("src/main/java/kq/TransformsOracle.java");
    let kafka = Versions::default_pinned()?.kafka;
    let debezium = pinned_debezium()?;
    let mut key = Vec::new();
    for file in [&pom, &java] {
        key.extend(fs::read(file).map_err(|e| ServiceError::io("reading", file, e))?);
    }
    key.extend(kafka.bytes());
    key.extend(debezium.bytes());
    let hash = provision::short_hash(&key);
    let root = provision::cache_root();
    let target = root.join(format!("transforms-{hash}"));
    if target.join("lib").is_dir() {
        return Ok(target);
    }
    fs::create_dir_all(&root).map_err(|e| ServiceError::io("creating", &root, e))?;
    let lock_path = root.join("provision.lock");
    let lock = File::create(&lock_path).map_err(|e| ServiceError::io("creating", &lock_path, e))?;
    provision::flock_exclusive(&lock).map_err(|e| ServiceError::io("locking", &lock_path, e))?;
    if target.join("lib").is_dir() {
        return Ok(target);
    }
    let tmp = root.join(format!(".tmp-transforms-{hash}"));
    let _ = fs::remove_dir_all(&tmp);
    eprint!(
        "building the transforms oracle (Kafka {kafka}, Debezium {debezium}, first run only)... "
    );
    provision::maven(
        &pom,
        &[
            "compile".to_owned(),
            "dependency:copy-dependencies".to_owned(),
            format!("-Dkafka.version={kafka}"),
            format!("-Ddebezium.version={debezium}"),
            format!("-Dkq.build.dir={}", tmp.display()),
            "-DincludeScope=runtime".to_owned(),
            format!("-DoutputDirectory={}", tmp.join("lib").display()),
        ],
    )?;
    eprintln!("done");
    fs::rename(&tmp, &target).map_err(|e| ServiceError::io("moving into place", &target, e))?;
    Ok(target)
}
