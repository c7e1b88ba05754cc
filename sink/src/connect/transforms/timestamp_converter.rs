//! `TimestampConverter`: converts a timestamp (the whole key or value, or `field`) between
//! `string` (with `format`), `unix` (with `unix.precision`), `Date`, `Time` and `Timestamp`.

use super::config::{Conf, ConfigError};
use super::datefmt::{self, DateFormat};
use super::{data, Failure, Outcome, Record, Side, Transform};
use crate::connect::schema::{Logical, Schema, Type};
use crate::connect::value::Value;

const DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

#[derive(Debug)]
pub(crate) struct TimestampConverter {
    side: Side,
    field: String,
    target: Kind,
    format: Option<DateFormat>,
    precision: String,
    replace_null_with_default: bool,
}

impl TimestampConverter {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<TimestampConverter, ConfigError> {
        let field = conf.string_or("field", "");
        let target = match conf.required("target.type")?.as_str() {
            "string" => Kind::String,
            "unix" => Kind::Unix,
            "Date" => Kind::Date,
            "Time" => Kind::Time,
            "Timestamp" => Kind::Timestamp,
            other => return Err(conf.error("target.type", format!("Invalid value {other} for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp"))),
        };
        let pattern = conf.string_or("format", "");
        let precision = conf.string_or("unix.precision", "milliseconds");
        if !["nanoseconds", "microseconds", "milliseconds", "seconds"].contains(&precision.as_str())
        {
            return Err(conf.error(
                "unix.precision",
                format!("Invalid value {precision} for configuration unix.precision"),
            ));
        }
        if target == Kind::String && pattern.is_empty() {
            return Err(conf.error("format", "TimestampConverter requires format option to be specified when using string timestamps"));
        }
        let format = if pattern.is_empty() {
            None
        } else {
            Some(DateFormat::new(&pattern).map_err(|m| conf.error("format", m))?)
        };
        Ok(TimestampConverter {
            side,
            field,
            target,
            format,
            precision,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }

    fn target_schema(&self, optional: bool) -> Schema {
        let s = match self.target {
            Kind::String => Schema::new(Type::String),
            Kind::Unix => Schema::new(Type::Int64),
            Kind::Date => data::versioned(Schema::date()),
            Kind::Time => data::versioned(Schema::time()),
            Kind::Timestamp => data::versioned(Schema::timestamp()),
        };
        if optional {
            s.optional()
        } else {
            s
        }
    }

    fn convert(&self, v: Value, from: Kind) -> Outcome<Value> {
        if v.is_null() {
            return Ok(v);
        }
        let raw = match (from, &v) {
            (Kind::String, Value::String(s)) => {
                let f = self
                    .format
                    .as_ref()
                    .ok_or_else(|| Failure::data("no format to parse with"))?;
                match f.parse(s) {
                    Ok(Some(ms)) => ms,
                    Ok(None) => {
                        return Err(Failure::Unsupported(
                            "date-parse",
                            format!("cannot parse {s:?} with this format"),
                        ))
                    }
                    Err(m) => {
                        return Err(Failure::data(format!(
                            "Could not parse timestamp: value ({s}) does not match pattern: {m}"
                        )))
                    }
                }
            }
            (Kind::Unix, Value::Int64(n)) => match self.precision.as_str() {
                "seconds" => n.saturating_mul(1000),
                "microseconds" => n / 1000,
                "nanoseconds" => n / 1_000_000,
                _ => *n,
            },
            (Kind::Date, Value::Date(d)) => i64::from(*d) * DAY,
            (Kind::Time, Value::Time(t)) => i64::from(*t),
            (Kind::Timestamp, Value::Timestamp(t)) => *t,
            _ => {
                return Err(Failure::data(format!(
                    "Expected a timestamp of the schema's kind, found {}",
                    data::java_class(&v)
                )))
            }
        };
        Ok(match self.target {
            Kind::String => {
                datefmt::check_gregorian(raw)?;
                Value::String(self.format.as_ref().expect("checked at build").format(raw))
            }
            Kind::Unix => Value::Int64(match self.precision.as_str() {
                // TimeUnit truncates toward zero.
                "seconds" => raw / 1000,
                "microseconds" => raw.saturating_mul(1000),
                "nanoseconds" => raw.saturating_mul(1_000_000),
                _ => raw,
            }),
            Kind::Date => Value::Date(
                i32::try_from(raw.div_euclid(DAY))
                    // Deviation: date-range — a Connect Date here is an i32 day count.
                    .map_err(|_| {
                        Failure::Unsupported(
                            "date-range",
                            format!("{raw} ms is beyond the days a Date holds"),
                        )
                    })?,
            ),
            Kind::Time => Value::Time(raw.rem_euclid(DAY) as i32),
            Kind::Timestamp => Value::Timestamp(raw),
        })
    }
}

/// `timestampTypeFromSchema`.
fn kind_of(schema: &Schema) -> Outcome<Kind> {
    Ok(match (schema.logical, &schema.ty) {
        (Some(Logical::Timestamp), _) => Kind::Timestamp,
        (Some(Logical::Date), _) => Kind::Date,
        (Some(Logical::Time), _) => Kind::Time,
        (_, Type::String) => Kind::String,
        (_, Type::Int64) => Kind::Unix,
        _ => {
            return Err(Failure::data(format!(
                "Schema {} does not correspond to a known timestamp type format",
                schema.describe()
            )))
        }
    })
}

impl Transform for TimestampConverter {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let value = record.data(self.side).clone();
        let Some(schema) = record.schema(self.side).cloned() else {
            if value.is_null() && self.field.is_empty() {
                return Ok(Some(record));
            }
            return Err(data::schemaless("converting timestamp formats"));
        };
        if self.field.is_empty() {
            let kind = kind_of(&schema)?;
            let updated = self.target_schema(schema.optional);
            let v = self.convert(value, kind)?;
            return Ok(Some(record.with(self.side, Some(updated), v)));
        }
        if !value.is_null() {
            data::require_struct(&value, "converting timestamp formats")?;
        }
        let mut fields = Vec::new();
        for f in schema.fields() {
            let s = if f.name == self.field {
                self.target_schema(f.schema.optional)
            } else {
                f.schema.clone()
            };
            data::push_field(&mut fields, &f.name, s)?;
        }
        let mut updated = data::copy_basics(&schema, Type::Struct(fields));
        updated.optional = schema.optional;
        // Deviation: timestamp-struct-default — the struct default is not rewritten.
        if schema.default.is_some() {
            return Err(Failure::Unsupported(
                "timestamp-struct-default",
                "a struct schema with a default".into(),
            ));
        }
        if value.is_null() {
            return Ok(Some(record.with(self.side, Some(updated), Value::Null)));
        }
        let mut values = Vec::new();
        for f in schema.fields() {
            let v = data::get(&schema, &value, &f.name, self.replace_null_with_default);
            values.push(if f.name == self.field {
                self.convert(v, kind_of(&f.schema)?)?
            } else {
                v
            });
        }
        let v = data::build(&updated, values)?;
        Ok(Some(record.with(self.side, Some(updated), v)))
    }
}
