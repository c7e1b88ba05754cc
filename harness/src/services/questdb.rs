use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::docker::{ContainerSpec, Network, ServiceContainer};
use super::running::{deref_to_running, Readiness, Running};
use super::{data_dir, retry_on_port_race, Runner, QUESTDB_TIMEOUT};
use crate::error::ServiceError;
use crate::provision::Libs;

/// QuestDB on 127.0.0.1 (PG wire user `admin`, password `quest`, database `qdb`), a local
/// process or a container.
pub struct QuestDb {
    /// PostgreSQL wire protocol.
    pub pg_port: u16,
    /// HTTP (REST API, `/ping`, `/exec`, web console).
    pub http_port: u16,
    /// InfluxDB line protocol over TCP.
    pub ilp_port: u16,
    /// Minimal HTTP server (health).
    pub http_min_port: u16,
    running: Running,
}

impl std::fmt::Debug for QuestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuestDb")
            .field("pg_port", &self.pg_port)
            .field("http_port", &self.http_port)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

/// What QuestDB logs once its servers listen.
pub(crate) const QUESTDB_STARTED: &str = "enjoy";

/// QuestDB's settings, the same on both backends (it reads `QDB_*` itself, in the official
/// image too): the four listeners on `bind_host`, no telemetry, no UDP line protocol.
fn server_env(
    bind_host: &str,
    http: u16,
    pg: u16,
    ilp: u16,
    http_min: u16,
) -> Vec<(String, String)> {
    [
        ("QDB_HTTP_NET_BIND_TO", format!("{bind_host}:{http}")),
        ("QDB_PG_NET_BIND_TO", format!("{bind_host}:{pg}")),
        ("QDB_LINE_TCP_NET_BIND_TO", format!("{bind_host}:{ilp}")),
        (
            "QDB_HTTP_MIN_NET_BIND_TO",
            format!("{bind_host}:{http_min}"),
        ),
        ("QDB_TELEMETRY_ENABLED", "false".to_owned()),
        ("QDB_LINE_UDP_ENABLED", "false".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// How to start QuestDB.
#[derive(Debug, Clone)]
pub struct QuestDbOptions {
    /// Readiness timeout.
    pub timeout: Duration,
    /// Extra environment, e.g. `("QDB_CAIRO_COMMIT_LAG", "0")`: QuestDB reads any
    /// `server.conf` key as `QDB_` + the key upper-cased with `_` for `.`. Applied after the
    /// harness's own settings, so it can override them.
    pub env: Vec<(String, String)>,
}

impl Default for QuestDbOptions {
    fn default() -> Self {
        QuestDbOptions {
            timeout: super::start_timeout(QUESTDB_TIMEOUT),
            env: Vec::new(),
        }
    }
}

impl QuestDb {
    /// Starts QuestDB on free ports and waits until `GET /ping` answers 204.
    pub fn start(libs: &Libs, java: &Path, timeout: Duration) -> Result<QuestDb, ServiceError> {
        Self::start_with(
            libs,
            java,
            &QuestDbOptions {
                timeout,
                env: Vec::new(),
            },
        )
    }

    pub fn start_with(
        libs: &Libs,
        java: &Path,
        options: &QuestDbOptions,
    ) -> Result<QuestDb, ServiceError> {
        retry_on_port_race("QuestDB", || Self::start_once(libs, java, options))
    }

    fn start_once(
        libs: &Libs,
        java: &Path,
        options: &QuestDbOptions,
    ) -> Result<QuestDb, ServiceError> {
        let ports = super::free_ports(4)?;
        let (http_port, pg_port, ilp_port, http_min_port) =
            (ports[0], ports[1], ports[2], ports[3]);
        let root = data_dir("questdb")?;
        // QuestDB unpacks its native libraries into java.io.tmpdir.
        let tmp = root.path().join("tmp");
        std::fs::create_dir(&tmp)
            .map_err(|e| ServiceError::io("creating QuestDB's tmp dir", &tmp, e))?;
        let (java, jar, dir, env) = (
            java.to_path_buf(),
            libs.questdb_jar.clone(),
            root.path().to_path_buf(),
            options.env.clone(),
        );
        let command = move || {
            let mut cmd = Command::new(&java);
            cmd.arg("-Xmx1g")
                .arg("-Djava.awt.headless=true")
                .arg(format!("-Djava.io.tmpdir={}", dir.join("tmp").display()))
                .arg("--add-exports")
                .arg("java.base/jdk.internal.math=io.questdb")
                .arg("-p")
                .arg(&jar)
                .arg("-m")
                .arg("io.questdb/io.questdb.ServerMain")
                .arg("-d")
                .arg(&dir)
                .envs(server_env(
                    "127.0.0.1",
                    http_port,
                    pg_port,
                    ilp_port,
                    http_min_port,
                ))
                .envs(env.iter().map(|(k, v)| (k, v)))
                .current_dir(&dir);
            cmd
        };
        let runner = Runner::spawn("questdb", Box::new(command), root)?;
        Self::ready(&ports, runner, options.timeout, "")
    }

    /// Starts a QuestDB container from `image` (the official image's environment contract) on
    /// free ports and waits until `GET /ping` answers 204.
    pub(crate) fn start_container(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        options: &QuestDbOptions,
    ) -> Result<QuestDb, ServiceError> {
        retry_on_port_race("QuestDB", || {
            Self::start_container_once(image, network, bridge_network, options)
        })
    }

    fn start_container_once(
        image: &str,
        network: Network,
        bridge_network: Option<&str>,
        options: &QuestDbOptions,
    ) -> Result<QuestDb, ServiceError> {
        let ports = super::free_ports(4)?;
        let (http_port, pg_port, ilp_port, http_min_port) =
            (ports[0], ports[1], ports[2], ports[3]);
        // Host networking: loopback only, like the process. Behind published ports QuestDB
        // listens on the container's interfaces.
        let bind_host = match network {
            Network::Host => "127.0.0.1",
            Network::Bridge => "0.0.0.0",
        };
        let mut env = server_env(bind_host, http_port, pg_port, ilp_port, http_min_port);
        // The official image adds JVM_PREPEND to the JVM's options.
        env.push(("JVM_PREPEND".to_owned(), "-Xmx1g".to_owned()));
        env.extend(options.env.iter().cloned());
        let spec = ContainerSpec {
            service: "questdb",
            image: image.to_owned(),
            env,
            network,
            bridge_network: bridge_network.map(str::to_owned),
            ports: ports.clone(),
            port: http_port,
            ready_line: Some(QUESTDB_STARTED),
            instance: None,
            cmd: Vec::new(),
            mounts: Vec::new(),
            timeout: options.timeout,
        };
        let container =
            ServiceContainer::run(&spec).map_err(|e| e.into_service_error("questdb"))?;
        let detail = format!(", container {}", container.name());
        Self::ready(
            &ports,
            Runner::Container(Box::new(container)),
            options.timeout,
            &detail,
        )
    }

    /// Waits until `/ping` answers on the QuestDB on `ports`, in the order [`Self::start_once`]
    /// and [`Self::start_container_once`] assign them: HTTP, PG wire, ILP, HTTP min.
    fn ready(
        ports: &[u16],
        runner: Runner,
        timeout: Duration,
        detail: &str,
    ) -> Result<QuestDb, ServiceError> {
        let (http_port, pg_port) = (ports[0], ports[1]);
        let address = format!("127.0.0.1:{http_port} (pg 127.0.0.1:{pg_port}{detail})");
        let ready: Readiness =
            |runner, port, timeout| runner.wait_ready("questdb", port, timeout, || ping(port));
        let running = Running::wait(
            "QuestDB",
            "questdb",
            (http_port, address),
            runner,
            ready,
            timeout,
        )?;
        Ok(QuestDb {
            pg_port,
            http_port,
            ilp_port: ports[2],
            http_min_port: ports[3],
            running,
        })
    }

    /// A tokio-postgres / libpq connection string.
    pub fn pg_config(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=admin password=quest dbname=qdb",
            self.pg_port
        )
    }
}

deref_to_running!(QuestDb);

/// `GET /ping` on QuestDB's HTTP port; `Ok` if it answers 204.
pub fn ping(http_port: u16) -> Result<(), String> {
    let mut stream = super::running::probe_connection(http_port)?;
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("sending GET /ping: {e}"))?;
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < head.len() && !head[..len].contains(&b'\n') {
        match stream.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) => return Err(format!("reading the answer to GET /ping: {e}")),
        }
    }
    let status_line = String::from_utf8_lossy(&head[..len]);
    let status_line = status_line.lines().next().unwrap_or("").trim();
    if status_line.split_whitespace().nth(1) == Some("204") {
        Ok(())
    } else if status_line.is_empty() {
        Err("GET /ping: connection closed without an answer".to_owned())
    } else {
        Err(format!("GET /ping answered {status_line:?}"))
    }
}
