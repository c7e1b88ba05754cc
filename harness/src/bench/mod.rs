//! `harness bench`: numbers, printed and written to a report, never asserted. Decoding alone (no
//! I/O); then, on the real services and one backlog per partition count, every sink drains it
//! ([`runs`]: the minimal pipe as the limit, this sink's binary over ILP and PG wire, QuestDB's
//! connector and the Debezium JDBC sink in Kafka Connect); then end-to-end latency at a steady
//! rate ([`latency`]); then the report and its chart ([`report`]).

pub mod guide;
pub mod latency;
pub mod pipe;
pub mod questdb_http;
pub mod report;
pub mod runs;
pub mod usage;

use crate::fixture;
use crate::kafka;
use crate::replay::Target;
use sink::connect::cache::SchemaCache;
use sink::connect::json::{decode_envelope, DecodeOptions};
use std::collections::BTreeMap;
use std::time::Instant;

/// The seed's envelope with a varying id, so rows differ.
pub fn envelope(i: u64) -> Vec<u8> {
    format!(
        r#"{{"schema":{{"type":"struct","fields":[{{"type":"boolean","optional":false,"field":"flag"}},{{"type":"int8","optional":false,"field":"id8"}},{{"type":"int16","optional":false,"field":"id16"}},{{"type":"int32","optional":false,"field":"id32"}},{{"type":"int64","optional":false,"field":"id64"}},{{"type":"float","optional":false,"field":"idFloat"}},{{"type":"double","optional":false,"field":"idDouble"}},{{"type":"string","optional":true,"field":"msg"}}],"optional":false,"name":"msgschema"}},"payload":{{"flag":false,"id8":{},"id16":222,"id32":{},"id64":{i},"idFloat":222,"idDouble":333,"msg":"hi {i}"}}}}"#,
        i % 100,
        i % 1_000_000
    )
    .into_bytes()
}

/// Decodes `n` envelopes in memory, each schema parsed again (`decode_envelope`) and as the sink
/// decodes them (its schema cache, the schema shared); returns records per second for both.
pub fn decode_rate(n: u64) -> (f64, f64) {
    let messages: Vec<Vec<u8>> = (0..n.min(10_000)).map(envelope).collect();
    let options = DecodeOptions::default();
    let message = |i: u64| &messages[(i % messages.len() as u64) as usize];
    // Parsing every schema is 10-20 times slower: a tenth of the records tells its rate.
    let few = (n / 10).max(1);
    let started = Instant::now();
    for i in 0..few {
        decode_envelope(Some(message(i)), &options).expect("the bench envelope decodes");
    }
    let uncached = few as f64 / started.elapsed().as_secs_f64();
    let mut cache = SchemaCache::new();
    let started = Instant::now();
    for i in 0..n {
        cache
            .decode(Some(message(i)), &options)
            .expect("the bench envelope decodes");
    }
    (uncached, n as f64 / started.elapsed().as_secs_f64())
}

/// A backlog of `records` envelopes over `partitions` partitions (envelope `i` in partition
/// `i % partitions`); records per second produced.
pub async fn produce(
    target: &Target,
    topic: &str,
    partitions: i32,
    records: u64,
) -> anyhow::Result<f64> {
    kafka::create_topic_with(&target.bootstrap, topic, partitions).await?;
    let started = Instant::now();
    let (bootstrap, t) = (target.bootstrap.clone(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        kafka::produce_spread(&bootstrap, &t, partitions, (0..records).map(envelope))
    })
    .await??;
    Ok(records as f64 / started.elapsed().as_secs_f64())
}

/// The seed's connector properties.
pub fn seed_properties() -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(fixture::root().join("seed/connect-jdbc.properties"))?;
    Ok(sink::config::properties::parse(&text))
}

/// This sink's properties for a bench run: the seed's, into `table`, a native table with the
/// Kafka timestamp designated, over ILP/HTTP when `ilp`, then `extra`.
pub fn sink_properties(
    target: &Target,
    topic: &str,
    table: &str,
    batch_size: usize,
    ilp: bool,
    extra: &[(&str, &str)],
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut props = seed_properties()?;
    props.insert("name".into(), format!("bench-{table}"));
    props.insert("topics".into(), topic.to_owned());
    props.insert("table.name.format".into(), table.to_owned());
    props.insert("batch.size".into(), batch_size.to_string());
    props.insert("timestamp.kafka.native".into(), "true".into());
    if ilp {
        props.insert("client.conf.string".into(), target.ilp_conf());
    }
    for (k, v) in extra {
        props.insert((*k).to_owned(), (*v).to_owned());
    }
    Ok(props)
}
