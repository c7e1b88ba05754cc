//! Runs one fault case: the topic, the sink processes, and the generated records in parts, a
//! fault between two parts: the records before it are produced and stored, it strikes, and the
//! next part is produced while it holds (or right after it struck, or once Kafka is back), so it
//! strikes mid-stream by construction however fast the sink is. Then the wait until every
//! record is committed, and the counts.
//!
//! A sink that gives up (exits on its own) while a fault is in progress is started again once
//! the service is back, as an operator restarts a failed Connect task; what it said and whether
//! its committed offsets stayed behind what the table held are part of the outcome.

use super::exit::Exit;
use super::offsets::Plan;
use super::probe::Probe;
pub use super::sinks::SinkUnder;
use super::sinks::{Launch, SinkProcess};
use super::stream::{production, Stream};
use super::{action_words, FaultOutcome, FaultReport, GaveUp, NextPart, Production};
use crate::fixture::{Case, FaultTarget};
use crate::kafka;
use crate::replay::{self, Target};
use crate::services::{FaultAction, Services};
use anyhow::{bail, Context};
use sink::write::pg::QuestDb;
use sink::SinkConfig;
use std::time::{Duration, Instant};

/// How long the sink gets to resume after a fault before the case says it did not.
const RESUME_LIMIT: Duration = Duration::from_secs(60);

/// Runs a fault case with the sink `binary` on `services`, which it breaks and brings back.
/// `Err` for anything that kept it from judging (a service that did not come back, a case that
/// did not finish in time), with the last observed state and the sinks' logs.
pub async fn run(
    case: &Case,
    services: &mut Services,
    binary: &std::path::Path,
) -> anyhow::Result<FaultOutcome> {
    run_sink(case, services, &SinkUnder::Binary(binary.to_owned())).await
}

