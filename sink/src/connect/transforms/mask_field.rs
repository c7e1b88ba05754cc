//! `MaskField`: replaces `fields` with their type's zero (or `replacement`, parsed to the
//! field's type).

use super::config::{Conf, ConfigError};
use super::{data, java, Failure, Outcome, Record, Side, Transform};
use crate::connect::value::{Decimal, Value};

#[derive(Debug)]
pub(crate) struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
    replace_null_with_default: bool,
}

impl MaskField {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<MaskField, ConfigError> {
        let fields = conf.non_empty_list("fields")?;
        let replacement = conf.string("replacement");
        if replacement.as_deref() == Some("") {
            return Err(conf.error("replacement", "String must be non-empty"));
        }
        Ok(MaskField {
            side,
            fields,
            replacement,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }

    fn masked(&self, v: Value) -> Outcome<Value> {
        if v.is_null() {
            return Ok(v);
        }
        let class = data::java_class(&v);
        let Some(r) = &self.replacement else {
            return Ok(match v {
                Value::Boolean(_) => Value::Boolean(false),
                Value::Int8(_) => Value::Int8(0),
                Value::Int16(_) => Value::Int16(0),
                Value::Int32(_) => Value::Int32(0),
                Value::Int64(_) => Value::Int64(0),
                Value::Float32(_) => Value::Float32(0.0),
                Value::Float64(_) => Value::Float64(0.0),
                Value::Decimal(_) => Value::Decimal(Decimal::new(0, 0)),
                Value::Date(_) => Value::Date(0),
                Value::Time(_) => Value::Time(0),
                Value::Timestamp(_) => Value::Timestamp(0),
                Value::String(_) => Value::String(String::new()),
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Map(_) => Value::Map(Vec::new()),
                _ => {
                    return Err(Failure::data(format!(
                        "Cannot mask value of type: class {class}"
                    )))
                }
            });
        };
        let bad = || {
            Failure::data(format!(
                "Unable to convert {r} (class java.lang.String) to number"
            ))
        };
        // Deviation: mask-replacement — an integer field takes an integer literal only.
        let int = || {
            java::parse_long(r).ok_or_else(|| {
                Failure::Unsupported(
                    "mask-replacement",
                    format!("the replacement {r:?} is not an integer literal"),
                )
            })
        };
        // Values.convertToByte and kin narrow the parsed number as Java's casts do (wrapping).
        Ok(match v {
            Value::String(_) => Value::String(r.clone()),
            Value::Int8(_) => Value::Int8(int()? as i8),
            Value::Int16(_) => Value::Int16(int()? as i16),
            Value::Int32(_) => Value::Int32(int()? as i32),
            Value::Int64(_) => Value::Int64(int()?),
            Value::Float32(_) => Value::Float32(java::parse_float(r).ok_or_else(bad)?),
            Value::Float64(_) => Value::Float64(java::parse_double(r).ok_or_else(bad)?),
            Value::Decimal(_) => Value::Decimal(r.parse::<Decimal>().map_err(|_| bad())?),
            _ => {
                return Err(Failure::data(format!(
                    "Cannot mask value of type class {class} with custom replacement."
                )))
            }
        })
    }
}

impl Transform for MaskField {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let Some(schema) = record.schema(self.side).cloned() else {
            return Err(data::schemaless("mask fields"));
        };
        let value = record.data(self.side).clone();
        data::require_struct(&value, "mask fields")?;
        let mut values = Vec::new();
        for f in schema.fields() {
            let v = data::get(&schema, &value, &f.name, self.replace_null_with_default);
            values.push(if self.fields.contains(&f.name) {
                self.masked(v)?
            } else {
                v
            });
        }
        let v = data::build(&schema, values)?;
        Ok(Some(record.with(self.side, Some(schema), v)))
    }
}
