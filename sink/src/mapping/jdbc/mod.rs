//! Connect schema -> table columns, and Connect values -> SQL parameters.
//!
//! The column types are those of the JDBC sink's `PostgreSqlDatabaseDialect` (section 2 of the
//! reference), except where QuestDB cannot store the value as the reference declares it
//! (section 6): Time becomes INT milliseconds of day, Decimal carries its scale, and names
//! QuestDB rejects are refused before any SQL is sent.

pub mod ddl;
pub mod dedup_check;
pub mod flat;
pub mod native;

use crate::connect::schema::{Logical, Schema, Type};
use crate::connect::value::{Decimal, Value};
use std::fmt;

/// The largest precision QuestDB's DECIMAL accepts.
/// Which columns identify a row (`pk.mode`): what the JDBC sink adds or keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    None,
    /// Adds `__connect_topic`, `__connect_partition`, `__connect_offset` columns.
    Kafka,
    /// The `pk.fields` of the value identify a row (only with `insert.mode=upsert` on a native
    /// table, where they become DEDUP UPSERT KEYS).
    RecordValue,
    /// The record key (its `pk.fields`, or all its fields) identifies a row, in columns of its
    /// own (only with `insert.mode=upsert` on a native table, where they become DEDUP UPSERT
    /// KEYS).
    RecordKey,
}

pub const MAX_DECIMAL_PRECISION: u32 = 76;

/// A column type, spelled as the DDL spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    Boolean,
    SmallInt,
    Int,
    BigInt,
    Real,
    DoublePrecision,
    Text,
    Bytea,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Date,
    Timestamp,
    /// QuestDB's SYMBOL (QuestDB connector's `symbols`; written over ILP only).
    Symbol,
    /// QuestDB's DOUBLE[] with this many dimensions (written over ILP only).
    DoubleArray(usize),
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("BOOLEAN"),
            SqlType::SmallInt => f.write_str("SMALLINT"),
            SqlType::Int => f.write_str("INT"),
            SqlType::BigInt => f.write_str("BIGINT"),
            SqlType::Real => f.write_str("REAL"),
            SqlType::DoublePrecision => f.write_str("DOUBLE PRECISION"),
            SqlType::Text => f.write_str("TEXT"),
            SqlType::Bytea => f.write_str("BYTEA"),
            SqlType::Decimal { precision, scale } => write!(f, "DECIMAL({precision},{scale})"),
            SqlType::Date => f.write_str("DATE"),
            SqlType::Timestamp => f.write_str("TIMESTAMP"),
            SqlType::Symbol => f.write_str("SYMBOL"),
            SqlType::DoubleArray(dims) => write!(f, "DOUBLE{}", "[]".repeat(*dims)),
        }
    }
}

/// Where a column's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The value struct's field at this index.
    Field(usize),
    KafkaTopic,
    KafkaPartition,
    KafkaOffset,
    /// The Kafka record timestamp (`timestamp.kafka.native=true`, see [`crate::mapping::jdbc::native`]).
    KafkaTimestamp,
    /// The record key (`pk.mode=record_key`): the whole key when its schema is primitive,
    /// else the key struct's field at this index.
    Key(Option<usize>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: SqlType,
    pub nullable: bool,
    /// Whether the field has a schema default (applied while decoding, not in the DDL).
    pub has_default: bool,
    pub source: Source,
}

