//! Why an envelope cannot be decoded, and where: the field's dotted path and what was found.

use serde_json::Value as Json;

/// A message that cannot be decoded, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", field_prefix(.field))]
pub struct DecodeError {
    /// Dotted path of the offending field or schema; `None` for the envelope and the root.
    pub field: Option<String>,
    pub kind: DecodeErrorKind,
}

pub(super) fn field_prefix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!("field {f:?}: "))
        .unwrap_or_default()
}

pub(super) const TYPE_NAMES: &str =
    "boolean, int8, int16, int32, int64, float, double, bytes, string, array, map, struct";
pub(super) const OVERFLOW_SWITCH: &str = "refused because sink.integer.overflow=error";

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeErrorKind {
    #[error("the message value is not valid JSON: {0}")]
    NotJson(String),
    #[error(
        "the message value is not a JSON object; JsonConverter with schemas.enable=true expects \
         {{\"schema\": ..., \"payload\": ...}} (plain JSON needs value.converter.schemas.enable=false)"
    )]
    NotAnObject,
    #[error(
        "JsonConverter with schemas.enable=true requires exactly the fields \"schema\" and \"payload\", \
         found {found:?}; plain JSON without this envelope needs value.converter.schemas.enable=false"
    )]
    EnvelopeKeys { found: Vec<String> },
    #[error("the envelope has no \"schema\" field; JsonConverter with schemas.enable=true requires \"schema\" and \"payload\"")]
    MissingSchema,
    #[error("the envelope has no \"payload\" field; JsonConverter with schemas.enable=true requires \"schema\" and \"payload\"")]
    MissingPayload,
    #[error(
        "the envelope's \"schema\" is null (schema-less JSON); this sink needs the schema to know the \
         columns: send {{\"schema\": {{\"type\": \"struct\", ...}}, \"payload\": ...}}"
    )]
    SchemaNull,
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    #[error("unknown schema type {0:?}; the types are {TYPE_NAMES}")]
    UnknownType(String),
    /// The schema's `default` does not decode against the schema itself.
    #[error("invalid schema default: {0}")]
    InvalidDefault(Box<DecodeErrorKind>),
    #[error("the value is missing or null, but the schema is required (\"optional\": false) and has no default")]
    MissingRequired,
    /// A JSON node of the wrong kind. Deviation: JsonConverter stores 0 / false / null instead.
    #[error("expected {expected}, found {found}")]
    WrongKind { expected: String, found: String },
    /// With [`Overflow::Error`]; for Date and Time always, as JsonConverter rejects those too.
    #[error(
        "{literal} is out of range for {target} ({}); {}",
        range_of(target),
        consequence_of(target)
    )]
    OutOfRange {
        target: &'static str,
        literal: String,
    },
    /// A fraction for an integer type, with [`Overflow::Error`].
    #[error("{literal} has a fractional part, which {target} cannot hold; JsonConverter would truncate it toward zero, {OVERFLOW_SWITCH}")]
    Fractional {
        target: &'static str,
        literal: String,
    },
    #[error("invalid base64 (standard alphabet, with padding): {0}")]
    InvalidBase64(String),
    #[error("invalid Decimal: {0}")]
    InvalidDecimal(String),
    #[error("invalid map entry: {0}")]
    InvalidMapEntry(String),
}

pub(super) fn range_of(target: &str) -> &'static str {
    match target {
        "int8" => "-128..=127",
        "int16" => "-32768..=32767",
        "int32" => "-2147483648..=2147483647",
        "int64" | "Timestamp" => "-9223372036854775808..=9223372036854775807",
        "float" => "finite magnitudes up to 3.4028235e38, non-zero ones from 1.4e-45",
        "double" => "finite magnitudes up to 1.7976931348623157e308, non-zero ones from 4.9e-324",
        "Date" => "a 32-bit integer of days since 1970-01-01",
        "Time" => "0..=86400000 milliseconds of the day",
        _ => "its range",
    }
}

pub(super) fn consequence_of(target: &str) -> String {
    match target {
        "Date" | "Time" => "JsonConverter rejects it too".into(),
        "float" | "double" => format!("JsonConverter would store Infinity or 0, {OVERFLOW_SWITCH}"),
        _ => format!("JsonConverter would wrap it (two's complement), {OVERFLOW_SWITCH}"),
    }
}

impl DecodeError {
    pub(super) fn at(path: &str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            field: (!path.is_empty()).then(|| path.to_string()),
            kind,
        }
    }
}

pub(super) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

pub(super) fn invalid_schema(path: &str, why: impl Into<String>) -> DecodeError {
    DecodeError::at(path, DecodeErrorKind::InvalidSchema(why.into()))
}

pub(super) fn wrong_kind<T>(
    path: &str,
    expected: impl Into<String>,
    found: &Json,
) -> Result<T, DecodeError> {
    Err(DecodeError::at(
        path,
        DecodeErrorKind::WrongKind {
            expected: expected.into(),
            found: describe_json(found),
        },
    ))
}

/// `string "abc"`, `number 1.5`, `object with 3 keys`: enough to find the node in the message.
pub(super) fn describe_json(json: &Json) -> String {
    match json {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("boolean {b}"),
        Json::Number(n) => format!("number {n}"),
        Json::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!(
                "string {}… ({} characters)",
                Json::String(head),
                s.chars().count()
            )
        }
        Json::String(s) => format!("string {}", Json::String(s.clone())),
        Json::Array(a) => format!("array of {} elements", a.len()),
        Json::Object(o) => format!("object with {} keys", o.len()),
    }
}
