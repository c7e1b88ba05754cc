//! End-to-end latency at a steady produce rate: from the moment a record is handed to the
//! producer to the moment its row is visible in QuestDB.
//!
//! One partition and one producer keep the records in order, and every sink measured stores a
//! partition in order, so the rows visible are a prefix of what was produced: a count of `c`
//! read at time `T` means rows `0..c` were visible by `T`. The count is read every
//! [`POLL`], which bounds the resolution. The sink is started on an empty topic and must store
//! a first record before the clock starts, so its start-up is not counted.

use super::questdb_http::QuestDbHttp;
use super::runs::{Peer, Runner};
use super::usage::Watched;
use crate::connect;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the poller counts the table's rows.
const POLL: Duration = Duration::from_millis(10);

/// A sink and table setting measured for latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Variant {
    /// This sink over ILP into its native WAL table (`timestamp.kafka.native`).
    Ours,
    /// The same with `pk.mode=kafka`: a WAL table with DEDUP UPSERT KEYS (exactly-once).
    OursDedup,
    /// QuestDB's connector into the WAL table ILP creates.
    Questdb,
    /// QuestDB's connector into a WAL table created with DEDUP UPSERT KEYS(timestamp, id64).
    QuestdbDedup,
}

impl Variant {
    pub fn label(self) -> &'static str {
        match self {
            Variant::Ours => "ours, ILP, WAL table",
            Variant::OursDedup => "ours, ILP, WAL + DEDUP (pk.mode=kafka)",
            Variant::Questdb => "QuestDB connector, WAL table",
            Variant::QuestdbDedup => "QuestDB connector, WAL + DEDUP",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Variant::Ours => "ours",
            Variant::OursDedup => "ours-dedup",
            Variant::Questdb => "questdb",
            Variant::QuestdbDedup => "questdb-dedup",
        }
    }

    pub fn needs_questdb_connector(self) -> bool {
        matches!(self, Variant::Questdb | Variant::QuestdbDedup)
    }
}

#[derive(Debug, Clone)]
pub struct Latency {
    pub variant: Variant,
    /// Records per second asked of the producer, and what it kept.
    pub rate: f64,
    pub achieved_rate: f64,
    pub rows: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub load: f64,
}