/// Why a schema cannot become a table. `field` names the offending field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    #[error("the record's schema is {found}, not a struct: the JDBC sink writes one column per struct field")]
    NotAStruct { found: String },
    #[error("field \"{field}\": {ty} type doesn't have a mapping to the SQL database column type")]
    NoMapping { field: String, ty: String },
    #[error("field \"{field}\": QuestDB rejects {what} in column names; rename the field (for example with a ReplaceField transform upstream)")]
    InvalidColumnName { field: String, what: String },
    #[error("field \"{field}\": Decimal scale {scale} cannot be stored: QuestDB's DECIMAL takes a scale from 0 to {max}")]
    DecimalScale { field: String, scale: i32, max: u32 },
    #[error("field \"{field}\": Decimal precision {precision} (scale {scale}) cannot be stored: QuestDB's DECIMAL takes a precision from 1 to {max}, at least the scale")]
    DecimalPrecision {
        field: String,
        precision: u32,
        scale: u32,
        max: u32,
    },
    #[error("field \"{field}\": value {value} does not fit the column {column}: {why}")]
    ValueDoesNotFit {
        field: String,
        value: String,
        column: SqlType,
        why: String,
    },
    #[error("field \"{field}\": {value} cannot be stored in a {column} column: it is QuestDB's NULL marker for that type and would read back as NULL")]
    NullMarker {
        field: String,
        value: String,
        column: SqlType,
    },
    #[error("field \"{field}\" named by {key} {why}")]
    NativeKey {
        field: String,
        key: &'static str,
        why: String,
    },
    #[error("field \"{field}\" is the designated timestamp ({key}) {why}")]
    DesignatedTimestamp {
        field: String,
        key: &'static str,
        why: String,
    },
    #[error("the record has no Kafka timestamp, which timestamp.kafka.native=true makes the designated timestamp; produce records with a timestamp or use timestamp.field.name")]
    NoKafkaTimestamp,
    #[error("the record value is null but the table needs a struct (a tombstone cannot be written with pk.mode=none)")]
    NullValue,
    #[error("pk.mode=record_key: {why}")]
    Key { why: String },
    #[error("field \"{field}\" of the record key is null, but it identifies the row (pk.mode=record_key)")]
    NullKey { field: String },
}

/// The columns a table needs for records of `schema`, in the order the JDBC sink declares them:
/// Kafka coordinates first with `pk.mode=kafka`, then the struct's fields in schema order.
pub fn columns(
    schema: &Schema,
    pk_mode: PkMode,
    whitelist: &[String],
) -> Result<Vec<Column>, MappingError> {
    let Type::Struct(fields) = &schema.ty else {
        return Err(MappingError::NotAStruct {
            found: schema.describe(),
        });
    };
    let mut out = Vec::with_capacity(fields.len() + 3);
    if pk_mode == PkMode::Kafka {
        for (name, sql_type, source) in [
            ("__connect_topic", SqlType::Text, Source::KafkaTopic),
            ("__connect_partition", SqlType::Int, Source::KafkaPartition),
            ("__connect_offset", SqlType::BigInt, Source::KafkaOffset),
        ] {
            out.push(Column {
                name: name.into(),
                sql_type,
                nullable: false,
                has_default: false,
                source,
            });
        }
    }
    for (index, field) in fields.iter().enumerate() {
        if !whitelist.is_empty() && !whitelist.contains(&field.name) {
            continue;
        }
        check_column_name(&field.name)?;
        out.push(Column {
            name: field.name.clone(),
            sql_type: sql_type(&field.name, &field.schema)?,
            nullable: field.schema.optional,
            has_default: field.schema.default.is_some(),
            source: Source::Field(index),
        });
    }
    Ok(out)
}

/// The columns the record key gives a table with `pk.mode=record_key`, as the JDBC sink takes
/// them: a primitive key is one column named by the single `pk.fields` entry; a struct key gives
/// the fields `pk.fields` names, or all of them when it names none. Key columns are NOT NULL.
pub fn key_columns(key: &Schema, pk_fields: &[String]) -> Result<Vec<Column>, MappingError> {
    let key_error = |why: String| MappingError::Key { why };
    let column = |name: &str, schema: &Schema, index| -> Result<Column, MappingError> {
        check_column_name(name)?;
        Ok(Column {
            name: name.to_owned(),
            sql_type: sql_type(name, schema)?,
            nullable: false,
            has_default: false,
            source: Source::Key(index),
        })
    };
    match &key.ty {
        Type::Struct(fields) if pk_fields.is_empty() => fields
            .iter()
            .enumerate()
            .map(|(i, f)| column(&f.name, &f.schema, Some(i)))
            .collect(),
        Type::Struct(fields) => pk_fields
            .iter()
            .map(|name| match fields.iter().position(|f| &f.name == name) {
                Some(i) => column(name, &fields[i].schema, Some(i)),
                None => Err(key_error(format!(
                    "pk.fields names \"{name}\", which is not a field of the record key ({})",
                    key.describe()
                ))),
            })
            .collect(),
        Type::Array(_) | Type::Map(_, _) => Err(key_error(format!(
            "the record key is {}; a key must be a primitive or a struct",
            key.describe()
        ))),
        _ => match pk_fields {
            [name] => Ok(vec![column(name, key, None)?]),
            _ => Err(key_error(format!(
                "the record key is {}, a primitive: pk.fields must name exactly one column for it, not {pk_fields:?}",
                key.describe()
            ))),
        },
    }
}

