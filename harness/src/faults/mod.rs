//! Fault cases (issue 11): a fixture with `@records` and `@fault` lines ([`crate::fixture`])
//! streams generated envelopes through the `sink` binary while a service or a sink process is
//! killed, restarted or stopped for a while, and reports what a user cares about: records
//! produced, rows stored, rows missing, rows duplicated (by the case's key), how soon the sink
//! resumed, and the sink's error if it gave up.
//!
//! - [`run`]: runs a case on services it may break ([`crate::services::Services::inject`]);
//! - [`render`]: the outcome as snapshot text, timing-dependent counts as invariants;
//! - [`sinks`]: the sink processes of a case (`--task N`), killed with their run;
//! - [`proxy`]: an HTTP proxy in front of QuestDB's HTTP port that answers a fault's status;
//! - [`strike`]: a fault on a service, or on the Toxiproxy proxy in front of one;
//! - [`offsets`]: the group's committed offsets, watched never to go back;
//! - [`probe`]: the case's table as the runner reads it meanwhile;
//! - [`upsert`]: an upsert table's rows against each key's last value;
//! - [`stream`]: the case's records, produced in parts around its faults;
//! - [`table`]: the fault table of `docs/reference-outcomes.md`, from the snapshots;
//! - [`worker`]: a Kafka Connect worker as the sink process of a case (issue 29.3);
//! - [`cluster`]: a broker of a three-broker cluster (Kafka's matrix).

pub mod cluster;
mod exit;
pub mod late_topic;
pub mod offsets;
pub mod probe;
pub mod proxy;
pub mod render;
pub mod run;
pub mod sinks;
pub mod stream;
pub mod strike;
pub mod table;
pub mod upsert;
pub mod worker;

use crate::services::FaultAction;
use std::time::Duration;

/// Records per partition once the first `records` are produced: record `i` goes to partition
/// `i % partitions`.
pub fn spread(records: u64, partitions: i32) -> Vec<i64> {
    let parts = partitions.max(1) as u64;
    (0..parts)
        .map(|p| (records / parts + u64::from(p < records % parts)) as i64)
        .collect()
}

/// What a fault case did.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultOutcome {
    pub case: String,
    pub topic: String,
    pub table: String,
    pub sinks: u32,
    pub partitions: i32,
    pub key: String,
    /// The connector that ran the case in Kafka Connect workers (`Debezium JDBC sink 3.4.3`);
    /// `None`: the sink binary.
    pub under: Option<String>,
    /// The `@paths` / `@tolerance` variant this run is, if the case has variants.
    pub variant: Option<crate::fixture::Variant>,
    /// The dead letter topic and the records it held at the end, if the case sets one.
    pub dead_letters: Option<(String, u64)>,
    /// The table has DEDUP upsert keys: a replayed row replaces itself.
    pub dedup: bool,
    pub produced: u64,
    pub faults: Vec<FaultReport>,
    /// Sink processes that stopped on their own (gave up) while or after a fault.
    pub gave_up: Vec<GaveUp>,
    /// Rows in the table at the end.
    pub rows: u64,
    /// Distinct values of the key column at the end.
    pub distinct: u64,
    /// Rows an operator dropped with the table (`drop table` faults): gone by design.
    pub dropped: u64,
    /// Every partition's committed offset reached its end.
    pub all_committed: bool,
    /// No committed offset was ever seen ahead of what the table held.
    pub committed_behind_stored: bool,
    /// Every read of the committed offsets, and whether one went back.
    pub committed_watch: offsets::CommittedWatch,
    /// On an upsert table: whether each key ended with its last value.
    pub last_values: Option<upsert::LastValues>,
    /// `@bad` records: produced, and found in the dead letter topic.
    pub bad: BadRecords,
    /// The highest peak resident memory of the sink processes running at the end, in KiB
    /// (their last start's; not rendered: it varies from run to run). `None` in containers.
    pub peak_rss_kib: Option<u64>,
    /// Wall time of the case (not rendered).
    pub elapsed: Duration,
}

