//! The sink's decoder against Kafka's own JsonConverter (the oracle JVM, built from
//! reference/jsonconverter with Maven on first use): every fixture record, mutations of them,
//! and a bounded sample of random envelopes. Every difference must be a deviation named in
//! docs/type-mapping.md; anything else is a bug. The large sample is
//! `cargo run --release -p harness -- oracle --envelopes 100000`.

use harness::fixture;
use harness::oracle::{compare_corpus, Oracle, DEVIATIONS};

/// Random envelopes drawn in `cargo test` (seconds); `KQ_ORACLE_ENVELOPES` draws more.
fn sample_size() -> usize {
    std::env::var("KQ_ORACLE_ENVELOPES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

#[test]
fn decoder_agrees_with_json_converter_but_for_documented_deviations() {
    let mut oracle = Oracle::start(&[("schemas.enable".into(), "true".into())])
        .unwrap_or_else(|e| panic!("{e}"));
    let tally = compare_corpus(&mut oracle, &fixture::root(), 42, sample_size(), |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let report = tally.report(10);
    println!("{report}");
    assert!(tally.bugs.is_empty(), "{report}");
    assert!(tally.total() > 1000, "too few records compared: {report}");
    // The comparison did compare: most records decode the same on both sides.
    assert!(
        tally.identical * 10 > tally.total() * 8,
        "fewer than 80% identical: {report}"
    );
}

#[test]
fn every_named_deviation_is_documented() {
    let doc = std::fs::read_to_string(fixture::workspace_root().join("docs/type-mapping.md"))
        .expect("docs/type-mapping.md");
    for name in DEVIATIONS {
        assert!(
            doc.contains(&format!("`{name}`")),
            "deviation `{name}` is allowed by harness::oracle::judge but not documented in docs/type-mapping.md"
        );
    }
}

#[test]
fn the_oracle_runs_the_pinned_kafka_version() {
    let pom =
        std::fs::read_to_string(fixture::workspace_root().join("reference/jsonconverter/pom.xml"))
            .expect("oracle pom");
    let pinned = harness::versions::Versions::default_pinned().expect("services pom");
    assert!(
        pom.contains(&format!("<kafka.version>{}</kafka.version>", pinned.kafka)),
        "reference/jsonconverter/pom.xml's fallback kafka.version differs from ci/services/pom.xml ({})",
        pinned.kafka
    );
}
