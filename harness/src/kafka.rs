//! Kafka client helpers for the harness: topics, producing fixture records, reading offsets.

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("Kafka at {bootstrap}: {context}: {message}")]
pub struct KafkaError {
    pub bootstrap: String,
    pub context: String,
    pub message: String,
}

fn error(bootstrap: &str, context: impl Into<String>, e: impl std::fmt::Display) -> KafkaError {
    KafkaError {
        bootstrap: bootstrap.into(),
        context: context.into(),
        message: e.to_string(),
    }
}

/// Creates a one-partition topic, so a case's records keep their order and offsets match lines.
pub async fn create_topic(bootstrap: &str, topic: &str) -> Result<(), KafkaError> {
    create_topic_with(bootstrap, topic, 1).await
}

/// Creates a topic of `partitions` partitions (a fault case's two sink tasks share them).
pub async fn create_topic_with(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
) -> Result<(), KafkaError> {
    let admin = shared_admin(bootstrap)?;
    let results = admin
        .create_topics(
            // The broker's default replication factor: 1 on one broker, 3 on a cluster.
            &[NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(-1),
            )],
            &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
        )
        .await
        .map_err(|e| error(bootstrap, format!("create topic {topic}"), e))?;
    for result in results {
        result.map_err(|(t, code)| error(bootstrap, format!("create topic {t}"), code))?;
    }
    Ok(())
}

/// The topics of the cluster whose names start with `prefix`.
pub fn topics_with_prefix(bootstrap: &str, prefix: &str) -> Result<Vec<String>, KafkaError> {
    let consumer = offset_reader(bootstrap, "kq-harness-reader")?;
    let metadata = consumer
        .fetch_metadata(None, TIMEOUT)
        .map_err(|e| error(bootstrap, "list topics", e))?;
    Ok(metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|t| t.starts_with(prefix))
        .collect())
}

/// Deletes `topics`.
pub async fn delete_topics(bootstrap: &str, topics: &[String]) -> Result<(), KafkaError> {
    if topics.is_empty() {
        return Ok(());
    }
    let admin = shared_admin(bootstrap)?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let results = admin
        .delete_topics(
            &names,
            &AdminOptions::new().operation_timeout(Some(TIMEOUT)),
        )
        .await
        .map_err(|e| error(bootstrap, "delete topics", e))?;
    for result in results {
        result.map_err(|(t, code)| error(bootstrap, format!("delete topic {t}"), code))?;
    }
    Ok(())
}

type Admins = Vec<(String, Arc<AdminClient<DefaultClientContext>>)>;
static ADMINS: Mutex<Admins> = Mutex::new(Vec::new());
static PRODUCERS: Mutex<Vec<(String, FutureProducer)>> = Mutex::new(Vec::new());

/// Drops the shared clients of a broker that is going away, so they do not keep reconnecting
/// (and logging) after it stopped.
pub fn forget_clients(bootstrap: &str) {
    ADMINS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(b, _)| b != bootstrap);
    PRODUCERS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(b, _)| b != bootstrap);
}

/// One admin client per bootstrap address for the whole process, like the producer below.
fn shared_admin(bootstrap: &str) -> Result<Arc<AdminClient<DefaultClientContext>>, KafkaError> {
    let mut admins = ADMINS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, a)) = admins.iter().find(|(b, _)| b == bootstrap) {
        return Ok(a.clone());
    }
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(|e| error(bootstrap, "admin client", e))?;
    let admin = Arc::new(admin);
    admins.push((bootstrap.to_string(), admin.clone()));
    Ok(admin)
}

/// Produces the values in order to partition 0 and waits for every acknowledgement. All
/// records are queued at once (the idempotent producer keeps their order) and the producer is
/// shared by every case of the process, so a case pays for neither a producer's start-up nor
/// one round trip per record.
pub async fn produce(
    bootstrap: &str,
    topic: &str,
    values: &[Option<&[u8]>],
) -> Result<(), KafkaError> {
    let records: Vec<KeyedRecord<'_>> = values.iter().map(|v| (None, *v)).collect();
    produce_keyed(bootstrap, topic, &records).await
}

/// A record's key and value; `None` is a null key or value.
pub type KeyedRecord<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// [`produce`] of (key, value) records.
pub async fn produce_keyed(
    bootstrap: &str,
    topic: &str,
    records: &[KeyedRecord<'_>],
) -> Result<(), KafkaError> {
    let records: Vec<Outgoing<'_>> = records
        .iter()
        .map(|(key, value)| Outgoing {
            key: *key,
            value: *value,
            timestamp: None,
            headers: &[],
        })
        .collect();
    produce_records(bootstrap, topic, &records).await
}

/// A record to produce: key, value (`None` is null) and Kafka timestamp (`None`: the
/// producer's clock).
#[derive(Debug, Clone, Copy, Default)]
pub struct Outgoing<'a> {
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    pub timestamp: Option<i64>,
    pub headers: &'a [(String, String)],
}

