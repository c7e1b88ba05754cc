//! The dead letter queue (`errors.deadletterqueue.topic.name`, with `errors.tolerance=all`), as
//! Connect's `DeadLetterQueueReporter` does it: the topic is checked at start and created if
//! missing (one partition, `errors.deadletterqueue.topic.replication.factor`); a bad record goes
//! there as it was read (key, value, headers, timestamp), with Connect's `__connect.errors.*`
//! headers when `errors.deadletterqueue.context.headers.enable=true`. Records are produced
//! without waiting for each; [`DeadLetters::acknowledged`] waits for all of them before the
//! offsets they cover are committed.

use crate::config::{SinkConfig, Tolerance};
use crate::error::{RecordError, SinkError};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Duration;

/// Connect's `DLQ_NUM_DESIRED_PARTITIONS`.
const PARTITIONS: i32 = 1;

/// How long the start-up check and creation of the topic may take.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A dead letter record Kafka did not take: the offsets from it on are not committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub error: String,
}

pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
    context_headers: bool,
    connector: String,
    task: u32,
    /// Sent, not acknowledged yet, with the original record's coordinates, oldest first.
    in_flight: Vec<((String, i32, i64), DeliveryFuture)>,
    /// Acknowledged as failed while the producer's queue was full, not reported yet.
    undelivered: Vec<Undelivered>,
}

impl DeadLetters {
    /// The queue, when the config has one (only with `errors.tolerance=all`, as in Connect),
    /// its topic checked and created if missing. A topic Kafka will not create stops the sink
    /// here, at start, rather than at its first bad record.
    pub async fn start(
        config: &SinkConfig,
        bootstrap_servers: &str,
        task: u32,
    ) -> Result<Option<DeadLetters>, SinkError> {
        let (Some(topic), Tolerance::All) = (&config.errors.dlq_topic, config.errors.tolerance)
        else {
            return Ok(None);
        };
        // As Connect's dead letter queue producer: the `producer.override.` settings.
        // Deviation: Connect's admin client takes the worker's admin settings and
        // `admin.override.`, which this sink does not read; the producer's settings (security
        // included) reach the same cluster (docs/operating.md).
        let mut client = ClientConfig::new();
        for (key, value) in config.producer_overrides.iter() {
            client.set(key, value);
        }
        client.set("bootstrap.servers", bootstrap_servers);
        let kafka = |e: KafkaError| SinkError::Kafka {
            context: format!("dead letter queue {topic}"),
            message: e.to_string(),
            bootstrap: bootstrap_servers.to_string(),
        };
        let rf = config.errors.dlq_replication_factor;
        let admin: AdminClient<DefaultClientContext> = client.create().map_err(kafka)?;
        ensure_topic(&admin, topic, rf).await.map_err(|e| match e {
            Ensure::Kafka(e) => kafka(e),
            Ensure::Refused(code) => refused(topic, rf, code),
        })?;
        let producer = client.create::<FutureProducer>().map_err(kafka)?;
        Ok(Some(DeadLetters {
            producer,
            topic: topic.clone(),
            context_headers: config.errors.dlq_context_headers,
            connector: config.name.clone(),
            task,
            in_flight: Vec::new(),
            undelivered: Vec::new(),
        }))
    }

    /// Hands `message` to the producer as it was read; [`Self::acknowledged`] waits for Kafka.
    pub async fn send(
        &mut self,
        message: &OwnedMessage,
        error: &RecordError,
    ) -> Result<(), SinkError> {
        let context = self
            .context_headers
            .then(|| context_headers(&self.connector, self.task, error));
        let headers = dead_letter_headers(message.headers(), context.as_deref());
        let topic = self.topic.clone();
        let mut record = FutureRecord::to(&topic).headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        // Connect keeps the original timestamp, or lets the producer stamp a record without one.
        if let Some(ms) = message.timestamp().to_millis() {
            record = record.timestamp(ms);
        }
        let at = (
            message.topic().to_string(),
            message.partition(),
            message.offset(),
        );
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push((at, delivery));
                    return Ok(());
                }
                // The producer's queue is full: wait for the oldest record, then try again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if !self.in_flight.is_empty() =>
                {
                    let (at, delivery) = self.in_flight.remove(0);
                    self.settle(at, delivery).await;
                    record = back;
                }
                Err((e, _)) => return Err(self.error(e.to_string())),
            }
        }
    }

    /// Waits until Kafka acknowledged every record sent so far; those it did not take (each
    /// after the producer's own retries, `delivery.timeout.ms`) are returned, oldest first.
    pub async fn acknowledged(&mut self) -> Vec<Undelivered> {
        for (at, delivery) in std::mem::take(&mut self.in_flight) {
            self.settle(at, delivery).await;
        }
        std::mem::take(&mut self.undelivered)
    }

    async fn settle(&mut self, (topic, partition, offset): (String, i32, i64), d: DeliveryFuture) {
        if let Some(error) = delivery_error(d.await) {
            tracing::error!("dead letter queue {}: Kafka did not take the record of {topic}-{partition} offset {offset}: {error}", self.topic);
            self.undelivered.push(Undelivered {
                topic,
                partition,
                offset,
                error,
            });
        }
    }

    pub fn error(&self, message: String) -> SinkError {
        SinkError::Kafka {
            context: format!("dead letter queue {}", self.topic),
            message,
            bootstrap: String::new(),
        }
    }
}

