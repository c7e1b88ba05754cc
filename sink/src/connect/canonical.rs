//! A canonical text for a decoded record, the same one Kafka's own JsonConverter prints in the
//! decoding oracle (`reference/canonical/`, printed by `reference/jsonconverter/`), so the two
//! decoders can be compared line by line.
//!
//! `SCHEMA = VALUE`:
//! - schema: `int8` ... `double`, `boolean`, `string`, `bytes`, `array<S>`, `map<K,V>`,
//!   `struct{"name":S,...}`; then `?` if optional, `@"name"`, `#version`, `("k"="v",...)` for
//!   parameters (sorted), `=VALUE` for a default. A tombstone's schema is `-`.
//! - value: `null`; integers in decimal; `f:`/`d:` and the IEEE bits in hex for float and
//!   double; `true`/`false`; strings quoted, every char outside printable ASCII (and `"`, `\`)
//!   as `\uXXXX` of its UTF-16 code units; `0x` and hex for bytes; `dec(unscaled,scale)`;
//!   `ms(millis since the epoch)` for Date, Time and Timestamp; `[a,b]`; maps `{k:v,...}`
//!   sorted by the rendered key; structs `{"name"=v,...}` in field order.

use super::json::Envelope;
use super::schema::{Schema, Type};
use super::value::Value;
use std::fmt::Write;

/// The canonical line of a decoded envelope.
pub fn envelope(envelope: &Envelope) -> String {
    match envelope {
        Envelope::Tombstone => "- = null".to_owned(),
        Envelope::Record(d) => format!("{} = {}", schema(&d.schema), value(&d.schema, &d.value)),
    }
}

pub fn schema(s: &Schema) -> String {
    let mut b = match &s.ty {
        Type::Array(items) => format!("array<{}>", schema(items)),
        Type::Map(k, v) => format!("map<{},{}>", schema(k), schema(v)),
        Type::Struct(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", string(&f.name), schema(&f.schema)))
                .collect();
            format!("struct{{{}}}", fields.join(","))
        }
        other => other.type_name().to_owned(),
    };
    if s.optional {
        b.push('?');
    }
    if let Some(name) = &s.name {
        let _ = write!(b, "@{}", string(name));
    }
    if let Some(version) = s.version {
        let _ = write!(b, "#{version}");
    }
    if !s.parameters.is_empty() {
        let params: Vec<String> = s
            .parameters
            .iter()
            .map(|(k, v)| format!("{}={}", string(k), string(v)))
            .collect();
        let _ = write!(b, "({})", params.join(","));
    }
    if let Some(default) = &s.default {
        if !default.is_null() {
            let _ = write!(b, "={}", value(s, default));
        }
    }
    b
}

pub fn value(s: &Schema, v: &Value) -> String {
    const DAY_MS: i64 = 86_400_000;
    match v {
        Value::Null => "null".to_owned(),
        Value::Boolean(b) => b.to_string(),
        Value::Int8(i) => i.to_string(),
        Value::Int16(i) => i.to_string(),
        Value::Int32(i) => i.to_string(),
        Value::Int64(i) => i.to_string(),
        Value::Float32(f) => format!("f:{:x}", f.to_bits()),
        Value::Float64(f) => format!("d:{:x}", f.to_bits()),
        Value::String(text) => string(text),
        Value::Bytes(bytes) => hex(bytes),
        Value::Decimal(d) => format!("dec({},{})", d.unscaled, d.scale),
        Value::Date(days) => format!("ms({})", i64::from(*days) * DAY_MS),
        Value::Time(ms) => format!("ms({ms})"),
        Value::Timestamp(ms) => format!("ms({ms})"),
        Value::Array(items) => {
            let item_schema = match &s.ty {
                Type::Array(items) => Some(items.as_ref()),
                _ => None,
            };
            let items: Vec<String> = items
                .iter()
                .map(|i| item_schema.map_or_else(|| untyped(i), |is| value(is, i)))
                .collect();
            format!("[{}]", items.join(","))
        }
        Value::Map(entries) => {
            let (ks, vs) = match &s.ty {
                Type::Map(k, v) => (Some(k.as_ref()), Some(v.as_ref())),
                _ => (None, None),
            };
            let mut rendered: Vec<(String, String)> = entries
                .iter()
                .map(|(k, v)| {
                    (
                        ks.map_or_else(|| untyped(k), |s| value(s, k)),
                        vs.map_or_else(|| untyped(v), |s| value(s, v)),
                    )
                })
                .collect();
            rendered.sort();
            let items: Vec<String> = rendered.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Struct(fields) => {
            let schemas = s.fields();
            let items: Vec<String> = fields
                .iter()
                .map(|(name, v)| {
                    let field_schema = schemas.iter().find(|f| &f.name == name);
                    let v = field_schema.map_or_else(|| untyped(v), |f| value(&f.schema, v));
                    format!("{}={v}", string(name))
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

/// A value without a schema to guide it (cannot happen for a decoded record; kept total).
fn untyped(v: &Value) -> String {
    value(&Schema::new(Type::String), v)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * bytes.len());
    s.push_str("0x");
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Quoted; every UTF-16 code unit outside printable ASCII, and `"` and `\`, as `\uXXXX`.
pub fn string(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for unit in text.encode_utf16() {
        match unit {
            0x20..=0x7e if unit != u16::from(b'"') && unit != u16::from(b'\\') => {
                s.push(char::from(unit as u8));
            }
            _ => {
                let _ = write!(s, "\\u{unit:04x}");
            }
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::json::{decode_envelope, DecodeOptions};

    fn line(json: &str) -> String {
        let e = decode_envelope(Some(json.as_bytes()), &DecodeOptions::default()).unwrap();
        envelope(&e)
    }

    #[test]
    fn renders_what_the_oracle_renders() {
        // The oracle's own answer for this envelope (reference/jsonconverter, Kafka 3.9.1).
        let json = r#"{"schema":{"type":"struct","fields":[{"type":"int8","optional":false,"field":"id8"},{"type":"float","field":"f"},{"type":"string","optional":true,"field":"msg"},{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"},"field":"d"},{"type":"map","keys":{"type":"string"},"values":{"type":"int32"},"field":"m"}],"optional":false,"name":"record"},"payload":{"id8":222,"f":1.5,"msg":"hé\"","d":"AJs=","m":{"b":1,"a":2}}}"#;
        assert_eq!(
            line(json),
            r#"struct{"id8":int8,"f":float,"msg":string?,"d":bytes@"org.apache.kafka.connect.data.Decimal"("scale"="2"),"m":map<string,int32>}@"record" = {"id8"=-34,"f"=f:3fc00000,"msg"="h\u00e9\u0022","d"=dec(155,2),"m"={"a":2,"b":1}}"#
        );
        assert_eq!(envelope(&Envelope::Tombstone), "- = null");
    }

    #[test]
    fn strings_escape_utf16_code_units() {
        assert_eq!(string("a\"\\\n😀"), r#""a\u0022\u005c\u000a\ud83d\ude00""#);
    }
}
