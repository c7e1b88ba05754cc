//! Whose fault a failed write is, one table per write path (PG wire, ILP over HTTP). Pure: the
//! tables read what an error says (SQLSTATE, the server's message, the I/O kind, questdb-rs'
//! `ErrorCode`) and never talk to QuestDB.
//!
//! Only a [`Fault::Record`] may be skipped or dead-lettered (`errors.tolerance=all`); a
//! [`Fault::Service`] is retried `max.retries` times and then stops the sink with nothing
//! committed past the stored rows; a [`Fault::Config`] stops the sink at once. Where the
//! tables cannot tell, the store still refuses to blame a record unless QuestDB took other
//! rows of the same run (`store.rs`).

use questdb::ErrorCode;
use std::io::ErrorKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// QuestDB refused this record (a value it cannot store, a line it cannot parse).
    Record,
    /// QuestDB is away, busy, out of disk, read-only, or a proxy in front of it failed:
    /// waiting can help, no record is to blame.
    Service,
    /// Credentials, TLS or a setting the user must fix: neither waiting nor skipping helps.
    Config,
}

/// What a PG-wire failure says about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgFailure<'a> {
    /// The server's SQLSTATE, when it answered with an error (QuestDB mostly sends `00000`).
    pub sqlstate: Option<&'a str>,
    /// The server's message, or the client's.
    pub message: &'a str,
    /// The I/O error under it, if any (the connection broke).
    pub io: Option<ErrorKind>,
    /// tokio-postgres says the connection is closed.
    pub closed: bool,
    /// The statement ran past the sink's statement timeout (a black-holed connection).
    pub timed_out: bool,
}

/// SQLSTATE classes (the first two characters) and whose fault each is. QuestDB answers
/// most errors with `00000`, so its messages ([`PG_MESSAGES`]) decide more often.
const PG_SQLSTATE_CLASSES: &[(&str, Fault)] = &[
    ("08", Fault::Service), // connection exception
    ("40", Fault::Service), // transaction rollback (serialization, deadlock)
    ("53", Fault::Service), // insufficient resources (disk full, out of memory)
    ("57", Fault::Service), // operator intervention (admin shutdown, cannot connect now)
    ("58", Fault::Service), // system error (I/O)
    ("XX", Fault::Service), // internal error
    ("25", Fault::Service), // invalid transaction state (read-only transaction)
    ("28", Fault::Config),  // invalid authorization
    ("22", Fault::Record),  // data exception
    ("23", Fault::Record),  // integrity constraint violation
];

/// Whole SQLSTATEs that differ from their class.
const PG_SQLSTATES: &[(&str, Fault)] = &[
    ("42501", Fault::Config),  // insufficient privilege
    ("42P01", Fault::Service), // undefined table: dropped under the sink, recreated
];

/// Lower-cased fragments of QuestDB's messages that are about the server, not the row.
const PG_MESSAGES: &[(&str, Fault)] = &[
    ("table does not exist", Fault::Service), // dropped by an operator: recreated (is_table_gone)
    ("table busy", Fault::Service),           // another writer holds a non-WAL table
    ("could not open read-write", Fault::Service),
    ("no space left", Fault::Service),
    ("errno=28", Fault::Service), // ENOSPC
    ("disk full", Fault::Service),
    ("read-only", Fault::Service),
    ("read only", Fault::Service),
    ("table is suspended", Fault::Service),
    ("out of memory", Fault::Service),
    ("server is shutting down", Fault::Service),
    ("permission denied", Fault::Config),
    ("access denied", Fault::Config),
];

/// I/O kinds under a PG error: every one of them is the connection's, never the row's.
const PG_IO_KINDS: &[(ErrorKind, Fault)] = &[
    (ErrorKind::ConnectionRefused, Fault::Service),
    (ErrorKind::ConnectionReset, Fault::Service),
    (ErrorKind::ConnectionAborted, Fault::Service),
    (ErrorKind::BrokenPipe, Fault::Service),
    (ErrorKind::TimedOut, Fault::Service),
    (ErrorKind::UnexpectedEof, Fault::Service),
    (ErrorKind::NotConnected, Fault::Service),
];

