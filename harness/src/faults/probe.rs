//! What the fault runner reads of the case's table while the case runs: its rows, its progress
//! (a WAL table's `sequencerTxn`), the distinct values of the case's key, and on an upsert
//! table the records its rows cover.

use sink::config::Connection;
use sink::write::pg::QuestDb;

/// Polls QuestDB for the table's progress on a connection it opens again after a restart.
pub struct Probe {
    pub connection: Connection,
    pub table: String,
    pub db: Option<QuestDb>,
    /// An upsert table's stream (one row per key), else `None`.
    pub upsert: Option<super::upsert::Stream>,
}

impl Probe {
    /// `None` while the table does not exist or QuestDB is down; a connection a restart broke
    /// is replaced and the query asked again.
    pub async fn number(&mut self, sql: &str) -> Option<i64> {
        for _ in 0..2 {
            if self.db.is_none() {
                self.db = QuestDb::connect(&self.connection).await.ok();
            }
            let db = self.db.as_ref()?;
            match db.client().query_opt(sql, &[]).await {
                Ok(Some(row)) => return row.try_get::<_, i64>(0).ok(),
                Ok(None) => return None,
                Err(e) if e.as_db_error().is_some() => return None, // no such table yet
                Err(_) => self.db = None,
            }
        }
        None
    }

    /// Rows in the table (0 while it does not exist or QuestDB is down).
    pub async fn rows(&mut self) -> u64 {
        let sql = format!(
            "SELECT count() FROM {}",
            sink::mapping::jdbc::ddl::quote(&self.table)
        );
        self.number(&sql).await.unwrap_or(0).max(0) as u64
    }

    /// What grows the moment the sink commits rows: a WAL table's `sequencerTxn` (its rows
    /// show only once applied), else the row count.
    pub async fn progress(&mut self) -> u64 {
        let literal = self.table.replace('\'', "''");
        let wal = self
            .number(&format!(
                "SELECT sequencerTxn FROM wal_tables() WHERE name = '{literal}'"
            ))
            .await;
        match wal {
            Some(txn) => txn.max(0) as u64,
            None => self.rows().await,
        }
    }

    /// Records the table holds: distinct values of `key`, or those an upsert table's rows cover.
    pub async fn stored(&mut self, key: &str) -> u64 {
        match self.upsert.clone() {
            Some(stream) => stream.covered(&self.pairs(key).await),
            None => self.distinct(key).await,
        }
    }

    /// An upsert table's rows: key and `id64` (none while it does not exist or QuestDB is down).
    pub async fn pairs(&mut self, key: &str) -> Vec<(i64, i64)> {
        let q = sink::mapping::jdbc::ddl::quote;
        let sql = format!(
            "SELECT cast({} AS LONG), {} FROM {}",
            q(key),
            q(super::upsert::VALUE),
            q(&self.table)
        );
        let Some(db) = self.db.as_ref() else {
            self.db = QuestDb::connect(&self.connection).await.ok();
            return Vec::new();
        };
        match db.client().query(&sql, &[]).await {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
                .collect(),
            Err(e) if e.as_db_error().is_some() => Vec::new(),
            Err(_) => {
                self.db = None;
                Vec::new()
            }
        }
    }

    /// Distinct values of `key`.
    pub async fn distinct(&mut self, key: &str) -> u64 {
        let sql = format!(
            "SELECT count_distinct({}) FROM {}",
            sink::mapping::jdbc::ddl::quote(key),
            sink::mapping::jdbc::ddl::quote(&self.table)
        );
        self.number(&sql).await.unwrap_or(0).max(0) as u64
    }
}
