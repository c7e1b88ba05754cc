//! A three-broker Kafka cluster (issue 26, `--brokers 3`, `KQ_BROKERS=3`): three KRaft nodes,
//! each broker and controller, local processes under the services' guardians; replication
//! factor 3 and `min.insync.replicas=2` for every topic (the cases', the consumer offsets, a
//! dead letter topic). Broker 0 is [`Services::kafka`], brokers 1 and 2 `more_brokers`.
//!
//! Which broker leads a partition is read from the metadata; which node is the active
//! controller from Kafka's `DescribeQuorum` ([`super::quorum`]): never guessed.

use std::path::Path;
use std::time::Duration;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use super::kafka::{broker_settings, launch, Coordination, Kafka};
use super::{
    data_dir, start_timeout, Backend, BackendChoice, QuestDb, Services, Toxiproxy, KAFKA_TIMEOUT,
    QUESTDB_TIMEOUT,
};
use crate::error::ServiceError;
use crate::provision;
use crate::provision::Libs;
use crate::versions::Versions;
use crate::wait::wait_until;
use std::thread;
use std::time::Instant;

/// The brokers of a cluster run; `KQ_BROKERS` or `--brokers`.
pub const CLUSTER_BROKERS: usize = 3;

/// `KQ_BROKERS`: 1 (the default) or 3.
pub fn brokers_from_env() -> Result<usize, ServiceError> {
    match std::env::var("KQ_BROKERS") {
        Ok(v) => parse_brokers(&v).map_err(|e| ServiceError::Config(format!("KQ_BROKERS: {e}"))),
        Err(_) => Ok(1),
    }
}

/// `1` or `3`.
pub fn parse_brokers(text: &str) -> Result<usize, String> {
    match text.trim() {
        "" | "1" => Ok(1),
        "3" => Ok(CLUSTER_BROKERS),
        other => Err(format!(
            "{other:?} brokers: expected 1 or 3 (a three-node KRaft cluster)"
        )),
    }
}

/// Starts three KRaft nodes on free ports, formats their storage with one cluster id and the
/// three as voters, spawns all three (none is ready before the quorum is), then waits until
/// each one's metadata lists it.
pub(crate) fn start(
    libs: &Libs,
    java: &Path,
    timeout: Duration,
) -> Result<Vec<Kafka>, ServiceError> {
    super::retry_on_port_race("Kafka", || start_once(libs, java, timeout))
}

fn start_once(libs: &Libs, java: &Path, timeout: Duration) -> Result<Vec<Kafka>, ServiceError> {
    let ports = super::free_ports(2 * CLUSTER_BROKERS)?;
    let (clients, controllers) = ports.split_at(CLUSTER_BROKERS);
    let voters = controllers
        .iter()
        .enumerate()
        .map(|(node, port)| format!("{node}@127.0.0.1:{port}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut runners = Vec::new();
    for (node, (&port, &controller_port)) in clients.iter().zip(controllers).enumerate() {
        let coordination = Coordination::Quorum {
            node: node as i32,
            controller_port,
            voters: &voters,
        };
        let settings = broker_settings("127.0.0.1", port, coordination);
        runners.push(launch(
            libs,
            java,
            data_dir("kafka")?,
            settings,
            coordination,
            None,
        )?);
    }
    clients
        .iter()
        .zip(runners)
        .enumerate()
        .map(|(node, (&port, runner))| {
            Kafka::ready(port, runner, timeout, &format!(" (node {node})"))
        })
        .collect()
}

/// Which broker a fault strikes, found when it strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerPick {
    /// The leader of the case topic's partition 0.
    Leader,
    /// The active controller.
    Controller,
    /// Every broker in turn (a rolling restart).
    Every,
}

impl std::fmt::Display for BrokerPick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BrokerPick::Leader => "leader",
            BrokerPick::Controller => "controller",
            BrokerPick::Every => "brokers",
        })
    }
}

/// A partition's replicas and in-sync replicas, as the metadata says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replicas {
    pub topic: String,
    pub partition: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

