//! Where log lines go during a run of cases: a case's own file while its task runs (the
//! in-process sink logs through `tracing`), a run-wide file otherwise, so that a passing
//! `harness conformance` prints only its progress and its table. Without a folder (the other
//! commands), lines go to stderr as before.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

tokio::task_local! {
    /// The log file of the case whose task is being polled.
    static CASE_LOG: PathBuf;
}

/// The folder of this run's logs, once set.
static FOLDER: OnceLock<PathBuf> = OnceLock::new();

/// The folder a run's logs go to: `target/conformance-logs/`.
pub fn default_folder() -> PathBuf {
    crate::fixture::workspace_root().join("target/conformance-logs")
}

/// Sends log lines to files under `folder` from now on (emptied first: a file there is this
/// run's). Later calls keep the first folder.
pub fn send_to(folder: &Path) -> std::io::Result<()> {
    let _ = std::fs::remove_dir_all(folder);
    std::fs::create_dir_all(folder)?;
    let _ = FOLDER.set(folder.to_owned());
    Ok(())
}

/// The file a case's log lines go to: its name with `/` as `__` (as its snapshot's).
pub fn file_name(case: &str) -> String {
    format!("{}.log", crate::snapshot::name(case))
}

/// The log file of `case` under this run's folder, if one is set and the case logged anything.
pub fn of_case(case: &str) -> Option<PathBuf> {
    let path = FOLDER.get()?.join(file_name(case));
    std::fs::metadata(&path)
        .ok()
        .filter(|m| m.len() > 0)
        .map(|_| path)
}

/// Runs `f` with its log lines (those logged while its task is polled) in `case`'s file.
pub async fn scope<F: std::future::Future>(case: &str, f: F) -> F::Output {
    match FOLDER.get() {
        Some(folder) => CASE_LOG.scope(folder.join(file_name(case)), f).await,
        None => f.await,
    }
}

/// A `tracing_subscriber` writer: the current case's file, else the run's `run.log`, else
/// stderr.
pub struct Writer;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Writer {
    type Writer = Box<dyn Write + 'a>;

    fn make_writer(&'a self) -> Self::Writer {
        let file = CASE_LOG
            .try_with(Clone::clone)
            .ok()
            .or_else(|| FOLDER.get().map(|f| f.join("run.log")));
        let opened = file.and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        match opened {
            Some(file) => Box::new(file),
            // A log line is never worth failing a run over: stderr as before.
            None => Box::new(std::io::stderr()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line logged while a case's task runs lands in that case's file, one logged outside
    /// any case in `run.log`, and neither on stderr.
    #[test]
    fn lines_go_to_the_running_cases_file() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("logs");
        send_to(&folder).unwrap();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Writer)
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(scope("area/my-case.case", async {
                tracing::error!("inside the case");
            }));
            tracing::error!("outside any case");
        });
        let case = of_case("area/my-case.case").expect("the case's file");
        assert_eq!(case, folder.join("area__my-case.log"));
        let text = std::fs::read_to_string(&case).unwrap();
        assert!(text.contains("inside the case"), "{text}");
        assert!(!text.contains("outside"), "{text}");
        let run = std::fs::read_to_string(folder.join("run.log")).unwrap();
        assert!(run.contains("outside any case"), "{run}");
        assert_eq!(of_case("area/quiet.case"), None);
    }
}