/// Produces `rate` records/s for `secs` seconds into a new topic while `variant` stores them.
pub fn measure(runner: &Runner, variant: Variant, rate: f64, secs: f64) -> anyhow::Result<Latency> {
    let topic = format!("bench-{}-latency-{}", std::process::id(), variant.key());
    tokio::runtime::Handle::current()
        .block_on(crate::kafka::create_topic(&runner.target.bootstrap, &topic))?;
    let table = format!("{topic}-t");
    let producer = Producer::new(&runner.target.bootstrap, &topic)?;
    // The sink, started on the empty topic.
    let mut child = None;
    let mut connector = None;
    match variant {
        Variant::Ours | Variant::OursDedup => {
            let binary = runner
                .sink
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no sink binary"))?;
            let extra: &[(&str, &str)] = if variant == Variant::OursDedup {
                &[("pk.mode", "kafka")]
            } else {
                &[]
            };
            let props = super::sink_properties(
                &runner.target,
                &topic,
                &table,
                runner.batch_size,
                true,
                extra,
            )?;
            let file = runner.logs.path().join(format!("{table}.properties"));
            crate::replay::write_properties(&file, &props)?;
            let log = std::fs::File::create(runner.logs.path().join(format!("{table}.log")))?;
            let spawned = Command::new(binary)
                .arg(&file)
                .args(["--bootstrap-servers", &runner.target.bootstrap])
                .args(["--pg-host", &runner.target.pg_host])
                .args(["--pg-port", &runner.target.pg_port.to_string()])
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()?;
            child = Some(Watched::child(spawned));
        }
        Variant::Questdb | Variant::QuestdbDedup => {
            let worker = runner
                .worker
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no Connect worker"))?;
            if variant == Variant::QuestdbDedup {
                QuestDbHttp::new(runner.target.http_port)
                    .exec(&format!(
                        "CREATE TABLE '{table}' (flag BOOLEAN, id8 LONG, id16 LONG, id32 LONG, \
                         id64 LONG, idFloat DOUBLE, idDouble DOUBLE, msg VARCHAR, \
                         timestamp TIMESTAMP) TIMESTAMP(timestamp) PARTITION BY DAY WAL \
                         DEDUP UPSERT KEYS(timestamp, id64)"
                    ))
                    .map_err(anyhow::Error::msg)?;
            }
            let mut config = runner.connector_config(Peer::Questdb, &topic, &table, 1)?;
            config.insert("tasks.max".into(), "1".into());
            let name = format!("bench-{table}");
            let body = serde_json::json!({ "name": name, "config": config }).to_string();
            let (status, answer) = connect::http(worker.port, "POST", "/connectors", Some(&body))
                .map_err(anyhow::Error::msg)?;
            anyhow::ensure!(status == 201, "POST /connectors {name}: {status} {answer}");
            connector = Some((worker, name));
        }
    }
    let result = (|| {
        // One record first: the clock starts once the sink stores it.
        producer.send(0)?;
        producer.flush()?;
        wait_for_rows(runner, &table, 1, Duration::from_secs(120), &mut child)?;
        steady(runner, &producer, &table, rate, secs, &mut child)
    })();
    if let Some((worker, name)) = &connector {
        let _ = connect::http(worker.port, "DELETE", &format!("/connectors/{name}"), None);
    }
    let (sent, achieved_rate) = result.map_err(|e| {
        let log = std::fs::read_to_string(runner.logs.path().join(format!("{table}.log")))
            .unwrap_or_default();
        anyhow::anyhow!("latency, {}: {e}\n{log}", variant.label())
    })?;
    drop(child);
    let mut ms = sent;
    ms.sort_by(f64::total_cmp);
    Ok(Latency {
        variant,
        rate,
        achieved_rate,
        rows: ms.len() as u64,
        p50_ms: percentile(&ms, 0.50),
        p99_ms: percentile(&ms, 0.99),
        max_ms: ms.last().copied().unwrap_or(f64::NAN),
        load: super::runs::load_average(),
    })
}

/// The steady phase: records `1..=n` sent on schedule while a thread counts the rows; each
/// record's latency in ms (unsorted) and the rate the producer kept.
fn steady(
    runner: &Runner,
    producer: &Producer,
    table: &str,
    rate: f64,
    secs: f64,
    child: &mut Option<Watched>,
) -> anyhow::Result<(Vec<f64>, f64)> {
    let n = (rate * secs).round().max(1.0) as u64;
    let stop = Arc::new(AtomicBool::new(false));
    let port = runner.target.http_port;
    let origin = Instant::now();
    // (time since origin, rows visible), each time the count grew.
    let poller = {
        let (stop, table) = (stop.clone(), table.to_owned());
        std::thread::spawn(move || -> Result<Vec<(Duration, u64)>, String> {
            let mut seen = vec![];
            let mut last = 1;
            let mut questdb = QuestDbHttp::new(port);
            while !stop.load(Ordering::Relaxed) {
                let c = questdb.count_rows(&table)?;
                if c > last {
                    seen.push((origin.elapsed(), c));
                    last = c;
                }
                std::thread::sleep(POLL);
            }
            // The rows the producer's side saw last may have arrived after the last count.
            let c = questdb.count_rows(&table)?;
            if c > last {
                seen.push((origin.elapsed(), c));
            }
            Ok(seen)
        })
    };
    let mut sent_at = Vec::with_capacity(n as usize);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut result = Ok(());
    for i in 1..=n {
        let due = interval * (i - 1) as u32;
        let now = origin.elapsed();
        if due > now {
            std::thread::sleep(due - now);
        }
        sent_at.push(origin.elapsed());
        if let Err(e) = producer.send(i) {
            result = Err(e);
            break;
        }
    }
    let produced_in = origin.elapsed().as_secs_f64();
    let waited = result.and_then(|()| {
        producer.flush()?;
        wait_for_rows(runner, table, n + 1, Duration::from_secs(120), child)
    });
    stop.store(true, Ordering::Relaxed);
    let seen = poller
        .join()
        .map_err(|_| anyhow::anyhow!("the row poller panicked"))?
        .map_err(anyhow::Error::msg)?;
    waited?;
    Ok((latencies(&sent_at, &seen), n as f64 / produced_in))
}

