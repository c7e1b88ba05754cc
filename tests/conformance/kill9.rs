//! Exactly-once under `kill -9` (issues 10 and 11): the `sink` binary stores a stream into a
//! native DEDUP table (`pk.mode=kafka`) and is SIGKILLed 20 times, each right after QuestDB
//! committed some of its rows; a last run catches up. Every offset must be in the table exactly
//! once. Restarts take their partitions back at once (static group membership), which keeps
//! this to seconds; `harness kill9 --control` shows the same without DEDUP duplicates rows.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_lose_nothing_and_duplicate_nothing() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let report = harness::kill9::run(&crate::target(), &binary, 20, 2000, true)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!(
        "kill -9 x{}: {} produced, {} stored, {} missing, {} duplicated; restarts to first rows: {:?}",
        report.kills, report.produced, report.rows, report.missing, report.duplicated, report.resumes
    );
    assert_eq!(report.kills, 20);
    assert_eq!(
        report.resumes.len(),
        20,
        "every restart stored rows before its kill"
    );
    assert_eq!((report.missing, report.duplicated), (0, 0));
    assert_eq!(report.rows as u64, report.produced);
}
