//! `harness compare A B`: the cases through two sinks under test, each on services of its own,
//! and per case what differs between them. This sink against a reference (Confluent's JDBC
//! sink 10.7.6 on the seed's cases, QuestDB's connector 0.23 on its family's) also gets each
//! difference's class from `harness/src/reference*.rs`, and fails on an unclassified one. A
//! connector runs the cases of its own family only.

use super::{fail, report, Sink};
use harness::recorded::Recorded;
use harness::reference;
use harness::render;
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
    let mut cases = match super::discover_ordinary(&args.paths) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    for sink in [args.a, args.b] {
        if let Some(family) = sink.family(args.plugin_path.as_deref()) {
            cases.retain(|c| c.family() == family);
        }
    }
    if cases.is_empty() {
        return fail("no case of a family both sinks run");
    }
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
    let against_reference = against_reference((args.a, args.b), args.plugin_path.as_deref());
    let mut rows = Vec::new();
    let mut tally = reference::Tally::default();
    for ((case, oa), (_, ob)) in outcomes[0].iter().zip(&outcomes[1]) {
        let (mut diffs, verdict) = match (oa, ob) {
            (Ok(x), Ok(y)) => {
                let diffs = harness::compare::differences(x, y, names);
                // Ours first, the reference second, whichever order they were given in.
                let verdict = against_reference.map(|ours_first| {
                    let (o, r) = if ours_first { (x, y) } else { (y, x) };
                    let parse = |o| Recorded::parse(&render::outcome(o));
                    reference::judge(&case.name, &parse(o), &parse(r)).1
                });
                (diffs, verdict)
            }
            (Err(e), _) | (_, Err(e)) => (
                vec![format!("could not run: {e}")],
                against_reference.map(|_| reference::Verdict::Unclassified),
            ),
        };
        if let Some(v) = &verdict {
            tally.add(v);
            if !matches!(v, reference::Verdict::Same) {
                diffs.insert(0, v.label());
            }
        }
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
    if against_reference.is_some() {
        println!("against the reference (harness/src/reference*.rs): {tally}");
        if tally.failures > 0 {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Whether the pair is this sink and a reference (Confluent's JDBC sink or QuestDB's connector
/// of the reference's version): `Some(true)` when this sink comes first. Only then are
/// differences classified.
fn against_reference(pair: (Sink, Sink), plugin_path: Option<&std::path::Path>) -> Option<bool> {
    let reference_set = |s: Sink| {
        let set = s.snapshot_set(plugin_path).ok().flatten();
        reference::REFERENCES
            .iter()
            .any(|r| set.as_deref() == Some(r.set))
    };
    match pair {
        (a, b) if a.is_ours() && reference_set(b) => Some(true),
        (a, b) if b.is_ours() && reference_set(a) => Some(false),
        _ => None,
    }
}
