//! The sink in its consumer group (issue 25.4), on real services: two processes started with
//! the same settings (two replicas of one deployment), and a restart with other topics.
//! `tests/conformance/membership.rs` runs both and asserts; the functions here only observe.

use crate::faults::sinks::{Launch, SinkProcess};
use crate::kafka;
use crate::operate::{counts, produce, properties_file, wait_committed, wait_rows};
use crate::replay::Target;
use crate::wait::wait_until_async;
use sink::write::pg::QuestDb;
use std::time::{Duration, Instant};

/// The broker's minimum: a member that stopped leaves the group this soon after (librdkafka's
/// default of 45 s would make each run wait that long for the group to move on).
const SESSION_TIMEOUT_MS: &str = "6000";

/// What the replicas run saw.
pub struct ReplicasRun {
    pub produced: u64,
    /// Rows stored when the second process started.
    pub stored_at_second: u64,
    /// How the first process ended once the second had joined, and its log's last lines.
    pub first_exit: String,
    pub first_log: String,
    /// At the end: rows, distinct ids, the committed offset, how the second process ended.
    pub rows: u64,
    pub distinct: u64,
    pub committed: i64,
    pub second_exit: String,
}

/// Streams `records` seed envelopes through one sink process, starts a second one with the
/// same properties and the same `--task` once `after` rows are stored, and lets the second
/// finish.
pub async fn replicas_run(
    target: &Target,
    launch: &Launch,
    records: u64,
    after: u64,
) -> anyhow::Result<ReplicasRun> {
    let topic = format!("membership-replicas-{}", std::process::id());
    kafka::create_topic(&target.bootstrap, &topic).await?;
    produce(target, &topic, records).await?;
    let dir = tempfile::tempdir()?;
    let (file, mut config) = properties_file(
        dir.path(),
        &topic,
        &[
            ("batch.size", "200".into()),
            (
                "consumer.override.session.timeout.ms",
                SESSION_TIMEOUT_MS.into(),
            ),
        ],
    )?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(&topic);
    let group = config.group_id();
    let db = QuestDb::connect(&config.connection).await?;
    let timeout = crate::wait::case_timeout();

    let first = SinkProcess::start(launch, &file, target, 0)?;
    let stored_at_second = wait_rows(&db, &table, after, &first, timeout).await?;
    let mut second = SinkProcess::start(launch, &file, target, 0)?;
    let first_exit = wait_until_async("the first process to stop", timeout, || async {
        first.exited().ok_or_else(|| "still running".to_string())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", first.log_tail(20)))?;
    let first_log = first.log_tail(20);
    let committed = wait_committed(target, &group, &topic, records as i64, timeout * 2)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", second.log_tail(20)))?;
    let (second_exit, _) =
        tokio::task::block_in_place(|| second.terminate(Duration::from_secs(30)))?;
    let (rows, distinct) = counts(&db, &table).await;
    Ok(ReplicasRun {
        produced: records,
        stored_at_second,
        first_exit,
        first_log,
        rows,
        distinct,
        committed,
        second_exit,
    })
}

/// What the changed-topics run saw.
pub struct ChangedTopicsRun {
    pub produced: u64,
    /// Rows of the second topic stored by the restarted process, and how long it took.
    pub second_rows: u64,
    pub second_after: Duration,
    pub exit: String,
}

/// Runs the sink on one topic until it has committed everything, kills it (a crash, or an
/// orchestrator's kill: its static member stays in the group until its session times out), and
/// starts it again at once under the same name on another topic: every record of that one is
/// stored.
pub async fn changed_topics_run(
    target: &Target,
    launch: &Launch,
    records: u64,
) -> anyhow::Result<ChangedTopicsRun> {
    let base = format!("membership-topics-{}", std::process::id());
    let name = format!("{base}-sink");
    run_to_end(
        target,
        launch,
        &name,
        &format!("{base}-a"),
        records,
        End::Kill,
    )
    .await?;
    let (second_rows, second_after, exit) = run_to_end(
        target,
        launch,
        &name,
        &format!("{base}-b"),
        records,
        End::Sigterm,
    )
    .await?;
    Ok(ChangedTopicsRun {
        produced: records,
        second_rows,
        second_after,
        exit,
    })
}

/// How [`run_to_end`] stops the sink.
enum End {
    Kill,
    Sigterm,
}

/// Connector `name` on `topic`: produces, waits until every record is stored and committed,
/// stops it. Rows stored, the time that took, how the sink ended.
async fn run_to_end(
    target: &Target,
    launch: &Launch,
    name: &str,
    topic: &str,
    records: u64,
    end: End,
) -> anyhow::Result<(u64, Duration, String)> {
    let timeout = crate::wait::case_timeout();
    kafka::create_topic(&target.bootstrap, topic).await?;
    produce(target, topic, records).await?;
    let dir = tempfile::tempdir()?;
    let (file, mut config) = properties_file(
        dir.path(),
        topic,
        &[
            ("name", name.to_string()),
            (
                "consumer.override.session.timeout.ms",
                SESSION_TIMEOUT_MS.into(),
            ),
        ],
    )?;
    config.connection.host = target.pg_host.clone();
    config.connection.port = target.pg_port;
    let table = config.table_name(topic);
    let db = QuestDb::connect(&config.connection).await?;
    let started = Instant::now();
    let mut sink = SinkProcess::start(launch, &file, target, 0)?;
    let rows = wait_rows(&db, &table, records, &sink, timeout * 2).await?;
    let took = started.elapsed();
    wait_committed(target, &config.group_id(), topic, records as i64, timeout)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", sink.log_tail(20)))?;
    let exit = match end {
        End::Kill => {
            sink.kill();
            "killed".to_string()
        }
        End::Sigterm => tokio::task::block_in_place(|| sink.terminate(Duration::from_secs(30)))?.0,
    };
    Ok((rows, took, exit))
}