/// [`run`] with the sink `under` test: the binary, or a connector in Connect workers.
pub async fn run_sink(
    case: &Case,
    services: &mut Services,
    under: &SinkUnder,
) -> anyhow::Result<FaultOutcome> {
    let started = Instant::now();
    let scenario = case
        .scenario
        .as_ref()
        .with_context(|| format!("{} is not a fault case", case.name))?;
    if scenario.brokers > services.brokers().len() {
        bail!(
            "{}: runs on {} brokers (@brokers), these services have {} (KQ_BROKERS=3, --brokers 3)",
            case.name,
            scenario.brokers,
            services.brokers().len()
        );
    }
    // A broker an earlier case left down (a shutdown, a failed case) is started again first.
    tokio::task::block_in_place(|| services.restore_brokers())?;
    let target: Target = services.endpoints().into();
    // The sinks dial through the proxies in a case with network faults; the harness never does.
    let sink_target: Target = services.sink_endpoints(scenario.network_faults())?.into();
    let mut props = replay::case_properties(case).map_err(|e| anyhow::anyhow!("{e}"))?;
    // ILP over HTTP to this run's QuestDB, as the case runner points it (`replay::run_case`).
    // A case that has QuestDB's HTTP port answer an error status puts a proxy in front of
    // it, and ILP goes through the proxy.
    let answers = scenario
        .faults
        .iter()
        .any(|f| matches!(f.action, FaultAction::Answer { .. }));
    let proxy = match answers {
        true => Some(start_proxy(&target).await?),
        false => None,
    };
    if let Some(conf) = props.get("client.conf.string") {
        let conf = match &proxy {
            Some(proxy) => {
                let mut via = target.clone();
                via.pg_host = proxy.addr().ip().to_string();
                via.http_port = proxy.addr().port();
                via.ilp_conf_from(conf)
            }
            None => sink_target.ilp_conf_from(conf),
        };
        props.insert("client.conf.string".into(), conf);
    }
    // A dead letter topic replicated like every other topic of a cluster.
    if services.brokers().len() > 1 && props.contains_key("errors.deadletterqueue.topic.name") {
        let replicas = services.brokers().len().to_string();
        props.insert(
            "errors.deadletterqueue.topic.replication.factor".into(),
            replicas,
        );
    }
    // Batches small enough that a fault lands between many commits.
    props
        .entry("batch.size".into())
        .or_insert_with(|| "500".into());
    let mut config =
        SinkConfig::from_properties(&props).map_err(|e| anyhow::anyhow!("{}: {e}", case.name))?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(&case.topic);
    let plan = Plan {
        scenario,
        topic: case.topic.clone(),
        group: config.group_id(),
        per_partition: super::spread(scenario.records, scenario.partitions),
        watch: Default::default(),
    };
    let upsert = props.get("insert.mode").is_some_and(|m| m == "upsert");

    // `at=start create topic`: the topic is created later, by the fault.
    let topic_late = super::late_topic::first_fault_creates_it(scenario);
    if !topic_late {
        kafka::create_topic_with(&target.bootstrap, &case.topic, scenario.partitions).await?;
    }
    let mut stream = Stream {
        bootstrap: target.bootstrap.clone(),
        topic: case.topic.clone(),
        partitions: scenario.partitions,
        produced: 0,
        bad_every: scenario.bad_every,
    };
    // Where each part of the stream ends: at the next fault's `after`, the last at the end.
    let part_ends: Vec<u64> = scenario
        .faults
        .iter()
        .filter(|f| !f.at_start)
        .map(|f| f.after)
        .chain([scenario.records])
        .collect();
    let next_end = |produced: u64| {
        part_ends
            .iter()
            .copied()
            .find(|&end| end > produced)
            .unwrap_or(scenario.records)
    };
    // The first part: up to the first fault (an `at=start` fault's part too: its sinks start
    // while its service is down, with records waiting).
    let first = if topic_late { 0 } else { next_end(0) };
    tokio::task::block_in_place(|| stream.produce_to(first))?;

    let dir = tempfile::Builder::new()
        .prefix("kq-fault-case-")
        .tempdir()?;
    let file = dir.path().join("connector.properties");
    replay::write_properties(&file, &props)?;
    if let SinkUnder::Connect(c) = under {
        c.make_table(&config.connection, &table).await?;
    }
    // `@slow`: held from before the sinks start until the end, whatever else strikes.
    super::strike::slow(services, scenario.slow, true)?;
    let launch = match under {
        SinkUnder::Binary(binary) => Launch::Binary(binary.clone()),
        // The connector under the sink's name: its group, `connect-<name>`, is the one watched.
        SinkUnder::Connect(c) => Launch::Connect(Box::new(c.launch(
            case,
            &props,
            &config.name,
            &sink_target,
        )?)),
    };
    let start_sinks = || {
        (0..scenario.sinks)
            .map(|task| SinkProcess::start(&launch, &file, &sink_target, task))
            .collect::<anyhow::Result<Vec<_>>>()
    };
    // An `at=start` fault starts them itself, while its service is down (or its topic missing).
    let mut sinks = if scenario.faults.first().is_some_and(|f| f.at_start) {
        Vec::new()
    } else {
        start_sinks()?
    };
    let mut probe = Probe {
        connection: config.connection.clone(),
        table: table.clone(),
        db: None,
        upsert: match upsert {
            true => Some(
                super::upsert::Stream::of(&scenario.key, scenario.records).map_err(|e| {
                    anyhow::anyhow!(
                        "{}: an upsert case keyed by {}: {e}",
                        case.name,
                        scenario.key
                    )
                })?,
            ),
            false => None,
        },
    };
    let timeout = crate::wait::case_timeout();
    let logs = |sinks: &[SinkProcess]| -> String {
        sinks
            .iter()
            .map(|s| format!("--- sink task {} log:\n{}", s.task, s.log_tail(15)))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let mut faults = Vec::new();
    let mut gave_up: Vec<GaveUp> = Vec::new();
    let mut committed_behind_stored = true;
    // Rows an operator dropped with the table (`drop table`): not the sink's to restore, so
    // neither missing nor behind the committed offsets.
    let mut dropped = 0u64;
    for step in &scenario.faults {
        // Until every record produced so far (`after` of them) is stored; a sink that dies
        // before is a failure of the case.
        let deadline = Instant::now() + timeout;
        let stored_before = loop {
            let distinct = probe.stored(&scenario.key).await;
            if scenario.sinks > 1 {
                // Watched between faults too: a late commit shows whenever it lands.
                let _ = plan.committed(&target.bootstrap);
            }
            if distinct >= stream.good() || step.at_start {
                break distinct;
            }
            if let Some(s) = sinks.iter().find(|s| s.exited().is_some()) {
                bail!(
                    "{}: sink task {} exited before the fault of line {} ({distinct} of {} records stored): {}\n{}",
                    case.name,
                    s.task,
                    step.line,
                    stream.produced,
                    s.error(),
                    logs(&sinks)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "{}: {distinct} of the {} records produced before the fault of line {} stored within {timeout:?} ({} rows; committed {:?} of {:?}), so it never struck\n{}",
                    case.name,
                    stream.produced,
                    step.line,
                    probe.rows().await,
                    plan.committed(&target.bootstrap),
                    plan.per_partition,
                    logs(&sinks)
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let produced_before = stream.produced;
        let next = if step.at_start {
            None // its part was produced before it struck, with the sinks not started yet
        } else {
            let to = next_end(stream.produced);
            Some(NextPart {
                from: stream.produced,
                to,
                when: production(step.target, step.action),
            })
        };
        let produce_next = |stream: &mut Stream| match &next {
            Some(part) => stream.produce_to(part.to),
            None => Ok(()),
        };
        let when = next.as_ref().map(|p| p.when);
        let fault = match step.target {
            FaultTarget::Broker(pick) => {
                format!(
                    "{}: {}",
                    step.target,
                    super::cluster::words(pick, step.action)
                )
            }
            _ => format!("{}: {}", step.target, action_words(step.action)),
        };
        let struck = Instant::now();
        let mut exited_during: Vec<usize> = Vec::new();
        match step.target {
            FaultTarget::Table => {
                let db = QuestDb::connect(&config.connection).await?;
                let sql = format!("DROP TABLE {}", sink::mapping::jdbc::ddl::quote(&table));
                db.execute(&sql)
                    .await
                    .with_context(|| format!("{}: the fault of line {}", case.name, step.line))?;
                dropped += stored_before;
                tokio::task::block_in_place(|| produce_next(&mut stream))?;
            }
            FaultTarget::Topic => {
                sinks = start_sinks()?;
                super::late_topic::create(&sinks, step, &mut exited_during, &target, case).await?;
                // The first part, now that it has a topic to go to.
                tokio::task::block_in_place(|| stream.produce_to(next_end(0)))?;
            }
            FaultTarget::Service(_) if matches!(step.action, FaultAction::Answer { .. }) => {
                let FaultAction::Answer { status, down } = step.action else {
                    unreachable!()
                };
                let proxy = proxy.as_ref().context("an http- fault without its proxy")?;
                let until = Instant::now() + down;
                proxy.answer(status);
                tokio::task::block_in_place(|| produce_next(&mut stream))?;
                // The fault itself: this long, noting sinks that give up meanwhile.
                while Instant::now() < until {
                    for (i, s) in sinks.iter().enumerate() {
                        if s.exited().is_some() && !exited_during.contains(&i) {
                            exited_during.push(i);
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                proxy.answer(0);
            }
            FaultTarget::Sink { task } => {
                let sink = &mut sinks[task as usize];
                match step.action {
                    FaultAction::Kill => sink.kill(),
                    FaultAction::Restart => sink.interrupt()?,
                    FaultAction::Stop { down } => {
                        sink.kill();
                        // The fault itself: down this long, the next part produced meanwhile.
                        let until = Instant::now() + down;
                        tokio::task::block_in_place(|| produce_next(&mut stream))?;
                        tokio::time::sleep(until.saturating_duration_since(Instant::now())).await;
                    }
                    FaultAction::Pause { down } => {
                        sink.pause(down, || produce_next(&mut stream)).await?
                    }
                    _ => unreachable!("the parser takes only these for a sink"),
                }
                if when == Some(Production::AfterStruck) {
                    tokio::task::block_in_place(|| produce_next(&mut stream))?;
                }
                if !matches!(step.action, FaultAction::Pause { .. }) {
                    sink.spawn()?;
                }
            }
            FaultTarget::Broker(pick) => {
                let part = next.clone();
                tokio::task::block_in_place(|| {
                    super::cluster::strike(services, &case.topic, pick, step.action, |i, n| {
                        match &part {
                            Some(p) => stream
                                .produce_to(p.from + (p.to - p.from) * (i + 1) as u64 / n as u64),
                            None => Ok(()),
                        }
                    })
                })
                .with_context(|| {
                    format!("{}: the fault of line {} ({fault})", case.name, step.line)
                })?;
            }
            FaultTarget::Service(_) | FaultTarget::Proxy(_) => {
                let mut started = Ok(());
                let mut produced_while_down = Ok(());
                let injected = tokio::task::block_in_place(|| {
                    super::strike::strike(services, step.target, step.action, |down| {
                        let until = Instant::now() + down;
                        if step.at_start {
                            // The sinks start while the service is down.
                            match start_sinks() {
                                Ok(started_sinks) => sinks = started_sinks,
                                Err(e) => started = Err(e),
                            }
                        }
                        if when == Some(Production::WhileHeld) {
                            produced_while_down = produce_next(&mut stream);
                        }
                        // The fault itself: down this long, noting sinks that give up meanwhile.
                        while Instant::now() < until {
                            for (i, s) in sinks.iter().enumerate() {
                                if s.exited().is_some() && !exited_during.contains(&i) {
                                    exited_during.push(i);
                                }
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    })
                });
                started?;
                produced_while_down?;
                if let Err(e) = injected {
                    let log = super::strike::log_tail(services, step.target, 30);
                    bail!(
                        "{}: the fault of line {} ({fault}): {e}\n--- {} log:\n{log}",
                        case.name,
                        step.line,
                        step.target
                    );
                }
                if matches!(when, Some(Production::AfterStruck | Production::OnceBack)) {
                    tokio::task::block_in_place(|| produce_next(&mut stream))?;
                }
            }
        }
        let took = struck.elapsed();
        // Sinks that gave up while the service was away are started again now that it is back.
        for (i, s) in sinks.iter().enumerate() {
            if s.exited().is_some() && !exited_during.contains(&i) {
                exited_during.push(i);
            }
        }
        for &i in &exited_during {
            let committed = plan
                .committed_sum(&target.bootstrap)
                .map_err(|e| anyhow::anyhow!("{}: {e}", case.name))?;
            let exit = Exit::of(
                &sinks[i],
                committed,
                &mut probe,
                &scenario.key,
                dropped + stream.bad(),
            )
            .await;
            committed_behind_stored &= exit.behind;
            gave_up.push(exit.gave_up(Some(fault.clone()), true));
            sinks[i].spawn()?;
        }
        // The sink resumed once it stores again, or commits all produced so far (a short next
        // part may be stored before `at_back` is read: found by `harness chaos --seed 1`).
        // With several sink processes the others keep storing: then every partition's committed
        // offset must move too (or be at its end), the restarted task's included.
        // A killed Connect worker's restart takes seconds of JVM start: counted from the kill.
        let connect = matches!(under, SinkUnder::Connect(_));
        let back = match step.target {
            FaultTarget::Sink { .. } if connect => struck,
            _ => Instant::now(),
        };
        let at_back = probe.progress().await;
        let committed_at_back = plan.committed(&target.bootstrap).unwrap_or_default();
        let mut stored_again = false;
        let mut failed_after: Vec<usize> = Vec::new();
        let resumed = loop {
            stored_again = stored_again || probe.progress().await > at_back;
            let committed = plan.committed(&target.bootstrap).unwrap_or_default();
            if plan.all_committed(&committed, stream.produced) {
                break Some(back.elapsed());
            }
            let every_partition_moved = scenario.sinks == 1
                || committed.iter().enumerate().all(|(p, c)| {
                    *c > committed_at_back.get(p).copied().flatten()
                        || c.is_some_and(|c| c >= plan.per_partition[p])
                });
            if stored_again && every_partition_moved {
                break Some(back.elapsed());
            }
            if back.elapsed() > RESUME_LIMIT {
                break None;
            }
            // A sink whose first write after the fault fails (a Connect task on a pooled
            // connection QuestDB closed) gave up because of it: started again once, as above.
            if let Some(i) = sinks.iter().position(|s| s.exited().is_some()) {
                if failed_after.contains(&i) {
                    break None;
                }
                let committed = plan.committed_sum(&target.bootstrap).unwrap_or(i64::MAX);
                let exit = Exit::of(
                    &sinks[i],
                    committed,
                    &mut probe,
                    &scenario.key,
                    dropped + stream.bad(),
                )
                .await;
                committed_behind_stored &= exit.behind;
                gave_up.push(exit.gave_up(Some(fault.clone()), true));
                sinks[i].spawn()?;
                failed_after.push(i);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        faults.push(FaultReport {
            line: step.line,
            fault,
            after: step.after,
            at_start: step.at_start,
            stored_before,
            produced_before,
            next,
            took,
            resumed,
        });
    }

    // A case without faults (or with an `at=start` one only) has the rest still to produce.
    tokio::task::block_in_place(|| stream.produce_to(scenario.records))?;
    // The rest of the stream: until every partition is committed to its end, or every sink
    // gave up for good.
    let deadline = Instant::now() + timeout * 2;
    let all_committed = loop {
        let committed = plan.committed(&target.bootstrap).unwrap_or_default();
        if plan.all_committed(&committed, scenario.records) {
            break true;
        }
        let stopped: Vec<usize> = (0..sinks.len())
            .filter(|&i| sinks[i].exited().is_some())
            .collect();
        if !stopped.is_empty() && stopped.len() == sinks.len() {
            break false;
        }
        if Instant::now() > deadline {
            bail!(
                "{}: not every record committed within {:?}; last observed: committed {committed:?} of {:?}, {} rows stored\n{}",
                case.name,
                timeout * 2,
                plan.per_partition,
                probe.rows().await,
                logs(&sinks)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for s in &sinks {
        if s.exited().is_some() {
            let committed = plan.committed_sum(&target.bootstrap).unwrap_or(i64::MAX);
            let exit = Exit::of(
                s,
                committed,
                &mut probe,
                &scenario.key,
                dropped + stream.bad(),
            )
            .await;
            committed_behind_stored &= exit.behind;
            gave_up.push(exit.gave_up(None, false));
        }
    }
    // Read before they stop: a process's peak is gone with it.
    let peak_rss_kib = sinks.iter().filter_map(SinkProcess::peak_rss_kib).max();
    drop(sinks); // stops the ones still running
    super::strike::slow(services, scenario.slow, false)?;
    tokio::task::block_in_place(|| services.restore_brokers())?;

    let db = QuestDb::connect(&config.connection).await?;
    // A connector that could not create the table again (`drop table`) leaves none: no rows.
    let shape = match crate::readback::read_shape(&db, &table).await {
        Err(_) if probe.rows().await == 0 => None,
        read => Some(read?),
    };
    if shape.as_ref().is_some_and(|s| s.wal) {
        crate::readback::wait_wal_applied(&db, &table, timeout).await?;
    }
    let rows = probe.rows().await;
    let distinct = probe.distinct(&scenario.key).await;
    let committed = plan
        .committed_sum(&target.bootstrap)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let stored = probe.stored(&scenario.key).await;
    committed_behind_stored &= committed <= (stored + dropped + stream.bad()) as i64;
    let last_values = match probe.upsert.clone() {
        Some(stream) => Some(stream.last_values(&probe.pairs(&scenario.key).await)),
        None => None,
    };
    let mut bad = super::BadRecords {
        produced: super::stream::bad_count(scenario.bad_every, scenario.records),
        ..Default::default()
    };
    let dead_letters = match props.get("errors.deadletterqueue.topic.name") {
        Some(dlq) if !dlq.is_empty() => {
            let held = tokio::task::block_in_place(|| kafka::read_all(&target.bootstrap, dlq))?;
            let numbers: std::collections::BTreeSet<u64> = held
                .iter()
                .filter_map(|r| r.value.as_deref())
                .filter_map(super::stream::bad_record_number)
                .filter(|&i| super::stream::is_bad(scenario.bad_every, i))
                .collect();
            bad.dead_lettered = numbers.len() as u64;
            // A bad record dead-lettered twice (replayed after a crash) is no good record.
            bad.others = held
                .iter()
                .filter(|r| {
                    r.value
                        .as_deref()
                        .and_then(super::stream::bad_record_number)
                        .is_none_or(|i| !super::stream::is_bad(scenario.bad_every, i))
                })
                .count() as u64;
            Some((dlq.clone(), held.len() as u64))
        }
        _ => None,
    };
    let committed_watch = plan.watch().clone();
    Ok(FaultOutcome {
        case: case.name.clone(),
        topic: case.topic.clone(),
        table,
        sinks: scenario.sinks,
        partitions: scenario.partitions,
        key: scenario.key.clone(),
        under: match under {
            SinkUnder::Binary(_) => None,
            SinkUnder::Connect(c) => Some(c.label.clone()),
        },
        variant: scenario.variant,
        dead_letters,
        dedup: shape.is_some_and(|s| s.dedup),
        produced: scenario.records,
        faults,
        gave_up,
        rows,
        distinct,
        dropped,
        all_committed,
        committed_behind_stored,
        committed_watch,
        last_values,
        bad,
        peak_rss_kib,
        elapsed: started.elapsed(),
    })
}

/// The proxy in front of QuestDB's HTTP port (an IPv4 loopback address of it).
async fn start_proxy(target: &Target) -> anyhow::Result<super::proxy::Proxy> {
    let upstream = tokio::net::lookup_host((target.pg_host.as_str(), target.http_port))
        .await?
        .find(|a| a.is_ipv4())
        .with_context(|| format!("no IPv4 address for {}", target.pg_host))?;
    Ok(super::proxy::Proxy::start(upstream).await?)
}
