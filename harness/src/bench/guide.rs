//! The guide's literal record at volume: the seed document's example message, whose `"id8": 222`
//! JsonConverter wraps to -34 in every record, drained by this sink's binary at several counts.
//! A coercion per record must not grow the sink (issue 25: 592 MB for 1,000,000 of them when
//! every coercion was kept); peak RSS per count is printed, never asserted.

use super::runs::{Peer, Runner};
use crate::fixture;
use crate::kafka;
use crate::replay::Target;

/// The record as the seed document publishes it (fixtures/seed/example-topic.case).
pub fn guide_record() -> anyhow::Result<Vec<u8>> {
    let path = fixture::root().join("seed/example-topic.case");
    let text = std::fs::read_to_string(&path)?;
    text.lines()
        .find(|l| l.starts_with('{'))
        .map(|l| l.as_bytes().to_vec())
        .ok_or_else(|| anyhow::anyhow!("{}: no record", path.display()))
}

/// Peak RSS of the sink draining `records` copies of the guide's record.
#[derive(Debug, Clone)]
pub struct GuideRun {
    pub records: u64,
    pub peak_rss_mib: f64,
    pub secs: f64,
}

/// Produces `records` copies of the record to a topic of one partition and drains it with
/// this sink over ILP.
pub fn drain(runner: &Runner, target: &Target, records: u64) -> anyhow::Result<GuideRun> {
    let topic = format!("bench-guide-{}-{records}", std::process::id());
    let record = guide_record()?;
    let handle = tokio::runtime::Handle::current();
    handle.block_on(kafka::create_topic_with(&target.bootstrap, &topic, 1))?;
    kafka::produce_spread(
        &target.bootstrap,
        &topic,
        1,
        (0..records).map(|_| record.clone()),
    )?;
    let m = runner.drain(Peer::Ilp, &topic, 1, records, 1)?;
    Ok(GuideRun {
        records,
        peak_rss_mib: m.peak_rss_mib,
        secs: m.secs,
    })
}

/// The lines printed and added to the report: each count's peak, and the largest against the
/// smallest (the goal: within 10 %).
pub fn summary(runs: &[GuideRun]) -> String {
    let mut out = String::from(
        "The guide's record (`\"id8\": 222` coerced in every record), this sink over ILP, one partition:\n",
    );
    for r in runs {
        out.push_str(&format!(
            "- {} records: peak RSS {:.1} MiB, drained in {:.1} s\n",
            r.records, r.peak_rss_mib, r.secs
        ));
    }
    if let (Some(small), Some(large)) = (runs.first(), runs.last()) {
        if runs.len() > 1 && small.peak_rss_mib > 0.0 {
            let growth = (large.peak_rss_mib / small.peak_rss_mib - 1.0) * 100.0;
            out.push_str(&format!(
                "- {} against {} records: {growth:+.1} % (goal: within 10 %, not asserted)\n",
                large.records, small.records
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_record_is_the_seed_message() {
        let record = String::from_utf8(guide_record().unwrap()).unwrap();
        assert!(record.contains(r#""id8":222"#), "{record}");
        assert!(record.ends_with(r#""msg":"hi"}}"#), "{record}");
    }

    #[test]
    fn the_summary_compares_the_largest_count_with_the_smallest() {
        let runs = [
            GuideRun {
                records: 100_000,
                peak_rss_mib: 40.0,
                secs: 2.0,
            },
            GuideRun {
                records: 1_000_000,
                peak_rss_mib: 42.0,
                secs: 20.0,
            },
        ];
        let text = summary(&runs);
        assert!(
            text.contains("- 100000 records: peak RSS 40.0 MiB"),
            "{text}"
        );
        assert!(
            text.contains("1000000 against 100000 records: +5.0 %"),
            "{text}"
        );
    }
}
