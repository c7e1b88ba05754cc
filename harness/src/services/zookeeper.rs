use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::docker::{ContainerSpec, Network, ServiceContainer};
use super::running::{deref_to_running, Readiness, Running};
use super::{data_dir, retry_on_port_race, write_file, write_log4j_properties, Runner};
use crate::error::ServiceError;
use crate::provision::Libs;

/// A standalone ZooKeeper on 127.0.0.1 (a local process or a container).
#[derive(Debug)]
pub struct ZooKeeper {
    pub port: u16,
    running: Running,
    /// Where Kafka reaches it: `127.0.0.1:<port>`, or with bridge networking
    /// `<container name>:<port>` on the run's network.
    peer_connect: String,
}

/// Settings both backends use, beyond the port: the four-letter words the readiness probe sends
/// (`ruok`) and no admin server (it would take :8080).
const FOUR_LETTER_WORDS: &str = "ruok,srvr";
const TICK_TIME_MS: &str = "2000";
/// What ZooKeeper logs once its client port listens.
pub(crate) const ZOOKEEPER_STARTED: &str = "binding to port";

impl ZooKeeper {
    /// Starts ZooKeeper on a free port and waits until `ruok` answers `imok`.
    pub fn start(libs: &Libs, java: &Path, timeout: Duration) -> Result<ZooKeeper, ServiceError> {
        retry_on_port_race("ZooKeeper", || Self::start_once(libs, java, timeout))
    }

    fn start_once(libs: &Libs, java: &Path, timeout: Duration) -> Result<ZooKeeper, ServiceError> {
        let port = super::free_ports(1)?[0];
        let dir = data_dir("zookeeper")?;
        let data = dir.path().join("data");
        std::fs::create_dir(&data)
            .map_err(|e| ServiceError::io("creating the ZooKeeper data dir", &data, e))?;
        let cfg = dir.path().join("zoo.cfg");
        write_file(
            &cfg,
            &format!(
                "tickTime={TICK_TIME_MS}\n\
                 dataDir={}\n\
                 clientPort={port}\n\
                 clientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n\
                 4lw.commands.whitelist={FOUR_LETTER_WORDS}\n",
                data.display()
            ),
        )?;
        let log4j = write_log4j_properties(dir.path())?;
        let (java, classpath, workdir) = (
            java.to_path_buf(),
            libs.kafka_classpath.clone(),
            dir.path().to_path_buf(),
        );
        let command = move || {
            let mut cmd = Command::new(&java);
            cmd.arg("-Xmx256m")
                .arg("-Djava.awt.headless=true")
                .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
                .arg("-cp")
                .arg(&classpath)
                .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
                .arg(&cfg)
                .current_dir(&workdir);
            cmd
        };
        let runner = Runner::spawn("zookeeper", Box::new(command), dir)?;
        Self::ready(port, runner, timeout, format!("127.0.0.1:{port}"), "")
    }

    /// Waits until `ruok` on `port` answers `imok`.
    fn ready(
        port: u16,
        runner: Runner,
        timeout: Duration,
        peer_connect: String,
        detail: &str,
    ) -> Result<ZooKeeper, ServiceError> {
        let address = format!("127.0.0.1:{port}{detail}");
        let ready: Readiness =
            |runner, port, timeout| runner.wait_ready("zookeeper", port, timeout, || ruok(port));
        Ok(ZooKeeper {
            port,
            running: Running::wait(
                "ZooKeeper",
                "zookeeper",
                (port, address),
                runner,
                ready,
                timeout,
            )?,
            peer_connect,
        })
    }

    /// Starts a ZooKeeper container from `image` (cp-zookeeper's environment contract) on a
    /// free port and waits until `ruok` answers `imok`.
    pub(crate) fn start_container(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        timeout: Duration,
    ) -> Result<ZooKeeper, ServiceError> {
        retry_on_port_race("ZooKeeper", || {
            Self::start_container_once(image, network, bridge_network, timeout)
        })
    }

    fn start_container_once(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        timeout: Duration,
    ) -> Result<ZooKeeper, ServiceError> {
        let port = super::free_ports(1)?[0];
        let mut env = vec![
            ("ZOOKEEPER_CLIENT_PORT".to_owned(), port.to_string()),
            ("ZOOKEEPER_TICK_TIME".to_owned(), TICK_TIME_MS.to_owned()),
            ("KAFKA_HEAP_OPTS".to_owned(), "-Xmx256m".to_owned()),
            // cp-zookeeper passes KAFKA_OPTS to the JVM; ZooKeeper reads these as system
            // properties too.
            (
                "KAFKA_OPTS".to_owned(),
                format!(
                    "-Dzookeeper.4lw.commands.whitelist={FOUR_LETTER_WORDS} \
                     -Dzookeeper.admin.enableServer=false"
                ),
            ),
        ];
        if network == Network::Host {
            // Host networking shares the host's interfaces: bind loopback only, as the process
            // backend does. Behind a published port the container must listen on its own
            // interface instead.
            env.push((
                "ZOOKEEPER_CLIENT_PORT_ADDRESS".to_owned(),
                "127.0.0.1".to_owned(),
            ));
        }
        let spec = ContainerSpec {
            service: "zookeeper",
            image: image.to_owned(),
            env,
            network,
            bridge_network: bridge_network.map(str::to_owned),
            ports: vec![port],
            port,
            ready_line: Some(ZOOKEEPER_STARTED),
            instance: None,
            cmd: Vec::new(),
            mounts: Vec::new(),
            timeout,
        };
        let container =
            ServiceContainer::run(&spec).map_err(|e| e.into_service_error("zookeeper"))?;
        let peer_connect = match bridge_network {
            Some(_) if network == Network::Bridge => format!("{}:{port}", container.name()),
            _ => format!("127.0.0.1:{port}"),
        };
        let detail = format!(" (container {})", container.name());
        Self::ready(
            port,
            Runner::Container(Box::new(container)),
            timeout,
            peer_connect,
            &detail,
        )
    }

    /// `127.0.0.1:<port>`, for `zookeeper.connect`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Where a broker reaches this ZooKeeper: [`Self::connect_string`], except with bridge
    /// networking, where it is the container's name on the run's network.
    pub fn peer_connect_string(&self) -> &str {
        &self.peer_connect
    }
}

deref_to_running!(ZooKeeper);

/// Sends the four-letter word `ruok` to ZooKeeper on 127.0.0.1:`port`; `Ok` if it answers `imok`.
pub fn ruok(port: u16) -> Result<(), String> {
    let mut stream = super::running::probe_connection(port)?;
    stream
        .write_all(b"ruok")
        .map_err(|e| format!("sending ruok: {e}"))?;
    let mut answer = Vec::new();
    stream
        .take(64)
        .read_to_end(&mut answer)
        .map_err(|e| format!("reading the answer to ruok: {e}"))?;
    if answer == b"imok" {
        Ok(())
    } else {
        Err(format!(
            "ruok answered {:?}",
            String::from_utf8_lossy(&answer)
        ))
    }
}
