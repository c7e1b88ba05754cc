//! The loop over batches: poll, prepare (decode and map), store, commit; the next batch is
//! polled before the current one is stored and prepared while it is. A rebalance callback runs
//! inside a poll, so never while rows are written: it commits what is stored of the partitions
//! it revokes, and the current batch's records of them are then left unwritten
//! (`source/ownership.rs`).

use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::mapping::prepare::{Prepared, Preparer, Row};
use crate::metrics;
use crate::run::endpoint::Health;
use crate::run::records::Records;
use crate::run::{stop, RunOptions, StopWhen};
use crate::source::consumer::{self, KafkaConsumer};
use crate::source::ownership::Stamp;
use crate::write::store::{Outcomes, Store};
use rdkafka::consumer::Consumer;
use rdkafka::message::{Message, OwnedMessage};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Runs batches until `options.stop_when`, the shutdown signal or an error; then commits what
/// is stored and not committed yet.
pub(crate) async fn consume(
    config: &SinkConfig,
    options: &RunOptions,
    consumer: &Arc<KafkaConsumer>,
    mut store: Store<'_>,
    mut records: Records<'_>,
    health: &Health,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<(), SinkError> {
    let consumed = batches(
        config,
        options,
        consumer,
        &mut store,
        &mut records,
        health,
        shutdown,
    )
    .await;
    // A commit left for the next batch's write (a full batch's), if the loop ended first.
    if let Err(e) = records.commit(consumer) {
        metrics::error("kafka_commit");
        tracing::warn!(
            "Kafka: commit: {e}; a restart reads what was stored since the last commit again"
        );
    }
    consumed
}

async fn batches(
    config: &SinkConfig,
    options: &RunOptions,
    consumer: &Arc<KafkaConsumer>,
    store: &mut Store<'_>,
    records: &mut Records<'_>,
    health: &Health,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<(), SinkError> {
    let kafka_err = |context: &str, e| kafka_error(config, options, consumer, context, e);
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
        let (batch, stamp, prepared) = match ahead.take() {
            Some(ready) => ready,
            None => {
                let (batch, stamp) = poll(consumer, config, options, shutdown, records).await?;
                let (batch, prepared) = prepare(&mut preparer, batch).await;
                (batch, stamp, prepared)
            }
        };
        // A full batch means more is waiting: the (round-trip) caught-up check can wait too.
        let drained = batch.len() < config.batch_size;
        if !batch.is_empty() {
            let started = Instant::now();
            // The next batch is polled now, before this one is written, if more is waiting:
            // its records are ready in librdkafka's queue (fetched in the background), and a
            // revoke in this poll leaves this batch's records of its partitions unwritten.
            let polled = match drained {
                true => None,
                false => Some(poll(consumer, config, options, shutdown, records).await?),
            };
            let keep = current(consumer, &batch, stamp);
            // The last batch's offsets, if it left them (it was full), are committed on a
            // thread of their own while this one is written: after the poll (a revoke in it
            // commits those of its partitions itself), and answered before the next poll.
            let committing = records.start_commit(consumer);
            // It is prepared on a thread of its own while this one is written and committed.
            let next = async {
                let (batch, stamp) = polled?;
                let (batch, prepared) = prepare(&mut preparer, batch).await;
                Some((batch, stamp, prepared))
            };
            // After a shutdown signal the batch gets `shutdown.timeout.ms` to be stored.
            let work =
                async { tokio::join!(process(store, records, &batch, prepared, &keep), next) };
            let finished = stop::unless_abandoned(
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
            if let Some(in_flight) = committing {
                unless_it_can_wait(records.finish_commit(in_flight).await)
                    .map_err(|e| kafka_err("commit", e))?;
            }
            // Whatever was stored before a failure is committed before the failure is returned;
            // nothing past a dead letter Kafka has not acknowledged.
            let dead_letters = records.dead_letters_acknowledged().await;
            // With more waiting and nothing amiss, this batch's commit goes with the next
            // batch's write instead of holding it up (Kafka's round trip off the critical path).
            let more = matches!(&finished, Some((Ok(()), Some((next, _, _)))) if !next.is_empty());
            if !(more && dead_letters.is_ok()) {
                unless_it_can_wait(records.commit(consumer)).map_err(|e| kafka_err("commit", e))?;
            }
            dead_letters?;
            metrics::batch_done(started.elapsed());
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
            ahead = next;
        }
        // A check that cannot reach the broker just says "not yet".
        let caught_up = |c: &KafkaConsumer| match consumer::caught_up(c) {
            Err(e) if consumer::is_transient(&e) => Ok(false),
            other => other,
        };
        if options.stop_when == StopWhen::CaughtUp
            && drained
            && caught_up(consumer).map_err(|e| kafka_err("watermarks", e))?
        {
            break;
        }
    }
    // Prefetched records are dropped unstored and uncommitted: read again on restart.
    drop(ahead);
    Ok(())
}

/// A commit that failed because a broker is out of reach or the group is rebalancing leaves
/// its offsets pending for the next commit; any other failure is returned, and stops the sink.
fn unless_it_can_wait(
    result: Result<(), rdkafka::error::KafkaError>,
) -> Result<(), rdkafka::error::KafkaError> {
    match result {
        // Until then a restart would replay these rows (the JDBC sink's window too).
        Err(e) if consumer::commit_can_wait(&e) => {
            metrics::error("kafka_commit");
            tracing::warn!("Kafka: commit: {e}; the offsets are committed with the next batch");
            Ok(())
        }
        other => other,
    }
}

fn kafka_error(
    config: &SinkConfig,
    options: &RunOptions,
    consumer: &KafkaConsumer,
    context: &str,
    e: rdkafka::error::KafkaError,
) -> SinkError {
    if consumer::is_fenced(consumer, &e) {
        // A `consumer.override.` of the id wins over the sink's own, as in the consumer.
        let overridden = config
            .consumer_overrides
            .iter()
            .filter(|(k, _)| *k == "group.instance.id")
            .last()
            .map(|(_, v)| v.to_string());
        return SinkError::Fenced {
            group: config.group_id(),
            instance: overridden.unwrap_or_else(|| consumer::instance_id(config, options.task)),
        };
    }
    SinkError::Kafka {
        context: context.to_string(),
        message: e.to_string(),
        bootstrap: options.bootstrap_servers.clone(),
    }
}

/// Polls the next batch, with the offsets handled lent to the consumer's rebalance callback.
async fn poll(
    consumer: &KafkaConsumer,
    config: &SinkConfig,
    options: &RunOptions,
    shutdown: &mut Option<watch::Receiver<bool>>,
    records: &mut Records<'_>,
) -> Result<(Vec<OwnedMessage>, Stamp), SinkError> {
    records.lend_handled(consumer);
    let polled =
        consumer::next_batch(consumer, config.batch_size, options.poll_timeout, shutdown).await;
    records.take_back_handled(consumer);
    polled.map_err(|e| kafka_error(config, options, consumer, "poll", e))
}

/// Which records of a batch stamped `stamp` are still this process's: empty when all are.
fn current(consumer: &KafkaConsumer, batch: &[OwnedMessage], stamp: Stamp) -> Vec<bool> {
    let ownership = consumer.context().ownership();
    if ownership.stamp() == stamp {
        return Vec::new();
    }
    let keep: Vec<bool> = batch
        .iter()
        .map(|m| ownership.current(m.topic(), m.partition(), stamp))
        .collect();
    let dropped = keep.iter().filter(|k| !**k).count();
    if dropped > 0 {
        tracing::info!(
            "Kafka: {dropped} record(s) of revoked partitions left unwritten: their next owner reads them from the committed offset"
        );
    }
    keep
}

/// Prepares (decodes and maps) a batch on a blocking thread, so that a batch being stored
/// meanwhile is not held up by the decoding.
async fn prepare(
    preparer: &mut Option<Preparer>,
    batch: Vec<OwnedMessage>,
) -> (Vec<OwnedMessage>, Vec<Prepared>) {
    let mut p = preparer
        .take()
        .expect("the preparer is back after every batch");
    let (p, batch, prepared) = tokio::task::spawn_blocking(move || {
        let prepared = p.batch(&batch);
        (p, batch, prepared)
    })
    .await
    // A panic in there is the sink's own bug: raise it here.
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    *preparer = Some(p);
    (batch, prepared)
}

/// Stores a prepared batch in order, stopping at or reporting its bad records; records `keep`
/// marks `false` (of partitions revoked since the poll) are neither written nor handled.
async fn process(
    store: &mut Store<'_>,
    records: &mut Records<'_>,
    batch: &[OwnedMessage],
    prepared: Vec<Prepared>,
    keep: &[bool],
) -> Result<(), SinkError> {
    records.summary.records += batch.len() as u64;
    metrics::consumed(batch);
    let mut pending: Vec<Row> = Vec::new();
    for (i, (message, record)) in batch.iter().zip(prepared).enumerate() {
        if !keep.get(i).copied().unwrap_or(true) {
            continue;
        }
        for note in record.coercions {
            records.coerced(note);
        }
        match record.row {
            Ok(Some(row)) => pending.push(row),
            // Nothing to write (a tombstone QuestDB's connector skips): handled once
            // everything before it is stored.
            Ok(None) => {
                store
                    .write(batch, std::mem::take(&mut pending), records)
                    .await?;
                records.nothing_to_write(message);
            }
            Err(problem) => {
                // Keep order: everything before the bad record is stored first.
                store
                    .write(batch, std::mem::take(&mut pending), records)
                    .await?;
                records.rejected(message, problem).await?;
            }
        }
    }
    store.write(batch, pending, records).await
}
