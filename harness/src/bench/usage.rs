//! CPU time and peak memory of the processes a bench run measures, read from /proc (Linux).
//!
//! A child's `rusage` would carry this process's memory into its peak (the kernel records the
//! old image's high-water mark at exec), and a long-lived JVM's peak would include its start-up:
//! so each process's peak (`VmHWM`) is reset before a run (`clear_refs` 5) and read while it
//! runs, and its CPU time is the difference of `utime + stime` over the run, the last reading
//! taken from the zombie, which keeps them until it is reaped.

use std::path::PathBuf;
use std::process::Child;

/// Clock ticks per second of `/proc/<pid>/stat`.
fn ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// State letter and `utime + stime` in ticks, from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(char, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields are counted after it.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    // Fields 14 and 15 of the man page; 3 (state) is index 0 here.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((state, utime + stime))
}

/// `VmHWM` of `/proc/<pid>/status` in KiB (absent once the process exited).
pub(crate) fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets a process's `VmHWM` to its current RSS (Linux 4.0 and later).
fn reset_peak(pid: u32) {
    let _ = std::fs::write(PathBuf::from(format!("/proc/{pid}/clear_refs")), "5");
}

/// One measured process: a child of this bench (reaped here) or a running service.
pub struct Watched {
    pid: u32,
    child: Option<Child>,
    start_ticks: u64,
    last_ticks: u64,
    peak_kib: u64,
    exit: Option<std::process::ExitStatus>,
}

impl Watched {
    /// A child just spawned: its CPU counts from zero.
    pub fn child(child: Child) -> Watched {
        let pid = child.id();
        let mut w = Watched {
            pid,
            child: Some(child),
            start_ticks: 0,
            last_ticks: 0,
            peak_kib: 0,
            exit: None,
        };
        w.sample();
        w
    }

    /// A process that was running before: its peak is reset and its CPU counted from now.
    pub fn running(pid: u32) -> Watched {
        reset_peak(pid);
        let ticks = stat(pid).map_or(0, |(_, t)| t);
        Watched {
            pid,
            child: None,
            start_ticks: ticks,
            last_ticks: ticks,
            peak_kib: peak_kib(pid).unwrap_or(0),
            exit: None,
        }
    }

    /// Reads the process's numbers; reaps a child that exited. True while it runs.
    pub fn sample(&mut self) -> bool {
        if self.exit.is_some() {
            return false;
        }
        if let Some(kib) = peak_kib(self.pid) {
            self.peak_kib = self.peak_kib.max(kib);
        }
        match stat(self.pid) {
            Some((state, ticks)) => {
                self.last_ticks = ticks;
                if state == 'Z' || state == 'X' {
                    if let Some(child) = self.child.as_mut() {
                        self.exit = child.wait().ok();
                    }
                    return false;
                }
                true
            }
            None => false,
        }
    }

    /// How a child ended, once [`Watched::sample`] saw it end.
    pub fn exit(&self) -> Option<std::process::ExitStatus> {
        self.exit
    }

    pub fn cpu_secs(&self) -> f64 {
        (self.last_ticks - self.start_ticks) as f64 / ticks_per_sec()
    }

    pub fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    /// Stops a child that is still running (a run that timed out or failed).
    pub fn kill(&mut self) {
        if let (Some(child), None) = (self.child.as_mut(), self.exit) {
            let _ = child.kill();
            self.exit = child.wait().ok();
        }
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_s_cpu_and_peak_are_read_until_it_is_reaped() {
        // A shell that burns some CPU, then exits 3.
        let child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; exit 3",
            ])
            .spawn()
            .unwrap();
        let mut w = Watched::child(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while w.sample() {
            assert!(std::time::Instant::now() < deadline, "sh did not end");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(w.exit().and_then(|s| s.code()), Some(3));
        assert!(w.cpu_secs() > 0.0, "cpu {}", w.cpu_secs());
        assert!(w.peak_mib() > 0.1, "peak {}", w.peak_mib());
    }

    #[test]
    fn a_running_process_counts_from_when_it_is_watched() {
        let me = std::process::id();
        let mut w = Watched::running(me);
        assert!(w.sample());
        assert!(w.cpu_secs() < 5.0);
        assert!(w.peak_mib() > 0.1);
        assert!(w.exit().is_none());
    }
}
