//! Reads back what QuestDB created: the table's shape (what kind of table QuestDB built), its
//! columns and its rows, as QuestDB renders them.

use crate::wait::wait_until_async;
use sink::config::Connection;
use sink::write::error::DbError;
use sink::write::fault::Fault;
use sink::write::pg::{ColumnInfo, QuestDb};
use std::fmt::Write as _;
use std::time::Duration;
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
    /// What QuestDB stores, beside what it shows: per row, per column, the number a non-null
    /// TIMESTAMP (µs) or DATE (ms) cell holds (`cast(col as long)`); `None` elsewhere.
    pub stored: Vec<Vec<Option<i64>>>,
}

impl Table {
    /// Every temporal cell whose shown text is not the text of what it stores: (row, column,
    /// why).
    pub fn misrenderings(&self) -> Vec<(usize, usize, crate::temporal::Misrendering)> {
        let mut out = Vec::new();
        for (r, (row, stored)) in self.rows.iter().zip(&self.stored).enumerate() {
            for (c, column) in self.columns.iter().enumerate() {
                let Some(unit) = crate::temporal::Unit::of(&column.column_type) else {
                    continue;
                };
                let (Some(Some(shown)), Some(Some(n))) = (row.get(c), stored.get(c)) else {
                    continue;
                };
                if let Some(m) = crate::temporal::misrendering(unit, shown, *n) {
                    out.push((r, c, m));
                }
            }
        }
        out
    }

    /// Replaces the designated timestamp's values that fall within `window` (from, to: texts as
    /// QuestDB renders timestamps, which order as text) with `mask`: values taken from a clock
    /// while the case ran differ on every run, so that a snapshot can hold the rest.
    pub fn mask_designated_within(&mut self, window: &(String, String), mask: &str) {
        let Some(i) = self.columns.iter().position(|c| c.designated) else {
            return;
        };
        let (from, to) = window;
        for (r, row) in self.rows.iter_mut().enumerate() {
            let Some(cell) = row.get_mut(i) else {
                continue;
            };
            if cell
                .as_deref()
                .is_some_and(|v| v >= from.as_str() && v <= to.as_str())
            {
                *cell = Some(mask.to_owned());
                // Nor is what it stores the same twice.
                if let Some(n) = self.stored.get_mut(r).and_then(|s| s.get_mut(i)) {
                    *n = None;
                }
            }
        }
    }
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
    /// so that a snapshot holds no invisible characters; QuestDB before 9.0 has no such
    /// statement, and then this says so with QuestDB's error.
    pub create: String,
}

/// What a snapshot says instead of `SHOW CREATE TABLE`'s text on QuestDB before 9.0.
pub const NO_SHOW_CREATE: &str = "(this QuestDB has no SHOW CREATE TABLE)";

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
///
/// Reads on a connection of its own, through the simple query protocol only: QuestDB 8.2 keeps
/// answering in binary on a connection that ran an extended query asking for binary results,
/// even to later simple queries (measured), which garbles their text.
pub async fn read_table(connection: &Connection, table: &str) -> Result<Option<Table>, DbError> {
    let db = QuestDb::connect(connection).await?;
    let db = &db;
    let wanted = table.to_lowercase();
    // QuestDB matches table names case-insensitively.
    let Some(name) = simple_rows(db, "SELECT table_name FROM tables()")
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .find(|name| name.to_lowercase() == wanted)
    else {
        return Ok(None);
    };
    let shape = read_shape(db, &name).await?;
    if shape.wal {
        wait_wal_applied(db, &name, crate::wait::case_timeout()).await?;
    }
    let sql = format!(
        "SELECT \"column\", \"type\", \"designated\" FROM table_columns('{}')",
        name.replace('\'', "''")
    );
    let columns = simple_rows(db, &sql)
        .await?
        .into_iter()
        .map(|r| {
            let cell = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            ColumnInfo {
                name: cell(0),
                column_type: cell(1),
                designated: cell(2) == "t",
            }
        })
        .collect::<Vec<ColumnInfo>>();
    let (rows, stored) = read_rows(db, &name, &columns).await?;
    Ok(Some(Table {
        name,
        shape,
        columns,
        rows,
        stored,
    }))
}

