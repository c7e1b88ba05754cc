//! `InsertHeader`: adds header `header` with `value.literal` parsed as `Values.parseString`
//! does. Deviation: header-literal — only the literals whose parse is certain are taken
//! (booleans, integers, and text that is no number, array, map or date); another literal is
//! refused when the chain is built.

use super::config::{Conf, ConfigError};
use super::{Header, Outcome, Record, Transform};
use crate::connect::schema::{Schema, Type};
use crate::connect::value::Value;

#[derive(Debug)]
pub(crate) struct InsertHeader {
    key: String,
    schema: Schema,
    value: Value,
}

impl InsertHeader {
    pub(crate) fn build(conf: &Conf) -> Result<InsertHeader, ConfigError> {
        let key = conf.required("header")?;
        let literal = conf.required("value.literal")?;
        let (schema, value) = parse_literal(&literal)
            .ok_or_else(|| conf.error("value.literal", format!("the literal {literal:?} is not supported by this sink (booleans, integers and plain text are)")))?;
        Ok(InsertHeader { key, schema, value })
    }
}

fn parse_literal(text: &str) -> Option<(Schema, Value)> {
    if text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false") {
        return Some((
            Schema::new(Type::Boolean),
            Value::Boolean(text.eq_ignore_ascii_case("true")),
        ));
    }
    if let Some(n) = super::java::parse_long(text) {
        return Some(if let Ok(v) = i8::try_from(n) {
            (Schema::new(Type::Int8), Value::Int8(v))
        } else if let Ok(v) = i16::try_from(n) {
            (Schema::new(Type::Int16), Value::Int16(v))
        } else if let Ok(v) = i32::try_from(n) {
            (Schema::new(Type::Int32), Value::Int32(v))
        } else {
            (Schema::new(Type::Int64), Value::Int64(n))
        });
    }
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_' || c == ' ')
        && !text.trim().is_empty()
        && text.trim() == text
        && !text.eq_ignore_ascii_case("null");
    plain.then(|| (Schema::new(Type::String), Value::String(text.to_owned())))
}

impl Transform for InsertHeader {
    fn apply(&self, mut record: Record) -> Outcome<Option<Record>> {
        record.headers.push(Header {
            key: self.key.clone(),
            schema: Some(self.schema.clone()),
            value: self.value.clone(),
        });
        Ok(Some(record))
    }
}
