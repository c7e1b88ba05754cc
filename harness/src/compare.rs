//! Two sinks under test on the same cases: did they create the same table shape, the same
//! column types and the same rows? `harness compare A B` prints it and writes a report.

use crate::recorded::{self, Recorded};
use crate::render;
use crate::replay::Outcome;
use std::fmt::Write;

/// What differs between two outcomes of one case, in words; empty when they agree. Compared on
/// their rendered text ([`crate::recorded`]), as committed snapshots are.
pub fn differences(a: &Outcome, b: &Outcome, names: (&str, &str)) -> Vec<String> {
    recorded::differences(
        &Recorded::parse(&render::outcome(a)),
        &Recorded::parse(&render::outcome(b)),
        names,
    )
}

/// The Markdown report: one row per case, then the differences.
pub fn markdown(names: (&str, &str), rows: &[(String, Vec<String>)]) -> String {
    let mut s = format!(
        "# {} compared with {}\n\nSame cases on the same services: table shape, column types, rows, \
         whether the sink stopped.\n\n| case | verdict | what differs |\n|---|---|---|\n",
        names.0, names.1
    );
    for (case, diffs) in rows {
        let verdict = if diffs.is_empty() { "same" } else { "differs" };
        let _ = writeln!(
            s,
            "| {case} | {verdict} | {} |",
            diffs.join("; ").replace('|', "\\|")
        );
    }
    s
}
