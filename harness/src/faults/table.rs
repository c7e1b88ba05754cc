//! The fault table of `docs/reference-outcomes.md` (issue 29.3): per fault case (each variant)
//! and sink, rows missing, rows duplicated, how soon the sink resumed after each fault and
//! whether it gave up, read from the accepted fault snapshots only (this sink's
//! `tests/snapshots/faults__*.snap`, a connector's `tests/snapshots/<set>/faults__*.snap`).
//! `harness/tests/reference.rs` appends it to the outcomes table and fails when the committed
//! file differs. Pure: the snapshots' bodies are passed in.

use std::fmt::Write;

/// The sinks of the table: heading and snapshot set (`None`: this sink's own snapshots).
pub const SINKS: &[(&str, Option<&str>)] = &[
    ("this sink", None),
    ("Debezium JDBC sink 3.4.3", Some("debezium")),
    (
        "Confluent JDBC sink 10.0.1 (seed's stack)",
        Some("confluent-jdbc-10.0.1"),
    ),
    (
        "Confluent JDBC sink 10.7.6 (reference)",
        Some("confluent-jdbc-10.7.6"),
    ),
    (
        "QuestDB connector 0.23 (reference)",
        Some("questdb-connector-0.23"),
    ),
];

/// A connector's fault outcome that leaves records unstored, named: (set, snapshot, class,
/// why). A connector cell with rows missing and no class here fails `cargo test`
/// ([`unnamed`]).
pub const FINDINGS: &[(&str, &str, &str, &str)] = &[
    (
        "debezium",
        "faults__table-dropped+pg-none",
        DROPPED_TABLE,
        DROPPED_TABLE_WHY,
    ),
    (
        "debezium",
        "faults__table-dropped+pg-all",
        DROPPED_TABLE,
        DROPPED_TABLE_WHY,
    ),
];

const DROPPED_TABLE: &str = "dropped-table-not-created-again";
const DROPPED_TABLE_WHY: &str = "Reference defect (Debezium JDBC sink). After an operator drops \
    the table, Debezium cannot create it again: its DDL declares the `float` field `float4`, \
    which QuestDB refuses, and the task fails with `Could not find table` on every restart. The \
    records after the drop are not stored; none of them is committed, so they wait in Kafka \
    until someone creates the table. This sink and Confluent's create it again and lose nothing.";

/// The connector cells with rows missing and no named finding: `set/snapshot`.
pub fn unnamed(
    names: &[String],
    load: impl Fn(Option<&str>, &str) -> Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (_, set) in SINKS.iter().filter(|(_, set)| set.is_some()) {
        for name in names {
            let Some(body) = load(*set, name) else {
                continue;
            };
            let cell = Cell::parse(&body);
            let named = FINDINGS
                .iter()
                .any(|(s, n, ..)| Some(*s) == *set && n == name);
            if cell.not_applicable.is_none() && cell.missing != "0" && !named {
                out.push(format!("{}/{name}", set.unwrap_or_default()));
            }
        }
    }
    out
}

/// What one fault snapshot says, in the table's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Why the case does not apply to the sink, if it does not.
    pub not_applicable: Option<String>,
    pub missing: String,
    /// Exact on a DEDUP table; `any` on a plain one (replays are allowed there and their
    /// number changes from run to run, so the snapshot does not hold it).
    pub duplicated: String,
    /// Each fault's resume bucket, in order.
    pub resumed: Vec<String>,
    /// Give-ups, and how many of them were started again.
    pub gave_up: usize,
    pub restarted: usize,
    pub all_committed: bool,
}

impl Cell {
    /// Reads a rendered fault outcome ([`super::render::outcome`]) or a not-applicable one.
    pub fn parse(body: &str) -> Cell {
        let mut cell = Cell {
            not_applicable: None,
            missing: "?".into(),
            duplicated: "?".into(),
            resumed: Vec::new(),
            gave_up: 0,
            restarted: 0,
            all_committed: false,
        };
        for line in body.lines() {
            let value = |prefix: &str| {
                line.strip_prefix(prefix)
                    .and_then(|rest| rest.split_once(": "))
                    .map(|(_, v)| v.trim().to_owned())
            };
            let trimmed = line.trim_start();
            if let Some(why) = line.strip_prefix("not applicable: ") {
                cell.not_applicable = Some(why.to_owned());
            } else if let Some(v) = value("missing (by ") {
                cell.missing = v;
            } else if let Some(v) = value("duplicated (by ") {
                cell.duplicated = match v.starts_with(">= 0") {
                    true => "any".into(),
                    false => v,
                };
            } else if let Some(v) = trimmed.strip_prefix("sink resumed: ") {
                let bucket = v.split(" (").next().unwrap_or(v);
                cell.resumed.push(bucket.to_owned());
            } else if line.starts_with("sink task ") && line.contains(" gave up") {
                cell.gave_up += 1;
            } else if trimmed == "started again once the fault was over: yes" {
                cell.restarted += 1;
            } else if line == "every record committed: yes" {
                cell.all_committed = true;
            }
        }
        cell
    }

    /// The cell's text, linked to its snapshot.
    fn text(&self, link: &str) -> String {
        if let Some(why) = &self.not_applicable {
            return format!("[not applicable]({link}): {}", escape(why));
        }
        let mut s = format!(
            "[{} missing, {} duplicated]({link})<br>resumed: {}",
            self.missing,
            self.duplicated,
            self.resumed.join(", ")
        );
        if self.gave_up > 0 {
            let _ = write!(
                s,
                "<br>gave up {}x, restarted {}x",
                self.gave_up, self.restarted
            );
        }
        if !self.all_committed {
            s.push_str("<br>**not every record committed**");
        }
        s
    }
}

