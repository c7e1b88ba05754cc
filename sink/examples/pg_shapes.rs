//! Times the statement shapes QuestDB takes over PG wire for one run of rows in one
//! transaction (docs/bench/profile.md, "PG wire"): `cargo run --release -p sink --example
//! pg_shapes -- HOST:PORT [ROWS] [BATCH]` against a QuestDB (`harness services` starts one).
//! Each shape inserts ROWS rows of the bench's seed shape in transactions of BATCH rows into a
//! WAL table of its own; the time is until the last COMMIT is answered.

use sink::mapping::jdbc::SqlParam;
use std::time::Instant;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Statement};

const COLUMNS: &str = "id8 SHORT, id16 SHORT, id32 INT, id64 LONG, f32 FLOAT, f64 DOUBLE, \
                       flag BOOLEAN, msg VARCHAR, ts TIMESTAMP";
const NAMES: &str = "id8,id16,id32,id64,f32,f64,flag,msg,ts";
const WIDTH: usize = 9;

fn row(i: i64) -> Vec<SqlParam> {
    vec![
        SqlParam::I16((i % 100) as i16),
        SqlParam::I16((i % 30000) as i16),
        SqlParam::I32(i as i32),
        SqlParam::I64(i * 1_000_003),
        SqlParam::F32(i as f32 / 3.0),
        SqlParam::F64(i as f64 / 7.0),
        SqlParam::Bool(i % 2 == 0),
        SqlParam::Text(format!("message number {i}")),
        SqlParam::TimestampMicros(1_700_000_000_000_000 + i * 1000),
    ]
}

fn placeholders(rows: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (1..=WIDTH).map(|c| format!("${}", r * WIDTH + c)).collect();
            format!("({})", cols.join(","))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn refs(rows: &[Vec<SqlParam>]) -> Vec<&(dyn ToSql + Sync)> {
    rows.iter()
        .flatten()
        .map(|p| p as &(dyn ToSql + Sync))
        .collect()
}

/// Today's shape: BEGIN, prepare, one execute a row pipelined in chunks of 512, COMMIT.
async fn per_row(c: &Client, table: &str, rows: &[Vec<SqlParam>], cached: Option<&Statement>) {
    c.batch_execute("BEGIN").await.unwrap();
    let sql = format!("INSERT INTO {table} ({NAMES}) VALUES {}", placeholders(1));
    let prepared;
    let st = match cached {
        Some(s) => s,
        None => {
            prepared = c.prepare(&sql).await.unwrap();
            &prepared
        }
    };
    for chunk in rows.chunks(512) {
        let ex = chunk.iter().map(|r| async move {
            let p: Vec<&(dyn ToSql + Sync)> = r.iter().map(|p| p as _).collect();
            c.execute(st, &p).await
        });
        futures_util::future::try_join_all(ex).await.unwrap();
    }
    c.batch_execute("COMMIT").await.unwrap();
}

/// Multi-row VALUES of `per` rows a statement, prepared once, pipelined, in BEGIN/COMMIT
/// unless the run is one statement.
async fn multi_row(c: &Client, rows: &[Vec<SqlParam>], st: &Statement, per: usize, tx: bool) {
    if tx {
        c.batch_execute("BEGIN").await.unwrap();
    }
    let chunks: Vec<&[Vec<SqlParam>]> = rows.chunks(per).collect();
    let ex = chunks.iter().map(|chunk| async move {
        assert_eq!(chunk.len(), per, "rows a multiple of per");
        c.execute(st, &refs(chunk)).await
    });
    futures_util::future::try_join_all(ex).await.unwrap();
    if tx {
        c.batch_execute("COMMIT").await.unwrap();
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let addr = args.get(1).expect("HOST:PORT of QuestDB's PG wire");
    let total: i64 = args.get(2).map_or(60_000, |s| s.parse().unwrap());
    let batch: usize = args.get(3).map_or(3000, |s| s.parse().unwrap());
    let (host, port) = addr.split_once(':').unwrap();
    let (c, conn) = tokio_postgres::Config::new()
        .host(host)
        .port(port.parse().unwrap())
        .user("admin")
        .password("quest")
        .dbname("qdb")
        .connect(NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let all: Vec<Vec<SqlParam>> = (0..total).map(row).collect();
    let stamp = std::process::id();
    let mut shapes: Vec<String> = vec!["per-row (today)".into(), "per-row, cached".into()];
    for per in [10, 25, 50, 100, 250, 1000] {
        shapes.push(format!("multi-row {per}, tx"));
    }
    shapes.push("multi-row batch, one statement".into());
    for shape in shapes.iter().map(String::as_str) {
        let table = format!(
            "shape_{stamp}_{}",
            shape.replace(|ch: char| !ch.is_alphanumeric(), "_")
        );
        c.batch_execute(&format!(
            "CREATE TABLE {table} ({COLUMNS}) TIMESTAMP(ts) PARTITION BY DAY WAL"
        ))
        .await
        .unwrap();
        let per = match shape
            .strip_prefix("multi-row ")
            .and_then(|r| r.split_once(','))
        {
            Some((n, _)) if n != "batch" => n.parse().unwrap(),
            _ => batch,
        };
        let multi = format!("INSERT INTO {table} ({NAMES}) VALUES {}", placeholders(per));
        let single = format!("INSERT INTO {table} ({NAMES}) VALUES {}", placeholders(1));
        let started = Instant::now();
        let st_multi = if shape.starts_with("multi") {
            Some(c.prepare(&multi).await.unwrap())
        } else {
            None
        };
        let st_single = if shape == "per-row, cached" {
            Some(c.prepare(&single).await.unwrap())
        } else {
            None
        };
        for run in all.chunks(batch) {
            match shape {
                "per-row (today)" => per_row(&c, &table, run, None).await,
                "per-row, cached" => per_row(&c, &table, run, st_single.as_ref()).await,
                "multi-row batch, one statement" => {
                    multi_row(&c, run, st_multi.as_ref().unwrap(), per, false).await
                }
                _ => multi_row(&c, run, st_multi.as_ref().unwrap(), per, true).await,
            }
        }
        let secs = started.elapsed().as_secs_f64();
        // Every row stored: counted once WAL has applied them.
        let count_sql = format!("SELECT count() FROM {table}");
        let mut stored = 0;
        for _ in 0..300 {
            stored = c.query_one(&count_sql, &[]).await.unwrap().get::<_, i64>(0);
            if stored == total {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(stored, total, "{shape}: rows visible");
        println!(
            "{shape:32} {total} rows in {secs:.2} s: {:.0} rows/s",
            total as f64 / secs
        );
    }
}
