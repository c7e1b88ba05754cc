//! What flattening makes: the values on their way ([`Datum`]), the ILP row's cells, and the
//! errors QuestDB's connector reports for a record, with the Java class names it uses.

use super::loose::{java_double, Loose};
use crate::connect::schema::Schema;
use crate::connect::value::Value;
use crate::mapping::jdbc::{Column, DoubleArray, Source, SqlParam, SqlType};

/// The name the ILP writer knows the designated timestamp by: empty, so that no field (whose
/// column name QuestDB requires to be non-empty) can be mistaken for it.
pub const DESIGNATED: &str = "";

/// A key or value as the converter produced it.
#[derive(Debug, Clone, Copy)]
pub enum Datum<'a> {
    /// JsonConverter with schemas (or StringConverter: an optional string schema).
    Schema(&'a Schema, &'a Value),
    /// JsonConverter with `schemas.enable=false`.
    Loose(&'a Loose),
}

impl Datum<'_> {
    pub(super) fn is_null(&self) -> bool {
        matches!(
            self,
            Datum::Schema(_, Value::Null) | Datum::Loose(Loose::Null)
        )
    }

    /// Java's `toString()` of the value, where it is plain (`${key}`, composed timestamps).
    pub fn java_string(&self) -> Option<String> {
        Some(match self {
            Datum::Loose(v) => v.java_string(),
            Datum::Schema(schema, v) => match v {
                Value::Null => "null".into(),
                Value::Boolean(b) => b.to_string(),
                Value::Int8(x) => x.to_string(),
                Value::Int16(x) => x.to_string(),
                Value::Int32(x) => x.to_string(),
                Value::Int64(x) => x.to_string(),
                Value::Float32(x) => super::loose::java_float(*x),
                Value::Float64(x) => java_double(*x),
                Value::String(s) => s.clone(),
                Value::Decimal(d) => d.to_string(),
                // Connect's `Struct.toString()`: its non-null fields, `Struct{a=1,b=x}`.
                Value::Struct(fields) => {
                    let mut parts = Vec::new();
                    for (name, v) in fields.iter().filter(|(_, v)| !v.is_null()) {
                        let schema = schema.field(name).map(|f| &f.schema)?;
                        parts.push(format!(
                            "{name}={}",
                            Datum::Schema(schema, v).java_string()?
                        ));
                    }
                    format!("Struct{{{}}}", parts.join(","))
                }
                // Dates, bytes, arrays and maps print as Java prints them (time zones, hash
                // codes): not spelled here.
                _ => return None,
            },
        })
    }
}

/// One column value of an ILP row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Symbol(String),
    Str(String),
    Long(i64),
    Double(f64),
    Bool(bool),
    /// Microseconds since the epoch.
    Timestamp(i64),
    Array(DoubleArray),
}

impl Cell {
    /// The order QuestDB's connector sends columns in when `symbols` is set (its buffering
    /// sender groups them by kind), which is the order ILP creates them in.
    pub(super) fn rank(&self) -> u8 {
        match self {
            Cell::Symbol(_) => 0,
            Cell::Str(_) => 1,
            Cell::Long(_) => 2,
            Cell::Double(_) => 3,
            Cell::Bool(_) => 4,
            Cell::Timestamp(_) => 5,
            Cell::Array(DoubleArray::D1(_)) => 6,
            Cell::Array(DoubleArray::D2(_)) => 7,
            Cell::Array(DoubleArray::D3(_)) => 8,
        }
    }
}

/// What a record becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct IlpRow {
    pub table: String,
    pub cells: Vec<(String, Cell)>,
    /// Microseconds; `None`: the server's clock.
    pub timestamp: Option<i64>,
}

impl IlpRow {
    /// The row as the writer takes it: one column per cell, the designated timestamp last.
    pub fn into_sql(self) -> (Vec<Column>, Vec<SqlParam>) {
        let mut columns = Vec::with_capacity(self.cells.len() + 1);
        let mut params = Vec::with_capacity(self.cells.len() + 1);
        for (i, (name, cell)) in self.cells.into_iter().enumerate() {
            let (sql_type, param) = match cell {
                Cell::Symbol(s) => (SqlType::Symbol, SqlParam::Symbol(s)),
                Cell::Str(s) => (SqlType::Text, SqlParam::Text(s)),
                Cell::Long(v) => (SqlType::BigInt, SqlParam::I64(v)),
                Cell::Double(v) => (SqlType::DoublePrecision, SqlParam::F64(v)),
                Cell::Bool(v) => (SqlType::Boolean, SqlParam::Bool(v)),
                Cell::Timestamp(v) => (SqlType::Timestamp, SqlParam::TimestampMicros(v)),
                Cell::Array(a) => (SqlType::DoubleArray(a.dims()), SqlParam::DoubleArray(a)),
            };
            columns.push(Column {
                name,
                sql_type,
                nullable: true,
                has_default: false,
                source: Source::Field(i),
            });
            params.push(param);
        }
        columns.push(Column {
            name: DESIGNATED.into(),
            sql_type: SqlType::Timestamp,
            nullable: true,
            has_default: false,
            source: Source::KafkaTimestamp,
        });
        params.push(
            self.timestamp
                .map_or(SqlParam::Null, SqlParam::TimestampMicros),
        );
        (columns, params)
    }
}

/// Why a record cannot be written, in the connector's words where it has them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    /// Skipped instead with `skip.unsupported.types=true`.
    #[error(
        "Unsupported type: {what}, name: {name} (skip.unsupported.types=true drops such fields)"
    )]
    Unsupported { name: String, what: String },
    #[error("{0}")]
    Invalid(String),
}

/// The Java class of a Connect value, as the connector names it in errors.
pub(super) fn java_class(d: &Datum) -> &'static str {
    match d {
        Datum::Loose(v) => match v {
            Loose::Null => "null",
            Loose::Bool(_) => "java.lang.Boolean",
            Loose::Long(_) => "java.lang.Long",
            Loose::Double(_) => "java.lang.Double",
            Loose::String(_) => "java.lang.String",
            Loose::List(_) => "java.util.ArrayList",
            Loose::Map(_) => "java.util.HashMap",
        },
        Datum::Schema(_, v) => match v {
            Value::Boolean(_) => "java.lang.Boolean",
            Value::Int8(_) => "java.lang.Byte",
            Value::Int16(_) => "java.lang.Short",
            Value::Int32(_) => "java.lang.Integer",
            Value::Int64(_) => "java.lang.Long",
            Value::Float32(_) => "java.lang.Float",
            Value::Float64(_) => "java.lang.Double",
            Value::Bytes(_) => "[B",
            Value::String(_) => "java.lang.String",
            Value::Decimal(_) => "java.math.BigDecimal",
            Value::Array(_) => "java.util.ArrayList",
            Value::Map(_) => "java.util.HashMap",
            Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
            _ => "java.util.Date",
        },
    }
}

pub(super) fn short_class(v: &Loose) -> &'static str {
    match v {
        Loose::Null => "null",
        Loose::Bool(_) => "Boolean",
        Loose::Long(_) => "Long",
        Loose::Double(_) => "Double",
        Loose::String(_) => "String",
        Loose::List(_) => "ArrayList",
        Loose::Map(_) => "HashMap",
    }
}
