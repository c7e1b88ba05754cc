//! The one seam for breaking a running service (fault cases, issue 11): given a service and a
//! fault, [`Services::inject`] acts on it through the service's own methods,
//! `kill_and_restart`, `stop` and `start_again`, which keep its ports and data. Those methods
//! go through the backend seam ([`super::Runner`]: a local process or a container), so the
//! same faults run on both; nothing else in the harness knows how a service is killed or
//! started.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use super::toxiproxy::{NetworkFault, ProxyName};
use super::{
    start_timeout, Endpoints, Services, KAFKA_TIMEOUT, QUESTDB_TIMEOUT, ZOOKEEPER_TIMEOUT,
};
use crate::error::ServiceError;

/// A service a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceName {
    QuestDb,
    Kafka,
    ZooKeeper,
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceName::QuestDb => "questdb",
            ServiceName::Kafka => "kafka",
            ServiceName::ZooKeeper => "zookeeper",
        })
    }
}

impl FromStr for ServiceName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "questdb" => Ok(ServiceName::QuestDb),
            "kafka" => Ok(ServiceName::Kafka),
            "zookeeper" => Ok(ServiceName::ZooKeeper),
            other => Err(format!(
                "unknown service `{other}`: expected questdb, kafka or zookeeper"
            )),
        }
    }
}

/// What happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// SIGKILL, as a crash would, and started again at once.
    Kill,
    /// A clean stop (SIGTERM, waited for), then started again.
    Restart,
    /// A clean stop, down for this long, then started again.
    Stop { down: Duration },
    /// SIGSTOP (the whole process group, or the container's process), frozen this long, then
    /// SIGCONT: a process that hangs (a GC pause, a stuck disk) with its sockets open.
    Pause { down: Duration },
    /// QuestDB's HTTP port answered `status` for this long by the fault case's proxy in
    /// front of it (`http-502 questdb for=30s`), as a gateway answers for a backend.
    Answer { status: u16, down: Duration },
    /// `DROP TABLE` over PG wire, as an operator would (target `table`: the case's table).
    Drop,
    /// `at=start create topic for=D`: the case's topic does not exist when the sinks start; the
    /// runner creates it this long after.
    Create { late: Duration },
    /// A network fault on a proxy (issue 26), held this long, then lifted.
    Network { fault: NetworkFault, held: Duration },
    /// A broker of a cluster stopped cleanly (SIGTERM) or hard (SIGKILL) and left down until
    /// the case ends (Kafka's clean and hard shutdown; [`super::cluster`]).
    Shutdown { hard: bool },
}

impl fmt::Display for FaultAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultAction::Kill => f.write_str("kill"),
            FaultAction::Restart => f.write_str("restart"),
            FaultAction::Stop { down } => write!(f, "stop for {down:?}"),
            FaultAction::Pause { down } => write!(f, "pause for {down:?}"),
            FaultAction::Drop => f.write_str("drop"),
            FaultAction::Create { late } => write!(f, "create after {late:?}"),
            FaultAction::Answer { status, down } => write!(f, "http-{status} for {down:?}"),
            FaultAction::Network { fault, held } => write!(f, "{fault} for {held:?}"),
            FaultAction::Shutdown { hard: false } => f.write_str("clean-shutdown"),
            FaultAction::Shutdown { hard: true } => f.write_str("hard-shutdown"),
        }
    }
}

/// A signal that freezes or thaws a service ([`FaultAction::Pause`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Stop,
    Continue,
}

impl Signal {
    pub fn number(self) -> libc::c_int {
        match self {
            Signal::Stop => libc::SIGSTOP,
            Signal::Continue => libc::SIGCONT,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Stop => "SIGSTOP",
            Signal::Continue => "SIGCONT",
        }
    }
}

impl FaultAction {
    /// Whether it holds for a while (`for=`), the next part of the stream produced meanwhile.
    pub fn holds(self) -> bool {
        matches!(
            self,
            FaultAction::Stop { .. } | FaultAction::Pause { .. } | FaultAction::Answer { .. }
        )
    }
}

/// How a fault went: when the service was back.
#[derive(Debug, Clone, Copy)]
pub struct Injected {
    /// From the fault's start until the service answered again.
    pub took: Duration,
}

impl Services {
    /// Injects `action` into `service` and returns once it answers again. For
    /// [`FaultAction::Stop`], `while_down` runs once the service is stopped and the pause is
    /// its job (it gets the time the service is to stay down, and returns when that is over),
    /// so the caller can watch the sink meanwhile.
    pub fn inject(
        &mut self,
        service: ServiceName,
        action: FaultAction,
        while_down: impl FnOnce(Duration),
    ) -> Result<Injected, ServiceError> {
        let started = Instant::now();
        match action {
            FaultAction::Kill => {
                self.kill_and_restart(service)?;
            }
            FaultAction::Restart => {
                self.stop(service)?;
                self.start_again(service)?;
            }
            FaultAction::Stop { down } => {
                self.stop(service)?;
                while_down(down);
                self.start_again(service)?;
            }
            FaultAction::Pause { down } => {
                self.pause(service)?;
                while_down(down);
                self.resume(service)?;
            }
            FaultAction::Drop
            | FaultAction::Answer { .. }
            | FaultAction::Network { .. }
            | FaultAction::Shutdown { .. }
            | FaultAction::Create { .. } => {
                return Err(ServiceError::Config(format!(
                    "`{action} {service}`: the fault runner strikes it (the table, a proxy, the topic), not the service"
                )))
            }
        }
        Ok(Injected {
            took: started.elapsed(),
        })
    }

