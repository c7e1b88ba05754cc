//! The harness's PostgreSQL (the CDC cases' source): it starts with logical decoding on a free
//! loopback port, runs SQL, and nothing of it (the postmaster, its children, the data dir)
//! outlives it.

use std::path::Path;
use std::time::Duration;

use harness::services::Postgres;
use harness::wait::wait_until;

/// The live children of `parent` (zombies count as gone). PostgreSQL's backends and workers
/// are group leaders of their own (each calls setsid), so the guardian's signal to the
/// postmaster's group reaches the postmaster, which stops them.
fn children(parent: u32) -> Vec<u32> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the command in parentheses: state, ppid, pgrp.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let zombie = matches!(fields.first(), Some(&"Z") | Some(&"X"));
        if !zombie && fields.get(1) == Some(&parent.to_string().as_str()) {
            members.push(pid);
        }
    }
    members
}

fn uid_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_starts_runs_sql_with_logical_decoding_and_stops() {
    let pg = tokio::task::spawn_blocking(Postgres::start)
        .await
        .expect("start task")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(pg.version.starts_with("16."), "version {}", pg.version);
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(pg.account, Some("nobody"));
        assert_ne!(uid_of(pg.pid()), Some(0), "postgres must not run as root");
    }

    let client = pg
        .connect("postgres")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    client
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, v text); \
             INSERT INTO t VALUES (2, 'b'), (1, 'a'); \
             UPDATE t SET v = 'B' WHERE id = 2",
        )
        .await
        .expect("SQL");
    let rows = client
        .query("SELECT id, v FROM t ORDER BY id", &[])
        .await
        .expect("SELECT");
    let read: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(read, [(1, "a".to_owned()), (2, "B".to_owned())]);
    let wal_level: String = client
        .query_one("SHOW wal_level", &[])
        .await
        .expect("SHOW")
        .get(0);
    assert_eq!(wal_level, "logical");
    // Logical decoding works: a pgoutput slot (what Debezium makes) is created and dropped.
    client
        .batch_execute(
            "SELECT pg_create_logical_replication_slot('kq_probe', 'pgoutput'); \
             SELECT pg_drop_replication_slot('kq_probe')",
        )
        .await
        .expect("a logical replication slot");

    let (pid, dir) = (pg.pid(), pg.data_dir().to_owned());
    assert!(dir.join("data/PG_VERSION").is_file());
    let mut processes = children(pid);
    assert!(!processes.is_empty(), "the postmaster's workers");
    processes.push(pid);
    drop(client);
    drop(pg);
    let alive = |p: &u32| {
        std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|stat| {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next());
            !matches!(state, Some('Z') | Some('X') | None)
        })
    };
    let gone = |dir: &Path| {
        let left: Vec<&u32> = processes.iter().filter(|p| alive(p)).collect();
        if left.is_empty() && !dir.exists() {
            Ok(())
        } else {
            Err(format!(
                "still alive: {left:?}; dir there: {}",
                dir.exists()
            ))
        }
    };
    wait_until("PostgreSQL gone", Duration::from_secs(15), || gone(&dir))
        .unwrap_or_else(|e| panic!("{e}"));
}
