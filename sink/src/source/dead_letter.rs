//! The dead letter queue (`errors.deadletterqueue.topic.name`, with `errors.tolerance=all`): a
//! bad record's key and value as they were read, with Connect's `__connect.errors.*` headers.

use crate::config::{SinkConfig, Tolerance};
use crate::error::{RecordError, SinkError};
use rdkafka::message::{Header, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use std::time::Duration;

pub struct DeadLetters {
    producer: FutureProducer,
    topic: String,
    context_headers: bool,
    connector: String,
}

impl DeadLetters {
    /// The queue, when the config has one (only with `errors.tolerance=all`, as in Connect).
    pub fn new(
        config: &SinkConfig,
        bootstrap_servers: &str,
    ) -> Result<Option<DeadLetters>, rdkafka::error::KafkaError> {
        let (Some(topic), Tolerance::All) = (&config.errors.dlq_topic, config.errors.tolerance)
        else {
            return Ok(None);
        };
        // As Connect's dead letter queue producer: the `producer.override.` settings.
        let mut producer = ClientConfig::new();
        for (key, value) in config.producer_overrides.iter() {
            producer.set(key, value);
        }
        let producer = producer
            .set("bootstrap.servers", bootstrap_servers)
            .create::<FutureProducer>()?;
        Ok(Some(DeadLetters {
            producer,
            topic: topic.clone(),
            context_headers: config.errors.dlq_context_headers,
            connector: config.name.clone(),
        }))
    }

    /// Sends `message` as it was read, waiting for Kafka to take it.
    pub async fn send(&self, message: &OwnedMessage, error: &RecordError) -> Result<(), SinkError> {
        let mut record = FutureRecord::to(&self.topic);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        if let Some(payload) = message.payload() {
            record = record.payload(payload);
        }
        if self.context_headers {
            record = record.headers(context_headers(&self.connector, error));
        }
        self.producer
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(e, _)| SinkError::Kafka {
                context: format!("dead letter queue {}", self.topic),
                message: e.to_string(),
                bootstrap: String::new(),
            })?;
        Ok(())
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
