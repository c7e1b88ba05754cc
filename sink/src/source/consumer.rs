//! The sink's Kafka consumer: its settings, how a batch is polled, which Kafka errors it rides
//! out, and whether it has caught up with its partitions.

use crate::config::{SinkConfig, Topics};
use crate::metrics;
use crate::source::context::SinkContext;
use crate::source::ownership::Stamp;
use futures_util::FutureExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientConfig, Offset};
use std::time::Duration;
use tokio::sync::watch;

/// The sink's consumer: its context turns librdkafka's statistics into metrics.
pub type KafkaConsumer = StreamConsumer<SinkContext>;

/// How this process joins its connector's consumer group.
#[derive(Debug, Clone)]
pub struct Join {
    /// Kafka's `bootstrap.servers` (a Connect worker setting, not a connector one).
    pub bootstrap_servers: String,
    /// Connect's task id: the static group membership is `<name>-<task>`.
    pub task: u32,
    /// The process stops once caught up, so its caught-up checks must be quick.
    pub batch_mode: bool,
}

/// The consumer, not subscribed yet.
pub fn create(
    config: &SinkConfig,
    join: &Join,
) -> Result<KafkaConsumer, rdkafka::error::KafkaError> {
    settings(config, join).create_with_context(SinkContext::default())
}

/// Subscribes to the connector's topics (`topics` or `topics.regex`).
pub fn subscribe(
    consumer: &KafkaConsumer,
    topics: &Topics,
) -> Result<(), rdkafka::error::KafkaError> {
    let patterns: Vec<String> = match topics {
        Topics::List(topics) => topics.clone(),
        // librdkafka treats a subscription starting with ^ as a regular expression.
        Topics::Regex(regex) => vec![format!("^{}", regex.trim_start_matches('^'))],
    };
    let pattern_refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
    consumer.subscribe(&pattern_refs)
}

/// The consumer's settings: the sink's defaults, then the user's `consumer.override.` keys,
/// then what the sink's commit protocol cannot do without.
pub fn settings(config: &SinkConfig, join: &Join) -> ClientConfig {
    let mut consumer_config = ClientConfig::new();
    if join.batch_mode {
        // The caught-up check's round trips (committed offsets, watermarks) share the broker
        // connection with the fetch long-poll and wait behind it: keep the long-poll short in
        // batch mode (measured: 480 ms per check with librdkafka's default of 500 ms).
        consumer_config.set("fetch.wait.max.ms", "50");
    }
    // Static membership: a restarted process (after kill -9 too) takes its partitions back at
    // once instead of waiting for the old member's session to time out (librdkafka: 45 s).
    // Deviation: Connect's sink consumers join dynamically; a `consumer.override.` of this key
    // still wins (empty: dynamic membership).
    consumer_config.set("group.instance.id", instance_id(config, join.task));
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
    // librdkafka would join as a static member with an empty id (every process the same one).
    if consumer_config.get("group.instance.id") == Some("") {
        consumer_config.remove("group.instance.id");
    }
    consumer_config
        .set("bootstrap.servers", &join.bootstrap_servers)
        .set("group.id", config.group_id())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Connect's sink consumers start from the earliest offset when the group has none.
        .set("auto.offset.reset", "earliest");
    consumer_config
}

/// The static member's id: the connector, the task and the subscription. The subscription is
/// in it because the coordinator hands a static member that rejoins within its session the
/// partitions it had, without a rebalance: restarted with other `topics`, the sink was given
/// the old topic's partitions and stored nothing (measured: `--until-caught-up` exited 0 after
/// 0.3 s with 0 of 1,000,000 records). With another subscription it is another member, and the
/// group rebalances once the old one's session has timed out.
pub fn instance_id(config: &SinkConfig, task: u32) -> String {
    let subscription = match &config.topics {
        Topics::List(topics) => format!("list:{}", topics.join(",")),
        Topics::Regex(regex) => format!("regex:{regex}"),
    };
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let hash = subscription.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{}-{task}-{hash:08x}", config.name)
}

/// The consumer was fenced: another process joined the group with the same static member id
/// (the same connector name, `--task` and topics). librdkafka raises it as a fatal error.
pub fn is_fenced(consumer: &KafkaConsumer, e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{Fatal, FencedInstanceId};
    match e.rdkafka_error_code() {
        Some(FencedInstanceId) => true,
        Some(Fatal) => consumer
            .client()
            .fatal_error()
            .is_some_and(|(code, _)| code == FencedInstanceId),
        _ => false,
    }
}

