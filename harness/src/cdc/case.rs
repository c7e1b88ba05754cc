//! The change-data-capture case format (`fixtures/cdc/*.cdc`): the SQL run on PostgreSQL while
//! Debezium streams it, and how the source connector and the sink are configured.
//!
//! ```text
//! # What the case shows (comment lines).
//! @source time.precision.mode=connect    a Debezium Postgres connector setting (repeatable)
//! @family questdb-connector             the properties QuestDB's connector reads
//!                                        (fixtures/questdb-connector/connector.properties);
//!                                        default: the seed's connect-jdbc.properties
//! @set insert.mode=upsert                a sink property over the family's file (repeatable)
//! @table ${prefix}.public.items          a QuestDB table to read back (repeatable; default:
//!                                        the table each captured topic names)
//! CREATE TABLE items (id int PRIMARY KEY, price numeric(10,2));
//! INSERT INTO items VALUES (1, 9.99);
//! ```
//!
//! Every other line is SQL: a statement ends with a line ending in `;` (outside a `$$` body)
//! and runs on its own, in autocommit, in the order written. `${prefix}` is the case's Debezium `topic.prefix`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::fixture::Family;

/// A parsed `.cdc` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdcCase {
    /// `cdc/<file stem>`: the snapshot's and the log's name.
    pub name: String,
    /// The file stem with `-` as `_`: the case's database, topic prefix, slot and publication.
    pub prefix: String,
    /// The source connector's settings over the harness's.
    pub source: BTreeMap<String, String>,
    /// Which file the sink's properties start from.
    pub family: Family,
    /// The sink's properties over the family's file, `${prefix}` replaced.
    pub sink: BTreeMap<String, String>,
    /// The tables to read back, `${prefix}` replaced; empty: one per captured topic.
    pub tables: Vec<String>,
    /// The statements, each with the line it starts on.
    pub statements: Vec<(usize, String)>,
}

impl CdcCase {
    /// Reads `path`; the case is named for its path under `fixtures/` without the extension
    /// (`cdc/upserts`, `cdc/slow/upstream-200k`), or `cdc/<stem>` outside it.
    pub fn load(path: &Path) -> Result<CdcCase, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case = parse(&stem, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let root = crate::fixture::root();
        let relative = path
            .canonicalize()
            .ok()
            .zip(root.canonicalize().ok())
            .and_then(|(p, r)| p.strip_prefix(r).ok().map(|p| p.with_extension("")));
        if let Some(relative) = relative {
            case.name = relative.to_string_lossy().into_owned();
        }
        Ok(case)
    }
}

/// Parses the text of the case `stem`.
pub fn parse(stem: &str, text: &str) -> Result<CdcCase, String> {
    let prefix = prefix_of(stem)?;
    let mut case = CdcCase {
        name: format!("cdc/{stem}"),
        prefix: prefix.clone(),
        source: BTreeMap::new(),
        family: Family::Jdbc,
        sink: BTreeMap::new(),
        tables: Vec::new(),
        statements: Vec::new(),
    };
    let mut statement: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim();
        if statement.is_none() {
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("--") {
                continue;
            }
            if let Some(directive) = trimmed.strip_prefix('@') {
                directive_line(&mut case, directive, &prefix)
                    .map_err(|e| format!("line {n}: {e}"))?;
                continue;
            }
        }
        let (_, sql) = statement.get_or_insert_with(|| (n, String::new()));
        if !sql.is_empty() {
            sql.push('\n');
        }
        sql.push_str(line.trim_end());
        // Inside a `$$ ... $$` body (a DO block, a function) a `;` does not end the statement.
        if trimmed.ends_with(';') && sql.matches("$$").count() % 2 == 0 {
            case.statements.extend(statement.take());
        }
    }
    if let Some((n, _)) = statement {
        return Err(format!(
            "line {n}: a statement without its closing `;` at the end of a line"
        ));
    }
    if case.statements.is_empty() {
        return Err("no SQL statement".to_owned());
    }
    Ok(case)
}

