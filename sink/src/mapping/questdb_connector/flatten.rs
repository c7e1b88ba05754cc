//! A Kafka record as QuestDB's connector writes it: one ILP row whose columns are the key's and
//! the value's fields, flattened with `_` and prefixed (`key.prefix`, `value.prefix`), typed by
//! the Connect schema or, for schemaless JSON, by the Java value (`doubles` makes integers
//! DOUBLE, `timestamp.string.fields` parses strings); `symbols` makes columns SYMBOLs; the
//! designated timestamp is taken out of the row. Pure; every `Deviation:` is explained in
//! docs/questdb-connector.md.

use super::loose::{java_double, Loose};
use super::{ConnectorConfig, Designated};
use crate::connect::schema::{Schema, Type};
use crate::connect::value::Value;
use crate::mapping::jdbc::{bytea_hex, DoubleArray};

use super::row::{java_class, short_class};
pub use super::row::{Cell, Datum, IlpRow, RowError, DESIGNATED};

/// A record's coordinates and converted key and value.
pub struct Record<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub kafka_timestamp_ms: Option<i64>,
    /// `None`: a null key (or one not read).
    pub key: Option<Datum<'a>>,
    /// `None`: a tombstone.
    pub value: Option<Datum<'a>>,
}

/// The row a record becomes; `None` for a tombstone, which the connector skips.
pub fn row(cfg: &ConnectorConfig, record: &Record) -> Result<Option<IlpRow>, RowError> {
    let Some(value) = record.value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let key_text = match record.key {
        None => "null".to_string(),
        Some(k) => match k.java_string() {
            Some(text) => text,
            None if cfg.table.contains(&super::TablePart::Key) => {
                return Err(RowError::Invalid(
                    "the record key cannot be spelled in a table name (${key}): it holds a date, bytes, an array or a map".into(),
                ))
            }
            None => String::new(),
        },
    };
    let table = cfg.table_name(record.topic, &key_text, record.partition);
    if table.is_empty() {
        return Err(RowError::Invalid("Table name cannot be empty".into()));
    }
    let mut b = Builder {
        cfg,
        cells: Vec::new(),
        timestamp: None,
        composed: match &cfg.designated {
            Designated::Composed(f) => vec![None; f.len()],
            _ => Vec::new(),
        },
    };
    if cfg.include_key {
        if let Some(key) = record.key {
            b.object(&cfg.key_prefix, key, "key")?;
        }
    }
    b.object(&cfg.value_prefix, value, "value")?;
    if let Designated::Composed(fields) = &cfg.designated {
        let mut text = String::new();
        for (field, part) in fields.iter().zip(&b.composed) {
            match part {
                Some(p) => text.push_str(p),
                None => {
                    return Err(RowError::Invalid(format!(
                        "Missing composed timestamp field: {field}"
                    )))
                }
            }
        }
        b.timestamp = Some(
            cfg.format
                .parse(&text)
                .map_err(|e| RowError::Invalid(format!("Cannot parse composed timestamp: {e}")))?,
        );
    }
    if cfg.designated == Designated::Kafka {
        let ms = record.kafka_timestamp_ms.ok_or_else(|| {
            RowError::Invalid(
                "the record has no Kafka timestamp (timestamp.kafka.native=true)".into(),
            )
        })?;
        b.timestamp = Some(scaled("the Kafka timestamp", "milliseconds", ms, 1000)?);
    }
    if let Some(us) = b
        .timestamp
        .filter(|us| !crate::mapping::jdbc::native::DESIGNATED_MICROS.contains(us))
    {
        // QuestDB refuses it (the connector's batch fails on it); named here, not as a write.
        return Err(RowError::Invalid(format!(
            "designated timestamp {us} µs since 1970-01-01 is {}, which QuestDB does not allow",
            if us < 0 {
                "before 1970-01-01"
            } else {
                "after 9999-12-31"
            }
        )));
    }
    let mut cells = b.cells;
    if cells.is_empty() {
        // As the connector: its ILP client refuses a row without a column.
        return Err(RowError::Invalid(
            "the record gives the row no column besides its timestamp, and an ILP row needs one (the connector fails with \"no symbols or columns were provided\")".into(),
        ));
    }
    if !cfg.symbols.is_empty() {
        cells.sort_by_key(|(_, c)| c.rank());
    }
    Ok(Some(IlpRow {
        table,
        cells,
        timestamp: b.timestamp,
    }))
}

struct Builder<'c> {
    cfg: &'c ConnectorConfig,
    cells: Vec<(String, Cell)>,
    timestamp: Option<i64>,
    composed: Vec<Option<String>>,
}

/// The connector replaces `.` in leaf names (its `sanitizeName`).
fn sanitize(name: &str) -> String {
    name.replace('.', "_")
}

fn child(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}_{name}")
    }
}

