//! `harness bench`: throughput numbers, printed, never asserted. Decoding alone (no I/O), then
//! the whole pipeline on the real services: Kafka -> sink -> QuestDB, offsets committed.

use crate::fixture;
use crate::kafka;
use crate::replay::Target;
use sink::connect::json::{decode_envelope, DecodeOptions};
use sink::{RunOptions, SinkConfig, StopWhen};
use std::time::Instant;

/// The seed's envelope with a varying id, so rows differ.
fn envelope(i: u64) -> Vec<u8> {
    format!(
        r#"{{"schema":{{"type":"struct","fields":[{{"type":"boolean","optional":false,"field":"flag"}},{{"type":"int8","optional":false,"field":"id8"}},{{"type":"int16","optional":false,"field":"id16"}},{{"type":"int32","optional":false,"field":"id32"}},{{"type":"int64","optional":false,"field":"id64"}},{{"type":"float","optional":false,"field":"idFloat"}},{{"type":"double","optional":false,"field":"idDouble"}},{{"type":"string","optional":true,"field":"msg"}}],"optional":false,"name":"msgschema"}},"payload":{{"flag":false,"id8":{},"id16":222,"id32":{},"id64":{i},"idFloat":222,"idDouble":333,"msg":"hi {i}"}}}}"#,
        i % 100,
        i % 1_000_000
    )
    .into_bytes()
}

/// Decodes `n` envelopes in memory; returns records per second.
pub fn decode_rate(n: u64) -> f64 {
    let messages: Vec<Vec<u8>> = (0..n.min(10_000)).map(envelope).collect();
    let options = DecodeOptions::default();
    let started = Instant::now();
    for i in 0..n {
        let m = &messages[(i % messages.len() as u64) as usize];
        decode_envelope(Some(m), &options).expect("the bench envelope decodes");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

pub struct PipelineNumbers {
    pub records: u64,
    pub produce_secs: f64,
    pub sink_secs: f64,
    pub rows: u64,
}

/// Produces `n` records to a fresh topic, then times the sink storing all of them.
pub async fn pipeline(
    target: &Target,
    n: u64,
    batch_size: usize,
) -> anyhow::Result<PipelineNumbers> {
    let topic = format!("bench-{}-{}", std::process::id(), n);
    kafka::create_topic(&target.bootstrap, &topic).await?;
    let started = Instant::now();
    let bootstrap = target.bootstrap.clone();
    let t = topic.clone();
    tokio::task::spawn_blocking(move || kafka::produce_many(&bootstrap, &t, (0..n).map(envelope)))
        .await??;
    let produce_secs = started.elapsed().as_secs_f64();

    let text = std::fs::read_to_string(fixture::root().join("seed/connect-jdbc.properties"))?;
    let mut props = sink::properties::parse(&text);
    props.insert("name".into(), format!("bench-{topic}"));
    props.insert("topics".into(), topic.clone());
    props.insert("batch.size".into(), batch_size.to_string());
    let mut config = SinkConfig::from_properties(&props)?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.stop_when = StopWhen::CaughtUp;
    let started = Instant::now();
    let summary = sink::run(&config, options)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.error))?;
    Ok(PipelineNumbers {
        records: n,
        produce_secs,
        sink_secs: started.elapsed().as_secs_f64(),
        rows: summary.rows,
    })
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
