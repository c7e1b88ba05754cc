//! `ExtractField`: replaces the key or value with one of its struct's fields (`field`; a dotted
//! path with `field.syntax.version=V2`).

use super::config::{Conf, ConfigError};
use super::{data, Failure, Outcome, Record, Side, Transform};
use crate::connect::schema::Schema;
use crate::connect::value::Value;

#[derive(Debug)]
pub(crate) struct ExtractField {
    side: Side,
    original: String,
    path: Vec<String>,
    replace_null_with_default: bool,
}

impl ExtractField {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<ExtractField, ConfigError> {
        let original = conf.required("field")?;
        let version = conf.string_or("field.syntax.version", "V1");
        let path = if version.eq_ignore_ascii_case("V1") {
            vec![original.clone()]
        } else if version.eq_ignore_ascii_case("V2") {
            path_v2(&original).map_err(|m| conf.error("field", m))?
        } else {
            return Err(conf.error(
                "field.syntax.version",
                format!("Invalid value {version} for configuration field.syntax.version: String must be one of (case insensitive): V1, V2"),
            ));
        };
        Ok(ExtractField {
            side,
            original,
            path,
            replace_null_with_default: conf.bool_or("replace.null.with.default", true)?,
        })
    }

    /// The same transform as Debezium configures it internally (`field=<name>`).
    pub(crate) fn value_field(name: &str) -> ExtractField {
        ExtractField {
            side: Side::Value,
            original: name.to_owned(),
            path: vec![name.to_owned()],
            replace_null_with_default: true,
        }
    }

    /// The extracted schema and value.
    pub(crate) fn extract(&self, schema: &Schema, value: &Value) -> Outcome<(Schema, Value)> {
        let mut s = schema;
        for step in &self.path[..self.path.len() - 1] {
            s = match s.field(step) {
                Some(f) => &f.schema,
                None => return Err(unknown(&self.original)),
            };
        }
        let last = self.path.last().expect("a path has a step");
        let field_schema = s
            .field(last)
            .ok_or_else(|| unknown(&self.original))?
            .schema
            .clone();
        if value.is_null() {
            return Ok((field_schema, Value::Null));
        }
        let mut current_schema = schema;
        let mut current = data::require_struct(value, "field extraction").map(|_| value)?;
        for step in &self.path[..self.path.len() - 1] {
            let f = current_schema.field(step).expect("checked on the schema");
            let v = current.field(step).unwrap_or(&Value::Null);
            if v.is_null() {
                return Ok((field_schema, Value::Null));
            }
            data::require_struct(v, "nested field access")?;
            current = v;
            current_schema = &f.schema;
        }
        let v = data::get(
            current_schema,
            current,
            last,
            self.replace_null_with_default,
        );
        Ok((field_schema, v))
    }
}

fn unknown(path: &str) -> Failure {
    Failure::data(format!("Unknown field: {path}"))
}

/// `SingleFieldPath` V2: dots separate steps; a step in backticks may hold dots, and a
/// backslash before a backtick keeps it.
pub(crate) fn path_v2(path: &str) -> Result<Vec<String>, String> {
    let b = path.as_bytes();
    let mut steps = Vec::new();
    let mut idx = 0usize;
    let incomplete = |at: usize| {
        format!("Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it")
    };
    while idx < b.len() {
        if b[idx] != b'`' {
            match path[idx..].find('.') {
                Some(off) => {
                    steps.push(path[idx..idx + off].to_owned());
                    idx += off + 1;
                }
                None => {
                    steps.push(path[idx..].to_owned());
                    idx = b.len();
                }
            }
        } else {
            let at = idx;
            idx += 1;
            let mut field = String::new();
            let mut start = idx;
            loop {
                let Some(off) = path[idx..].find('`') else {
                    return Err(incomplete(at));
                };
                idx += off;
                let escaped = b[idx - 1] == b'\\';
                if idx >= b.len() - 1 {
                    if escaped {
                        return Err(incomplete(at));
                    }
                    field.push_str(&path[start..idx]);
                    steps.push(field);
                    idx += 1;
                    break;
                }
                if b[idx + 1] != b'.' {
                    idx += 1;
                    continue;
                }
                if escaped {
                    field.push_str(&path[start..idx - 1]);
                    field.push('`');
                    idx += 1;
                    start = idx;
                    continue;
                }
                field.push_str(&path[start..idx]);
                steps.push(field);
                idx += 2;
                break;
            }
        }
    }
    if path.ends_with('.') {
        steps.push(String::new());
    }
    if steps.is_empty() {
        steps.push(String::new());
    }
    Ok(steps)
}

impl Transform for ExtractField {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let Some(schema) = record.schema(self.side) else {
            if record.data(self.side).is_null() {
                return Ok(Some(record));
            }
            return Err(data::schemaless("field extraction"));
        };
        let (s, v) = self.extract(schema, record.data(self.side))?;
        Ok(Some(record.with(self.side, Some(s), v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_paths() {
        assert_eq!(path_v2("a.b").unwrap(), ["a", "b"]);
        assert_eq!(path_v2("`a.b`.c").unwrap(), ["a.b", "c"]);
        assert_eq!(path_v2("a.").unwrap(), ["a", ""]);
        assert!(path_v2("`a").is_err());
    }
}