impl Builder<'_> {
    fn push(&mut self, name: String, cell: Cell, symbol_text: impl FnOnce() -> String) {
        let cell = if self.cfg.symbols.contains(&name) {
            Cell::Symbol(symbol_text())
        } else {
            cell
        };
        self.cells.push((name, cell));
    }

    fn long(&mut self, name: String, v: i64) {
        self.push(name, Cell::Long(v), || v.to_string());
    }

    fn double(&mut self, name: String, v: f64) {
        self.push(name, Cell::Double(v), || java_double(v));
    }

    fn bool(&mut self, name: String, v: bool) {
        self.push(name, Cell::Bool(v), || v.to_string());
    }

    fn string(&mut self, name: String, v: &str) {
        self.push(name, Cell::Str(v.to_string()), || v.to_string());
    }

    /// A timestamp column; as a symbol it is the number as given (`raw`, in its own unit).
    fn timestamp(&mut self, name: String, micros: i64, raw: i64) {
        self.push(name, Cell::Timestamp(micros), || raw.to_string());
    }

    fn unsupported(&self, name: &str, what: impl Into<String>) -> Result<(), RowError> {
        if self.cfg.skip_unsupported_types {
            return Ok(());
        }
        Err(RowError::Unsupported {
            name: name.to_string(),
            what: what.into(),
        })
    }

    fn parse_string_timestamp(&self, text: &str) -> Result<i64, RowError> {
        self.cfg.format.parse(text).map_err(|e| {
            RowError::Invalid(format!(
                "Cannot parse timestamp: {e}; set timestamp.string.format to the strings' format"
            ))
        })
    }

    fn object(&mut self, name: &str, datum: Datum, fallback: &str) -> Result<(), RowError> {
        if let Designated::Composed(fields) = &self.cfg.designated {
            if let Some(i) = fields.iter().position(|f| f == name) {
                if datum.is_null() {
                    return Err(RowError::Invalid(format!(
                        "Composed timestamp field '{name}' cannot be null"
                    )));
                }
                let text = datum.java_string().ok_or_else(|| {
                    RowError::Invalid(format!(
                        "Composed timestamp field '{name}' is a {}, not a string or number",
                        java_class(&datum)
                    ))
                })?;
                self.composed[i] = Some(text);
                return Ok(());
            }
        }
        if matches!(&self.cfg.designated, Designated::Field(f) if f == name) {
            if datum.is_null() {
                return Err(RowError::Invalid(format!(
                    "Timestamp column value cannot be null (field {name}, timestamp.field.name)"
                )));
            }
            self.timestamp = Some(self.designated(name, &datum)?);
            return Ok(());
        }
        match datum {
            _ if datum.is_null() => Ok(()),
            Datum::Schema(schema, value) => self.with_schema(name, schema, value, fallback),
            Datum::Loose(value) => self.without_schema(name, value, fallback),
        }
    }

    fn designated(&self, name: &str, datum: &Datum) -> Result<i64, RowError> {
        let units = |v: i64| {
            self.cfg
                .units
                .unwrap_or(super::Units::guess(v))
                .to_micros(v)
        };
        match datum {
            // A java.util.Date: Connect's Timestamp, Date and Time.
            Datum::Schema(_, Value::Timestamp(ms)) => {
                scaled(name, "a Timestamp of milliseconds", *ms, 1000)
            }
            Datum::Schema(_, Value::Date(days)) => {
                scaled(name, "a Date of days", i64::from(*days), 86_400_000_000)
            }
            Datum::Schema(_, Value::Time(ms)) => Ok(i64::from(*ms) * 1000),
            Datum::Schema(_, Value::String(s)) | Datum::Loose(Loose::String(s)) => {
                self.parse_string_timestamp(s)
            }
            Datum::Schema(schema, Value::Int64(v))
                if schema.name.as_deref() == Some("io.debezium.time.MicroTimestamp") =>
            {
                Ok(*v)
            }
            Datum::Schema(_, Value::Int64(v)) | Datum::Loose(Loose::Long(v)) => Ok(units(*v)),
            other => Err(RowError::Invalid(format!(
                "Unsupported timestamp column type: class {}",
                java_class(other)
            ))),
        }
    }

    fn with_schema(
        &mut self,
        name: &str,
        schema: &Schema,
        value: &Value,
        fallback: &str,
    ) -> Result<(), RowError> {
        let plain = if name.is_empty() { fallback } else { name };
        // Logical types first, named as given (the connector sanitizes only physical ones).
        match (schema.name.as_deref(), value) {
            (Some("io.debezium.time.MicroTimestamp"), Value::Int64(us)) => {
                self.timestamp(plain.to_string(), *us, *us);
                return Ok(());
            }
            (Some("io.debezium.time.Date"), Value::Int32(days)) => {
                let us = scaled(plain, "a Date of days", i64::from(*days), 86_400_000_000)?;
                self.timestamp(plain.to_string(), us, us);
                return Ok(());
            }
            _ => {}
        }
        match value {
            Value::Timestamp(ms) => {
                let us = scaled(plain, "a Timestamp of milliseconds", *ms, 1000)?;
                self.timestamp(plain.to_string(), us, *ms);
                return Ok(());
            }
            Value::Date(days) => {
                let ms = i64::from(*days) * 86_400_000;
                let us = scaled(plain, "a Date of days", i64::from(*days), 86_400_000_000)?;
                self.timestamp(plain.to_string(), us, ms);
                return Ok(());
            }
            // Milliseconds of the day, as the connector writes a Connect Time.
            Value::Time(ms) => {
                self.long(plain.to_string(), i64::from(*ms));
                return Ok(());
            }
            // Deviation: the connector refuses Decimal ("Unsupported type"); stored exactly,
            // as its plain text in a VARCHAR column (ILP cannot create DECIMAL columns:
            // "decimal columns must be created manually", measured on QuestDB 9.3.4).
            Value::Decimal(d) => {
                self.string(plain.to_string(), &d.to_string());
                return Ok(());
            }
            _ => {}
        }
        let column = sanitize(plain);
        match (&schema.ty, value) {
            (Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64, v) => {
                let n = match v {
                    Value::Int8(x) => i64::from(*x),
                    Value::Int16(x) => i64::from(*x),
                    Value::Int32(x) => i64::from(*x),
                    Value::Int64(x) => *x,
                    _ => 0,
                };
                self.long(column, n);
            }
            (Type::Float32, Value::Float32(x)) => self.double(column, f64::from(*x)),
            (Type::Float64, Value::Float64(x)) => self.double(column, *x),
            (Type::Boolean, Value::Boolean(b)) => self.bool(column, *b),
            (Type::String, Value::String(s)) => {
                if self.cfg.string_timestamps.iter().any(|f| f == plain) {
                    let us = self.parse_string_timestamp(s)?;
                    self.timestamp(column, us, us);
                } else {
                    self.string(column, s);
                }
            }
            (Type::Struct(fields), Value::Struct(values)) => {
                for field in fields {
                    let v = values
                        .iter()
                        .find(|(n, _)| *n == field.name)
                        .map_or(&Value::Null, |(_, v)| v);
                    self.object(
                        &child(name, &field.name),
                        Datum::Schema(&field.schema, v),
                        "",
                    )?;
                }
            }
            (Type::Array(items), Value::Array(values)) => {
                self.array_with_schema(column, items, values)?;
            }
            // Deviation: the connector refuses bytes ("Unsupported type: BYTES"); stored as
            // the sink stores bytes everywhere, PostgreSQL's `\x` hex text.
            (Type::Bytes, Value::Bytes(b)) => self.string(column, &bytea_hex(b)),
            (ty, _) => return self.unsupported(name, ty.type_name().to_ascii_uppercase()),
        }
        Ok(())
    }

    fn array_with_schema(
        &mut self,
        column: String,
        items: &Schema,
        values: &[Value],
    ) -> Result<(), RowError> {
        let null =
            || RowError::Invalid("Array elements cannot be null for QuestDB double arrays".into());
        fn float(v: &Value) -> Option<f64> {
            match v {
                Value::Float32(x) => Some(f64::from(*x)),
                Value::Float64(x) => Some(*x),
                _ => None,
            }
        }
        let is_float = |s: &Schema| matches!(s.ty, Type::Float32 | Type::Float64);
        let row = |v: &Value| -> Result<Vec<f64>, RowError> {
            match v {
                Value::Array(xs) => xs.iter().map(|x| float(x).ok_or_else(null)).collect(),
                _ => Err(null()),
            }
        };
        let array = match &items.ty {
            _ if is_float(items) => DoubleArray::D1(
                values
                    .iter()
                    .map(|x| float(x).ok_or_else(null))
                    .collect::<Result<_, _>>()?,
            ),
            Type::Array(inner) if is_float(inner) => {
                let rows: Vec<Vec<f64>> = values.iter().map(row).collect::<Result<_, _>>()?;
                check_rectangular(&rows)?;
                DoubleArray::D2(rows)
            }
            Type::Array(inner) if matches!(&inner.ty, Type::Array(x) if is_float(x)) => {
                let cube: Vec<Vec<Vec<f64>>> = values
                    .iter()
                    .map(|m| match m {
                        Value::Array(rows) => rows.iter().map(row).collect(),
                        _ => Err(null()),
                    })
                    .collect::<Result<_, _>>()?;
                check_cube(&cube)?;
                DoubleArray::D3(cube)
            }
            Type::Array(_) => {
                return self.unsupported(
                    &column,
                    "Multidimensional ARRAY with unsupported element type",
                )
            }
            other => {
                return self.unsupported(
                    &column,
                    format!("ARRAY<{}>", other.type_name().to_ascii_uppercase()),
                )
            }
        };
        self.push(column, Cell::Array(array), String::new);
        Ok(())
    }

    fn without_schema(
        &mut self,
        name: &str,
        value: &Loose,
        fallback: &str,
    ) -> Result<(), RowError> {
        let actual = if name.is_empty() {
            fallback.to_string()
        } else {
            sanitize(name)
        };
        match value {
            Loose::Null => {}
            Loose::String(s) => {
                if self.cfg.string_timestamps.contains(&actual) {
                    let us = self.parse_string_timestamp(s)?;
                    self.timestamp(actual, us, us);
                } else {
                    self.string(actual, s);
                }
            }
            Loose::Long(v) => {
                if self.cfg.doubles.contains(&actual) {
                    self.double(actual, *v as f64);
                } else {
                    self.long(actual, *v);
                }
            }
            Loose::Bool(b) => self.bool(actual, *b),
            Loose::Double(d) => self.double(actual, *d),
            Loose::Map(entries) => {
                for (key, v) in entries {
                    self.object(&child(name, key), Datum::Loose(v), fallback)?;
                }
            }
            Loose::List(items) => self.array_without_schema(actual, items)?,
        }
        Ok(())
    }

    fn array_without_schema(&mut self, column: String, items: &[Loose]) -> Result<(), RowError> {
        let invalid = |m: &str| Err(RowError::Invalid(format!("QuestDB {m}")));
        let Some(first) = items.first() else {
            return Ok(()); // an empty list writes no column
        };
        let number = |v: &Loose| match v {
            Loose::Long(x) => Some(*x as f64),
            Loose::Double(x) => Some(*x),
            _ => None,
        };
        let array = match first {
            Loose::Null => return invalid("array elements cannot be null"),
            Loose::Long(_) | Loose::Double(_) => {
                let mut out = vec![0.0; items.len()];
                for (slot, item) in out.iter_mut().zip(items) {
                    match number(item) {
                        Some(x) => *slot = x,
                        // Skipped, the element stays 0.0, as in the connector.
                        None => {
                            self.unsupported(&column, "null or non-numeric element in ARRAY")?
                        }
                    }
                }
                DoubleArray::D1(out)
            }
            Loose::List(first_row) => {
                let Some(first_inner) = first_row.first() else {
                    return invalid("2D array cannot contain empty rows");
                };
                let rows = |m: &Loose, what: &str| -> Result<Vec<f64>, RowError> {
                    match m {
                        Loose::List(xs) => xs
                            .iter()
                            .map(|x| {
                                number(x).ok_or_else(|| {
                                    RowError::Invalid(format!(
                                        "QuestDB {what} array elements must be non-null numbers"
                                    ))
                                })
                            })
                            .collect(),
                        _ => Err(RowError::Invalid(format!(
                            "QuestDB {what} array rows must be non-null lists"
                        ))),
                    }
                };
                match first_inner {
                    Loose::Null => return invalid("2D array elements cannot be null"),
                    Loose::Long(_) | Loose::Double(_) => {
                        let m: Vec<Vec<f64>> = items
                            .iter()
                            .map(|r| rows(r, "2D"))
                            .collect::<Result<_, _>>()?;
                        check_rectangular(&m)?;
                        DoubleArray::D2(m)
                    }
                    Loose::List(inner) => {
                        match inner.first() {
                            None => return invalid("3D array cannot contain empty matrices"),
                            Some(Loose::Null) => {
                                return invalid("3D array elements cannot be null")
                            }
                            Some(Loose::Long(_) | Loose::Double(_)) => {}
                            Some(other) => {
                                return self.unsupported(
                                    &column,
                                    format!(
                                        "3D ARRAY with unsupported element type: {}",
                                        short_class(other)
                                    ),
                                )
                            }
                        }
                        let cube: Vec<Vec<Vec<f64>>> = items
                            .iter()
                            .map(|m| match m {
                                Loose::List(rs) => rs.iter().map(|r| rows(r, "3D")).collect(),
                                _ => Err(RowError::Invalid(
                                    "QuestDB 3D array matrices must be non-null lists".into(),
                                )),
                            })
                            .collect::<Result<_, _>>()?;
                        check_cube(&cube)?;
                        DoubleArray::D3(cube)
                    }
                    other => {
                        return self.unsupported(
                            &column,
                            format!(
                                "2D ARRAY with unsupported element type: {}",
                                short_class(other)
                            ),
                        )
                    }
                }
            }
            other => return self.unsupported(&column, format!("ARRAY<{}>", short_class(other))),
        };
        self.push(column, Cell::Array(array), String::new);
        Ok(())
    }
}

