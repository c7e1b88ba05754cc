//! Rows into QuestDB in runs of one table and one column list, one transaction a run, with
//! the tables made ready first; the service's failures (`fault.rs`) retried `max.retries`
//! times, here and nowhere else. What became of each record goes to the caller's [`Outcomes`].

use crate::config::{Mapping, SinkConfig, Tolerance};
use crate::error::{Problem, SinkError};
use crate::mapping::jdbc::{Column, SqlParam};
use crate::mapping::prepare::{at, Row};
use crate::metrics;
use crate::run::startup;
use crate::write::error::DbError;
use crate::write::fault::Fault;
use crate::write::pg::QuestDb;
use crate::write::tables::Tables;
use crate::write::Writer;
use rdkafka::message::OwnedMessage;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

/// Where the store reports each record it handled, in order.
pub(crate) trait Outcomes {
    /// These records' rows are stored (`indexes` into the batch).
    fn stored(&mut self, batch: &[OwnedMessage], indexes: &[usize]);
    /// A DDL statement was issued.
    fn issued(&mut self, sql: &str);
    /// QuestDB refused this record, or its table cannot take it: a bad record. An error
    /// stops the sink (`errors.tolerance=none`).
    async fn rejected(&mut self, message: &OwnedMessage, problem: Problem)
        -> Result<(), SinkError>;
}

pub(crate) struct Store<'a> {
    config: &'a SinkConfig,
    /// `None` in QuestDB-connector mode without `connection.url`: ILP only.
    db: Option<QuestDb>,
    writer: Writer,
    tables: Tables,
    /// The shutdown signal: it cuts retry pauses short.
    stop: Option<watch::Receiver<bool>>,
    /// The signal came during a retry pause: the sink gives up on QuestDB and stops cleanly.
    stopping: bool,
}

