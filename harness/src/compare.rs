//! Two sinks under test on the same cases: did they create the same table shape, the same
//! column types and the same rows? `harness compare A B` prints it and writes a report.

use crate::render;
use crate::replay::Outcome;
use std::fmt::Write;

/// What differs between two outcomes of one case, in words; empty when they agree.
pub fn differences(a: &Outcome, b: &Outcome, names: (&str, &str)) -> Vec<String> {
    let (an, bn) = names;
    let mut out = Vec::new();
    match (&a.not_applicable, &b.not_applicable) {
        (Some(why), _) => return vec![format!("not applicable to {an}: {why}")],
        (_, Some(why)) => return vec![format!("not applicable to {bn}: {why}")],
        _ => {}
    }
    match (&a.table_state, &b.table_state) {
        (None, None) => {}
        (Some(_), None) => out.push(format!("table: {an} created it, {bn} did not")),
        (None, Some(_)) => out.push(format!("table: {bn} created it, {an} did not")),
        (Some(ta), Some(tb)) => {
            let (sa, sb) = (&ta.shape, &tb.shape);
            let shape = |s: &crate::readback::Shape| {
                format!(
                    "wal={} designated={} partition={} dedup={}",
                    s.wal,
                    s.designated_timestamp.as_deref().unwrap_or("none"),
                    s.partition_by,
                    s.dedup
                )
            };
            if shape(sa) != shape(sb) {
                out.push(format!(
                    "table shape: {an} {}, {bn} {}",
                    shape(sa),
                    shape(sb)
                ));
            }
            for ca in &ta.columns {
                match tb
                    .columns
                    .iter()
                    .find(|cb| cb.name.eq_ignore_ascii_case(&ca.name))
                {
                    None => out.push(format!("column {}: only {an} has it", ca.name)),
                    Some(cb) if cb.column_type != ca.column_type => out.push(format!(
                        "column {}: {an} {}, {bn} {}",
                        ca.name, ca.column_type, cb.column_type
                    )),
                    Some(_) => {}
                }
            }
            for cb in &tb.columns {
                if !ta
                    .columns
                    .iter()
                    .any(|ca| ca.name.eq_ignore_ascii_case(&cb.name))
                {
                    out.push(format!("column {}: only {bn} has it", cb.name));
                }
            }
            let rows = |t: &crate::readback::Table| -> Vec<String> {
                t.rows
                    .iter()
                    .map(|r| {
                        t.columns
                            .iter()
                            .zip(r)
                            .map(|(c, v)| format!("{}={}", c.name, render::value(v.as_deref())))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    })
                    .collect()
            };
            let (ra, rb) = (rows(ta), rows(tb));
            if ra.len() != rb.len() {
                out.push(format!("rows: {an} {}, {bn} {}", ra.len(), rb.len()));
            } else if let Some((x, y)) = ra.iter().zip(&rb).find(|(x, y)| x != y) {
                out.push(format!("rows differ: {an} `{x}`, {bn} `{y}`"));
            }
        }
    }
    // A Connect task's trace says most in its last cause.
    let first = |e: &Option<String>| {
        e.as_ref().map(|e| {
            e.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("Caused by: "))
                .unwrap_or_else(|| e.lines().next().unwrap_or(""))
                .to_owned()
        })
    };
    match (first(&a.error), first(&b.error)) {
        (Some(e), None) => out.push(format!("{an} stopped: {e}")),
        (None, Some(e)) => out.push(format!("{bn} stopped: {e}")),
        _ => {}
    }
    out
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
