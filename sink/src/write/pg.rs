//! QuestDB over its PostgreSQL wire protocol: the only module of the sink that talks SQL.

use crate::config::Connection;
use crate::mapping::jdbc::dedup_check::ExistingTable;
use crate::mapping::jdbc::SqlParam;
use crate::write::error::{describe, DbError};
use bytes::{BufMut, BytesMut};
use postgres_types::{Format, IsNull, ToSql, Type};
use std::collections::HashMap;
use std::error::Error as StdError;
use tokio_postgres::{Client, NoTls, Statement};

/// Rows inserted in flight at once on the connection.
const PIPELINE_DEPTH: usize = 512;

/// Rows per multi-row INSERT: the fastest of 10 to 1000 measured (docs/bench/profile.md);
/// QuestDB compiles larger statements more slowly than it saves on round trips.
const ROWS_PER_INSERT: usize = 100;

/// The most parameters one statement can have (a 16-bit count in PG's Bind message).
const MAX_PARAMS: usize = u16::MAX as usize;

/// The insert statements of one table shape, prepared on this connection.
#[derive(Clone)]
struct Shape {
    one: Statement,
    many: Option<Statement>,
}

/// `sql` (an INSERT of one row, its `VALUES` last) made an INSERT of `rows` rows.
fn multi_row(sql: &str, width: usize, rows: usize) -> String {
    let head = sql
        .rfind(" VALUES ")
        .map_or(sql, |at| &sql[..at + " VALUES ".len()]);
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", params.join(","))
        })
        .collect();
    format!("{head}{}", tuples.join(","))
}

/// The longest the sink waits for QuestDB's answer to one statement (a query, BEGIN, COMMIT,
/// a chunk of pipelined inserts): past it the connection is taken for black-holed, which is
/// the service's failure, retried on a new connection. Without it a silent peer blocks for
/// the kernel's TCP retransmission timeout (about 15 minutes), long past librdkafka's
/// `max.poll.interval.ms` (300 s by default), and the consumer leaves its group. 30 s is a
/// tenth of that default, and far above what a healthy QuestDB takes for a chunk.
pub const STATEMENT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// `call`, bounded by [`STATEMENT_TIMEOUT`].
async fn bounded<T>(
    sql: &str,
    call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
) -> Result<T, DbError> {
    match tokio::time::timeout(STATEMENT_TIMEOUT, call).await {
        Ok(result) => result.map_err(|e| DbError::statement(sql, e)),
        Err(_) => Err(DbError::timed_out(sql, STATEMENT_TIMEOUT)),
    }
}

/// One column as QuestDB reports it in `table_columns()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnInfo {
    pub name: String,
    pub column_type: String,
    pub designated: bool,
}

pub struct QuestDb {
    client: Client,
    connection: tokio::task::JoinHandle<()>,
    /// Insert statements by their one-row SQL.
    statements: HashMap<String, Shape>,
}

