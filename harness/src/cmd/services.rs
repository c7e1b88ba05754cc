//! `harness services`: start the services, print their endpoints, keep them until Ctrl-C or
//! SIGTERM, then stop them and remove their data.

use super::fail;
use harness::services::{BackendChoice, Services};
use std::process::ExitCode;
use tokio::signal::unix::{signal, Signal, SignalKind};

#[derive(clap::Args)]
pub struct Args {
    /// Where the services run: `process`, `docker`, or `auto`.
    #[arg(long, env = "KQ_BACKEND", default_value = "auto")]
    backend: BackendChoice,
}

pub fn run(args: Args) -> ExitCode {
    // The handlers go in before anything is printed or started: a Ctrl-C at any moment after
    // this (during the start too) stops the services cleanly instead of killing the process
    // with its services' data left behind. `signal()` installs its handler when called, unlike
    // `ctrl_c()`, which does so only when first polled.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stops = runtime.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        ))
    });
    let (mut interrupt, mut terminate) = match stops {
        Ok(s) => s,
        Err(e) => return fail(format!("installing the Ctrl-C and SIGTERM handlers: {e}")),
    };
    println!("Starting the services (Ctrl-C stops them and removes their data)...");
    let services = match Services::start_on(args.backend) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    print_endpoints(&services);
    println!("Ctrl-C stops them and removes their data.");
    // A signal that came during the start is still pending: it ends the wait at once.
    runtime.block_on(until_either(&mut interrupt, &mut terminate));
    drop(services);
    ExitCode::SUCCESS
}

async fn until_either(a: &mut Signal, b: &mut Signal) {
    tokio::select! {
        _ = a.recv() => {}
        _ = b.recv() => {}
    }
}

fn print_endpoints(services: &Services) {
    let e = services.endpoints();
    println!("Backend:                 {}", services.backend);
    println!("Versions:                {}", services.versions);
    println!("Kafka bootstrap servers: {}", e.kafka_bootstrap);
    match &e.zookeeper {
        Some(zk) => println!("ZooKeeper:               {zk}"),
        None => println!("ZooKeeper:               none (Kafka in KRaft mode)"),
    }
    println!(
        "QuestDB PG wire:         {}:{} (user admin, password quest, database qdb)",
        e.pg_host, e.pg_port
    );
    println!(
        "QuestDB HTTP console:    http://{}:{}",
        e.pg_host, e.http_port
    );
}