/// The rows as QuestDB shows them and, in the same statement (so that they line up), the
/// numbers its temporal columns store.
async fn read_rows(
    db: &QuestDb,
    name: &str,
    columns: &[ColumnInfo],
) -> Result<(Vec<Vec<Option<String>>>, Vec<Vec<Option<i64>>>), DbError> {
    let temporal: Vec<usize> = (0..columns.len())
        .filter(|&c| crate::temporal::Unit::of(&columns[c].column_type).is_some())
        .collect();
    let mut select = String::from("SELECT *");
    for (i, &c) in temporal.iter().enumerate() {
        // An alias no column has, so that QuestDB does not refuse a duplicate name.
        let mut alias = format!("kq_stored_{i}");
        while columns
            .iter()
            .any(|col| col.name.eq_ignore_ascii_case(&alias))
        {
            alias.push('_');
        }
        let _ = write!(
            select,
            ", cast({} as long) AS {alias}",
            sink::mapping::jdbc::ddl::quote(&columns[c].name)
        );
    }
    let _ = write!(select, " FROM {}", sink::mapping::jdbc::ddl::quote(name));
    let mut rows = simple_rows(db, &select).await?;
    let mut stored = Vec::with_capacity(rows.len());
    for (r, row) in rows.iter_mut().enumerate() {
        let extra = row.split_off(columns.len().min(row.len()));
        let mut numbers = vec![None; columns.len()];
        for (&c, cell) in temporal.iter().zip(extra) {
            numbers[c] = match cell {
                None => None,
                Some(text) => Some(text.parse::<i64>().map_err(|e| DbError::Statement {
                    sql: select.clone(),
                    message: format!(
                        "row {r}: cast({:?} as long) gave {text:?}: {e}",
                        columns[c].name
                    ),
                    fault: sink::write::fault::Fault::Record,
                })?),
            };
        }
        stored.push(numbers);
    }
    Ok((rows, stored))
}

/// `tables()`' flags and `SHOW CREATE TABLE` of the table QuestDB calls `name`.
pub async fn read_shape(db: &QuestDb, name: &str) -> Result<Shape, DbError> {
    let literal = name.replace('\'', "''");
    let sql = format!(
        "SELECT walEnabled, designatedTimestamp, partitionBy, dedup FROM tables() \
         WHERE table_name = '{literal}'"
    );
    let rows = simple_rows(db, &sql).await?;
    let row = rows.first().ok_or_else(|| DbError::Statement {
        sql: sql.clone(),
        message: format!("table {name:?} vanished from tables() while it was read back"),
        fault: Fault::Record,
    })?;
    let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
    let sql = format!(
        "SHOW CREATE TABLE {}",
        sink::mapping::jdbc::ddl::quote(name)
    );
    let create = match simple_rows(db, &sql).await {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(DbError::Statement { message, fault, .. })
            if fault != Fault::Service && message.contains("expected 'TABLES'") =>
        {
            NO_SHOW_CREATE.to_owned()
        }
        Err(DbError::Statement { message, fault, .. }) if fault != Fault::Service => {
            format!("(SHOW CREATE TABLE failed: {message})")
        }
        Err(e) => return Err(e),
    };
    Ok(Shape {
        wal: cell(0) == "t",
        designated_timestamp: Some(cell(1)).filter(|c| !c.is_empty()),
        partition_by: cell(2),
        dedup: cell(3) == "t",
        create: tidy(&create),
    })
}

/// Waits until QuestDB has applied every committed WAL transaction of the table (`writerTxn`
/// reaches `sequencerTxn` in `wal_tables()`), so that a read sees every row the sink committed.
/// A suspended table is an error at once, naming the table and QuestDB's reason.
pub async fn wait_wal_applied(db: &QuestDb, name: &str, timeout: Duration) -> Result<(), DbError> {
    let sql = format!(
        "SELECT suspended, writerTxn, sequencerTxn, errorTag, errorMessage FROM wal_tables() \
         WHERE name = '{}'",
        name.replace('\'', "''")
    );
    let applied = wait_until_async(
        &format!("QuestDB to apply the WAL of table {name:?}"),
        timeout,
        || async {
            // Ok(Ok) applied, Ok(Err) suspended (stop), Err: not yet, with what was seen.
            let rows = simple_rows(db, &sql).await.map_err(|e| e.to_string())?;
            let row = rows
                .first()
                .ok_or_else(|| format!("table {name:?} is not in wal_tables()"))?;
            let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            if cell(0) == "t" {
                return Ok(Err(format!(
                    "table {name:?} is suspended: {} {}; see QuestDB's log, fix the cause, then ALTER TABLE {} RESUME WAL",
                    cell(3),
                    cell(4),
                    sink::mapping::jdbc::ddl::quote(name)
                )));
            }
            if cell(1) == cell(2) {
                Ok(Ok(()))
            } else {
                Err(format!("writerTxn {} of sequencerTxn {}", cell(1), cell(2)))
            }
        },
    )
    .await;
    let message = match applied {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(suspended)) => suspended,
        Err(timeout) => timeout.to_string(),
    };
    Err(DbError::Statement {
        sql,
        message,
        fault: Fault::Record,
    })
}

