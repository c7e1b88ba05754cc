//! Properties without services: the DDL the sink issues can never be steered by a table or
//! column name (every identifier is exactly one double-quoted token holding the name), and the
//! connector-file parser never panics and reads back what a Java-escaped file says.

use proptest::prelude::*;
use sink::mapping::jdbc::ddl;
use sink::mapping::jdbc::{Column, Source, SqlType};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A double-quoted identifier, unquoted (`""` -> `"`).
    Quoted(String),
    Word(String),
    Number(String),
    Param(String),
    Punct(char),
}

/// A tokenizer for the SQL subset the DDL module emits. Anything else (a `;`, a `--`, a stray
/// quote, an unterminated identifier) is an error, so an injected statement cannot hide.
fn tokenize(sql: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' || c == '\n' {
            i += 1;
        } else if c == '"' {
            let mut name = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(format!("unterminated identifier in {sql:?}")),
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        name.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&other) => {
                        name.push(other);
                        i += 1;
                    }
                }
            }
            out.push(Token::Quoted(name));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphabetic() {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == '$' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i == start + 1 {
                return Err(format!("`$` without a number in {sql:?}"));
            }
            out.push(Token::Param(chars[start..i].iter().collect()));
        } else if matches!(c, '(' | ')' | ',') {
            out.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected {c:?} outside an identifier in {sql:?}"));
        }
    }
    Ok(out)
}

const KEYWORDS: &[&str] = &[
    "CREATE",
    "TABLE",
    "INSERT",
    "INTO",
    "VALUES",
    "ALTER",
    "ADD",
    "NULL",
    "NOT",
    "BOOLEAN",
    "SMALLINT",
    "INT",
    "BIGINT",
    "REAL",
    "DOUBLE",
    "PRECISION",
    "TEXT",
    "BYTEA",
    "DECIMAL",
    "DATE",
    "TIMESTAMP",
];

/// The identifiers of `sql`, in order; fails on any bare word that is not one of the DDL's own.
fn identifiers(sql: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for token in tokenize(sql)? {
        match token {
            Token::Quoted(name) => names.push(name),
            Token::Word(w) if KEYWORDS.contains(&w.as_str()) => {}
            Token::Word(w) => return Err(format!("bare word {w:?} in {sql:?}")),
            Token::Number(_) | Token::Param(_) | Token::Punct(_) => {}
        }
    }
    Ok(names)
}

/// Names an attacker or an odd topic could produce: anything, plus SQL-shaped text.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z\"';\\-\\(\\), \n]{0,16}",
        prop::sample::select(vec![
            "x\"; DROP TABLE y; --".to_string(),
            "\"".into(),
            "\"\"".into(),
            "a\" INT, \"b".into(),
            "t\") VALUES (1); --".into(),
            String::new(),
            "ünïcödé 名前 😀".into(),
            "select".into(),
        ]),
    ]
}

fn sql_type() -> impl Strategy<Value = SqlType> {
    prop_oneof![
        Just(SqlType::Boolean),
        Just(SqlType::SmallInt),
        Just(SqlType::Int),
        Just(SqlType::BigInt),
        Just(SqlType::Real),
        Just(SqlType::DoublePrecision),
        Just(SqlType::Text),
        Just(SqlType::Bytea),
        (1u32..=76)
            .prop_flat_map(|p| (Just(p), 0..=p))
            .prop_map(|(precision, scale)| SqlType::Decimal { precision, scale }),
        Just(SqlType::Date),
        Just(SqlType::Timestamp),
    ]
}

fn columns() -> impl Strategy<Value = Vec<Column>> {
    prop::collection::vec(
        (name(), sql_type(), any::<bool>()).prop_map(|(name, sql_type, nullable)| Column {
            name,
            sql_type,
            nullable,
            has_default: false,
            source: Source::Field(0),
        }),
        1..8,
    )
}

fn names_of(table: &str, columns: &[Column]) -> Vec<String> {
    std::iter::once(table.to_string())
        .chain(columns.iter().map(|c| c.name.clone()))
        .collect()
}

/// Java `Properties` escaping of a key or value: what `Properties.store` writes.
fn java_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x0c' => out.push_str("\\f"),
            '=' | ':' | '#' | '!' | ' ' => {
                out.push('\\');
                out.push(c);
            }
            other => out.push(other),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(1000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn create_table_quotes_every_identifier(table in name(), columns in columns()) {
        let sql = ddl::create_table(&table, &columns);
        prop_assert_eq!(identifiers(&sql).map_err(TestCaseError::fail)?, names_of(&table, &columns));
        // Each column name is followed by its type, not by anything a name could smuggle in.
        let tokens = tokenize(&sql).map_err(TestCaseError::fail)?;
        for (i, t) in tokens.iter().enumerate().skip(3) {
            if let Token::Quoted(_) = t {
                prop_assert!(matches!(tokens.get(i + 1), Some(Token::Word(_))), "{}", sql);
            }
        }
    }

    #[test]
    fn insert_quotes_every_identifier(table in name(), columns in columns()) {
        let sql = ddl::insert(&table, &columns);
        prop_assert_eq!(identifiers(&sql).map_err(TestCaseError::fail)?, names_of(&table, &columns));
        let params = tokenize(&sql)
            .map_err(TestCaseError::fail)?
            .into_iter()
            .filter(|t| matches!(t, Token::Param(_)))
            .count();
        prop_assert_eq!(params, columns.len());
    }

    #[test]
    fn add_columns_quotes_every_identifier(table in name(), columns in columns()) {
        let refs: Vec<&Column> = columns.iter().collect();
        let statements = ddl::add_columns(&table, &refs);
        prop_assert_eq!(statements.len(), columns.len());
        for (sql, column) in statements.iter().zip(&columns) {
            prop_assert_eq!(identifiers(sql).map_err(TestCaseError::fail)?, vec![table.clone(), column.name.clone()]);
        }
    }

    #[test]
    fn quote_round_trips(name in name()) {
        let tokens = tokenize(&ddl::quote(&name)).map_err(TestCaseError::fail)?;
        prop_assert_eq!(tokens, vec![Token::Quoted(name)]);
    }

    #[test]
    fn properties_parse_never_panics(text in prop_oneof![
        any::<String>(),
        "[a-z=:\\\\ \t\n\r#!u0-9A-Fé😀]{0,80}",
    ]) {
        let _ = sink::config::properties::parse(&text);
    }

    #[test]
    fn properties_read_back_what_java_escaping_wrote(
        entries in prop::collection::vec(("[a-z][a-z0-9.]{0,12}", any::<String>()), 0..8),
        separator in prop::sample::select(vec!["=", ": ", " ", " = "]),
    ) {
        let mut expected = BTreeMap::new();
        let mut text = String::from("# written by the property test\n");
        for (k, v) in &entries {
            text.push_str(&format!("{}{separator}{}\n", java_escape(k), java_escape(v)));
            expected.insert(k.clone(), v.clone());
        }
        prop_assert_eq!(sink::config::properties::parse(&text), expected, "{:?}", text);
    }
}
