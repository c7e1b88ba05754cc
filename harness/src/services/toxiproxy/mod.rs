//! Shopify's Toxiproxy in front of what the sink under test dials: QuestDB's HTTP port (ILP),
//! its PG port, and the Kafka broker, so network faults (latency, a black hole, resets, a
//! bandwidth cap, a proxy down) strike the sink's connections and none of the harness's own
//! (it produces, probes and reads back directly).
//!
//! The broker gets a second listener, `PROXIED`, whose advertised address is the proxy's: a
//! client that bootstraps through the proxy is told the proxy's address for every later
//! connection (metadata, fetch, the group coordinator), so every connection is faulted, not only
//! the bootstrap one. The proxy listens on a port the OS picks (`127.0.0.1:0`) and is created
//! before the broker starts, so the advertised port is held from the start.
//!
//! Toxiproxy runs as a local process on both backends: its proxies must listen where the sink
//! dials (the host's loopback), and every upstream (a process port, or a container's port
//! published on 127.0.0.1) is reachable from there; a container would need an image built from
//! Go in `ci/docker/` for no gain in what is faulted.

mod api;
mod install;

pub use install::{server_binary, VERSION};

use std::collections::BTreeMap;
use std::fmt;
use std::process::Command;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use super::{data_dir, free_ports, print_ready, start_timeout, wait_ready};
use crate::error::ServiceError;
use crate::process::ServiceProcess;
use crate::wait::wait_until;

/// How long the server may take to answer its API.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A proxy, named for what it is in front of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProxyName {
    QuestDbHttp,
    QuestDbPg,
    Kafka,
}

impl ProxyName {
    pub const ALL: [ProxyName; 3] = [
        ProxyName::QuestDbHttp,
        ProxyName::QuestDbPg,
        ProxyName::Kafka,
    ];

    fn as_str(self) -> &'static str {
        match self {
            ProxyName::QuestDbHttp => "questdb-http",
            ProxyName::QuestDbPg => "questdb-pg",
            ProxyName::Kafka => "kafka",
        }
    }
}

impl fmt::Display for ProxyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProxyName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProxyName::ALL
            .into_iter()
            .find(|p| p.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown proxy `{s}`: expected questdb-http, questdb-pg or kafka")
            })
    }
}

/// What a network fault does to a proxy's connections while it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkFault {
    /// Every answer (server to client) delayed this long.
    Latency(Duration),
    /// A black hole: nothing passes either way and nothing is closed while it holds
    /// (Toxiproxy's `timeout` toxic with timeout 0 drops what is sent, and closes the
    /// connection when it is removed: one used across the fault has lost bytes).
    Timeout,
    /// Every connection reset (TCP RST) as soon as data flows, new ones included.
    Reset,
    /// Each direction capped at this many KB/s.
    Bandwidth { kb_per_s: u64 },
    /// The proxy disabled: its connections closed and new ones refused.
    Down,
}

impl fmt::Display for NetworkFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkFault::Latency(d) => write!(f, "latency {d:?}"),
            NetworkFault::Timeout => f.write_str("timeout (black hole)"),
            NetworkFault::Reset => f.write_str("reset (TCP RST)"),
            NetworkFault::Bandwidth { kb_per_s } => write!(f, "bandwidth {kb_per_s} KB/s"),
            NetworkFault::Down => f.write_str("down (connections closed, refused)"),
        }
    }
}

impl NetworkFault {
    /// The toxics it adds: (name, type, stream, attributes); none for `Down`.
    fn toxics(self) -> Vec<(String, &'static str, &'static str, serde_json::Value)> {
        let (kind, attributes, streams): (&str, _, &[&str]) = match self {
            NetworkFault::Latency(d) => (
                "latency",
                json!({ "latency": d.as_millis() as u64, "jitter": 0 }),
                &["downstream"],
            ),
            NetworkFault::Timeout => (
                "timeout",
                json!({ "timeout": 0 }),
                &["upstream", "downstream"],
            ),
            NetworkFault::Reset => (
                "reset_peer",
                json!({ "timeout": 0 }),
                &["upstream", "downstream"],
            ),
            NetworkFault::Bandwidth { kb_per_s } => (
                "bandwidth",
                json!({ "rate": kb_per_s }),
                &["upstream", "downstream"],
            ),
            NetworkFault::Down => return Vec::new(),
        };
        streams
            .iter()
            .map(|&stream| (format!("{kind}_{stream}"), kind, stream, attributes.clone()))
            .collect()
    }
}