fn check_rectangular(rows: &[Vec<f64>]) -> Result<(), RowError> {
    let expected = rows.first().map_or(0, Vec::len);
    match rows.iter().position(|r| r.len() != expected) {
        Some(i) => Err(RowError::Invalid(format!(
            "QuestDB does not support jagged arrays. All rows must have the same length. Expected: {expected}, but row {i} has length: {}",
            rows[i].len()
        ))),
        None => Ok(()),
    }
}

fn check_cube(cube: &[Vec<Vec<f64>>]) -> Result<(), RowError> {
    let height = cube.first().map_or(0, Vec::len);
    let width = cube.first().and_then(|m| m.first()).map_or(0, Vec::len);
    for (i, m) in cube.iter().enumerate() {
        if m.len() != height {
            return Err(RowError::Invalid(format!(
                "QuestDB does not support jagged arrays. All matrices must have the same height. Expected: {height}, but matrix {i} has height: {}",
                m.len()
            )));
        }
        if let Some(j) = m.iter().position(|r| r.len() != width) {
            return Err(RowError::Invalid(format!(
                "QuestDB does not support jagged arrays. All rows must have the same length. Expected: {width}, but matrix {i} row {j} has length: {}",
                m[j].len()
            )));
        }
    }
    Ok(())
}

