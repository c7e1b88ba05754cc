//! Opt-in QuestDB-native tables: a designated timestamp, partitioning, WAL and DEDUP keys.
//!
//! The JDBC sink knows none of this; it is switched on by the QuestDB Kafka connector's own
//! keys (`timestamp.field.name`, `timestamp.kafka.native`) so that a config written for that
//! connector reads the same here. Without them the sink creates exactly the tables it always did.

use crate::mapping::jdbc::{Column, MappingError, Source, SqlParam, SqlType};

/// The column holding the Kafka record timestamp with `timestamp.kafka.native=true`.
/// Deviation: the QuestDB connector calls it `timestamp`; named like the `pk.mode=kafka`
/// coordinates here so it cannot clash with a value field of the record.
pub const KAFKA_TIMESTAMP_COLUMN: &str = "__connect_timestamp";

/// The designated timestamps QuestDB stores, in microseconds: from 1970-01-01 to the end of
/// 9999-12-31. Outside them it refuses the row ("designated timestamp before 1970-01-01 / beyond
/// 9999-12-31 is not allowed", over PG wire and ILP alike; measured on 9.3.4).
pub const DESIGNATED_MICROS: std::ops::RangeInclusive<i64> = 0..=253_402_300_799_999_999;

/// Where the designated timestamp comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DesignatedTimestamp {
    /// A value field with Connect's Timestamp logical type (`timestamp.field.name`).
    Field(String),
    /// The Kafka record's own timestamp (`timestamp.kafka.native=true`).
    Kafka,
}

/// QuestDB's `PARTITION BY` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionBy {
    None,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl PartitionBy {
    pub fn parse(text: &str) -> Option<PartitionBy> {
        Some(match text.to_ascii_uppercase().as_str() {
            "NONE" => PartitionBy::None,
            "HOUR" => PartitionBy::Hour,
            "DAY" => PartitionBy::Day,
            "WEEK" => PartitionBy::Week,
            "MONTH" => PartitionBy::Month,
            "YEAR" => PartitionBy::Year,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            PartitionBy::None => "NONE",
            PartitionBy::Hour => "HOUR",
            PartitionBy::Day => "DAY",
            PartitionBy::Week => "WEEK",
            PartitionBy::Month => "MONTH",
            PartitionBy::Year => "YEAR",
        }
    }
}

/// Which columns, besides the designated timestamp, identify a row for `DEDUP UPSERT KEYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dedup {
    None,
    /// `pk.mode=kafka`: the record's topic, partition and offset.
    Kafka,
    /// `insert.mode=upsert` with `pk.mode=record_value`: these value fields.
    /// Deviation: the designated timestamp is always a key too (QuestDB's rule), so the same
    /// fields at another timestamp make a new row where the JDBC sink would update; see
    /// docs/native-tables.md.
    Fields(Vec<String>),
    /// `insert.mode=upsert` with `pk.mode=record_key`: the key's columns (same deviation).
    RecordKey,
}

/// How a native table is declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeTable {
    pub timestamp: DesignatedTimestamp,
    pub partition_by: PartitionBy,
    pub wal: bool,
    pub dedup: Dedup,
}

impl NativeTable {
    /// The designated timestamp column's name.
    pub fn timestamp_column(&self) -> &str {
        match &self.timestamp {
            DesignatedTimestamp::Field(name) => name,
            DesignatedTimestamp::Kafka => KAFKA_TIMESTAMP_COLUMN,
        }
    }

    /// Completes the JDBC sink's columns for a native table: the Kafka timestamp column after the
    /// coordinates, and checks that the timestamp and key fields are columns of the right type.
    pub fn columns(&self, mut columns: Vec<Column>) -> Result<Vec<Column>, MappingError> {
        match &self.timestamp {
            DesignatedTimestamp::Kafka => {
                let at = columns
                    .iter()
                    .take_while(|c| !matches!(c.source, Source::Field(_)))
                    .count();
                columns.insert(
                    at,
                    Column {
                        name: KAFKA_TIMESTAMP_COLUMN.into(),
                        sql_type: SqlType::Timestamp,
                        nullable: false,
                        has_default: false,
                        source: Source::KafkaTimestamp,
                    },
                );
            }
            DesignatedTimestamp::Field(name) => {
                let column = find(&columns, name, "timestamp.field.name")?;
                if column.sql_type != SqlType::Timestamp {
                    return Err(MappingError::NativeKey {
                        field: name.clone(),
                        key: "timestamp.field.name",
                        why: format!("is {}, but a designated timestamp must be a Connect Timestamp (org.apache.kafka.connect.data.Timestamp)", column.sql_type),
                    });
                }
            }
        }
        if let Dedup::Fields(fields) = &self.dedup {
            for field in fields {
                find(&columns, field, "pk.fields")?;
            }
        }
        Ok(columns)
    }

