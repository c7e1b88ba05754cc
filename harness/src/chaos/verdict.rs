//! The invariants a schedule's outcome must keep, and the figures summed over a run: pure
//! functions of [`FaultOutcome`].

use super::draw::Schedule;
use crate::faults::FaultOutcome;
use std::collections::BTreeMap;
use std::time::Duration;

/// The peak resident memory a sink process may reach in a schedule. `harness bench` measures
/// 37-49 MiB per process; a sink that kept what it should drop grew to 592 MB on the guide's
/// record (issue 25). Retries and a held batch may add some, never this much.
pub const PEAK_RSS_BOUND_KIB: u64 = 128 * 1024;

/// What the outcome broke, one sentence each; empty when it kept every invariant.
///
/// No bad records are mixed into a chaos schedule, so a dead letter topic must stay empty: a
/// record the sink dead-lettered while a service was away is a good record called bad.
pub fn violations(schedule: &Schedule, o: &FaultOutcome) -> Vec<String> {
    let mut v = Vec::new();
    if o.missing() > 0 {
        v.push(format!(
            "{} of {} records missing ({} distinct stored)",
            o.missing(),
            o.produced,
            o.distinct
        ));
    }
    if o.dedup != schedule.dedup {
        v.push(format!(
            "the table {} DEDUP keys, the schedule drew {}",
            if o.dedup { "has" } else { "has no" },
            if schedule.dedup {
                "a DEDUP table"
            } else {
                "a plain one"
            }
        ));
    }
    if o.dedup && o.duplicated() > 0 {
        v.push(format!(
            "{} duplicated rows on a DEDUP table",
            o.duplicated()
        ));
    }
    if !o.committed_behind_stored {
        v.push("a committed offset ran ahead of the rows stored".into());
    }
    if let Some((p, from, to)) = o.committed_watch.first_decrease {
        v.push(format!(
            "a committed offset went back (partition {p}: {from} to {to})"
        ));
    }
    if !o.all_committed {
        let why: Vec<String> = o
            .gave_up
            .iter()
            .filter(|g| !g.restarted)
            .map(|g| format!("task {}: {}", g.task, first_line(&g.error)))
            .collect();
        v.push(format!(
            "not every partition committed to its end ({})",
            why.join("; ")
        ));
    }
    v.extend(dead_letter_mismatch(o));
    if let Some(peak) = o.peak_rss_kib.filter(|&k| k > PEAK_RSS_BOUND_KIB) {
        v.push(format!(
            "a sink process peaked at {} MiB resident (bound {} MiB)",
            peak / 1024,
            PEAK_RSS_BOUND_KIB / 1024
        ));
    }
    if o.faults.len() != schedule.faults.len() {
        v.push(format!(
            "{} of {} faults struck",
            o.faults.len(),
            schedule.faults.len()
        ));
    }
    for f in &o.faults {
        if !f.at_start && f.stored_before >= o.good() {
            v.push(format!(
                "line {} ({}) struck after all {} records were stored",
                f.line, f.fault, o.produced
            ));
        }
        if f.resumed.is_none() {
            v.push(format!(
                "line {} ({}): the sink did not resume within 60 s",
                f.line, f.fault
            ));
        }
    }
    v
}

/// The dead letter topic must hold exactly the bad records mixed in (`@bad`), each at least
/// once, and nothing else: a good record there was called bad while a service was away.
fn dead_letter_mismatch(o: &FaultOutcome) -> Vec<String> {
    let mut v = Vec::new();
    let Some((topic, held)) = &o.dead_letters else {
        return v;
    };
    if o.bad.produced == 0 {
        if *held > 0 {
            v.push(format!(
                "{held} good records dead-lettered to {topic} (no bad record was produced)"
            ));
        }
        return v;
    }
    if o.bad.dead_lettered != o.bad.produced {
        v.push(format!(
            "{} of the {} bad records in {topic}",
            o.bad.dead_lettered, o.bad.produced
        ));
    }
    if o.bad.others > 0 {
        v.push(format!(
            "{} good records dead-lettered to {topic}",
            o.bad.others
        ));
    }
    v
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// Figures over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub schedules: u32,
    pub failed: u32,
    /// Schedules the runner could not judge (a service that did not come back, a timeout).
    pub errors: u32,
    pub faults: BTreeMap<String, u32>,
    pub records: u64,
    pub missing: u64,
    /// Duplicated rows on DEDUP tables (an invariant) and on plain ones (allowed).
    pub duplicated_dedup: u64,
    pub duplicated_plain: u64,
    pub dlq_mismatches: u32,
    pub longest_resume: Option<Duration>,
    pub gave_up: u32,
    /// The highest peak resident memory of a sink process, in KiB.
    pub peak_rss_kib: Option<u64>,
}

impl Tally {
    /// Counts a schedule: its outcome if it was judged, and whether it failed.
    pub fn add(&mut self, schedule: &Schedule, outcome: Option<&FaultOutcome>, failed: bool) {
        self.schedules += 1;
        self.failed += u32::from(failed);
        for f in &schedule.faults {
            *self.faults.entry(f.kind()).or_default() += 1;
        }
        let Some(o) = outcome else {
            self.errors += 1;
            return;
        };
        self.records += o.produced;
        self.missing += o.missing();
        match o.dedup {
            true => self.duplicated_dedup += o.duplicated(),
            false => self.duplicated_plain += o.duplicated(),
        }
        if !dead_letter_mismatch(o).is_empty() {
            self.dlq_mismatches += 1;
        }
        self.gave_up += o.gave_up.len() as u32;
        self.peak_rss_kib = self.peak_rss_kib.max(o.peak_rss_kib);
        for r in o.faults.iter().filter_map(|f| f.resumed) {
            self.longest_resume = self.longest_resume.max(Some(r));
        }
    }

