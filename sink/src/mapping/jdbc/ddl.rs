//! The SQL text the JDBC sink's PostgreSQL dialect issues (section 3 of the reference):
//! identifiers always double-quoted, `NULL`/`NOT NULL` per field, no `DEFAULT` (QuestDB
//! rejects it in a column definition, so defaults are applied while decoding instead), and no
//! primary key clause (QuestDB has none).

use crate::mapping::jdbc::native::{Dedup, NativeTable};
use crate::mapping::jdbc::{Column, Source};

/// `"name"`, with embedded double quotes doubled so no name can end the identifier early.
pub fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn column_definition(column: &Column) -> String {
    let null = if column.nullable { "NULL" } else { "NOT NULL" };
    format!("{} {} {}", quote(&column.name), column.sql_type, null)
}

/// `CREATE TABLE "t" (` then one line per column, as the JDBC sink lays it out.
pub fn create_table(table: &str, columns: &[Column]) -> String {
    let definitions: Vec<String> = columns.iter().map(column_definition).collect();
    format!(
        "CREATE TABLE {} (\n{})",
        quote(table),
        definitions.join(",\n")
    )
}

/// `CREATE TABLE` for the configured kind of table: the JDBC sink's text, followed for a native
/// table by its designated timestamp, partitioning, WAL and DEDUP keys.
pub fn create_table_for(table: &str, columns: &[Column], native: Option<&NativeTable>) -> String {
    let mut sql = create_table(table, columns);
    if let Some(native) = native {
        sql.push_str(&native_suffix(native, columns));
    }
    sql
}

/// What follows the column list of a native table's `CREATE TABLE`: its designated timestamp,
/// partitioning, WAL, and DEDUP keys (the designated timestamp first, as QuestDB requires).
fn native_suffix(native: &NativeTable, columns: &[Column]) -> String {
    let timestamp = native.timestamp_column();
    let mut sql = format!(
        " TIMESTAMP({}) PARTITION BY {}",
        quote(timestamp),
        native.partition_by.sql()
    );
    sql.push_str(if native.wal { " WAL" } else { " BYPASS WAL" });
    let keys = dedup_keys(native, columns);
    if !keys.is_empty() {
        let keys: Vec<String> = keys.iter().map(|k| quote(k)).collect();
        sql.push_str(&format!("\nDEDUP UPSERT KEYS({})", keys.join(",")));
    }
    sql
}

/// A native table's DEDUP UPSERT KEYS, the designated timestamp first (QuestDB requires it
/// among them); none without `Dedup`.
pub fn dedup_keys<'a>(native: &'a NativeTable, columns: &'a [Column]) -> Vec<&'a str> {
    let timestamp = native.timestamp_column();
    let keys: Vec<&str> = match &native.dedup {
        Dedup::None => return Vec::new(),
        Dedup::Kafka => vec!["__connect_topic", "__connect_partition", "__connect_offset"],
        Dedup::Fields(fields) => fields.iter().map(String::as_str).collect(),
        Dedup::RecordKey => columns
            .iter()
            .filter(|c| matches!(c.source, Source::Key(_)))
            .map(|c| c.name.as_str())
            .collect(),
    };
    if keys.is_empty() {
        return keys;
    }
    std::iter::once(timestamp)
        .chain(keys.into_iter().filter(|k| *k != timestamp))
        .collect()
}

/// One `ALTER TABLE "t" ADD "c" TYPE NULL` per missing column.
pub fn add_columns(table: &str, columns: &[&Column]) -> Vec<String> {
    columns
        .iter()
        .map(|column| {
            format!(
                "ALTER TABLE {} ADD {}",
                quote(table),
                column_definition(column)
            )
        })
        .collect()
}

