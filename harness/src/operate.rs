//! Operating the sink (issue 20), as the binary or its image, on real services: its metrics
//! endpoint scraped during a run and compared with what was produced, and a SIGTERM mid-stream
//! followed by a restart.
//! `tests/conformance/operate.rs` runs both and asserts; the functions here only observe.

use crate::faults::sinks::{Launch, SinkProcess};
use crate::kafka;
use crate::replay::{self, Target};
use crate::wait::wait_until_async;
use anyhow::{bail, Context};
use rdkafka::consumer::Consumer;
use sink::write::pg::QuestDb;
use sink::SinkConfig;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// One sample of a scrape: name, labels (sorted), value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

/// A scrape of `/metrics`, parsed from Prometheus' text format.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    pub samples: Vec<Sample>,
    pub text: String,
}

impl Scrape {
    /// Parses the text format's sample lines (`name{a="x",b="y"} value`); `#` lines are skipped.
    pub fn parse(text: &str) -> Result<Scrape, String> {
        let mut samples = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = || format!("not a sample line: {line:?}");
            let (series, value) = line.rsplit_once(' ').ok_or_else(bad)?;
            let value: f64 = match value {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                v => v.parse().map_err(|_| bad())?,
            };
            let (name, labels) = match series.split_once('{') {
                None => (series, Vec::new()),
                Some((name, rest)) => {
                    (name, parse_labels(rest.strip_suffix('}').ok_or_else(bad)?)?)
                }
            };
            samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        Ok(Scrape {
            samples,
            text: text.to_string(),
        })
    }

    /// The sample with exactly these labels.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let mut wanted: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        wanted.sort();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == wanted)
            .map(|s| s.value)
    }

    /// The sum over every label set of `name` (0 if absent).
    pub fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.value)
            .sum()
    }
}

/// `a="x",b="y"` (values may hold escaped quotes, commas and backslashes).
fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut labels = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once("=\"")
            .ok_or_else(|| format!("bad labels: {text:?}"))?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err(format!("bad labels: {text:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err(format!("bad labels: {text:?}")),
            }
        };
        labels.push((key.trim_start_matches(',').to_string(), value));
        rest = after[end + 1..].trim_start_matches(',');
    }
    labels.sort();
    Ok(labels)
}

/// `GET path` on the sink's endpoint: status and body.
pub fn http_get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let context = |e: std::io::Error| format!("GET {path} on {addr}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(context)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(context)?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .map_err(context)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(context)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("GET {path} on {addr}: not an HTTP answer: {head:?}"))?;
    Ok((status, body.to_string()))
}

/// The seed's properties for a topic of its own, with `extra` on top, as a file in `dir`.
pub(crate) fn properties_file(
    dir: &Path,
    topic: &str,
    extra: &[(&str, String)],
) -> anyhow::Result<(std::path::PathBuf, SinkConfig)> {
    let text = std::fs::read_to_string(replay::seed_properties_path())?;
    let mut props = sink::config::properties::parse(&text);
    props.insert("name".into(), format!("{topic}-sink"));
    props.insert("topics".into(), topic.into());
    for (k, v) in extra {
        props.insert(k.to_string(), v.clone());
    }
    let file = dir.join("connector.properties");
    replay::write_properties(&file, &props)?;
    Ok((file, SinkConfig::from_properties(&props)?))
}

/// Rows and distinct `id64` values in a table (0 while it does not exist).
pub(crate) async fn counts(db: &QuestDb, table: &str) -> (u64, u64) {
    let sql = format!(
        "SELECT count(), count_distinct(id64) FROM {}",
        sink::mapping::jdbc::ddl::quote(table)
    );
    match db.client().query_opt(&sql, &[]).await {
        Ok(Some(row)) => (
            row.get::<_, i64>(0).max(0) as u64,
            row.try_get::<_, i64>(1).unwrap_or(0).max(0) as u64,
        ),
        _ => (0, 0),
    }
}