/// The key columns first, then the value's columns except those the key already gives (the
/// JDBC sink's order, and its rule that a key field wins over a value field of the same name).
pub fn with_key_columns(key: Vec<Column>, value: Vec<Column>) -> Vec<Column> {
    let mut columns = key;
    let taken: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    columns.extend(value.into_iter().filter(|c| !taken.contains(&c.name)));
    columns
}

/// The DDL type for one field's schema.
pub fn sql_type(field: &str, schema: &Schema) -> Result<SqlType, MappingError> {
    if let Some(logical) = &schema.logical {
        return Ok(match logical {
            Logical::Decimal { scale, precision } => decimal_type(field, *scale, *precision)?,
            Logical::Date => SqlType::Date,
            // QuestDB has no TIME column: keep the physical value, millis of day (section 6).
            Logical::Time => SqlType::Int,
            Logical::Timestamp => SqlType::Timestamp,
        });
    }
    Ok(match &schema.ty {
        Type::Boolean => SqlType::Boolean,
        Type::Int8 | Type::Int16 => SqlType::SmallInt,
        Type::Int32 => SqlType::Int,
        Type::Int64 => SqlType::BigInt,
        Type::Float32 => SqlType::Real,
        Type::Float64 => SqlType::DoublePrecision,
        Type::String => SqlType::Text,
        Type::Bytes => SqlType::Bytea,
        Type::Array(_) | Type::Map(..) | Type::Struct(_) => {
            return Err(MappingError::NoMapping {
                field: field.into(),
                ty: schema.ty.type_name().to_uppercase(),
            })
        }
    })
}

fn decimal_type(field: &str, scale: i32, precision: Option<u32>) -> Result<SqlType, MappingError> {
    let max = MAX_DECIMAL_PRECISION;
    let scale_u =
        u32::try_from(scale)
            .ok()
            .filter(|s| *s <= max)
            .ok_or(MappingError::DecimalScale {
                field: field.into(),
                scale,
                max,
            })?;
    // Without a declared precision, take the widest QuestDB has, so no value that QuestDB
    // could hold is refused. Deviation: the reference declares a bare DECIMAL, which QuestDB
    // makes DECIMAL(18,3): values read back with three decimals and a value with a larger
    // scale is refused, failing the task (measured with Confluent 10.7.6; reference.rs
    // `bare-decimal-is-18-3`).
    let precision = precision.unwrap_or(max);
    // QuestDB's text-to-DECIMAL cast counts the 0 of `0.123` as a digit, so a DECIMAL(p,p)
    // column takes no value over PG wire: one more digit of precision makes room for it.
    let precision = if precision == scale_u {
        precision + 1
    } else {
        precision
    };
    if precision == 0 || precision > max || precision < scale_u {
        return Err(MappingError::DecimalPrecision {
            field: field.into(),
            precision,
            scale: scale_u,
            max,
        });
    }
    Ok(SqlType::Decimal {
        precision,
        scale: scale_u,
    })
}

/// Characters QuestDB refuses in a column name (its `TableUtils.isValidColumnName`).
const INVALID_COLUMN_CHARS: &[(char, &str)] = &[
    ('-', "'-' (hyphen)"),
    ('.', "'.' (dot)"),
    ('?', "'?'"),
    (',', "','"),
    ('\'', "a single quote"),
    ('"', "a double quote"),
    ('\\', "a backslash"),
    ('/', "'/'"),
    (':', "':'"),
    ('(', "'('"),
    (')', "')'"),
    ('+', "'+'"),
    ('*', "'*'"),
    ('%', "'%'"),
    ('~', "'~'"),
    ('\0', "a NUL character"),
];

fn check_column_name(name: &str) -> Result<(), MappingError> {
    if name.is_empty() {
        return Err(MappingError::InvalidColumnName {
            field: name.into(),
            what: "an empty name".into(),
        });
    }
    for (c, what) in INVALID_COLUMN_CHARS {
        if name.contains(*c) {
            return Err(MappingError::InvalidColumnName {
                field: name.into(),
                what: (*what).into(),
            });
        }
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(MappingError::InvalidColumnName {
            field: name.into(),
            what: format!("the control character {c:?}"),
        });
    }
    Ok(())
}