/// The Toxiproxy server, a local process that cannot outlive the run (a [`ServiceProcess`]:
/// its guardian stops it however the harness ends), and the proxies it holds.
#[derive(Debug)]
pub struct Toxiproxy {
    process: ServiceProcess,
    /// The API's port on 127.0.0.1.
    pub api_port: u16,
    /// Each proxy's listening port.
    listening: Mutex<BTreeMap<ProxyName, u16>>,
}

impl Toxiproxy {
    /// Provisions the server if needed and starts it on a free loopback port, with no proxies.
    pub fn start() -> Result<Toxiproxy, ServiceError> {
        let binary = server_binary()?;
        let attempt = || -> Result<Toxiproxy, ServiceError> {
            let port = free_ports(1)?[0];
            let mut cmd = Command::new(&binary);
            cmd.args(["-host", "127.0.0.1", "-port", &port.to_string()])
                .env("LOG_LEVEL", "warn");
            let process = ServiceProcess::spawn("toxiproxy", cmd, data_dir("toxiproxy")?)?;
            let startup = wait_ready(&process, port, start_timeout(TIMEOUT), || {
                api::expect_success(port, "GET", "/version", None).map(drop)
            })?;
            print_ready("Toxiproxy", &format!("127.0.0.1:{port}"), startup);
            Ok(Toxiproxy {
                process,
                api_port: port,
                listening: Mutex::new(BTreeMap::new()),
            })
        };
        // Once more on another port if another process took it before the server bound it.
        attempt().or_else(|_| attempt())
    }

    /// Puts `proxy` in front of `127.0.0.1:upstream` (creating it on a port the OS picks, or
    /// pointing the existing one at the new upstream); returns the port it listens on.
    pub fn place(&self, proxy: ProxyName, upstream: u16) -> Result<u16, ServiceError> {
        let upstream = format!("127.0.0.1:{upstream}");
        let known = self.port(proxy);
        let answer = match known {
            None => self.call(
                "POST",
                "/proxies",
                &json!({ "name": proxy.as_str(), "listen": "127.0.0.1:0",
                         "upstream": upstream, "enabled": true }),
            )?,
            Some(_) => self.call(
                "POST",
                &format!("/proxies/{proxy}"),
                &json!({ "upstream": upstream }),
            )?,
        };
        let listen: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|e| self.error(format!("reading the proxy {proxy}: {e}: {answer}")))?;
        let port = listen["listen"]
            .as_str()
            .and_then(|l| l.rsplit(':').next())
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| self.error(format!("no listen port in {answer}")))?;
        self.listening
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(proxy, port);
        Ok(port)
    }

    /// Puts the QuestDB proxies in front of its ports, then waits until the broker answers
    /// through its proxy (its advertised `PROXIED` listener), placed when it started.
    pub fn front_questdb(&self, http_port: u16, pg_port: u16) -> Result<(), ServiceError> {
        self.place(ProxyName::QuestDbHttp, http_port)?;
        self.place(ProxyName::QuestDbPg, pg_port)?;
        let bootstrap = format!("127.0.0.1:{}", self.port(ProxyName::Kafka).unwrap_or(0));
        wait_until(
            &format!("Kafka through its proxy on {bootstrap}"),
            start_timeout(super::KAFKA_TIMEOUT),
            || super::metadata_probe(&bootstrap),
        )
        .map_err(|t| ServiceError::NotReady {
            service: "toxiproxy",
            port: self.api_port,
            waited: t.waited,
            last_observed: t.last_observed,
            log_tail: self.log_tail(20),
        })
    }

    /// The port `proxy` listens on, once placed.
    pub fn port(&self, proxy: ProxyName) -> Option<u16> {
        self.listening
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&proxy)
            .copied()
    }

    /// Every proxy enabled and every toxic removed: how each fault starts, so that one a
    /// failed case left behind does not strike the next.
    pub fn reset(&self) -> Result<(), ServiceError> {
        self.call("POST", "/reset", &json!({})).map(drop)
    }

    /// Starts `fault` on `proxy`'s connections, the open ones included.
    pub fn apply(&self, proxy: ProxyName, fault: NetworkFault) -> Result<(), ServiceError> {
        self.reset()?;
        if fault == NetworkFault::Down {
            self.call(
                "POST",
                &format!("/proxies/{proxy}"),
                &json!({ "enabled": false }),
            )?;
        }
        for (name, kind, stream, attributes) in fault.toxics() {
            let toxic = json!({ "name": name, "type": kind, "stream": stream,
                                "toxicity": 1.0, "attributes": attributes });
            self.call("POST", &format!("/proxies/{proxy}/toxics"), &toxic)?;
        }
        Ok(())
    }

    /// Ends `fault` on `proxy`: its toxics removed, or the proxy enabled again.
    pub fn lift(&self, proxy: ProxyName, fault: NetworkFault) -> Result<(), ServiceError> {
        if fault == NetworkFault::Down {
            self.call(
                "POST",
                &format!("/proxies/{proxy}"),
                &json!({ "enabled": true }),
            )?;
        }
        for (name, ..) in fault.toxics() {
            api::expect_success(
                self.api_port,
                "DELETE",
                &format!("/proxies/{proxy}/toxics/{name}"),
                None,
            )
            .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// The server's log tail, for errors.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<String, ServiceError> {
        api::expect_success(self.api_port, method, path, Some(body)).map_err(|e| self.error(e))
    }

    fn error(&self, what: String) -> ServiceError {
        ServiceError::NotReady {
            service: "toxiproxy",
            port: self.api_port,
            waited: Duration::ZERO,
            last_observed: what,
            log_tail: self.process.log_tail(20),
        }
    }
}

