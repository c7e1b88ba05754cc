//! Without services: this sink's accepted snapshots against the recorded reference (Confluent's
//! JDBC sink 10.7.6, `tests/snapshots/confluent-jdbc-10.7.6/`), and the generated outcome table.

use harness::fixture;
use harness::outcomes_table;
use harness::reference::{self, Tally};

fn ordinary_cases() -> Vec<String> {
    fixture::discover(&fixture::root())
        .expect("fixtures")
        .into_iter()
        .filter(|c| c.scenario.is_none() && c.family() == fixture::Family::Jdbc)
        .map(|c| c.name)
        .collect()
}

#[test]
fn every_difference_from_the_reference_is_classified() {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for case in ordinary_cases() {
        let ours = reference::recorded(None, &case)
            .unwrap_or_else(|| panic!("{case}: no accepted snapshot of this sink"));
        let theirs =
            reference::recorded(Some(reference::REFERENCE_SET), &case).unwrap_or_else(|| {
                panic!(
                "{case}: no snapshot in tests/snapshots/{}/; record it with `harness conformance \
                 --sink connect --plugin-path DIR` (README)",
                reference::REFERENCE_SET
            )
            });
        let (diffs, verdict) = reference::judge(&case, &ours, &theirs);
        tally.add(&verdict);
        if verdict.is_failure() {
            failures.push(format!(
                "{case}: {}\n    {}",
                verdict.label(),
                diffs.join("\n    ")
            ));
        }
    }
    eprintln!("{tally}");
    assert!(
        failures.is_empty(),
        "{} cases differ from the reference without a classification in harness/src/reference.rs \
         (or are classified and no longer differ):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_classified_case_exists_and_is_classified_once() {
    let cases = ordinary_cases();
    let mut seen = std::collections::BTreeSet::new();
    for class in reference::CLASSES {
        assert!(!class.cases.is_empty(), "{}: no cases", class.name);
        for case in class.cases {
            assert!(
                cases.iter().any(|c| c == case),
                "{}: no fixture {case}",
                class.name
            );
            assert!(seen.insert(*case), "{case} is in two classes");
        }
    }
}

/// The generated table in docs/ is what the snapshots say; `KQ_WRITE_DOCS=1` rewrites it.
#[test]
fn the_outcomes_table_is_generated_from_the_snapshots() {
    let generated = outcomes_table::markdown(&ordinary_cases(), reference::recorded);
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