/// One SQL parameter, in the form the column stores it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    Null,
    Bool(bool),
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Text(String),
    /// Microseconds since the Unix epoch.
    TimestampMicros(i64),
    /// Milliseconds since the Unix epoch (QuestDB's DATE is a millisecond instant).
    DateMillis(i64),
    /// Plain decimal text already at the column's scale, e.g. `-0.05`.
    Decimal(String),
    /// A SYMBOL value (ILP only).
    Symbol(String),
    /// A DOUBLE[] value (ILP only).
    DoubleArray(DoubleArray),
}

/// A rectangular array of doubles of 1 to 3 dimensions, as QuestDB's DOUBLE[] holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum DoubleArray {
    D1(Vec<f64>),
    D2(Vec<Vec<f64>>),
    D3(Vec<Vec<Vec<f64>>>),
}

impl DoubleArray {
    pub fn dims(&self) -> usize {
        match self {
            DoubleArray::D1(_) => 1,
            DoubleArray::D2(_) => 2,
            DoubleArray::D3(_) => 3,
        }
    }
}

/// Kafka coordinates of the record a row comes from, for `pk.mode=kafka`.
#[derive(Debug, Clone, Copy)]
pub struct Coordinates<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    /// The record's Kafka timestamp in milliseconds, when it has one.
    pub timestamp_ms: Option<i64>,
}

/// The parameters for one row: `value` must be the struct the columns were made from, and `key`
/// the record key they were made from with `pk.mode=record_key`.
pub fn row(
    columns: &[Column],
    value: &Value,
    key: Option<&Value>,
    at: Coordinates<'_>,
) -> Result<Vec<SqlParam>, MappingError> {
    let fields = match value {
        Value::Struct(fields) => fields.as_slice(),
        Value::Null => return Err(MappingError::NullValue),
        other => {
            return Err(MappingError::NotAStruct {
                found: format!("{other:?}"),
            })
        }
    };
    row_with(columns, key, at, |column, index| {
        param(
            column,
            fields.get(index).map(|(_, v)| v).unwrap_or(&Value::Null),
        )
    })
}

/// [`row`] with the value's fields given by `field` (the column, the field's index), which
/// lets a record decoded without a value tree ([`flat`]) share the rest.
pub(crate) fn row_with(
    columns: &[Column],
    key: Option<&Value>,
    at: Coordinates<'_>,
    mut field: impl FnMut(&Column, usize) -> Result<SqlParam, MappingError>,
) -> Result<Vec<SqlParam>, MappingError> {
    columns
        .iter()
        .map(|column| match column.source {
            Source::KafkaTopic => Ok(SqlParam::Text(at.topic.to_string())),
            Source::KafkaPartition => Ok(SqlParam::I32(at.partition)),
            Source::KafkaOffset => Ok(SqlParam::I64(at.offset)),
            Source::KafkaTimestamp => at
                .timestamp_ms
                .and_then(|ms| ms.checked_mul(1000))
                .map(SqlParam::TimestampMicros)
                .ok_or(MappingError::NoKafkaTimestamp),
            Source::Field(index) => field(column, index),
            Source::Key(index) => {
                let whole = key.unwrap_or(&Value::Null);
                let value = match (index, whole) {
                    (None, whole) => whole,
                    (Some(i), Value::Struct(fields)) => {
                        fields.get(i).map(|(_, v)| v).unwrap_or(&Value::Null)
                    }
                    (Some(_), _) => &Value::Null,
                };
                if matches!(value, Value::Null) {
                    return Err(MappingError::NullKey {
                        field: column.name.clone(),
                    });
                }
                param(column, value)
            }
        })
        .collect()
}

