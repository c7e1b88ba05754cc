//! The sink's loop: consume a batch, decode it, create or evolve tables, insert the rows in
//! one transaction per table run, and only then commit the Kafka offsets. A bad record stops
//! the sink (`errors.tolerance=none`) after everything before it is stored and committed, or
//! is reported to the log and the dead letter queue and skipped (`errors.tolerance=all`).
//!
//! Deviation: Confluent's JDBC sink rolls back its whole batch (a consumer poll) when one
//! record fails, so good records before a bad one survive or not depending on polls; here they
//! are always stored and committed. DDL is issued between transactions: the reference's ALTER
//! inside its open transaction loses that transaction's rows on QuestDB (reference.rs
//! `stored-up-to-the-bad-record`, `rows-lost-on-evolve`).

use crate::config::{Mapping, SinkConfig, Tolerance, Topics};
use crate::ddl;
use crate::endpoint::Health;
use crate::error::{Problem, RecordError, SinkError};
use crate::kafka_security::Refusal;
use crate::mapping::{Column, SqlParam};
use crate::prepare::{at, Prepared, Preparer, Row};
use crate::questdb::{DbError, QuestDb};
use crate::startup::{self, Attempt};
use crate::telemetry::{self, SinkContext};
use crate::writer::Writer;
use futures_util::FutureExt;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The sink's consumer: its context turns librdkafka's statistics into metrics.
type KafkaConsumer = StreamConsumer<SinkContext>;

/// When `run` returns on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopWhen {
    /// Run until the shutdown signal (like a Connect task).
    Never,
    /// Return once every assigned partition is stored and committed up to its end.
    CaughtUp,
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Kafka's `bootstrap.servers` (a Connect worker setting, not a connector one).
    pub bootstrap_servers: String,
    pub stop_when: StopWhen,
    /// Flip to `true` to stop: the batch in progress is stored and committed (or abandoned
    /// after `shutdown.timeout.ms`), then the consumer leaves its group.
    pub shutdown: Option<watch::Receiver<bool>>,
    /// How long one poll waits for the first record of a batch.
    pub poll_timeout: Duration,
    /// Which task of the connector this process is (Connect's task id): its consumer's static
    /// group membership is `<name>-<task>`, so two processes of one connector need two tasks.
    pub task: u32,
}

impl RunOptions {
    pub fn new(bootstrap_servers: impl Into<String>) -> RunOptions {
        RunOptions {
            bootstrap_servers: bootstrap_servers.into(),
            stop_when: StopWhen::Never,
            shutdown: None,
            poll_timeout: Duration::from_millis(200),
            task: 0,
        }
    }
}

/// What a run did, also returned when it fails.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    /// Records consumed.
    pub records: u64,
    /// Rows stored in QuestDB.
    pub rows: u64,
    /// Bad records reported and skipped (`errors.tolerance=all`).
    pub reported: u64,
    /// Every DDL statement the sink issued, in order.
    pub ddl: Vec<String>,
    /// Values changed on decoding as JsonConverter changes them (e.g. int8 222 -> -34), with where.
    pub coercions: Vec<String>,
    /// The last committed offset (next to read) per topic and partition.
    pub committed: BTreeMap<(String, i32), i64>,
}

/// A run that stopped on an error, with what it had done until then.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Failed {
    pub error: SinkError,
    pub summary: RunSummary,
}

/// Runs the sink until `options.stop_when` or the shutdown signal.
pub async fn run(config: &SinkConfig, options: RunOptions) -> Result<RunSummary, Box<Failed>> {
    let mut summary = RunSummary::default();
    match run_inner(config, &options, &mut summary).await {
        Ok(()) => Ok(summary),
        Err(error) => Err(Box::new(Failed { error, summary })),
    }
}

