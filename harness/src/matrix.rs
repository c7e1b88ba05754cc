//! The version matrix: every case on every combination of service versions, each result
//! compared with the default snapshot. `harness matrix` runs it and writes the report.

use crate::snapshot;
use crate::versions::Versions;
use std::fmt::Write;

/// What one case did on one combination of versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Rendered exactly as the default snapshot.
    Same,
    /// Differs from the default snapshot as the case's reviewed variant `name` says;
    /// `difference` is the first line that differs from the default.
    Variant { name: String, difference: String },
    /// Differs from the default snapshot (and from any variant): to review.
    Differs { difference: String },
    /// The case could not run.
    Error(String),
    /// The case does not apply to this combination, and why (a ZooKeeper fault on KRaft).
    NotApplicable(String),
}

impl Cell {
    pub fn label(&self) -> &'static str {
        match self {
            Cell::Same => "same",
            Cell::Variant { .. } => "variant",
            Cell::Differs { .. } => "DIFFERS",
            Cell::Error(_) => "ERROR",
            Cell::NotApplicable(_) => "n/a",
        }
    }

    /// Whether the cell needs a reviewer: an unreviewed difference or an error.
    pub fn is_problem(&self) -> bool {
        matches!(self, Cell::Differs { .. } | Cell::Error(_))
    }

    fn detail(&self) -> Option<String> {
        match self {
            Cell::Same => None,
            Cell::Variant { name, difference } => Some(format!("{name}.snap: {difference}")),
            Cell::Differs { difference } => Some(difference.clone()),
            Cell::Error(e) => Some(e.lines().next().unwrap_or_default().to_owned()),
            Cell::NotApplicable(why) => Some(why.clone()),
        }
    }
}

/// Judges one case's rendered outcome (or its error) on `versions`.
pub fn classify(
    case: &str,
    rendered: Result<&str, &str>,
    versions: &Versions,
    default: &Versions,
) -> Cell {
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return Cell::Error(e.to_owned()),
    };
    let default_body = snapshot::accepted(case);
    if default_body
        .as_deref()
        .is_some_and(|b| snapshot::equivalent(b, rendered))
    {
        return Cell::Same;
    }
    let versus_default = match &default_body {
        Some(b) => snapshot::first_difference("default", b, rendered),
        None => "no default snapshot".to_owned(),
    };
    let (name, body) = snapshot::judge_with(case, versions, default);
    match body {
        Some(b) if name != snapshot::name(case) && snapshot::equivalent(&b, rendered) => {
            Cell::Variant {
                name,
                difference: versus_default,
            }
        }
        _ => Cell::Differs {
            difference: versus_default,
        },
    }
}

/// The combinations a matrix run crosses: the pom's whole matrix, or, when versions are asked
/// for, the default combination first and then each asked QuestDB x Kafka pair (a side not
/// asked for stays at its default).
pub fn combinations(
    default: &Versions,
    matrix: Vec<Versions>,
    questdb: &[String],
    kafka: &[String],
) -> Vec<Versions> {
    if questdb.is_empty() && kafka.is_empty() {
        return matrix;
    }
    let pick = |asked: &[String], default: &str| {
        if asked.is_empty() {
            vec![default.to_owned()]
        } else {
            asked.to_vec()
        }
    };
    let mut combos = vec![default.clone()];
    for k in pick(kafka, &default.kafka) {
        for q in pick(questdb, &default.questdb) {
            let v = Versions {
                questdb: q,
                kafka: k.clone(),
            };
            if !combos.contains(&v) {
                combos.push(v);
            }
        }
    }
    combos
}

/// One row per case, one column per combination.
pub struct Matrix {
    pub combos: Vec<Versions>,
    /// (case, one cell per combination)
    pub rows: Vec<(String, Vec<Cell>)>,
}