/// Converts one decoded value to the parameter its column takes.
pub fn param(column: &Column, value: &Value) -> Result<SqlParam, MappingError> {
    let doesnt_fit = |why: &str| MappingError::ValueDoesNotFit {
        field: column.name.clone(),
        value: show(value),
        column: column.sql_type.clone(),
        why: why.into(),
    };
    // QuestDB reads these back as NULL; storing them would change the value silently.
    let null_marker = || MappingError::NullMarker {
        field: column.name.clone(),
        value: show(value),
        column: column.sql_type.clone(),
    };
    match value {
        Value::Int32(i32::MIN) | Value::Time(i32::MIN) | Value::Int64(i64::MIN) => {
            return Err(null_marker())
        }
        Value::Float32(f) if !f.is_finite() => return Err(null_marker()),
        Value::Float64(f) if !f.is_finite() => return Err(null_marker()),
        _ => {}
    }
    Ok(match (value, &column.sql_type) {
        (Value::Null, _) => SqlParam::Null,
        (Value::Boolean(b), SqlType::Boolean) => SqlParam::Bool(*b),
        (Value::Int8(v), SqlType::SmallInt) => SqlParam::I16(i16::from(*v)),
        (Value::Int16(v), SqlType::SmallInt) => SqlParam::I16(*v),
        (Value::Int32(v), SqlType::Int) => SqlParam::I32(*v),
        (Value::Time(ms), SqlType::Int) => SqlParam::I32(*ms),
        (Value::Int64(v), SqlType::BigInt) => SqlParam::I64(*v),
        (Value::Float32(v), SqlType::Real) => SqlParam::F32(*v),
        (Value::Float64(v), SqlType::DoublePrecision) => SqlParam::F64(*v),
        (Value::String(s), SqlType::Text) => SqlParam::Text(s.clone()),
        // Deviation: the reference binds the bytes themselves, which QuestDB refuses for the
        // STRING column it makes of BYTEA (`inconvertible types: BINARY -> STRING`): the
        // reference stores no bytes at all (reference.rs `bytes-refused`).
        (Value::Bytes(b), SqlType::Bytea) => SqlParam::Text(bytea_hex(b)),
        // Any i32 of days fits i64 milliseconds; the writers send microseconds (ILP, TIMESTAMP
        // columns, PG wire's epoch of 2000): a date beyond them is refused, never wrapped.
        (Value::Date(days), SqlType::Date) => {
            let ms = i64::from(*days) * 86_400_000;
            if micros_since_2000(ms).is_none() {
                return Err(doesnt_fit("beyond the microsecond TIMESTAMP range"));
            }
            SqlParam::DateMillis(ms)
        }
        (Value::Timestamp(ms), SqlType::Timestamp) => SqlParam::TimestampMicros(
            ms.checked_mul(1000)
                .filter(|_| micros_since_2000(*ms).is_some())
                .ok_or_else(|| doesnt_fit("beyond the microsecond TIMESTAMP range"))?,
        ),
        (Value::Decimal(d), SqlType::Decimal { precision, scale }) => {
            SqlParam::Decimal(fit_decimal(d, *precision, *scale).map_err(|why| doesnt_fit(&why))?)
        }
        _ => return Err(doesnt_fit("the value's type does not match the column's")),
    })
}

