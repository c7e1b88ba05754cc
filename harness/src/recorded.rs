//! An outcome as a snapshot records it, read back from its text ([`crate::render::outcome`]
//! wrote it): whether a table exists, its columns and rows, the dead letters, whether the sink
//! stopped. What two sinks did on a case is compared on this form, so `harness compare` on live
//! runs and the tests on committed snapshots of sinks that CI cannot run judge alike.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recorded {
    pub case: String,
    /// Why the case does not apply to the sink (nothing ran).
    pub not_applicable: Option<String>,
    pub produced: usize,
    pub committed: Option<i64>,
    /// `None` when the table does not exist.
    pub table: Option<RecordedTable>,
    /// How many records the dead letter queue holds, when the case configures one.
    pub dead_letters: Option<usize>,
    /// The error text, when the sink stopped.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordedTable {
    /// Name and QuestDB type, in QuestDB's order.
    pub columns: Vec<(String, String)>,
    /// The `table:` line: WAL, designated timestamp, partitioning, dedup.
    pub shape: String,
    /// One rendered row per line (`a=1 | b=x`).
    pub rows: Vec<String>,
}

impl Recorded {
    /// Reads the body of a snapshot (or a freshly rendered outcome).
    pub fn parse(text: &str) -> Recorded {
        let mut r = Recorded::default();
        let mut section = "";
        let mut table = RecordedTable::default();
        let mut table_exists = false;
        let mut error = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("case: ") {
                r.case = rest.to_owned();
            } else if let Some(rest) = line.strip_prefix("not applicable to this sink: ") {
                r.not_applicable = Some(rest.to_owned());
            } else if let Some(rest) = line.strip_prefix("records produced: ") {
                let (produced, committed) = rest
                    .split_once(", committed offset: ")
                    .unwrap_or((rest, "none"));
                r.produced = produced.trim().parse().unwrap_or(0);
                r.committed = committed.trim().parse().ok();
            } else if line == "ddl:" || line == "coercions:" || line == "notes:" {
                section = "skip";
            } else if line == "columns:" {
                section = "columns";
                table_exists = true;
            } else if let Some(shape) = line.strip_prefix("table: ") {
                if shape != "(does not exist)" {
                    table.shape = shape.to_owned();
                }
                section = "skip";
            } else if line.starts_with("rows: ") {
                section = "rows";
            } else if let Some(rest) = line.strip_prefix("dead letter queue ") {
                let count = rest
                    .rsplit_once(": ")
                    .and_then(|(_, n)| n.trim_end_matches(" records").parse().ok());
                r.dead_letters = count;
                section = "skip";
            } else if line == "error: none" {
                section = "skip";
            } else if line == "error:" {
                section = "error";
            } else if let Some(item) = line.strip_prefix("  ") {
                match section {
                    "columns" => {
                        let item = item.trim_end_matches("  designated timestamp").trim_end();
                        let (name, ty) = item.rsplit_once(' ').unwrap_or((item, ""));
                        table
                            .columns
                            .push((name.trim_end().to_owned(), ty.to_owned()));
                    }
                    "rows" => table.rows.push(item.to_owned()),
                    "error" => error.push(item),
                    _ => {}
                }
            } else if section == "error" && line.is_empty() {
                error.push("");
            }
        }
        if table_exists {
            r.table = Some(table);
        }
        if !error.is_empty() {
            r.error = Some(error.join("\n").trim_end().to_owned());
        }
        r
    }

    /// Why the sink stopped, in one line: a Connect task's trace says most in its last cause.
    pub fn stopped(&self) -> Option<&str> {
        self.error.as_deref().map(|e| {
            e.lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("Caused by: "))
                .unwrap_or_else(|| e.lines().next().unwrap_or(""))
        })
    }

    pub fn rows(&self) -> usize {
        self.table.as_ref().map_or(0, |t| t.rows.len())
    }

    /// The column types in one cell: `id INT, msg STRING`; `no table` when none exists.
    pub fn column_types(&self) -> String {
        match &self.table {
            None => "no table".to_owned(),
            Some(t) => t
                .columns
                .iter()
                .map(|(n, ty)| format!("{n} {ty}"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// What differs between two recorded outcomes of one case, in words; empty when they agree on
/// the table (exists, shape, column types), the rows, the dead letters and whether the sink
/// stopped. Error texts themselves are not compared: two sinks never word them alike.
pub fn differences(a: &Recorded, b: &Recorded, names: (&str, &str)) -> Vec<String> {
    let (an, bn) = names;
    let mut out = Vec::new();
    match (&a.not_applicable, &b.not_applicable) {
        (Some(why), _) => return vec![format!("not applicable to {an}: {why}")],
        (_, Some(why)) => return vec![format!("not applicable to {bn}: {why}")],
        _ => {}
    }
    match (&a.table, &b.table) {
        (None, None) => {}
        (Some(_), None) => out.push(format!("table: {an} created it, {bn} did not")),
        (None, Some(_)) => out.push(format!("table: {bn} created it, {an} did not")),
        (Some(ta), Some(tb)) => {
            if ta.shape != tb.shape {
                out.push(format!("table shape: {an} {}, {bn} {}", ta.shape, tb.shape));
            }
            let find = |t: &RecordedTable, name: &str| {
                t.columns
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, ty)| ty.clone())
            };
            for (name, ty) in &ta.columns {
                match find(tb, name) {
                    None => out.push(format!("column {name}: only {an} has it")),
                    Some(other) if &other != ty => {
                        out.push(format!("column {name}: {an} {ty}, {bn} {other}"))
                    }
                    Some(_) => {}
                }
            }
            for (name, _) in &tb.columns {
                if find(ta, name).is_none() {
                    out.push(format!("column {name}: only {bn} has it"));
                }
            }
            let (ra, rb) = (&ta.rows, &tb.rows);
            if ra.len() != rb.len() {
                out.push(format!("rows: {an} {}, {bn} {}", ra.len(), rb.len()));
            } else if let Some((x, y)) = ra.iter().zip(rb).find(|(x, y)| x != y) {
                out.push(format!("rows differ: {an} `{x}`, {bn} `{y}`"));
            }
        }
    }
    if a.dead_letters != b.dead_letters {
        let n = |d: Option<usize>| d.map_or("no queue".to_owned(), |n| n.to_string());
        out.push(format!(
            "dead letters: {an} {}, {bn} {}",
            n(a.dead_letters),
            n(b.dead_letters)
        ));
    }
    match (a.stopped(), b.stopped()) {
        (Some(e), None) => out.push(format!("{an} stopped: {e}")),
        (None, Some(e)) => out.push(format!("{bn} stopped: {e}")),
        _ => {}
    }
    out
}

/// One cell of a summary table: rows stored, and `stopped` when the sink gave up.
pub fn cell(r: &Recorded) -> String {
    if r.not_applicable.is_some() {
        return "not applicable".to_owned();
    }
    let mut s = String::new();
    match &r.table {
        None => s.push_str("no table"),
        Some(t) => {
            let _ = write!(s, "{} rows", t.rows.len());
        }
    }
    if r.error.is_some() {
        s.push_str(", stopped");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str = "case: t/x.case\ntopic: x -> table: x\nrecords produced: 3, committed offset: 3\n\n\
        ddl:\n  CREATE TABLE \"x\" (\n  \"id\" INT NOT NULL)\n\n\
        columns:\n  id         INT\n  with space  STRING\n  at         TIMESTAMP  designated timestamp\n\n\
        table: wal=false designated timestamp=none partition by=NONE dedup=false\n  CREATE TABLE 'x' (\n    id INT\n  )\n\n\
        rows: 2\n  id=1 | with space=a | at=NULL\n  id=2 | with space=NULL | at=NULL\n\n\
        notes:\n  row 0, at: QuestDB shows 1294-01-01 23:59:59.999000 for stored -21332419200001000 µs\n\n\
        dead letter queue x-dlq: 1 records\n  offset 0: value=bad\n    __connect.errors.offset=2\n\n\
        coercions:\n  wrapped\n\nerror: none\n";

    const STOPPED: &str = "case: t/x.case\ntopic: x -> table: x\nrecords produced: 3, committed offset: none\n\n\
        table: (does not exist)\n\nerror:\n  org.apache.kafka.connect.errors.ConnectException: Exiting\n  Caused by: x.Y: the cause\n    Position: 3\n";

    #[test]
    fn reads_what_render_wrote() {
        let r = Recorded::parse(STORED);
        assert_eq!(r.case, "t/x.case");
        assert_eq!((r.produced, r.committed), (3, Some(3)));
        let t = r.table.as_ref().unwrap();
        assert_eq!(
            t.columns,
            [
                ("id".to_owned(), "INT".to_owned()),
                ("with space".to_owned(), "STRING".to_owned()),
                ("at".to_owned(), "TIMESTAMP".to_owned())
            ]
        );
        assert_eq!(
            t.shape,
            "wal=false designated timestamp=none partition by=NONE dedup=false"
        );
        assert_eq!(t.rows.len(), 2);
        assert_eq!(r.dead_letters, Some(1));
        assert_eq!(r.error, None);
        assert_eq!(cell(&r), "2 rows");

        let s = Recorded::parse(STOPPED);
        assert_eq!(s.committed, None);
        assert_eq!(s.table, None);
        assert_eq!(s.stopped(), Some("x.Y: the cause"));
        assert_eq!(cell(&s), "no table, stopped");
    }

    #[test]
    fn differences_name_table_columns_rows_and_stops() {
        let (a, b) = (Recorded::parse(STORED), Recorded::parse(STOPPED));
        assert_eq!(
            differences(&a, &b, ("ours", "ref")),
            [
                "table: ours created it, ref did not",
                "dead letters: ours 1, ref no queue",
                "ref stopped: x.Y: the cause"
            ]
        );
        assert!(differences(&a, &a, ("ours", "ref")).is_empty());
        let other = Recorded::parse(&STORED.replace("  id         INT", "  id         LONG"));
        assert_eq!(
            differences(&a, &other, ("ours", "ref")),
            ["column id: ours INT, ref LONG"]
        );
        let fewer = Recorded::parse(&STORED.replace("  id=2 | with space=NULL | at=NULL\n", ""));
        assert_eq!(
            differences(&a, &fewer, ("ours", "ref")),
            ["rows: ours 2, ref 1"]
        );
    }
}
