//! `HeaderFrom`: copies or moves struct `fields` into headers named by `headers`.

use super::config::{Conf, ConfigError};
use super::{data, Header, Outcome, Record, Side, Transform};
use crate::connect::schema::Type;

#[derive(Debug)]
pub(crate) struct HeaderFrom {
    side: Side,
    fields: Vec<String>,
    headers: Vec<String>,
    moving: bool,
    replace_null_with_default: bool,
}

impl HeaderFrom {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<HeaderFrom, ConfigError> {
        let fields = conf.non_empty_list("fields")?;
        let headers = conf.non_empty_list("headers")?;
        if fields.len() != headers.len() {
            return Err(conf.error(
                "headers",
                "'fields' config must have the same number of elements as 'headers' config.",
            ));
        }
        let moving = match conf.required("operation")?.as_str() {
            "move" => true,
            "copy" => false,
            other => return Err(conf.error("operation", format!("Invalid value {other} for configuration operation: String must be one of: move, copy"))),
        };
        Ok(HeaderFrom {
            side,
            fields,
            headers,
            moving,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }
}

impl Transform for HeaderFrom {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let Some(schema) = record.schema(self.side).cloned() else {
            return Err(data::schemaless("header operation"));
        };
        let value = record.data(self.side).clone();
        data::require_struct(
            &value,
            if self.moving {
                "header MOVE"
            } else {
                "header COPY"
            },
        )?;
        let mut headers = record.headers.clone();
        for (field, header) in self.fields.iter().zip(&self.headers) {
            let Some(f) = schema.field(field) else {
                return Err(super::Failure::data(format!(
                    "field {field} is not in the schema"
                )));
            };
            let v = data::get(&schema, &value, field, self.replace_null_with_default);
            headers.push(Header {
                key: header.clone(),
                schema: Some(f.schema.clone()),
                value: v,
            });
        }
        let (schema, value) = if self.moving {
            let mut fields = Vec::new();
            for f in schema.fields() {
                if !self.fields.contains(&f.name) {
                    data::push_field(&mut fields, &f.name, f.schema.clone())?;
                }
            }
            let mut moved = data::copy_basics(&schema, Type::Struct(fields));
            moved.optional = false;
            let values = moved
                .fields()
                .iter()
                .map(|f| data::get(&schema, &value, &f.name, self.replace_null_with_default))
                .collect();
            let v = data::build(&moved, values)?;
            (moved, v)
        } else {
            (schema, value)
        };
        let mut record = record.with(self.side, Some(schema), value);
        record.headers = headers;
        Ok(Some(record))
    }
}
