//! `Flatten`: nested struct fields become top-level fields named `outer<delimiter>inner`.

use super::config::{Conf, ConfigError};
use super::{data, Failure, Outcome, Record, Side, Transform};
use crate::connect::schema::{Field, Schema, Type};
use crate::connect::value::Value;

#[derive(Debug)]
pub(crate) struct Flatten {
    side: Side,
    delimiter: String,
}

impl Flatten {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<Flatten, ConfigError> {
        Ok(Flatten {
            side,
            delimiter: conf.string_or("delimiter", "."),
        })
    }

    fn name(&self, prefix: &str, name: &str) -> String {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}{}{name}", self.delimiter)
        }
    }

    fn flat_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        out: &mut Vec<Field>,
        optional: bool,
        parent_default: Option<&Value>,
    ) -> Outcome<()> {
        for f in schema.fields() {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.optional;
            let default = f.schema.default.clone().or_else(|| {
                parent_default
                    .and_then(|d| d.field(&f.name).cloned())
                    .filter(|v| !v.is_null())
            });
            match &f.schema.ty {
                Type::Struct(_) => {
                    self.flat_schema(&f.schema, &name, out, field_optional, default.as_ref())?
                }
                Type::Map(..) => {
                    return Err(Failure::data("Flatten transformation does not support MAP for record with schemas (for field "
                        .to_owned() + &name + ")."))
                }
                ty => {
                    let mut s = data::copy_basics(&f.schema, ty.clone());
                    s.optional = field_optional;
                    s.default = default;
                    data::push_field(out, &name, s)?;
                }
            }
        }
        Ok(())
    }

    fn flat_value(
        &self,
        schema: &Schema,
        value: &Value,
        prefix: &str,
        out: &mut Vec<(String, Value)>,
    ) {
        for f in schema.fields() {
            let name = self.name(prefix, &f.name);
            let v = data::get(schema, value, &f.name, true);
            match &f.schema.ty {
                Type::Struct(_) => {
                    if !v.is_null() {
                        self.flat_value(&f.schema, &v, &name, out);
                    }
                }
                _ => out.push((name, v)),
            }
        }
    }
}

impl Transform for Flatten {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let value = record.data(self.side).clone();
        let Some(schema) = record.schema(self.side).cloned() else {
            if value.is_null() {
                return Ok(Some(record));
            }
            return Err(data::schemaless("flattening"));
        };
        if value.is_null() {
            return Ok(Some(record));
        }
        data::require_struct(&value, "flattening")?;
        let mut fields = Vec::new();
        self.flat_schema(
            &schema,
            "",
            &mut fields,
            schema.optional,
            schema.default.as_ref(),
        )?;
        let mut updated = data::copy_basics(&schema, Type::Struct(fields));
        updated.optional = false;
        let mut flat = Vec::new();
        self.flat_value(&schema, &value, "", &mut flat);
        // Fields of a null nested struct are never put: they stay null.
        let values = updated
            .fields()
            .iter()
            .map(|f| {
                flat.iter()
                    .find(|(n, _)| n == &f.name)
                    .map_or(Value::Null, |(_, v)| v.clone())
            })
            .collect::<Vec<_>>();
        for (name, v) in &flat {
            if let Some(f) = updated.field(name) {
                data::validate(name, &f.schema, v)?;
            }
        }
        let out = updated
            .fields()
            .iter()
            .zip(values)
            .map(|(f, v)| (f.name.clone(), v))
            .collect();
        Ok(Some(record.with(
            self.side,
            Some(updated),
            Value::Struct(out),
        )))
    }
}
