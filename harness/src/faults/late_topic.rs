//! `@fault at=start create topic for=D`: the sinks start on a topic that does not exist yet,
//! created D later (issue 25.9: a sink must wait for its topic, not stop).

use super::sinks::SinkProcess;
use crate::fixture::{Case, FaultStep, FaultTarget, Scenario};
use crate::kafka;
use crate::replay::Target;
use crate::services::FaultAction;
use std::time::{Duration, Instant};

/// Whether the case's topic is left to its first fault to create.
pub fn first_fault_creates_it(scenario: &Scenario) -> bool {
    scenario
        .faults
        .first()
        .is_some_and(|f| f.target == FaultTarget::Topic)
}

/// Holds for the fault's time, noting sinks that stop meanwhile (they should wait), then
/// creates the case's topic.
pub(super) async fn create(
    sinks: &[SinkProcess],
    step: &FaultStep,
    exited: &mut Vec<usize>,
    target: &Target,
    case: &Case,
) -> anyhow::Result<()> {
    let FaultAction::Create { late } = step.action else {
        unreachable!("the parser takes `create` only for topics")
    };
    let until = Instant::now() + late;
    while Instant::now() < until {
        for (i, s) in sinks.iter().enumerate() {
            if s.exited().is_some() && !exited.contains(&i) {
                exited.push(i);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let partitions = case.scenario.as_ref().map_or(1, |s| s.partitions);
    kafka::create_topic_with(&target.bootstrap, &case.topic, partitions).await?;
    Ok(())
}