/// [`produce`] of records with keys and timestamps of their own.
pub async fn produce_records(
    bootstrap: &str,
    topic: &str,
    records: &[Outgoing<'_>],
) -> Result<(), KafkaError> {
    let producer = shared_producer(bootstrap)?;
    let mut pending = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let mut record: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic).partition(0);
        if let Some(k) = r.key {
            record = record.key(k);
        }
        if let Some(v) = r.value {
            record = record.payload(v);
        }
        if let Some(t) = r.timestamp {
            record = record.timestamp(t);
        }
        if !r.headers.is_empty() {
            let headers = r.headers.iter().fold(OwnedHeaders::new(), |h, (k, v)| {
                h.insert(Header {
                    key: k,
                    value: Some(v),
                })
            });
            record = record.headers(headers);
        }
        let delivery = producer
            .send_result(record)
            .map_err(|(e, _)| error(bootstrap, format!("produce record {i} to {topic}"), e))?;
        pending.push(delivery);
    }
    for (i, delivery) in pending.into_iter().enumerate() {
        let acked = tokio::time::timeout(TIMEOUT, delivery).await;
        let context = || format!("produce record {i} to {topic}");
        match acked {
            Err(_) => {
                return Err(error(
                    bootstrap,
                    context(),
                    format!("no ack within {TIMEOUT:?}"),
                ))
            }
            Ok(Err(_)) => return Err(error(bootstrap, context(), "the producer was dropped")),
            Ok(Ok(Err((e, _)))) => return Err(error(bootstrap, context(), e)),
            Ok(Ok(Ok(_))) => {}
        }
    }
    Ok(())
}

/// One idempotent producer per bootstrap address for the whole process (rdkafka's producer runs
/// its own thread, so it serves every test's runtime).
fn shared_producer(bootstrap: &str) -> Result<FutureProducer, KafkaError> {
    let mut producers = PRODUCERS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, p)) = producers.iter().find(|(b, _)| b == bootstrap) {
        return Ok(p.clone());
    }
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("message.max.bytes", "10000000")
        .set("linger.ms", "1")
        .create()
        .map_err(|e| error(bootstrap, "producer", e))?;
    producers.push((bootstrap.to_string(), producer.clone()));
    Ok(producer)
}

/// A consumer that only reads offsets and watermarks; it never joins the group.
pub fn offset_reader(bootstrap: &str, group: &str) -> Result<BaseConsumer, KafkaError> {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .map_err(|e| error(bootstrap, "offset reader", e))
}

/// How long a group coordinator may take to settle after a broker restart.
const COORDINATOR_SETTLES: Duration = Duration::from_secs(30);

/// The group's committed offset (next record to read) for a partition, if any.
pub fn committed_offset(
    bootstrap: &str,
    group: &str,
    topic: &str,
    partition: i32,
) -> Result<Option<i64>, KafkaError> {
    use rdkafka::error::{KafkaError as Rd, RDKafkaErrorCode as Code};
    let consumer = offset_reader(bootstrap, group)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    let context = format!("committed offsets of group {group}");
    // Right after a broker restart the group's coordinator is still being elected or loaded
    // (KRaft answers NotCoordinator for a while): ask again until it answers, within a bound.
    let asked = crate::wait::wait_until(&context, COORDINATOR_SETTLES, || {
        match consumer.committed_offsets(tpl.clone(), TIMEOUT) {
            Err(Rd::MetadataFetch(code) | Rd::OffsetFetch(code))
                if matches!(
                    code,
                    Code::NotCoordinator
                        | Code::CoordinatorLoadInProgress
                        | Code::CoordinatorNotAvailable
                ) =>
            {
                Err(code.to_string())
            }
            other => Ok(other),
        }
    });
    let committed = asked
        .map_err(|timeout| error(bootstrap, &context, timeout))?
        .map_err(|e| error(bootstrap, &context, e))?;
    Ok(committed
        .find_partition(topic, partition)
        .and_then(|e| match e.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        }))
}

/// The partition's high watermark: the offset the next produced record will get.
pub fn high_watermark(bootstrap: &str, topic: &str, partition: i32) -> Result<i64, KafkaError> {
    let consumer = offset_reader(bootstrap, "kq-harness-watermarks")?;
    consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .map(|(_, high)| high)
        .map_err(|e| error(bootstrap, format!("watermarks of {topic}/{partition}"), e))
}

/// A record read back from a topic (the dead letter queue), with its headers in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub offset: i64,
    pub value: Option<String>,
    pub headers: Vec<(String, String)>,
    /// The record's timestamp (ms), if it has one.
    pub timestamp: Option<i64>,
    pub key: Option<String>,
}

/// Every record of partition 0 of `topic`, or none if the topic does not exist.
pub fn read_all(bootstrap: &str, topic: &str) -> Result<Vec<Record>, KafkaError> {
    use rdkafka::message::{Headers, Message};
    read_partition0(bootstrap, topic, None, |message| {
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_string(),
                            h.value
                                .map(|v| String::from_utf8_lossy(v).into_owned())
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Record {
            offset: message.offset(),
            timestamp: message.timestamp().to_millis(),
            key: message
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            value: message
                .payload()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            headers,
        }
    })
}

