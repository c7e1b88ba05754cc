//! Renders an outcome as the text a reviewer reads in a snapshot: the DDL issued, the columns
//! QuestDB reports, the rows one per line, coercions and the error. The same text is what the
//! tests snapshot and what `harness conformance` compares against the accepted snapshots.

use crate::replay::Outcome;
use std::fmt::Write;

pub fn outcome(o: &Outcome) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "case: {}", o.case);
    if let Some(reason) = &o.not_applicable {
        let _ = writeln!(s, "not applicable to this sink: {reason}");
        return s;
    }
    let _ = writeln!(s, "topic: {} -> table: {}", o.topic, o.table);
    let committed = o.committed.map_or("none".to_string(), |c| c.to_string());
    let _ = writeln!(
        s,
        "records produced: {}, committed offset: {committed}",
        o.produced
    );

    if let Some(ddl) = &o.ddl {
        s.push_str("\nddl:\n");
        if ddl.is_empty() {
            s.push_str("  (none)\n");
        }
        for statement in ddl {
            for line in statement.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
    }

    table(&mut s, o.table_state.as_ref());
    for (name, state) in &o.other_tables {
        let _ = writeln!(s, "\nalso table: {name}");
        table(&mut s, state.as_ref());
    }

    if let Some((topic, records)) = &o.dead_letters {
        let _ = writeln!(s, "\ndead letter queue {topic}: {} records", records.len());
        for r in records {
            let _ = writeln!(
                s,
                "  offset {}: value={}",
                r.offset,
                value(r.value.as_deref())
            );
            if let Some(key) = &r.key {
                let _ = writeln!(s, "    key={}", value(Some(key)));
            }
            if let Some(ms) = r.timestamp {
                let _ = writeln!(s, "    timestamp={ms}");
            }
            for (k, v) in &r.headers {
                let _ = writeln!(s, "    {k}={}", value(Some(v)));
            }
        }
    }

    coercions_and_error(&mut s, &o.coercions, o.error.as_deref());
    s
}

/// The end of an outcome: the coercions the sink noted, if any, and its error or `none`.
pub(crate) fn coercions_and_error(
    s: &mut String,
    coercions: &[impl std::fmt::Display],
    error: Option<&str>,
) {
    if !coercions.is_empty() {
        s.push_str("\ncoercions:\n");
        for c in coercions {
            let _ = writeln!(s, "  {c}");
        }
    }
    s.push_str("\nerror:");
    match error {
        None => s.push_str(" none\n"),
        Some(e) => {
            s.push('\n');
            for line in e.lines() {
                let _ = writeln!(s, "  {line}");
            }
        }
    }
}

/// Values longer than this are shown by their start and their length.
const LONG: usize = 256;

/// NULL for SQL null; the text as is when it reads unambiguously, else quoted with escapes.
pub fn value(v: Option<&str>) -> String {
    match v {
        None => "NULL".into(),
        Some(text) if text.chars().count() > LONG => {
            let start: String = text.chars().take(32).collect();
            format!(
                "{}... ({} chars)",
                value(Some(&start)),
                text.chars().count()
            )
        }
        Some(text) if needs_quotes(text) => format!("{text:?}"),
        Some(text) => text.into(),
    }
}

fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text == "NULL"
        || text.starts_with(' ')
        || text.ends_with(' ')
        || text
            .chars()
            .any(|c| c.is_control() || c == '|' || c == '"' || c == '\\')
}

/// A table's columns, shape and rows (or that it does not exist).
pub(crate) fn table(s: &mut String, state: Option<&crate::readback::Table>) {
    match state {
        None => s.push_str("\ntable: (does not exist)\n"),
        Some(table) => {
            s.push_str("\ncolumns:\n");
            let width = table
                .columns
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(0);
            for c in &table.columns {
                let designated = if c.designated {
                    "  designated timestamp"
                } else {
                    ""
                };
                let _ = writeln!(s, "  {:width$}  {}{designated}", c.name, c.column_type);
            }
            let shape = &table.shape;
            let _ = writeln!(
                s,
                "\ntable: wal={} designated timestamp={} partition by={} dedup={}",
                shape.wal,
                shape.designated_timestamp.as_deref().unwrap_or("none"),
                shape.partition_by,
                shape.dedup
            );
            for line in shape.create.lines() {
                let _ = writeln!(s, "  {line}");
            }
            let _ = writeln!(s, "\nrows: {}", table.rows.len());
            for row in &table.rows {
                let cells: Vec<String> = table
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(c, v)| format!("{}={}", c.name, value(v.as_deref())))
                    .collect();
                let _ = writeln!(s, "  {}", cells.join(" | "));
            }
            // Only where QuestDB shows a temporal cell as other than what it stores, so that
            // every other outcome renders as before.
            let notes = table.misrenderings();
            if !notes.is_empty() {
                s.push_str("\nnotes:\n");
                for (r, c, m) in notes {
                    let _ = writeln!(s, "  row {r}, {}: {m}", table.columns[c].name);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::value;

    #[test]
    fn values_are_unambiguous() {
        assert_eq!(value(None), "NULL");
        assert_eq!(value(Some("NULL")), "\"NULL\"");
        assert_eq!(value(Some("")), "\"\"");
        assert_eq!(value(Some("hi")), "hi");
        assert_eq!(value(Some("a|b")), "\"a|b\"");
        assert_eq!(value(Some("line\nbreak")), "\"line\\nbreak\"");
        assert_eq!(
            value(Some(&"x".repeat(300))),
            format!("{}... (300 chars)", "x".repeat(32))
        );
    }
}
