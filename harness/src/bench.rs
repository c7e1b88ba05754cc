//! `harness bench`: throughput numbers, printed, never asserted. Decoding alone (no I/O), then
//! on the real services, over one topic: a raw consumer (Kafka's limit), raw ILP ingest of the
//! same rows with questdb-rs (QuestDB's limit), and the sink over PG wire and over ILP.

use crate::fixture;
use crate::kafka;
use crate::replay::Target;
use sink::connect::cache::SchemaCache;
use sink::connect::json::{decode_envelope, DecodeOptions};
use sink::{RunOptions, SinkConfig, StopWhen};
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
    let started = Instant::now();
    for i in 0..n {
        decode_envelope(Some(message(i)), &options).expect("the bench envelope decodes");
    }
    let uncached = n as f64 / started.elapsed().as_secs_f64();
    let mut cache = SchemaCache::new();
    let started = Instant::now();
    for i in 0..n {
        cache
            .decode(Some(message(i)), &options)
            .expect("the bench envelope decodes");
    }
    (uncached, n as f64 / started.elapsed().as_secs_f64())
}

/// A bench topic holding `n` envelopes, produced once for every measurement.
pub struct BenchTopic {
    pub name: String,
    pub records: u64,
    pub produce_secs: f64,
}

pub async fn produce(target: &Target, n: u64) -> anyhow::Result<BenchTopic> {
    let topic = format!("bench-{}-{}", std::process::id(), n);
    kafka::create_topic(&target.bootstrap, &topic).await?;
    let started = Instant::now();
    let bootstrap = target.bootstrap.clone();
    let t = topic.clone();
    tokio::task::spawn_blocking(move || kafka::produce_many(&bootstrap, &t, (0..n).map(envelope)))
        .await??;
    Ok(BenchTopic {
        name: topic,
        records: n,
        produce_secs: started.elapsed().as_secs_f64(),
    })
}

/// Reads the whole topic with a plain consumer, nothing decoded: records per second.
pub async fn raw_consume(target: &Target, topic: &BenchTopic) -> anyhow::Result<f64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &target.bootstrap)
        .set("group.id", format!("bench-raw-{}", topic.name))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic.name.as_str()])?;
    let n = topic.records;
    let started = Instant::now();
    let counted = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut count = 0;
        let deadline = Instant::now() + std::time::Duration::from_secs(300);
        while count < n && Instant::now() < deadline {
            if let Some(m) = consumer.poll(std::time::Duration::from_millis(100)) {
                m?;
                count += 1;
            }
        }
        Ok(count)
    })
    .await??;
    anyhow::ensure!(
        counted == n,
        "raw consume read {counted} of {n} records in 300 s"
    );
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The machine's ILP limit: the same rows (already decoded) sent with questdb-rs directly, one
/// transactional flush per `batch_size` rows, into a table ILP creates. Rows per second.
pub fn raw_ilp(
    target: &Target,
    topic: &str,
    records: u64,
    batch_size: usize,
) -> anyhow::Result<f64> {
    use questdb::ingress::{Sender, TimestampMicros};
    let table = format!("{topic}-ilp-raw");
    let mut sender = Sender::from_conf(target.ilp_conf())?;
    let mut buffer = sender.new_buffer();
    let started = Instant::now();
    let base = 1_700_000_000_000_000i64;
    for i in 0..records {
        buffer
            .table(table.as_str())?
            .column_bool("flag", false)?
            .column_i64("id8", (i % 100) as i64)?
            .column_i64("id16", 222)?
            .column_i64("id32", (i % 1_000_000) as i64)?
            .column_i64("id64", i as i64)?
            .column_f64("idFloat", 222.0)?
            .column_f64("idDouble", 333.0)?
            .column_str("msg", format!("hi {i}"))?
            .at(TimestampMicros::new(base + i as i64))?;
        if buffer.row_count() >= batch_size {
            sender.flush_and_keep_with_flags(&buffer, true)?;
            buffer.clear();
        }
    }
    if !buffer.is_empty() {
        sender.flush_and_keep_with_flags(&buffer, true)?;
    }
    Ok(records as f64 / started.elapsed().as_secs_f64())
}