async fn run_inner(
    config: &SinkConfig,
    options: &RunOptions,
    summary: &mut RunSummary,
) -> Result<(), SinkError> {
    for notice in &config.notices {
        tracing::info!("config: {notice}");
    }
    let kafka_err = |context: &str, e: rdkafka::error::KafkaError| SinkError::Kafka {
        context: context.to_string(),
        message: e.to_string(),
        bootstrap: options.bootstrap_servers.clone(),
    };
    let started = Instant::now();
    let mut shutdown = options.shutdown.clone();
    // First, so that probes see the sink live (and not ready) while it waits at start-up.
    let health = Arc::new(Health::new(config.connection.clone()));
    let _endpoint = match config.operations.metrics_listen {
        Some(addr) => Some(crate::endpoint::start(addr, health.clone()).await?),
        None => None,
    };
    let consumer: KafkaConsumer = consumer_config(config, options)
        .create_with_context(SinkContext::default())
        .map_err(|e| kafka_err("consumer", e))?;

    // Kafka and QuestDB may still be starting (an orchestrator starts all at once): wait for
    // both before joining the group, which would otherwise expect polls meanwhile.
    let kafka = format!("Kafka at {}", options.bootstrap_servers);
    let waited = startup::wait_for(&kafka, &config.operations, started, &mut shutdown, || {
        // A refused login or certificate: librdkafka would try again forever, but it stays
        // refused, so the sink stops at once. librdkafka logs the refusal as it happens (it
        // may land just after the failed request returns: the next attempt, a pause later,
        // stops without asking again); its error event reaches the consumer's queue (polled
        // here: nothing else polls it before the sink subscribes) seconds later.
        let refused_before = consumer.context().refused();
        let answer = match refused_before {
            Some(_) => Err(KafkaError::MetadataFetch(
                rdkafka::types::RDKafkaErrorCode::Authentication,
            )),
            None => {
                let limit =
                    startup::attempt_timeout(&config.operations, started, Duration::from_secs(2));
                consumer.fetch_metadata(None, limit).map(|_| ())
            }
        };
        let mut refused = consumer.context().refused();
        while let Some(Err(e)) = consumer.recv().now_or_never() {
            if let KafkaError::MessageConsumption(code)
            | KafkaError::MessageConsumptionFatal(code) = e
            {
                if let (None, Some(r)) = (&refused, Refusal::of(code)) {
                    refused = Some((r, code.to_string()));
                }
            }
        }
        async move {
            match (answer, refused) {
                (Ok(_), _) => Attempt::Ready(()),
                (Err(_), Some((refusal, reason))) => Attempt::Fatal(SinkError::KafkaRefused {
                    bootstrap: options.bootstrap_servers.clone(),
                    what: refusal.what(),
                    reason,
                    fix: refusal.fix("consumer.override."),
                }),
                (Err(e), None) => Attempt::Retry(e.to_string()),
            }
        }
    })
    .await?;
    if waited.is_none() {
        return Ok(()); // stopped while waiting
    }
    let questdb = format!(
        "QuestDB at {}:{}",
        config.connection.host, config.connection.port
    );
    let db = startup::wait_for(
        &questdb,
        &config.operations,
        started,
        &mut shutdown,
        || async {
            match QuestDb::connect(&config.connection).await {
                Ok(db) => Attempt::Ready(db),
                Err(e) if e.is_unreachable() => Attempt::Retry(startup::one_line(e)),
                Err(e) => Attempt::Fatal(e.into()),
            }
        },
    )
    .await?;
    let Some(db) = db else {
        return Ok(());
    };

    let patterns: Vec<String> = match &config.topics {
        Topics::List(topics) => topics.clone(),
        // librdkafka treats a subscription starting with ^ as a regular expression.
        Topics::Regex(regex) => vec![format!("^{}", regex.trim_start_matches('^'))],
    };
    let pattern_refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
    consumer
        .subscribe(&pattern_refs)
        .map_err(|e| kafka_err("subscribe", e))?;

    let dlq = match (&config.errors.dlq_topic, config.errors.tolerance) {
        (Some(_), Tolerance::All) => Some({
            // As Connect's dead letter queue producer: the `producer.override.` settings.
            let mut producer = ClientConfig::new();
            for (key, value) in config.producer_overrides.iter() {
                producer.set(key, value);
            }
            producer
                .set("bootstrap.servers", &options.bootstrap_servers)
                .create::<FutureProducer>()
                .map_err(|e| kafka_err("dead letter queue producer", e))?
        }),
        _ => None,
    };
    if let Some(conf) = &config.ilp {
        crate::writer::check_ilp_login(conf).await?;
    }
    let writer = Writer::new(config.ilp.as_ref(), config.designated_column())?;
    let mut sink = Sink {
        config,
        db,
        writer,
        tables: HashMap::new(),
        dlq,
        summary,
        done: BTreeMap::new(),
        stop: options.shutdown.clone(),
        stopping: false,
    };
    let mut preparer = Some(Preparer::new(Arc::new(config.clone())));
    // The next batch, polled and prepared while the last one was written.
    let mut ahead = None;

    loop {
        if shutdown.as_ref().is_some_and(|s| *s.borrow()) {
            break;
        }
        if config.operations.metrics_listen.is_some() {
            health.set_assigned(consumer.assignment().map_or(0, |a| a.count()));
        }
        let (batch, prepared) = match ahead.take() {
            Some(ready) => ready,
            None => {
                let batch = next_batch(
                    &consumer,
                    config.batch_size,
                    options.poll_timeout,
                    &mut shutdown,
                )
                .await
                .map_err(|e| kafka_err("poll", e))?;
                let prepared = preparer
                    .as_mut()
                    .expect("the preparer is back after every batch")
                    .batch(&batch);
                (batch, prepared)
            }
        };
        // A full batch means more is waiting: the (round-trip) caught-up check can wait too.
        let drained = batch.len() < config.batch_size;
        if !batch.is_empty() {
            let started = Instant::now();
            // While this batch is written and committed, the next one is polled and prepared
            // on a thread of its own, if more is waiting; it is only stored after this one is
            // committed.
            let next = async {
                if drained {
                    return Ok::<_, SinkError>(None);
                }
                let batch = next_batch(
                    &consumer,
                    config.batch_size,
                    options.poll_timeout,
                    &mut shutdown,
                )
                .await
                .map_err(|e| kafka_err("poll", e))?;
                let mut p = preparer
                    .take()
                    .expect("the preparer is back after every batch");
                let (p, batch, prepared) = tokio::task::spawn_blocking(move || {
                    let prepared = p.batch(&batch);
                    (p, batch, prepared)
                })
                .await
                // A panic in there is the sink's own bug: raise it here, as before.
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
                preparer = Some(p);
                Ok(Some((batch, prepared)))
            };
            // After a shutdown signal the batch gets `shutdown.timeout.ms` to be stored.
            let work = async { tokio::join!(sink.process(&batch, prepared), next) };
            let finished = crate::stop::unless_abandoned(
                work,
                options.shutdown.clone(),
                config.operations.shutdown_timeout,
            )
            .await;
            tracing::debug!(
                "batch of {} processed in {:?}",
                batch.len(),
                started.elapsed()
            );
            // Whatever was stored before a failure is committed before the failure is returned.
            match sink.commit(&consumer) {
                // The offsets stay pending and go with the next commit; until then a restart
                // would replay these rows (the JDBC sink's window too).
                Err(e) if commit_can_wait(&e) => {
                    telemetry::error("kafka_commit");
                    tracing::warn!(
                        "Kafka: commit: {e}; the offsets are committed with the next batch"
                    )
                }
                other => other.map_err(|e| kafka_err("commit", e))?,
            }
            telemetry::batch_done(started.elapsed());
            let Some((processed, next)) = finished else {
                tracing::warn!(
                    "stopping: the batch in progress took longer than shutdown.timeout.ms ({:?}) and was abandoned; what was stored of it is committed, the rest is read again on restart",
                    config.operations.shutdown_timeout
                );
                break;
            };
            match processed {
                Err(SinkError::Interrupted { at }) => {
                    tracing::info!("stopping while QuestDB was unavailable: nothing from {at} on is committed, a restart resumes there");
                    break;
                }
                other => other?,
            }
            ahead = next?;
        }
        // A check that cannot reach the broker just says "not yet".
        let caught_up = |c: &KafkaConsumer| match caught_up(c) {
            Err(e) if is_transient(&e) => Ok(false),
            other => other,
        };
        if options.stop_when == StopWhen::CaughtUp
            && drained
            && caught_up(&consumer).map_err(|e| kafka_err("watermarks", e))?
        {
            break;
        }
    }
    // Prefetched records are dropped unstored and uncommitted: read again on restart.
    drop(ahead);
    drop(sink);
    if options.stop_when == StopWhen::Never {
        crate::stop::leave_and_close(consumer).await;
    }
    Ok(())
}

