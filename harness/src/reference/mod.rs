//! The recorded connectors this sink is measured against, one per fixture family ([`Reference`]):
//! the seed's own connector, Confluent's JDBC sink 10.7.6, for the seed's cases, and QuestDB's
//! connector 0.23 for `fixtures/questdb-connector/` ([`crate::reference::questdb`]). Every case
//! where this sink's outcome differs from the connector's recorded snapshot
//! (`tests/snapshots/confluent-jdbc-10.7.6/`, `questdb-connector-0.23/`) is classified by name:
//! a deliberate deviation with its reason, or a defect of the reference on QuestDB with the
//! smallest statement sequence that shows it on QuestDB alone. `cargo test` fails on a difference that
//! is not classified, and on a classification whose case no longer differs
//! (`harness/tests/reference.rs`); `harness compare in-process connect` prints the same verdicts
//! on live runs. `docs/reference-outcomes.md` lists them, generated from the snapshots.

mod class;
mod confluent;
pub mod questdb;
mod seed_stack;

pub use class::{Class, Kind};
pub use confluent::CLASSES;
pub use seed_stack::{SEED_STACK, SEED_STACK_SET};

use crate::fixture::Family;
use crate::recorded::{self, Recorded};
use crate::snapshot;

/// The seed's reference's version and its snapshot set.
pub const REFERENCE_VERSION: &str = "10.7.6";
pub const REFERENCE_SET: &str = "confluent-jdbc-10.7.6";

/// A recorded connector this sink is compared with, on the cases of one fixture family.
#[derive(Debug)]
pub struct Reference {
    /// How differences name it (`Confluent stopped: ...`).
    pub name: &'static str,
    pub version: &'static str,
    /// Its snapshot set, `tests/snapshots/<set>/`.
    pub set: &'static str,
    pub family: Family,
    /// Every classified difference on its cases.
    pub classes: &'static [Class],
    /// Whether committed offsets count as a difference too. Not for Confluent: its snapshots
    /// were classified without them, and the JDBC sink's rollbacks make them follow its rows.
    pub compares_commits: bool,
    /// Cases added since the reference was recorded, each with why it was not recorded yet.
    /// The comparison leaves them out; a case listed here that has a recording fails it, so
    /// the list cannot go stale.
    pub unrecorded: &'static [(&'static str, &'static str)],
    /// What `docs/reference-outcomes.md` says of it above its classes (a reference that is not
    /// its family's: how it was recorded); empty for a family's reference.
    pub about: &'static str,
}

/// Why the dec31 cases have no Confluent recording: they pin a QuestDB defect (issue 31), added
/// when Confluent's connector was not built on the machine (it is built from its public tag
/// outside the repository, never committed).
const DEC31: &str =
    "added with QuestDB's dec31 rendering defect (docs/questdb-defects/dec31-rendering.md); \
     to be recorded with `harness conformance --sink connect --plugin-path DIR`";

/// Why the dead letter queue's cases of issue 25 have no Confluent recording: added when
/// Confluent's connector was not built on the machine (built from its public tag outside the
/// repository, never committed). What they show is Connect's worker's, not the connector's.
pub(super) const DLQ25: &str =
    "added with the dead letter topic's creation at start (issue 25); to be recorded \
     with `harness conformance --sink connect --plugin-path DIR`";

/// Native tables are this sink's opt-in (the `native-tables-opt-in` deviation): Confluent's
/// connector ignores their keys, so there is nothing of its to record on these.
pub(super) const NATIVE25: &str =
    "a native table's DEDUP keys checked at start (issue 25.8): the reference \
     ignores timestamp.field.name, as in every native/ case (native-tables-opt-in)";

/// Confluent's JDBC sink 10.7.6, the seed's connector.
pub const CONFLUENT: Reference = Reference {
    name: "Confluent",
    version: REFERENCE_VERSION,
    set: REFERENCE_SET,
    family: Family::Jdbc,
    classes: CLASSES,
    compares_commits: false,
    unrecorded: &[
        ("logical/timestamp-dec31-before-1970.case", DEC31),
        ("properties/timestamp-1293-12-31.case", DEC31),
        ("failures/dlq-original-record.case", DLQ25),
        ("failures/dlq-topic-refused.case", DLQ25),
        ("native/pk-kafka-table-without-dedup.case", NATIVE25),
        ("native/pk-kafka-table-dedup-enabled.case", NATIVE25),
    ],
    about: "",
};

/// QuestDB's own connector 0.23.
pub const QUESTDB_CONNECTOR: Reference = Reference {
    name: "QuestDB's connector",
    version: "0.23",
    set: "questdb-connector-0.23",
    family: Family::QuestDbConnector,
    classes: crate::reference::questdb::CLASSES,
    compares_commits: true,
    unrecorded: &[],
    about: "",
};

/// Every reference, one per family.
pub const REFERENCES: &[&Reference] = &[&CONFLUENT, &QUESTDB_CONNECTOR];

/// Recorded connectors that are not their family's reference, whose differences from this sink
/// are classified all the same: Confluent 10.0.1 on Kafka 2.6.0, the seed's exact stack.
pub const ALSO_JUDGED: &[&Reference] = &[&SEED_STACK];

