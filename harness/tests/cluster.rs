//! The three-broker cluster (issue 26, `KQ_BROKERS=3`): three KRaft nodes come up with every
//! replica in sync, a case's topic gets three replicas, the active controller is named by
//! `DescribeQuorum`, and a killed controller is replaced by another node while its successor is
//! read the same way; the restored cluster is whole again.

use harness::services::{BackendChoice, Services};
use harness::versions::Versions;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_brokers_replicate_and_survive_their_controller() {
    let versions = Versions::from_env().expect("versions");
    let mut services = tokio::task::spawn_blocking(move || {
        Services::start_brokers(BackendChoice::Process, &versions, false, 3)
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("starting three brokers failed:\n{e}"));
    assert_eq!(services.brokers().len(), 3);
    assert!(services.zookeeper.is_none(), "KRaft: no ZooKeeper");
    let bootstrap = services.endpoints().kafka_bootstrap;
    assert_eq!(bootstrap.split(',').count(), 3, "{bootstrap}");

    harness::kafka::create_topic_with(&bootstrap, "replicated", 2)
        .await
        .unwrap();
    tokio::task::block_in_place(|| {
        services.wait_in_sync(Duration::from_secs(60)).unwrap();
        let replicas = services.replicas().unwrap();
        let topic: Vec<_> = replicas
            .iter()
            .filter(|r| r.topic == "replicated")
            .collect();
        assert_eq!(topic.len(), 2, "{replicas:?}");
        for r in &topic {
            assert_eq!(r.replicas.len(), 3, "{r:?}");
            assert_eq!(r.isr.len(), 3, "{r:?}");
        }
        let leader = services.partition_leader("replicated", 0).unwrap();
        assert!((0..3).contains(&leader), "{leader}");

        let controller = services.active_controller().unwrap();
        assert!((0..3).contains(&controller), "{controller}");
        // The node named is the one whose controller took office (QuorumController's log line).
        let took_office = |services: &Services, node: i32| {
            let path = services.brokers()[node as usize]
                .process()
                .log_path()
                .to_owned();
            std::fs::read_to_string(path)
                .unwrap()
                .contains("Becoming the active controller")
        };
        for node in 0..3 {
            eprintln!("node {node} took office: {}", took_office(&services, node));
        }
        assert!(
            took_office(&services, controller),
            "node {controller} never became the active controller"
        );
        // Killed and left down: the other two elect one of themselves.
        let down = services.broker_mut(controller).unwrap();
        down.stop_hard().unwrap();
        assert_eq!(services.brokers_down(), vec![controller]);
        // Until the survivors' election timeout they may still name the dead one.
        let next =
            harness::wait::wait_until(
                "a new controller",
                Duration::from_secs(30),
                || match services.active_controller() {
                    Ok(n) if n != controller => Ok(n),
                    other => Err(format!("{other:?}")),
                },
            )
            .unwrap_or_else(|t| panic!("{t:?}"));
        assert!((0..3).contains(&next), "{next}");
        assert!(
            took_office(&services, next),
            "node {next} never became the active controller"
        );
        services.restore_brokers().unwrap();
        assert!(services.brokers_down().is_empty());
    });
}