/// Whose fault a PG-wire failure is. A server error no table names is the row's (QuestDB
/// refused the statement for what it carried), as the JDBC sink sees it.
pub fn pg(f: &PgFailure<'_>) -> Fault {
    if f.timed_out || f.closed {
        return Fault::Service;
    }
    if let Some(kind) = f.io {
        return PG_IO_KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(Fault::Service, |(_, fault)| *fault);
    }
    if let Some(fault) = by_message(PG_MESSAGES, f.message) {
        return fault;
    }
    if let Some(state) = f.sqlstate {
        if let Some((_, fault)) = PG_SQLSTATES.iter().find(|(s, _)| *s == state) {
            return *fault;
        }
        if let Some((_, fault)) = PG_SQLSTATE_CLASSES
            .iter()
            .find(|(c, _)| state.starts_with(c))
        {
            return *fault;
        }
    }
    Fault::Record
}

/// QuestDB dropped the table under the sink: the table cache forgets it and the next attempt
/// creates it again.
pub fn is_table_gone(message: &str) -> bool {
    message.to_lowercase().contains("table does not exist")
}

/// questdb-rs error codes and whose fault each is. `ServerFlushError` is decided by the
/// answer's body ([`ILP_FLUSH_ANSWERS`]).
const ILP_CODES: &[(ErrorCode, Fault)] = &[
    // The network failed past the client's own retry window (`retry_timeout`).
    (ErrorCode::SocketError, Fault::Service),
    (ErrorCode::ConnectTimeout, Fault::Service),
    (ErrorCode::CouldNotResolveAddr, Fault::Service),
    // `Sender::from_conf` reads `/settings` first: while QuestDB is down this is the error,
    // and the record has nothing to do with it (issue 25).
    (ErrorCode::ProtocolVersionError, Fault::Service),
    // A 404 on `/write`: something other than QuestDB answers at the address.
    (ErrorCode::HttpNotSupported, Fault::Config),
    (ErrorCode::AuthError, Fault::Config),
    (ErrorCode::TlsError, Fault::Config),
    (ErrorCode::ConfigError, Fault::Config),
    // Refused by the client while encoding the row: the record's values.
    (ErrorCode::InvalidApiCall, Fault::Record),
    (ErrorCode::InvalidUtf8, Fault::Record),
    (ErrorCode::InvalidName, Fault::Record),
    (ErrorCode::InvalidTimestamp, Fault::Record),
    (ErrorCode::InvalidDecimal, Fault::Record),
    (ErrorCode::ArrayError, Fault::Record),
];

/// What QuestDB's JSON error body says (questdb-rs renders it `[id: .., code: CODE, line: N]`,
/// or passes the body on as it is, `{"code":"CODE",...}`, when it cannot read it as one)
/// after an HTTP 4xx/5xx on `/write`. QuestDB answers 400 `invalid` for a line it cannot parse
/// or store, 413 `request too large` for a request over its limit (a smaller run fits), 500
/// `internal error` for its own failures. A body without QuestDB's code is a proxy's (502,
/// 503, 504 in front of QuestDB): the service's.
const ILP_FLUSH_ANSWERS: &[(&str, Fault)] = &[
    ("code: invalid", Fault::Record),
    ("code: request too large", Fault::Record),
    ("code: internal error", Fault::Service),
    ("\"code\":\"invalid\"", Fault::Record),
    ("\"code\":\"request too large\"", Fault::Record),
    ("\"code\":\"internal error\"", Fault::Service),
];