impl Reference {
    /// The reference for a family's cases.
    pub fn of(family: Family) -> &'static Reference {
        REFERENCES
            .iter()
            .find(|r| r.family == family)
            .copied()
            .unwrap_or(&CONFLUENT)
    }

    /// The reference for a case (by its family).
    pub fn for_case(case: &str) -> &'static Reference {
        Reference::of(Family::of(case))
    }

    /// The class of a case, if it has one.
    pub fn class_of(&self, case: &str) -> Option<&'static Class> {
        self.classes.iter().find(|c| c.cases.contains(&case))
    }

    /// The differences between this sink's outcome and this reference's, and their verdict.
    pub fn judge(&self, case: &str, ours: &Recorded, theirs: &Recorded) -> (Vec<String>, Verdict) {
        let mut diffs = recorded::differences(ours, theirs, ("this sink", self.name));
        if self.compares_commits && ours.committed != theirs.committed {
            let n = |c: Option<i64>| c.map_or("none".to_owned(), |c| c.to_string());
            diffs.push(format!(
                "committed offset: this sink {}, {} {}",
                n(ours.committed),
                self.name,
                n(theirs.committed)
            ));
        }
        let verdict = match (diffs.is_empty(), self.class_of(case)) {
            (true, None) => Verdict::Same,
            (true, Some(c)) => Verdict::Stale(c),
            (false, Some(c)) => Verdict::Classified(c),
            (false, None) => Verdict::Unclassified,
        };
        (diffs, verdict)
    }
}

/// The class of a case, if it has one (in its family's reference).
pub fn class_of(case: &str) -> Option<&'static Class> {
    Reference::for_case(case).class_of(case)
}

/// How this sink's outcome of one case stands against the reference's.
#[derive(Debug)]
pub enum Verdict {
    Same,
    Classified(&'static Class),
    /// Differs and no class explains it: a failure.
    Unclassified,
    /// Classified, but the outcomes agree now: the classification is stale (a failure).
    Stale(&'static Class),
}

impl Verdict {
    pub fn label(&self) -> String {
        match self {
            Verdict::Same => "same".to_owned(),
            Verdict::Classified(c) => format!("{}: {}", c.kind.label(), c.name),
            Verdict::Unclassified => "UNCLASSIFIED".to_owned(),
            Verdict::Stale(c) => format!("STALE classification {}", c.name),
        }
    }

    pub fn is_failure(&self) -> bool {
        matches!(self, Verdict::Unclassified | Verdict::Stale(_))
    }
}

/// The differences between this sink's outcome and its family's reference's, and their verdict.
pub fn judge(case: &str, ours: &Recorded, reference: &Recorded) -> (Vec<String>, Verdict) {
    Reference::for_case(case).judge(case, ours, reference)
}

/// A case's committed snapshot in a set (`None`: this sink's own), read back.
pub fn recorded(set: Option<&str>, case: &str) -> Option<Recorded> {
    let body = match set {
        None => snapshot::accepted(case),
        Some(set) => snapshot::accepted_in_set(set, case),
    }?;
    Some(Recorded::parse(&body))
}

/// Counts per verdict: same, per kind, unclassified or stale.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub same: usize,
    pub deviation: usize,
    pub reference_defect: usize,
    pub failures: usize,
}

impl Tally {
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Same => self.same += 1,
            Verdict::Classified(c) if c.kind == Kind::Deviation => self.deviation += 1,
            Verdict::Classified(_) => self.reference_defect += 1,
            Verdict::Unclassified | Verdict::Stale(_) => self.failures += 1,
        }
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} same, {} deviation, {} reference defect, {} unclassified",
            self.same, self.deviation, self.reference_defect, self.failures
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORED: &str =
        "case: x\ncolumns:\n  id  INT\n\ntable: wal=false\n\nrows: 1\n  id=1\n\nerror: none\n";

    #[test]
    fn a_difference_needs_a_class_and_a_class_needs_a_difference() {
        let ours = Recorded::parse(STORED);
        let stopped = Recorded::parse(&STORED.replace("error: none", "error:\n  boom"));
        let unclassified = "types/no-such-case.case";
        let classified = "types/bytes.case";
        assert!(matches!(judge(unclassified, &ours, &ours).1, Verdict::Same));
        let (diffs, verdict) = judge(unclassified, &ours, &stopped);
        assert_eq!(diffs, ["Confluent stopped: boom"]);
        assert!(verdict.is_failure());
        assert!(matches!(
            judge(classified, &ours, &stopped).1,
            Verdict::Classified(c) if c.name == "bytes-refused"
        ));
        let stale = judge(classified, &ours, &ours).1;
        assert!(stale.is_failure(), "{}", stale.label());
    }

    #[test]
    fn committed_offsets_count_for_questdbs_connector_only() {
        let ours = Recorded::parse(STORED);
        let mut uncommitted = ours.clone();
        uncommitted.committed = Some(0);
        let case = "questdb-connector/no-such-case.case";
        let (diffs, verdict) = QUESTDB_CONNECTOR.judge(case, &ours, &uncommitted);
        assert_eq!(
            diffs,
            ["committed offset: this sink none, QuestDB's connector 0"]
        );
        assert!(verdict.is_failure());
        assert!(matches!(
            CONFLUENT
                .judge("types/no-such-case.case", &ours, &uncommitted)
                .1,
            Verdict::Same
        ));
    }

    #[test]
    fn each_family_has_its_reference() {
        assert_eq!(Reference::for_case("types/bytes.case").set, REFERENCE_SET);
        assert_eq!(
            Reference::for_case("questdb-connector/bytes-field.case").set,
            "questdb-connector-0.23"
        );
    }

    #[test]
    fn reference_defects_show_themselves_on_questdb_or_say_why_not() {
        let classes = REFERENCES.iter().chain(ALSO_JUDGED).flat_map(|r| r.classes);
        for class in classes.filter(|c| c.kind == Kind::ReferenceDefect) {
            assert!(
                !class.reproduction.is_empty() || class.why.contains("Not yet reduced"),
                "{}: a reference defect needs its statements on QuestDB alone",
                class.name
            );
        }
    }
}
