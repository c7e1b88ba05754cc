//! Runs drawn schedules on services the run breaks and brings back: one line per schedule, a
//! failing one printed as its case file and shrunk, then the figures.

use super::draw::{draw, Bounds, Schedule};
use super::shrink;
use super::verdict::{first_line, violations, Tally};
use crate::faults::FaultOutcome;
use crate::fixture::Case;
use crate::services::Services;
use std::path::Path;
use std::time::{Duration, Instant};

/// When a run stops drawing: a schedule in flight finishes.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    Elapsed(Duration),
    Schedules(u32),
}

#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub until: Until,
    pub bounds: Bounds,
    /// Re-runs a failing schedule's shrinking may take at most.
    pub shrink_runs: u32,
}

/// A schedule that failed, and the smallest that still did.
#[derive(Debug, Clone)]
pub struct Failure {
    pub schedule: Schedule,
    pub reasons: Vec<String>,
    pub smallest: Schedule,
    pub smallest_reasons: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub tally: Tally,
    pub failures: Vec<Failure>,
}

/// How one schedule went.
struct Judged {
    outcome: Option<FaultOutcome>,
    /// Empty: it kept every invariant.
    reasons: Vec<String>,
}

/// Runs schedules `0, 1, ...` of `options.seed` until `options.until`, printing through `say`.
pub async fn run(
    options: &Options,
    services: &mut Services,
    binary: &Path,
    say: &mut dyn FnMut(String),
) -> Report {
    let started = Instant::now();
    let mut report = Report::default();
    let mut runs = 0u32; // topics stay unique across shrinking re-runs
    for index in 0.. {
        let done = match options.until {
            Until::Elapsed(limit) => started.elapsed() >= limit,
            Until::Schedules(n) => index >= n,
        };
        if done {
            break;
        }
        let schedule = draw(options.seed, index, &options.bounds);
        let t = Instant::now();
        runs += 1;
        let judged = judge(&schedule, runs, services, binary).await;
        let failed = !judged.reasons.is_empty();
        say(format!(
            "#{index:<3} {:<90} {} {:>6.1}s",
            schedule.summary(),
            if failed { "FAIL" } else { "ok  " },
            t.elapsed().as_secs_f64()
        ));
        report.tally.add(&schedule, judged.outcome.as_ref(), failed);
        if !failed {
            continue;
        }
        for r in &judged.reasons {
            say(format!("     {r}"));
        }
        say(format!(
            "--- {} (failing; its outcome above):\n{}---",
            schedule.file_name(),
            schedule.case_text()
        ));
        let (smallest, smallest_reasons) = shrink_failing(
            &schedule,
            judged.reasons.clone(),
            options.shrink_runs,
            &mut runs,
            services,
            binary,
            say,
        )
        .await;
        if smallest != schedule {
            say(format!(
                "--- smallest failing case, {} (shrunk):\n{}---",
                smallest.file_name(),
                smallest.case_text()
            ));
        }
        report.failures.push(Failure {
            schedule,
            reasons: judged.reasons,
            smallest,
            smallest_reasons,
        });
    }
    report
}

/// Drops faults one at a time, then halves the records, while the schedule still fails.
async fn shrink_failing(
    failing: &Schedule,
    reasons: Vec<String>,
    budget: u32,
    runs: &mut u32,
    services: &mut Services,
    binary: &Path,
    say: &mut dyn FnMut(String),
) -> (Schedule, Vec<String>) {
    let mut smallest = (failing.clone(), reasons);
    let mut left = budget;
    'smaller: while left > 0 {
        for candidate in shrink::candidates(&smallest.0) {
            if left == 0 {
                break 'smaller;
            }
            left -= 1;
            *runs += 1;
            let t = Instant::now();
            let judged = judge(&candidate, *runs, services, binary).await;
            let fails = !judged.reasons.is_empty();
            say(format!(
                "     shrink: {:<80} {} {:>6.1}s",
                candidate.summary(),
                if fails { "still fails" } else { "passes" },
                t.elapsed().as_secs_f64()
            ));
            if fails {
                smallest = (candidate, judged.reasons);
                continue 'smaller;
            }
        }
        break;
    }
    smallest
}

/// Runs one schedule as the fault case it prints as, on a topic of its own (`run`: how many
/// schedules this process ran), and checks the invariants. A run the fault runner could not
/// judge (a case that did not finish in time, a service that did not come back) fails too.
async fn judge(schedule: &Schedule, run: u32, services: &mut Services, binary: &Path) -> Judged {
    let text = schedule.case_text();
    let name = schedule.file_name();
    let case = match Case::parse(Path::new(&name), &name, &text) {
        Ok(mut case) => {
            // The printed case keeps its own topic; this run's must be new on these services.
            case.topic = format!("{}-r{run}", case.topic);
            case.variants().remove(0)
        }
        Err(e) => {
            return Judged {
                outcome: None,
                reasons: vec![format!("the drawn case does not parse: {e}")],
            }
        }
    };
    match crate::faults::run::run(&case, services, binary).await {
        Ok(outcome) => Judged {
            reasons: violations(schedule, &outcome),
            outcome: Some(outcome),
        },
        Err(e) => {
            let text = format!("{e:#}");
            let mut lines: Vec<&str> = text.lines().take(25).collect();
            if lines.is_empty() {
                lines.push("(no detail)");
            }
            Judged {
                outcome: None,
                reasons: vec![format!(
                    "not judged: {}\n{}",
                    first_line(&text),
                    lines[1..].join("\n")
                )],
            }
        }
    }
}
