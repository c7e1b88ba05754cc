//! Kafka in: the consumer and its settings, Connect's security keys as librdkafka's, the
//! offsets handled and committed, and the dead letter queue.
pub mod consumer;
pub mod context;
pub mod dead_letter;
pub mod ownership;
pub mod security;
pub mod topic_wait;
