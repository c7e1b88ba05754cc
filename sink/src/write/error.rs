//! What went wrong talking to QuestDB, and whose fault it is: a service that is away (retried),
//! credentials refused (the sink stops), or a statement QuestDB refused.

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
        /// The connection broke (not the statement): retrying on a new connection can help.
        transient: bool,
    },
}

impl DbError {
    pub fn statement(sql: &str, e: tokio_postgres::Error) -> DbError {
        let message = describe(&e);
        let transient = e.is_closed()
            || e.source()
                .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some())
            || is_busy(&message);
        DbError::Statement {
            sql: sql.to_string(),
            message,
            transient,
        }
    }

    /// QuestDB did not answer at all (refused, unreachable, timed out), as while it starts;
    /// not a server that answered with an error (a wrong password), which waiting won't fix.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DbError::Connect { source, .. } if source.as_db_error().is_none())
    }

    /// Whether retrying could help: lost connections, not rejected statements.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Connect { .. } => true,
            DbError::Refused { .. } => false,
            DbError::Statement { transient, .. } => *transient,
        }
    }

    /// Credentials refused: the sink stops, whatever `errors.tolerance` says.
    pub fn is_refused(&self) -> bool {
        matches!(self, DbError::Refused { .. })
    }
}

/// QuestDB's "table busy": another writer (a second task of the connector) holds a non-WAL
/// table's single writer. Not the record's fault; retried like a lost connection, as the JDBC
/// sink retries every SQLException.
pub fn is_busy(message: &str) -> bool {
    message.starts_with("table busy")
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_busy_table_is_retried_not_a_bad_record() {
        assert!(super::is_busy(
            "table busy [reason=insert] (at Original(1))"
        ));
        assert!(!super::is_busy("invalid column: busy"));
    }
}
