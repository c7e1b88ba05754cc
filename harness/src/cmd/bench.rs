//! `harness bench`: every sink drains the same backlog on the same services, then end-to-end
//! latency at a steady rate; a table on stdout, `target/bench-report.md` and its chart. Goals
//! are printed, never asserted.

use super::fail;
use harness::bench::guide;
use harness::bench::latency::{self, Latency, Variant};
use harness::bench::report::{self, Context};
use harness::bench::runs::{self, Measurement, Peer, Runner};
use harness::bench::{self as bench, Shape};
use harness::replay::{self, Target};
use harness::services::BackendChoice;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Records in each backlog (one topic per partition count; 0: none).
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    /// The sinks' batch.size (the pipe's rows per ILP request too).
    #[arg(long, default_value_t = 3000)]
    batch_size: usize,
    /// The record shapes, one backlog each per partition count: the seed's envelope with
    /// varying values, and the guide's literal record (its `id8` coerced in every record).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "seed,guide")]
    shapes: Vec<Shape>,
    /// Decoding alone (no services): each shape's records/s on one core, then exit.
    #[arg(long)]
    decode_only: bool,
    /// Partition counts of the backlogs.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    partitions: Vec<i32>,
    /// Processes (ours, the pipe) or tasks (connectors) per run; more than the partitions are
    /// skipped.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    tasks: Vec<u32>,
    /// The sinks measured.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "pipe,ilp,pg,questdb,debezium"
    )]
    peers: Vec<Peer>,
    /// QuestDB's Kafka connector: its plugin folder (built from its source; not on Maven
    /// Central). Without it the QuestDB connector is not measured.
    #[arg(long, env = "KQ_QUESTDB_CONNECTOR")]
    peer_plugin: Option<PathBuf>,
    /// Seconds of steady production per latency measurement (0: none).
    #[arg(long, default_value_t = 10.0)]
    latency_secs: f64,
    /// Records per second for the latency measurements; by default half of our ILP rate at
    /// one partition.
    #[arg(long)]
    latency_rate: Option<f64>,
    /// The sinks and tables measured for latency.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ours,ours-dedup,questdb,questdb-dedup"
    )]
    latency: Vec<Variant>,
    /// Copies of the guide's literal record (its `id8` coerced in every record) drained by this
    /// sink over ILP, one run per count, for its peak memory (0: none).
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    guide_records: Vec<u64>,
    /// CI's short run: 10 000 records, one partition and process, the pipe and ours only, 2 s
    /// of latency for ours (this flag overrides those options).
    #[arg(long)]
    quick: bool,
    /// The report (its chart is written next to it, `.svg`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Where the services run: process, docker, or auto (KQ_BACKEND).
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

impl Args {
    fn apply_quick(&mut self) {
        if self.quick {
            self.records = 10_000;
            self.shapes = vec![Shape::Seed];
            self.partitions = vec![1];
            self.tasks = vec![1];
            self.peers = vec![Peer::Pipe, Peer::Ilp, Peer::Pg];
            self.latency_secs = 2.0;
            self.latency = vec![Variant::Ours];
            self.peer_plugin = None;
            self.guide_records = vec![10_000];
        }
    }
}

pub async fn run(mut args: Args) -> ExitCode {
    args.apply_quick();
    if args.decode_only {
        return match decode_rates(&args) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(format!("{e:#}")),
        };
    }
    let load_start = runs::load_average();
    let services = match super::start_services(args.backend).await {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let target: Target = services.endpoints().into();
    let command = std::env::args().skip(1).collect::<Vec<_>>().join(" ");
    let result = tokio::task::spawn_blocking(move || measure(&target, &args, load_start, &command))
        .await
        .map_err(anyhow::Error::from)
        .and_then(|r| r);
    drop(services);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{e:#}")),
    }
}