/// `@bad every=N` records: how many were produced, and what the dead letter topic held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadRecords {
    pub produced: u64,
    /// Distinct bad records found in the dead letter topic.
    pub dead_lettered: u64,
    /// Dead letters that are no bad record: good records called bad.
    pub others: u64,
}

impl FaultOutcome {
    /// The records the table should hold: all but the bad ones.
    pub fn good(&self) -> u64 {
        self.produced.saturating_sub(self.bad.produced)
    }

    pub fn missing(&self) -> u64 {
        // An upsert table holds one row per key.
        let expected = self.last_values.as_ref().map_or(self.good(), |l| l.keys);
        expected
            .saturating_sub(self.dropped)
            .saturating_sub(self.distinct)
    }

    pub fn duplicated(&self) -> u64 {
        self.rows.saturating_sub(self.distinct)
    }
}

/// One `@fault` as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultReport {
    pub line: usize,
    /// `kill questdb`, `stop kafka for 5s`, ...
    pub fault: String,
    pub after: u64,
    /// It struck before the sinks started (`at=start`).
    pub at_start: bool,
    /// Distinct keys in the table when it struck: fewer than `records` means mid-stream.
    pub stored_before: u64,
    /// Records produced when it struck (the first `after`, for `at=start` the first part).
    pub produced_before: u64,
    /// The records produced next (up to the next fault's `after`, or the end), and when.
    pub next: Option<NextPart>,
    /// From the strike until the service (or the sink) was running again (not rendered).
    pub took: Duration,
    /// From then until the sink stored its next row (or committed the last), if it did.
    pub resumed: Option<Duration>,
}

/// The part of the stream produced after a fault struck.
#[derive(Debug, Clone, PartialEq)]
pub struct NextPart {
    /// Records `from..to` (exclusive).
    pub from: u64,
    pub to: u64,
    pub when: Production,
}

/// When the part after a fault was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Production {
    /// While the fault held (a service stopped for a while, other than Kafka or ZooKeeper, or
    /// a sink stopped for a while).
    WhileHeld,
    /// Right after it struck (a kill or a restart: over when it returns).
    AfterStruck,
    /// Once Kafka (or ZooKeeper, which Kafka needs) was back: it takes no records while down.
    OnceBack,
}

/// A sink process that exited on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct GaveUp {
    pub task: u32,
    /// The fault in progress when it exited, if any.
    pub during: Option<String>,
    /// Its error (from its `--summary`), or how it ended.
    pub error: String,
    /// The group's committed offsets (summed over partitions) once it had exited.
    pub committed: i64,
    /// Distinct keys in the table then.
    pub stored: u64,
    /// Whether it was started again (as an operator restarts a failed task).
    pub restarted: bool,
}

/// What a fault does, in the outcome's words.
pub(crate) fn action_words(action: FaultAction) -> String {
    match action {
        FaultAction::Kill => "kill (SIGKILL, started again at once)".into(),
        FaultAction::Restart => "restart (clean stop, started again)".into(),
        FaultAction::Stop { down } => format!("stop for {down:?} (clean stop, then started again)"),
        FaultAction::Pause { down } => format!("pause for {down:?} (SIGSTOP, later SIGCONT)"),
        FaultAction::Drop => "DROP TABLE over PG wire, as an operator would".into(),
        FaultAction::Answer { status, down } => format!(
            "HTTP {status} answered for {down:?} by a proxy in front of its HTTP port (ILP)"
        ),
        FaultAction::Create { late } => format!("missing at start, created {late:?} later"),
        FaultAction::Network { fault, held } => {
            format!("{fault} for {held:?} (through Toxiproxy, then lifted)")
        }
        FaultAction::Shutdown { hard: false } => {
            "clean shutdown (SIGTERM, leadership handed over), down until the case ends".into()
        }
        FaultAction::Shutdown { hard: true } => {
            "hard shutdown (SIGKILL), down until the case ends".into()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_spread_round_robin_over_the_partitions() {
        assert_eq!(super::spread(10, 3), vec![4, 3, 3]);
        assert_eq!(super::spread(2, 4), vec![1, 1, 0, 0]);
        assert_eq!(super::spread(7, 1), vec![7]);
    }
}