/// Why Kafka did not take a record, if it did not.
fn delivery_error<E>(
    result: Result<rdkafka::producer::future_producer::OwnedDeliveryResult, E>,
) -> Option<String> {
    match result {
        Ok(Ok(_)) => None,
        Ok(Err((e, _))) => Some(e.to_string()),
        Err(_) => Some("the producer was dropped before Kafka answered".into()),
    }
}

enum Ensure {
    Kafka(KafkaError),
    Refused(RDKafkaErrorCode),
}

/// Creates `topic` unless the cluster has it (Connect lists the topics, then creates).
async fn ensure_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    replication_factor: i16,
) -> Result<(), Ensure> {
    // All topics, as Connect's listTopics: a metadata request naming the topic could make a
    // broker with auto-creation create it with its own defaults.
    // Blocking, once at start (block_in_place would panic on a current-thread runtime).
    let metadata = admin
        .inner()
        .fetch_metadata(None, ADMIN_TIMEOUT)
        .map_err(Ensure::Kafka)?;
    let exists = metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none());
    if exists {
        return Ok(());
    }
    tracing::warn!(
        "dead letter topic {topic} does not exist: creating it with {PARTITIONS} partition, replication factor {replication_factor} (errors.deadletterqueue.topic.replication.factor)"
    );
    let new = NewTopic::new(
        topic,
        PARTITIONS,
        TopicReplication::Fixed(replication_factor.into()),
    );
    let options = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
    let results = admin
        .create_topics([&new], &options)
        .await
        .map_err(Ensure::Kafka)?;
    for result in results {
        creation_outcome(result.map(|_| ()).map_err(|(_, code)| code)).map_err(Ensure::Refused)?;
    }
    Ok(())
}

/// What Kafka's answer to the creation means: a topic created meanwhile (another task) is
/// as good as one created here, as in Connect; any other refusal stops the sink at start.
pub fn creation_outcome(result: Result<(), RDKafkaErrorCode>) -> Result<(), RDKafkaErrorCode> {
    match result {
        Ok(()) | Err(RDKafkaErrorCode::TopicAlreadyExists) => Ok(()),
        Err(code) => Err(code),
    }
}

/// The sink's error for a topic Kafka refused to create, naming what to change.
pub fn refused(topic: &str, replication_factor: i16, code: RDKafkaErrorCode) -> SinkError {
    let fix = match code {
        RDKafkaErrorCode::InvalidReplicationFactor => format!(
            "set errors.deadletterqueue.topic.replication.factor to at most the number of brokers (Connect's default is 3; 1 on a one-broker cluster), or create the topic {topic} first"
        ),
        RDKafkaErrorCode::TopicAuthorizationFailed
        | RDKafkaErrorCode::ClusterAuthorizationFailed => format!(
            "create the topic {topic} first, or grant the sink's Kafka user the right to create it"
        ),
        _ => format!("create the topic {topic} first"),
    };
    SinkError::DeadLetterTopic {
        topic: topic.to_string(),
        replication_factor,
        reason: code.to_string(),
        fix,
    }
}

/// The dead letter record's headers: the original record's, in order, then Connect's context
/// headers (Connect adds them to the original ones).
pub fn dead_letter_headers(
    original: Option<&OwnedHeaders>,
    context: Option<&[(&'static str, String)]>,
) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    for h in original.into_iter().flat_map(|o| o.iter()) {
        headers = headers.insert(Header {
            key: h.key,
            value: h.value,
        });
    }
    for (key, value) in context.unwrap_or_default() {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_bytes()),
        });
    }
    headers
}

