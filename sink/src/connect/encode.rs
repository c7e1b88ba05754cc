//! Encoding back: the envelope JsonConverter writes for a schema and a value.

use base64::Engine;
use serde_json::{Map as JsonMap, Value as Json};

use super::number::BASE64;
use super::schema::{Logical, Schema, Type, DECIMAL_PRECISION_PARAM, DECIMAL_SCALE_PARAM};
use super::value::{Decimal, Value};

/// The envelope `JsonConverter.fromConnectData` writes with `schemas.enable=true` and the
/// default `decimal.format=BASE64`. `decode_envelope` of it gives `value` back.
pub fn encode_envelope(schema: &Schema, value: &Value) -> Json {
    let mut envelope = JsonMap::new();
    envelope.insert("schema".into(), schema_to_json(schema));
    envelope.insert("payload".into(), encode_value(schema, value));
    Json::Object(envelope)
}

/// `JsonConverter.asJsonSchema`: same keys, same order.
pub fn schema_to_json(schema: &Schema) -> Json {
    let mut obj = JsonMap::new();
    obj.insert("type".into(), Json::String(schema.ty.type_name().into()));
    match &schema.ty {
        Type::Array(items) => {
            obj.insert("items".into(), schema_to_json(items));
        }
        Type::Map(keys, values) => {
            obj.insert("keys".into(), schema_to_json(keys));
            obj.insert("values".into(), schema_to_json(values));
        }
        Type::Struct(fields) => {
            let fields = fields
                .iter()
                .map(|f| {
                    let mut field = schema_to_json(&f.schema);
                    if let Json::Object(o) = &mut field {
                        o.insert("field".into(), Json::String(f.name.clone()));
                    }
                    field
                })
                .collect();
            obj.insert("fields".into(), Json::Array(fields));
        }
        _ => {}
    }
    obj.insert("optional".into(), Json::Bool(schema.optional));
    // A logical type is carried by its name and parameters; write them even if a hand-built
    // schema left them out.
    let name = schema
        .logical
        .map(|l| l.connect_name().to_string())
        .or_else(|| schema.name.clone());
    if let Some(name) = name {
        obj.insert("name".into(), Json::String(name));
    }
    if let Some(version) = schema.version {
        obj.insert("version".into(), Json::Number(version.into()));
    }
    if let Some(doc) = &schema.doc {
        obj.insert("doc".into(), Json::String(doc.clone()));
    }
    let mut parameters = schema.parameters.clone();
    if let Some(Logical::Decimal { scale, precision }) = schema.logical {
        parameters.insert(DECIMAL_SCALE_PARAM.into(), scale.to_string());
        if let Some(p) = precision {
            parameters.insert(DECIMAL_PRECISION_PARAM.into(), p.to_string());
        }
    }
    if !parameters.is_empty() {
        let parameters = parameters
            .into_iter()
            .map(|(k, v)| (k, Json::String(v)))
            .collect();
        obj.insert("parameters".into(), Json::Object(parameters));
    }
    if let Some(default) = &schema.default {
        obj.insert("default".into(), encode_value(schema, default));
    }
    Json::Object(obj)
}

/// The payload for `value` under `schema` (`JsonConverter.convertToJson`). Best effort when they
/// disagree: the value's own variant decides the JSON kind.
pub fn encode_value(schema: &Schema, value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Int8(v) => Json::Number((*v).into()),
        Value::Int16(v) => Json::Number((*v).into()),
        Value::Int32(v) | Value::Date(v) | Value::Time(v) => Json::Number((*v).into()),
        Value::Int64(v) | Value::Timestamp(v) => Json::Number((*v).into()),
        Value::Float32(v) => float_json(format!("{v:?}"), v.is_nan(), v.is_sign_negative()),
        Value::Float64(v) => float_json(format!("{v:?}"), v.is_nan(), v.is_sign_negative()),
        Value::Bytes(b) => Json::String(BASE64.encode(b)),
        Value::String(s) => Json::String(s.clone()),
        Value::Decimal(d) => encode_decimal(schema, d),
        Value::Array(items) => {
            let item_schema = match &schema.ty {
                Type::Array(s) => s.as_ref(),
                _ => schema,
            };
            Json::Array(items.iter().map(|v| encode_value(item_schema, v)).collect())
        }
        Value::Map(entries) => encode_map(schema, entries),
        Value::Struct(values) => {
            let mut obj = JsonMap::new();
            for (name, v) in values {
                let field_schema = schema.field(name).map_or(schema, |f| &f.schema);
                obj.insert(name.clone(), encode_value(field_schema, v));
            }
            Json::Object(obj)
        }
    }
}

/// Finite floats as their shortest round-trip literal. Infinities can come out of decoding
/// (`1e400`), so they go back as a literal that overflows again; NaN cannot, and is written as
/// Jackson writes it, the string `"NaN"`.
fn float_json(debug: String, nan: bool, negative: bool) -> Json {
    if nan {
        return Json::String("NaN".into());
    }
    let literal = match debug.as_str() {
        "inf" | "-inf" => if negative { "-1e400" } else { "1e400" }.to_string(),
        _ => debug,
    };
    Json::Number(
        literal
            .parse()
            .expect("Rust's float Debug output is a JSON number"),
    )
}

/// Base64 of the unscaled value at the schema's scale, as `Decimal.fromLogical` writes it. A
/// value that does not rescale exactly (or under a non-Decimal schema) goes out as a JSON
/// number instead, which JsonConverter also reads, so nothing is lost either way.
fn encode_decimal(schema: &Schema, d: &Decimal) -> Json {
    if let Some(Logical::Decimal { scale, .. }) = schema.logical {
        if let Some(rescaled) = d.rescale(scale) {
            return Json::String(BASE64.encode(rescaled.unscaled.to_signed_bytes_be()));
        }
    }
    // Plain notation keeps a non-negative scale (trailing zeros included); a negative scale
    // needs the exponent form.
    let literal = if d.scale >= 0 {
        d.to_string()
    } else {
        format!("{}e{}", d.unscaled, -i64::from(d.scale))
    };
    Json::Number(literal.parse().expect("a Decimal's text is a JSON number"))
}

fn encode_map(schema: &Schema, entries: &[(Value, Value)]) -> Json {
    let (keys, values) = match &schema.ty {
        Type::Map(k, v) => (k.as_ref(), v.as_ref()),
        _ => (schema, schema),
    };
    if keys.ty == Type::String {
        let mut obj = JsonMap::new();
        for (k, v) in entries {
            let key = match encode_value(keys, k) {
                Json::String(s) => s,
                other => other.to_string(),
            };
            obj.insert(key, encode_value(values, v));
        }
        return Json::Object(obj);
    }
    Json::Array(
        entries
            .iter()
            .map(|(k, v)| Json::Array(vec![encode_value(keys, k), encode_value(values, v)]))
            .collect(),
    )
}
