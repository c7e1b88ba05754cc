use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::client::ClientContext;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaError;

use super::docker::{ContainerSpec, Network, ServiceContainer};
use super::running::{deref_to_running, Running};
use super::secured::SecuredListener;
use super::toxiproxy::{self, ProxyName, Toxiproxy};
use super::{data_dir, retry_on_port_race, write_file, write_log4j_properties, Runner};
use crate::error::ServiceError;
use crate::provision::Libs;

/// A single Kafka broker (id 0) on 127.0.0.1: in ZooKeeper mode (Kafka 3.x, a local process or a
/// container) or in KRaft mode (Kafka 4.x, a local process that is its own controller).
pub struct Kafka {
    pub port: u16,
    /// The SASL_SSL listener's port, when started with [`Kafka::start_secured`].
    pub secured_port: Option<u16>,
    running: Running,
}

impl std::fmt::Debug for Kafka {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kafka")
            .field("port", &self.port)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// A KRaft node that is broker and controller: its listeners, the same in one broker and in a
/// cluster.
fn combined_node(
    listen_host: &str,
    port: u16,
    controller_port: u16,
) -> Vec<(&'static str, String)> {
    vec![
        ("process.roles", "broker,controller".to_owned()),
        (
            "listeners",
            format!(
                "PLAINTEXT://{listen_host}:{port},CONTROLLER://{listen_host}:{controller_port}"
            ),
        ),
        ("controller.listener.names", "CONTROLLER".to_owned()),
        (
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT".to_owned(),
        ),
        ("inter.broker.listener.name", "PLAINTEXT".to_owned()),
    ]
}

/// The broker's settings, the same on both backends (the process backend writes them to
/// `server.properties`, the docker backend passes them as cp-kafka's `KAFKA_*` variables), so
/// the services behave the same and the snapshots are shared. `listen_host` is the interface
/// the broker binds; clients are told `127.0.0.1:<port>`, the address they dial.
pub(crate) fn broker_settings(
    listen_host: &str,
    port: u16,
    coordination: Coordination<'_>,
) -> Vec<(&'static str, String)> {
    let mut settings = match coordination {
        Coordination::ZooKeeper(connect) => vec![
            ("broker.id", "0".to_owned()),
            ("listeners", format!("PLAINTEXT://{listen_host}:{port}")),
            ("zookeeper.connect", connect.to_owned()),
            // A broker killed with SIGKILL holds its ZooKeeper registration until its session
            // expires, and a restarted broker cannot start before: keep that short (fault cases).
            ("zookeeper.session.timeout.ms", "6000".to_owned()),
        ],
        Coordination::Kraft { controller_port } => {
            let mut kraft = vec![
                ("node.id", "0".to_owned()),
                (
                    "controller.quorum.bootstrap.servers",
                    format!("127.0.0.1:{controller_port}"),
                ),
            ];
            kraft.extend(combined_node(listen_host, port, controller_port));
            kraft
        }
        Coordination::Quorum {
            node,
            controller_port,
            voters,
        } => {
            // Static voters: the three nodes are the quorum from the first start.
            let mut quorum = vec![
                ("node.id", node.to_string()),
                ("controller.quorum.voters", voters.to_owned()),
            ];
            quorum.extend(combined_node(listen_host, port, controller_port));
            quorum
        }
    };
    // A three-broker cluster (issue 26) replicates everything three times and acknowledges a
    // write once two replicas have it; one broker replicates nothing.
    let (replicas, min_isr, controlled) = match coordination {
        Coordination::Quorum { .. } => ("3", "2", "true"),
        _ => ("1", "1", "false"),
    };
    settings.extend([
        (
            "advertised.listeners",
            format!("PLAINTEXT://127.0.0.1:{port}"),
        ),
        ("num.partitions", "1".to_owned()),
        ("auto.create.topics.enable", "true".to_owned()),
        ("offsets.topic.replication.factor", replicas.to_owned()),
        ("default.replication.factor", replicas.to_owned()),
        ("min.insync.replicas", min_isr.to_owned()),
        (
            "transaction.state.log.replication.factor",
            replicas.to_owned(),
        ),
        ("transaction.state.log.min.isr", min_isr.to_owned()),
        ("group.initial.rebalance.delay.ms", "0".to_owned()),
        // One broker: nothing to hand partitions over to, so stop without asking the controller.
        // Several: hand leadership over first, as Kafka's clean shutdown does.
        ("controlled.shutdown.enable", controlled.to_owned()),
        // Fewer internal partitions: the first consumer group and transaction start faster.
        ("offsets.topic.num.partitions", "1".to_owned()),
        ("transaction.state.log.num.partitions", "1".to_owned()),
    ]);
    settings
}

/// What a ZooKeeper-mode broker logs once it registered and listens.
pub(crate) const KAFKA_STARTED: &str = "[KafkaServer id=0] started";

/// What the broker is coordinated by.
#[derive(Debug, Clone, Copy)]
pub enum Coordination<'a> {
    /// ZooKeeper at this connect string (Kafka 3.x).
    ZooKeeper(&'a str),
    /// Its own controller on this port (KRaft, Kafka 4.x).
    Kraft { controller_port: u16 },
    /// Node `node` of a KRaft cluster whose every node is broker and controller, its
    /// controller on `controller_port`, the quorum `voters` (`0@127.0.0.1:P,1@...`).
    Quorum {
        node: i32,
        controller_port: u16,
        voters: &'a str,
    },
}

/// cp-kafka's name for a broker property: `KAFKA_` + upper case, `.` -> `_`, `_` -> `__`,
/// `-` -> `___`.
fn cp_kafka_variable(property: &str) -> String {
    let mut name = String::from("KAFKA_");
    for c in property.chars() {
        match c {
            '.' => name.push('_'),
            '_' => name.push_str("__"),
            '-' => name.push_str("___"),
            c => name.push(c.to_ascii_uppercase()),
        }
    }
    name
}

impl Kafka {
    /// Starts a broker on a free port, against ZooKeeper at `zookeeper_connect` or, without
    /// one (Kafka 4.x), in KRaft mode as its own controller, and waits until a metadata request
    /// lists broker 0.
    pub fn start(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: Option<&str>,
        timeout: Duration,
    ) -> Result<Kafka, ServiceError> {
        retry_on_port_race("Kafka", || {
            Self::start_once(libs, java, zookeeper_connect, timeout, None, None)
        })
    }

