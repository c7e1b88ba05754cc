//! The sink's transforms against the real classes (Kafka's connect-transforms and Debezium's
//! ExtractNewRecordState in a JVM, built from reference/transforms with Maven on first use):
//! records, schemas and chains of transforms drawn by proptest, each result compared (topic,
//! key and value schema and value, headers). Every difference must be a deviation named in
//! docs/transforms.md; anything else fails. `KQ_TRANSFORMS_CASES` draws more cases.

use std::cell::RefCell;
use std::collections::BTreeMap;

use harness::oracle::transforms::{judge, ours, TransformsOracle, Verdict};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

#[path = "transforms_gen/mod.rs"]
mod gen;
use gen::{config, record};

fn cases() -> u32 {
    std::env::var("KQ_TRANSFORMS_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// The deviations docs/transforms.md names.
const DEVIATIONS: &[&str] = &[
    "schemaless",
    "date-parse",
    "mask-replacement",
    "cast-struct-default",
    "timestamp-struct-default",
    "date-range",
    "julian-calendar",
];

#[test]
fn transforms_agree_with_the_real_classes_but_for_documented_deviations() {
    let oracle = RefCell::new(TransformsOracle::start().unwrap_or_else(|e| panic!("{e}")));
    let tally: RefCell<BTreeMap<String, usize>> = RefCell::new(BTreeMap::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        // The first difference is the one reported: shrinking would rerun the JVM many times.
        max_shrink_iters: 0,
        ..Config::default()
    });
    let strategy = any::<bool>().prop_flat_map(|env| (config(env), record(env)));
    let result = runner.run(&strategy, |(config, record)| {
        let upstream = oracle
            .borrow_mut()
            .run(&config, &record)
            .unwrap_or_else(|e| panic!("{e}"));
        let ours = ours(&config, &record);
        let verdict = judge(&ours, &upstream);
        let name = match &verdict {
            Verdict::Identical if upstream.starts_with("topic=") => "identical".to_owned(),
            Verdict::Identical => format!("identical {}", upstream.split(' ').next().unwrap_or("")),
            Verdict::Deviation(d) => format!("deviation {d}"),
            Verdict::Bug => "bug".into(),
        };
        *tally.borrow_mut().entry(name).or_default() += 1;
        if let Verdict::Deviation(d) = &verdict {
            prop_assert!(
                DEVIATIONS.contains(&d.as_str()),
                "undocumented deviation {d}"
            );
        }
        prop_assert!(
            verdict != Verdict::Bug,
            "\nconfig: {config:?}\nrecord: {record:?}\nours:     {ours}\nupstream: {upstream}"
        );
        Ok(())
    });
    println!(
        "transforms compared with the real classes: {:?}",
        tally.borrow()
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let t = tally.borrow();
    let identical = t.get("identical").copied().unwrap_or(0);
    assert!(
        identical * 2 > cases() as usize,
        "fewer than half the cases transformed a record on both sides: {t:?}"
    );
}

#[test]
fn every_allowed_deviation_is_documented() {
    let doc =
        std::fs::read_to_string(harness::fixture::workspace_root().join("docs/transforms.md"))
            .expect("docs/transforms.md");
    for name in DEVIATIONS {
        assert!(
            doc.contains(&format!("`{name}`")),
            "deviation `{name}` is not in docs/transforms.md"
        );
    }
}

#[test]
fn the_oracle_runs_the_pinned_versions() {
    let pom = std::fs::read_to_string(
        harness::fixture::workspace_root().join("reference/transforms/pom.xml"),
    )
    .expect("oracle pom");
    let kafka = harness::versions::Versions::default_pinned()
        .expect("services pom")
        .kafka;
    let debezium = harness::oracle::transforms::pinned_debezium().expect("services pom");
    assert!(
        pom.contains(&format!("<kafka.version>{kafka}</kafka.version>")),
        "reference/transforms/pom.xml's kafka.version differs from ci/services/pom.xml ({kafka})"
    );
    assert!(pom.contains(&format!("<debezium.version>{debezium}</debezium.version>")), "reference/transforms/pom.xml's debezium.version differs from ci/services/pom.xml ({debezium})");
}
