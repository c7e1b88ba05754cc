//! Tables as the JDBC sink manages them: created when missing (`auto.create`), given the
//! columns a record brings (`auto.evolve`), with the columns seen so far cached.

use crate::config::SinkConfig;
use crate::error::Problem;
use crate::mapping::jdbc::{ddl, dedup_check, Column};
use crate::write::pg::QuestDb;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Tables {
    /// Lower-cased column names of the tables seen so far (QuestDB names are case-insensitive).
    known: HashMap<String, HashSet<String>>,
}

impl Tables {
    /// Forgets `table` (dropped under the sink): the next `ensure` reads or creates it anew.
    pub fn forget(&mut self, table: &str) {
        self.known.remove(table);
    }

    /// Creates the table or adds missing columns, as `auto.create` / `auto.evolve` allow;
    /// every statement issued is passed to `issued`.
    pub async fn ensure(
        &mut self,
        db: &QuestDb,
        config: &SinkConfig,
        table: &str,
        columns: &[Column],
        issued: &mut impl FnMut(&str),
    ) -> Result<(), Problem> {
        if !self.known.contains_key(table) {
            match db.find_table(table).await.map_err(Problem::Write)? {
                Some(existing) => {
                    check_dedup(db, config, &existing, columns).await?;
                    let known = db.columns(&existing).await.map_err(Problem::Write)?;
                    self.known.insert(
                        table.to_string(),
                        known.into_iter().map(|c| c.name.to_lowercase()).collect(),
                    );
                }
                None if config.auto_create => {
                    let sql = ddl::create_table_for(table, columns, config.native.as_ref());
                    match issue(db, &sql, issued).await {
                        Ok(()) => {
                            self.known.insert(
                                table.to_string(),
                                columns.iter().map(|c| c.name.to_lowercase()).collect(),
                            );
                            return Ok(());
                        }
                        // Another task of the connector created it meanwhile (as the JDBC
                        // sink does: re-read the table after a failed CREATE, then amend it).
                        Err(e) => match created_meanwhile(db, table).await {
                            Some(existing) => {
                                let known = db.columns(&existing).await.map_err(Problem::Write)?;
                                self.known.insert(
                                    table.to_string(),
                                    known.into_iter().map(|c| c.name.to_lowercase()).collect(),
                                );
                            }
                            _ => return Err(e),
                        },
                    }
                }
                None => {
                    return Err(Problem::TableMissing {
                        table: table.to_string(),
                    })
                }
            }
        }
        let known = &self.known[table];
        let missing: Vec<&Column> = columns
            .iter()
            .filter(|c| !known.contains(&c.name.to_lowercase()))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if !config.auto_evolve {
            let fields = missing
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Problem::MissingFields {
                table: table.to_string(),
                fields,
            });
        }
        if let Some(required) = missing.iter().find(|c| !c.nullable && !c.has_default) {
            return Err(Problem::RequiredFieldAdded {
                table: table.to_string(),
                field: required.name.clone(),
            });
        }
        for sql in ddl::add_columns(table, &missing) {
            issue(db, &sql, issued).await?;
        }
        let names: Vec<String> = missing.iter().map(|c| c.name.to_lowercase()).collect();
        self.known
            .get_mut(table)
            .expect("cached above")
            .extend(names);
        Ok(())
    }
}

/// A table the sink did not create must deduplicate as the one it would create (`pk.mode=kafka`
/// or upsert keys on a native table), or a record read again is stored twice.
/// Deviation: the JDBC sink checks an existing table's columns only; this sink stops on a
/// native table without its DEDUP keys (docs/native-tables.md).
async fn check_dedup(
    db: &QuestDb,
    config: &SinkConfig,
    table: &str,
    columns: &[Column],
) -> Result<(), Problem> {
    let Some(native) = config.native.as_ref() else {
        return Ok(());
    };
    let wanted = ddl::dedup_keys(native, columns);
    if wanted.is_empty() {
        return Ok(());
    }
    let existing = db.existing_table(table).await.map_err(Problem::Write)?;
    dedup_check::check(table, &wanted, &existing).map_err(Problem::DedupKeys)
}

/// After a CREATE TABLE failed: the table another process created meanwhile. QuestDB
/// refuses the name as soon as the other CREATE holds it, a moment before `tables()` lists
/// it (measured: two sink tasks starting together), so look for up to about a second.
async fn created_meanwhile(db: &QuestDb, table: &str) -> Option<String> {
    for _ in 0..20 {
        match db.find_table(table).await {
            Ok(Some(existing)) => return Some(existing),
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(_) => return None,
        }
    }
    None
}

async fn issue(db: &QuestDb, sql: &str, issued: &mut impl FnMut(&str)) -> Result<(), Problem> {
    tracing::info!("DDL: {sql}");
    db.execute(sql).await.map_err(Problem::Write)?;
    issued(sql);
    Ok(())
}