/// A prepared insert of every column, `$1..$n` placeholders in column order.
pub fn insert(table: &str, columns: &[Column]) -> String {
    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(table),
        names.join(","),
        placeholders.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::jdbc::{Column, Source, SqlType};
    use rstest::rstest;

    fn col(name: &str, sql_type: SqlType, nullable: bool) -> Column {
        Column {
            name: name.into(),
            sql_type,
            nullable,
            has_default: false,
            source: Source::Field(0),
        }
    }

    #[rstest]
    #[case::plain("t", "\"t\"")]
    #[case::hyphen("example-topic", "\"example-topic\"")]
    #[case::upper("MixedCase", "\"MixedCase\"")]
    #[case::reserved("select", "\"select\"")]
    #[case::embedded_quote("a\"b", "\"a\"\"b\"")]
    #[case::injection("x\"; DROP TABLE y; --", "\"x\"\"; DROP TABLE y; --\"")]
    fn quotes_identifiers(#[case] name: &str, #[case] quoted: &str) {
        assert_eq!(quote(name), quoted);
    }

    #[test]
    fn create_table_lists_columns_in_order_with_nullability() {
        let sql = create_table(
            "example-topic",
            &[
                col("flag", SqlType::Boolean, false),
                col("msg", SqlType::Text, true),
            ],
        );
        assert_eq!(
            sql,
            "CREATE TABLE \"example-topic\" (\n\"flag\" BOOLEAN NOT NULL,\n\"msg\" TEXT NULL)"
        );
    }

    #[test]
    fn native_table_declares_timestamp_partitions_wal_and_keys() {
        use crate::mapping::jdbc::native::{Dedup, DesignatedTimestamp, NativeTable, PartitionBy};
        let columns = [
            col("at", SqlType::Timestamp, false),
            col("id", SqlType::Int, false),
        ];
        let native = NativeTable {
            timestamp: DesignatedTimestamp::Field("at".into()),
            partition_by: PartitionBy::Day,
            wal: true,
            dedup: Dedup::Fields(vec!["id".into()]),
        };
        assert_eq!(
            create_table_for("t", &columns, Some(&native)),
            "CREATE TABLE \"t\" (\n\"at\" TIMESTAMP NOT NULL,\n\"id\" INT NOT NULL) TIMESTAMP(\"at\") PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(\"at\",\"id\")"
        );
        assert_eq!(
            create_table_for("t", &columns, None),
            create_table("t", &columns)
        );
    }

    #[test]
    fn add_columns_issues_one_statement_per_column() {
        let a = col("a", SqlType::Int, true);
        let b = col(
            "b",
            SqlType::Decimal {
                precision: 10,
                scale: 2,
            },
            true,
        );
        assert_eq!(
            add_columns("t", &[&a, &b]),
            vec![
                "ALTER TABLE \"t\" ADD \"a\" INT NULL",
                "ALTER TABLE \"t\" ADD \"b\" DECIMAL(10,2) NULL"
            ]
        );
    }

    #[test]
    fn insert_has_a_placeholder_per_column() {
        let sql = insert(
            "t",
            &[col("a", SqlType::Int, false), col("b", SqlType::Text, true)],
        );
        assert_eq!(sql, "INSERT INTO \"t\" (\"a\",\"b\") VALUES ($1,$2)");
    }

    mod native_suffix {
        use super::super::native_suffix;
        use crate::mapping::jdbc::native::{Dedup, DesignatedTimestamp, NativeTable, PartitionBy};
        use crate::mapping::jdbc::{Column, Source, SqlType};

        fn native(timestamp: DesignatedTimestamp, dedup: Dedup) -> NativeTable {
            NativeTable {
                timestamp,
                partition_by: PartitionBy::Day,
                wal: true,
                dedup,
            }
        }

        fn col(name: &str, sql_type: SqlType, source: Source) -> Column {
            Column {
                name: name.into(),
                sql_type,
                nullable: false,
                has_default: false,
                source,
            }
        }

        fn kafka_columns() -> Vec<Column> {
            vec![
                col("id", SqlType::Int, Source::Field(0)),
                col("at", SqlType::Timestamp, Source::Field(1)),
            ]
        }

        #[test]
        fn kafka_coordinates_are_the_keys_after_the_timestamp() {
            let n = native(DesignatedTimestamp::Kafka, Dedup::Kafka);
            assert_eq!(
                native_suffix(&n, &kafka_columns()),
                " TIMESTAMP(\"__connect_timestamp\") PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(\"__connect_timestamp\",\"__connect_topic\",\"__connect_partition\",\"__connect_offset\")"
            );
        }

        #[test]
        fn upsert_keys_start_with_the_timestamp_once() {
            let mut n = native(
                DesignatedTimestamp::Field("at".into()),
                Dedup::Fields(vec!["id".into(), "at".into()]),
            );
            n.partition_by = PartitionBy::Month;
            assert!(n.columns(kafka_columns()).is_ok());
            assert_eq!(
                native_suffix(&n, &kafka_columns()),
                " TIMESTAMP(\"at\") PARTITION BY MONTH WAL\nDEDUP UPSERT KEYS(\"at\",\"id\")"
            );
        }

        #[test]
        fn record_key_dedup_keys_are_the_key_columns() {
            let n = native(DesignatedTimestamp::Field("at".into()), Dedup::RecordKey);
            let columns = vec![
                col("region", SqlType::Text, Source::Key(Some(1))),
                col("id", SqlType::Int, Source::Key(Some(0))),
                col("at", SqlType::Timestamp, Source::Field(0)),
                col("msg", SqlType::Text, Source::Field(1)),
            ];
            assert_eq!(
                native_suffix(&n, &columns),
                " TIMESTAMP(\"at\") PARTITION BY DAY WAL\nDEDUP UPSERT KEYS(\"at\",\"region\",\"id\")"
            );
        }

        #[test]
        fn without_wal_or_dedup_the_suffix_says_so() {
            let mut n = native(DesignatedTimestamp::Field("at".into()), Dedup::None);
            n.wal = false;
            assert_eq!(
                native_suffix(&n, &kafka_columns()),
                " TIMESTAMP(\"at\") PARTITION BY DAY BYPASS WAL"
            );
        }
    }
}