/// The consumer's settings: the sink's defaults, then the user's `consumer.override.` keys,
/// then what the sink's commit protocol cannot do without.
fn consumer_config(config: &SinkConfig, options: &RunOptions) -> ClientConfig {
    let mut consumer_config = ClientConfig::new();
    if options.stop_when == StopWhen::CaughtUp {
        // The caught-up check's round trips (committed offsets, watermarks) share the broker
        // connection with the fetch long-poll and wait behind it: keep the long-poll short in
        // batch mode (measured: 480 ms per check with librdkafka's default of 500 ms).
        consumer_config.set("fetch.wait.max.ms", "50");
    }
    // Static membership: a restarted process (after kill -9 too) takes its partitions back at
    // once instead of waiting for the old member's session to time out (librdkafka: 45 s).
    // Deviation: Connect's sink consumers join dynamically; a `consumer.override.` of this key
    // still wins.
    consumer_config.set(
        "group.instance.id",
        format!("{}-{}", config.name, options.task),
    );
    // A bounded prefetch: librdkafka's default queue of 64 MiB was most of the sink's memory
    // (108 MiB peak for 200k seed records; about 40 MiB with 8 MiB, no slower than 16 MiB).
    // Past the queue's threshold librdkafka waits fetch.queue.backoff.ms (1 s by default)
    // before fetching again, which starves a small queue (18k rows/s at 8 MiB); 10 ms keeps
    // it fed. Records and offsets are the same either way.
    consumer_config.set("queued.max.messages.kbytes", "8192");
    consumer_config.set("fetch.queue.backoff.ms", "10");
    // A broker back after a restart is retried within 1 s, as Connect's Java consumer does
    // (`reconnect.backoff.max.ms` 1000 there; librdkafka's default of 10 s left the sink idle
    // for up to 10 s after the broker was back).
    consumer_config.set("reconnect.backoff.max.ms", "1000");
    if config.operations.metrics_listen.is_some() {
        // Per-partition lag and committed offsets for the metrics, from librdkafka.
        consumer_config.set("statistics.interval.ms", "1000");
    }
    for (key, value) in config.consumer_overrides.iter() {
        consumer_config.set(key, value);
    }
    consumer_config
        .set("bootstrap.servers", &options.bootstrap_servers)
        .set("group.id", config.group_id())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Connect's sink consumers start from the earliest offset when the group has none.
        .set("auto.offset.reset", "earliest");
    consumer_config
}

