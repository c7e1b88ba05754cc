//! What went wrong talking to QuestDB, and whose fault it is ([`Fault`], decided by the
//! tables in `fault.rs`): a service that is away (retried), credentials or settings refused
//! (the sink stops), or a record QuestDB refused.

use crate::write::fault::{self, Fault, PgFailure};
use std::error::Error as StdError;

/// A database problem, naming the endpoint and the statement that failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot connect to QuestDB at {host}:{port} (database {database}, user {user}): {cause}. Is QuestDB running and is its PostgreSQL wire port (pg.net.bind.to, default 8812) reachable?", cause = describe(.source))]
    Connect {
        host: String,
        port: u16,
        database: String,
        user: String,
        source: tokio_postgres::Error,
    },
    /// QuestDB answered and refused the sink's credentials (the PG wire login, ILP's HTTP
    /// basic auth): neither waiting nor retrying helps, and no record is to blame.
    #[error("QuestDB at {endpoint} refused the sink's {what}: {message}. Fix: {fix}")]
    Refused {
        endpoint: String,
        what: String,
        message: String,
        fix: String,
    },
    #[error("`{sql}` failed: {message}")]
    Statement {
        sql: String,
        message: String,
        /// Whose fault it is: only a record's may be skipped; the service's is retried.
        fault: Fault,
    },
}

impl DbError {
    pub fn statement(sql: &str, e: tokio_postgres::Error) -> DbError {
        let message = describe(&e);
        let io = e
            .source()
            .and_then(|source| source.downcast_ref::<std::io::Error>())
            .map(|io| io.kind());
        let failure = PgFailure {
            sqlstate: e.as_db_error().map(|db| db.code().code()),
            message: &message,
            io,
            closed: e.is_closed(),
            timed_out: false,
        };
        DbError::Statement {
            sql: sql.to_string(),
            fault: fault::pg(&failure),
            message,
        }
    }

    /// A statement that got no answer within the sink's statement timeout: the connection is
    /// black-holed or QuestDB hangs; a new connection is tried.
    pub fn timed_out(sql: &str, after: std::time::Duration) -> DbError {
        DbError::Statement {
            sql: sql.to_string(),
            message: format!("no answer from QuestDB within {after:?}"),
            fault: Fault::Service,
        }
    }

    /// QuestDB did not answer at all (refused, unreachable, timed out), as while it starts;
    /// not a server that answered with an error (a wrong password), which waiting won't fix.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DbError::Connect { source, .. } if source.as_db_error().is_none())
    }

    /// Whose fault the failure is.
    pub fn fault(&self) -> Fault {
        match self {
            DbError::Connect { .. } => Fault::Service,
            DbError::Refused { .. } => Fault::Config,
            DbError::Statement { fault, .. } => *fault,
        }
    }

    /// Whether retrying could help: the service's failures, not rejected statements.
    pub fn is_transient(&self) -> bool {
        self.fault() == Fault::Service
    }

    /// Credentials or settings refused: the sink stops, whatever `errors.tolerance` says.
    pub fn is_refused(&self) -> bool {
        self.fault() == Fault::Config
    }

    /// The table was dropped under the sink (its cache is stale).
    pub fn is_table_gone(&self) -> bool {
        matches!(self, DbError::Statement { message, fault: Fault::Service, .. } if fault::is_table_gone(message))
    }
}

/// The server's own message when there is one (tokio-postgres' Display is just "db error").
pub fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut s = db.message().to_string();
            if let Some(pos) = db.position() {
                s.push_str(&format!(" (at {pos:?})"));
            }
            s
        }
        None => match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}
