//! The sink in its consumer group (issue 25.4) on the shared real services: two processes with
//! the same settings, as two replicas of one deployment or a rolling update that starts the
//! new process first, and a restart under the same name with other topics.

use harness::faults::sinks::Launch;
use harness::membership;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_with_the_same_settings_takes_over_cleanly() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let run = membership::replicas_run(&crate::target(), &Launch::Binary(binary), 20_000, 2000)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!(
        "second started at {} rows; first: {}; rows {}, distinct {}, committed {}\n{}",
        run.stored_at_second, run.first_exit, run.rows, run.distinct, run.committed, run.first_log
    );
    // Fenced by the newcomer, the first stops as after SIGTERM: exit 0, saying why.
    assert_eq!(run.first_exit, "exit status 0", "{}", run.first_log);
    assert!(
        run.first_log.contains("took over its partitions")
            && run.first_log.contains("give each its own --task"),
        "the first process says another one took over, and what to do:\n{}",
        run.first_log
    );
    assert_eq!(run.distinct, run.produced, "nothing missing");
    assert_eq!(run.committed, run.produced as i64);
    // At least once on a plain table: what the first stored after its last commit is read
    // again by the second, at most a batch (200) or two in flight.
    assert!(
        run.rows - run.distinct <= 400,
        "{} rows stored twice",
        run.rows - run.distinct
    );
    assert_eq!(run.second_exit, "exit status 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_other_topics_reads_the_new_topics() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let run = membership::changed_topics_run(&crate::target(), &Launch::Binary(binary), 2000)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!(
        "second topic: {} of {} rows in {:?}; {}",
        run.second_rows, run.produced, run.second_after, run.exit
    );
    assert_eq!(run.second_rows, run.produced);
    assert_eq!(run.exit, "exit status 0");
}
