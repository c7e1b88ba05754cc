//! `harness compare A B`: the cases through two sinks under test, each on services of its own,
//! and per case what differs between them.

use super::{fail, report, Sink};
use harness::replay::Target;
use harness::services::BackendChoice;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// The first sink under test.
    #[arg(value_enum)]
    a: Sink,
    /// The second sink under test.
    #[arg(value_enum)]
    b: Sink,
    /// Fixture files or folders; default: the repository's fixtures/.
    #[arg(long = "cases")]
    paths: Vec<PathBuf>,
    /// A Kafka Connect plugin path (for `connect`, or instead of the pinned Debezium).
    #[arg(long)]
    plugin_path: Option<PathBuf>,
    /// Cases run at once.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Where to write the Markdown report.
    #[arg(long, default_value = "target/compare-report.md")]
    report: PathBuf,
    /// Where the services run: `process`, `docker`, or `auto`.
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

pub async fn run(args: Args) -> ExitCode {
    let started = Instant::now();
    let cases = match super::discover_ordinary(&args.paths) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    // Each sink on services of its own: the same topic and table names, no interference.
    let mut outcomes = Vec::new();
    for sink in [args.a, args.b] {
        let services = match super::start_services(args.backend).await {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        let target: Target = services.endpoints().into();
        let mode = match sink.mode(args.plugin_path.clone(), &target).await {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        eprintln!("{}: {} cases", sink.label(), cases.len());
        outcomes.push(super::run_all(cases.clone(), &target, &mode, args.jobs).await);
        drop(mode);
        drop(services);
    }
    let names = (args.a.label(), args.b.label());
    let mut rows = Vec::new();
    for ((case, oa), (_, ob)) in outcomes[0].iter().zip(&outcomes[1]) {
        let diffs = match (oa, ob) {
            (Ok(x), Ok(y)) => harness::compare::differences(x, y, names),
            (Err(e), _) | (_, Err(e)) => vec![format!("could not run: {e}")],
        };
        rows.push((case.name.clone(), diffs));
    }
    let width = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(4);
    for (case, diffs) in &rows {
        let verdict = if diffs.is_empty() { "same" } else { "differs" };
        println!(
            "{case:width$}  {verdict:7}  {}",
            diffs.first().map_or("", |d| d.as_str())
        );
        for d in diffs.iter().skip(1) {
            println!("{:width$}           {d}", "");
        }
    }
    let same = rows.iter().filter(|(_, d)| d.is_empty()).count();
    report::write(&args.report, &harness::compare::markdown(names, &rows));
    println!(
        "{} vs {}: {same} of {} cases the same, in {:.1}s",
        names.0,
        names.1,
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
