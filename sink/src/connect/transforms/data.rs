//! Struct access as Connect's `Struct` does it: `get` falls back to the field's default,
//! `put` validates the value against the field's schema, and `SchemaUtil.copySchemaBasics`.

use super::{Failure, Outcome};
use crate::connect::schema::{Field, Schema, Type};
use crate::connect::value::Value;

/// `Struct.get(name)` (with the default) or `getWithoutDefault(name)`; `Null` for an unknown
/// field.
pub(crate) fn get(schema: &Schema, value: &Value, name: &str, with_default: bool) -> Value {
    let v = value.field(name).cloned().unwrap_or(Value::Null);
    if v.is_null() && with_default {
        if let Some(default) = schema.field(name).and_then(|f| f.schema.default.clone()) {
            return default;
        }
    }
    v
}

/// `ConnectSchema.validateValue` as `Struct.put` runs it, for the checks a transform can break:
/// a null in a required field and a value of another kind than its schema.
pub(crate) fn validate(field: &str, schema: &Schema, value: &Value) -> Outcome<()> {
    if value.is_null() {
        if schema.optional {
            return Ok(());
        }
        return Err(Failure::data(format!(
            "Invalid value: null used for required field: \"{field}\", schema type: {}",
            java_type(&schema.ty)
        )));
    }
    let ok = matches!(
        (&schema.ty, value),
        (Type::Boolean, Value::Boolean(_))
            | (Type::Int8, Value::Int8(_))
            | (Type::Int16, Value::Int16(_))
            | (
                Type::Int32,
                Value::Int32(_) | Value::Date(_) | Value::Time(_)
            )
            | (Type::Int64, Value::Int64(_) | Value::Timestamp(_))
            | (Type::Float32, Value::Float32(_))
            | (Type::Float64, Value::Float64(_))
            | (Type::Bytes, Value::Bytes(_) | Value::Decimal(_))
            | (Type::String, Value::String(_))
            | (Type::Array(_), Value::Array(_))
            | (Type::Map(..), Value::Map(_))
            | (Type::Struct(_), Value::Struct(_))
    );
    // validateValue expects the logical class by the schema's name alone.
    use crate::connect::schema::{DATE_NAME, DECIMAL_NAME, TIMESTAMP_NAME, TIME_NAME};
    let logical_ok = match schema.name.as_deref() {
        Some(DECIMAL_NAME) => matches!(value, Value::Decimal(_)),
        Some(DATE_NAME) => matches!(value, Value::Date(_)),
        Some(TIME_NAME) => matches!(value, Value::Time(_)),
        Some(TIMESTAMP_NAME) => matches!(value, Value::Timestamp(_)),
        _ => true,
    };
    if !ok || !logical_ok {
        return Err(Failure::data(format!(
            "Invalid Java object for schema with type {}: {value:?} for field: \"{field}\"",
            java_type(&schema.ty)
        )));
    }
    // A struct is validated whole (`Struct.validate`), arrays and maps element by element.
    match (&schema.ty, value) {
        (Type::Struct(fields), Value::Struct(_)) => {
            for f in fields {
                let v = value.field(&f.name).unwrap_or(&Value::Null);
                validate(&f.name, &f.schema, v)?;
            }
        }
        (Type::Array(items), Value::Array(vs)) => {
            for v in vs {
                validate(field, items, v)?;
            }
        }
        (Type::Map(ks, vs), Value::Map(entries)) => {
            for (k, v) in entries {
                validate(field, ks, k)?;
                validate(field, vs, v)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// A struct value from its schema and the fields' values, each validated as `put` does.
pub(crate) fn build(schema: &Schema, values: Vec<Value>) -> Outcome<Value> {
    let mut out = Vec::with_capacity(values.len());
    for (f, v) in schema.fields().iter().zip(values) {
        validate(&f.name, &f.schema, &v)?;
        out.push((f.name.clone(), v));
    }
    Ok(Value::Struct(out))
}

/// `SchemaBuilder.field`: a second field of the same name is an error.
pub(crate) fn push_field(fields: &mut Vec<Field>, name: &str, schema: Schema) -> Outcome<()> {
    if fields.iter().any(|f| f.name == name) {
        return Err(Failure::data(format!(
            "Cannot create field because of field name duplication {name}"
        )));
    }
    fields.push(Field::new(name, schema));
    Ok(())
}

/// `SchemaUtil.copySchemaBasics(source, builder of ty)`: name, version, doc and parameters;
/// neither optionality nor default. The logical type stays only on the same physical type.
pub(crate) fn copy_basics(source: &Schema, ty: Type) -> Schema {
    let same = std::mem::discriminant(&source.ty) == std::mem::discriminant(&ty);
    let mut s = Schema::new(ty);
    s.name = source.name.clone();
    s.version = source.version;
    s.doc = source.doc.clone();
    s.parameters = source.parameters.clone();
    s.logical = if same { source.logical } else { None };
    s
}

/// `Requirements.requireStruct`: the struct's field values, or the upstream message.
pub(crate) fn require_struct<'a>(
    value: &'a Value,
    purpose: &str,
) -> Outcome<&'a [(String, Value)]> {
    match value {
        Value::Struct(fields) => Ok(fields),
        other => Err(Failure::data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(other)
        ))),
    }
}

/// Schemaless data with a value: upstream handles maps; this port refuses them.
/// Deviation: schemaless (docs/transforms.md).
pub(crate) fn schemaless(purpose: &str) -> Failure {
    Failure::Unsupported(
        "schemaless",
        format!("a value without a schema cannot be used for [{purpose}]"),
    )
}

/// Java's `Schema.Type` name.
pub(crate) fn java_type(ty: &Type) -> &'static str {
    match ty {
        Type::Boolean => "BOOLEAN",
        Type::Int8 => "INT8",
        Type::Int16 => "INT16",
        Type::Int32 => "INT32",
        Type::Int64 => "INT64",
        Type::Float32 => "FLOAT32",
        Type::Float64 => "FLOAT64",
        Type::Bytes => "BYTES",
        Type::String => "STRING",
        Type::Array(_) => "ARRAY",
        Type::Map(..) => "MAP",
        Type::Struct(_) => "STRUCT",
    }
}

/// The Java class upstream would name in a message.
pub(crate) fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::Int8(_) => "java.lang.Byte",
        Value::Int16(_) => "java.lang.Short",
        Value::Int32(_) => "java.lang.Integer",
        Value::Int64(_) => "java.lang.Long",
        Value::Float32(_) => "java.lang.Float",
        Value::Float64(_) => "java.lang.Double",
        Value::Bytes(_) => "[B",
        Value::String(_) => "java.lang.String",
        Value::Decimal(_) => "java.math.BigDecimal",
        Value::Date(_) | Value::Time(_) | Value::Timestamp(_) => "java.util.Date",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

/// A logical schema as Connect's `Timestamp.builder()` (and Date's, Time's) makes it: version 1.
pub(crate) fn versioned(mut s: Schema) -> Schema {
    s.version = Some(1);
    s
}