impl<'a> Store<'a> {
    pub fn new(
        config: &'a SinkConfig,
        db: Option<QuestDb>,
        writer: Writer,
        stop: Option<watch::Receiver<bool>>,
    ) -> Store<'a> {
        Store {
            config,
            db,
            writer,
            tables: Tables::default(),
            stop,
            stopping: false,
        }
    }

    /// Writes rows in runs of the same table and columns, one transaction a run.
    pub async fn write(
        &mut self,
        batch: &[OwnedMessage],
        rows: Vec<Row>,
        outcomes: &mut impl Outcomes,
    ) -> Result<(), SinkError> {
        let mut rows = rows.into_iter().peekable();
        while let Some(first) = rows.next() {
            let mut run = vec![first];
            while let Some(next) = rows.peek() {
                if next.table == run[0].table && Arc::ptr_eq(&next.columns, &run[0].columns) {
                    run.push(rows.next().expect("peeked"));
                } else {
                    break;
                }
            }
            self.write_run(batch, run, outcomes).await?;
        }
        Ok(())
    }

    /// Stores one run, retrying the service's failures: the one place that decides retries.
    /// Each attempt goes on with the rows not yet stored; a service failure that outlasts
    /// `max.retries` x `retry.backoff.ms` stops the sink with none of them marked done.
    async fn write_run(
        &mut self,
        batch: &[OwnedMessage],
        mut run: Vec<Row>,
        outcomes: &mut impl Outcomes,
    ) -> Result<(), SinkError> {
        let (table, columns) = (run[0].table.clone(), run[0].columns.clone());
        let (mut attempt, mut connect_failed) = (0, None);
        loop {
            let e = match self
                .attempt(batch, &mut run, &table, &columns, outcomes)
                .await?
            {
                None => return Ok(()),
                Some(e) => e,
            };
            let first = &batch[run[0].index];
            if e.is_table_gone() {
                // An operator dropped it: forget what the cache says, so the next attempt
                // creates it again (auto.create) or rejects the run (table missing).
                self.tables.forget(&table);
            }
            if attempt == self.config.max_retries {
                // Out of retries: the last reconnect's error, if it failed, names the cause.
                return Err(self.unavailable(&table, first, connect_failed.unwrap_or(e)));
            }
            attempt += 1;
            connect_failed = self.pause_and_reconnect(&e, attempt).await;
            if self.stopping {
                return Err(self.unavailable(&table, first, e));
            }
        }
    }

    /// One attempt at `run`: the table made ready, the run in one transaction, and if QuestDB
    /// refuses it, row by row to find the record it refuses. Rows stored or rejected leave
    /// `run`; a service failure is returned (`Some`) with the rest still in `run`.
    async fn attempt(
        &mut self,
        batch: &[OwnedMessage],
        run: &mut Vec<Row>,
        table: &str,
        columns: &Arc<Vec<Column>>,
        outcomes: &mut impl Outcomes,
    ) -> Result<Option<DbError>, SinkError> {
        // QuestDB's connector leaves tables to ILP, which creates and extends them.
        if !matches!(self.config.mapping, Mapping::QuestDbConnector(_)) {
            let ensured = self
                .tables
                .ensure(
                    self.db
                        .as_ref()
                        .expect("the JDBC sink's mapping speaks PG wire"),
                    self.config,
                    table,
                    columns,
                    &mut |sql| outcomes.issued(sql),
                )
                .await;
            match ensured {
                Ok(()) => {}
                Err(Problem::Write(e)) if e.is_transient() => return Ok(Some(e)),
                Err(Problem::Write(e)) if e.is_refused() => return Err(e.into()),
                // The table, not a record, is at fault: stop before storing into it.
                Err(Problem::DedupKeys(e)) => return Err(SinkError::DedupKeys(e)),
                Err(problem) => {
                    // The table cannot take these records: each of them fails the same way.
                    let reason = problem.to_string();
                    let mut rows = std::mem::take(run).into_iter();
                    let first = rows.next().expect("a run has a row");
                    outcomes.rejected(&batch[first.index], problem).await?;
                    for row in rows {
                        let problem = Problem::TableRefused {
                            table: table.to_string(),
                            reason: reason.clone(),
                        };
                        outcomes.rejected(&batch[row.index], problem).await?;
                    }
                    return Ok(None);
                }
            }
        }
        let params: Vec<Vec<SqlParam>> = run.iter().map(|r| r.params.clone()).collect();
        let e = match self.insert(table, columns, &params).await {
            Ok(()) => {
                let indexes: Vec<usize> = std::mem::take(run).iter().map(|r| r.index).collect();
                outcomes.stored(batch, &indexes);
                return Ok(None);
            }
            Err(e) => e,
        };
        match e.fault() {
            Fault::Service => return Ok(Some(e)),
            // Credentials refused: no record is to blame, so none is skipped or committed.
            Fault::Config => return Err(e.into()),
            Fault::Record if run.len() == 1 => {
                let row = run.remove(0);
                outcomes
                    .rejected(&batch[row.index], Problem::Write(e))
                    .await?;
                return Ok(None);
            }
            Fault::Record => {}
        }
        // Find the record QuestDB refuses: one row a transaction, in order. Nothing is
        // reported until the split is over: a run whose rows all fail the same way was not
        // refused for its records.
        let mut results = Vec::with_capacity(run.len());
        for row in &params {
            match self.insert(table, columns, std::slice::from_ref(row)).await {
                Ok(()) => results.push(Ok(())),
                Err(e) if e.fault() == Fault::Record => {
                    results.push(Err(e));
                    // errors.tolerance=none stops at this record: nothing after it is written
                    // (it would be stored without its offset being committed).
                    if self.config.errors.tolerance == Tolerance::None {
                        break;
                    }
                }
                Err(e) => {
                    // The service failed mid-split: what it took is stored, the rest waits.
                    let stored: Vec<usize> = run
                        .iter()
                        .zip(&results)
                        .filter(|(_, r)| r.is_ok())
                        .map(|(row, _)| row.index)
                        .collect();
                    outcomes.stored(batch, &stored);
                    let mut results = results.iter();
                    run.retain(|_| results.next().is_none_or(|r| r.is_err()));
                    return match e.fault() {
                        Fault::Config => Err(e.into()),
                        _ => Ok(Some(e)),
                    };
                }
            }
        }
        for (row, result) in std::mem::take(run).into_iter().zip(results) {
            match result {
                Ok(()) => outcomes.stored(batch, &[row.index]),
                Err(e) => {
                    outcomes
                        .rejected(&batch[row.index], Problem::Write(e))
                        .await?
                }
            }
        }
        Ok(None)
    }

    /// The sink gives up on QuestDB from `message` on (nothing from there is marked done).
    fn unavailable(&self, table: &str, message: &OwnedMessage, last: DbError) -> SinkError {
        if self.stopping {
            return SinkError::Interrupted { at: at(message) };
        }
        SinkError::Unavailable {
            host: self.config.connection.host.clone(),
            port: self.config.connection.port,
            retries: self.config.max_retries,
            backoff_ms: self.config.retry_backoff.as_millis(),
            table: table.to_string(),
            at: at(message),
            last,
        }
    }

    /// `retry.backoff.ms`, then a new connection. A failed connect is the error to report if
    /// the retries run out: it says more than the dead connection's "connection closed".
    /// A shutdown signal ends the pause and sets `stopping` instead.
    async fn pause_and_reconnect(&mut self, e: &DbError, attempt: u32) -> Option<DbError> {
        metrics::error("questdb_unavailable");
        if self.stop.as_ref().is_some_and(|s| *s.borrow()) {
            self.stopping = true;
            return None;
        }
        tracing::warn!(
            "{e}; retry {attempt} of {} in {:?}",
            self.config.max_retries,
            self.config.retry_backoff
        );
        metrics::retry("questdb_write");
        if startup::sleep_or_stop(self.config.retry_backoff, &mut self.stop).await {
            self.stopping = true;
            return None;
        }
        // ILP only: its client reconnects on its own.
        self.db.as_ref()?;
        match QuestDb::connect(&self.config.connection).await {
            Ok(db) => {
                self.db = Some(db);
                None
            }
            Err(e) => Some(e),
        }
    }

    /// One write of `rows` in one transaction, timed for the metrics.
    async fn insert(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        let started = Instant::now();
        let written = self
            .writer
            .write(self.db.as_mut(), table, columns, rows)
            .await;
        metrics::write_attempt(started.elapsed());
        written
    }
}