/// A record as it is on the topic, bytes and all: what `harness record` writes down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// The record's timestamp (ms), whichever kind the topic keeps.
    pub timestamp: Option<i64>,
    /// How many headers it carried (a case cannot hold them).
    pub headers: usize,
}

/// The first `count` records of partition 0 of `topic` (fewer if it holds fewer).
pub fn read_first(
    bootstrap: &str,
    topic: &str,
    count: usize,
) -> Result<Vec<RawRecord>, KafkaError> {
    use rdkafka::message::{Headers, Message};
    read_partition0(bootstrap, topic, Some(count), |message| RawRecord {
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        timestamp: message.timestamp().to_millis(),
        headers: message.headers().map_or(0, |h| h.count()),
    })
}

/// Reads partition 0 of `topic` from its beginning up to its high watermark (or `limit`
/// records), each through `each`; none if the topic does not exist.
fn read_partition0<T>(
    bootstrap: &str,
    topic: &str,
    limit: Option<usize>,
    mut each: impl FnMut(&rdkafka::message::BorrowedMessage<'_>) -> T,
) -> Result<Vec<T>, KafkaError> {
    use rdkafka::message::Message;
    let consumer = offset_reader(bootstrap, "kq-harness-reader")?;
    let metadata = consumer
        .fetch_metadata(Some(topic), TIMEOUT)
        .map_err(|e| error(bootstrap, format!("metadata of {topic}"), e))?;
    if metadata
        .topics()
        .iter()
        .all(|t| t.error().is_some() || t.partitions().is_empty())
    {
        return Ok(Vec::new());
    }
    let high = high_watermark(bootstrap, topic, 0)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(|e| error(bootstrap, "assign", e))?;
    consumer
        .assign(&tpl)
        .map_err(|e| error(bootstrap, "assign", e))?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    let mut records = Vec::new();
    let mut next = 0;
    while next < high && limit.is_none_or(|l| records.len() < l) {
        if std::time::Instant::now() > deadline {
            return Err(error(
                bootstrap,
                format!("read {topic}"),
                format!(
                    "read {} of {high} records within {TIMEOUT:?}",
                    records.len()
                ),
            ));
        }
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.map_err(|e| error(bootstrap, format!("read {topic}"), e))?;
        next = message.offset() + 1;
        records.push(each(&message));
    }
    Ok(records)
}

/// Produces many values fast (batched, acknowledged at the end), for benchmarks.
pub fn produce_many(
    bootstrap: &str,
    topic: &str,
    values: impl Iterator<Item = Vec<u8>>,
) -> Result<usize, KafkaError> {
    produce_spread(bootstrap, topic, 1, values)
}

/// [`produce_many`] over `partitions` partitions: value `i` goes to partition `i % partitions`.
pub fn produce_spread(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    values: impl Iterator<Item = Vec<u8>>,
) -> Result<usize, KafkaError> {
    produce_spread_from(bootstrap, topic, partitions, 0, values)
}

/// [`produce_spread`] for values numbered from `first`: value `first + i` goes to partition
/// `(first + i) % partitions`, so a stream produced in parts lands as if produced at once.
pub fn produce_spread_from(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    first: u64,
    values: impl Iterator<Item = Vec<u8>>,
) -> Result<usize, KafkaError> {
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    // Idempotent (acks=all): a retry after a broker went away neither duplicates nor reorders
    // a record, so a duplicate or a gap in the table is the sink's.
    let producer: BaseProducer<Delivery> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .set("enable.idempotence", "true")
        .create_with_context(Delivery::default())
        .map_err(|e| error(bootstrap, "producer", e))?;
    let mut count = 0;
    for value in values {
        let index = first + count as u64;
        let mut record = BaseRecord::<(), [u8]>::to(topic)
            .partition((index % partitions.max(1) as u64) as i32)
            .payload(&value);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                // The local queue is full: serve delivery reports, then retry the same record.
                Err((
                    rdkafka::error::KafkaError::MessageProduction(
                        rdkafka::types::RDKafkaErrorCode::QueueFull,
                    ),
                    r,
                )) => {
                    record = r;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(error(bootstrap, format!("produce to {topic}"), e)),
            }
        }
        count += 1;
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(TIMEOUT)
        .map_err(|e| error(bootstrap, format!("flush {topic}"), e))?;
    if let Some(failed) = producer.context().failed() {
        return Err(error(bootstrap, format!("produce to {topic}"), failed));
    }
    Ok(count)
}

/// Counts the records the broker did not take, with the first error.
#[derive(Default)]
struct Delivery {
    failed: Mutex<(u64, Option<String>)>,
}

impl Delivery {
    fn failed(&self) -> Option<String> {
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        let first = failed.1.as_deref()?;
        Some(format!(
            "{} records not delivered, the first: {first}",
            failed.0
        ))
    }
}

impl rdkafka::ClientContext for Delivery {}

impl rdkafka::producer::ProducerContext for Delivery {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &rdkafka::message::DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            failed.0 += 1;
            failed.1.get_or_insert_with(|| e.to_string());
        }
    }
}
