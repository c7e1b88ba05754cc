use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{
    data_dir, print_ready, retry_on_port_race, wait_ready, write_file, write_log4j_properties,
};
use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::provision::Libs;

/// A standalone ZooKeeper on 127.0.0.1.
#[derive(Debug)]
pub struct ZooKeeper {
    pub port: u16,
    /// Spawn to ready.
    pub startup: Duration,
    process: ServiceProcess,
}

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
                "tickTime=2000\n\
                 dataDir={}\n\
                 clientPort={port}\n\
                 clientPortAddress=127.0.0.1\n\
                 admin.enableServer=false\n\
                 4lw.commands.whitelist=ruok,srvr\n",
                data.display()
            ),
        )?;
        let log4j = write_log4j_properties(dir.path())?;
        let mut cmd = Command::new(java);
        cmd.arg("-Xmx256m")
            .arg("-Djava.awt.headless=true")
            .arg(format!("-Dlog4j.configuration=file:{}", log4j.display()))
            .arg("-cp")
            .arg(&libs.kafka_classpath)
            .arg("org.apache.zookeeper.server.quorum.QuorumPeerMain")
            .arg(&cfg)
            .current_dir(dir.path());
        let process = ServiceProcess::spawn("zookeeper", cmd, dir)?;
        let startup = wait_ready(&process, port, timeout, || ruok(port))?;
        print_ready("ZooKeeper", &format!("127.0.0.1:{port}"), startup);
        Ok(ZooKeeper {
            port,
            startup,
            process,
        })
    }

    /// `127.0.0.1:<port>`, for `zookeeper.connect`.
    pub fn connect_string(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    pub fn process(&self) -> &ServiceProcess {
        &self.process
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
