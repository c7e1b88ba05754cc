//! `InsertField`: adds the record's topic, partition, offset, timestamp or a static string as
//! struct fields (`topic.field`, ...; a trailing `!` makes the field required, `?` optional).

use super::config::{Conf, ConfigError};
use super::{data, Outcome, Record, Side, Transform};
use crate::connect::schema::{Field, Schema, Type};
use crate::connect::value::Value;

#[derive(Debug, Clone)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<String>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(n) = spec.strip_suffix('?') {
            Spec {
                name: n.into(),
                optional: true,
            }
        } else if let Some(n) = spec.strip_suffix('!') {
            Spec {
                name: n.into(),
                optional: false,
            }
        } else {
            Spec {
                name: spec,
                optional: true,
            }
        })
    }
}

#[derive(Debug)]
pub(crate) struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: Option<String>,
    replace_null_with_default: bool,
}

impl InsertField {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<InsertField, ConfigError> {
        let t = InsertField {
            side,
            topic: Spec::parse(conf.string("topic.field")),
            partition: Spec::parse(conf.string("partition.field")),
            offset: Spec::parse(conf.string("offset.field")),
            timestamp: Spec::parse(conf.string("timestamp.field")),
            static_field: Spec::parse(conf.string("static.field")),
            static_value: conf.string("static.value"),
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        };
        if t.topic.is_none()
            && t.partition.is_none()
            && t.offset.is_none()
            && t.timestamp.is_none()
            && t.static_field.is_none()
        {
            return Err(conf.error("topic.field", "No field insertion configured"));
        }
        if t.static_field.is_some() && t.static_value.is_none() {
            return Err(conf.error("static.value", "No value specified for static field"));
        }
        Ok(t)
    }

    /// Debezium's internal use: `static.field`/`static.value` on the value.
    pub(crate) fn static_value(
        field: &str,
        value: &str,
        replace_null_with_default: bool,
    ) -> InsertField {
        InsertField {
            side: Side::Value,
            topic: None,
            partition: None,
            offset: None,
            timestamp: None,
            static_field: Some(Spec {
                name: field.into(),
                optional: true,
            }),
            static_value: Some(value.into()),
            replace_null_with_default,
        }
    }
}

impl Transform for InsertField {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let value = record.data(self.side);
        if value.is_null() {
            return Ok(Some(record));
        }
        let Some(schema) = record.schema(self.side) else {
            return Err(data::schemaless("field insertion"));
        };
        data::require_struct(value, "field insertion")?;
        let mut fields: Vec<Field> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        for f in schema.fields() {
            data::push_field(&mut fields, &f.name, f.schema.clone())?;
            values.push(data::get(
                schema,
                value,
                &f.name,
                self.replace_null_with_default,
            ));
        }
        let opt = |s: Schema, spec: &Spec| if spec.optional { s.optional() } else { s };
        let mut add = |spec: &Option<Spec>, s: Schema, v: Value| -> Outcome<()> {
            if let Some(spec) = spec {
                data::push_field(&mut fields, &spec.name, opt(s, spec))?;
                values.push(v);
            }
            Ok(())
        };
        add(
            &self.topic,
            Schema::new(Type::String),
            Value::String(record.topic.clone()),
        )?;
        add(
            &self.partition,
            Schema::new(Type::Int32),
            Value::Int32(record.partition),
        )?;
        add(
            &self.offset,
            Schema::new(Type::Int64),
            Value::Int64(record.offset),
        )?;
        add(
            &self.timestamp,
            data::versioned(Schema::timestamp()),
            record.timestamp.map_or(Value::Null, Value::Timestamp),
        )?;
        add(
            &self.static_field,
            Schema::new(Type::String),
            self.static_value.clone().map_or(Value::Null, Value::String),
        )?;
        let mut updated = data::copy_basics(schema, Type::Struct(fields));
        updated.optional = false;
        // Struct.put validates each value; a timestamp left out stays unset, as upstream.
        let mut out = Vec::new();
        for (f, v) in updated.fields().iter().zip(values) {
            let skip = v.is_null() && self.timestamp.as_ref().is_some_and(|t| t.name == f.name);
            if !skip {
                data::validate(&f.name, &f.schema, &v)?;
            }
            out.push((f.name.clone(), v));
        }
        Ok(Some(record.with(
            self.side,
            Some(updated),
            Value::Struct(out),
        )))
    }
}