/// A value as a person writes it, for error messages.
fn show(value: &Value) -> String {
    match value {
        Value::Decimal(d) => d.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Float32(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Value::Float64(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Value::Float32(f) => f.to_string(),
        Value::Float64(f) => f.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Int16(v) => v.to_string(),
        Value::Int32(v) | Value::Date(v) | Value::Time(v) => v.to_string(),
        Value::Int64(v) | Value::Timestamp(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

/// PostgreSQL's `bytea` hex text form, `\x` then two lower-case hex digits a byte: lossless and
/// reversible, and what a PostgreSQL client shows for the same bytes.
pub fn bytea_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + bytes.len() * 2);
    s.push_str("\\x");
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// The decimal's text at the column's scale, or why it cannot be stored without loss.
fn fit_decimal(d: &Decimal, precision: u32, scale: u32) -> Result<String, String> {
    let rescaled = d.rescale(scale as i32).ok_or_else(|| {
        format!("it has more than {scale} digits after the point and would be rounded")
    })?;
    if rescaled.precision() > precision {
        return Err(format!(
            "it has {} digits, more than the precision {precision}",
            rescaled.precision()
        ));
    }
    Ok(rescaled.to_string())
}

/// Milliseconds since 1970 as microseconds since 2000 (PG wire's epoch), if that fits i64:
/// every writer's arithmetic on a date or timestamp is then in range.
fn micros_since_2000(ms: i64) -> Option<i64> {
    ms.checked_mul(1000)?.checked_sub(946_684_800_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::schema::{Field, Schema, Type};
    use rstest::rstest;

    fn col(sql_type: SqlType) -> Column {
        Column {
            name: "c".into(),
            sql_type,
            nullable: true,
            has_default: false,
            source: Source::Field(0),
        }
    }

    #[rstest]
    #[case::boolean(Schema::new(Type::Boolean), "BOOLEAN")]
    #[case::int8(Schema::new(Type::Int8), "SMALLINT")]
    #[case::int16(Schema::new(Type::Int16), "SMALLINT")]
    #[case::int32(Schema::new(Type::Int32), "INT")]
    #[case::int64(Schema::new(Type::Int64), "BIGINT")]
    #[case::float(Schema::new(Type::Float32), "REAL")]
    #[case::double(Schema::new(Type::Float64), "DOUBLE PRECISION")]
    #[case::string(Schema::new(Type::String), "TEXT")]
    #[case::bytes(Schema::new(Type::Bytes), "BYTEA")]
    #[case::decimal_default_precision(Schema::decimal(2, None), "DECIMAL(76,2)")]
    #[case::decimal_with_precision(Schema::decimal(2, Some(5)), "DECIMAL(5,2)")]
    #[case::decimal_scale0(Schema::decimal(0, None), "DECIMAL(76,0)")]
    #[case::decimal_all_fraction(Schema::decimal(7, Some(7)), "DECIMAL(8,7)")]
    #[case::date(Schema::date(), "DATE")]
    #[case::time_as_int(Schema::time(), "INT")]
    #[case::timestamp(Schema::timestamp(), "TIMESTAMP")]
    fn every_mappable_type_has_its_ddl(#[case] schema: Schema, #[case] ddl: &str) {
        assert_eq!(sql_type("f", &schema).unwrap().to_string(), ddl);
        assert_eq!(
            sql_type("f", &schema.clone().optional())
                .unwrap()
                .to_string(),
            ddl
        );
    }

    #[rstest]
    #[case::array(
        Schema::array(Schema::new(Type::Int32)),
        "field \"f\": ARRAY type doesn't have a mapping to the SQL database column type"
    )]
    #[case::map(
        Schema::map(Schema::new(Type::String), Schema::new(Type::Int32)),
        "field \"f\": MAP type doesn't have a mapping to the SQL database column type"
    )]
    #[case::structure(Schema::structure(vec![]), "field \"f\": STRUCT type doesn't have a mapping to the SQL database column type")]
    #[case::negative_scale(Schema::decimal(-1, None), "field \"f\": Decimal scale -1 cannot be stored: QuestDB's DECIMAL takes a scale from 0 to 76")]
    #[case::precision_below_scale(Schema::decimal(4, Some(2)), "field \"f\": Decimal precision 2 (scale 4) cannot be stored: QuestDB's DECIMAL takes a precision from 1 to 76, at least the scale")]
    #[case::scale_leaves_no_room(Schema::decimal(76, None), "field \"f\": Decimal precision 77 (scale 76) cannot be stored: QuestDB's DECIMAL takes a precision from 1 to 76, at least the scale")]
    #[case::precision_too_large(Schema::decimal(2, Some(77)), "field \"f\": Decimal precision 77 (scale 2) cannot be stored: QuestDB's DECIMAL takes a precision from 1 to 76, at least the scale")]
    fn unmappable_types_name_the_field(#[case] schema: Schema, #[case] message: &str) {
        assert_eq!(sql_type("f", &schema).unwrap_err().to_string(), message);
    }

    #[rstest]
    #[case::hyphen("a-b", "'-' (hyphen)")]
    #[case::dot("a.b", "'.' (dot)")]
    #[case::quote("a\"b", "a double quote")]
    #[case::empty("", "an empty name")]
    #[case::newline("a\nb", "the control character '\\n'")]
    fn column_names_questdb_rejects_are_refused(#[case] name: &str, #[case] what: &str) {
        let schema = Schema::structure(vec![Field::new(name, Schema::new(Type::Int32))]);
        match columns(&schema, PkMode::None, &[]) {
            Err(MappingError::InvalidColumnName { field, what: w }) => {
                assert_eq!((field.as_str(), w.as_str()), (name, what))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn columns_follow_schema_order_with_kafka_coordinates_first() {
        let schema = Schema::structure(vec![
            Field::new("b", Schema::new(Type::String).optional()),
            Field::new("a", Schema::new(Type::Int32)),
        ]);
        let names = |cols: Vec<Column>| {
            cols.into_iter()
                .map(|c| (c.name, c.nullable))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(columns(&schema, PkMode::None, &[]).unwrap()),
            [("b".into(), true), ("a".into(), false)]
        );
        let kafka = names(columns(&schema, PkMode::Kafka, &[]).unwrap());
        let first: Vec<&str> = kafka.iter().take(3).map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            first,
            ["__connect_topic", "__connect_partition", "__connect_offset"]
        );
        assert_eq!(
            names(columns(&schema, PkMode::None, &["a".into()]).unwrap()),
            [("a".into(), false)]
        );
    }

    #[rstest]
    #[case::int8_widens(SqlType::SmallInt, Value::Int8(-34), SqlParam::I16(-34))]
    #[case::time_is_millis(SqlType::Int, Value::Time(43_200_000), SqlParam::I32(43_200_000))]
    #[case::bytes_as_hex(SqlType::Bytea, Value::Bytes(vec![0, 1, 0xff]), SqlParam::Text("\\x0001ff".into()))]
    #[case::empty_bytes(SqlType::Bytea, Value::Bytes(vec![]), SqlParam::Text("\\x".into()))]
    #[case::date_in_millis(SqlType::Date, Value::Date(-1), SqlParam::DateMillis(-86_400_000))]
    // The last day whose microseconds fit i64 (year 294,247), stored as it is.
    #[case::the_last_date(SqlType::Date, Value::Date(106_751_991), SqlParam::DateMillis(106_751_991 * 86_400_000))]
    #[case::timestamp_in_micros(
        SqlType::Timestamp,
        Value::Timestamp(1001),
        SqlParam::TimestampMicros(1_001_000)
    )]
    #[case::decimal_padded(SqlType::Decimal { precision: 76, scale: 4 }, Value::Decimal(Decimal::new(12, 0)), SqlParam::Decimal("12.0000".into()))]
    #[case::decimal_trailing_zeros_dropped_exactly(SqlType::Decimal { precision: 5, scale: 2 }, Value::Decimal(Decimal::new(15600, 4)), SqlParam::Decimal("1.56".into()))]
    #[case::null(SqlType::Int, Value::Null, SqlParam::Null)]
    fn values_become_parameters(
        #[case] sql_type: SqlType,
        #[case] value: Value,
        #[case] expected: SqlParam,
    ) {
        assert_eq!(param(&col(sql_type), &value).unwrap(), expected);
    }

    #[rstest]
    #[case::int_min(SqlType::Int, Value::Int32(i32::MIN), "NULL marker")]
    #[case::long_min(SqlType::BigInt, Value::Int64(i64::MIN), "NULL marker")]
    #[case::infinity(
        SqlType::Real,
        Value::Float32(f32::INFINITY),
        "Infinity cannot be stored"
    )]
    #[case::rounding(SqlType::Decimal { precision: 76, scale: 2 }, Value::Decimal(Decimal::new(12345, 3)), "would be rounded")]
    #[case::too_many_digits(SqlType::Decimal { precision: 5, scale: 2 }, Value::Decimal(Decimal::new(100_000, 2)), "more than the precision 5")]
    #[case::type_mismatch(SqlType::Int, Value::String("x".into()), "does not match")]
    #[case::timestamp_overflow(SqlType::Timestamp, Value::Timestamp(i64::MAX), "microsecond")]
    #[case::timestamp_below_pg_epoch(SqlType::Timestamp, Value::Timestamp(i64::MIN / 1000), "microsecond")]
    // Issue 25: 200,000,000 days panicked in a debug build (PG wire's ms * 1000) and wrapped in
    // release.
    #[case::date_overflow(SqlType::Date, Value::Date(200_000_000), "microsecond")]
    #[case::date_overflow_back(SqlType::Date, Value::Date(-200_000_000), "microsecond")]
    fn values_quest_db_cannot_hold_are_errors(
        #[case] sql_type: SqlType,
        #[case] value: Value,
        #[case] message: &str,
    ) {
        let e = param(&col(sql_type), &value).unwrap_err().to_string();
        assert!(e.starts_with("field \"c\": ") && e.contains(message), "{e}");
    }
}

