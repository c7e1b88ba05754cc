//! A change-data-capture outcome as the text a reviewer reads in its snapshot.

use std::fmt::Write;

use super::run::CdcOutcome;
use crate::readback::Table;

/// Tables with more rows than this show their first and last [`EDGE`] rows only.
const MAX_ROWS: usize = 100;
const EDGE: usize = 5;

/// The table with its first and last [`EDGE`] rows.
fn edges(table: &Table) -> Table {
    let n = table.rows.len();
    let keep = |r: usize| r < EDGE || r >= n - EDGE;
    let mut t = table.clone();
    t.rows = table
        .rows
        .iter()
        .enumerate()
        .filter(|(r, _)| keep(*r))
        .map(|(_, v)| v.clone())
        .collect();
    t.stored = table
        .stored
        .iter()
        .enumerate()
        .filter(|(r, _)| keep(*r))
        .map(|(_, v)| v.clone())
        .collect();
    t
}

pub fn outcome(o: &CdcOutcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "case: {}", o.case);
    let _ = writeln!(s, "statements run on PostgreSQL: {}", o.statements);
    for (topic, records, committed) in &o.topics {
        let committed = committed.map_or("none".to_owned(), |c| c.to_string());
        let _ = writeln!(
            s,
            "topic {topic}: {records} records from Debezium, sink committed offset {committed}"
        );
    }
    s.push_str("\nddl:\n");
    if o.ddl.is_empty() {
        s.push_str("  (none)\n");
    }
    for line in o.ddl.iter().flat_map(|d| d.lines()) {
        let _ = writeln!(s, "  {line}");
    }
    for (name, state) in &o.tables {
        let _ = writeln!(s, "\nQuestDB table {name}:");
        match state {
            Some(table) if table.rows.len() > MAX_ROWS => {
                let _ = writeln!(
                    s,
                    "  {} rows: the first and last {EDGE} shown",
                    table.rows.len()
                );
                crate::render::table(&mut s, Some(&edges(table)));
            }
            _ => crate::render::table(&mut s, state.as_ref()),
        }
    }
    crate::render::coercions_and_error(&mut s, &o.coercions, o.error.as_deref());
    s
}