/// Waits up to `timeout` for a first record, then takes what else is ready, up to `max`.
async fn next_batch(
    consumer: &KafkaConsumer,
    max: usize,
    timeout: Duration,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<Vec<OwnedMessage>, rdkafka::error::KafkaError> {
    let mut batch = Vec::new();
    let first = async {
        match shutdown {
            Some(s) => tokio::select! {
                m = tokio::time::timeout(timeout, consumer.recv()) => m.ok(),
                _ = s.changed() => None,
            },
            None => tokio::time::timeout(timeout, consumer.recv()).await.ok(),
        }
    };
    match first.await {
        None => return Ok(batch),
        Some(Err(e)) if is_transient(&e) => {
            telemetry::error("kafka");
            tracing::warn!("Kafka: {e}; librdkafka reconnects, the sink goes on");
            return Ok(batch);
        }
        Some(m) => batch.push(m?.detach()),
    }
    // A short linger collects the records already fetched, so a burst is one transaction.
    while batch.len() < max {
        // A record already fetched needs no timer (one per record showed in profiles).
        let next = match consumer.recv().now_or_never() {
            Some(m) => Ok(m),
            None => tokio::time::timeout(Duration::from_millis(5), consumer.recv()).await,
        };
        match next {
            Ok(Err(e)) if is_transient(&e) => {
                telemetry::error("kafka");
                tracing::warn!("Kafka: {e}; librdkafka reconnects, the sink goes on");
                break;
            }
            Ok(m) => batch.push(m?.detach()),
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// Errors librdkafka recovers from by itself (a broker going away and coming back, a
/// coordinator moving): logged, and the sink goes on, as a Connect worker's consumer does.
fn is_transient(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::*;
    matches!(
        e.rdkafka_error_code(),
        Some(
            BrokerTransportFailure
                | AllBrokersDown
                | OperationTimedOut
                | TimedOutQueue
                | LeaderNotAvailable
                | NotLeaderForPartition
                | RequestTimedOut
                | NetworkException
                | CoordinatorLoadInProgress
                | CoordinatorNotAvailable
                | NotCoordinator
        )
    )
}

/// Whether a failed commit can wait for the next batch's: a broker out of reach, or the group
/// rebalancing (another task joining or leaving makes the coordinator refuse commits of the old
/// generation). As Connect's WorkerSinkTask, which logs a failed commit and commits again
/// later, the offsets stay pending; nothing is lost, and a partition that moved meanwhile is
/// read again from its last committed offset by its new owner (rows stored twice on a plain
/// table, as after `kill -9`). Found by the bench: 4 processes of one connector, one exited 1 on
/// `IllegalGeneration` while the group rebalanced.
fn commit_can_wait(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::*;
    is_transient(e)
        || matches!(
            e.rdkafka_error_code(),
            Some(IllegalGeneration | RebalanceInProgress | UnknownMemberId)
        )
}

/// Whether every assigned partition has been handled up to its high watermark.
/// It runs right after a commit, so the group's committed offsets are the sink's progress.
fn caught_up(consumer: &KafkaConsumer) -> Result<bool, rdkafka::error::KafkaError> {
    let assignment = consumer.assignment()?;
    if assignment.count() == 0 {
        return Ok(false);
    }
    let committed = consumer.committed_offsets(assignment.clone(), Duration::from_secs(10))?;
    for element in committed.elements() {
        let (topic, partition) = (element.topic(), element.partition());
        let (low, high) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        let committed = match element.offset() {
            Offset::Offset(o) => o,
            _ => low,
        };
        if committed.max(low) < high {
            return Ok(false);
        }
    }
    Ok(true)
}

struct Sink<'a> {
    config: &'a SinkConfig,
    db: QuestDb,
    writer: Writer,
    /// Lower-cased column names of the tables seen so far (QuestDB names are case-insensitive).
    tables: HashMap<String, HashSet<String>>,
    dlq: Option<FutureProducer>,
    summary: &'a mut RunSummary,
    /// The highest offset handled (stored or reported) per partition, not yet committed.
    done: BTreeMap<(String, i32), i64>,
    /// The shutdown signal: it cuts retry pauses short.
    stop: Option<watch::Receiver<bool>>,
    /// The signal came during a retry pause: the sink gives up on QuestDB and stops cleanly.
    stopping: bool,
}

impl Sink<'_> {
    /// Stores a prepared batch in order, stopping at or reporting its bad records.
    async fn process(
        &mut self,
        batch: &[OwnedMessage],
        prepared: Vec<Prepared>,
    ) -> Result<(), SinkError> {
        self.summary.records += batch.len() as u64;
        telemetry::consumed(batch);
        let mut pending: Vec<Row> = Vec::new();
        for (message, record) in batch.iter().zip(prepared) {
            for note in record.coercions {
                tracing::warn!("{note}");
                self.summary.coercions.push(note);
            }
            match record.row {
                Ok(Some(row)) => pending.push(row),
                // Nothing to write (a tombstone QuestDB's connector skips): handled once
                // everything before it is stored.
                Ok(None) => {
                    self.write(batch, std::mem::take(&mut pending)).await?;
                    self.mark_done(message);
                }
                Err(problem) => {
                    // Keep order: everything before the bad record is stored first.
                    self.write(batch, std::mem::take(&mut pending)).await?;
                    self.reject(message, problem).await?;
                }
            }
        }
        self.write(batch, pending).await
    }

    /// Writes rows in runs of the same table and columns, one transaction a run.
    async fn write(&mut self, batch: &[OwnedMessage], rows: Vec<Row>) -> Result<(), SinkError> {
        let mut rows = rows.into_iter().peekable();
        while let Some(first) = rows.next() {
            let mut run = vec![first];
            while let Some(next) = rows.peek() {
                if next.table == run[0].table && Arc::ptr_eq(&next.columns, &run[0].columns) {
                    run.push(rows.next().expect("peeked"));
                } else {
                    break;
                }
            }
            self.write_run(batch, run).await?;
        }
        Ok(())
    }

    async fn write_run(&mut self, batch: &[OwnedMessage], run: Vec<Row>) -> Result<(), SinkError> {
        let (table, columns) = (run[0].table.clone(), run[0].columns.clone());
        let first = &batch[run[0].index];
        // A lost connection is not the records' fault: retried, then the sink gives up; never
        // a bad record (which errors.tolerance=all would skip and commit).
        let (mut attempt, mut connect_failed) = (0, None);
        let ensured = loop {
            // QuestDB's connector leaves tables to ILP, which creates and extends them.
            if matches!(self.config.mapping, Mapping::QuestDbConnector(_)) {
                break Ok(());
            }
            match self.ensure_table(&table, &columns).await {
                Err(Problem::Write(e)) if e.is_transient() => {
                    if attempt == self.config.max_retries {
                        return Err(self.unavailable(&table, first, connect_failed.unwrap_or(e)));
                    }
                    attempt += 1;
                    connect_failed = self.pause_and_reconnect(&e, attempt).await;
                    if self.stopping {
                        return Err(self.unavailable(&table, first, e));
                    }
                }
                other => break other,
            }
        };
        if let Err(Problem::Write(e)) = &ensured {
            if e.is_refused() {
                let Err(Problem::Write(e)) = ensured else {
                    unreachable!()
                };
                return Err(e.into());
            }
        }
        if let Err(problem) = ensured {
            // The table cannot take these records: each of them fails the same way.
            let reason = problem.to_string();
            self.reject(&batch[run[0].index], problem).await?;
            for row in &run[1..] {
                let problem = Problem::TableRefused {
                    table: table.clone(),
                    reason: reason.clone(),
                };
                self.reject(&batch[row.index], problem).await?;
            }
            return Ok(());
        }
        let (indexes, params): (Vec<usize>, Vec<Vec<SqlParam>>) =
            run.into_iter().map(|r| (r.index, r.params)).unzip();
        match self.insert_with_retries(&table, &columns, &params).await {
            Ok(()) => {
                for &index in &indexes {
                    self.mark_done(&batch[index]);
                }
                self.summary.rows += indexes.len() as u64;
                stored_per_topic(batch, &indexes);
                Ok(())
            }
            // Retried already: QuestDB is away, not refusing a record. Splitting the run would
            // retry every row again (rows x max.retries pauses) before giving up.
            Err(e) if e.is_transient() => Err(self.unavailable(&table, first, e)),
            // Credentials refused: no record is to blame, so none is skipped or committed.
            Err(e) if e.is_refused() => Err(e.into()),
            Err(e) if indexes.len() == 1 => {
                self.reject(&batch[indexes[0]], Problem::Write(e)).await
            }
            Err(_) => {
                // Find the record QuestDB refuses: one row a transaction, in order.
                for (index, row) in indexes.into_iter().zip(&params) {
                    match self
                        .insert_with_retries(&table, &columns, std::slice::from_ref(row))
                        .await
                    {
                        Ok(()) => {
                            self.mark_done(&batch[index]);
                            self.summary.rows += 1;
                            telemetry::stored(batch[index].topic(), 1);
                        }
                        Err(e) if e.is_transient() => {
                            return Err(self.unavailable(&table, &batch[index], e))
                        }
                        Err(e) => self.reject(&batch[index], Problem::Write(e)).await?,
                    }
                }
                Ok(())
            }
        }
    }

    /// The sink gives up on QuestDB from `message` on (nothing from there is marked done).
    fn unavailable(&self, table: &str, message: &OwnedMessage, last: DbError) -> SinkError {
        if self.stopping {
            return SinkError::Interrupted { at: at(message) };
        }
        SinkError::Unavailable {
            host: self.config.connection.host.clone(),
            port: self.config.connection.port,
            retries: self.config.max_retries,
            backoff_ms: self.config.retry_backoff.as_millis(),
            table: table.to_string(),
            at: at(message),
            last,
        }
    }

    /// `retry.backoff.ms`, then a new connection. A failed connect is the error to report if
    /// the retries run out: it says more than the dead connection's "connection closed".
    /// A shutdown signal ends the pause and sets `stopping` instead.
    async fn pause_and_reconnect(&mut self, e: &DbError, attempt: u32) -> Option<DbError> {
        telemetry::error("questdb_unavailable");
        if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
            self.stopping = true;
            return None;
        }
        tracing::warn!(
            "{e}; retry {attempt} of {} in {:?}",
            self.config.max_retries,
            self.config.retry_backoff
        );
        telemetry::retry("questdb_write");
        if startup::sleep_or_stop(self.config.retry_backoff, &mut self.stop).await {
            self.stopping = true;
            return None;
        }
        match QuestDb::connect(&self.config.connection).await {
            Ok(db) => {
                self.db = db;
                None
            }
            Err(e) => Some(e),
        }
    }

    /// Retries lost connections `max.retries` times, `retry.backoff.ms` apart; a statement
    /// QuestDB rejects is not retried, since it would be rejected again.
    async fn insert_with_retries(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        let mut attempt = 0;
        let mut connect_failed = None;
        loop {
            let started = Instant::now();
            let written = self.writer.write(&mut self.db, table, columns, rows).await;
            telemetry::write_attempt(started.elapsed());
            match written {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && attempt < self.config.max_retries => {
                    attempt += 1;
                    connect_failed = self.pause_and_reconnect(&e, attempt).await;
                    if self.stopping {
                        return Err(e);
                    }
                }
                // Out of retries: the last reconnect's error, if it failed, names the cause.
                Err(e) if e.is_transient() => return Err(connect_failed.unwrap_or(e)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Creates the table or adds missing columns, as `auto.create` / `auto.evolve` allow.
    async fn ensure_table(&mut self, table: &str, columns: &[Column]) -> Result<(), Problem> {
        if !self.tables.contains_key(table) {
            match self.db.find_table(table).await.map_err(Problem::Write)? {
                Some(existing) => {
                    let known = self.db.columns(&existing).await.map_err(Problem::Write)?;
                    self.tables.insert(
                        table.to_string(),
                        known.into_iter().map(|c| c.name.to_lowercase()).collect(),
                    );
                }
                None if self.config.auto_create => {
                    let sql = ddl::create_table_for(table, columns, self.config.native.as_ref());
                    match self.issue(&sql).await {
                        Ok(()) => {
                            self.tables.insert(
                                table.to_string(),
                                columns.iter().map(|c| c.name.to_lowercase()).collect(),
                            );
                            return Ok(());
                        }
                        // Another task of the connector created it meanwhile (as the JDBC
                        // sink does: re-read the table after a failed CREATE, then amend it).
                        Err(e) => match self.created_meanwhile(table).await {
                            Some(existing) => {
                                let known =
                                    self.db.columns(&existing).await.map_err(Problem::Write)?;
                                self.tables.insert(
                                    table.to_string(),
                                    known.into_iter().map(|c| c.name.to_lowercase()).collect(),
                                );
                            }
                            _ => return Err(e),
                        },
                    }
                }
                None => {
                    return Err(Problem::TableMissing {
                        table: table.to_string(),
                    })
                }
            }
        }
        let known = &self.tables[table];
        let missing: Vec<&Column> = columns
            .iter()
            .filter(|c| !known.contains(&c.name.to_lowercase()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if !self.config.auto_evolve {
            let fields = missing
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Problem::MissingFields {
                table: table.to_string(),
                fields,
            });
        }
        if let Some(required) = missing.iter().find(|c| !c.nullable && !c.has_default) {
            return Err(Problem::RequiredFieldAdded {
                table: table.to_string(),
                field: required.name.clone(),
            });
        }
        for sql in ddl::add_columns(table, &missing) {
            self.issue(&sql).await?;
        }
        let names: Vec<String> = missing.iter().map(|c| c.name.to_lowercase()).collect();
        self.tables
            .get_mut(table)
            .expect("cached above")
            .extend(names);
        Ok(())
    }

    /// After a CREATE TABLE failed: the table another process created meanwhile. QuestDB
    /// refuses the name as soon as the other CREATE holds it, a moment before `tables()` lists
    /// it (measured: two sink tasks starting together), so look for up to about a second.
    async fn created_meanwhile(&self, table: &str) -> Option<String> {
        for _ in 0..20 {
            match self.db.find_table(table).await {
                Ok(Some(existing)) => return Some(existing),
                Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(_) => return None,
            }
        }
        None
    }

    async fn issue(&mut self, sql: &str) -> Result<(), Problem> {
        tracing::info!("DDL: {sql}");
        self.db.execute(sql).await.map_err(Problem::Write)?;
        self.summary.ddl.push(sql.to_string());
        Ok(())
    }

    fn mark_done(&mut self, message: &OwnedMessage) {
        self.done.insert(
            (message.topic().to_string(), message.partition()),
            message.offset(),
        );
    }

    /// A bad record: stop (tolerance none) or report it and count it as handled (tolerance all).
    async fn reject(&mut self, message: &OwnedMessage, problem: Problem) -> Result<(), SinkError> {
        telemetry::error(telemetry::problem_kind(&problem));
        let error = RecordError {
            at: at(message),
            problem,
        };
        if self.config.errors.tolerance == Tolerance::None {
            return Err(SinkError::Record(error));
        }
        if self.config.errors.log {
            tracing::error!("skipping bad record: {error}");
        }
        if let (Some(producer), Some(topic)) = (&self.dlq, &self.config.errors.dlq_topic) {
            let mut record = FutureRecord::to(topic);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            if let Some(payload) = message.payload() {
                record = record.payload(payload);
            }
            if self.config.errors.dlq_context_headers {
                record = record.headers(context_headers(&self.config.name, &error));
            }
            producer
                .send(record, Duration::from_secs(30))
                .await
                .map_err(|(e, _)| SinkError::Kafka {
                    context: format!("dead letter queue {topic}"),
                    message: e.to_string(),
                    bootstrap: String::new(),
                })?;
        }
        telemetry::skipped(message.topic(), self.dlq.is_some());
        self.summary.reported += 1;
        self.mark_done(message);
        Ok(())
    }

    fn commit(&mut self, consumer: &KafkaConsumer) -> Result<(), rdkafka::error::KafkaError> {
        if self.done.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), offset) in &self.done {
            offsets.add_partition_offset(topic, *partition, Offset::Offset(offset + 1))?;
        }
        consumer.commit(&offsets, CommitMode::Sync)?;
        for ((topic, partition), offset) in std::mem::take(&mut self.done) {
            telemetry::committed(&topic, partition, offset + 1);
            self.summary
                .committed
                .insert((topic, partition), offset + 1);
        }
        Ok(())
    }
}

/// Rows stored, counted per topic (a table may take several topics' records).
fn stored_per_topic(batch: &[OwnedMessage], indexes: &[usize]) {
    let mut per_topic: BTreeMap<&str, u64> = BTreeMap::new();
    for &i in indexes {
        *per_topic.entry(batch[i].topic()).or_default() += 1;
    }
    for (topic, rows) in per_topic {
        telemetry::stored(topic, rows);
    }
}

/// Connect's `__connect.errors.*` headers for a dead-lettered record.
fn context_headers(connector: &str, error: &RecordError) -> OwnedHeaders {
    let partition = error.at.partition.to_string();
    let offset = error.at.offset.to_string();
    let message = error.problem.to_string();
    let pairs = [
        ("__connect.errors.topic", error.at.topic.as_str()),
        ("__connect.errors.partition", partition.as_str()),
        ("__connect.errors.offset", offset.as_str()),
        ("__connect.errors.connector.name", connector),
        ("__connect.errors.task.id", "0"),
        ("__connect.errors.stage", error.problem.stage()),
        ("__connect.errors.class.name", "sink"),
        (
            "__connect.errors.exception.class.name",
            "sink::error::RecordError",
        ),
        ("__connect.errors.exception.message", message.as_str()),
    ];
    pairs
        .into_iter()
        .fold(OwnedHeaders::new(), |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;

    fn consumer(extra: &str) -> ClientConfig {
        let seed = include_str!("../../fixtures/seed/connect-jdbc.properties");
        let props = crate::properties::parse(&format!("{seed}\n{extra}"));
        let config = SinkConfig::from_properties(&props).expect("the seed's properties");
        consumer_config(&config, &RunOptions::new("kafka:9092"))
    }

    #[rstest::rstest]
    #[case::rebalance_old_generation(RDKafkaErrorCode::IllegalGeneration, true)]
    #[case::rebalance_in_progress(RDKafkaErrorCode::RebalanceInProgress, true)]
    #[case::member_forgotten(RDKafkaErrorCode::UnknownMemberId, true)]
    #[case::coordinator_moved(RDKafkaErrorCode::NotCoordinator, true)]
    #[case::broker_gone(RDKafkaErrorCode::AllBrokersDown, true)]
    #[case::not_allowed(RDKafkaErrorCode::GroupAuthorizationFailed, false)]
    #[case::fenced(RDKafkaErrorCode::FencedInstanceId, false)]
    #[case::bad_offset(RDKafkaErrorCode::OffsetOutOfRange, false)]
    fn which_commit_failures_wait_for_the_next_commit(
        #[case] code: RDKafkaErrorCode,
        #[case] waits: bool,
    ) {
        let e = rdkafka::error::KafkaError::ConsumerCommit(code);
        assert_eq!(commit_can_wait(&e), waits, "{e}");
    }

    #[test]
    fn the_prefetch_is_bounded_by_default() {
        let c = consumer("");
        assert_eq!(c.get("queued.max.messages.kbytes"), Some("8192"));
        assert_eq!(c.get("fetch.queue.backoff.ms"), Some("10"));
        assert_eq!(c.get("group.instance.id"), Some("local-jdbc-sink-0"));
        assert_eq!(c.get("bootstrap.servers"), Some("kafka:9092"));
        assert_eq!(c.get("fetch.wait.max.ms"), None, "only in batch mode");
        assert_eq!(c.get("statistics.interval.ms"), None, "only with metrics");
        let with_metrics = consumer("metrics.listen=127.0.0.1:9464");
        assert_eq!(with_metrics.get("statistics.interval.ms"), Some("1000"));
    }

    #[test]
    fn consumer_overrides_win_over_the_defaults_but_not_the_commit_protocol() {
        let c = consumer(
            "consumer.override.queued.max.messages.kbytes=65536\n\
             consumer.override.fetch.queue.backoff.ms=1000\n\
             consumer.override.group.instance.id=mine\n\
             consumer.override.enable.auto.commit=true",
        );
        assert_eq!(c.get("queued.max.messages.kbytes"), Some("65536"));
        assert_eq!(c.get("fetch.queue.backoff.ms"), Some("1000"));
        assert_eq!(c.get("group.instance.id"), Some("mine"));
        assert_eq!(c.get("enable.auto.commit"), Some("false"));
    }
}