/// Waits up to `timeout` for a first record, then takes what else is ready, up to `max`. The
/// batch comes with its stamp: records of a partition revoked during the poll are left out, and
/// a later revoke makes the rest of that partition stale
/// ([`crate::source::ownership::Ownership::current`]).
pub async fn next_batch(
    consumer: &KafkaConsumer,
    max: usize,
    timeout: Duration,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<(Vec<OwnedMessage>, Stamp), rdkafka::error::KafkaError> {
    let mut stamp = consumer.context().ownership().stamp();
    let mut batch = poll(consumer, max, timeout, shutdown, &mut stamp).await?;
    drop_revoked(consumer, &mut batch, &mut stamp);
    Ok((batch, stamp))
}

/// Leaves out the records polled before a revoke of their partition (the callback ran in a
/// `recv` since `stamp`).
fn drop_revoked(consumer: &KafkaConsumer, batch: &mut Vec<OwnedMessage>, stamp: &mut Stamp) {
    let ownership = consumer.context().ownership();
    if ownership.stamp() != *stamp {
        batch.retain(|m| ownership.current(m.topic(), m.partition(), *stamp));
        *stamp = ownership.stamp();
    }
}

async fn poll(
    consumer: &KafkaConsumer,
    max: usize,
    timeout: Duration,
    shutdown: &mut Option<watch::Receiver<bool>>,
    stamp: &mut Stamp,
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
        None => {
            if topic_check_due(consumer) {
                note_missing_topics(consumer);
            }
            return Ok(batch);
        }
        // A subscribed topic that does not exist yet: wait for it, as a Connect task does.
        Some(Err(e)) if is_missing_topic(&e) => {
            note_missing_topics(consumer);
            return Ok(batch);
        }
        Some(Err(e)) if recoverable(&e) => return Ok(batch),
        Some(m) => {
            let m = m?.detach();
            drop_revoked(consumer, &mut batch, stamp);
            batch.push(m);
            // Another subscribed topic's records flow while one is still missing.
            if topic_check_due(consumer) {
                note_missing_topics(consumer);
            }
        }
    }
    // A short linger collects the records already fetched, so a burst is one transaction.
    while batch.len() < max {
        // A record already fetched needs no timer (one per record showed in profiles).
        let next = match consumer.recv().now_or_never() {
            Some(m) => Ok(m),
            None => tokio::time::timeout(Duration::from_millis(5), consumer.recv()).await,
        };
        match next {
            Ok(Err(e)) if is_missing_topic(&e) => {
                note_missing_topics(consumer);
                break;
            }
            Ok(Err(e)) if recoverable(&e) => break,
            Ok(m) => {
                let m = m?.detach();
                drop_revoked(consumer, &mut batch, stamp);
                batch.push(m);
            }
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// librdkafka's answer to a subscription naming a topic the cluster does not have (yet).
fn is_missing_topic(e: &rdkafka::error::KafkaError) -> bool {
    e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::UnknownTopicOrPartition)
}

/// While a subscribed topic is missing: whether to look it up again now.
fn topic_check_due(consumer: &KafkaConsumer) -> bool {
    consumer
        .context()
        .topic_wait
        .lock()
        .is_ok_and(|mut w| w.check_due(std::time::Instant::now()))
}

/// The topics (or `^` patterns) the consumer is subscribed to.
fn subscribed_topics(consumer: &KafkaConsumer) -> Option<Vec<String>> {
    let list = consumer.subscription().ok()?;
    Some(
        list.elements()
            .iter()
            .map(|e| e.topic().to_string())
            .collect(),
    )
}

/// Logs (rate-limited) which subscribed topics do not exist, or that they all do now.
fn note_missing_topics(consumer: &KafkaConsumer) {
    let Some(subscribed) = subscribed_topics(consumer) else {
        return;
    };
    // Every topic, as a name list: a request naming a topic could make the broker create it.
    let Ok(metadata) = consumer.fetch_metadata(None, Duration::from_secs(5)) else {
        return;
    };
    let missing: Vec<String> = subscribed
        .into_iter()
        // A regex subscription (^...) matches whatever exists; librdkafka does not report it.
        .filter(|t| !t.starts_with('^'))
        .filter(|t| {
            !metadata
                .topics()
                .iter()
                .any(|m| m.name() == t && m.error().is_none())
        })
        .collect();
    let (line, arrived) = match consumer.context().topic_wait.lock() {
        Ok(mut wait) => {
            let was_waiting = wait.waiting();
            let line = wait.note(missing, std::time::Instant::now());
            (line, was_waiting && !wait.waiting())
        }
        Err(_) => return,
    };
    if let Some(line) = line {
        tracing::warn!("Kafka: {line}");
    }
    if arrived {
        // Subscribing again makes librdkafka rejoin the group with the topic's partitions now,
        // not at its next metadata refresh (`topic.metadata.refresh.interval.ms`, 5 min).
        let Some(topics) = subscribed_topics(consumer) else {
            return;
        };
        let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
        if let Err(e) = consumer.subscribe(&topics) {
            tracing::warn!("Kafka: subscribing again to {topics:?}: {e}");
        }
    }
}

/// A poll error the consumer recovers from by itself: logged (and counted), and the sink goes
/// on with what it has.
fn recoverable(e: &rdkafka::error::KafkaError) -> bool {
    if is_transient(e) {
        metrics::error("kafka");
        tracing::warn!("Kafka: {e}; librdkafka reconnects, the sink goes on");
        return true;
    }
    // The sink did not poll within max.poll.interval.ms while it retried a batch QuestDB did
    // not take, so librdkafka left the group; it rejoins at this poll (the sink stopped here,
    // blaming the brokers: fixtures/faults/questdb-outage-beyond-max-poll.case). What it
    // stored meanwhile is committed once it has its partitions again.
    if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PollExceeded) {
        metrics::error("kafka");
        tracing::warn!("Kafka: {e}: the consumer left its group while the sink retried a write; it rejoins now and the sink goes on");
        return true;
    }
    false
}

/// Errors librdkafka recovers from by itself (a broker going away and coming back, a
/// coordinator moving): logged, and the sink goes on, as a Connect worker's consumer does.
pub fn is_transient(e: &rdkafka::error::KafkaError) -> bool {
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
pub fn commit_can_wait(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::*;
    is_transient(e)
        || matches!(
            e.rdkafka_error_code(),
            Some(IllegalGeneration | RebalanceInProgress | UnknownMemberId)
        )
}

/// Whether every assigned partition has been handled up to its high watermark.
/// It runs right after a commit, so the group's committed offsets are the sink's progress.
pub fn caught_up(consumer: &KafkaConsumer) -> Result<bool, rdkafka::error::KafkaError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;

    fn consumer(extra: &str) -> ClientConfig {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let props = crate::config::properties::parse(&format!("{seed}\n{extra}"));
        let config = SinkConfig::from_properties(&props).expect("the seed's properties");
        settings(
            &config,
            &Join {
                bootstrap_servers: "kafka:9092".into(),
                task: 0,
                batch_mode: false,
            },
        )
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
        assert_eq!(
            c.get("group.instance.id"),
            Some("local-jdbc-sink-0-9cbcbdb9"),
            "the connector, the task, FNV-1a of `list:example-events`"
        );
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
        let dynamic = consumer("consumer.override.group.instance.id=");
        assert_eq!(dynamic.get("group.instance.id"), None, "empty: dynamic");
    }

    #[test]
    fn the_static_member_id_changes_with_the_subscription_only() {
        let config = |topics: &str| {
            let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties")
                .lines()
                .filter(|l| !l.starts_with("topics"))
                .collect::<Vec<_>>()
                .join("\n");
            let props = crate::config::properties::parse(&format!("{seed}\n{topics}"));
            SinkConfig::from_properties(&props).expect("the seed's properties")
        };
        let a = instance_id(&config("topics=orders"), 0);
        assert!(a.starts_with("local-jdbc-sink-0-"), "{a}");
        assert_eq!(a, instance_id(&config("topics=orders"), 0));
        assert_ne!(a, instance_id(&config("topics=orders"), 1));
        assert_ne!(a, instance_id(&config("topics=orders,trades"), 0));
        assert_ne!(a, instance_id(&config("topics=trades"), 0));
        assert_ne!(a, instance_id(&config("topics.regex=orders"), 0));
    }
}
