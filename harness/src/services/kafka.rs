use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;

use super::{
    data_dir, print_ready, retry_on_port_race, wait_ready, write_file, write_log4j_properties,
};
use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::provision::Libs;

/// A single Kafka broker (id 0) in ZooKeeper mode on 127.0.0.1.
#[derive(Debug)]
pub struct Kafka {
    pub port: u16,
    /// Spawn to ready.
    pub startup: Duration,
    process: ServiceProcess,
}

impl Kafka {
    /// Starts a broker on a free port against ZooKeeper at `zookeeper_connect` and waits until
    /// a metadata request lists broker 0.
    pub fn start(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: &str,
        timeout: Duration,
    ) -> Result<Kafka, ServiceError> {
        retry_on_port_race("Kafka", || {
            Self::start_once(libs, java, zookeeper_connect, timeout)
        })
    }

    fn start_once(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: &str,
        timeout: Duration,
    ) -> Result<Kafka, ServiceError> {
        let port = super::free_ports(1)?[0];
        let dir = data_dir("kafka")?;
        let logs = dir.path().join("kafka-logs");
        let properties = dir.path().join("server.properties");
        write_file(
            &properties,
            &format!(
                "broker.id=0\n\
                 listeners=PLAINTEXT://127.0.0.1:{port}\n\
                 advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
                 zookeeper.connect={zookeeper_connect}\n\
                 log.dirs={}\n\
                 num.partitions=1\n\
                 auto.create.topics.enable=true\n\
                 offsets.topic.replication.factor=1\n\
                 transaction.state.log.replication.factor=1\n\
                 transaction.state.log.min.isr=1\n\
                 group.initial.rebalance.delay.ms=0\n\
                 # One broker: nothing to hand partitions over to, so stop without asking the controller.\n\
                 controlled.shutdown.enable=false\n\
                 # Fewer internal partitions: the first consumer group and transaction start faster.\n\
                 offsets.topic.num.partitions=1\n\
                 transaction.state.log.num.partitions=1\n",
                logs.display()
            ),
        )?;
        let log4j = write_log4j_properties(dir.path())?;
        let mut cmd = Command::new(java);
        cmd.arg("-Xmx512m")
            .arg("-Djava.awt.headless=true")
            .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
            .arg("-cp")
            .arg(&libs.kafka_classpath)
            .arg("kafka.Kafka")
            .arg(&properties)
            .current_dir(dir.path());
        let process = ServiceProcess::spawn("kafka", cmd, dir)?;
        let bootstrap = format!("127.0.0.1:{port}");
        let probe = MetadataProbe::new(&bootstrap).map_err(|e| ServiceError::NotReady {
            service: "kafka",
            port,
            waited: Duration::ZERO,
            last_observed: format!("could not create the rdkafka probe client: {e}"),
            log_tail: process.log_tail(40),
        })?;
        let startup = wait_ready(&process, port, timeout, || probe.check())?;
        print_ready("Kafka", &bootstrap, startup);
        Ok(Kafka {
            port,
            startup,
            process,
        })
    }

    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    pub fn process(&self) -> &ServiceProcess {
        &self.process
    }
}

/// One metadata request to the broker at `bootstrap`; `Ok` if it lists broker 0.
pub fn metadata_probe(bootstrap: &str) -> Result<(), String> {
    MetadataProbe::new(bootstrap)
        .map_err(|e| e.to_string())?
        .check()
}

/// An rdkafka client kept across probes, so it keeps (re)connecting in the background; it
/// records librdkafka's last error instead of logging it.
struct MetadataProbe {
    consumer: BaseConsumer<ProbeContext>,
}

impl MetadataProbe {
    fn new(bootstrap: &str) -> Result<Self, KafkaError> {
        let consumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("reconnect.backoff.ms", "20")
            .set("reconnect.backoff.max.ms", "250")
            .set("socket.connection.setup.timeout.ms", "2000")
            .set_log_level(RDKafkaLogLevel::Emerg)
            .create_with_context(ProbeContext::default())?;
        Ok(MetadataProbe { consumer })
    }

    fn check(&self) -> Result<(), String> {
        match self.consumer.fetch_metadata(None, Duration::from_secs(1)) {
            Ok(metadata) => {
                let ids: Vec<i32> = metadata.brokers().iter().map(|b| b.id()).collect();
                if ids.contains(&0) {
                    Ok(())
                } else {
                    Err(format!("metadata lists brokers {ids:?}, not broker 0 yet"))
                }
            }
            Err(e) => {
                let last = self
                    .consumer
                    .context()
                    .last_error
                    .lock()
                    .map(|l| l.clone())
                    .unwrap_or_default();
                match last {
                    Some(last) => Err(format!("metadata request: {e}; last client error: {last}")),
                    None => Err(format!("metadata request: {e}")),
                }
            }
        }
    }
}

#[derive(Default)]
struct ProbeContext {
    last_error: Mutex<Option<String>>,
}

impl ClientContext for ProbeContext {
    fn log(&self, _level: RDKafkaLogLevel, _fac: &str, _log_message: &str) {}

    fn error(&self, error: KafkaError, reason: &str) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(format!("{error} ({reason})"));
        }
    }
}

impl ConsumerContext for ProbeContext {}
