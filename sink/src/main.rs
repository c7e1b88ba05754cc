//! `sink CONNECTOR.properties`: runs the sink like `connect-standalone` runs the JDBC sink.

use clap::Parser;
use sink::{RunOptions, SinkConfig, StopWhen};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Kafka -> QuestDB, as Kafka Connect's JDBC sink with the JSON converter would do it.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// The connector's .properties file (the seed's connect-jdbc.properties works as it is).
    properties: PathBuf,
    /// Kafka bootstrap servers (a Connect worker setting, so not in the connector file).
    #[arg(long, env = "KQ_BOOTSTRAP_SERVERS", default_value = "localhost:9092")]
    bootstrap_servers: String,
    /// Overrides the host of connection.url.
    #[arg(long, env = "KQ_PG_HOST")]
    pg_host: Option<String>,
    /// Overrides the port of connection.url.
    #[arg(long, env = "KQ_PG_PORT")]
    pg_port: Option<u16>,
    /// Overrides `topics` (comma-separated).
    #[arg(long, env = "KQ_TOPICS")]
    topics: Option<String>,
    /// Exit once every assigned partition is stored and committed to its end, instead of running until Ctrl-C.
    #[arg(long)]
    until_caught_up: bool,
    /// Write what the run did (DDL issued, coercions, committed offsets, the error) to this JSON file.
    #[arg(long)]
    summary: Option<PathBuf>,
    /// Serve metrics (Prometheus text format, /metrics) and health checks (/health/live,
    /// /health/ready) on this address, e.g. 127.0.0.1:9464; overrides `metrics.listen`. Empty
    /// is the same as not given (the container image sets 0.0.0.0:9464; `-e KQ_METRICS_LISTEN=`
    /// leaves it to the properties file).
    #[arg(long, env = "KQ_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Which task of the connector this process is (0, 1, ...): processes of one connector
    /// share its topics' partitions, each with its own task number. A restarted task takes its
    /// partitions back at once (static group membership).
    #[arg(long, env = "KQ_TASK", default_value_t = 0)]
    task: u32,
}

/// SIGTERM (an orchestrator's stop) or SIGINT (Ctrl-C): the sink stops after the batch in
/// progress (or abandons it after `shutdown.timeout.ms`), commits what it stored, leaves its
/// group and exits 0. A second signal exits at once; should the stop hang anyway (a broker
/// that does not answer the commit), a watchdog exits 1 after the bound, committing nothing
/// more (a restart replays the rest).
async fn stop_on_signal(
    stop: tokio::sync::watch::Sender<bool>,
    grace: Duration,
    signalled: std::sync::Arc<std::sync::OnceLock<(&'static str, Instant)>>,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot handle SIGTERM/SIGINT: they stop the sink without a clean stop");
        return;
    };
    let first = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    let _ = signalled.set((first, Instant::now()));
    let bound = grace + WATCHDOG_MARGIN;
    tracing::info!(
        "{first}: stopping after the batch in progress (abandoned after {grace:?}, shutdown.timeout.ms), then committing and leaving the group; a second signal exits at once"
    );
    let _ = stop.send(true);
    std::thread::spawn(move || {
        std::thread::sleep(bound);
        eprintln!("error: the sink did not stop within {bound:?} of {first}; exiting without a clean stop (what was not committed is read again on restart)");
        std::process::exit(1);
    });
    let second = tokio::select! {
        _ = term.recv() => 143,
        _ = int.recv() => 130,
    };
    std::process::exit(second);
}

/// Time past `shutdown.timeout.ms` for the last commit and leaving the group.
const WATCHDOG_MARGIN: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rdkafka=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let mut props = match std::fs::read_to_string(&cli.properties) {
        Ok(text) => sink::config::properties::parse(&text),
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", cli.properties.display());
            return ExitCode::from(2);
        }
    };
    if let Some(topics) = &cli.topics {
        props.insert("topics".into(), topics.clone());
    }
    let mut config = match SinkConfig::from_properties(&props) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("error: {}: {e}", cli.properties.display());
            if let Some(path) = &cli.summary {
                let _ = std::fs::write(path, sink::run::report::refused_json(&e).to_string());
            }
            return ExitCode::from(2);
        }
    };
    if let Some(host) = cli.pg_host {
        config.connection.host = host;
    }
    if let Some(port) = cli.pg_port {
        config.connection.port = port;
    }

    match cli.metrics_listen.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(addr) => match addr.parse() {
            Ok(addr) => config.operations.metrics_listen = Some(addr),
            Err(e) => {
                eprintln!("error: --metrics-listen / KQ_METRICS_LISTEN `{addr}`: {e}; give HOST:PORT, e.g. 127.0.0.1:9464, or leave it empty");
                return ExitCode::from(2);
            }
        },
    }

    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let stop_grace = config.operations.shutdown_timeout;
    let signalled = std::sync::Arc::new(std::sync::OnceLock::new());
    tokio::spawn(stop_on_signal(stop, stop_grace, signalled.clone()));
    let mut options = RunOptions::new(cli.bootstrap_servers);
    options.shutdown = Some(shutdown);
    options.task = cli.task;
    if cli.until_caught_up {
        options.stop_when = StopWhen::CaughtUp;
    }
    tracing::info!(
        "connector {} -> QuestDB {}:{}/{}, Kafka {}",
        config.name,
        config.connection.host,
        config.connection.port,
        config.connection.database,
        options.bootstrap_servers
    );
    let result = sink::run(&config, options).await;
    if let Some((signal, at)) = signalled.get() {
        tracing::info!("stopped {} ms after {signal}", at.elapsed().as_millis());
    }
    if let Some(path) = &cli.summary {
        let (summary, error) = match &result {
            Ok(summary) => (summary, None),
            Err(failed) => (&failed.summary, Some(&failed.error)),
        };
        if let Err(e) = std::fs::write(
            path,
            sink::run::report::summary_json(summary, error).to_string(),
        ) {
            eprintln!("warning: cannot write {}: {e}", path.display());
        }
    }
    match result {
        Ok(summary) => {
            tracing::info!(
                "stopped: {} records, {} rows stored, {} reported, committed {:?}",
                summary.records,
                summary.rows,
                summary.reported,
                summary.committed
            );
            ExitCode::SUCCESS
        }
        // Another process took this one's place in the group: nothing failed.
        Err(failed) if matches!(failed.error, sink::error::SinkError::Fenced { .. }) => {
            tracing::warn!("{}", failed.error);
            tracing::info!(
                "stopped: {} rows stored, committed {:?}",
                failed.summary.rows,
                failed.summary.committed
            );
            ExitCode::SUCCESS
        }
        Err(failed) => {
            eprintln!("error: {}", failed.error);
            let next = match failed.error {
                sink::error::SinkError::Record(_) => "Fix or remove the record, then restart",
                _ => "Fix the cause, then restart",
            };
            eprintln!(
                "stored {} rows before stopping; committed offsets {:?}. {next}: the sink resumes from the last committed offset.",
                failed.summary.rows, failed.summary.committed
            );
            ExitCode::FAILURE
        }
    }
}
