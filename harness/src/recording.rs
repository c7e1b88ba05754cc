//! Recording the outcomes of a sink that `cargo test` cannot run (Confluent's JDBC sink is not
//! on Maven Central) from `harness conformance`: a case that differs from its snapshot in the
//! set goes through insta as a test's would, so `INSTA_UPDATE` means what it means for
//! `cargo test` (`always` writes the `.snap`, the default writes a `.snap.new` for
//! `cargo insta review` outside CI, `no` writes nothing) and the files look the same.

use crate::snapshot;
use std::path::{Path, PathBuf};

/// What a run did with a case's snapshot in a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recording {
    /// The outcome equals the accepted snapshot.
    Same,
    /// The accepted snapshot was written (`INSTA_UPDATE=always`).
    Accepted(PathBuf),
    /// A `.snap.new` waits for review.
    Pending(PathBuf),
    /// It differs (or is new) and nothing was written.
    Differs,
}

/// Judges `rendered` against `tests/snapshots/<set>/<case>.snap` and, when it differs, lets
/// insta write what `INSTA_UPDATE` asks for. Insta's own report of the difference is printed
/// (stdout), its failure is caught.
pub fn record_in_set(set: &str, case: &str, rendered: &str) -> Recording {
    record_at(&snapshot::set_dir(set), case, rendered)
}

/// [`record_in_set`] in any snapshots folder: a user's own (`harness conformance DIR`).
pub fn record_at(dir: &Path, case: &str, rendered: &str) -> Recording {
    let name = snapshot::name(case);
    if snapshot::accepted_at(dir, case).is_some_and(|a| snapshot::matches(&a, rendered)) {
        return Recording::Same;
    }
    let accepted = dir.join(format!("{name}.snap"));
    let pending = dir.join(format!("{name}.snap.new"));
    // A pending file of an earlier run says nothing about this one.
    let _ = std::fs::remove_file(&pending);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let _ =
        std::panic::catch_unwind(|| snapshot::assert_at(dir.to_path_buf(), &name, case, rendered));
    std::panic::set_hook(hook);
    if pending.exists() {
        Recording::Pending(pending)
    } else if snapshot::accepted_at(dir, case).is_some_and(|a| snapshot::matches(&a, rendered)) {
        Recording::Accepted(accepted)
    } else {
        Recording::Differs
    }
}