pub struct SinkNumbers {
    pub rows: u64,
    pub secs: f64,
    /// Peak RSS of this process during the run (the peak is reset before it), MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Times the sink storing the whole topic into a native table (the Kafka timestamp designated),
/// over PG wire or, with `ilp`, over ILP/HTTP.
pub async fn sink(
    target: &Target,
    topic: &BenchTopic,
    batch_size: usize,
    ilp: bool,
) -> anyhow::Result<SinkNumbers> {
    let props = sink_properties(target, topic, batch_size, ilp, "in-process")?;
    let mut config = SinkConfig::from_properties(&props)?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let mut options = RunOptions::new(target.bootstrap.clone());
    options.stop_when = StopWhen::CaughtUp;
    reset_peak_rss();
    let started = Instant::now();
    let summary = sink::run(&config, options)
        .await
        .map_err(|f| anyhow::anyhow!("{}", f.error))?;
    Ok(SinkNumbers {
        rows: summary.rows,
        secs: started.elapsed().as_secs_f64(),
        peak_rss_mib: peak_rss_mib(),
    })
}

fn sink_properties(
    target: &Target,
    topic: &BenchTopic,
    batch_size: usize,
    ilp: bool,
    run: &str,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let writer = if ilp { "ilp" } else { "pg" };
    let text = std::fs::read_to_string(fixture::root().join("seed/connect-jdbc.properties"))?;
    let mut props = sink::properties::parse(&text);
    props.insert(
        "name".into(),
        format!("bench-{}-{writer}-{run}", topic.name),
    );
    props.insert("topics".into(), topic.name.clone());
    props.insert(
        "table.name.format".into(),
        format!("${{topic}}-sink-{writer}-{run}"),
    );
    props.insert("batch.size".into(), batch_size.to_string());
    props.insert("timestamp.kafka.native".into(), "true".into());
    if ilp {
        props.insert("client.conf.string".into(), target.ilp_conf());
    }
    Ok(props)
}

/// The `sink` binary storing the whole topic on its own (a new group and table): rows per second
/// and the binary's own peak RSS in MiB (from its `--summary`), apart from the harness.
pub fn sink_binary(
    target: &Target,
    topic: &BenchTopic,
    batch_size: usize,
    ilp: bool,
    binary: &std::path::Path,
) -> anyhow::Result<(f64, f64)> {
    let props = sink_properties(target, topic, batch_size, ilp, "binary")?;
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("connector.properties");
    let summary = dir.path().join("summary.json");
    crate::replay::write_properties(&file, &props)?;
    let started = Instant::now();
    let child = std::process::Command::new(binary)
        .arg(&file)
        .args(["--bootstrap-servers", &target.bootstrap])
        .args(["--pg-host", &target.pg_host])
        .args(["--pg-port", &target.pg_port.to_string()])
        .arg("--until-caught-up")
        .arg("--summary")
        .arg(&summary)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()?;
    let output = child.wait_with_output()?;
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        output.status.success(),
        "the sink binary failed: {}",
        output.status
    );
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary)?)?;
    let rows = summary
        .get("rows")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    // The binary's own reading: a child's rusage would include this process's memory, which
    // the kernel carries over into the child's peak at fork and exec.
    let peak_kib = summary
        .get("peak_rss_kib")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| anyhow::anyhow!("the sink binary's summary has no peak_rss_kib"))?;
    anyhow::ensure!(
        rows == topic.records,
        "the sink binary stored {rows} of {} rows",
        topic.records
    );
    Ok((rows as f64 / secs, peak_kib as f64 / 1024.0))
}

/// Resets the kernel's peak RSS of this process (`clear_refs` 5, Linux 4.0 and later), so the
/// next reading is the peak of what runs in between.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory of this process, from /proc (Linux), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
