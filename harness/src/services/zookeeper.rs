use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::docker::{ContainerError, ContainerSpec, Network, ServiceContainer};
use super::{
    data_dir, print_ready, retry_on_port_race, wait_ready, write_file, write_log4j_properties,
    Runner,
};
use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::provision::Libs;

/// A standalone ZooKeeper on 127.0.0.1 (a local process or a container).
pub struct ZooKeeper {
    pub port: u16,
    /// Spawn (or `docker run`) to ready.
    pub startup: Duration,
    runner: Runner,
    /// Where Kafka reaches it: `127.0.0.1:<port>`, or with bridge networking
    /// `<container name>:<port>` on the run's network.
    peer_connect: String,
    /// The command that started the process, to start it again on the same port and data.
    relaunch: Option<Box<dyn Fn() -> Command + Send + Sync>>,
}

impl std::fmt::Debug for ZooKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZooKeeper")
            .field("port", &self.port)
            .field("runner", &self.runner)
            .field("peer_connect", &self.peer_connect)
            .finish_non_exhaustive()
    }
}

/// Settings both backends use, beyond the port: the four-letter words the readiness probe sends
/// (`ruok`) and no admin server (it would take :8080).
const FOUR_LETTER_WORDS: &str = "ruok,srvr";
const TICK_TIME_MS: &str = "2000";

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
        let process = ServiceProcess::spawn("zookeeper", command(), dir)?;
        let startup = wait_ready(&process, port, timeout, || ruok(port))?;
        print_ready("ZooKeeper", &format!("127.0.0.1:{port}"), startup);
        Ok(ZooKeeper {
            port,
            startup,
            runner: Runner::Process(process),
            peer_connect: format!("127.0.0.1:{port}"),
            relaunch: Some(Box::new(command)),
        })
    }

    /// Kills ZooKeeper with SIGKILL, as a crash would, and starts it again on the same port and
    /// data dir; returns once `ruok` answers, with how long the restart took. Local processes
    /// only (a fault case).
    pub fn kill_and_restart(&mut self, timeout: Duration) -> Result<Duration, ServiceError> {
        self.process_for_fault("restarting")?
            .stop_keeping_data(libc::SIGKILL, Duration::ZERO);
        self.start_again(timeout)
    }

    /// Stops ZooKeeper cleanly (SIGTERM; SIGKILL after 30 s), keeping its port and data for
    /// [`Self::start_again`]. Local processes only.
    pub fn stop(&mut self) -> Result<(), ServiceError> {
        self.process_for_fault("stopping")?
            .stop_keeping_data(libc::SIGTERM, super::STOP_GRACE);
        Ok(())
    }

    /// Starts a ZooKeeper that was stopped or killed, on the same port and data; returns once
    /// `ruok` answers, with how long that took.
    pub fn start_again(&mut self, timeout: Duration) -> Result<Duration, ServiceError> {
        let (Some(relaunch), Runner::Process(process)) = (&self.relaunch, &mut self.runner) else {
            return Err(ServiceError::Config(
                "starting ZooKeeper again is implemented for local processes only".into(),
            ));
        };
        process.respawn(relaunch())?;
        let port = self.port;
        wait_ready(process, port, timeout, || ruok(port))
    }

    fn process_for_fault(&mut self, what: &str) -> Result<&mut ServiceProcess, ServiceError> {
        match &mut self.runner {
            Runner::Process(process) => Ok(process),
            Runner::Container(_) => Err(ServiceError::Config(format!(
                "{what} ZooKeeper is implemented for local processes only"
            ))),
        }
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
        };
        let as_service_error = |e: ContainerError| e.into_service_error("zookeeper");
        let container = ServiceContainer::run(&spec).map_err(as_service_error)?;
        let startup = container
            .wait_ready(port, timeout, || ruok(port))
            .map_err(as_service_error)?;
        print_ready(
            "ZooKeeper",
            &format!("127.0.0.1:{port} (container {})", container.name()),
            startup,
        );
        let peer_connect = match bridge_network {
            Some(_) if network == Network::Bridge => format!("{}:{port}", container.name()),
            _ => format!("127.0.0.1:{port}"),
        };
        Ok(ZooKeeper {
            port,
            startup,
            runner: Runner::Container(container),
            peer_connect,
            relaunch: None,
        })
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

    pub fn log_tail(&self, lines: usize) -> String {
        self.runner.log_tail(lines)
    }

    /// The local process.
    ///
    /// # Panics
    /// With the docker backend, which has no local process: see [`Self::container`].
    pub fn process(&self) -> &ServiceProcess {
        self.runner.process("ZooKeeper")
    }

    /// The container, with the docker backend.
    pub fn container(&self) -> Option<&ServiceContainer> {
        self.runner.container()
    }

    pub(crate) fn runner(&self) -> &Runner {
        &self.runner
    }
}

/// Sends the four-letter word `ruok` to ZooKeeper on 127.0.0.1:`port`; `Ok` if it answers `imok`.
pub fn ruok(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(2);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
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
