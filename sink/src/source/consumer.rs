//! The sink's Kafka consumer: its settings, how a batch is polled, which Kafka errors it rides
//! out, and whether it has caught up with its partitions.

use crate::config::{SinkConfig, Topics};
use crate::metrics;
use crate::source::context::SinkContext;
use crate::source::revocations::Polled;
use futures_util::FutureExt;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
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
    /// Connect's task id, when given: the static group membership is `<name>-<task>`;
    /// without it the process joins dynamically (see [`settings`]).
    pub task: Option<u32>,
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
    // Static membership only for a task named explicitly (`--task`, `KQ_TASK`): a restarted
    // process (after kill -9 too) takes its partitions back at once instead of waiting for the
    // old member's session to time out (librdkafka: 45 s). Without one the process joins
    // dynamically, as Connect's sink consumers do: replicas started with identical settings (a
    // Deployment's, a rolling update's new process next to the old) would otherwise share one
    // instance id and fence each other. A `consumer.override.` of this key still wins.
    // Deviation: Connect never sets group.instance.id.
    if let Some(task) = join.task {
        consumer_config.set("group.instance.id", format!("{}-{}", config.name, task));
    }
    // Incremental rebalances: a member joining or leaving moves only the partitions that
    // change owner; the others are written on without a pause. Every member of the group must
    // list it (librdkafka refuses to mix it with the eager strategies).
    // Deviation: Connect's default is `range, cooperative-sticky` (eager until every member
    // upgrades).
    consumer_config.set("partition.assignment.strategy", "cooperative-sticky");
    consumer_config.set(
        "max.poll.interval.ms",
        max_poll_interval(config).as_millis().to_string(),
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
        .set("bootstrap.servers", &join.bootstrap_servers)
        .set("group.id", config.group_id())
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Connect's sink consumers start from the earliest offset when the group has none.
        .set("auto.offset.reset", "earliest");
    consumer_config
}

/// librdkafka's default `max.poll.interval.ms`.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// What one write attempt and reconnect may take on top of `retry.backoff.ms`.
const ATTEMPT_MARGIN: Duration = Duration::from_secs(60);

/// `max.poll.interval.ms`: the store's retries run without the consumer polling (the batch
/// in progress holds the loop), so the interval must outlast them, or librdkafka leaves the
/// group in the middle of an outage the retries would have ridden out. librdkafka's 5 minutes,
/// or `max.retries` x `retry.backoff.ms` plus a margin for the attempts themselves. It is also
/// the group's rebalance timeout: a revoke waits for the batch in progress up to this long.
pub fn max_poll_interval(config: &SinkConfig) -> Duration {
    let retries = config
        .retry_backoff
        .saturating_mul(config.max_retries.saturating_add(1));
    // librdkafka refuses more than a day.
    let most = Duration::from_millis(86_400_000);
    MAX_POLL_INTERVAL
        .max(retries.saturating_add(ATTEMPT_MARGIN))
        .min(most)
}

/// Waits up to `timeout` for a first record, then takes what else is ready, up to `max`.
/// Returned with the revocation epoch its poll started in: a rebalance during the poll makes
/// the records of the partitions it revoked stale (see `source::revocations`).
pub async fn next_batch(
    consumer: &KafkaConsumer,
    max: usize,
    timeout: Duration,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<(Vec<OwnedMessage>, Polled), rdkafka::error::KafkaError> {
    let polled = consumer.context().revocations().epoch();
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
        None => return Ok((batch, polled)),
        Some(Err(e)) if rides_out(&e) => return Ok((batch, polled)),
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
            Ok(Err(e)) if rides_out(&e) => break,
            Ok(m) => batch.push(m?.detach()),
            Err(_) => break,
        }
    }
    Ok((batch, polled))
}

/// A poll error the sink goes on after, logged.
fn rides_out(e: &rdkafka::error::KafkaError) -> bool {
    if is_transient(e) {
        metrics::error("kafka");
        tracing::warn!("Kafka: {e}; librdkafka reconnects, the sink goes on");
        true
    } else if rejoins(e) {
        metrics::error("kafka");
        tracing::warn!("Kafka: {e}; the consumer lost its partitions (nothing of them is committed: their new owner reads them again from the last commit) and rejoins its group");
        true
    } else {
        false
    }
}

/// The consumer left its group because it did not poll within `max.poll.interval.ms`:
/// librdkafka revokes its partitions as lost and rejoins on the next poll.
pub fn rejoins(e: &rdkafka::error::KafkaError) -> bool {
    e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PollExceeded)
}

