//! ILP over HTTP with the official `questdb-rs` client (`client.conf.string`, QuestDB's
//! connector's key): one flush a run of rows, and the ILP login checked at start-up.

use crate::config::IlpConf;
use crate::mapping::jdbc::{ddl, Column, DoubleArray, SqlParam};
use crate::write::error::DbError;
use crate::write::fault::{self, Fault};
use questdb::ingress::{Buffer, Sender, TimestampMicros};
use questdb::ErrorCode;

/// `http://HOST:PORT` of an ILP conf string (never its credentials).
fn ilp_endpoint(conf: &IlpConf) -> String {
    let scheme = conf.as_str().split("::").next().unwrap_or("http");
    let addr = conf.get("addr").unwrap_or_else(|| "localhost:9000".into());
    format!("{scheme}://{addr}")
}

/// QuestDB refused the ILP credentials (HTTP 401/403) or the TLS handshake.
fn refused(conf: &IlpConf, tls: bool, message: &str) -> DbError {
    let (what, fix) = if tls {
        ("TLS handshake (ILP over HTTPS)", "check tls_verify / tls_roots in client.conf.string: the server's certificate must be signed by a trusted CA")
    } else {
        ("ILP login (HTTP basic auth)", "set username=...;password=...; (or token=...;) in client.conf.string to QuestDB's http.user and http.password (server.conf or QDB_HTTP_USER / QDB_HTTP_PASSWORD)")
    };
    DbError::Refused {
        endpoint: format!("{} (ILP over HTTP)", ilp_endpoint(conf)),
        what: what.into(),
        // One line: the client's message may end with the server's answer on lines of its own.
        message: message.split_whitespace().collect::<Vec<_>>().join(" "),
        fix: fix.into(),
    }
}

/// Reads an HTTP answer up to the end of its status line (or the connection's end): QuestDB
/// may keep the connection open after answering.
pub(crate) async fn read_status_line(
    stream: &mut tokio::net::TcpStream,
) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 256];
    while !answer.contains(&b'\n') {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    Ok(answer)
}

/// Checks ILP's credentials before any record is read: an empty `POST /write` is answered 204
/// when they are right (or not needed) and 401 when they are not, and stores nothing. QuestDB's
/// `/settings` (which the client reads when it starts) needs no login, so without this check
/// wrong credentials would only show at the first write. Plain `http::` only; over `https::`
/// the first write tells. A QuestDB that does not answer is left to the writes' retries.
/// Deviation: QuestDB's connector learns of wrong credentials at its first flush
/// (docs/security.md).
pub async fn check_ilp_login(conf: &IlpConf) -> Result<(), DbError> {
    use tokio::io::AsyncWriteExt;
    if !conf.as_str().starts_with("http::") {
        return Ok(());
    }
    let addr = conf.get("addr").unwrap_or_else(|| "localhost:9000".into());
    let auth = conf.auth_header();
    let request = format!(
        "POST /write HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    // Only the status line is read: QuestDB may keep the connection open after a 401.
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr.as_str()).await?;
        stream.write_all(request.as_bytes()).await?;
        read_status_line(&mut stream).await
    };
    let Ok(Ok(answer)) = tokio::time::timeout(std::time::Duration::from_secs(10), exchange).await
    else {
        return Ok(());
    };
    let answer = String::from_utf8_lossy(&answer);
    let status_line = answer.lines().next().unwrap_or_default().trim().to_string();
    match status_line.split_whitespace().nth(1) {
        Some("401") | Some("403") => Err(refused(conf, false, &status_line)),
        _ => Ok(()),
    }
}

pub struct IlpWriter {
    conf: IlpConf,
    /// The designated timestamp column, sent as the row's ILP timestamp.
    pub(crate) designated: String,
    /// `None` only while a flush runs on the blocking pool.
    sender: Option<(Sender, Buffer)>,
}

