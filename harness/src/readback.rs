//! Reads back what QuestDB created: the table's columns and its rows, as QuestDB renders them.

use sink::config::Connection;
use sink::questdb::{ColumnInfo, DbError, QuestDb};
use tokio_postgres::SimpleQueryMessage;

/// A table as QuestDB reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    /// Rows in storage order (tables without a designated timestamp keep insertion order);
    /// each value as QuestDB's text rendering, `None` for SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

pub fn connection(host: &str, port: u16) -> Connection {
    Connection {
        host: host.into(),
        port,
        database: "qdb".into(),
        user: "admin".into(),
        password: "quest".into(),
    }
}

/// The table, or `None` if QuestDB has no table of that name.
pub async fn read_table(db: &QuestDb, table: &str) -> Result<Option<Table>, DbError> {
    let Some(name) = db.find_table(table).await? else {
        return Ok(None);
    };
    let columns = db.columns(&name).await?;
    let sql = format!("SELECT * FROM {}", sink::ddl::quote(&name));
    let messages = db
        .client()
        .simple_query(&sql)
        .await
        .map_err(|e| DbError::statement(&sql, e))?;
    let rows = messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect();
    Ok(Some(Table {
        name,
        columns,
        rows,
    }))
}
