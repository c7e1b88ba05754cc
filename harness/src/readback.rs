//! Reads back what QuestDB created: the table's shape (what kind of table QuestDB built), its
//! columns and its rows, as QuestDB renders them.

use sink::config::Connection;
use sink::questdb::{ColumnInfo, DbError, QuestDb};
use tokio_postgres::SimpleQueryMessage;

/// A table as QuestDB reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub shape: Shape,
    pub columns: Vec<ColumnInfo>,
    /// Rows in storage order (tables without a designated timestamp keep insertion order);
    /// each value as QuestDB's text rendering, `None` for SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

/// What kind of table QuestDB built: `tables()`' flags and `SHOW CREATE TABLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub wal: bool,
    /// The designated timestamp column, if any.
    pub designated_timestamp: Option<String>,
    /// `NONE`, `DAY`, ...
    pub partition_by: String,
    pub dedup: bool,
    /// QuestDB's own `SHOW CREATE TABLE` text, lines trimmed at the end and tabs as two spaces
    /// so that a snapshot holds no invisible characters.
    pub create: String,
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
    let shape = read_shape(db, &name).await?;
    let columns = db.columns(&name).await?;
    let rows = simple_rows(db, &format!("SELECT * FROM {}", sink::ddl::quote(&name))).await?;
    Ok(Some(Table {
        name,
        shape,
        columns,
        rows,
    }))
}

async fn read_shape(db: &QuestDb, name: &str) -> Result<Shape, DbError> {
    let literal = name.replace('\'', "''");
    let sql = format!(
        "SELECT walEnabled, designatedTimestamp, partitionBy, dedup FROM tables() \
         WHERE table_name = '{literal}'"
    );
    let rows = simple_rows(db, &sql).await?;
    let row = rows.first().ok_or_else(|| DbError::Statement {
        sql: sql.clone(),
        message: format!("table {name:?} vanished from tables() while it was read back"),
        transient: false,
    })?;
    let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let sql = format!("SHOW CREATE TABLE {}", sink::ddl::quote(name));
    let create = simple_rows(db, &sql)
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Shape {
        wal: cell(0) == "t",
        designated_timestamp: Some(cell(1)).filter(|c| !c.is_empty()),
        partition_by: cell(2),
        dedup: cell(3) == "t",
        create: tidy(&create),
    })
}

/// Lines trimmed at the end, tabs as two spaces.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|l| l.replace('\t', "  ").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn simple_rows(db: &QuestDb, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
    let messages = db
        .client()
        .simple_query(sql)
        .await
        .map_err(|e| DbError::statement(sql, e))?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn tidy_removes_invisible_characters() {
        assert_eq!(
            super::tidy("CREATE TABLE 't' ( \n\ta INT\n);"),
            "CREATE TABLE 't' (\n  a INT\n);"
        );
    }
}