    /// [`Self::start`] with a second listener behind `toxiproxy`'s Kafka proxy, advertised as
    /// the proxy ([`toxiproxy::add_kafka_listener`]).
    pub fn start_proxied(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: Option<&str>,
        timeout: Duration,
        toxiproxy: &Toxiproxy,
    ) -> Result<Kafka, ServiceError> {
        retry_on_port_race("Kafka", || {
            Self::start_once(
                libs,
                java,
                zookeeper_connect,
                timeout,
                None,
                Some(toxiproxy),
            )
        })
    }

    /// [`Self::start`] with a second listener, SASL_SSL (SCRAM over TLS), whose user is
    /// created before the broker serves; the first listener stays PLAINTEXT for the harness.
    pub fn start_secured(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: Option<&str>,
        timeout: Duration,
        security: &SecuredListener,
    ) -> Result<Kafka, ServiceError> {
        retry_on_port_race("Kafka", || {
            Self::start_once(libs, java, zookeeper_connect, timeout, Some(security), None)
        })
    }

    fn start_once(
        libs: &Libs,
        java: &Path,
        zookeeper_connect: Option<&str>,
        timeout: Duration,
        security: Option<&SecuredListener>,
        proxy: Option<&Toxiproxy>,
    ) -> Result<Kafka, ServiceError> {
        let ports = super::free_ports(4)?;
        let port = ports[0];
        let coordination = match zookeeper_connect {
            Some(connect) => Coordination::ZooKeeper(connect),
            None => Coordination::Kraft {
                controller_port: ports[1],
            },
        };
        let dir = data_dir("kafka")?;
        let mut settings = broker_settings("127.0.0.1", port, coordination);
        if let Some(security) = security {
            security.add_to(&mut settings, "127.0.0.1", ports[2]);
        }
        if let Some(proxy) = proxy {
            let advertised = proxy.place(ProxyName::Kafka, ports[3])?;
            toxiproxy::add_kafka_listener(&mut settings, "127.0.0.1", ports[3], advertised);
        }
        if let (Some(security), Coordination::ZooKeeper(connect)) = (security, coordination) {
            security.create_user_in_zookeeper(libs, java, connect)?;
        }
        let runner = launch(libs, java, dir, settings, coordination, security)?;
        let mut kafka = Self::ready(port, runner, timeout, "")?;
        kafka.secured_port = security.map(|_| ports[2]);
        Ok(kafka)
    }

