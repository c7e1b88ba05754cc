//! What the oracles share: a small Java program under `reference/<name>/` (with the canonical
//! rendering in `reference/canonical/`), built with Maven into the cache on first use, run as a
//! JVM that answers each line on its stdin with one line on its stdout. The JVM exits when its
//! stdin closes, and the kernel kills it if this process dies first: it never outlives a run.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use crate::error::ServiceError;
use crate::provision;

use super::OracleError;

/// One Java program of `reference/`.
pub struct Program {
    /// Its folder under `reference/`, and the cache entry's prefix.
    pub name: &'static str,
    /// What it is called in errors and progress lines.
    pub label: &'static str,
    pub main_class: &'static str,
    /// Maven properties of the build (the pinned versions), part of the cache key.
    pub properties: Vec<(&'static str, String)>,
}

/// Sources shared by every program (the canonical rendering).
const SHARED: &str = "reference/canonical";

impl Program {
    /// Builds the program into `<cache>/<name>-<hash>` (classes and lib) unless it is there;
    /// the hash covers its pom, every source file (its own and the shared ones) and the
    /// properties.
    pub fn build(&self) -> Result<PathBuf, OracleError> {
        let workspace = crate::fixture::workspace_root();
        let source = workspace.join("reference").join(self.name);
        let pom = source.join("pom.xml");
        let mut key = Vec::new();
        for file in sources(&[source.clone(), workspace.join(SHARED)])? {
            key.extend(file.display().to_string().bytes());
            key.extend(fs::read(&file).map_err(|e| ServiceError::io("reading", &file, e))?);
        }
        for (k, v) in &self.properties {
            key.extend(format!("{k}={v}\n").bytes());
        }
        let hash = provision::short_hash(&key);
        let versions: Vec<String> = self
            .properties
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let what = format!("building {} ({})", self.label, versions.join(", "));
        let target = provision::cached(&format!("{}-{hash}", self.name), &what, |tmp| {
            let mut args = vec![
                "compile".to_owned(),
                "dependency:copy-dependencies".to_owned(),
                format!("-Dkq.build.dir={}", tmp.display()),
                "-DincludeScope=runtime".to_owned(),
                format!("-DoutputDirectory={}", tmp.join("lib").display()),
            ];
            args.extend(self.properties.iter().map(|(k, v)| format!("-D{k}={v}")));
            provision::maven(&pom, &args)
        })?;
        Ok(target)
    }

    /// Builds (first time only) and starts the program with these arguments.
    pub fn start(&self, args: &[String]) -> Result<Jvm, OracleError> {
        let build = self.build()?;
        let java = provision::java()?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("kq-{}-", self.name))
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
            .arg(self.main_class)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child when
        // this thread's process dies, so the JVM cannot outlive a killed test run.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(|source| ServiceError::Spawn {
            service: self.name,
            source,
        })?;
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(Jvm {
            label: self.label,
            child,
            stdin,
            stdout,
            stderr_path,
            _dir: dir,
        })
    }
}

/// Every file below these folders, sorted (build output left out).
fn sources(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, OracleError> {
    let mut files = Vec::new();
    let mut todo: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = todo.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| ServiceError::io("listing", &dir, e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| ServiceError::io("listing", &dir, e))?
                .path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    todo.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A running program.
pub struct Jvm {
    label: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Jvm {
    /// Sends one request line and reads the answer line.
    pub fn ask(&mut self, request: &str) -> Result<String, OracleError> {
        let pid = self.child.id();
        let stdin = self.stdin.as_mut().expect("stdin open until drop");
        let sent = stdin
            .write_all(request.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush());
        if let Err(source) = sent {
            return Err(self.io_error(pid, "sending a request", source));
        }
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err(OracleError::Exited {
                oracle: self.label,
                pid,
                stderr: self.stderr(),
            }),
            Ok(_) => Ok(line.trim_end_matches('\n').to_owned()),
            Err(source) => Err(self.io_error(pid, "reading its answer", source)),
        }
    }

    fn io_error(&self, pid: u32, what: &'static str, source: std::io::Error) -> OracleError {
        OracleError::Io {
            oracle: self.label,
            pid,
            what,
            source,
            stderr: self.stderr(),
        }
    }

    fn stderr(&self) -> String {
        fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

impl Drop for Jvm {
    fn drop(&mut self) {
        // EOF on stdin ends the program; wait for it so no zombie is left.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