/// A refused login or TLS handshake names `conf`'s endpoint (never its credentials).
fn ilp_error(what: &str, conf: &IlpConf, e: questdb::Error) -> DbError {
    if let ErrorCode::AuthError | ErrorCode::TlsError = e.code() {
        return refused(conf, e.code() == ErrorCode::TlsError, e.msg());
    }
    DbError::Statement {
        sql: what.to_string(),
        message: e.msg().to_string(),
        // The HTTP sender already retried network errors and some 5xx for its retry budget
        // (`retry_timeout`); what is left is judged by the ILP table.
        fault: fault::ilp(e.code(), e.msg()),
    }
}

impl IlpWriter {
    pub(crate) fn new(conf: &IlpConf, designated: Option<&str>) -> Result<IlpWriter, DbError> {
        let designated = designated
            .ok_or_else(|| DbError::Statement {
                sql: "client.conf.string".into(),
                message: "ILP writes need a designated timestamp".into(),
                fault: Fault::Config,
            })?
            .to_string();
        let sender = Sender::from_conf(conf.as_str())
            .map_err(|e| ilp_error(&ilp_endpoint(conf), conf, e))?;
        let buffer = sender.new_buffer();
        Ok(IlpWriter {
            conf: conf.clone(),
            designated,
            sender: Some((sender, buffer)),
        })
    }

    pub(crate) async fn write(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        let (mut sender, mut buffer) = match self.sender.take() {
            Some(s) => s,
            None => {
                let sender = Sender::from_conf(self.conf.as_str())
                    .map_err(|e| ilp_error(&ilp_endpoint(&self.conf), &self.conf, e))?;
                let buffer = sender.new_buffer();
                (sender, buffer)
            }
        };
        buffer.clear();
        let what = format!("ILP rows for table {}", ddl::quote(table));
        if let Err(e) = fill(&mut buffer, table, columns, rows, &self.designated) {
            self.sender = Some((sender, buffer));
            return Err(e);
        }
        // One HTTP request for the whole buffer of one table: QuestDB commits it as one
        // transaction. The client is blocking, so it runs off the async threads.
        let joined = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let result = sender.flush_and_keep_with_flags(&buffer, true);
            tracing::debug!(
                "ILP flush of {} rows took {:?}",
                buffer.row_count(),
                started.elapsed()
            );
            (sender, buffer, result)
        })
        .await;
        match joined {
            Ok((sender, buffer, result)) => {
                let result = result.map_err(|e| ilp_error(&what, &self.conf, e));
                // After the service's failure a new sender is made on the next write (it reads
                // `/settings` again, and a failure there is the service's too).
                if !matches!(&result, Err(e) if e.is_transient()) {
                    self.sender = Some((sender, buffer));
                }
                result
            }
            // Not shown to be the record's: retried, then the sink stops.
            Err(join) => Err(DbError::Statement {
                sql: what,
                message: format!("the ILP flush panicked: {join}"),
                fault: Fault::Service,
            }),
        }
    }
}

/// Whether `row` has a non-null value besides the designated timestamp: an ILP line needs at
/// least one field.
pub(crate) fn has_a_field(columns: &[Column], row: &[SqlParam], designated: &str) -> bool {
    columns
        .iter()
        .zip(row)
        .any(|(c, p)| c.name != designated && !matches!(p, SqlParam::Null))
}