/// The section for the fault snapshots `names` (`faults__kafka-kill`, ...), each loaded
/// through `load(set, name)`; sinks with no fault snapshot at all are named, not given a column.
pub fn markdown(names: &[String], load: impl Fn(Option<&str>, &str) -> Option<String>) -> String {
    let sinks: Vec<&(&str, Option<&str>)> = SINKS
        .iter()
        .filter(|(_, set)| names.iter().any(|n| load(*set, n).is_some()))
        .collect();
    let absent: Vec<&str> = SINKS
        .iter()
        .filter(|s| !sinks.contains(s))
        .map(|(label, _)| *label)
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n## Under faults\n\n\
         The fault cases (`fixtures/faults/`, [faults.md](faults.md)) through this sink and \
         through connectors in Kafka Connect workers (a worker per task, `kill sink` a `kill -9` \
         of its JVM), from the accepted fault snapshots. A cell is the rows missing and \
         duplicated by the case's key (`any` on a table without DEDUP keys, where replays are \
         allowed and their number changes from run to run), how soon the sink stored again \
         after each fault (a bucket: the snapshots hold no timings), and how often it gave up \
         (a Connect task FAILED, this sink exited) and was started again as an operator would. \
         `—`: not recorded for that sink (the ILP and QuestDB-connector variants are write paths \
         of this sink only)."
    );
    if !absent.is_empty() {
        let _ = writeln!(s, "\nNo fault snapshots yet: {}.", absent.join(", "));
    }
    let mut header = String::from("| fault case |");
    let mut rule = String::from("|---|");
    for (label, _) in &sinks {
        let _ = write!(header, " {label} |");
        rule.push_str("---|");
    }
    let _ = writeln!(s, "\n{header}\n{rule}");
    for name in names {
        let case = name.strip_prefix("faults__").unwrap_or(name);
        let _ = write!(s, "| {case} |");
        for (_, set) in &sinks {
            let dir = set.map_or(String::new(), |set| format!("{set}/"));
            let link = format!("../tests/snapshots/{dir}{name}.snap");
            let mut text = match load(*set, name) {
                Some(body) => Cell::parse(&body).text(&link),
                None => "—".into(),
            };
            if let Some((.., class, _)) = FINDINGS
                .iter()
                .find(|(s, n, ..)| Some(*s) == *set && n == name)
            {
                let _ = write!(text, "<br>reference defect: [{class}](#{class})");
            }
            let _ = write!(s, " {text} |");
        }
        s.push('\n');
    }
    let mut classes: Vec<(&str, &str)> = FINDINGS.iter().map(|(.., c, why)| (*c, *why)).collect();
    classes.dedup();
    for (class, why) in classes {
        let cases: Vec<String> = FINDINGS
            .iter()
            .filter(|(.., c, _)| *c == class)
            .map(|(set, name, ..)| format!("`{set}/{name}`"))
            .collect();
        let _ = writeln!(s, "\n### {class}\n\n{why} ({})", cases.join(", "));
    }
    s
}

/// Text safe inside a Markdown table cell.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "case: faults/a.case\nfault (line 4): after 2000 rows stored, kafka: kill\n  struck mid-stream: yes\n  sink resumed: within 30 s\n\nrecords produced: 20000\nrows stored: >= 20000\nmissing (by id64): 0\nduplicated (by id64): >= 0 (no DEDUP keys: ...)\nevery record committed: yes\n\nsink gave up: no\n";
    const THEIRS: &str = "case: faults/a.case\n  sink resumed: no (stored nothing more after the fault)\nmissing (by id64): 18000\nduplicated (by id64): 0\nevery record committed: no\n\nsink task 0 gave up during `x`:\n  boom\n  started again once the fault was over: yes\n";

    #[test]
    fn cells_say_missing_duplicated_resume_and_give_ups() {
        let ours = Cell::parse(OURS);
        assert_eq!(ours.missing, "0");
        assert_eq!(ours.duplicated, "any");
        assert_eq!(ours.resumed, vec!["within 30 s"]);
        assert_eq!((ours.gave_up, ours.all_committed), (0, true));
        assert_eq!(
            ours.text("l"),
            "[0 missing, any duplicated](l)<br>resumed: within 30 s"
        );
        let theirs = Cell::parse(THEIRS);
        assert_eq!(
            theirs.text("l"),
            "[18000 missing, 0 duplicated](l)<br>resumed: no<br>gave up 1x, restarted 1x<br>**not every record committed**"
        );
        let na = Cell::parse("case: x\nsink: y\nnot applicable: `a|b`: why\n");
        assert_eq!(na.text("l"), "[not applicable](l): `a\\|b`: why");
    }

    #[test]
    fn sinks_without_fault_snapshots_get_no_column() {
        let names = vec!["faults__a".to_owned(), "faults__b".to_owned()];
        let md = markdown(&names, |set, name| match (set, name) {
            (None, _) => Some(OURS.to_owned()),
            (Some("debezium"), "faults__a") => Some(THEIRS.to_owned()),
            _ => None,
        });
        assert!(
            md.contains("| fault case | this sink | Debezium JDBC sink 3.4.3 |\n"),
            "{md}"
        );
        assert!(
            md.contains("No fault snapshots yet: Confluent JDBC sink 10.0.1"),
            "{md}"
        );
        assert!(md.contains("| b | [0 missing, any duplicated](../tests/snapshots/faults__b.snap)<br>resumed: within 30 s | — |"), "{md}");
    }
}
