//! `docs/reference-outcomes.md`: per case, what each sink under test did (rows stored, column
//! types, stopped or not, with a link to the snapshot), and every classified difference between
//! this sink and the reference of the case's family ([`crate::reference`]). Generated from the accepted snapshots
//! only; `harness/tests/reference.rs` regenerates it and fails when the committed file differs.

use crate::fixture::Family;
use crate::recorded::Recorded;
use crate::reference::{self, Kind, Reference, Tally, Verdict, ALSO_JUDGED, REFERENCES};
use crate::snapshot;
use std::fmt::Write;

/// The committed file, relative to the workspace root.
pub const PATH: &str = "docs/reference-outcomes.md";

/// The environment variable that makes the test rewrite the file instead of failing.
pub const REWRITE_VAR: &str = "KQ_WRITE_DOCS";

/// The sinks of the table: heading, snapshot set (`None`: this sink's own snapshots) and the
/// family of cases it runs (`None`: every family).
pub const SINKS: &[(&str, Option<&str>, Option<Family>)] = &[
    ("this sink", None, None),
    (
        "Confluent 10.7.6 (reference)",
        Some(reference::REFERENCE_SET),
        Some(Family::Jdbc),
    ),
    (
        "Confluent 10.0.1 (seed's stack)",
        Some(reference::SEED_STACK_SET),
        Some(Family::Jdbc),
    ),
    (
        "Confluent 10.9.7",
        Some("confluent-jdbc-10.9.7"),
        Some(Family::Jdbc),
    ),
    ("Debezium", Some("debezium"), Some(Family::Jdbc)),
    (
        "QuestDB connector 0.23 (reference)",
        Some("questdb-connector-0.23"),
        Some(Family::QuestDbConnector),
    ),
];

/// What a cell says for a case of another family than its sink runs.
const OTHER_FAMILY: &str = "—";

/// More columns than this are summarised by type.
const MANY_COLUMNS: usize = 8;

