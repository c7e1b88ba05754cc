//! Operating the `sink` binary (issue 20) on the shared real services: the metrics endpoint
//! scraped during a run must count exactly what was produced, and SIGTERM mid-stream must stop
//! the sink cleanly (exit 0, everything stored committed, nothing more, the group left) so that
//! a restart resumes at once and loses nothing.

use harness::faults::sinks::Launch;
use harness::operate;
use sink::metrics as m;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_match_what_was_produced() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let run = operate::metrics_run(&crate::target(), &Launch::Binary(binary), 4000)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!("scrape once caught up:\n{}", run.scrape.text);
    println!(
        "ready: {:?}; stopped after SIGTERM in {:?}: {}",
        run.ready, run.stop_time, run.exit
    );
    let s = &run.scrape;
    let topic = [("topic", run.topic.as_str())];
    let total = (run.good + run.bad) as f64;

    assert_eq!(run.live, (200, "live\n".to_string()));
    assert!(
        run.ready.1.contains("2 partition(s) assigned"),
        "{:?}",
        run.ready
    );
    assert_eq!(s.value(m::RECORDS_CONSUMED, &topic), Some(total));
    assert_eq!(s.value(m::ROWS_STORED, &topic), Some(run.good as f64));
    assert_eq!(run.rows, run.good, "rows in the table");
    assert_eq!(s.value(m::RECORDS_SKIPPED, &topic), Some(run.bad as f64));
    assert_eq!(
        s.value(m::RECORDS_DEAD_LETTERED, &topic),
        Some(run.bad as f64)
    );
    assert_eq!(
        run.dead_letters as u64, run.bad,
        "records in the dead letter queue"
    );
    assert_eq!(
        s.value(m::ERRORS, &[("kind", "decode")]),
        Some(run.bad as f64)
    );
    assert_eq!(s.sum(m::RETRIES), 0.0, "nothing was retried");
    // Every record went through exactly one batch; each batch was timed once.
    assert_eq!(s.value("sink_batch_records_sum", &[]), Some(total));
    let batches = s.value("sink_batch_records_count", &[]).unwrap_or(0.0);
    assert!(batches >= total / 500.0, "{batches} batches of at most 500");
    assert_eq!(
        s.value("sink_batch_duration_seconds_count", &[]),
        Some(batches)
    );
    assert_eq!(
        s.value("sink_batch_records_bucket", &[("le", "+Inf")]),
        Some(batches)
    );
    assert!(
        s.value("sink_write_duration_seconds_count", &[])
            .unwrap_or(0.0)
            >= 1.0
    );
    for (p, end) in run.per_partition.iter().enumerate() {
        let labels = [("topic", run.topic.as_str()), ("partition", &p.to_string())];
        assert_eq!(s.value(m::COMMITTED_OFFSET, &labels), Some(*end as f64));
        assert_eq!(s.value(m::CONSUMER_LAG, &labels), Some(0.0));
    }
    assert_eq!(s.value(m::ASSIGNED_PARTITIONS, &[]), Some(2.0));
    assert_eq!(run.exit, "exit status 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_stream_stops_cleanly_and_a_restart_resumes_at_once() {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let run = operate::sigterm_run(&crate::target(), &Launch::Binary(binary), 30_000, 2000)
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));
    println!("{run:#?}");
    assert_eq!(run.exit, "exit status 0", "SIGTERM is a clean stop");
    // shutdown.timeout.ms (10 s) bounds the batch; a batch of 200 rows takes milliseconds.
    assert!(
        run.stop_time < Duration::from_secs(5),
        "stopped in {:?}",
        run.stop_time
    );
    assert!(
        run.stored_after_stop < run.produced,
        "the signal struck mid-stream ({} of {} stored)",
        run.stored_after_stop,
        run.produced
    );
    // A clean stop commits exactly what it stored: nothing lost, nothing replayed.
    assert_eq!(run.committed_after_stop, run.stored_after_stop as i64);
    assert_eq!(
        run.members_after_stop,
        Vec::<String>::new(),
        "the sink left its group"
    );
    assert!(
        run.resumed_after < Duration::from_secs(5),
        "resumed after {:?}",
        run.resumed_after
    );
    assert_eq!(run.committed, run.produced as i64);
    assert_eq!(
        run.distinct,
        run.produced,
        "missing: {}",
        run.produced - run.distinct
    );
    assert_eq!(
        run.rows,
        run.produced,
        "duplicated: {}",
        run.rows - run.distinct
    );
    assert_eq!(run.final_exit, "exit status 0");
}