    /// Waits until a metadata request to `port` lists the broker on it.
    pub(crate) fn ready(
        port: u16,
        runner: Runner,
        timeout: Duration,
        detail: &str,
    ) -> Result<Kafka, ServiceError> {
        let address = format!("127.0.0.1:{port}{detail}");
        Ok(Kafka {
            port,
            secured_port: None,
            running: Running::wait(
                "Kafka",
                "kafka",
                (port, address),
                runner,
                wait_listed,
                timeout,
            )?,
        })
    }

    /// Starts a broker container from `image` (cp-kafka's environment contract) on a free port
    /// against ZooKeeper at `zookeeper_connect` (as the broker reaches it) and waits until a
    /// metadata request lists broker 0.
    pub(crate) fn start_container(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        zookeeper_connect: &str,
        timeout: Duration,
        proxy: Option<&Toxiproxy>,
    ) -> Result<Kafka, ServiceError> {
        retry_on_port_race("Kafka", || {
            Self::start_container_once(
                image,
                network,
                bridge_network,
                zookeeper_connect,
                timeout,
                proxy,
            )
        })
    }

    fn start_container_once(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        zookeeper_connect: &str,
        timeout: Duration,
        proxy: Option<&Toxiproxy>,
    ) -> Result<Kafka, ServiceError> {
        let ports = super::free_ports(2)?;
        let port = ports[0];
        // Host networking: bind loopback, like the process. Behind a published port the broker
        // listens on the container's interfaces and still advertises 127.0.0.1:<port>, the
        // address the client dials (the host side of the mapping, the same number).
        let listen_host = match network {
            Network::Host => "127.0.0.1",
            Network::Bridge => "0.0.0.0",
        };
        let coordination = Coordination::ZooKeeper(zookeeper_connect);
        let mut env: Vec<(String, String)> = broker_settings(listen_host, port, coordination)
            .into_iter()
            .map(|(key, value)| (cp_kafka_variable(key), value))
            .collect();
        let mut published = vec![port];
        if let Some(proxy) = proxy {
            // The proxy (a host process) reaches the listener on its port published on the
            // host's loopback, or directly with host networking.
            let advertised = proxy.place(ProxyName::Kafka, ports[1])?;
            let mut settings = broker_settings(listen_host, port, coordination);
            toxiproxy::add_kafka_listener(&mut settings, listen_host, ports[1], advertised);
            env = settings
                .into_iter()
                .map(|(key, value)| (cp_kafka_variable(key), value))
                .collect();
            published.push(ports[1]);
        }
        env.push(("KAFKA_HEAP_OPTS".to_owned(), "-Xmx512m".to_owned()));
        let spec = ContainerSpec {
            service: "kafka",
            image: image.to_owned(),
            env,
            network,
            bridge_network: bridge_network.map(str::to_owned),
            ports: published,
            port,
            ready_line: Some(KAFKA_STARTED),
            instance: None,
            cmd: Vec::new(),
            mounts: Vec::new(),
            timeout,
        };
        let container = ServiceContainer::run(&spec).map_err(|e| e.into_service_error("kafka"))?;
        let detail = format!(" (container {})", container.name());
        Self::ready(
            port,
            Runner::Container(Box::new(container)),
            timeout,
            &detail,
        )
    }

