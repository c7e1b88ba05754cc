//! Without services: this sink's accepted snapshots against the recorded reference of each
//! fixture family (Confluent's JDBC sink 10.7.6, `tests/snapshots/confluent-jdbc-10.7.6/`, for
//! the seed's cases; QuestDB's connector 0.23, `tests/snapshots/questdb-connector-0.23/`, for
//! `fixtures/questdb-connector/`), and the generated outcome table.

use harness::fixture;
use harness::outcomes_table;
use harness::reference::{self, Reference, Tally, ALSO_JUDGED, REFERENCES};
use harness::{faults, snapshot};

/// Every ordinary case, all families, but the transform cases (`transforms/` folders): the
/// references were recorded without Connect's transforms on their worker, so there is nothing
/// to compare those with yet.
fn ordinary_cases() -> Vec<String> {
    fixture::discover(&fixture::root())
        .expect("fixtures")
        .into_iter()
        .filter(|c| c.scenario.is_none())
        .filter(|c| !c.name.split('/').any(|part| part == "transforms"))
        .map(|c| c.name)
        .collect()
}

fn cases_of(r: &Reference) -> Vec<String> {
    ordinary_cases()
        .into_iter()
        .filter(|c| fixture::Family::of(c) == r.family)
        .filter(|c| !r.unrecorded.iter().any(|(u, _)| u == c))
        .collect()
}

#[test]
fn cases_listed_as_unrecorded_exist_and_have_no_recording() {
    let all = ordinary_cases();
    for r in REFERENCES.iter().chain(ALSO_JUDGED) {
        for (case, why) in r.unrecorded {
            assert!(
                all.contains(&case.to_string()),
                "{case}: listed as unrecorded for {} but no such case",
                r.name
            );
            assert!(
                reference::recorded(Some(r.set), case).is_none(),
                "{case}: recorded in tests/snapshots/{}/ now; take it off {}'s unrecorded list ({why})",
                r.set,
                r.name
            );
        }
    }
}

fn every_difference_is_classified(r: &Reference) {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in cases_of(r) {
        let ours = reference::recorded(None, &case)
            .unwrap_or_else(|| panic!("{case}: no accepted snapshot of this sink"));
        let theirs = reference::recorded(Some(r.set), &case).unwrap_or_else(|| {
            panic!(
                "{case}: no snapshot in tests/snapshots/{}/; record it with `harness conformance \
                 --sink connect --plugin-path DIR` (README)",
                r.set
            )
        });
        let (diffs, verdict) = r.judge(&case, &ours, &theirs);
        tally.add(&verdict);
        if verdict.is_failure() {
            failures.push(format!(
                "{case}: {}\n    {}",
                verdict.label(),
                diffs.join("\n    ")
            ));
        }
    }
    eprintln!("against {} {}: {tally}", r.name, r.version);
    assert!(
        failures.is_empty(),
        "{} cases differ from {} {} without a classification in harness/src/reference*.rs \
         (or are classified and no longer differ):\n{}",
        failures.len(),
        r.name,
        r.version,
        failures.join("\n")
    );
}

#[test]
fn every_difference_from_confluent_is_classified() {
    every_difference_is_classified(&reference::CONFLUENT);
}

/// The seed's exact stack (Confluent 10.0.1 on Kafka 2.6.0), classified like the reference.
#[test]
fn every_difference_from_the_seeds_stack_is_classified() {
    every_difference_is_classified(&reference::SEED_STACK);
}

#[test]
fn every_difference_from_questdbs_connector_is_classified() {
    every_difference_is_classified(&reference::QUESTDB_CONNECTOR);
}

#[test]
fn every_classified_case_exists_and_is_classified_once() {
    for r in REFERENCES.iter().chain(ALSO_JUDGED) {
        let cases = cases_of(r);
        let mut seen = std::collections::BTreeSet::new();
        for class in r.classes {
            assert!(!class.cases.is_empty(), "{}: no cases", class.name);
            for case in class.cases {
                assert!(
                    cases.iter().any(|c| c == case),
                    "{}: no fixture {case} of {}'s family",
                    class.name,
                    r.name
                );
                assert!(seen.insert(*case), "{case} is in two classes");
            }
        }
    }
}

/// A connector that left fault-case records unstored has the finding named
/// (`harness/src/faults/table.rs`'s FINDINGS).
#[test]
fn every_fault_finding_is_named() {
    let unnamed = faults::table::unnamed(&fault_snapshots(), fault_snapshot);
    assert!(
        unnamed.is_empty(),
        "rows missing under a fault with no named finding in harness/src/faults/table.rs: {unnamed:?}"
    );
}

/// A fault snapshot's body, by set and name.
fn fault_snapshot(set: Option<&str>, name: &str) -> Option<String> {
    let dir = set.map_or_else(snapshot::dir, snapshot::set_dir);
    let case = format!("faults/{}.case", name.trim_start_matches("faults__"));
    snapshot::accepted_at(&dir, &case)
}

/// Every fault snapshot's name (`faults__kafka-kill`, `faults__questdb-outage-20s+pg-all`) in
/// this sink's folder or a connector's, sorted.
fn fault_snapshots() -> Vec<String> {
    let mut dirs = vec![snapshot::dir()];
    dirs.extend(
        faults::table::SINKS
            .iter()
            .filter_map(|(_, set)| set.map(snapshot::set_dir)),
    );
    let mut names = std::collections::BTreeSet::new();
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            // Version variants (`@kafka-...`) are judged as their default.
            let fault = |n: &&str| n.starts_with("faults__") && !n.contains('@');
            if let Some(name) = file.strip_suffix(".snap").filter(fault) {
                names.insert(name.to_owned());
            }
        }
    }
    names.into_iter().collect()
}

/// The generated table in docs/ is what the snapshots say; `KQ_WRITE_DOCS=1` rewrites it.
#[test]
fn the_outcomes_table_is_generated_from_the_snapshots() {
    let generated = outcomes_table::markdown(&ordinary_cases(), reference::recorded)
        + &faults::table::markdown(&fault_snapshots(), fault_snapshot);
    let path = fixture::workspace_root().join(outcomes_table::PATH);
    if std::env::var_os(outcomes_table::REWRITE_VAR).is_some() {
        std::fs::write(&path, &generated).expect("writing the table");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .map_or("the length".to_owned(), |i| format!("line {}", i + 1));
        panic!(
            "{} is not what the snapshots say (first difference: {line}); after reviewing the \
             snapshots, rewrite it with `{}=1 cargo test -p harness --test reference`",
            outcomes_table::PATH,
            outcomes_table::REWRITE_VAR
        );
    }
}