/// Members of the consumer group as the broker describes it (empty once every member left).
pub fn group_members(bootstrap: &str, group: &str) -> anyhow::Result<Vec<String>> {
    let reader = kafka::offset_reader(bootstrap, "kq-harness-groups")?;
    let list = reader
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .with_context(|| format!("describing group {group}"))?;
    Ok(list
        .groups()
        .iter()
        .flat_map(|g| g.members().iter().map(|m| m.id().to_string()))
        .collect())
}

/// What the metrics run saw.
pub struct MetricsRun {
    pub topic: String,
    /// Good records produced, and bad ones (`not json`), in all.
    pub good: u64,
    pub bad: u64,
    /// Records per partition.
    pub per_partition: Vec<i64>,
    /// Status and body of `/health/live` right after start, and of `/health/ready` once ready.
    pub live: (u16, String),
    pub ready: (u16, String),
    /// The scrape once every partition's committed offset reached its end, the sink still running.
    pub scrape: Scrape,
    /// Rows in the table then.
    pub rows: u64,
    /// Records in the dead letter queue topic.
    pub dead_letters: usize,
    /// How the sink ended after SIGTERM, and how long that took.
    pub exit: String,
    pub stop_time: Duration,
}

/// Bad records at these positions of the stream (so both partitions get some), those up to
/// the number of good records.
const BAD_AT: [u64; 3] = [100, 101, 2001];