    /// `127.0.0.1:<port>`, for `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

deref_to_running!(Kafka);

/// Writes `settings` as the broker's `server.properties` in `dir`, formats its KRaft storage if
/// it has no ZooKeeper, and spawns it (not yet ready).
pub(crate) fn launch(
    libs: &Libs,
    java: &Path,
    dir: tempfile::TempDir,
    settings: Vec<(&'static str, String)>,
    coordination: Coordination<'_>,
    security: Option<&SecuredListener>,
) -> Result<Runner, ServiceError> {
    let logs = dir.path().join("kafka-logs");
    let properties = dir.path().join("server.properties");
    let mut text = format!("log.dirs={}\n", logs.display());
    for (key, value) in settings {
        // PEM values span lines: `\n` is a newline in a properties value.
        text.push_str(&format!("{key}={}\n", value.replace('\n', "\\n")));
    }
    write_file(&properties, &text)?;
    match coordination {
        Coordination::ZooKeeper(_) => {}
        Coordination::Kraft { .. } => {
            let mut extra = vec!["--standalone".to_owned()];
            extra.extend(
                security
                    .map(SecuredListener::kraft_format_args)
                    .unwrap_or_default(),
            );
            format_kraft_storage(libs, java, &properties, &extra, security)?;
        }
        // The voters are in the properties: no --standalone.
        Coordination::Quorum { .. } => format_kraft_storage(libs, java, &properties, &[], None)?,
    }
    // Kafka 3.x logs through log4j 1 (reload4j), 4.x through log4j 2, whatever the mode.
    let logging = match libs.versions.kafka_mode() {
        crate::versions::KafkaMode::ZooKeeper => format!(
            "-Dlog4j.configuration=file:{}",
            write_log4j_properties(dir.path())?.display()
        ),
        _ => format!(
            "-Dlog4j2.configurationFile={}",
            write_log4j2_properties(dir.path())?.display()
        ),
    };
    let (java, classpath, workdir) = (
        java.to_path_buf(),
        libs.kafka_classpath.clone(),
        dir.path().to_path_buf(),
    );
    let command = move || {
        let mut cmd = Command::new(&java);
        cmd.arg("-Xmx512m")
            .arg("-Djava.awt.headless=true")
            .arg(&logging)
            .arg("-cp")
            .arg(&classpath)
            .arg("kafka.Kafka")
            .arg(&properties)
            .current_dir(&workdir);
        cmd
    };
    Runner::spawn("kafka", Box::new(command), dir)
}

/// Waits until a metadata request to the broker `runner` runs on `port` lists broker 0; the time
/// since its (last) start.
fn wait_listed(runner: &Runner, port: u16, timeout: Duration) -> Result<Duration, ServiceError> {
    let bootstrap = format!("127.0.0.1:{port}");
    let mut probe = MetadataProbe::for_broker(&bootstrap, port, || runner.log_tail(40))?;
    probe.port = Some(port);
    runner.wait_ready("kafka", port, timeout, || probe.check())
}

/// KRaft needs its storage formatted (a cluster id, the node as the only voter) before the
/// first start; `kafka-storage.sh format --standalone` does the same.
fn format_kraft_storage(
    libs: &Libs,
    java: &Path,
    properties: &Path,
    extra: &[String],
    security: Option<&SecuredListener>,
) -> Result<(), ServiceError> {
    let mut cmd = Command::new(java);
    cmd.arg("-Xmx256m")
        .arg("-cp")
        .arg(&libs.kafka_classpath)
        .arg("kafka.tools.StorageTool")
        .arg("format")
        // Any 16 bytes in URL-safe base64 (22 characters): a fresh cluster each start.
        .args(["--cluster-id", "a3EtY29uZm9ybWFuY2UAAA"])
        .arg("--config")
        .arg(properties)
        .args(extra);
    // The command line holds the SCRAM password: errors show it redacted.
    let redact = |text: String| match security {
        Some(s) => s.redact(&text),
        None => text,
    };
    let output = cmd.output().map_err(|e| ServiceError::Provision {
        command: redact(format!("{cmd:?}")),
        output: e.to_string(),
        hint: "could not run Java to format the KRaft storage".to_owned(),
    })?;
    if output.status.success() {
        return Ok(());
    }
    Err(ServiceError::Provision {
        command: redact(format!("{cmd:?}").replace('"', "")),
        output: redact(format!(
            "{}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )),
        hint: "formatting the KRaft storage of Kafka 4 failed; check the Kafka version in \
               KQ_KAFKA_VERSION or ci/services/pom.xml"
            .to_owned(),
    })
}

/// Kafka 4 logs through log4j 2: INFO to stdout, as the log4j 1 file of Kafka 3 does.
fn write_log4j2_properties(dir: &Path) -> Result<std::path::PathBuf, ServiceError> {
    let path = dir.join("log4j2.properties");
    write_file(
        &path,
        "appender.stdout.type=Console\n\
         appender.stdout.name=STDOUT\n\
         appender.stdout.layout.type=PatternLayout\n\
         appender.stdout.layout.pattern=[%d] %p %m (%c)%n\n\
         rootLogger.level=INFO\n\
         rootLogger.appenderRef.stdout.ref=STDOUT\n",
    )?;
    Ok(path)
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
    /// The broker being started listens here: it is ready once the metadata lists a broker on
    /// it (whichever its id, in a cluster); `None`: once it lists broker 0.
    port: Option<u16>,
}

impl MetadataProbe {
    /// The probe of the broker being started on `port`; if rdkafka cannot make its client, the
    /// startup fails at once as not ready, with the broker's log from `log_tail`.
    fn for_broker(
        bootstrap: &str,
        port: u16,
        log_tail: impl FnOnce() -> String,
    ) -> Result<MetadataProbe, ServiceError> {
        MetadataProbe::new(bootstrap).map_err(|e| ServiceError::NotReady {
            service: "kafka",
            port,
            waited: Duration::ZERO,
            last_observed: format!("could not create the rdkafka probe client: {e}"),
            log_tail: log_tail(),
        })
    }

    fn new(bootstrap: &str) -> Result<Self, KafkaError> {
        let consumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("reconnect.backoff.ms", "20")
            .set("reconnect.backoff.max.ms", "250")
            .set("socket.connection.setup.timeout.ms", "2000")
            .set_log_level(RDKafkaLogLevel::Emerg)
            .create_with_context(ProbeContext::default())?;
        Ok(MetadataProbe {
            consumer,
            port: None,
        })
    }

    fn check(&self) -> Result<(), String> {
        match self.consumer.fetch_metadata(None, Duration::from_secs(1)) {
            Ok(metadata) => {
                let brokers = metadata.brokers();
                let ids: Vec<i32> = brokers.iter().map(|b| b.id()).collect();
                let listed = match self.port {
                    Some(port) => brokers.iter().any(|b| b.port() == i32::from(port)),
                    None => ids.contains(&0),
                };
                match (listed, self.port) {
                    (true, _) => Ok(()),
                    (false, Some(port)) => Err(format!(
                        "metadata lists brokers {ids:?}, none on port {port} yet"
                    )),
                    (false, None) => {
                        Err(format!("metadata lists brokers {ids:?}, not broker 0 yet"))
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp_kafka_variable_names() {
        assert_eq!(cp_kafka_variable("broker.id"), "KAFKA_BROKER_ID");
        assert_eq!(
            cp_kafka_variable("offsets.topic.replication.factor"),
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"
        );
        assert_eq!(cp_kafka_variable("a_b-c.d"), "KAFKA_A__B___C_D");
    }
}