    /// The summary table, one figure a line.
    pub fn table(&self) -> String {
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let rows = [
            (
                "schedules",
                format!(
                    "{} ({} failed, {} of them not judged)",
                    self.schedules, self.failed, self.errors
                ),
            ),
            (
                "faults injected",
                format!(
                    "{} ({})",
                    self.faults.values().sum::<u32>(),
                    faults.join(", ")
                ),
            ),
            ("records", self.records.to_string()),
            ("missing", self.missing.to_string()),
            (
                "duplicated",
                format!(
                    "{} on DEDUP tables, {} on plain tables (allowed)",
                    self.duplicated_dedup, self.duplicated_plain
                ),
            ),
            ("DLQ mismatches", self.dlq_mismatches.to_string()),
            ("sinks that gave up", self.gave_up.to_string()),
            (
                "highest sink peak RSS",
                self.peak_rss_kib
                    .map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            ),
            (
                "longest time to resume",
                self.longest_resume
                    .map_or("-".into(), |d| format!("{:.1}s", d.as_secs_f64())),
            ),
        ];
        rows.iter().map(|(k, v)| format!("{k:<24}{v}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::draw::{draw, Bounds};
    use crate::faults::FaultReport;

    fn outcome(s: &Schedule) -> FaultOutcome {
        FaultOutcome {
            case: "c".into(),
            topic: "t".into(),
            table: "t".into(),
            sinks: s.sinks,
            partitions: s.partitions,
            key: "id64".into(),
            under: None,
            variant: None,
            dead_letters: Some(("t-dlq".into(), 0)),
            dedup: s.dedup,
            produced: s.records,
            faults: s
                .faults
                .iter()
                .enumerate()
                .map(|(i, f)| FaultReport {
                    line: 10 + i,
                    fault: f.kind(),
                    after: f.after.unwrap_or(0),
                    at_start: f.after.is_none(),
                    stored_before: f.after.unwrap_or(0),
                    produced_before: f.after.unwrap_or(0),
                    next: None,
                    took: Duration::from_secs(1),
                    resumed: Some(Duration::from_secs(2)),
                })
                .collect(),
            gave_up: Vec::new(),
            rows: s.records,
            distinct: s.records,
            dropped: 0,
            all_committed: true,
            committed_behind_stored: true,
            committed_watch: Default::default(),
            last_values: None,
            bad: Default::default(),
            peak_rss_kib: Some(40_000),
            elapsed: Duration::from_secs(30),
        }
    }

    #[test]
    fn a_clean_outcome_keeps_every_invariant() {
        let s = draw(1, 0, &Bounds::full(true));
        assert_eq!(violations(&s, &outcome(&s)), Vec::<String>::new());
    }

    #[test]
    fn each_broken_invariant_is_named() {
        let mut s = draw(1, 0, &Bounds::full(true));
        s.dedup = true;
        let mut o = outcome(&s);
        o.distinct -= 3;
        o.rows += 2;
        o.committed_behind_stored = false;
        o.dead_letters = Some(("t-dlq".into(), 4));
        o.faults[0].resumed = None;
        o.faults[0].stored_before = o.produced;
        o.faults[0].at_start = false;
        o.peak_rss_kib = Some(600 * 1024);
        let v = violations(&s, &o).join("\n");
        for expected in [
            "3 of",
            "5 duplicated rows on a DEDUP table",
            "committed offset ran ahead",
            "4 good records dead-lettered",
            "did not resume",
            "struck after all",
            "peaked at 600 MiB",
        ] {
            assert!(v.contains(expected), "{expected} not in:\n{v}");
        }
        // Duplicates on a plain table are allowed, a DEDUP table that is not one is not.
        s.dedup = false;
        let mut o = outcome(&s);
        o.rows += 7;
        assert!(violations(&s, &o).is_empty());
        o.dedup = true;
        assert!(violations(&s, &o)[0].contains("has DEDUP keys"));
    }

    #[test]
    fn the_dead_letter_topic_holds_exactly_the_bad_records() {
        let s = draw(1, 0, &Bounds::full(true));
        let mut o = outcome(&s);
        o.bad.produced = 10;
        o.bad.dead_lettered = 10;
        o.dead_letters = Some(("t-dlq".into(), 11)); // one bad record replayed after a crash
        assert!(dead_letter_mismatch(&o).is_empty());
        o.bad.dead_lettered = 9;
        o.bad.others = 2;
        let v = dead_letter_mismatch(&o).join("\n");
        assert!(v.contains("9 of the 10 bad records in t-dlq"), "{v}");
        assert!(v.contains("2 good records dead-lettered to t-dlq"), "{v}");
        let mut t = Tally::default();
        t.add(&s, Some(&o), true);
        assert_eq!(t.dlq_mismatches, 1);
    }

    #[test]
    fn the_tally_sums_what_the_summary_prints() {
        let s = draw(1, 0, &Bounds::full(true));
        let mut o = outcome(&s);
        o.distinct -= 5;
        o.faults[0].resumed = Some(Duration::from_millis(4200));
        let mut t = Tally::default();
        t.add(&s, Some(&o), true);
        t.add(&s, None, true);
        assert_eq!((t.schedules, t.failed, t.errors, t.missing), (2, 2, 1, 5));
        assert_eq!(t.records, s.records);
        assert_eq!(t.faults.values().sum::<u32>() as usize, 2 * s.faults.len());
        assert!(
            t.table().contains("longest time to resume  4.2s"),
            "{}",
            t.table()
        );
        assert!(
            t.table().contains("highest sink peak RSS   39.1 MiB"),
            "{}",
            t.table()
        );
    }
}
