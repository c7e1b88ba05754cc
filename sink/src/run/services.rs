//! Waiting at start-up for Kafka and QuestDB, which an orchestrator may start at the same
//! time as the sink: both must answer before the sink joins its consumer group, which would
//! otherwise expect polls meanwhile. `None`: the shutdown signal came while waiting.

use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::run::startup::{self, Attempt};
use crate::source::consumer::KafkaConsumer;
use crate::source::security::Refusal;
use crate::write::pg::QuestDb;
use futures_util::FutureExt;
use rdkafka::consumer::Consumer;
use rdkafka::error::KafkaError;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Kafka answers the consumer's metadata request; a refused login stops the wait at once.
pub async fn kafka(
    consumer: &KafkaConsumer,
    config: &SinkConfig,
    bootstrap_servers: &str,
    started: Instant,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<Option<()>, SinkError> {
    let kafka = format!("Kafka at {bootstrap_servers}");
    startup::wait_for(&kafka, &config.operations, started, shutdown, || {
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
                    bootstrap: bootstrap_servers.to_string(),
                    what: refusal.what(),
                    reason,
                    fix: refusal.fix("consumer.override."),
                }),
                (Err(e), None) => Attempt::Retry(e.to_string()),
            }
        }
    })
    .await
}

/// QuestDB takes a PG wire connection; a refused login stops the wait at once.
pub async fn questdb(
    config: &SinkConfig,
    started: Instant,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<Option<QuestDb>, SinkError> {
    let questdb = format!(
        "QuestDB at {}:{}",
        config.connection.host, config.connection.port
    );
    startup::wait_for(&questdb, &config.operations, started, shutdown, || async {
        match QuestDb::connect(&config.connection).await {
            Ok(db) => Attempt::Ready(db),
            Err(e) if e.is_unreachable() => Attempt::Retry(startup::one_line(e)),
            Err(e) => Attempt::Fatal(e.into()),
        }
    })
    .await
}

/// QuestDB-connector mode without PG wire: QuestDB's HTTP port answers `GET /settings`
/// ([`ilp_http`](crate::run::ilp_http)).
pub async fn questdb_http(
    config: &SinkConfig,
    conf: &crate::config::IlpConf,
    started: Instant,
    shutdown: &mut Option<watch::Receiver<bool>>,
) -> Result<Option<()>, SinkError> {
    use crate::run::ilp_http;
    let questdb = format!("QuestDB's HTTP port at {}", ilp_http::addr(conf));
    let name = &questdb;
    startup::wait_for(&questdb, &config.operations, started, shutdown, || {
        let limit = startup::attempt_timeout(&config.operations, started, Duration::from_secs(5));
        async move {
            match ilp_http::probe(conf, limit).await {
                Ok(()) => {
                    tracing::info!("{name} answers (QuestDB-connector mode: ILP only, no PG wire unless connection.url is set)");
                    Attempt::Ready(())
                }
                Err(why) => Attempt::Retry(why),
            }
        }
    })
    .await
}