/// Table parameters at QuestDB's defaults, which 9.0 spells out and 9.3 leaves out.
const DEFAULT_PARAMETERS: &str = "WITH maxUncommittedRows=500000, o3MaxLag=600000000us";

/// Lines trimmed at the end, tabs as two spaces, without a statement terminator (9.3 ends the
/// text with `;`, 9.0 does not) and without a line of default table parameters (9.0 only):
/// neither is a difference in the table.
fn tidy(text: &str) -> String {
    text.trim_end()
        .trim_end_matches(';')
        .lines()
        .map(|l| l.replace('\t', "  ").trim_end().to_string())
        .filter(|l| l.trim() != DEFAULT_PARAMETERS)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every row of `sql` as QuestDB's text, through the simple query protocol.
pub async fn simple_rows(db: &QuestDb, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
    let messages = db
        .client()
        .simple_query(sql)
        .await
        .map_err(|e| DbError::statement(sql, e))?;
    let mut rows = Vec::new();
    for message in &messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let mut cells = Vec::with_capacity(row.len());
        for i in 0..row.len() {
            // QuestDB's text for a cell is not always UTF-8 (seen on 8.2): say which cell.
            let cell = row.try_get(i).map_err(|e| DbError::Statement {
                sql: sql.to_owned(),
                message: format!(
                    "row {}, column {:?}: {}",
                    rows.len(),
                    row.columns()[i].name(),
                    sink::write::error::describe(&e)
                ),
                fault: Fault::Record,
            })?;
            cells.push(cell.map(str::to_string));
        }
        rows.push(cells);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_designated_values_within_the_window_are_masked() {
        let column = |name: &str, designated: bool| sink::write::pg::ColumnInfo {
            name: name.into(),
            column_type: "TIMESTAMP".into(),
            designated,
        };
        let mut t = super::Table {
            name: "t".into(),
            shape: super::Shape {
                wal: true,
                designated_timestamp: Some("timestamp".into()),
                partition_by: "DAY".into(),
                dedup: false,
                create: String::new(),
            },
            columns: vec![column("a", false), column("timestamp", true)],
            rows: vec![
                vec![
                    Some("2026-12-02 05:49:42.573832".into()),
                    Some("2026-12-02 05:49:42.573832".into()),
                ],
                vec![None, Some("2023-11-14 22:13:20.000000".into())],
                vec![None, Some("9999-12-31 23:59:59.999999".into())],
            ],
            stored: vec![],
        };
        let window = (
            "2026-12-02 05:49:41.000000".to_owned(),
            "2026-12-02 05:49:44.000000".to_owned(),
        );
        t.mask_designated_within(&window, "<now>");
        let designated: Vec<Option<&str>> = t.rows.iter().map(|r| r[1].as_deref()).collect();
        assert_eq!(
            designated,
            vec![
                Some("<now>"),
                Some("2023-11-14 22:13:20.000000"),
                Some("9999-12-31 23:59:59.999999")
            ]
        );
        assert_eq!(t.rows[0][0].as_deref(), Some("2026-12-02 05:49:42.573832"));
    }

    #[test]
    fn tidy_removes_invisible_characters() {
        assert_eq!(
            super::tidy("CREATE TABLE 't' ( \n\ta INT\n);"),
            "CREATE TABLE 't' (\n  a INT\n)"
        );
        assert_eq!(
            super::tidy("CREATE TABLE 't' (\n\ta INT\n)\nWITH maxUncommittedRows=500000, o3MaxLag=600000000us;"),
            "CREATE TABLE 't' (\n  a INT\n)"
        );
        assert_eq!(
            super::tidy("CREATE TABLE 't' (\n\ta INT\n)\nWITH maxUncommittedRows=1000, o3MaxLag=600000000us"),
            "CREATE TABLE 't' (\n  a INT\n)\nWITH maxUncommittedRows=1000, o3MaxLag=600000000us"
        );
    }
}