/// The broker listener the Kafka proxy forwards to: `PROXIED` on `port` (bound on
/// `listen_host`), advertised as the proxy's `127.0.0.1:advertised`, plain text like the
/// harness's own `PLAINTEXT` listener, which stays the one brokers talk to each other on.
pub(crate) fn add_kafka_listener(
    settings: &mut Vec<(&'static str, String)>,
    listen_host: &str,
    port: u16,
    advertised: u16,
) {
    if !settings
        .iter()
        .any(|(k, _)| *k == "listener.security.protocol.map")
    {
        // ZooKeeper mode leaves the map at its default, which knows the standard names only.
        settings.push((
            "listener.security.protocol.map",
            "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
                .to_owned(),
        ));
    }
    for (key, value) in settings.iter_mut() {
        match *key {
            "listeners" => value.push_str(&format!(",PROXIED://{listen_host}:{port}")),
            "advertised.listeners" => value.push_str(&format!(",PROXIED://127.0.0.1:{advertised}")),
            "listener.security.protocol.map" => value.push_str(",PROXIED:PLAINTEXT"),
            _ => {}
        }
    }
    settings.push(("inter.broker.listener.name", "PLAINTEXT".to_owned()));
    // inter.broker.listener.name may already be there (KRaft, the secured listener): keep one.
    let mut seen = std::collections::HashSet::new();
    settings.retain(|(k, _)| seen.insert(*k));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_names_round_trip() {
        for p in ProxyName::ALL {
            assert_eq!(p.to_string().parse::<ProxyName>(), Ok(p));
        }
        assert!("questdb".parse::<ProxyName>().is_err());
    }

    #[test]
    fn toxics_per_fault() {
        let names = |f: NetworkFault| f.toxics().into_iter().map(|t| t.0).collect::<Vec<_>>();
        assert_eq!(
            names(NetworkFault::Latency(Duration::from_millis(500))),
            ["latency_downstream"]
        );
        assert_eq!(
            names(NetworkFault::Reset),
            ["reset_peer_upstream", "reset_peer_downstream"]
        );
        assert!(names(NetworkFault::Down).is_empty());
        let latency = NetworkFault::Latency(Duration::from_millis(500)).toxics();
        assert_eq!(latency[0].3["latency"], 500);
    }

    #[test]
    fn kafka_listener_in_zookeeper_mode() {
        let mut settings = vec![
            ("listeners", "PLAINTEXT://127.0.0.1:9092".to_owned()),
            (
                "advertised.listeners",
                "PLAINTEXT://127.0.0.1:9092".to_owned(),
            ),
        ];
        add_kafka_listener(&mut settings, "127.0.0.1", 9093, 40000);
        let get = |k: &str| {
            settings
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("listeners"),
            Some("PLAINTEXT://127.0.0.1:9092,PROXIED://127.0.0.1:9093")
        );
        assert_eq!(
            get("advertised.listeners"),
            Some("PLAINTEXT://127.0.0.1:9092,PROXIED://127.0.0.1:40000")
        );
        assert!(get("listener.security.protocol.map")
            .unwrap()
            .ends_with(",PROXIED:PLAINTEXT"));
        assert_eq!(get("inter.broker.listener.name"), Some("PLAINTEXT"));
    }
}