fn directive_line(case: &mut CdcCase, directive: &str, prefix: &str) -> Result<(), String> {
    let (word, rest) = directive
        .split_once(char::is_whitespace)
        .map_or((directive, ""), |(w, r)| (w, r.trim()));
    let pair = || {
        rest.split_once('=')
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("@{word} wants key=value, got {rest:?}"))
    };
    match word {
        "source" => {
            let (k, v) = pair()?;
            case.source.insert(k, v);
        }
        "set" => {
            let (k, v) = pair()?;
            case.sink.insert(k, v.replace("${prefix}", prefix));
        }
        "family" => {
            case.family = match rest {
                "jdbc" => Family::Jdbc,
                "questdb-connector" => Family::QuestDbConnector,
                other => {
                    return Err(format!(
                        "@family {other:?}: expected jdbc or questdb-connector"
                    ))
                }
            }
        }
        "table" if !rest.is_empty() => case.tables.push(rest.replace("${prefix}", prefix)),
        "table" => return Err("@table wants a name".to_owned()),
        other => {
            return Err(format!(
                "unknown directive @{other}: expected @source, @family, @set or @table"
            ))
        }
    }
    Ok(())
}

/// `inserts-updates` -> `cdc_inserts_updates`: a name PostgreSQL takes unquoted for the
/// database, the replication slot (lower-case letters, digits, `_`) and the publication.
fn prefix_of(stem: &str) -> Result<String, String> {
    let prefix = format!("cdc_{}", stem.replace('-', "_"));
    if prefix.len() > 50
        || !prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "a case's file name must be lower-case letters, digits and `-` (at most 46), not {stem:?}"
        ));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directives_and_statements() {
        let case = parse(
            "upserts-and-deletes",
            "# a comment\n\
             @source time.precision.mode=connect\n\
             @set insert.mode = upsert\n\
             @table ${prefix}.public.items\n\
             \n\
             CREATE TABLE items (\n  id int PRIMARY KEY\n);\n\
             -- a SQL comment between statements\n\
             INSERT INTO items VALUES (1);\n",
        )
        .unwrap();
        assert_eq!(case.name, "cdc/upserts-and-deletes");
        assert_eq!(case.prefix, "cdc_upserts_and_deletes");
        assert_eq!(case.source["time.precision.mode"], "connect");
        assert_eq!(case.sink["insert.mode"], "upsert");
        assert_eq!(case.tables, ["cdc_upserts_and_deletes.public.items"]);
        assert_eq!(
            case.statements,
            [
                (
                    6,
                    "CREATE TABLE items (\n  id int PRIMARY KEY\n);".to_owned()
                ),
                (10, "INSERT INTO items VALUES (1);".to_owned())
            ]
        );
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        let err = |stem: &str, text: &str| parse(stem, text).unwrap_err();
        assert!(err("a", "SELECT 1").contains("closing `;`"));
        assert!(err("a", "# nothing\n").contains("no SQL"));
        assert!(err("a", "@sql x\nSELECT 1;").contains("unknown directive @sql"));
        assert!(err("a", "@set novalue\nSELECT 1;").contains("key=value"));
        assert!(err("Upper", "SELECT 1;").contains("lower-case"));
        assert!(err("a", "@family avro\nSELECT 1;").contains("questdb-connector"));
        let qdb = parse(
            "a",
            "@family questdb-connector\n@set table=${prefix}_t\nSELECT 1;",
        )
        .unwrap();
        assert_eq!(qdb.family, Family::QuestDbConnector);
        assert_eq!(qdb.sink["table"], "cdc_a_t");
    }

    #[test]
    fn a_dollar_quoted_body_is_one_statement() {
        let case = parse("a", "DO $$\nBEGIN\n  PERFORM 1;\nEND $$;\nSELECT 2;\n").unwrap();
        assert_eq!(case.statements.len(), 2);
        assert_eq!(case.statements[0].1, "DO $$\nBEGIN\n  PERFORM 1;\nEND $$;");
    }
}