#[cfg(test)]
mod kafka_timestamp_tests {
    use super::*;

    fn at(timestamp_ms: Option<i64>) -> Coordinates<'static> {
        Coordinates {
            topic: "t",
            partition: 0,
            offset: 7,
            timestamp_ms,
        }
    }

    #[test]
    fn kafka_timestamp_becomes_microseconds_or_an_error() {
        let columns = [Column {
            name: "__connect_timestamp".into(),
            sql_type: SqlType::Timestamp,
            nullable: false,
            has_default: false,
            source: Source::KafkaTimestamp,
        }];
        let value = Value::Struct(vec![]);
        assert_eq!(
            row(&columns, &value, None, at(Some(1_700_000_000_123))).unwrap(),
            vec![SqlParam::TimestampMicros(1_700_000_000_123_000)]
        );
        assert_eq!(
            row(&columns, &value, None, at(None)).unwrap_err(),
            MappingError::NoKafkaTimestamp
        );
    }
}

#[cfg(test)]
mod record_key_tests {
    use super::*;
    use crate::connect::schema::Field;

    fn int32() -> Schema {
        Schema::new(Type::Int32)
    }

    fn struct_of(fields: &[(&str, Schema)]) -> Schema {
        Schema::new(Type::Struct(
            fields
                .iter()
                .map(|(n, s)| Field::new(*n, s.clone()))
                .collect(),
        ))
    }

