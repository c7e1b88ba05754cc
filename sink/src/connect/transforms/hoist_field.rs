//! `HoistField`: wraps the key or value in a struct of one field, `field`.

use super::config::{Conf, ConfigError};
use super::{data, Outcome, Record, Side, Transform};
use crate::connect::schema::{Field, Schema};
use crate::connect::value::Value;

#[derive(Debug)]
pub(crate) struct HoistField {
    side: Side,
    field: String,
}

impl HoistField {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<HoistField, ConfigError> {
        Ok(HoistField {
            side,
            field: conf.required("field")?,
        })
    }
}

impl Transform for HoistField {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let Some(schema) = record.schema(self.side).cloned() else {
            return Err(data::schemaless("hoisting a field"));
        };
        let value = record.data(self.side).clone();
        data::validate(&self.field, &schema, &value)?;
        let hoisted = Schema::structure(vec![Field::new(self.field.clone(), schema)]);
        let v = Value::Struct(vec![(self.field.clone(), value)]);
        Ok(Some(record.with(self.side, Some(hoisted), v)))
    }
}
