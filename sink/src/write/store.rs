//! Rows into QuestDB in runs of one table and one column list, one transaction a run, with
//! the tables made ready first; lost connections retried `max.retries` times. What became of
//! each record goes to the caller's [`Outcomes`].

use crate::config::{Mapping, SinkConfig};
use crate::error::{Problem, SinkError};
use crate::mapping::jdbc::{Column, SqlParam};
use crate::mapping::prepare::{at, Row};
use crate::metrics;
use crate::run::startup;
use crate::write::error::DbError;
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

    async fn write_run(
        &mut self,
        batch: &[OwnedMessage],
        run: Vec<Row>,
        outcomes: &mut impl Outcomes,
    ) -> Result<(), SinkError> {
        let (table, columns) = (run[0].table.clone(), run[0].columns.clone());
        let first = &batch[run[0].index];
        // A lost connection is not the records' fault: retried, then the sink gives up; never
        // a bad record (which errors.tolerance=all would skip and commit).
        let (mut attempt, mut connect_failed) = (0, None);
        let ensured = loop {
            // QuestDB's connector leaves tables to ILP, which creates and extends them.
            if matches!(self.config.mapping, Mapping::QuestDbConnector(_)) {
                break Ok(());
            }
            let ensured = self
                .tables
                .ensure(
                    self.db
                        .as_ref()
                        .expect("the JDBC sink's mapping speaks PG wire"),
                    self.config,
                    &table,
                    &columns,
                    &mut |sql| outcomes.issued(sql),
                )
                .await;
            match ensured {
                Err(Problem::Write(e)) if e.is_transient() => {
                    if attempt == self.config.max_retries {
                        return Err(self.unavailable(&table, first, connect_failed.unwrap_or(e)));
                    }
                    attempt += 1;
                    connect_failed = self.pause_and_reconnect(&e, attempt).await;
                    if self.stopping {
                        return Err(self.unavailable(&table, first, e));
                    }
                }
                other => break other,
            }
        };
        if let Err(Problem::Write(e)) = &ensured {
            if e.is_refused() {
                let Err(Problem::Write(e)) = ensured else {
                    unreachable!()
                };
                return Err(e.into());
            }
        }
        if let Err(problem) = ensured {
            // The table cannot take these records: each of them fails the same way.
            let reason = problem.to_string();
            outcomes.rejected(&batch[run[0].index], problem).await?;
            for row in &run[1..] {
                let problem = Problem::TableRefused {
                    table: table.clone(),
                    reason: reason.clone(),
                };
                outcomes.rejected(&batch[row.index], problem).await?;
            }
            return Ok(());
        }
        let (indexes, params): (Vec<usize>, Vec<Vec<SqlParam>>) =
            run.into_iter().map(|r| (r.index, r.params)).unzip();
        match self.insert_with_retries(&table, &columns, &params).await {
            Ok(()) => {
                outcomes.stored(batch, &indexes);
                Ok(())
            }
            // Retried already: QuestDB is away, not refusing a record. Splitting the run would
            // retry every row again (rows x max.retries pauses) before giving up.
            Err(e) if e.is_transient() => Err(self.unavailable(&table, first, e)),
            // Credentials refused: no record is to blame, so none is skipped or committed.
            Err(e) if e.is_refused() => Err(e.into()),
            Err(e) if indexes.len() == 1 => {
                outcomes
                    .rejected(&batch[indexes[0]], Problem::Write(e))
                    .await
            }
            Err(_) => {
                // Find the record QuestDB refuses: one row a transaction, in order.
                for (index, row) in indexes.into_iter().zip(&params) {
                    match self
                        .insert_with_retries(&table, &columns, std::slice::from_ref(row))
                        .await
                    {
                        Ok(()) => {
                            outcomes.stored(batch, &[index]);
                        }
                        Err(e) if e.is_transient() => {
                            return Err(self.unavailable(&table, &batch[index], e))
                        }
                        Err(e) => outcomes.rejected(&batch[index], Problem::Write(e)).await?,
                    }
                }
                Ok(())
            }
        }
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

    /// Retries lost connections `max.retries` times, `retry.backoff.ms` apart; a statement
    /// QuestDB rejects is not retried, since it would be rejected again.
    async fn insert_with_retries(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        let mut attempt = 0;
        let mut connect_failed = None;
        loop {
            let started = Instant::now();
            let written = self
                .writer
                .write(self.db.as_mut(), table, columns, rows)
                .await;
            metrics::write_attempt(started.elapsed());
            match written {
                Ok(()) => return Ok(()),
                Err(e) if e.is_transient() && attempt < self.config.max_retries => {
                    attempt += 1;
                    connect_failed = self.pause_and_reconnect(&e, attempt).await;
                    if self.stopping {
                        return Err(e);
                    }
                }
                // Out of retries: the last reconnect's error, if it failed, names the cause.
                Err(e) if e.is_transient() => return Err(connect_failed.unwrap_or(e)),
                Err(e) => return Err(e),
            }
        }
    }
}
