//! A broker fault on a three-broker cluster (`@brokers 3`, issue 26): Kafka's system-test matrix.
//! The broker is found when the fault strikes (the topic's partition 0 leader from the
//! metadata, the active controller from `DescribeQuorum`), stopped cleanly or hard, and the next
//! part of the stream is produced while it is down, so the sink reads through the change of
//! leader by construction. A bounce starts it again and waits until every replica is back in
//! sync; a shutdown leaves it down until the case ends ([`Services::restore_brokers`]); a
//! rolling restart bounces each broker in turn, a third of the part produced while each is down.

use crate::services::{start_timeout, BrokerPick, FaultAction, Services, KAFKA_TIMEOUT};
use anyhow::{bail, Context};

/// What Kafka's QuorumController logs when its node becomes the active controller.
const TOOK_OFFICE: &str = "Becoming the active controller";

/// Strikes the broker(s) `pick` names in the cluster `services` runs; `while_down(i, n)` runs
/// while the `i`-th of the `n` struck is down.
pub fn strike(
    services: &mut Services,
    topic: &str,
    pick: BrokerPick,
    action: FaultAction,
    mut while_down: impl FnMut(usize, usize) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let brokers = services.brokers().len() as i32;
    if brokers < 3 {
        bail!("`{action} {pick}` needs a three-broker cluster; these services run {brokers} broker(s) (@brokers 3, KQ_BROKERS=3)");
    }
    let nodes = match pick {
        BrokerPick::Leader => vec![services.partition_leader(topic, 0)?],
        BrokerPick::Controller => {
            let node = services.active_controller()?;
            // DescribeQuorum's answer checked against the node's own word: its controller logs
            // when it takes office.
            let path = services.brokers()[node as usize]
                .process()
                .log_path()
                .to_owned();
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            if !log.contains(TOOK_OFFICE) {
                bail!("DescribeQuorum named node {node} the active controller, but its log never says `{TOOK_OFFICE}`");
            }
            vec![node]
        }
        BrokerPick::Every => (0..brokers).collect(),
    };
    let timeout = start_timeout(KAFKA_TIMEOUT);
    for (i, &node) in nodes.iter().enumerate() {
        let broker = services.broker_mut(node)?;
        let halted = match action {
            FaultAction::Kill | FaultAction::Shutdown { hard: true } => broker.stop_hard(),
            FaultAction::Restart | FaultAction::Shutdown { hard: false } => broker.stop(),
            other => bail!("`{other} {pick}`: not a broker fault"),
        };
        halted.with_context(|| format!("stopping broker {node}"))?;
        while_down(i, nodes.len())?;
        if matches!(action, FaultAction::Shutdown { .. }) {
            continue; // down until the case ends
        }
        let broker = services.broker_mut(node)?;
        broker.start_again(timeout).with_context(|| {
            format!(
                "broker {node} did not come back; its log:\n{}",
                broker.log_tail(30)
            )
        })?;
        // The next broker (or fault) takes out one replica, never a second.
        services.wait_in_sync(timeout)?;
    }
    Ok(())
}

/// What a broker fault does, in the outcome's words (Kafka's matrix names it).
pub fn words(pick: BrokerPick, action: FaultAction) -> String {
    let who = match pick {
        BrokerPick::Leader => "the leader of partition 0 (from the metadata)",
        BrokerPick::Controller => "the active controller (from DescribeQuorum)",
        BrokerPick::Every => "every broker in turn, the next once all replicas are in sync",
    };
    let what = match (pick, action) {
        (BrokerPick::Every, _) => "rolling restart (clean stops)",
        (_, FaultAction::Restart) => "clean bounce (SIGTERM, started again at once)",
        (_, FaultAction::Kill) => "hard bounce (SIGKILL, started again at once)",
        (_, FaultAction::Shutdown { hard: false }) => {
            "clean shutdown (SIGTERM), down until the case ends"
        }
        (_, FaultAction::Shutdown { hard: true }) => {
            "hard shutdown (SIGKILL), down until the case ends"
        }
        _ => "not a broker fault",
    };
    format!("{what}: {who}")
}
