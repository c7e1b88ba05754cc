//! The loop over batches: poll, prepare (decode and map), store, commit; the next batch is
//! polled and prepared while the current one is stored. Between batches, a revoke the
//! consumer's rebalance callback recorded is settled: what is stored is committed, then the
//! partitions are given back; nothing of them is written after the callback (rows are dropped
//! at the next write) nor committed after the settle.

use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::mapping::prepare::{Prepared, Preparer, Row};
use crate::metrics;
use crate::run::endpoint::Health;
use crate::run::records::Records;
use crate::run::{stop, RunOptions, StopWhen};
use crate::source::consumer::{self, KafkaConsumer};
use crate::source::revocations::Polled;
use crate::write::store::{Outcomes, Store};
use rdkafka::consumer::{Consumer, RebalanceProtocol};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::TopicPartitionList;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Runs batches until `options.stop_when`, the shutdown signal or an error.
pub(crate) async fn consume(
    config: &SinkConfig,
    options: &RunOptions,
    consumer: &KafkaConsumer,
    mut store: Store<'_>,
    mut records: Records<'_>,
    health: &Health,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<(), SinkError> {
    let kafka_err = |context: &str, e: rdkafka::error::KafkaError| SinkError::Kafka {
        context: context.to_string(),
        message: e.to_string(),
        bootstrap: options.bootstrap_servers.clone(),
    };
    let mut preparer = Some(Preparer::new(Arc::new(config.clone())));
    // The next batch, polled and prepared while the last one was written.
    let mut ahead = None;
    let fenced = |e: &rdkafka::error::KafkaError| {
        let fenced = consumer::is_fenced(e);
        if fenced {
            tracing::warn!("Kafka: {e}: another process took over this task's partitions (it joined with the same group.instance.id); stopping, nothing more is committed");
        }
        fenced
    };

    loop {
        if shutdown.as_ref().is_some_and(|s| *s.borrow()) {
            break;
        }
        settle(consumer, &mut records).map_err(|e| kafka_err("revoke", e))?;
        if config.operations.metrics_listen.is_some() {
            health.set_assigned(consumer.assignment().map_or(0, |a| a.count()));
        }
        let (batch, prepared, polled) = match ahead.take() {
            Some(ready) => ready,
            None => {
                let (batch, polled) = match consumer::next_batch(
                    consumer,
                    config.batch_size,
                    options.poll_timeout,
                    shutdown,
                )
                .await
                {
                    Err(e) if fenced(&e) => return Ok(()),
                    other => other.map_err(|e| kafka_err("poll", e))?,
                };
                // A revoke during this poll: give the partitions back before writing.
                settle(consumer, &mut records).map_err(|e| kafka_err("revoke", e))?;
                let prepared = preparer
                    .as_mut()
                    .expect("the preparer is back after every batch")
                    .batch(&batch);
                (batch, prepared, polled)
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
                    return Ok::<_, rdkafka::error::KafkaError>(None);
                }
                let (batch, polled) = consumer::next_batch(
                    consumer,
                    config.batch_size,
                    options.poll_timeout,
                    shutdown,
                )
                .await?;
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
                Ok(Some((batch, prepared, polled)))
            };
            // After a shutdown signal the batch gets `shutdown.timeout.ms` to be stored.
            let owned = Owned {
                consumer,
                topics: &config.topics,
                polled,
            };
            let work = async {
                tokio::join!(
                    process(&mut store, &mut records, &batch, prepared, &owned),
                    next
                )
            };
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
            // Whatever was stored before a failure is committed before the failure is returned.
            match records.commit(consumer) {
                // The offsets stay pending and go with the next commit; until then a restart
                // would replay these rows (the JDBC sink's window too).
                Err(e) if consumer::commit_can_wait(&e) => {
                    metrics::error("kafka_commit");
                    tracing::warn!(
                        "Kafka: commit: {e}; the offsets are committed with the next batch"
                    )
                }
                Err(e) if fenced(&e) => return Ok(()),
                other => other.map_err(|e| kafka_err("commit", e))?,
            }
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
            ahead = match next {
                Err(e) if fenced(&e) => return Ok(()),
                other => other.map_err(|e| kafka_err("poll", e))?,
            };
        }
        // A check that cannot reach the broker just says "not yet".
        let caught_up = |c: &KafkaConsumer| match consumer::caught_up(c, &config.topics) {
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

/// Settles the revoke the rebalance callback recorded, if any: commits what is stored (all of
/// it, as Connect's `onPartitionsRevoked` does; nothing of a lost assignment), forgets what
/// could not be committed of the revoked partitions, and gives them back to the group.
fn settle(
    consumer: &KafkaConsumer,
    records: &mut Records<'_>,
) -> Result<(), rdkafka::error::KafkaError> {
    let Some(pending) = consumer.context().revocations().pending().cloned() else {
        return Ok(());
    };
    if !pending.lost {
        match records.commit(consumer) {
            Err(e) if consumer::commit_can_wait(&e) || consumer::is_fenced(&e) => {
                metrics::error("kafka_commit");
                tracing::warn!("Kafka: commit before giving partitions back: {e}; their new owner reads them again from the last commit");
            }
            other => other?,
        }
    }
    records.forget(&pending.partitions);
    if matches!(
        consumer.rebalance_protocol(),
        RebalanceProtocol::Cooperative
    ) {
        let mut tpl = TopicPartitionList::new();
        for (topic, partition) in &pending.partitions {
            tpl.add_partition(topic, *partition);
        }
        consumer.incremental_unassign(&tpl)?;
    } else {
        consumer.unassign()?;
    }
    consumer.context().revocations().settled();
    tracing::info!(
        "Kafka: gave back {} partition(s) after committing what was stored",
        pending.partitions.len()
    );
    Ok(())
}

/// Which records of a batch are still this process's to write: their partition was not
/// revoked since the batch was polled, and their topic is subscribed.
struct Owned<'c> {
    consumer: &'c KafkaConsumer,
    topics: &'c crate::config::Topics,
    polled: Polled,
}

impl Owned<'_> {
    fn owns(&self, message: &OwnedMessage) -> bool {
        consumer::subscribed(self.topics, message.topic())
            && self.consumer.context().revocations().owned(
                message.topic(),
                message.partition(),
                self.polled,
            )
    }

    /// Drops the rows of partitions revoked meanwhile: checked right before they are written.
    fn keep(&self, batch: &[OwnedMessage], mut rows: Vec<Row>) -> Vec<Row> {
        let before = rows.len();
        rows.retain(|row| self.owns(&batch[row.index]));
        if rows.len() < before {
            tracing::info!(
                "dropped {} row(s) of revoked partitions: their new owner writes them",
                before - rows.len()
            );
        }
        rows
    }
}

/// Stores a prepared batch in order, stopping at or reporting its bad records.
async fn process(
    store: &mut Store<'_>,
    records: &mut Records<'_>,
    batch: &[OwnedMessage],
    prepared: Vec<Prepared>,
    owned: &Owned<'_>,
) -> Result<(), SinkError> {
    records.summary.records += batch.len() as u64;
    metrics::consumed(batch);
    let mut pending: Vec<Row> = Vec::new();
    for (message, record) in batch.iter().zip(prepared) {
        for note in record.coercions {
            records.coerced(note);
        }
        match record.row {
            Ok(Some(row)) => pending.push(row),
            // Nothing to write (a tombstone QuestDB's connector skips): handled once
            // everything before it is stored.
            Ok(None) => {
                let rows = owned.keep(batch, std::mem::take(&mut pending));
                store.write(batch, rows, records).await?;
                if owned.owns(message) {
                    records.nothing_to_write(message);
                }
            }
            Err(problem) => {
                // Keep order: everything before the bad record is stored first.
                let rows = owned.keep(batch, std::mem::take(&mut pending));
                store.write(batch, rows, records).await?;
                // A revoked partition's bad record is its new owner's to report.
                if owned.owns(message) {
                    records.rejected(message, problem).await?;
                }
            }
        }
    }
    let rows = owned.keep(batch, pending);
    store.write(batch, rows, records).await
}
