//! How rows reach QuestDB, chosen once at start-up: prepared inserts over the PostgreSQL wire
//! protocol (the JDBC sink's way, the default), or ILP over HTTP with the official `questdb-rs`
//! client (`client.conf.string=http::addr=HOST:PORT;`, the QuestDB connector's key). Either way
//! one call stores one run of rows of one table in one transaction, and tables are created and
//! evolved over PG wire beforehand.

pub mod error;
pub mod fault;
pub mod ilp;
pub mod pg;
pub(crate) mod store;
mod tables;

use crate::config::IlpConf;
use crate::mapping::jdbc::ddl;
use crate::mapping::jdbc::{Column, SqlParam};
use error::DbError;
use ilp::IlpWriter;
use pg::QuestDb;

pub enum Writer {
    PgWire,
    Ilp(Box<IlpWriter>),
}

impl Writer {
    /// The writer the config asks for: ILP when `client.conf.string` is set, else PG wire.
    pub fn new(ilp_conf: Option<&IlpConf>, designated: Option<&str>) -> Result<Writer, DbError> {
        match ilp_conf {
            None => Ok(Writer::PgWire),
            Some(conf) => Ok(Writer::Ilp(Box::new(IlpWriter::new(conf, designated)?))),
        }
    }

    /// Stores `rows` (parameters in `columns` order) in `table`, all or none.
    pub async fn write(
        &mut self,
        db: Option<&mut QuestDb>,
        table: &str,
        columns: &[Column],
        rows: &[Vec<SqlParam>],
    ) -> Result<(), DbError> {
        match self {
            Writer::PgWire => {
                db.expect("PG-wire mode has PG wire")
                    .insert(&ddl::insert(table, columns), rows)
                    .await
            }
            // ILP cannot spell a row whose only value is its timestamp (QuestDB answers "Field
            // value is missing", the client refuses the call to `at`): such a run goes over PG
            // wire as a whole, so it is still one transaction and the row reads back as it
            // does in PG-wire mode (every other column NULL).
            Writer::Ilp(ilp)
                if rows
                    .iter()
                    .any(|row| !ilp::has_a_field(columns, row, &ilp.designated)) =>
            {
                match db {
                    Some(db) => db.insert(&ddl::insert(table, columns), rows).await,
                    // Only QuestDB-connector mode has no PG wire, and its mapping refuses such
                    // a row as a bad record (the connector fails on it too): never reached.
                    None => Err(DbError::Statement {
                        sql: format!("ILP row of table {table}"),
                        message: "a row of only its designated timestamp needs PG wire".into(),
                        fault: fault::Fault::Config,
                    }),
                }
            }
            Writer::Ilp(ilp) => ilp.write(table, columns, rows).await,
        }
    }
}