fn measure(target: &Target, args: &Args, load_start: f64, command: &str) -> anyhow::Result<()> {
    let handle = tokio::runtime::Handle::current();
    let mut skipped = Vec::new();
    let decode = decode_rates(args)?;
    let mut peers = args.peers.clone();
    let mut variants = if args.latency_secs > 0.0 {
        args.latency.clone()
    } else {
        vec![]
    };
    if args.peer_plugin.is_none() {
        if peers.contains(&Peer::Questdb) || variants.iter().any(|v| v.needs_questdb_connector()) {
            skipped.push(
                "QuestDB connector: no plugin folder (--peer-plugin or KQ_QUESTDB_CONNECTOR)"
                    .to_owned(),
            );
        }
        peers.retain(|p| *p != Peer::Questdb);
        variants.retain(|v| !v.needs_questdb_connector());
    }
    let guide_counts: Vec<u64> = args
        .guide_records
        .iter()
        .copied()
        .filter(|n| *n > 0)
        .collect();
    let needs_sink = peers.iter().any(|p| matches!(p, Peer::Ilp | Peer::Pg))
        || !variants.is_empty()
        || !guide_counts.is_empty();
    let sink = if needs_sink {
        Some(replay::sink_binary_or_build().map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let needs_connect = peers.iter().any(|p| p.in_connect())
        || variants.iter().any(|v| v.needs_questdb_connector());
    let plugins = if needs_connect {
        Some(runs::plugin_path(args.peer_plugin.as_deref())?)
    } else {
        None
    };
    let worker = match &plugins {
        Some(dir) => Some(runs::start_worker(
            &target.bootstrap,
            dir.path(),
            args.peer_plugin.is_some(),
        )?),
        None => None,
    };
    let runner = Runner {
        target: target.clone(),
        harness: std::env::current_exe()?,
        sink,
        worker,
        batch_size: args.batch_size,
        timeout: Duration::from_secs(600),
        logs: tempfile::Builder::new().prefix("kq-bench-").tempdir()?,
    };
    let mut all: Vec<Measurement> = Vec::new();
    let mut gave_up: Vec<Peer> = Vec::new();
    let mut failures = 0;
    println!("{}", report::THROUGHPUT_HEADER);
    // `--records 0`: no backlog (the guide's record or latency alone).
    let backlogs = args
        .shapes
        .iter()
        .flat_map(|s| args.partitions.iter().map(move |p| (*s, *p)));
    for (shape, p) in backlogs.filter(|_| args.records > 0) {
        let topic = format!("bench-{}-{shape:?}-{p}p", std::process::id()).to_lowercase();
        let rate = handle.block_on(bench::produce(target, &topic, p, args.records, shape))?;
        eprintln!(
            "backlog {topic}: {} {} records over {p} partition(s), produced at {rate:.0}/s",
            args.records,
            shape.label()
        );
        for &t in args.tasks.iter().filter(|t| **t as i32 <= p) {
            for &peer in &peers {
                if peer.in_connect() && gave_up.contains(&peer) {
                    continue;
                }
                match runner.drain(peer, &topic, p, args.records, t) {
                    Ok(m) => {
                        let m = runs::Measurement { shape, ..m };
                        all.push(m.clone());
                        println!("{}", report::throughput_row(&all, &m));
                    }
                    Err(e) => {
                        eprintln!("{} ({p} partitions, {t} tasks) failed: {e:#}", peer.label());
                        let first = e.to_string().lines().next().unwrap_or_default().to_owned();
                        if peer.in_connect() {
                            // A connector that cannot store these records is an outcome, not a
                            // failure of the bench (docs/debezium.md: the seed's float4).
                            gave_up.push(peer);
                            skipped.push(format!(
                                "{} (from {p} partition(s), {t} task(s) on): {first}",
                                peer.label()
                            ));
                        } else {
                            failures += 1;
                            skipped.push(format!(
                                "{} at {p} partition(s), {t} task(s): failed: {first}",
                                peer.label()
                            ));
                        }
                    }
                }
            }
        }
    }
    let mut guide_runs = Vec::new();
    for &n in &guide_counts {
        match guide::drain(&runner, target, n) {
            Ok(run) => guide_runs.push(run),
            Err(e) => {
                eprintln!("the guide's record, {n} records: {e:#}");
                failures += 1;
                skipped.push(format!("the guide's record, {n} records: failed"));
            }
        }
    }
    let guide_text = guide::summary(&guide_runs);
    if !guide_runs.is_empty() {
        println!("\n{guide_text}");
    }
    let mut latencies: Vec<Latency> = Vec::new();
    if !variants.is_empty() {
        let ours = all
            .iter()
            .filter(|m| m.peer == Peer::Ilp && m.tasks == 1)
            .map(Measurement::rows_per_sec)
            .next();
        let rate = args
            .latency_rate
            .or(ours.map(|r| r / 2.0))
            .unwrap_or(10_000.0);
        println!("\n{}", report::LATENCY_HEADER);
        for &v in &variants {
            match latency::measure(&runner, v, rate, args.latency_secs) {
                Ok(l) => {
                    println!("{}", report::latency_row(&l));
                    latencies.push(l);
                }
                Err(e) => {
                    eprintln!("{e:#}");
                    failures += 1;
                    skipped.push(format!(
                        "latency, {}: failed: {}",
                        v.label(),
                        e.to_string().lines().next().unwrap_or_default()
                    ));
                }
            }
        }
    }
    let ctx = Context {
        machine: machine(),
        records: args.records,
        batch_size: args.batch_size,
        load_start,
        load_end: runs::load_average(),
        date: utc_now(),
        command: format!("harness {command}"),
    };
    let goals = report::goals(&all, &latencies, decode.flat);
    println!(
        "\ngoals (not asserted):\n{}",
        report::goals_markdown(&goals)
    );
    let path = args
        .report
        .clone()
        .unwrap_or_else(|| harness::fixture::workspace_root().join("target/bench-report.md"));
    let chart = path.with_extension("svg");
    let chart_name = chart
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut markdown = report::markdown(&ctx, &all, &latencies, &goals, &skipped, &chart_name);
    if !guide_runs.is_empty() {
        markdown.push_str(&format!("\n## Memory\n\n{guide_text}"));
    }
    std::fs::write(&path, markdown)?;
    std::fs::write(&chart, report::svg(&ctx, &all, &latencies))?;
    println!(
        "{} and {} written (load average {:.2} at the start, {:.2} at the end)",
        path.display(),
        chart.display(),
        ctx.load_start,
        ctx.load_end
    );
    if !skipped.is_empty() {
        println!("not measured:\n- {}", skipped.join("\n- "));
    }
    anyhow::ensure!(failures == 0, "{failures} measurement(s) failed (above)");
    Ok(())
}

/// Each shape decoded in memory, printed; the seed's rates returned (its flat path is the goal's).
fn decode_rates(args: &Args) -> anyhow::Result<bench::DecodeRates> {
    let n = args
        .records
        .max(if args.quick { 10_000 } else { 1_000_000 });
    let mut seed = None;
    for shape in [Shape::Seed, Shape::Guide] {
        let r = bench::decode_rate(shape, n)?;
        println!(
            "decode, {} records (no I/O, one core, {n}): {:.0} records/s as the sink decodes them (no value tree); {:.0} with a value tree; {:.0} parsing every schema",
            shape.label(),
            r.flat,
            r.tree,
            r.uncached
        );
        if shape == Shape::Seed {
            seed = Some(r);
        }
    }
    seed.ok_or_else(|| anyhow::anyhow!("no seed rate"))
}

/// CPU model, cores and memory, from /proc.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse::<f64>().ok()
        })
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    format!("{cores} cores ({model}), {mem_gib:.0} GiB")
}

/// Now, UTC, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = sink::mapping::questdb_connector::timestamp::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