impl Matrix {
    pub fn problems(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|(_, cells)| cells)
            .filter(|c| c.is_problem())
            .count()
    }

    /// The terminal table: labels only, then the details of every cell that is not `same`.
    pub fn terminal(&self) -> String {
        let width = self.rows.iter().map(|(c, _)| c.len()).max().unwrap_or(4);
        let mut s = String::new();
        for (i, v) in self.combos.iter().enumerate() {
            let _ = writeln!(s, "[{}] {v}", i + 1);
        }
        let _ = write!(s, "\n{:width$}", "case");
        for i in 0..self.combos.len() {
            let _ = write!(s, "  {:>8}", format!("[{}]", i + 1));
        }
        s.push('\n');
        for (case, cells) in &self.rows {
            let _ = write!(s, "{case:width$}");
            for cell in cells {
                let _ = write!(s, "  {:>8}", cell.label());
            }
            s.push('\n');
        }
        let details = self.details();
        if !details.is_empty() {
            s.push_str("\nwhat differs from the default snapshot:\n");
            for (case, combo, detail) in details {
                let _ = writeln!(s, "  {case} [{}]: {detail}", combo + 1);
            }
        }
        s
    }

    fn details(&self) -> Vec<(&str, usize, String)> {
        let mut out = Vec::new();
        for (case, cells) in &self.rows {
            for (i, cell) in cells.iter().enumerate() {
                if let Some(d) = cell.detail() {
                    out.push((case.as_str(), i, format!("{}: {d}", cell.label())));
                }
            }
        }
        out
    }

    pub fn markdown(&self) -> String {
        let mut s = String::from("# Version matrix\n\n");
        s.push_str(
            "Each cell compares the case's outcome on that combination with its default \
             snapshot: `same`, `variant` (differs as the case's reviewed variant snapshot \
             says), `DIFFERS` (not reviewed yet) or `ERROR`.\n\n",
        );
        for (i, v) in self.combos.iter().enumerate() {
            let _ = writeln!(s, "- [{}] {v}", i + 1);
        }
        s.push_str("\n| case |");
        for i in 0..self.combos.len() {
            let _ = write!(s, " [{}] |", i + 1);
        }
        s.push_str("\n|---|");
        for _ in &self.combos {
            s.push_str("---|");
        }
        s.push('\n');
        for (case, cells) in &self.rows {
            let _ = write!(s, "| {case} |");
            for cell in cells {
                let _ = write!(s, " {} |", cell.label());
            }
            s.push('\n');
        }
        let details = self.details();
        if !details.is_empty() {
            s.push_str("\n## What differs\n\n");
            for (case, combo, detail) in details {
                let _ = writeln!(
                    s,
                    "- {case} [{}]: {}",
                    combo + 1,
                    detail.replace('|', "\\|")
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(questdb: &str, kafka: &str) -> Versions {
        Versions {
            questdb: questdb.into(),
            kafka: kafka.into(),
        }
    }

    #[test]
    fn asked_versions_cross_with_the_default_first() {
        let default = v("9.3.4", "3.9.1");
        let all = vec![default.clone(), v("8.2.0", "4.1.1")];
        assert_eq!(combinations(&default, all.clone(), &[], &[]), all);
        assert_eq!(
            combinations(&default, all.clone(), &["8.2.0".into()], &[]),
            vec![default.clone(), v("8.2.0", "3.9.1")]
        );
        assert_eq!(
            combinations(&default, all, &["9.3.4".into()], &["4.4.0".into()]),
            vec![default.clone(), v("9.3.4", "4.4.0")]
        );
    }

    #[test]
    fn errors_and_unreviewed_differences_are_problems() {
        let m = Matrix {
            combos: vec![],
            rows: vec![(
                "a".into(),
                vec![
                    Cell::Same,
                    Cell::Variant {
                        name: "a@questdb-8.2.0".into(),
                        difference: "x".into(),
                    },
                    Cell::Differs {
                        difference: "y".into(),
                    },
                    Cell::Error("boom".into()),
                    Cell::NotApplicable("no ZooKeeper".into()),
                ],
            )],
        };
        assert_eq!(m.problems(), 2);
        assert!(m
            .markdown()
            .contains("| a | same | variant | DIFFERS | ERROR | n/a |"));
    }
}