/// Produces `good` seed envelopes and three bad records over two partitions, runs the `sink`
/// sink with `metrics.listen` and `errors.tolerance=all` plus a dead letter queue, and
/// scrapes `/metrics` until the committed offsets reach the ends.
pub async fn metrics_run(
    target: &Target,
    launch: &Launch,
    good: u64,
) -> anyhow::Result<MetricsRun> {
    let topic = format!("operate-metrics-{}", std::process::id());
    let partitions = 2;
    kafka::create_topic_with(&target.bootstrap, &topic, partitions).await?;
    // The bad positions within reach of this many good records (a short run has fewer).
    let bad_at: Vec<u64> = BAD_AT.iter().copied().filter(|&b| b <= good).collect();
    let total = good + bad_at.len() as u64;
    let values = {
        let bad_at = bad_at.clone();
        (0..total).map(move |i| {
            if bad_at.contains(&i) {
                b"not json".to_vec()
            } else {
                // id64 counts good records only, so the table's ids are 0..good.
                crate::bench::envelope(i - bad_at.iter().filter(|&&b| b < i).count() as u64)
            }
        })
    };
    let (bootstrap, t) = (target.bootstrap.clone(), topic.clone());
    tokio::task::spawn_blocking(move || kafka::produce_spread(&bootstrap, &t, partitions, values))
        .await??;
    let per_partition: Vec<i64> = (0..partitions as u64)
        .map(|p| (total / 2 + u64::from(p < total % 2)) as i64)
        .collect();

    let port = crate::services::free_ports(1)?[0];
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let dir = tempfile::tempdir()?;
    let (file, mut config) = properties_file(
        dir.path(),
        &topic,
        &[
            ("metrics.listen", addr.to_string()),
            ("errors.tolerance", "all".into()),
            ("errors.deadletterqueue.topic.name", format!("{topic}-dlq")),
            (
                "errors.deadletterqueue.topic.replication.factor",
                "1".into(),
            ),
            ("batch.size", "500".into()),
        ],
    )?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(&topic);
    let mut sink = SinkProcess::start(launch, &file, target, 0)?;
    let timeout = crate::wait::case_timeout();
    let log = |sink: &SinkProcess| format!("sink log:\n{}", sink.log_tail(20));

    let live = tokio::task::block_in_place(|| {
        crate::wait::wait_until("the sink's /health/live", Duration::from_secs(10), || {
            http_get(addr, "/health/live")
        })
    })
    .map_err(|e| anyhow::anyhow!("{e}\n{}", log(&sink)))?;
    let ready = wait_until_async("the sink's /health/ready to say 200", timeout, || async {
        match http_get(addr, "/health/ready") {
            Ok((200, body)) => Ok((200, body)),
            Ok((status, body)) => Err(format!("{status} {body}")),
            Err(e) => Err(e),
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", log(&sink)))?;

    let scrape = wait_until_async(
        "the scrape to show every partition committed to its end with no lag",
        timeout,
        || async {
            if let Some(how) = sink.exited() {
                return Err(format!("the sink exited: {how}"));
            }
            let (status, text) = http_get(addr, "/metrics")?;
            let scrape = Scrape::parse(&text)?;
            let done = per_partition.iter().enumerate().all(|(p, end)| {
                let labels = [("topic", topic.as_str()), ("partition", &p.to_string())];
                scrape.value(sink::metrics::COMMITTED_OFFSET, &labels) == Some(*end as f64)
                    && scrape.value(sink::metrics::CONSUMER_LAG, &labels) == Some(0.0)
            });
            if status == 200 && done {
                Ok(scrape)
            } else {
                Err(format!("{status}\n{text}"))
            }
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", log(&sink)))?;

    let db = QuestDb::connect(&config.connection).await?;
    let (rows, _) = counts(&db, &table).await;
    let dlq = format!("{topic}-dlq");
    let bootstrap = target.bootstrap.clone();
    let dead_letters = tokio::task::spawn_blocking(move || kafka::read_all(&bootstrap, &dlq))
        .await??
        .len();
    let (exit, stop_time) =
        tokio::task::block_in_place(|| sink.terminate(Duration::from_secs(30)))?;
    Ok(MetricsRun {
        topic,
        good,
        bad: bad_at.len() as u64,
        per_partition,
        live,
        ready,
        scrape,
        rows,
        dead_letters,
        exit,
        stop_time,
    })
}

/// What the SIGTERM run saw.
#[derive(Debug)]
pub struct SigtermRun {
    pub produced: u64,
    /// Rows in the table when SIGTERM was sent.
    pub stored_at_signal: u64,
    /// How the sink ended, and how long after the signal.
    pub exit: String,
    pub stop_time: Duration,
    /// Rows in the table and the group's committed offset once it had exited.
    pub stored_after_stop: u64,
    pub committed_after_stop: i64,
    /// Members of the group once it had exited (it left: none).
    pub members_after_stop: Vec<String>,
    /// From the restart until it stored its next row.
    pub resumed_after: Duration,
    /// At the end: rows, distinct ids, the committed offset, how the restarted sink ended.
    pub rows: u64,
    pub distinct: u64,
    pub committed: i64,
    pub final_exit: String,
}

/// Streams `records` seed envelopes through the sink, sends it SIGTERM once `after`
/// rows are stored, waits for it to exit, restarts it and lets it finish.
pub async fn sigterm_run(
    target: &Target,
    launch: &Launch,
    records: u64,
    after: u64,
) -> anyhow::Result<SigtermRun> {
    let topic = format!("operate-sigterm-{}", std::process::id());
    kafka::create_topic(&target.bootstrap, &topic).await?;
    produce(target, &topic, records).await?;
    let dir = tempfile::tempdir()?;
    // Small batches: many commits, so the signal lands while a batch is in flight.
    let (file, mut config) = properties_file(dir.path(), &topic, &[("batch.size", "200".into())])?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(&topic);
    let group = config.group_id();
    let db = QuestDb::connect(&config.connection).await?;
    let timeout = crate::wait::case_timeout();
    let committed = |bootstrap: &str| -> anyhow::Result<i64> {
        Ok(kafka::committed_offset(bootstrap, &group, &topic, 0)?.unwrap_or(0))
    };

    let mut sink = SinkProcess::start(launch, &file, target, 0)?;
    let stored_at_signal = wait_rows(&db, &table, after, &sink, timeout).await?;
    let (exit, stop_time) =
        tokio::task::block_in_place(|| sink.terminate(Duration::from_secs(30)))?;
    let (stored_after_stop, _) = counts(&db, &table).await;
    let committed_after_stop = tokio::task::block_in_place(|| committed(&target.bootstrap))?;
    let members_after_stop =
        tokio::task::block_in_place(|| group_members(&target.bootstrap, &config.group_id()))?;

    sink.spawn()?;
    let restarted = Instant::now();
    let deadline = restarted + timeout;
    let resumed_after = loop {
        if counts(&db, &table).await.0 > stored_after_stop {
            break restarted.elapsed();
        }
        if let Some(how) = sink.exited() {
            bail!("the restarted sink exited: {how}\n{}", sink.log_tail(20));
        }
        if Instant::now() > deadline {
            bail!(
                "the restarted sink stored nothing within {timeout:?}\n{}",
                sink.log_tail(20)
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let committed_end = wait_committed(target, &group, &topic, records as i64, timeout * 2)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", sink.log_tail(20)))?;
    let (final_exit, _) = tokio::task::block_in_place(|| sink.terminate(Duration::from_secs(30)))?;
    let (rows, distinct) = counts(&db, &table).await;
    Ok(SigtermRun {
        produced: records,
        stored_at_signal,
        exit,
        stop_time,
        stored_after_stop,
        committed_after_stop,
        members_after_stop,
        resumed_after,
        rows,
        distinct,
        committed: committed_end,
        final_exit,
    })
}

/// Produces `records` seed envelopes (`id64` = 0, 1, ...) to `topic`.
pub(crate) async fn produce(target: &Target, topic: &str, records: u64) -> anyhow::Result<()> {
    let (bootstrap, t) = (target.bootstrap.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        kafka::produce_many(&bootstrap, &t, (0..records).map(crate::bench::envelope))
    })
    .await??;
    Ok(())
}

/// Waits until `table` holds `want` rows; fails early if the sink exits.
pub(crate) async fn wait_rows(
    db: &QuestDb,
    table: &str,
    want: u64,
    sink: &SinkProcess,
    timeout: Duration,
) -> anyhow::Result<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        let (rows, _) = counts(db, table).await;
        if rows >= want {
            return Ok(rows);
        }
        if let Some(how) = sink.exited() {
            bail!(
                "the sink exited with {rows} of {want} rows stored in {table}: {how}\n{}",
                sink.log_tail(20)
            );
        }
        if Instant::now() > deadline {
            bail!(
                "{rows} of {want} rows stored in {table} within {timeout:?}\n{}",
                sink.log_tail(20)
            );
        }
        // Often: a caller strikes at the row count it waited for.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits until the group has committed `end` on `topic`'s partition 0.
pub(crate) async fn wait_committed(
    target: &Target,
    group: &str,
    topic: &str,
    end: i64,
    timeout: Duration,
) -> Result<i64, crate::wait::WaitTimeout> {
    wait_until_async("every record committed", timeout, || async {
        let c = tokio::task::block_in_place(|| {
            kafka::committed_offset(&target.bootstrap, group, topic, 0)
        })
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
        if c >= end {
            Ok(c)
        } else {
            Err(format!("committed {c} of {end}"))
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_text_format() {
        let text = "# HELP x_total X\n# TYPE x_total counter\nx_total{topic=\"a\"} 3\n\
                    x_total{topic=\"b\\\"c,d\"} 4\nup 1\nh_bucket{le=\"+Inf\"} 7\n\
                    g{partition=\"1\",topic=\"a\"} -1.5\n";
        let s = Scrape::parse(text).unwrap();
        assert_eq!(s.value("x_total", &[("topic", "a")]), Some(3.0));
        assert_eq!(s.value("x_total", &[("topic", "b\"c,d")]), Some(4.0));
        assert_eq!(s.value("up", &[]), Some(1.0));
        assert_eq!(s.value("h_bucket", &[("le", "+Inf")]), Some(7.0));
        // Labels match in any order.
        assert_eq!(
            s.value("g", &[("topic", "a"), ("partition", "1")]),
            Some(-1.5)
        );
        assert_eq!(s.sum("x_total"), 7.0);
        assert_eq!(s.value("x_total", &[]), None);
        assert!(Scrape::parse("x_total{topic=\"a\" 3").is_err());
        assert!(Scrape::parse("x_total three").is_err());
    }
}