impl Services {
    /// [`Self::start_with`] with `brokers` brokers: 1, or 3 (a KRaft cluster of local
    /// processes, [`cluster`]; without ZooKeeper or proxies).
    pub fn start_brokers(
        choice: BackendChoice,
        versions: &Versions,
        proxied: bool,
        brokers: usize,
    ) -> Result<Services, ServiceError> {
        if brokers > 1 {
            if proxied {
                return Err(ServiceError::Config(
                    "network faults on a three-broker cluster: the proxies front one broker \
                     only (run those cases with one broker)"
                        .into(),
                ));
            }
            if choice.resolve() != Backend::Process {
                return Err(ServiceError::Config(
                    "a three-broker cluster runs as local processes only (KQ_BACKEND=process)"
                        .into(),
                ));
            }
            return Self::start_cluster(versions);
        }
        let toxiproxy = proxied.then(Toxiproxy::start).transpose()?;
        let mut services = match choice.resolve() {
            Backend::Process => Self::start_processes(versions, toxiproxy.as_ref())?,
            Backend::Docker => Self::start_containers(versions, toxiproxy.as_ref())?,
        };
        if let Some(proxy) = &toxiproxy {
            proxy.front_questdb(services.questdb.http_port, services.questdb.pg_port)?;
        }
        services.toxiproxy = toxiproxy;
        Ok(services)
    }

    /// A three-broker KRaft cluster and QuestDB, as local processes.
    pub(super) fn start_cluster(versions: &Versions) -> Result<Services, ServiceError> {
        let began = Instant::now();
        let libs = provision::libs_for(versions)?;
        let provisioned = began.elapsed();
        let java = provision::java()?;
        eprintln!(
            "three KRaft brokers of Kafka {}, QuestDB {}",
            libs.versions.kafka, libs.versions.questdb
        );
        let (cluster, questdb) = thread::scope(|scope| {
            let questdb =
                scope.spawn(|| QuestDb::start(&libs, &java, start_timeout(QUESTDB_TIMEOUT)));
            let cluster = start(&libs, &java, start_timeout(KAFKA_TIMEOUT));
            let questdb = questdb
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (cluster, questdb)
        });
        let mut brokers = cluster?.into_iter();
        let kafka = brokers.next().expect("three brokers");
        let mut services = Services::of(
            ("provision", provisioned),
            None,
            kafka,
            questdb?,
            libs.versions,
            Backend::Process,
            None,
        );
        services.more_brokers = brokers.collect();
        Ok(services)
    }

    /// Every broker: broker 0, then the cluster's others.
    pub fn brokers(&self) -> Vec<&Kafka> {
        std::iter::once(&self.kafka)
            .chain(&self.more_brokers)
            .collect()
    }

    /// Broker `node` (its node id is its place).
    pub fn broker_mut(&mut self, node: i32) -> Result<&mut Kafka, ServiceError> {
        let count = 1 + self.more_brokers.len();
        match node {
            0 => Ok(&mut self.kafka),
            n => self
                .more_brokers
                .get_mut((n as usize).wrapping_sub(1))
                .ok_or_else(|| ServiceError::Config(format!("no broker {n}: {count} brokers run"))),
        }
    }

    /// The broker ids whose process is not running (stopped by a fault and not started again).
    pub fn brokers_down(&self) -> Vec<i32> {
        (0..self.brokers().len() as i32)
            .filter(|&n| self.brokers()[n as usize].process().check_alive().is_err())
            .collect()
    }

    /// The bootstrap list of the brokers running now (a stopped one refuses connections).
    fn bootstrap_of_running(&self) -> String {
        let down = self.brokers_down();
        self.brokers()
            .iter()
            .enumerate()
            .filter(|(n, _)| !down.contains(&(*n as i32)))
            .map(|(_, b)| b.bootstrap())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every partition of every topic, from one metadata request.
    pub fn replicas(&self) -> Result<Vec<Replicas>, String> {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap_of_running())
            .set_log_level(RDKafkaLogLevel::Emerg)
            .create()
            .map_err(|e| e.to_string())?;
        let metadata = consumer
            .fetch_metadata(None, Duration::from_secs(5))
            .map_err(|e| format!("metadata request: {e}"))?;
        Ok(metadata
            .topics()
            .iter()
            .flat_map(|t| {
                t.partitions().iter().map(|p| Replicas {
                    topic: t.name().to_owned(),
                    partition: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    isr: p.isr().to_vec(),
                })
            })
            .collect())
    }

