//! The printing the commands share: the per-case table, the per-phase and per-area sums, the
//! Markdown report, and writing a report file.

use harness::replay::{self, Outcome};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    New,
    Error,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::New => "NEW",
            Verdict::Error => "ERROR",
        }
    }
}

/// One case judged against its snapshot.
pub struct CaseResult {
    pub case: String,
    pub verdict: Verdict,
    pub elapsed: Duration,
    pub phases: replay::Phases,
    pub detail: String,
    pub rendered: Option<String>,
}

/// Writes a report, creating its folder; says where, or warns (a report is never worth failing
/// a run that has its results printed already).
pub fn write(path: &Path, contents: &str) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(path, contents) {
        Ok(()) => println!("report: {}", path.display()),
        Err(e) => eprintln!("warning: cannot write {}: {e}", path.display()),
    }
}

/// One line about an outcome: rows read back and the first line of the error.
pub fn summary(o: &Outcome) -> String {
    let rows = o.table_state.as_ref().map_or(0, |t| t.rows.len());
    match &o.error {
        None => format!("{rows} rows"),
        Some(e) => format!(
            "{rows} rows, error: {}",
            e.lines().next().unwrap_or_default()
        ),
    }
}

fn area(case: &str) -> &str {
    case.split('/').next().unwrap_or(case)
}

pub fn print_table(results: &[CaseResult]) {
    let width = results
        .iter()
        .map(|r| r.case.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:6}  {:>7}  detail", "case", "result", "time");
    for r in results {
        println!(
            "{:width$}  {:6}  {:>6.1}s  {}",
            r.case,
            r.verdict.label(),
            r.elapsed.as_secs_f64(),
            r.detail.lines().next().unwrap_or_default()
        );
    }
    print_phases(results);
    println!("\n{:12}  {:>5}  {:>6}", "area", "cases", "passed");
    for (area, (n, passed)) in areas(results) {
        println!("{area:12}  {n:>5}  {passed:>6}");
    }
}

/// Where the cases' time went: the sum and the mean of each phase over the cases that ran.
fn print_phases(results: &[CaseResult]) {
    let mut totals: Vec<(&str, Duration)> = Vec::new();
    for r in results {
        for (phase, took) in &r.phases.0 {
            match totals.iter_mut().find(|(p, _)| p == phase) {
                Some((_, total)) => *total += *took,
                None => totals.push((phase, *took)),
            }
        }
    }
    let ran = results.iter().filter(|r| !r.phases.0.is_empty()).count();
    if ran == 0 {
        return;
    }
    println!("\n{:12}  {:>8}  {:>9}", "phase", "total", "per case");
    for (phase, total) in totals {
        println!(
            "{phase:12}  {:>7.1}s  {:>8.0}ms",
            total.as_secs_f64(),
            total.as_secs_f64() * 1000.0 / ran as f64
        );
    }
}

/// Cases and passes per area (the fixture's folder).
fn areas(results: &[CaseResult]) -> BTreeMap<&str, (usize, usize)> {
    let mut areas: BTreeMap<&str, (usize, usize)> = Default::default();
    for r in results {
        let entry = areas.entry(area(&r.case)).or_default();
        entry.0 += 1;
        if r.verdict == Verdict::Pass {
            entry.1 += 1;
        }
    }
    areas
}

pub fn markdown(results: &[CaseResult], elapsed: Duration) -> String {
    let areas = areas(results);
    let mut s = format!(
        "# Conformance report\n\n{} cases in {:.1}s\n\n| area | cases | passed |\n|---|---|---|\n",
        results.len(),
        elapsed.as_secs_f64()
    );
    for (area, (n, passed)) in &areas {
        s.push_str(&format!("| {area} | {n} | {passed} |\n"));
    }
    s.push_str("\n| case | result | time | detail |\n|---|---|---|---|\n");
    for r in results {
        let detail = r
            .detail
            .lines()
            .next()
            .unwrap_or_default()
            .replace('|', "\\|");
        s.push_str(&format!(
            "| {} | {} | {:.1}s | {} |\n",
            r.case,
            r.verdict.label(),
            r.elapsed.as_secs_f64(),
            detail
        ));
    }
    s
}
