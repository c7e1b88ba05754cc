//! `ValueToKey`: the key becomes a struct of the value's `fields`.

use super::config::{Conf, ConfigError};
use super::{data, Failure, Outcome, Record, Transform};
use crate::connect::schema::{Schema, Type};

#[derive(Debug)]
pub(crate) struct ValueToKey {
    fields: Vec<String>,
    replace_null_with_default: bool,
}

impl ValueToKey {
    pub(crate) fn build(conf: &Conf) -> Result<ValueToKey, ConfigError> {
        Ok(ValueToKey {
            fields: conf.non_empty_list("fields")?,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }
}

impl Transform for ValueToKey {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let Some(schema) = record.value_schema.as_ref() else {
            return Err(data::schemaless("copying fields from value to key"));
        };
        data::require_struct(&record.value, "copying fields from value to key")?;
        let mut fields = Vec::new();
        for name in &self.fields {
            let f = schema
                .field(name)
                .ok_or_else(|| Failure::data(format!("Field does not exist: {name}")))?;
            data::push_field(&mut fields, name, f.schema.clone())?;
        }
        let key_schema = Schema::new(Type::Struct(fields));
        let values = self
            .fields
            .iter()
            .map(|n| data::get(schema, &record.value, n, self.replace_null_with_default))
            .collect();
        let key = data::build(&key_schema, values)?;
        let mut record = record;
        record.key_schema = Some(key_schema);
        record.key = key;
        Ok(Some(record))
    }
}