    fn names(columns: &[Column]) -> Vec<(&str, Source)> {
        columns
            .iter()
            .map(|c| (c.name.as_str(), c.source.clone()))
            .collect()
    }

    #[test]
    fn a_struct_key_gives_its_named_fields_or_all_of_them() {
        let key = struct_of(&[("id", int32()), ("region", Schema::new(Type::String))]);
        let all = key_columns(&key, &[]).unwrap();
        assert_eq!(
            names(&all),
            [
                ("id", Source::Key(Some(0))),
                ("region", Source::Key(Some(1)))
            ]
        );
        assert!(all.iter().all(|c| !c.nullable), "key columns are NOT NULL");
        let named = key_columns(&key, &["region".to_owned()]).unwrap();
        assert_eq!(names(&named), [("region", Source::Key(Some(1)))]);
        let e = key_columns(&key, &["nope".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"nope\"") && e.contains("not a field of the record key"),
            "{e}"
        );
    }

    #[test]
    fn a_primitive_key_is_the_one_column_pk_fields_names() {
        let one = key_columns(&int32(), &["id".to_owned()]).unwrap();
        assert_eq!(names(&one), [("id", Source::Key(None))]);
        assert_eq!(one[0].sql_type, SqlType::Int);
        for fields in [vec![], vec!["a".to_owned(), "b".to_owned()]] {
            let e = key_columns(&int32(), &fields).unwrap_err().to_string();
            assert!(e.contains("exactly one column"), "{e}");
        }
        let array = Schema::new(Type::Array(Box::new(int32())));
        let e = key_columns(&array, &["id".to_owned()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("a primitive or a struct"), "{e}");
    }

    #[test]
    fn key_columns_come_first_and_win_over_value_fields_of_the_same_name() {
        let key = key_columns(&struct_of(&[("id", int32())]), &[]).unwrap();
        let value = columns(
            &struct_of(&[("id", int32()), ("msg", Schema::new(Type::String))]),
            PkMode::RecordKey,
            &[],
        )
        .unwrap();
        let all = with_key_columns(key, value);
        assert_eq!(
            names(&all),
            [("id", Source::Key(Some(0))), ("msg", Source::Field(1))]
        );
        let at = Coordinates {
            topic: "t",
            partition: 0,
            offset: 0,
            timestamp_ms: None,
        };
        let value = Value::Struct(vec![
            ("id".into(), Value::Int32(1)),
            ("msg".into(), Value::String("m".into())),
        ]);
        let key = Value::Struct(vec![("id".into(), Value::Int32(9))]);
        assert_eq!(
            row(&all, &value, Some(&key), at).unwrap(),
            vec![SqlParam::I32(9), SqlParam::Text("m".into())]
        );
        let null_key = Value::Struct(vec![("id".into(), Value::Null)]);
        assert_eq!(
            row(&all, &value, Some(&null_key), at).unwrap_err(),
            MappingError::NullKey { field: "id".into() }
        );
    }
}