/// The whole document for `cases`, each loaded through `load(set, case)`.
pub fn markdown(cases: &[String], load: impl Fn(Option<&str>, &str) -> Option<Recorded>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# What each sink does on each case\n\n\
         Generated from the accepted snapshots by `harness/tests/reference.rs` (`cargo test`), \
         which fails when this file is not what the snapshots say. After reviewing changed \
         snapshots, rewrite it with\n`{REWRITE_VAR}=1 cargo test -p harness --test reference`.\n\n\
         Every case runs with the seed's `connect-jdbc.properties` plus the case's own keys, on \
         QuestDB 9.3.4 (Confluent's snapshots were recorded with a Kafka Connect 3.9.1 worker, \
         10.0.1's with a Connect 2.6.0 worker on Kafka 2.6.0, the seed's stack; compiled from \
         the upstream tags, unchanged). **This sink** is the default mode (PG wire, the JDBC \
         sink's tables); the `native/` cases opt into its QuestDB-native tables. **Confluent** is \
         the seed's own connector, `io.confluent.connect.jdbc.JdbcSinkConnector`, in a Kafka \
         Connect worker (10.7.6 is the reference; 10.9.7, the newest, qualifies every table as \
         `\"qdb\".\"public\".\"t\"`, which QuestDB refuses). **Debezium** is \
         `io.debezium:debezium-connector-jdbc` ([debezium.md](debezium.md)).\n\n\
         The `questdb-connector/` cases are written for QuestDB's own connector instead \
         (`io.questdb.kafka.QuestDBSinkConnector`, its `fixtures/questdb-connector/connector.properties` \
         plus the case's keys): their reference is that connector 0.23, built from its upstream tag \
         and run in the same worker ([questdb-connector.md](questdb-connector.md)); the JDBC sinks \
         do not read its properties, and it does not read theirs (`{OTHER_FAMILY}`).\n\n\
         A cell is the rows the table holds afterwards (a link to the snapshot), `no table` when \
         none exists, `stopped` when the sink gave up, then the column types (`= this sink` \
         when they are the same). The last column classifies how this sink differs from the \
         reference of the case's family (see below)."
    );
    let mut header = String::from("| case |");
    let mut rule = String::from("|---|");
    for (label, _, _) in SINKS {
        let _ = write!(header, " {label} |");
        rule.push_str("---|");
    }
    let _ = writeln!(s, "\n{header} vs reference |\n{rule}---|");
    let mut tallies: Vec<Tally> = REFERENCES.iter().map(|_| Tally::default()).collect();
    let mut details: Vec<(String, Vec<String>)> = Vec::new();
    for case in cases {
        let family = Family::of(case);
        let ours = load(None, case);
        let _ = write!(s, "| {} |", case.trim_end_matches(".case"));
        for (_, set, runs) in SINKS {
            let text = match runs {
                Some(f) if *f != family => OTHER_FAMILY.to_owned(),
                _ => cell(case, *set, load(*set, case).as_ref(), ours.as_ref()),
            };
            let _ = write!(s, " {text} |");
        }
        let reference = Reference::of(family);
        if reference.unrecorded.iter().any(|(u, _)| u == case) {
            let _ = writeln!(s, " not recorded yet |");
            continue;
        }
        let verdict = match (ours.as_ref(), load(Some(reference.set), case)) {
            (Some(o), Some(r)) => {
                let (diffs, verdict) = reference.judge(case, o, &r);
                if !diffs.is_empty() {
                    details.push((case.clone(), diffs));
                }
                verdict
            }
            _ => Verdict::Unclassified,
        };
        let at = REFERENCES
            .iter()
            .position(|r| r.family == family)
            .unwrap_or(0);
        tallies[at].add(&verdict);
        let label = match &verdict {
            Verdict::Same => "same".to_owned(),
            Verdict::Classified(c) => format!("{}: [{}](#{})", c.kind.label(), c.name, c.name),
            other => other.label(),
        };
        let _ = writeln!(s, " {label} |");
    }
    s.push('\n');
    for (r, tally) in REFERENCES.iter().zip(&tallies) {
        let n = cases.iter().filter(|c| Family::of(c) == r.family).count();
        let _ = writeln!(s, "{n} cases against {} {}: {tally}.", r.name, r.version);
    }
    let also: Vec<_> = ALSO_JUDGED
        .iter()
        .map(|r| judged(r, cases, &load))
        .collect();
    for (r, (tally, _)) in ALSO_JUDGED.iter().zip(&also) {
        let n = cases.iter().filter(|c| Family::of(c) == r.family).count();
        let _ = writeln!(s, "{n} cases against {} {}: {tally}.", r.name, r.version);
    }
    let _ = writeln!(
        s,
        "\n## How this sink differs from the reference, by name\n\nA **deviation** is this \
         sink's choice where the reference does what it was designed to do. A **reference \
         defect** is where what the reference sends fails or changes data on QuestDB (PostgreSQL \
         would take it); the statements after it show it on QuestDB 9.3.4 alone, over PG wire \
         (`$1` is a bound parameter). The lists are `harness/src/reference/confluent.rs` (Confluent) and \
         `harness/src/reference/questdb.rs` (QuestDB's connector); a difference that is not in \
         them fails `cargo test`."
    );
    for r in REFERENCES {
        let _ = writeln!(s, "\n## Against {} {}", r.name, r.version);
        sections(&mut s, r, &details);
    }
    for (r, (_, details)) in ALSO_JUDGED.iter().zip(&also) {
        let _ = writeln!(s, "\n## Against {} {}\n\n{}", r.name, r.version, r.about);
        sections(&mut s, r, details);
    }
    s
}

/// A reference that is not its family's, judged on its family's recorded cases: its tally and
/// each case's differences.
fn judged(
    r: &Reference,
    cases: &[String],
    load: &impl Fn(Option<&str>, &str) -> Option<Recorded>,
) -> (Tally, Vec<(String, Vec<String>)>) {
    let mut tally = Tally::default();
    let mut details = Vec::new();
    for case in cases.iter().filter(|c| Family::of(c) == r.family) {
        if r.unrecorded.iter().any(|(u, _)| u == case) {
            continue;
        }
        let verdict = match (load(None, case), load(Some(r.set), case)) {
            (Some(o), Some(t)) => {
                let (diffs, verdict) = r.judge(case, &o, &t);
                if !diffs.is_empty() {
                    details.push((case.clone(), diffs));
                }
                verdict
            }
            _ => Verdict::Unclassified,
        };
        tally.add(&verdict);
    }
    (tally, details)
}