/// Encodes the rows as ILP. NULL is an absent column, as ILP spells it.
fn fill(
    buffer: &mut Buffer,
    table: &str,
    columns: &[Column],
    rows: &[Vec<SqlParam>],
    designated: &str,
) -> Result<(), DbError> {
    let bad = |column: &str, e: questdb::Error| DbError::Statement {
        sql: format!("ILP row for table {}", ddl::quote(table)),
        message: format!("column {}: {}", ddl::quote(column), e.msg()),
        fault: Fault::Record,
    };
    for row in rows {
        buffer.table(table).map_err(|e| bad("(table name)", e))?;
        let mut at = None;
        for (column, param) in columns.iter().zip(row) {
            let name = column.name.as_str();
            if name == designated {
                at = Some(param);
                continue;
            }
            let result = match param {
                SqlParam::Null => continue,
                SqlParam::Bool(v) => buffer.column_bool(name, *v),
                SqlParam::I16(v) => buffer.column_i64(name, i64::from(*v)),
                SqlParam::I32(v) => buffer.column_i64(name, i64::from(*v)),
                SqlParam::I64(v) => buffer.column_i64(name, *v),
                // Widening is exact, and QuestDB narrows it back exactly into a FLOAT column.
                SqlParam::F32(v) => buffer.column_f64(name, f64::from(*v)),
                SqlParam::F64(v) => buffer.column_f64(name, *v),
                SqlParam::Text(v) => buffer.column_str(name, v),
                SqlParam::TimestampMicros(us) => buffer.column_ts(name, TimestampMicros::new(*us)),
                SqlParam::DateMillis(ms) => {
                    buffer.column_ts(name, TimestampMicros::new(ms.saturating_mul(1000)))
                }
                SqlParam::Decimal(text) => buffer.column_dec(name, text.as_str()),
                // Symbols come first in a row: the QuestDB connector's rows put them there.
                SqlParam::Symbol(text) => buffer.symbol(name, text.as_str()),
                SqlParam::DoubleArray(DoubleArray::D1(a)) => buffer.column_arr(name, a),
                SqlParam::DoubleArray(DoubleArray::D2(a)) => buffer.column_arr(name, a),
                SqlParam::DoubleArray(DoubleArray::D3(a)) => buffer.column_arr(name, a),
            };
            result.map_err(|e| bad(name, e))?;
        }
        let micros = match at {
            Some(SqlParam::TimestampMicros(us)) => *us,
            // The QuestDB connector's rows without a timestamp take the server's clock.
            Some(SqlParam::Null) => {
                buffer.at_now().map_err(|e| bad(designated, e))?;
                continue;
            }
            other => {
                return Err(DbError::Statement {
                    sql: format!("ILP row for table {}", ddl::quote(table)),
                    message: format!(
                        "designated timestamp {} is {other:?}, not a timestamp",
                        ddl::quote(designated)
                    ),
                    fault: Fault::Record,
                })
            }
        };
        buffer
            .at(TimestampMicros::new(micros))
            .map_err(|e| bad(designated, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::jdbc::{Source, SqlType};

    fn columns() -> Vec<Column> {
        ["ts", "n", "s"]
            .iter()
            .enumerate()
            .map(|(i, name)| Column {
                name: name.to_string(),
                sql_type: if i == 0 {
                    SqlType::Timestamp
                } else {
                    SqlType::Text
                },
                nullable: i > 0,
                has_default: false,
                source: Source::Field(i),
            })
            .collect()
    }

    #[test]
    fn a_row_of_only_its_timestamp_has_no_ilp_field() {
        let ts = SqlParam::TimestampMicros(1_767_225_600_000_000);
        let only_ts = [ts.clone(), SqlParam::Null, SqlParam::Null];
        assert!(!has_a_field(&columns(), &only_ts, "ts"));
        let with_s = [ts, SqlParam::Null, SqlParam::Text(String::new())];
        assert!(has_a_field(&columns(), &with_s, "ts"));
        // A table of the timestamp alone: never an ILP line.
        assert!(!has_a_field(&columns()[..1], &with_s[..1], "ts"));
    }

    /// What the fallback exists for: the ILP client refuses such a row.
    #[test]
    fn the_ilp_buffer_refuses_a_row_of_only_its_timestamp() {
        let mut buffer = Buffer::new(questdb::ingress::ProtocolVersion::V2);
        let row = [
            SqlParam::TimestampMicros(1_767_225_600_000_000),
            SqlParam::Null,
            SqlParam::Null,
        ];
        let e = fill(&mut buffer, "t", &columns(), &[row.to_vec()], "ts").unwrap_err();
        assert!(e.to_string().contains("Bad call to `at`"), "{e}");
    }
}