/// Whose fault an ILP failure is.
pub fn ilp(code: ErrorCode, message: &str) -> Fault {
    if code == ErrorCode::ServerFlushError {
        return by_message(ILP_FLUSH_ANSWERS, message).unwrap_or(Fault::Service);
    }
    ILP_CODES
        .iter()
        .find(|(c, _)| *c == code)
        // A code this table does not know (the client's newer transports): not a record's.
        .map_or(Fault::Service, |(_, fault)| *fault)
}

fn by_message(table: &[(&str, Fault)], message: &str) -> Option<Fault> {
    let message = message.to_lowercase();
    table
        .iter()
        .find(|(fragment, _)| message.contains(fragment))
        .map(|(_, fault)| *fault)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn server(sqlstate: &str, message: &str) -> Fault {
        pg(&PgFailure {
            sqlstate: Some(sqlstate),
            message,
            ..PgFailure::default()
        })
    }

    #[rstest]
    #[case::bad_value(
        "00000",
        "inconvertible value: `abc` [STRING -> INT] (at Original(5))",
        Fault::Record
    )]
    #[case::data_exception("22P02", "invalid input syntax for type integer", Fault::Record)]
    #[case::integrity("23505", "duplicate key", Fault::Record)]
    #[case::table_dropped("00000", "table does not exist [table=t]", Fault::Service)]
    #[case::undefined_table("42P01", "relation \"t\" does not exist", Fault::Service)]
    #[case::busy("00000", "table busy [reason=insert]", Fault::Service)]
    #[case::disk_full("00000", "could not mmap [size=16777216, errno=28]", Fault::Service)]
    #[case::no_space("00000", "No space left on device", Fault::Service)]
    #[case::disk_full_state("53100", "disk full", Fault::Service)]
    #[case::read_only("00000", "server is in read-only mode", Fault::Service)]
    #[case::read_only_txn(
        "25006",
        "cannot execute INSERT in a read-only transaction",
        Fault::Service
    )]
    #[case::suspended("00000", "table is suspended [tableName=t]", Fault::Service)]
    #[case::admin_shutdown(
        "57P01",
        "terminating connection due to administrator command",
        Fault::Service
    )]
    #[case::connection("08006", "connection failure", Fault::Service)]
    #[case::internal("XX000", "internal error", Fault::Service)]
    #[case::io_error("58030", "could not write file", Fault::Service)]
    #[case::bad_password("28P01", "password authentication failed", Fault::Config)]
    #[case::privilege("42501", "insufficient privilege", Fault::Config)]
    #[case::acl("00000", "permission denied [user=sink]", Fault::Config)]
    fn pg_server_errors(#[case] sqlstate: &str, #[case] message: &str, #[case] want: Fault) {
        assert_eq!(server(sqlstate, message), want, "{sqlstate} {message}");
    }

    #[rstest]
    fn pg_connection_errors_are_the_service(
        #[values(
            ErrorKind::ConnectionRefused,
            ErrorKind::ConnectionReset,
            ErrorKind::ConnectionAborted,
            ErrorKind::BrokenPipe,
            ErrorKind::TimedOut,
            ErrorKind::UnexpectedEof,
            ErrorKind::NotConnected,
            ErrorKind::Other
        )]
        kind: ErrorKind,
    ) {
        let f = PgFailure {
            message: "error communicating with the server",
            io: Some(kind),
            ..PgFailure::default()
        };
        assert_eq!(pg(&f), Fault::Service);
    }

    #[test]
    fn a_closed_or_timed_out_pg_connection_is_the_service() {
        let closed = PgFailure {
            message: "connection closed",
            closed: true,
            ..PgFailure::default()
        };
        assert_eq!(pg(&closed), Fault::Service);
        let timed_out = PgFailure {
            message: "no answer within 30s",
            timed_out: true,
            ..PgFailure::default()
        };
        assert_eq!(pg(&timed_out), Fault::Service);
    }

    #[rstest]
    #[case::questdb_down(ErrorCode::ProtocolVersionError, "Could not detect server's line protocol version, settings url: http://localhost:9000/settings, err: Connection refused.", Fault::Service)]
    #[case::socket(
        ErrorCode::SocketError,
        "Could not flush buffer: connection refused",
        Fault::Service
    )]
    #[case::dial_timeout(ErrorCode::ConnectTimeout, "connect timed out", Fault::Service)]
    #[case::dns(
        ErrorCode::CouldNotResolveAddr,
        "could not resolve questdb",
        Fault::Service
    )]
    #[case::parse_error(ErrorCode::ServerFlushError, "Could not flush buffer: cast error from protocol type: FLOAT to column type: INT [id: 9e5b, code: invalid, line: 3]", Fault::Record)]
    #[case::parse_error_raw_body(ErrorCode::ServerFlushError, "Could not flush buffer: {\"code\":\"invalid\",\"message\":\"failed to parse line protocol:errors encountered on line(s):\\nerror in line 1: table: t, column: v; cast error from protocol type: INTEGER to column type: VARCHAR\",\"line\":1,\"errorId\":\"x\"}", Fault::Record)]
    #[case::too_large(ErrorCode::ServerFlushError, "Could not flush buffer: transaction is too large [id: 1, code: request too large, line: 1]", Fault::Record)]
    #[case::internal_500(
        ErrorCode::ServerFlushError,
        "Could not flush buffer: commit error [id: 2, code: internal error, line: 1]",
        Fault::Service
    )]
    #[case::proxy_502(
        ErrorCode::ServerFlushError,
        "Could not flush buffer: Bad Gateway",
        Fault::Service
    )]
    #[case::proxy_503(
        ErrorCode::ServerFlushError,
        "Could not flush buffer: 503 Service Unavailable",
        Fault::Service
    )]
    #[case::empty_body(
        ErrorCode::ServerFlushError,
        "Could not flush buffer: ",
        Fault::Service
    )]
    #[case::auth_401(
        ErrorCode::AuthError,
        "Could not flush buffer: HTTP endpoint authentication error [code: 401]",
        Fault::Config
    )]
    #[case::auth_403(
        ErrorCode::AuthError,
        "Could not flush buffer: HTTP endpoint authentication error [code: 403]",
        Fault::Config
    )]
    #[case::tls(ErrorCode::TlsError, "invalid peer certificate", Fault::Config)]
    #[case::not_ilp_404(
        ErrorCode::HttpNotSupported,
        "HTTP endpoint does not support ILP.",
        Fault::Config
    )]
    #[case::conf(ErrorCode::ConfigError, "unknown parameter", Fault::Config)]
    #[case::api(ErrorCode::InvalidApiCall, "Bad call to `at`", Fault::Record)]
    #[case::utf8(ErrorCode::InvalidUtf8, "bad utf8", Fault::Record)]
    #[case::name(ErrorCode::InvalidName, "bad column name", Fault::Record)]
    #[case::timestamp(ErrorCode::InvalidTimestamp, "bad timestamp", Fault::Record)]
    #[case::decimal(ErrorCode::InvalidDecimal, "bad decimal", Fault::Record)]
    #[case::array(ErrorCode::ArrayError, "bad array", Fault::Record)]
    #[case::unknown_code(ErrorCode::FailoverRetry, "reconnect", Fault::Service)]
    fn ilp_errors(#[case] code: ErrorCode, #[case] message: &str, #[case] want: Fault) {
        assert_eq!(ilp(code, message), want, "{code:?} {message}");
    }

    #[test]
    fn every_ilp_code_in_the_table_is_listed_once() {
        for (i, (code, _)) in ILP_CODES.iter().enumerate() {
            assert!(
                !ILP_CODES[i + 1..].iter().any(|(c, _)| c == code),
                "{code:?} twice"
            );
        }
    }

    #[test]
    fn a_dropped_table_is_recognised() {
        assert!(is_table_gone("table does not exist [table=t]"));
        assert!(!is_table_gone("invalid column: t"));
    }
}