/// The classes of one reference, deviations first, each with its cases' differences.
fn sections(s: &mut String, r: &Reference, details: &[(String, Vec<String>)]) {
    for kind in [Kind::Deviation, Kind::ReferenceDefect] {
        for class in r.classes.iter().filter(|c| c.kind == kind) {
            let _ = writeln!(
                s,
                "\n### {}\n\n{} ({} cases). {}",
                class.name,
                capitalised(kind.label()),
                class.cases.len(),
                class.why
            );
            if !class.reproduction.is_empty() {
                let _ = writeln!(s, "\n```sql\n{}\n```", class.reproduction.join("\n"));
            }
            s.push('\n');
            for case in class.cases {
                let diffs = details
                    .iter()
                    .find(|(c, _)| c == case)
                    .map(|(_, d)| d.join("; "))
                    .unwrap_or_else(|| "(no difference)".to_owned());
                let _ = writeln!(
                    s,
                    "- `{}`: {}",
                    case.trim_end_matches(".case"),
                    escape(&diffs)
                );
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// One sink's cell: rows (linked), stopped, column types.
fn cell(case: &str, set: Option<&str>, r: Option<&Recorded>, ours: Option<&Recorded>) -> String {
    let Some(r) = r else {
        return "(no snapshot)".to_owned();
    };
    if r.not_applicable.is_some() {
        return "not applicable".to_owned();
    }
    let dir = match set {
        None => String::new(),
        Some(set) => format!("{set}/"),
    };
    let link = format!("../tests/snapshots/{dir}{}.snap", snapshot::name(case));
    let rows = match &r.table {
        None => "no table".to_owned(),
        Some(t) if t.rows.len() == 1 => "1 row".to_owned(),
        Some(t) => format!("{} rows", t.rows.len()),
    };
    let mut s = format!("[{rows}]({link})");
    if r.error.is_some() {
        s.push_str(", stopped");
    }
    if let Some(t) = &r.table {
        let same = set.is_some()
            && ours.and_then(|o| o.table.as_ref()).map(|o| &o.columns) == Some(&t.columns);
        let types = if same {
            "= this sink".to_owned()
        } else if t.columns.len() > MANY_COLUMNS {
            by_type(&t.columns)
        } else {
            r.column_types()
        };
        let _ = write!(s, "<br>{}", escape(&types));
    }
    s
}

/// `120 columns: 24 INT, 24 STRING, ...` in first-seen order.
fn by_type(columns: &[(String, String)]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, ty) in columns {
        match counts.iter_mut().find(|(t, _)| t == ty) {
            Some((_, n)) => *n += 1,
            None => counts.push((ty, 1)),
        }
    }
    let list: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
    format!("{} columns: {}", columns.len(), list.join(", "))
}

/// Text safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(text: &str) -> Recorded {
        Recorded::parse(text)
    }

    #[test]
    fn cells_say_rows_stops_and_types() {
        let ours = recorded("case: a/b.case\ncolumns:\n  id  INT\n\ntable: wal=false\n\nrows: 1\n  id=1\n\nerror: none\n");
        let theirs = recorded("case: a/b.case\ncolumns:\n  id  INT\n\ntable: wal=false\n\nrows: 0\n\nerror:\n  boom\n");
        assert_eq!(
            cell("a/b.case", None, Some(&ours), Some(&ours)),
            "[1 row](../tests/snapshots/a__b.snap)<br>id INT"
        );
        assert_eq!(
            cell("a/b.case", Some("x"), Some(&theirs), Some(&ours)),
            "[0 rows](../tests/snapshots/x/a__b.snap), stopped<br>= this sink"
        );
        let columns: Vec<(String, String)> = (0..10)
            .map(|i| {
                (
                    format!("c{i}"),
                    if i % 2 == 0 { "INT" } else { "STRING" }.to_owned(),
                )
            })
            .collect();
        assert_eq!(by_type(&columns), "10 columns: 5 INT, 5 STRING");
        assert_eq!(escape("a|b\nc"), "a\\|b c");
    }
}
