//! Running the sink: wait for the services, then the loop ([`batches`]): consume a batch,
//! decode it, create or evolve tables, insert the rows in one transaction per table run, and
//! only then commit the Kafka offsets. A bad record stops
//! the sink (`errors.tolerance=none`) after everything before it is stored and committed, or
//! is reported to the log and the dead letter queue and skipped (`errors.tolerance=all`).
//!
//! Deviation: Confluent's JDBC sink rolls back its whole batch (a consumer poll) when one
//! record fails, so good records before a bad one survive or not depending on polls; here they
//! are always stored and committed. DDL is issued between transactions: the reference's ALTER
//! inside its open transaction loses that transaction's rows on QuestDB (reference.rs
//! `stored-up-to-the-bad-record`, `rows-lost-on-evolve`).

mod batches;
mod coercion_log;
pub mod endpoint;
mod ilp_http;
mod records;
pub mod report;
mod services;
pub mod startup;
pub mod stop;
mod summary;

use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::run::endpoint::Health;
use crate::run::records::Records;
use crate::source::consumer::{self, Join};
use crate::source::dead_letter::DeadLetters;
use crate::write::store::Store;
use crate::write::Writer;
use std::sync::Arc;
use std::time::{Duration, Instant};
pub use summary::RunSummary;
use tokio::sync::watch;

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
    let health = Arc::new(Health::new(endpoint::Probe::of(config)));
    let _endpoint = match config.operations.metrics_listen {
        Some(addr) => Some(endpoint::start(addr, health.clone()).await?),
        None => None,
    };
    let join = Join {
        bootstrap_servers: options.bootstrap_servers.clone(),
        task: options.task,
        batch_mode: options.stop_when == StopWhen::CaughtUp,
    };
    // Shared with the thread a commit runs on while the next batch is written.
    let consumer = Arc::new(consumer::create(config, &join).map_err(|e| kafka_err("consumer", e))?);
    let bootstrap = &options.bootstrap_servers;
    if services::kafka(&consumer, config, bootstrap, started, &mut shutdown)
        .await?
        .is_none()
    {
        return Ok(()); // stopped while waiting
    }
    // QuestDB-connector mode speaks ILP only, unless `connection.url` asks for PG wire too.
    let db = match (&config.ilp, config.pg_wire) {
        (Some(conf), false) => {
            if services::questdb_http(config, conf, started, &mut shutdown)
                .await?
                .is_none()
            {
                return Ok(());
            }
            None
        }
        _ => match services::questdb(config, started, &mut shutdown).await? {
            Some(db) => Some(db),
            None => return Ok(()),
        },
    };
    let dead_letters = DeadLetters::start(config, bootstrap, options.task).await?;
    if let Some(conf) = &config.ilp {
        crate::write::ilp::check_ilp_login(conf).await?;
    }
    let writer = Writer::new(config.ilp.as_ref(), config.designated_column())?;
    // Last of the start-up steps: a consumer dropped while its first assignment arrives hangs
    // in librdkafka's close (rd_kafka_assign inside the closing queue's poll waits for itself;
    // seen when the dead letter topic was refused right after subscribing), so every check
    // that can stop the sink at start comes first.
    consumer::subscribe(&consumer, &config.topics).map_err(|e| kafka_err("subscribe", e))?;
    let store = Store::new(config, db, writer, options.shutdown.clone());
    let records = Records::new(config, dead_letters, summary);
    let consumed = batches::consume(
        config,
        options,
        &consumer,
        store,
        records,
        &health,
        &mut shutdown,
    )
    .await;
    // Every commit thread is joined by now: the loop waits for each one's answer.
    let Ok(consumer) = Arc::try_unwrap(consumer) else {
        unreachable!("a commit outlived the loop");
    };
    if consumed.is_ok() && options.stop_when == StopWhen::Never {
        stop::leave_and_close(consumer).await;
    } else {
        stop::close(consumer).await;
    }
    consumed
}