/// `value` (in its unit) scaled to microseconds, or a bad record naming `field`.
/// Deviation: the connector's Java arithmetic wraps silently (a Date of 200,000,000 days becomes
/// some other timestamp); here it is refused (docs/questdb-connector.md).
fn scaled(field: &str, what: &str, value: i64, factor: i64) -> Result<i64, RowError> {
    value.checked_mul(factor).ok_or_else(|| {
        RowError::Invalid(format!(
            "field {field}: {what} {value} is beyond a timestamp's range (microseconds overflow 64 bits)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Mapping, SinkConfig};
    use crate::connect::{decode_envelope, DecodeOptions, Envelope};
    use crate::mapping::jdbc::SqlParam;
    use rstest::rstest;

    const BASE: &str = "name=q\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=t\nclient.conf.string=http::addr=localhost:9000;\nvalue.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n";

    fn cfg(extra: &str) -> ConnectorConfig {
        let text = format!("{BASE}{}", extra.replace(';', "\n"));
        match SinkConfig::from_properties(&crate::config::properties::parse(&text))
            .unwrap()
            .mapping
        {
            Mapping::QuestDbConnector(c) => (*c).clone(),
            Mapping::Jdbc => unreachable!(),
        }
    }

    /// `table | name=Cell ... | @timestamp`, or the error.
    fn render(r: Result<Option<IlpRow>, RowError>) -> String {
        match r {
            Err(e) => format!("error: {e}"),
            Ok(None) => "skipped".into(),
            Ok(Some(row)) => {
                let cells: Vec<String> = row
                    .cells
                    .iter()
                    .map(|(n, c)| format!("{n}={c:?}"))
                    .collect();
                let at = row.timestamp.map_or("now".into(), |t| t.to_string());
                format!("{} | {} | @{at}", row.table, cells.join(" "))
            }
        }
    }

    fn loose(text: &str) -> Option<Loose> {
        Loose::decode(Some(text.as_bytes())).unwrap()
    }

    fn schemaless(extra: &str, key: Option<&str>, value: &str) -> String {
        let c = cfg(extra);
        let (k, v) = (key.and_then(loose), loose(value));
        let record = Record {
            topic: "t",
            partition: 2,
            kafka_timestamp_ms: Some(1_700_000_000_123),
            key: k.as_ref().map(Datum::Loose),
            value: v.as_ref().map(Datum::Loose),
        };
        render(row(&c, &record))
    }

    #[rstest]
    #[case::types(
        "",
        r#"{"a":1,"b":2.5,"c":"x","d":true}"#,
        "t | a=Long(1) b=Double(2.5) c=Str(\"x\") d=Bool(true) | @now"
    )]
    #[case::java_map_order(
        "",
        r#"{"id":1,"name":"n","ts":3}"#,
        "t | name=Str(\"n\") id=Long(1) ts=Long(3) | @now"
    )]
    #[case::nested(
        "",
        r#"{"v":{"x":1,"y":{"z":2}}}"#,
        "t | v_x=Long(1) v_y_z=Long(2) | @now"
    )]
    #[case::dotted("", r#"{"a.b":1}"#, "t | a_b=Long(1) | @now")]
    #[case::null_field("", r#"{"a":null,"b":1}"#, "t | b=Long(1) | @now")]
    #[case::primitive_value("", "42", "t | value=Long(42) | @now")]
    #[case::string_value("", "\"hi\"", "t | value=Str(\"hi\") | @now")]
    #[case::tombstone("", "null", "skipped")]
    #[case::doubles("doubles=a", r#"{"a":1}"#, "t | a=Double(1.0) | @now")]
    #[case::symbols_go_first(
        "symbols=s,n",
        r#"{"p":1.5,"s":"AAPL","n":7}"#,
        "t | s=Symbol(\"AAPL\") n=Symbol(\"7\") p=Double(1.5) | @now"
    )]
    #[case::value_prefix("value.prefix=v", r#"{"a":1}"#, "t | v_a=Long(1) | @now")]
    #[case::ts_millis(
        "timestamp.field.name=ts",
        r#"{"ts":1700000000000,"a":1}"#,
        "t | a=Long(1) | @1700000000000000"
    )]
    #[case::ts_seconds(
        "timestamp.field.name=ts",
        r#"{"ts":1700000000,"a":1}"#,
        "t | a=Long(1) | @1700000000000000"
    )]
    #[case::ts_nanos(
        "timestamp.field.name=ts",
        r#"{"ts":1700000000000000001,"a":1}"#,
        "t | a=Long(1) | @1700000000000000"
    )]
    #[case::ts_units(
        "timestamp.field.name=ts;timestamp.units=micros",
        r#"{"ts":1700000000,"a":1}"#,
        "t | a=Long(1) | @1700000000"
    )]
    #[case::ts_string(
        "timestamp.field.name=ts",
        r#"{"ts":"2024-01-02T03:04:05.000001Z","a":1}"#,
        "t | a=Long(1) | @1704164645000001"
    )]
    #[case::ts_nested(
        "timestamp.field.name=m_ts",
        r#"{"m":{"ts":1700000000000},"a":1}"#,
        "t | a=Long(1) | @1700000000000000"
    )]
    #[case::ts_before_1970("timestamp.field.name=ts", r#"{"ts":"1969-12-31T23:59:59.000001Z","a":1}"#, "error: designated timestamp -999999 µs since 1970-01-01 is before 1970-01-01, which QuestDB does not allow")]
    #[case::ts_null(
        "timestamp.field.name=ts",
        r#"{"ts":null,"a":1}"#,
        "error: Timestamp column value cannot be null (field ts, timestamp.field.name)"
    )]
    #[case::ts_double(
        "timestamp.field.name=ts",
        r#"{"ts":1.5,"a":1}"#,
        "error: Unsupported timestamp column type: class java.lang.Double"
    )]
    #[case::ts_bad_string("timestamp.field.name=ts", r#"{"ts":"yesterday","a":1}"#, "error: Cannot parse timestamp: `yesterday` does not match the format `yyyy-MM-ddTHH:mm:ss.SSSUUUZ`; set timestamp.string.format to the strings' format")]
    #[case::string_fields(
        "timestamp.string.fields=at;timestamp.string.format=yyyy-MM-dd HH:mm:ss",
        r#"{"at":"2024-01-02 03:04:05"}"#,
        "t | at=Timestamp(1704164645000000) | @now"
    )]
    #[case::composed(
        "timestamp.field.name=d,t;timestamp.string.format=yyyyMMddHHmmss",
        r#"{"d":"20240102","t":"030405","a":1}"#,
        "t | a=Long(1) | @1704164645000000"
    )]
    #[case::composed_missing(
        "timestamp.field.name=d,t;timestamp.string.format=yyyyMMddHHmmss",
        r#"{"d":"20240102","a":1}"#,
        "error: Missing composed timestamp field: t"
    )]
    #[case::kafka_time(
        "timestamp.kafka.native=true",
        r#"{"a":1}"#,
        "t | a=Long(1) | @1700000000123000"
    )]
    #[case::array("", r#"{"a":[1,2.5]}"#, "t | a=Array(D1([1.0, 2.5])) | @now")]
    #[case::array_2d(
        "",
        r#"{"a":[[1,2],[3,4]]}"#,
        "t | a=Array(D2([[1.0, 2.0], [3.0, 4.0]])) | @now"
    )]
    #[case::array_3d(
        "",
        r#"{"a":[[[1],[2]],[[3],[4]]]}"#,
        "t | a=Array(D3([[[1.0], [2.0]], [[3.0], [4.0]]])) | @now"
    )]
    #[case::array_empty("", r#"{"a":[],"b":1}"#, "t | b=Long(1) | @now")]
    #[case::array_jagged("", r#"{"a":[[1,2],[3]]}"#, "error: QuestDB does not support jagged arrays. All rows must have the same length. Expected: 2, but row 1 has length: 1")]
    #[case::array_strings("", r#"{"a":["x"]}"#, "error: Unsupported type: ARRAY<String>, name: a (skip.unsupported.types=true drops such fields)")]
    #[case::array_strings_skipped(
        "skip.unsupported.types=true",
        r#"{"a":["x"],"b":1}"#,
        "t | b=Long(1) | @now"
    )]
    #[case::array_null_element_skipped(
        "skip.unsupported.types=true",
        r#"{"a":[1,null]}"#,
        "t | a=Array(D1([1.0, 0.0])) | @now"
    )]
    #[case::array_first_null(
        "skip.unsupported.types=true",
        r#"{"a":[null,1]}"#,
        "error: QuestDB array elements cannot be null"
    )]
    #[case::only_the_timestamp("timestamp.field.name=ts", r#"{"ts":1700000000000}"#, "error: the record gives the row no column besides its timestamp, and an ILP row needs one (the connector fails with \"no symbols or columns were provided\")")]
    #[case::empty_object("", "{}", "error: the record gives the row no column besides its timestamp, and an ILP row needs one (the connector fails with \"no symbols or columns were provided\")")]
    #[case::table_template("table=${topic}_${partition}", r#"{"a":1}"#, "t_2 | a=Long(1) | @now")]
    fn schemaless_records_become_rows(#[case] extra: &str, #[case] value: &str, #[case] row: &str) {
        assert_eq!(schemaless(extra, None, value), row);
    }

    #[rstest]
    #[case::map_key("", r#"{"id":7}"#, "t | key_id=Long(7) a=Long(1) | @now")]
    #[case::primitive_key("", "7", "t | key=Long(7) a=Long(1) | @now")]
    #[case::key_prefix("key.prefix=k", r#"{"id":7}"#, "t | k_id=Long(7) a=Long(1) | @now")]
    #[case::no_key("include.key=false", r#"{"id":7}"#, "t | a=Long(1) | @now")]
    #[case::key_in_table(
        "include.key=false;table=t_${key}",
        "\"abc\"",
        "t_abc | a=Long(1) | @now"
    )]
    #[case::struct_key_in_table(
        "include.key=false;table=t_${key}",
        r#"{"id":7,"r":"eu"}"#,
        "t_{r=eu, id=7} | a=Long(1) | @now"
    )]
    #[case::ts_from_key(
        "timestamp.field.name=key_ts",
        r#"{"ts":1700000000000}"#,
        "t | a=Long(1) | @1700000000000000"
    )]
    fn keys_are_columns_with_their_prefix(
        #[case] extra: &str,
        #[case] key: &str,
        #[case] row: &str,
    ) {
        assert_eq!(schemaless(extra, Some(key), r#"{"a":1}"#), row);
    }

    #[test]
    fn a_null_key_is_no_column_and_null_in_a_table_name() {
        assert_eq!(schemaless("", None, r#"{"a":1}"#), "t | a=Long(1) | @now");
        assert_eq!(
            schemaless("table=${key}_x", None, r#"{"a":1}"#),
            "null_x | a=Long(1) | @now"
        );
    }

    fn with_schema(extra: &str, envelope: &str) -> String {
        let c = cfg(&format!("value.converter.schemas.enable=true;{extra}"));
        let Envelope::Record(d) =
            decode_envelope(Some(envelope.as_bytes()), &DecodeOptions::default()).unwrap()
        else {
            panic!("a record")
        };
        let record = Record {
            topic: "t",
            partition: 0,
            kafka_timestamp_ms: None,
            key: None,
            value: Some(Datum::Schema(&d.schema, &d.value)),
        };
        render(row(&c, &record))
    }

    fn envelope(fields: &str, payload: &str) -> String {
        format!(r#"{{"schema":{{"type":"struct","fields":[{fields}]}},"payload":{payload}}}"#)
    }

    #[rstest]
    #[case::ints(
        r#"{"type":"int8","field":"a"},{"type":"int32","field":"b"}"#,
        r#"{"a":-34,"b":7}"#,
        "",
        "t | a=Long(-34) b=Long(7) | @now"
    )]
    #[case::floats(
        r#"{"type":"float","field":"f"},{"type":"double","field":"d"}"#,
        r#"{"f":1.5,"d":2.25}"#,
        "",
        "t | f=Double(1.5) d=Double(2.25) | @now"
    )]
    #[case::doubles_need_no_schema(
        r#"{"type":"int64","field":"a"}"#,
        r#"{"a":1}"#,
        "doubles=a",
        "t | a=Long(1) | @now"
    )]
    #[case::string_bool(
        r#"{"type":"string","field":"s"},{"type":"boolean","field":"b"}"#,
        r#"{"s":"x","b":true}"#,
        "",
        "t | s=Str(\"x\") b=Bool(true) | @now"
    )]
    #[case::optional_null(
        r#"{"type":"string","optional":true,"field":"s"},{"type":"int32","field":"b"}"#,
        r#"{"b":1}"#,
        "",
        "t | b=Long(1) | @now"
    )]
    #[case::nested(r#"{"type":"struct","field":"v","fields":[{"type":"double","field":"x"},{"type":"double","field":"y"}]}"#, r#"{"v":{"x":1,"y":2}}"#, "", "t | v_x=Double(1.0) v_y=Double(2.0) | @now")]
    #[case::timestamp(
        r#"{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","field":"at"}"#,
        r#"{"at":1700000000123}"#,
        "",
        "t | at=Timestamp(1700000000123000) | @now"
    )]
    #[case::date(
        r#"{"type":"int32","name":"org.apache.kafka.connect.data.Date","field":"d"}"#,
        r#"{"d":1}"#,
        "",
        "t | d=Timestamp(86400000000) | @now"
    )]
    // Issue 25: a Date of 200,000,000 days overflowed i64 microseconds (a panic in a debug
    // build, a wrapped timestamp in release).
    #[case::date_overflow(
        r#"{"type":"int32","name":"org.apache.kafka.connect.data.Date","field":"d"}"#,
        r#"{"d":200000000}"#,
        "",
        "error: field d: a Date of days 200000000 is beyond a timestamp's range (microseconds overflow 64 bits)"
    )]
    #[case::debezium_date_overflow(
        r#"{"type":"int32","name":"io.debezium.time.Date","field":"d"}"#,
        r#"{"d":-200000000}"#,
        "",
        "error: field d: a Date of days -200000000 is beyond a timestamp's range (microseconds overflow 64 bits)"
    )]
    #[case::timestamp_overflow(
        r#"{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","field":"at"}"#,
        r#"{"at":9223372036854776}"#,
        "",
        "error: field at: a Timestamp of milliseconds 9223372036854776 is beyond a timestamp's range (microseconds overflow 64 bits)"
    )]
    #[case::designated_date_overflow(
        r#"{"type":"int32","name":"org.apache.kafka.connect.data.Date","field":"ts"},{"type":"int32","field":"a"}"#,
        r#"{"ts":200000000,"a":1}"#,
        "timestamp.field.name=ts",
        "error: field ts: a Date of days 200000000 is beyond a timestamp's range (microseconds overflow 64 bits)"
    )]
    #[case::time(
        r#"{"type":"int32","name":"org.apache.kafka.connect.data.Time","field":"t"}"#,
        r#"{"t":1000}"#,
        "",
        "t | t=Long(1000) | @now"
    )]
    #[case::designated(r#"{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","field":"ts"},{"type":"int32","field":"a"}"#, r#"{"ts":1700000000123,"a":1}"#, "timestamp.field.name=ts", "t | a=Long(1) | @1700000000123000")]
    #[case::designated_int32(
        r#"{"type":"int32","field":"ts"},{"type":"int32","field":"a"}"#,
        r#"{"ts":1,"a":1}"#,
        "timestamp.field.name=ts",
        "error: Unsupported timestamp column type: class java.lang.Integer"
    )]
    #[case::double_array(
        r#"{"type":"array","items":{"type":"double"},"field":"a"}"#,
        r#"{"a":[1,2]}"#,
        "",
        "t | a=Array(D1([1.0, 2.0])) | @now"
    )]
    #[case::empty_double_array(
        r#"{"type":"array","items":{"type":"double"},"field":"a"}"#,
        r#"{"a":[]}"#,
        "",
        "t | a=Array(D1([])) | @now"
    )]
    #[case::int_array(r#"{"type":"array","items":{"type":"int32"},"field":"a"}"#, r#"{"a":[1]}"#, "", "error: Unsupported type: ARRAY<INT32>, name: a (skip.unsupported.types=true drops such fields)")]
    #[case::int_array_skipped(
        r#"{"type":"array","items":{"type":"int32"},"field":"a"},{"type":"int32","field":"b"}"#,
        r#"{"a":[1],"b":2}"#,
        "skip.unsupported.types=true",
        "t | b=Long(2) | @now"
    )]
    #[case::map(
        r#"{"type":"map","keys":{"type":"string"},"values":{"type":"int32"},"field":"m"}"#,
        r#"{"m":{"k":1}}"#,
        "",
        "error: Unsupported type: MAP, name: m (skip.unsupported.types=true drops such fields)"
    )]
    #[case::bytes_deviation(
        r#"{"type":"bytes","field":"b"}"#,
        r#"{"b":"AAH/"}"#,
        "",
        "t | b=Str(\"\\\\x0001ff\") | @now"
    )]
    #[case::decimal_deviation(r#"{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"field":"d"}"#, r#"{"d":"AOI="}"#, "", "t | d=Str(\"2.26\") | @now")]
    #[case::symbol_timestamp_is_its_millis(
        r#"{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","field":"at"}"#,
        r#"{"at":5}"#,
        "symbols=at",
        "t | at=Symbol(\"5\") | @now"
    )]
    fn records_with_schemas_become_rows(
        #[case] fields: &str,
        #[case] payload: &str,
        #[case] extra: &str,
        #[case] row: &str,
    ) {
        assert_eq!(with_schema(extra, &envelope(fields, payload)), row);
    }

    #[test]
    fn a_row_becomes_columns_with_the_timestamp_last() {
        let row = IlpRow {
            table: "t".into(),
            cells: vec![
                ("s".into(), Cell::Symbol("x".into())),
                ("a".into(), Cell::Long(1)),
            ],
            timestamp: None,
        };
        let (columns, params) = row.into_sql();
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["s", "a", DESIGNATED]);
        assert_eq!(
            params,
            [
                SqlParam::Symbol("x".into()),
                SqlParam::I64(1),
                SqlParam::Null
            ]
        );
    }
}
