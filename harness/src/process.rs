//! A service child process (a JVM) that cannot outlive the process that started it.
//!
//! Each [`ServiceProcess`] runs in its own process group, logs to a file in its data dir, and
//! is watched by a *guardian*: a tiny `sh` script in yet another process group whose stdin is
//! a pipe whose write end only this process holds. However this process ends — `Drop`, a
//! panic, `std::process::abort`, Ctrl-C, SIGKILL — the kernel closes that pipe; the guardian
//! reads EOF, sends SIGTERM to the service's process group, SIGKILL after a grace period, and
//! removes the data dir. `Drop` takes the same path (close the pipe) and then reaps both.
//!
//! `prctl(PR_SET_PDEATHSIG)` is deliberately not used: it fires when the spawning *thread*
//! exits, and test threads come and go while the test process (and its shared services) live.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::error::ServiceError;

/// How long the service gets between SIGTERM and SIGKILL.
pub const TERM_GRACE: Duration = Duration::from_secs(5);

/// The guardian. `$1` process group, `$2` data dir, `$3` grace in tenths of a second.
/// Written for dash's built-in `kill` (`kill -SIG -PGID`, no `--`). The group counts as gone
/// once its leader is a zombie: where nobody reaps orphans promptly (PID 1 of some containers)
/// a dead JVM stays a zombie, and `kill -0` still finds its group.
const GUARDIAN_SCRIPT: &str = r#"
trap '' HUP INT QUIT PIPE
running() {
  kill -0 -"$1" 2>/dev/null || return 1
  s=$(cat /proc/"$1"/stat 2>/dev/null) || return 0
  s=${s##*)}
  case ${s# } in Z*|X*) return 1;; esac
  return 0
}
while read -r _; do :; done
kill -TERM -"$1" 2>/dev/null
i=0
while running "$1"; do
  if [ "$i" -ge "$3" ]; then break; fi
  sleep 0.1
  i=$((i+1))
done
if kill -0 -"$1" 2>/dev/null; then
  kill -KILL -"$1" 2>/dev/null
  j=0
  while running "$1" && [ "$j" -lt 20 ]; do sleep 0.1; j=$((j+1)); done
fi
rm -rf -- "$2"
"#;

/// A child process in its own process group, with a data dir that goes away with it.
#[derive(Debug)]
pub struct ServiceProcess {
    name: &'static str,
    child: Child,
    pid: u32,
    spawned_at: Instant,
    log_path: PathBuf,
    data_dir: Option<TempDir>,
    data_dir_path: PathBuf,
    guardian: Child,
    /// The write end of the guardian's stdin; closing it starts the shutdown.
    guardian_pipe: Mutex<Option<ChildStdin>>,
}

impl ServiceProcess {
    /// Spawns `cmd` with stdin from `/dev/null`, stdout and stderr appended to
    /// `<data_dir>/<name>.log`, in a new process group, and starts its guardian.
    pub fn spawn(
        name: &'static str,
        cmd: Command,
        data_dir: TempDir,
    ) -> Result<Self, ServiceError> {
        let data_dir_path = data_dir.path().to_path_buf();
        let log_path = data_dir_path.join(format!("{name}.log"));
        let launched = launch(name, cmd, &log_path, &data_dir_path)?;
        Ok(ServiceProcess {
            name,
            child: launched.child,
            pid: launched.pid,
            spawned_at: launched.spawned_at,
            log_path,
            data_dir: Some(data_dir),
            data_dir_path,
            guardian: launched.guardian,
            guardian_pipe: Mutex::new(launched.pipe),
        })
    }

    /// Stops the process group with `signal` (SIGKILL after `grace` if it is still running)
    /// and reaps it, keeping the data dir and log for [`Self::respawn`]: the guardian is
    /// killed first so that it does not remove them. Should this value be dropped before a
    /// respawn, its `Drop` still removes the data dir.
    pub fn stop_keeping_data(&mut self, signal: libc::c_int, grace: Duration) {
        let _ = self.guardian.kill();
        let _ = self.guardian.wait();
        kill_group(self.pid, signal);
        if !wait_child(&mut self.child, grace) {
            kill_group(self.pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }

    /// Starts `cmd` in place of a process [`Self::stop_keeping_data`] stopped, with the same
    /// data dir and log, and a guardian of its own.
    pub fn respawn(&mut self, cmd: Command) -> Result<(), ServiceError> {
        let launched = launch(self.name, cmd, &self.log_path, &self.data_dir_path)?;
        self.child = launched.child;
        self.pid = launched.pid;
        self.spawned_at = launched.spawned_at;
        self.guardian = launched.guardian;
        *self.guardian_pipe.lock().unwrap_or_else(|p| p.into_inner()) = launched.pipe;
        Ok(())
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The process id, which is also its process group id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` to the whole process group (SIGSTOP/SIGCONT freeze and thaw a JVM
    /// started through a wrapper as well).
    pub fn signal_group(&self, signal: libc::c_int) {
        kill_group(self.pid, signal);
    }

    /// The guardian's process id.
    pub fn guardian_pid(&self) -> u32 {
        self.guardian.id()
    }

    /// Time since the process was spawned.
    pub fn uptime(&self) -> Duration {
        self.spawned_at.elapsed()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir_path
    }

    /// The last `lines` lines of the log (reads at most its last 256 KiB).
    pub fn log_tail(&self, lines: usize) -> String {
        tail_file(&self.log_path, lines)
    }

    /// The first line among the log's last 256 KiB that contains one of `needles`.
    pub fn log_find(&self, needles: &[&str]) -> Option<String> {
        let text = read_log_end(&self.log_path).ok()?;
        text.lines()
            .find(|line| needles.iter().any(|n| line.contains(n)))
            .map(|line| line.trim().to_owned())
    }

    /// `Err(Exited)` (with the log tail) if the process has died. Does not reap it, so its pid
    /// and process group id cannot be reused while this value exists.
    pub fn check_alive(&self) -> Result<(), ServiceError> {
        match peek_exit(self.pid) {
            None => Ok(()),
            Some(status) => Err(ServiceError::Exited {
                service: self.name,
                status,
                log_tail: self.log_tail(40),
            }),
        }
    }

    /// Starts the shutdown (the guardian sends SIGTERM) without waiting; `Drop` finishes it.
    /// Lets several services stop in parallel.
    pub fn begin_shutdown(&self) {
        let pipe = match self.guardian_pipe.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(pipe);
    }
}

/// A spawned child and its guardian.
struct Launched {
    child: Child,
    pid: u32,
    spawned_at: Instant,
    guardian: Child,
    pipe: Option<ChildStdin>,
}

fn launch(
    name: &'static str,
    mut cmd: Command,
    log_path: &Path,
    data_dir_path: &Path,
) -> Result<Launched, ServiceError> {
    let log_path = log_path.to_path_buf();
    let data_dir_path = data_dir_path.to_path_buf();
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| ServiceError::io("creating the service log", &log_path, e))?;
    let log_err = log
        .try_clone()
        .map_err(|e| ServiceError::io("duplicating the service log handle", &log_path, e))?;
    cmd.stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
    inherit_only_stdio(&mut cmd);
    let spawned_at = Instant::now();
    let mut child = cmd.spawn().map_err(|source| ServiceError::Spawn {
        service: name,
        source,
    })?;
    let pid = child.id();

    let grace_tenths = (TERM_GRACE.as_millis() / 100).to_string();
    let mut guardian = Command::new("/bin/sh");
    inherit_only_stdio(&mut guardian);
    let guardian = guardian
        .arg("-c")
        .arg(GUARDIAN_SCRIPT)
        .arg("kq-guardian")
        .arg(pid.to_string())
        .arg(&data_dir_path)
        .arg(grace_tenths)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: Ctrl-C in the terminal must not kill it before it did its job.
        .process_group(0)
        .spawn();
    let mut guardian = match guardian {
        Ok(g) => g,
        Err(source) => {
            kill_group(pid, libc::SIGKILL);
            let _ = child.wait();
            return Err(ServiceError::Spawn {
                service: "guardian",
                source,
            });
        }
    };
    let pipe = guardian.stdin.take();
    Ok(Launched {
        child,
        pid,
        spawned_at,
        guardian,
        pipe,
    })
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.begin_shutdown();
        // The guardian sends SIGTERM, then SIGKILL after TERM_GRACE. Should the guardian be gone
        // (someone killed it), do it here.
        if !wait_child(&mut self.child, TERM_GRACE + Duration::from_secs(2)) {
            kill_group(self.pid, libc::SIGKILL);
            let _ = self.child.wait();
        }
        // Once the group is gone the guardian removes the data dir and exits.
        if !wait_child(&mut self.guardian, Duration::from_secs(10)) {
            let _ = self.guardian.kill();
            let _ = self.guardian.wait();
        }
        // Whatever is left (e.g. the guardian was killed): TempDir's own drop removes it.
        drop(self.data_dir.take());
    }
}

/// Makes the child start with only stdin, stdout and stderr open. Rust opens its own files
/// close-on-exec, but this process may have inherited other descriptors (a CI runner's pipe,
/// cargo's jobserver) or got some from C libraries; a JVM or guardian holding such a pipe
/// could keep whoever waits on it waiting.
pub(crate) fn inherit_only_stdio(cmd: &mut Command) {
    // SAFETY: the closure only makes async-signal-safe syscalls (close_range, getrlimit, fcntl)
    // and does not allocate. It marks descriptors close-on-exec instead of closing them, so
    // std's own exec-error pipe keeps working.
    unsafe {
        cmd.pre_exec(|| {
            let flags = libc::CLOSE_RANGE_CLOEXEC as libc::c_long;
            if libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_long,
                libc::c_long::from(u32::MAX),
                flags,
            ) == 0
            {
                return Ok(());
            }
            // Kernels before 5.11: one fcntl per possible descriptor.
            let mut limit: libc::rlimit = std::mem::zeroed();
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur.min(65_536) as libc::c_int
            } else {
                1024
            };
            for fd in 3..max {
                libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            }
            Ok(())
        });
    }
}

/// Polls `child` until it has exited (and is reaped) or `timeout` passed; true if it exited.
fn wait_child(child: &mut Child, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return true,
            Ok(None) => {}
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

fn kill_group(pgid: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        // SAFETY: plain syscall; a negative pid addresses the process group.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// `Some(description)` if the child `pid` has exited, without reaping it.
fn peek_exit(pid: u32) -> Option<String> {
    // SAFETY: siginfo_t is plain data; waitid only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return Some(format!(
            "no longer waitable: {}",
            io::Error::last_os_error()
        ));
    }
    // SAFETY: waitid filled in a SIGCHLD siginfo (or left it zeroed when nothing exited).
    let (exited_pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if exited_pid == 0 {
        return None;
    }
    Some(match info.si_code {
        libc::CLD_EXITED => format!("exit status {status}"),
        libc::CLD_KILLED | libc::CLD_DUMPED => format!("killed by signal {status}"),
        code => format!("ended (si_code {code}, status {status})"),
    })
}

/// The last `lines` lines of a file, reading at most its last 256 KiB.
pub(crate) fn tail_file(path: &Path, lines: usize) -> String {
    let text = match read_log_end(path) {
        Ok(text) => text,
        Err(e) => return format!("(could not read the log {}: {e})", path.display()),
    };
    let all: Vec<&str> = text.lines().collect();
    if all.is_empty() {
        return format!("(the log {} is empty)", path.display());
    }
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The last 256 KiB of a log, starting at a line boundary.
fn read_log_end(path: &Path) -> io::Result<String> {
    const MAX: u64 = 256 * 1024;
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(MAX);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(match text.split_once('\n') {
        // Probably cut in the middle of a line.
        Some((_, rest)) if start > 0 => rest.to_owned(),
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state letter of `/proc/PID/stat` (`T`: stopped by a signal).
    fn state(pid: u32) -> Result<char, String> {
        let stat =
            std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
        // After the command name in parentheses.
        let after = stat.rsplit_once(") ").ok_or("no state")?.1;
        after.chars().next().ok_or_else(|| "no state".into())
    }

    #[test]
    fn signal_group_freezes_and_thaws_the_process() {
        let mut cmd = Command::new("sleep");
        cmd.arg("60");
        let dir = tempfile::tempdir().unwrap();
        let p = ServiceProcess::spawn("sleeper", cmd, dir).unwrap();
        let wait_state =
            |want: bool| {
                crate::wait::wait_until("the process state", Duration::from_secs(10), || {
                    match state(p.pid())? {
                        'T' if want => Ok(()),
                        s if !want && s != 'T' => Ok(()),
                        s => Err(format!("state {s}")),
                    }
                })
                .unwrap_or_else(|e| panic!("{e}"))
            };
        p.signal_group(libc::SIGSTOP);
        wait_state(true);
        p.signal_group(libc::SIGCONT);
        wait_state(false);
        assert!(p.check_alive().is_ok());
    }
}