    /// Refuses a row QuestDB cannot store, naming the field: its designated timestamp is null
    /// (a null or missing optional field) or outside [`DESIGNATED_MICROS`]. Checked here so
    /// that the record is a bad record with a clear error on every write path, not a write
    /// QuestDB (or the ILP client) rejects with a message about the table.
    pub fn check_row(&self, columns: &[Column], params: &[SqlParam]) -> Result<(), MappingError> {
        let name = self.timestamp_column();
        let Some(param) = columns
            .iter()
            .position(|c| c.name == name)
            .and_then(|i| params.get(i))
        else {
            return Ok(());
        };
        let why = match param {
            SqlParam::Null => {
                "but is null, and QuestDB stores no row without its designated timestamp".into()
            }
            SqlParam::TimestampMicros(us) if !DESIGNATED_MICROS.contains(us) => format!(
                "but is {} ms since 1970-01-01, and QuestDB refuses a designated timestamp {}",
                us.div_euclid(1000),
                if *us < 0 {
                    "before 1970-01-01"
                } else {
                    "beyond 9999-12-31"
                }
            ),
            _ => return Ok(()),
        };
        Err(MappingError::DesignatedTimestamp {
            field: name.to_string(),
            key: match self.timestamp {
                DesignatedTimestamp::Field(_) => "timestamp.field.name",
                DesignatedTimestamp::Kafka => "timestamp.kafka.native",
            },
            why,
        })
    }
}

fn find<'c>(
    columns: &'c [Column],
    name: &str,
    key: &'static str,
) -> Result<&'c Column, MappingError> {
    columns
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| MappingError::NativeKey {
            field: name.to_string(),
            key,
            why: "is not a field of the record's value schema (or is left out by fields.whitelist)"
                .into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, sql_type: SqlType, source: Source) -> Column {
        Column {
            name: name.into(),
            sql_type,
            nullable: false,
            has_default: false,
            source,
        }
    }

    fn native(timestamp: DesignatedTimestamp, dedup: Dedup) -> NativeTable {
        NativeTable {
            timestamp,
            partition_by: PartitionBy::Day,
            wal: true,
            dedup,
        }
    }

    fn kafka_columns() -> Vec<Column> {
        vec![
            col("__connect_topic", SqlType::Text, Source::KafkaTopic),
            col("__connect_partition", SqlType::Int, Source::KafkaPartition),
            col("__connect_offset", SqlType::BigInt, Source::KafkaOffset),
            col("id", SqlType::Int, Source::Field(0)),
            col("at", SqlType::Timestamp, Source::Field(1)),
        ]
    }

    #[test]
    fn kafka_timestamp_column_follows_the_coordinates() {
        let n = native(DesignatedTimestamp::Kafka, Dedup::Kafka);
        let names: Vec<String> = n
            .columns(kafka_columns())
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(
            names,
            [
                "__connect_topic",
                "__connect_partition",
                "__connect_offset",
                "__connect_timestamp",
                "id",
                "at"
            ]
        );
    }

    #[test]
    fn timestamp_field_must_exist_and_be_a_timestamp() {
        let n = native(DesignatedTimestamp::Field("id".into()), Dedup::None);
        let e = n.columns(kafka_columns()).unwrap_err().to_string();
        assert!(
            e.contains("\"id\"") && e.contains("timestamp.field.name"),
            "{e}"
        );
        let n = native(DesignatedTimestamp::Field("nope".into()), Dedup::None);
        let e = n.columns(kafka_columns()).unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("not a field"), "{e}");
    }

    #[test]
    fn designated_timestamp_must_be_set_and_in_questdbs_range() {
        let n = native(DesignatedTimestamp::Field("at".into()), Dedup::None);
        let columns = kafka_columns();
        let row = |at: SqlParam| {
            let mut params = vec![
                SqlParam::Text("t".into()),
                SqlParam::I32(0),
                SqlParam::I64(0),
                SqlParam::I32(1),
            ];
            params.push(at);
            n.check_row(&columns, &params)
        };
        for ok in [0, 1_767_225_600_000_000, 253_402_300_799_999_999] {
            assert_eq!(row(SqlParam::TimestampMicros(ok)), Ok(()), "{ok}");
        }
        for (bad, what) in [
            (SqlParam::Null, "is null"),
            (SqlParam::TimestampMicros(-1), "-1 ms since 1970-01-01"),
            (SqlParam::TimestampMicros(-1000), "before 1970-01-01"),
            (
                SqlParam::TimestampMicros(253_402_300_800_000_000),
                "beyond 9999-12-31",
            ),
        ] {
            let e = row(bad).unwrap_err().to_string();
            assert!(
                e.contains("field \"at\"")
                    && e.contains("timestamp.field.name")
                    && e.contains(what),
                "{e}"
            );
        }
        let n = native(DesignatedTimestamp::Kafka, Dedup::None);
        let columns = n.columns(kafka_columns()).unwrap();
        let params = vec![
            SqlParam::Text("t".into()),
            SqlParam::I32(0),
            SqlParam::I64(0),
            SqlParam::TimestampMicros(-5_000),
            SqlParam::I32(1),
            SqlParam::TimestampMicros(-5_000),
        ];
        let e = n.check_row(&columns, &params).unwrap_err().to_string();
        assert!(
            e.contains("__connect_timestamp") && e.contains("timestamp.kafka.native"),
            "{e}"
        );
    }

    #[test]
    fn key_fields_must_exist() {
        let n = native(
            DesignatedTimestamp::Field("at".into()),
            Dedup::Fields(vec!["missing".into()]),
        );
        let e = n.columns(kafka_columns()).unwrap_err().to_string();
        assert!(e.contains("\"missing\"") && e.contains("pk.fields"), "{e}");
    }
}