    /// Starts a network fault (`FaultAction::Network`) on `proxy`, runs `while_held` with how
    /// long it is to hold (the pause is its job, as for [`Self::inject`]), then lifts it.
    /// Needs the proxies ([`Services::start_proxied`]).
    pub fn inject_network(
        &mut self,
        proxy: ProxyName,
        action: FaultAction,
        while_held: impl FnOnce(Duration),
    ) -> Result<Injected, ServiceError> {
        let FaultAction::Network { fault, held } = action else {
            return Err(ServiceError::Config(format!(
                "`{action}` is not a network fault: it strikes a service, not the proxy {proxy}"
            )));
        };
        let toxiproxy = self.toxiproxy.as_ref().ok_or_else(|| {
            ServiceError::Config(format!(
                "`{action}` on {proxy} needs the proxies: start the services with \
                 Services::start_proxied (the fault cases' runners do)"
            ))
        })?;
        let started = Instant::now();
        if let Err(e) = toxiproxy.apply(proxy, fault) {
            let _ = toxiproxy.reset(); // not half applied
            return Err(e);
        }
        while_held(held);
        toxiproxy.lift(proxy, fault)?;
        Ok(Injected {
            took: started.elapsed(),
        })
    }

    /// What the sinks dial: [`Self::endpoints`], or through the proxies for a case with network
    /// faults (the harness itself never dials them).
    pub fn sink_endpoints(&self, through_proxies: bool) -> Result<Endpoints, ServiceError> {
        if !through_proxies {
            return Ok(self.endpoints());
        }
        let proxies = self.toxiproxy.as_ref();
        let port = |p| proxies.and_then(|t| t.port(p));
        match (
            port(ProxyName::Kafka),
            port(ProxyName::QuestDbPg),
            port(ProxyName::QuestDbHttp),
        ) {
            (Some(kafka), Some(pg_port), Some(http_port)) => Ok(Endpoints {
                kafka_bootstrap: format!("127.0.0.1:{kafka}"),
                pg_port,
                http_port,
                ..self.endpoints()
            }),
            _ => Err(ServiceError::Config(
                "network faults need the services started with their proxies \
                 (Services::start_proxied)"
                    .into(),
            )),
        }
    }

    /// The Toxiproxy log tail, for errors.
    pub fn log_tail_of_proxies(&self, lines: usize) -> String {
        self.toxiproxy
            .as_ref()
            .map_or("(no Toxiproxy)".into(), |t| t.log_tail(lines))
    }

    /// SIGKILL and started again on the same ports and data.
    pub fn kill_and_restart(&mut self, service: ServiceName) -> Result<Duration, ServiceError> {
        let (running, timeout) = self.running_mut(service)?;
        running.kill_and_restart(timeout)
    }

    /// A clean stop that keeps the data; [`Self::start_again`] brings it back.
    pub fn stop(&mut self, service: ServiceName) -> Result<(), ServiceError> {
        self.running_mut(service)?.0.stop()
    }

    /// Starts a stopped service again on its ports and data; returns once it answers.
    pub fn start_again(&mut self, service: ServiceName) -> Result<Duration, ServiceError> {
        let (running, timeout) = self.running_mut(service)?;
        running.start_again(timeout)
    }

    /// SIGSTOP: the service freezes with its ports and connections open.
    pub fn pause(&mut self, service: ServiceName) -> Result<(), ServiceError> {
        self.running_mut(service)?.0.signal(Signal::Stop)
    }

    /// SIGCONT after [`Self::pause`]; returns once it answers again.
    pub fn resume(&mut self, service: ServiceName) -> Result<Duration, ServiceError> {
        let (running, timeout) = self.running_mut(service)?;
        running.signal(Signal::Continue)?;
        running.wait_answering(timeout)
    }

    /// The log tail of a service, for errors.
    pub fn log_tail_of(&self, service: ServiceName, lines: usize) -> String {
        match service {
            ServiceName::QuestDb => self.questdb.log_tail(lines),
            ServiceName::Kafka => self.kafka.log_tail(lines),
            ServiceName::ZooKeeper => self
                .zookeeper
                .as_ref()
                .map_or("(no ZooKeeper: KRaft mode)".into(), |z| z.log_tail(lines)),
        }
    }

    /// A service to break, with how long it may take to answer again.
    fn running_mut(
        &mut self,
        service: ServiceName,
    ) -> Result<(&mut super::Running, Duration), ServiceError> {
        Ok(match service {
            ServiceName::QuestDb => (&mut *self.questdb, start_timeout(QUESTDB_TIMEOUT)),
            ServiceName::Kafka => (&mut *self.kafka, start_timeout(KAFKA_TIMEOUT)),
            ServiceName::ZooKeeper => (
                &mut **self.zookeeper_mut()?,
                start_timeout(ZOOKEEPER_TIMEOUT),
            ),
        })
    }

    fn zookeeper_mut(&mut self) -> Result<&mut super::ZooKeeper, ServiceError> {
        self.zookeeper.as_mut().ok_or_else(|| {
            ServiceError::Config(
                "no ZooKeeper to break: Kafka runs in KRaft mode (Kafka 4.x)".into(),
            )
        })
    }
}
