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

/// The record shapes a backlog is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// The seed's envelope with varying values, every value in range.
    Seed,
    /// The guide's literal record, the same every time: its `"id8": 222` is coerced in each.
    Guide,
}

impl Shape {
    pub fn label(self) -> &'static str {
        match self {
            Shape::Seed => "seed",
            Shape::Guide => "guide (id8 coerced)",
        }
    }

    /// Record `i` of a backlog of this shape.
    pub fn records(self) -> anyhow::Result<impl Fn(u64) -> Vec<u8> + Send + 'static> {
        let guide = match self {
            Shape::Seed => None,
            Shape::Guide => Some(guide::guide_record()?),
        };
        Ok(move |i| guide.clone().unwrap_or_else(|| envelope(i)))
    }
}

/// Records per second decoding one shape in memory, one core.
#[derive(Debug, Clone, Copy)]
pub struct DecodeRates {
    /// `decode_envelope`: every schema parsed again.
    pub uncached: f64,
    /// The schema cache, a value tree per record (the path every shape can take).
    pub tree: f64,
    /// The schema cache's flat path (a struct of scalars, no tree): what the sink takes for
    /// these shapes.
    pub flat: f64,
}

/// Decodes `n` records of `shape` in memory each way of [`DecodeRates`].
pub fn decode_rate(shape: Shape, n: u64) -> anyhow::Result<DecodeRates> {
    let make = shape.records()?;
    let messages: Vec<Vec<u8>> = (0..n.min(10_000)).map(make).collect();
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
    let tree = n as f64 / started.elapsed().as_secs_f64();
    let mut fields = Vec::new();
    let started = Instant::now();
    for i in 0..n {
        let flat = cache.decode_flat(message(i), &options, &mut fields);
        anyhow::ensure!(
            flat.is_some(),
            "the {} shape is off the flat path",
            shape.label()
        );
    }
    let flat = n as f64 / started.elapsed().as_secs_f64();
    Ok(DecodeRates {
        uncached,
        tree,
        flat,
    })
}

/// A backlog of `records` records of `shape` over `partitions` partitions (record `i` in
/// partition `i % partitions`); records per second produced.
pub async fn produce(
    target: &Target,
    topic: &str,
    partitions: i32,
    records: u64,
    shape: Shape,
) -> anyhow::Result<f64> {
    kafka::create_topic_with(&target.bootstrap, topic, partitions).await?;
    let started = Instant::now();
    let (bootstrap, t) = (target.bootstrap.clone(), topic.to_owned());
    let make = shape.records()?;
    tokio::task::spawn_blocking(move || {
        kafka::produce_spread(&bootstrap, &t, partitions, (0..records).map(make))
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
