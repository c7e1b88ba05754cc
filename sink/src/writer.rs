//! How rows reach QuestDB, chosen once at start-up: prepared inserts over the PostgreSQL wire
//! protocol (the JDBC sink's way, the default), or ILP over HTTP with the official `questdb-rs`
//! client (`client.conf.string=http::addr=HOST:PORT;`, the QuestDB connector's key). Either way
//! one call stores one run of rows of one table in one transaction, and tables are created and
//! evolved over PG wire beforehand.

use crate::ddl;
use crate::mapping::{Column, DoubleArray, SqlParam};
use crate::questdb::{DbError, QuestDb};
use questdb::ingress::{Buffer, Sender, TimestampMicros};
use questdb::ErrorCode;

pub enum Writer {
    PgWire,
    Ilp(Box<IlpWriter>),
}

impl Writer {
    /// The writer the config asks for: ILP when `client.conf.string` is set, else PG wire.
    pub fn new(ilp_conf: Option<&str>, designated: Option<&str>) -> Result<Writer, DbError> {
        match ilp_conf {
            None => Ok(Writer::PgWire),
            Some(conf) => Ok(Writer::Ilp(Box::new(IlpWriter::new(conf, designated)?))),
        }
    }

    /// Stores `rows` (parameters in `columns` order) in `table`, all or none.
    pub async fn write(
        &mut self,
        db: &mut QuestDb,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        match self {
            Writer::PgWire => db.insert(&ddl::insert(table, columns), rows).await,
            // ILP cannot spell a row whose only value is its timestamp (QuestDB answers "Field
            // value is missing", the client refuses the call to `at`): such a run goes over PG
            // wire as a whole, so it is still one transaction and the row reads back as it
            // does in PG-wire mode (every other column NULL).
            Writer::Ilp(ilp)
                if rows
                    .iter()
                    .any(|row| !has_a_field(columns, row, &ilp.designated)) =>
            {
                db.insert(&ddl::insert(table, columns), rows).await
            }
            Writer::Ilp(ilp) => ilp.write(table, columns, rows).await,
        }
    }
}

pub struct IlpWriter {
    conf: String,
    /// The designated timestamp column, sent as the row's ILP timestamp.
    designated: String,
    /// `None` only while a flush runs on the blocking pool.
    sender: Option<(Sender, Buffer)>,
}

fn ilp_error(what: &str, e: questdb::Error) -> DbError {
    DbError::Statement {
        sql: what.to_string(),
        message: e.msg().to_string(),
        // The HTTP sender already retried network errors for its retry budget; a socket error
        // left after that is worth a new sender, a rejected row is not.
        transient: matches!(e.code(), ErrorCode::SocketError),
    }
}

impl IlpWriter {
    fn new(conf: &str, designated: Option<&str>) -> Result<IlpWriter, DbError> {
        let designated = designated
            .ok_or_else(|| DbError::Statement {
                sql: "client.conf.string".into(),
                message: "ILP writes need a designated timestamp".into(),
                transient: false,
            })?
            .to_string();
        let sender = Sender::from_conf(conf).map_err(|e| ilp_error(conf, e))?;
        let buffer = sender.new_buffer();
        Ok(IlpWriter {
            conf: conf.to_string(),
            designated,
            sender: Some((sender, buffer)),
        })
    }

    async fn write(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        let (mut sender, mut buffer) = match self.sender.take() {
            Some(s) => s,
            None => {
                let sender = Sender::from_conf(&self.conf).map_err(|e| ilp_error(&self.conf, e))?;
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
                let transient = matches!(&result, Err(e) if e.code() == ErrorCode::SocketError);
                // After a socket error a new sender is made on the next write.
                if !transient {
                    self.sender = Some((sender, buffer));
                }
                result.map_err(|e| ilp_error(&what, e))
            }
            Err(join) => Err(DbError::Statement {
                sql: what,
                message: format!("the ILP flush panicked: {join}"),
                transient: false,
            }),
        }
    }
}

/// Whether `row` has a non-null value besides the designated timestamp: an ILP line needs at
/// least one field.
fn has_a_field(columns: &[Column], row: &[SqlParam], designated: &str) -> bool {
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
        transient: false,
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
                    transient: false,
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
    use crate::mapping::{Source, SqlType};

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
