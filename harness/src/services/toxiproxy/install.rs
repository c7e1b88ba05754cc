//! Provisioning of the Toxiproxy server: built once with `go install` from the Go module proxy
//! and cached under `toxiproxy-<version>` in the cache dir ([`crate::provision::cache_root`]),
//! as the service jars are cached per version; every later run reuses the binary without Go or
//! the network. `KQ_TOXIPROXY` names a server binary to use instead.

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::error::ServiceError;
use crate::provision::cached;

/// The pinned Toxiproxy release.
pub const VERSION: &str = "v2.12.0";

/// The package `go install` builds: the server is `cmd/server` (its binary is named `server`).
const PACKAGE: &str = "github.com/Shopify/toxiproxy/v2/cmd/server";

/// The oldest Go that builds it: its go.mod says `go 1.23.0`; Go 1.21 and later fetch that
/// toolchain themselves (GOTOOLCHAIN=auto), older ones fail.
const MIN_GO: (u32, u32) = (1, 21);

/// The server binary: `$KQ_TOXIPROXY`, else the cached build, built first if missing.
/// Concurrent callers serialise on the provisioning lock, as for the jars.
pub fn server_binary() -> Result<PathBuf, ServiceError> {
    if let Some(path) = std::env::var_os("KQ_TOXIPROXY").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let what = format!("building Toxiproxy {VERSION} with `go install`");
    let dir = cached(&format!("toxiproxy-{VERSION}"), &what, |tmp| {
        let go = go()?;
        let mut cmd = Command::new(&go);
        cmd.arg("install")
            .arg(format!("{PACKAGE}@{VERSION}"))
            .env("GOBIN", tmp)
            .stdin(Stdio::null());
        let command = format!("GOBIN={} {cmd:?}", tmp.display()).replace('"', "");
        let output = cmd.output().map_err(|e| ServiceError::Provision {
            command: command.clone(),
            output: e.to_string(),
            hint: "could not run Go".to_owned(),
        })?;
        if !output.status.success() {
            return Err(ServiceError::Provision {
                command,
                output: format!(
                    "{}: {}{}",
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
                hint: "building Toxiproxy needs the Go module proxy (https://proxy.golang.org, \
                       or GOPROXY) reachable; nothing was cached"
                    .to_owned(),
            });
        }
        let built = tmp.join("server");
        fs::rename(&built, tmp.join("toxiproxy-server"))
            .map_err(|e| ServiceError::io("renaming the built server", &built, e))
    })?;
    Ok(dir.join("toxiproxy-server"))
}

/// `$KQ_GO`, else `go` on `PATH`, checked with `go version` to be new enough.
fn go() -> Result<OsString, ServiceError> {
    let go = std::env::var_os("KQ_GO")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| OsString::from("go"));
    let missing = |why: String| ServiceError::Provision {
        command: format!("{} version", go.to_string_lossy()),
        output: why,
        hint: format!(
            "network faults run through Toxiproxy {VERSION}, built with Go {}.{} or later: \
             install Go (ci/install-deps.sh; Debian 13: apt-get install golang-go; Debian 12's \
             golang-go is 1.19, too old: take one from https://go.dev/dl) or set KQ_GO, or point \
             KQ_TOXIPROXY at a toxiproxy-server binary",
            MIN_GO.0, MIN_GO.1
        ),
    };
    let output = Command::new(&go)
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing(e.to_string()))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    match go_version(&text) {
        Some(v) if v >= MIN_GO => Ok(go),
        Some((major, minor)) => Err(missing(format!("Go {major}.{minor} is too old"))),
        None => Err(missing(format!("unexpected answer: {}", text.trim()))),
    }
}

/// `go version go1.26.8 linux/amd64` -> (1, 26).
fn go_version(text: &str) -> Option<(u32, u32)> {
    let word = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("go1."))?;
    let minor = word
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((1, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_go_versions() {
        assert_eq!(go_version("go version go1.26.8 linux/amd64"), Some((1, 26)));
        assert_eq!(go_version("go version go1.19.8 linux/amd64"), Some((1, 19)));
        assert_eq!(
            go_version("go version go1.23rc1 linux/amd64"),
            Some((1, 23))
        );
        assert_eq!(go_version("bash: go: not found"), None);
        assert!(go_version("go version go1.19.8 linux/amd64").unwrap() < MIN_GO);
    }
}