    /// The broker that leads `topic`'s `partition` (waits out an election under way).
    pub fn partition_leader(&self, topic: &str, partition: i32) -> Result<i32, ServiceError> {
        let what = format!("the leader of {topic} partition {partition}");
        wait_until(&what, Duration::from_secs(30), || {
            let all = self.replicas()?;
            match all
                .iter()
                .find(|r| r.topic == topic && r.partition == partition)
            {
                Some(r) if r.leader >= 0 => Ok(r.leader),
                Some(r) => Err(format!("no leader yet: {r:?}")),
                None => Err(format!("{topic} partition {partition} not in the metadata")),
            }
        })
        .map_err(|t| {
            ServiceError::Config(format!(
                "{what}: not known within {:?}; last observed: {}",
                t.waited, t.last_observed
            ))
        })
    }

    /// The node that leads the controller quorum, asked of each running broker in turn until
    /// one answers (waits out an election under way).
    pub fn active_controller(&self) -> Result<i32, ServiceError> {
        let down = self.brokers_down();
        let ports: Vec<u16> = self
            .brokers()
            .iter()
            .enumerate()
            .filter(|(n, _)| !down.contains(&(*n as i32)))
            .map(|(_, b)| b.port)
            .collect();
        wait_until("the active controller", Duration::from_secs(30), || {
            let mut why = Vec::new();
            for &port in &ports {
                match super::quorum::active_controller(port) {
                    Ok(node) => return Ok(node),
                    Err(e) => why.push(format!("127.0.0.1:{port}: {e}")),
                }
            }
            Err(why.join("; "))
        })
        .map_err(|t| {
            ServiceError::Config(format!(
                "DescribeQuorum: no active controller within {:?}; last observed: {}",
                t.waited, t.last_observed
            ))
        })
    }

    /// Waits until every broker runs, is listed, and every partition's in-sync replicas are all
    /// its replicas, so the next fault takes out one replica, never a second.
    pub fn wait_in_sync(&self, timeout: Duration) -> Result<(), ServiceError> {
        let brokers = self.brokers().len();
        wait_until("every replica in sync", timeout, || {
            let down = self.brokers_down();
            if !down.is_empty() {
                return Err(format!("brokers {down:?} not running"));
            }
            let lagging: Vec<String> = self
                .replicas()?
                .into_iter()
                .filter(|r| r.isr.len() < r.replicas.len() || r.replicas.len() < brokers.min(3))
                .map(|r| {
                    format!(
                        "{} {}: replicas {:?}, in sync {:?}",
                        r.topic, r.partition, r.replicas, r.isr
                    )
                })
                .collect();
            match lagging.is_empty() {
                true => Ok(()),
                false => Err(lagging.join("; ")),
            }
        })
        .map_err(|t| {
            ServiceError::Config(format!(
                "not every replica in sync within {:?}; last observed: {}",
                t.waited, t.last_observed
            ))
        })
    }

    /// Starts every broker a fault left down and waits until all replicas are in sync again:
    /// the next case finds the whole cluster.
    pub fn restore_brokers(&mut self) -> Result<(), ServiceError> {
        if self.more_brokers.is_empty() {
            return Ok(()); // one broker: its faults start it again themselves
        }
        let timeout = start_timeout(KAFKA_TIMEOUT);
        for node in self.brokers_down() {
            self.broker_mut(node)?.start_again(timeout)?;
        }
        self.wait_in_sync(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brokers_are_one_or_three() {
        assert_eq!(parse_brokers("1"), Ok(1));
        assert_eq!(parse_brokers(" 3 "), Ok(3));
        assert_eq!(parse_brokers(""), Ok(1));
        assert!(parse_brokers("2").unwrap_err().contains("expected 1 or 3"));
    }
}