/// Each record's latency in ms: the first count that includes it (record `i` is row `i + 1`,
/// after the first record) minus when it was sent.
fn latencies(sent_at: &[Duration], seen: &[(Duration, u64)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(sent_at.len());
    let mut j = 0;
    for (i, sent) in sent_at.iter().enumerate() {
        let row = i as u64 + 2;
        while j < seen.len() && seen[j].1 < row {
            j += 1;
        }
        if let Some((visible, _)) = seen.get(j) {
            out.push(visible.saturating_sub(*sent).as_secs_f64() * 1000.0);
        }
    }
    out
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[at]
}

fn wait_for_rows(
    runner: &Runner,
    table: &str,
    rows: u64,
    timeout: Duration,
    child: &mut Option<Watched>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    let mut questdb = QuestDbHttp::new(runner.target.http_port);
    loop {
        let c = questdb.count_rows(table).map_err(anyhow::Error::msg)?;
        if c >= rows {
            return Ok(());
        }
        if let Some(w) = child.as_mut() {
            anyhow::ensure!(w.sample(), "the sink exited ({:?})", w.exit());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{table}: {c} of {rows} rows visible after {timeout:?}"
        );
        std::thread::sleep(POLL);
    }
}

/// A producer that sends the bench envelope `i` at once (no linger), the record's timestamp
/// set by the client when it is sent.
struct Producer {
    inner: rdkafka::producer::BaseProducer,
    topic: String,
}

impl Producer {
    fn new(bootstrap: &str, topic: &str) -> anyhow::Result<Producer> {
        let inner = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("linger.ms", "0")
            .create()?;
        Ok(Producer {
            inner,
            topic: topic.to_owned(),
        })
    }

    fn send(&self, i: u64) -> anyhow::Result<()> {
        use rdkafka::error::KafkaError;
        use rdkafka::producer::BaseRecord;
        use rdkafka::types::RDKafkaErrorCode;
        let value = super::envelope(i);
        let mut record = BaseRecord::<(), [u8]>::to(&self.topic).payload(&value);
        loop {
            match self.inner.send(record) {
                Ok(()) => break,
                // The local queue is full (the broker is behind): serve delivery reports and
                // send the same record again; its wait counts in its latency.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    self.inner.poll(Duration::from_millis(5));
                }
                Err((e, _)) => anyhow::bail!("produce to {}: {e}", self.topic),
            }
        }
        self.inner.poll(Duration::ZERO);
        Ok(())
    }

    fn flush(&self) -> anyhow::Result<()> {
        use rdkafka::producer::Producer as _;
        self.inner.flush(Duration::from_secs(30))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_s_latency_is_the_first_count_that_holds_it() {
        let ms = Duration::from_millis;
        // Records 1, 2, 3 sent at 0, 10, 20 ms; rows visible: 3 (first + 2) at 15, 4 at 50.
        let sent = [ms(0), ms(10), ms(20)];
        let seen = [(ms(15), 3), (ms(50), 4)];
        assert_eq!(latencies(&sent, &seen), vec![15.0, 5.0, 30.0]);
        // A record never seen has no latency.
        assert_eq!(latencies(&sent, &seen[..1]), vec![15.0, 5.0]);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