impl Drop for QuestDb {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

impl QuestDb {
    pub async fn connect(c: &Connection) -> Result<QuestDb, DbError> {
        let mut pg = tokio_postgres::Config::new();
        pg.host(&c.host)
            .port(c.port)
            .dbname(&c.database)
            .user(&c.user)
            .password(&c.password);
        pg.connect_timeout(std::time::Duration::from_secs(10));
        let (client, connection) = pg.connect(NoTls).await.map_err(|source| {
            // QuestDB answers a connection only to refuse the login (pg.user / pg.password).
            // Deviation: the JDBC sink tries `connection.attempts` times before its task
            // fails; a refused login is final here (docs/security.md).
            match source.as_db_error() {
                Some(db) => DbError::Refused {
                    endpoint: format!("{}:{} (PostgreSQL wire)", c.host, c.port),
                    what: format!("login as user {}", c.user),
                    message: db.message().to_string(),
                    fix: "set connection.user and connection.password to QuestDB's pg.user and \
                          pg.password (server.conf or QDB_PG_USER / QDB_PG_PASSWORD)"
                        .into(),
                },
                None => DbError::Connect {
                    host: c.host.clone(),
                    port: c.port,
                    database: c.database.clone(),
                    user: c.user.clone(),
                    source,
                },
            }
        })?;
        let connection = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("QuestDB connection ended: {}", describe(&e));
            }
        });
        Ok(QuestDb {
            client,
            connection,
            statements: HashMap::new(),
        })
    }

    /// The table's name as QuestDB stores it, if it exists. QuestDB matches names case-insensitively.
    pub async fn find_table(&self, table: &str) -> Result<Option<String>, DbError> {
        let sql = "SELECT table_name FROM tables()";
        let rows = bounded(sql, self.client.query(sql, &[])).await?;
        let wanted = table.to_lowercase();
        Ok(rows
            .iter()
            .map(|r| r.get::<_, String>(0))
            .find(|name| name.to_lowercase() == wanted))
    }

    /// `table_columns()` for an existing table, in table order.
    pub async fn columns(&self, table: &str) -> Result<Vec<ColumnInfo>, DbError> {
        // table_columns() takes no bind parameter here (QuestDB cannot type it), so the name is
        // a quoted literal.
        let sql = format!(
            "SELECT \"column\", \"type\", \"designated\" FROM table_columns('{}')",
            table.replace('\'', "''")
        );
        let rows = bounded(&sql, self.client.query(&sql, &[])).await?;
        Ok(rows
            .iter()
            .map(|r| ColumnInfo {
                name: r.get(0),
                column_type: r.get(1),
                designated: r.get(2),
            })
            .collect())
    }

    /// What decides whether an existing table deduplicates: WAL, its designated timestamp and
    /// its DEDUP UPSERT KEYS.
    pub async fn existing_table(&self, table: &str) -> Result<ExistingTable, DbError> {
        let literal = table.replace('\'', "''");
        let sql = format!(
            "SELECT walEnabled, designatedTimestamp FROM tables() WHERE table_name = '{literal}'"
        );
        let row = bounded(&sql, self.client.query_one(&sql, &[])).await?;
        let sql = format!("SELECT \"column\" FROM table_columns('{literal}') WHERE \"upsertKey\"");
        let keys = bounded(&sql, self.client.query(&sql, &[])).await?;
        Ok(ExistingTable {
            wal: row.get(0),
            designated: row.get(1),
            upsert_keys: keys.iter().map(|r| r.get(0)).collect(),
        })
    }

    pub async fn execute(&self, sql: &str) -> Result<(), DbError> {
        bounded(sql, self.client.batch_execute(sql)).await
    }

    /// Inserts the rows in one transaction: all of them are stored, or none.
    ///
    /// The transaction is spelled `BEGIN`/`COMMIT` by hand: tokio-postgres' own transaction
    /// API sends `START TRANSACTION`, which QuestDB reads as a table name.
    ///
    /// `sql` inserts one row; runs of [`ROWS_PER_INSERT`] rows go as one multi-row statement
    /// (measured 2x faster than a statement a row: docs/bench/profile.md). Both are prepared
    /// once per connection and table shape; a failure with a statement prepared earlier is
    /// tried once more with new ones (the table may have been dropped and made again), so what
    /// is reported is what a fresh statement says.
    pub async fn insert(&mut self, sql: &str, rows: &[Vec<SqlParam>]) -> Result<(), DbError> {
        let cached = self.statements.contains_key(sql);
        match self.insert_once(sql, rows).await {
            Err(e) if cached && !e.is_transient() => {
                self.statements.remove(sql);
                self.insert_once(sql, rows).await
            }
            other => other,
        }
    }

    async fn insert_once(&mut self, sql: &str, rows: &[Vec<SqlParam>]) -> Result<(), DbError> {
        self.execute("BEGIN").await?;
        let result = self.insert_rows(sql, rows).await;
        match result {
            Ok(()) => self.execute("COMMIT").await,
            // The statement's error is the one worth reporting; a failed rollback adds nothing.
            // After the service's failure the connection is replaced, which rolls back.
            Err(e) if e.is_transient() => Err(e),
            Err(e) => {
                self.statements.remove(sql);
                let _ = self.execute("ROLLBACK").await;
                Err(e)
            }
        }
    }

    /// The statements that insert one row (`sql`) and [`ROWS_PER_INSERT`] rows of its shape.
    async fn statements(&mut self, sql: &str, multi: bool) -> Result<Shape, DbError> {
        let mut shape = match self.statements.get(sql) {
            Some(shape) => shape.clone(),
            None => Shape {
                one: bounded(sql, self.client.prepare(sql)).await?,
                many: None,
            },
        };
        if multi && shape.many.is_none() {
            let width = shape.one.params().len();
            let many = multi_row(sql, width, ROWS_PER_INSERT);
            shape.many = Some(bounded(&many, self.client.prepare(&many)).await?);
        }
        self.statements.insert(sql.to_string(), shape.clone());
        Ok(shape)
    }

    async fn insert_rows(&mut self, sql: &str, rows: &[Vec<SqlParam>]) -> Result<(), DbError> {
        let width = rows.first().map_or(0, Vec::len);
        // A statement's parameters are counted in 16 bits (PG's Bind message).
        let multi = rows.len() >= ROWS_PER_INSERT && width * ROWS_PER_INSERT <= MAX_PARAMS;
        let shape = self.statements(sql, multi).await?;
        let client = &self.client;
        let (full, rest) = match multi {
            true => rows.split_at(rows.len() / ROWS_PER_INSERT * ROWS_PER_INSERT),
            false => rows.split_at(0),
        };
        // Polled together, tokio-postgres pipelines the executes: one round trip per chunk
        // instead of one per statement. Chunks bound the memory held by in-flight requests.
        if let Some(many) = &shape.many {
            let statements: Vec<&[Vec<SqlParam>]> = full.chunks(ROWS_PER_INSERT).collect();
            for chunk in statements.chunks(PIPELINE_DEPTH / ROWS_PER_INSERT + 1) {
                let executes = chunk.iter().map(|rows| {
                    let params: Vec<&(dyn ToSql + Sync)> = rows
                        .iter()
                        .flatten()
                        .map(|p| p as &(dyn ToSql + Sync))
                        .collect();
                    async move { client.execute(many, &params).await }
                });
                bounded(sql, futures_util::future::try_join_all(executes)).await?;
            }
        }
        for chunk in rest.chunks(PIPELINE_DEPTH) {
            let executes = chunk.iter().map(|row| {
                let params: Vec<&(dyn ToSql + Sync)> =
                    row.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                let statement = &shape.one;
                async move { client.execute(statement, &params).await }
            });
            bounded(sql, futures_util::future::try_join_all(executes)).await?;
        }
        Ok(())
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Seconds between the Unix epoch and PostgreSQL's (2000-01-01), which binary dates count from.
const PG_EPOCH_OFFSET_SECS: i64 = 946_684_800;

type BoxError = Box<dyn StdError + Sync + Send>;

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::VARCHAR | Type::TEXT | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

fn mismatch(param: &SqlParam, ty: &Type) -> BoxError {
    format!("cannot send {param:?} as a {ty} parameter").into()
}

/// Encodes each parameter as the type QuestDB asked for in its parameter description, so the
/// sink works whatever type QuestDB infers for a column. Deviation: the reference binds the
/// Connect type, and QuestDB refuses an int4 for an existing STRING column
/// (`inconvertible types: INT -> STRING`; reference.rs `bound-int-into-string-refused`).
impl ToSql for SqlParam {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        use SqlParam as P;
        if let P::Null = self {
            return Ok(IsNull::Yes);
        }
        // Decimals travel as text (see encode_format); so does anything bound to a text type.
        if let P::Decimal(text) | P::Text(text) | P::Symbol(text) = self {
            out.put_slice(text.as_bytes());
            return Ok(IsNull::No);
        }
        if is_text(ty) {
            // A column that exists as text though the schema says otherwise (a table the sink
            // did not create): send the value's text, as a cast would render it.
            let text = match self {
                P::Bool(b) => b.to_string(),
                P::I16(v) => v.to_string(),
                P::I32(v) => v.to_string(),
                P::I64(v) => v.to_string(),
                P::F32(v) => v.to_string(),
                P::F64(v) => v.to_string(),
                _ => return Err(mismatch(self, ty)),
            };
            out.put_slice(text.as_bytes());
            return Ok(IsNull::No);
        }
        let int = |v: i64, out: &mut BytesMut| -> Result<(), BoxError> {
            match *ty {
                Type::INT2 => out.put_i16(i16::try_from(v).map_err(|_| mismatch(self, ty))?),
                Type::INT4 => out.put_i32(i32::try_from(v).map_err(|_| mismatch(self, ty))?),
                Type::INT8 => out.put_i64(v),
                _ => return Err(mismatch(self, ty)),
            }
            Ok(())
        };
        match (self, ty) {
            (P::Bool(b), &Type::BOOL) => out.put_u8(u8::from(*b)),
            (P::I16(v), _) => int(i64::from(*v), out)?,
            (P::I32(v), _) => int(i64::from(*v), out)?,
            (P::I64(v), _) => int(*v, out)?,
            (P::F32(v), &Type::FLOAT4) => out.put_f32(*v),
            (P::F32(v), &Type::FLOAT8) => out.put_f64(f64::from(*v)),
            (P::F64(v), &Type::FLOAT8) => out.put_f64(*v),
            (P::TimestampMicros(us), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
                out.put_i64(us - PG_EPOCH_OFFSET_SECS * 1_000_000)
            }
            (P::DateMillis(ms), &Type::TIMESTAMP | &Type::TIMESTAMPTZ) => {
                out.put_i64(ms * 1000 - PG_EPOCH_OFFSET_SECS * 1_000_000)
            }
            (P::DateMillis(ms), &Type::DATE) => {
                let days = (ms - PG_EPOCH_OFFSET_SECS * 1000).div_euclid(86_400_000);
                out.put_i32(i32::try_from(days).map_err(|_| mismatch(self, ty))?)
            }
            _ => return Err(mismatch(self, ty)),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn encode_format(&self, ty: &Type) -> Format {
        match self {
            SqlParam::Decimal(_) | SqlParam::Text(_) | SqlParam::Symbol(_) => Format::Text,
            _ if is_text(ty) => Format::Text,
            _ => Format::Binary,
        }
    }

    postgres_types::to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_row_insert_becomes_a_multi_row_one() {
        let one = r#"INSERT INTO "t" ("a","b") VALUES ($1,$2)"#;
        assert_eq!(
            multi_row(one, 2, 3),
            r#"INSERT INTO "t" ("a","b") VALUES ($1,$2),($3,$4),($5,$6)"#
        );
        // A column named like the keyword is quoted, so the last " VALUES " is the clause.
        let odd = r#"INSERT INTO "t" (" VALUES ") VALUES ($1)"#;
        assert_eq!(
            multi_row(odd, 1, 2),
            r#"INSERT INTO "t" (" VALUES ") VALUES ($1),($2)"#
        );
    }
}