/// Another process joined with this one's `group.instance.id`: it has the partitions now.
pub fn is_fenced(e: &rdkafka::error::KafkaError) -> bool {
    e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::FencedInstanceId)
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

/// Whether every assigned partition of the subscribed topics has been handled up to its high
/// watermark. It runs right after a commit, so the group's committed offsets are the sink's
/// progress. A partition of another topic (a static member rejoining within its session
/// timeout with a changed `topics` is handed its old assignment) is not the sink's to count.
pub fn caught_up(
    consumer: &KafkaConsumer,
    topics: &Topics,
) -> Result<bool, rdkafka::error::KafkaError> {
    let mut assignment = rdkafka::TopicPartitionList::new();
    for e in consumer.assignment()?.elements() {
        if subscribed(topics, e.topic()) {
            assignment.add_partition(e.topic(), e.partition());
        }
    }
    if assignment.count() == 0 {
        return Ok(false);
    }
    let committed = consumer.committed_offsets(assignment, Duration::from_secs(10))?;
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

/// Whether `topic` is one of the connector's. A regex subscription is matched by librdkafka
/// (the sink has no regex engine): every assigned topic counts.
pub fn subscribed(topics: &Topics, topic: &str) -> bool {
    match topics {
        Topics::List(list) => list.iter().any(|t| t == topic),
        Topics::Regex(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::types::RDKafkaErrorCode;

    fn config(extra: &str) -> SinkConfig {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let props = crate::config::properties::parse(&format!("{seed}\n{extra}"));
        SinkConfig::from_properties(&props).expect("the seed's properties")
    }

    fn with_task(extra: &str, task: Option<u32>) -> ClientConfig {
        settings(
            &config(extra),
            &Join {
                bootstrap_servers: "kafka:9092".into(),
                task,
                batch_mode: false,
            },
        )
    }

    fn consumer(extra: &str) -> ClientConfig {
        with_task(extra, Some(0))
    }

    #[test]
    fn replicas_without_a_task_join_dynamically_and_a_task_is_a_static_member() {
        assert_eq!(with_task("", None).get("group.instance.id"), None);
        assert_eq!(
            with_task("", Some(3)).get("group.instance.id"),
            Some("local-jdbc-sink-3")
        );
        for task in [None, Some(1)] {
            assert_eq!(
                with_task("", task).get("partition.assignment.strategy"),
                Some("cooperative-sticky")
            );
        }
    }

    #[rstest::rstest]
    // The JDBC sink's defaults (10 x 3 s): librdkafka's 5 minutes is longer.
    #[case::defaults("", 300_000)]
    #[case::issue_25_outage("max.retries=100\nretry.backoff.ms=500", 300_000)]
    // 101 attempts x 5 s and a minute for the attempts themselves.
    #[case::long_retries("max.retries=100\nretry.backoff.ms=5000", 565_000)]
    // librdkafka's most: the retries outlast it, and the consumer rejoins after them.
    #[case::huge(
        "max.retries=2147483647\nretry.backoff.ms=9223372036854775807",
        86_400_000
    )]
    fn the_poll_interval_outlasts_the_retries(#[case] extra: &str, #[case] ms: u64) {
        let c = config(extra);
        assert_eq!(max_poll_interval(&c).as_millis(), ms as u128);
        assert_eq!(
            with_task(extra, None).get("max.poll.interval.ms"),
            Some(ms.to_string().as_str())
        );
    }

    #[test]
    fn only_the_subscribed_topics_count() {
        let list = Topics::List(vec!["new".into()]);
        assert!(subscribed(&list, "new"));
        assert!(
            !subscribed(&list, "old"),
            "a partition handed over from before the change"
        );
        assert!(subscribed(&Topics::Regex("n.*".into()), "new"));
    }

    #[rstest::rstest]
    #[case::poll_interval(RDKafkaErrorCode::PollExceeded, true, false)]
    #[case::fenced(RDKafkaErrorCode::FencedInstanceId, false, true)]
    #[case::other(RDKafkaErrorCode::GroupAuthorizationFailed, false, false)]
    fn which_poll_errors_rejoin_or_stop_cleanly(
        #[case] code: RDKafkaErrorCode,
        #[case] rejoin: bool,
        #[case] fenced: bool,
    ) {
        let e = rdkafka::error::KafkaError::MessageConsumption(code);
        assert_eq!((rejoins(&e), is_fenced(&e)), (rejoin, fenced), "{e}");
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
