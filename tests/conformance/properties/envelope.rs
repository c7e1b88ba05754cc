//! Envelopes, written as JSON text by hand (never with the sink's encoder).

use super::*;
// ---------------------------------------------------------------------------------------------
// Envelopes, written as JSON text by hand.

pub(super) const LOGICAL: &str = "org.apache.kafka.connect.data.";

pub(super) fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Big-endian two's complement, as few bytes as hold the value (Java's BigInteger.toByteArray).
pub(super) fn twos_complement(v: i128) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut start = 0;
    while start < 15 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
            start += 1;
        } else {
            break;
        }
    }
    bytes[start..].to_vec()
}

pub(super) fn plain_decimal(unscaled: i128, scale: u32) -> String {
    let neg = unscaled < 0;
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if neg { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale as usize + 1);
    let (int, frac) = padded.split_at(padded.len() - scale as usize);
    format!("{sign}{int}.{frac}")
}

pub(super) fn json_value(v: &Val) -> String {
    match v {
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Num(n) => n.clone(),
        Val::Str(s) => json_string(s),
        Val::Bytes(b) => json_string(&base64(b)),
        Val::DecBytes(u) => json_string(&base64(&twos_complement(*u))),
        Val::DecNum { unscaled, scale } => plain_decimal(*unscaled, *scale),
        Val::Date(d) => d.to_string(),
        Val::Time(t) => t.to_string(),
        Val::Timestamp(t) => t.to_string(),
    }
}

pub(super) fn field_schema(f: &FieldSpec) -> String {
    let (ty, logical, params) = match &f.kind {
        Kind::Boolean => ("boolean", None, None),
        Kind::Int8 => ("int8", None, None),
        Kind::Int16 => ("int16", None, None),
        Kind::Int32 => ("int32", None, None),
        Kind::Int64 => ("int64", None, None),
        Kind::Float => ("float", None, None),
        Kind::Double => ("double", None, None),
        Kind::String => ("string", None, None),
        Kind::Bytes => ("bytes", None, None),
        Kind::Decimal { scale, precision } => {
            let mut p = format!(r#"{{"scale":"{scale}""#);
            if let Some(precision) = precision {
                let _ = write!(p, r#","connect.decimal.precision":"{precision}""#);
            }
            p.push('}');
            ("bytes", Some("Decimal"), Some(p))
        }
        Kind::Date => ("int32", Some("Date"), None),
        Kind::Time => ("int32", Some("Time"), None),
        Kind::Timestamp => ("int64", Some("Timestamp"), None),
    };
    let mut s = format!(r#"{{"type":"{ty}","optional":{}"#, f.optional);
    if let Some(logical) = logical {
        let _ = write!(s, r#","name":"{LOGICAL}{logical}","version":1"#);
    }
    if let Some(params) = params {
        let _ = write!(s, r#","parameters":{params}"#);
    }
    if let Some(default) = &f.default {
        let _ = write!(s, r#","default":{}"#, json_value(default));
    }
    let _ = write!(s, r#","field":{}}}"#, json_string(&f.name));
    s
}

pub(super) fn envelopes(plan: &Plan) -> Vec<String> {
    let fields: Vec<String> = plan.fields.iter().map(field_schema).collect();
    let schema = format!(
        r#"{{"type":"struct","fields":[{}],"optional":false,"name":"propschema"}}"#,
        fields.join(",")
    );
    plan.records
        .iter()
        .map(|record| {
            let entries: Vec<String> = plan
                .fields
                .iter()
                .zip(record)
                .filter_map(|(f, slot)| match slot {
                    Slot::Missing => None,
                    Slot::Null => Some(format!("{}:null", json_string(&f.name))),
                    Slot::Value(v) => Some(format!("{}:{}", json_string(&f.name), json_value(v))),
                })
                .collect();
            format!(
                r#"{{"schema":{schema},"payload":{{{}}}}}"#,
                entries.join(",")
            )
        })
        .collect()
}
