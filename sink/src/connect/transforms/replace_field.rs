//! `ReplaceField`: drops (`exclude`), keeps (`include`) and renames (`renames=a:b`) struct
//! fields. `blacklist` and `whitelist` are the deprecated names of `exclude` and `include`.

use std::collections::HashMap;

use super::config::{Conf, ConfigError};
use super::{data, Outcome, Record, Side, Transform};
use crate::connect::schema::Type;
use crate::connect::value::Value;

#[derive(Debug)]
pub(crate) struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    reverse: HashMap<String, String>,
    replace_null_with_default: bool,
}

impl ReplaceField {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<ReplaceField, ConfigError> {
        let exclude = conf
            .list("exclude")
            .or_else(|| conf.list("blacklist"))
            .unwrap_or_default();
        let include = conf
            .list("include")
            .or_else(|| conf.list("whitelist"))
            .unwrap_or_default();
        let mut renames = HashMap::new();
        for mapping in conf.list("renames").unwrap_or_default() {
            let parts: Vec<&str> = mapping.split(':').collect();
            // Java's String.split drops trailing empty strings.
            let trimmed: Vec<&str> = {
                let mut p = parts.clone();
                while p.last() == Some(&"") {
                    p.pop();
                }
                p
            };
            if trimmed.len() != 2 {
                return Err(conf.error("renames", format!("Invalid rename mapping: {mapping}")));
            }
            renames.insert(trimmed[0].to_owned(), trimmed[1].to_owned());
        }
        let reverse = renames
            .iter()
            .map(|(k, v)| (v.clone(), k.clone()))
            .collect();
        Ok(ReplaceField {
            side,
            exclude,
            include,
            renames,
            reverse,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }

    /// Debezium's internal use: `exclude=<fields>`.
    pub(crate) fn excluding(side: Side, fields: Vec<String>) -> ReplaceField {
        ReplaceField {
            side,
            exclude: fields,
            include: Vec::new(),
            renames: HashMap::new(),
            reverse: HashMap::new(),
            replace_null_with_default: true,
        }
    }

    fn keep(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }
}

impl Transform for ReplaceField {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let value = record.data(self.side);
        if value.is_null() {
            return Ok(Some(record));
        }
        let Some(schema) = record.schema(self.side) else {
            return Err(data::schemaless("field replacement"));
        };
        data::require_struct(value, "field replacement")?;
        let mut fields = Vec::new();
        for f in schema.fields() {
            if self.keep(&f.name) {
                let name = self.renames.get(&f.name).unwrap_or(&f.name);
                data::push_field(&mut fields, name, f.schema.clone())?;
            }
        }
        let mut updated = data::copy_basics(schema, Type::Struct(fields));
        updated.optional = false;
        let values: Vec<Value> = updated
            .fields()
            .iter()
            .map(|f| {
                let original = self.reverse.get(&f.name).unwrap_or(&f.name);
                data::get(schema, value, original, self.replace_null_with_default)
            })
            .collect();
        let v = data::build(&updated, values)?;
        Ok(Some(record.with(self.side, Some(updated), v)))
    }
}