/// Connect's `__connect.errors.*` headers for a dead-lettered record, in Connect's order.
pub fn context_headers(
    connector: &str,
    task: u32,
    error: &RecordError,
) -> Vec<(&'static str, String)> {
    vec![
        ("__connect.errors.topic", error.at.topic.clone()),
        ("__connect.errors.partition", error.at.partition.to_string()),
        ("__connect.errors.offset", error.at.offset.to_string()),
        ("__connect.errors.connector.name", connector.to_string()),
        ("__connect.errors.task.id", task.to_string()),
        ("__connect.errors.stage", error.problem.stage().to_string()),
        ("__connect.errors.class.name", "sink".into()),
        (
            "__connect.errors.exception.class.name",
            "sink::error::RecordError".into(),
        ),
        (
            "__connect.errors.exception.message",
            error.problem.to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Problem, RecordAt};

    fn bad_record() -> RecordError {
        RecordError {
            at: RecordAt {
                topic: "orders".into(),
                partition: 2,
                offset: 41,
            },
            problem: Problem::Tombstone,
        }
    }

    fn pairs(headers: &OwnedHeaders) -> Vec<(String, Option<String>)> {
        headers
            .iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    h.value.map(|v| String::from_utf8_lossy(v).into_owned()),
                )
            })
            .collect()
    }

    #[test]
    fn context_headers_name_the_record_the_connector_and_this_task() {
        let headers = context_headers("jdbc-sink", 3, &bad_record());
        let text: Vec<String> = headers.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            text,
            [
                "__connect.errors.topic=orders",
                "__connect.errors.partition=2",
                "__connect.errors.offset=41",
                "__connect.errors.connector.name=jdbc-sink",
                "__connect.errors.task.id=3",
                "__connect.errors.stage=VALUE_CONVERTER",
                "__connect.errors.class.name=sink",
                "__connect.errors.exception.class.name=sink::error::RecordError",
                "__connect.errors.exception.message=the value is null (a tombstone); with pk.mode=none there is nothing to write or delete",
            ]
        );
    }

    #[test]
    fn the_original_headers_come_first_and_a_null_one_stays_null() {
        let original = OwnedHeaders::new()
            .insert(Header {
                key: "trace",
                value: Some("t-1"),
            })
            .insert(Header::<&[u8]> {
                key: "empty",
                value: None,
            })
            // A header of the same name as a context header is kept too, as Connect adds.
            .insert(Header {
                key: "__connect.errors.task.id",
                value: Some("9"),
            });
        let context = context_headers("c", 0, &bad_record());
        let got = pairs(&dead_letter_headers(Some(&original), Some(&context)));
        assert_eq!(
            &got[..4],
            &[
                ("trace".to_string(), Some("t-1".to_string())),
                ("empty".to_string(), None),
                (
                    "__connect.errors.task.id".to_string(),
                    Some("9".to_string())
                ),
                (
                    "__connect.errors.topic".to_string(),
                    Some("orders".to_string())
                ),
            ]
        );
        assert_eq!(got.len(), 3 + context.len());
    }

    #[test]
    fn without_context_headers_the_original_ones_only() {
        let original = OwnedHeaders::new().insert(Header {
            key: "trace",
            value: Some("t-1"),
        });
        assert_eq!(
            pairs(&dead_letter_headers(Some(&original), None)),
            [("trace".to_string(), Some("t-1".to_string()))]
        );
        assert!(pairs(&dead_letter_headers(None, None)).is_empty());
    }

    #[rstest::rstest]
    #[case::created(Ok(()), true)]
    #[case::created_meanwhile(Err(RDKafkaErrorCode::TopicAlreadyExists), true)]
    #[case::replication_factor(Err(RDKafkaErrorCode::InvalidReplicationFactor), false)]
    #[case::not_allowed(Err(RDKafkaErrorCode::TopicAuthorizationFailed), false)]
    #[case::policy(Err(RDKafkaErrorCode::PolicyViolation), false)]
    fn which_creation_answers_let_the_sink_start(
        #[case] answer: Result<(), RDKafkaErrorCode>,
        #[case] starts: bool,
    ) {
        assert_eq!(creation_outcome(answer).is_ok(), starts);
    }

    #[test]
    fn a_refused_replication_factor_names_the_property_to_set() {
        let e = refused("x-dlq", 3, RDKafkaErrorCode::InvalidReplicationFactor).to_string();
        assert!(
            e.contains("topic=x-dlq")
                && e.contains("replication factor 3")
                && e.contains("set errors.deadletterqueue.topic.replication.factor to at most the number of brokers"),
            "{e}"
        );
        let e = refused("x-dlq", 1, RDKafkaErrorCode::TopicAuthorizationFailed).to_string();
        assert!(e.contains("grant the sink's Kafka user"), "{e}");
    }
}
