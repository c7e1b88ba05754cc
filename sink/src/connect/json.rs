//! JsonConverter envelopes (`schemas.enable=true`): decoding into a [`Schema`] and a [`Value`],
//! and encoding back.
//!
//! Follows apache/kafka `connect/json/src/main/java/org/apache/kafka/connect/json/JsonConverter.java`
//! as of 2.6 (the seed's version): Jackson reads floats as exact `BigDecimal`s
//! (`USE_BIG_DECIMAL_FOR_FLOATS`, `withExactBigDecimals(true)`), ints are `(byte) intValue()` and so
//! on. Where this module differs on purpose, the comment says `Deviation:`.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use num_bigint::BigInt;
use serde_json::{Map as JsonMap, Number, Value as Json};

use super::schema::{
    Field, Logical, Schema, Type, DATE_NAME, DECIMAL_NAME, DECIMAL_PRECISION_PARAM,
    DECIMAL_SCALE_PARAM, TIMESTAMP_NAME, TIME_NAME,
};
use super::value::{Decimal, NumberLiteral, Value};

/// What to do when a number changes on its way into its Connect type: an int that wraps
/// (`int8` 222 -> -34), a fraction that is truncated (1.9 -> 1), a float that overflows to
/// infinity or underflows to zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Overflow {
    /// Store what JsonConverter stores, and report a [`Coercion`].
    #[default]
    Wrap,
    /// Refuse the record (`sink.integer.overflow=error`).
    Error,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeOptions {
    pub overflow: Overflow,
}

/// A decoded record.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub schema: Schema,
    pub value: Value,
    /// Every number whose stored value differs from what was written, in document order.
    pub coercions: Vec<Coercion>,
}

/// One number that changed on decoding (only with [`Overflow::Wrap`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coercion {
    /// Dotted path (`a.b`, `arr[2]`), `""` for the root; a schema default's own coercions are
    /// reported as `<path> (schema default)`.
    pub field: String,
    /// The JSON literal as written, in serde_json's spelling of exponents (`1E3` reads `1e+3`).
    pub written: String,
    /// What was stored, e.g. `-34`, `Infinity`.
    pub stored: String,
    /// The Connect type: `int8` ... `double`, `Timestamp`.
    pub target: &'static str,
}

// One per message, moved once: boxing the record would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Envelope {
    /// A Kafka null value.
    Tombstone,
    Record(Decoded),
}

/// A message that cannot be decoded, and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", field_prefix(.field))]
pub struct DecodeError {
    /// Dotted path of the offending field or schema; `None` for the envelope and the root.
    pub field: Option<String>,
    pub kind: DecodeErrorKind,
}

fn field_prefix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!("field {f:?}: "))
        .unwrap_or_default()
}

const TYPE_NAMES: &str =
    "boolean, int8, int16, int32, int64, float, double, bytes, string, array, map, struct";
const OVERFLOW_SWITCH: &str = "refused because sink.integer.overflow=error";

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

fn range_of(target: &str) -> &'static str {
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

fn consequence_of(target: &str) -> String {
    match target {
        "Date" | "Time" => "JsonConverter rejects it too".into(),
        "float" | "double" => format!("JsonConverter would store Infinity or 0, {OVERFLOW_SWITCH}"),
        _ => format!("JsonConverter would wrap it (two's complement), {OVERFLOW_SWITCH}"),
    }
}

impl DecodeError {
    fn at(path: &str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError {
            field: (!path.is_empty()).then(|| path.to_string()),
            kind,
        }
    }
}

/// Decodes a Kafka message value the way JsonConverter does with `schemas.enable=true`.
/// `None` (a Kafka null) is a tombstone; a `null` schema is refused ([`DecodeErrorKind::SchemaNull`]).
pub fn decode_envelope(
    bytes: Option<&[u8]>,
    opts: &DecodeOptions,
) -> Result<Envelope, DecodeError> {
    let Some(bytes) = bytes else {
        return Ok(Envelope::Tombstone);
    };
    // Jackson skips a UTF-8 byte order mark; serde_json does not.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let json: Json = serde_json::from_slice(bytes)
        .map_err(|e| DecodeError::at("", DecodeErrorKind::NotJson(e.to_string())))?;
    let Json::Object(envelope) = &json else {
        return Err(DecodeError::at("", DecodeErrorKind::NotAnObject));
    };
    if envelope.keys().any(|k| k != "schema" && k != "payload") {
        let found = envelope.keys().cloned().collect();
        return Err(DecodeError::at("", DecodeErrorKind::EnvelopeKeys { found }));
    }
    let schema = envelope
        .get("schema")
        .ok_or(DecodeError::at("", DecodeErrorKind::MissingSchema))?;
    let payload = envelope
        .get("payload")
        .ok_or(DecodeError::at("", DecodeErrorKind::MissingPayload))?;
    if schema.is_null() {
        return Err(DecodeError::at("", DecodeErrorKind::SchemaNull));
    }
    let mut decoder = Decoder {
        opts,
        coercions: Vec::new(),
    };
    let schema = decoder.schema(schema, "")?;
    let value = decoder.value(&schema, Some(payload), "")?;
    Ok(Envelope::Record(Decoded {
        schema,
        value,
        coercions: decoder.coercions,
    }))
}

/// The schema part of an envelope, decoded, with the coercions its defaults made (for
/// [`super::cache`], which decodes each distinct schema once).
pub(crate) fn decode_schema(
    json: &Json,
    opts: &DecodeOptions,
) -> Result<(Schema, Vec<Coercion>), DecodeError> {
    let mut decoder = Decoder {
        opts,
        coercions: Vec::new(),
    };
    let schema = decoder.schema(json, "")?;
    Ok((schema, decoder.coercions))
}

struct Decoder<'o> {
    opts: &'o DecodeOptions,
    coercions: Vec<Coercion>,
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn invalid_schema(path: &str, why: impl Into<String>) -> DecodeError {
    DecodeError::at(path, DecodeErrorKind::InvalidSchema(why.into()))
}

fn wrong_kind<T>(path: &str, expected: impl Into<String>, found: &Json) -> Result<T, DecodeError> {
    Err(DecodeError::at(
        path,
        DecodeErrorKind::WrongKind {
            expected: expected.into(),
            found: describe_json(found),
        },
    ))
}

/// `string "abc"`, `number 1.5`, `object with 3 keys`: enough to find the node in the message.
fn describe_json(json: &Json) -> String {
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

impl Decoder<'_> {
    /// `JsonConverter.asConnectSchema`. `path` names the schema in errors.
    fn schema(&mut self, json: &Json, path: &str) -> Result<Schema, DecodeError> {
        let Json::Object(obj) = json else {
            return Err(invalid_schema(
                path,
                format!(
                    "a schema must be a JSON object, found {}",
                    describe_json(json)
                ),
            ));
        };
        let ty = self.schema_type(obj, path)?;
        let mut schema = Schema::new(ty);
        // Only a literal `true` makes a schema optional, as upstream.
        schema.optional = obj.get("optional") == Some(&Json::Bool(true));
        schema.name = obj.get("name").and_then(Json::as_str).map(str::to_string);
        // Upstream takes `intValue()` of an integral version; anything else is ignored.
        schema.version = match obj.get("version") {
            Some(Json::Number(n)) => NumberLiteral::parse(n.as_str())
                .filter(|lit| lit.integer_token)
                .map(|lit| wrap_integer(&lit, 32).value as i32),
            _ => None,
        };
        schema.doc = obj.get("doc").and_then(Json::as_str).map(str::to_string);
        if let Some(Json::Object(params)) = obj.get("parameters") {
            for (key, value) in params {
                let Json::String(value) = value else {
                    return Err(invalid_schema(
                        path,
                        format!(
                            "parameter {key:?} must be a string, found {}",
                            describe_json(value)
                        ),
                    ));
                };
                schema.parameters.insert(key.clone(), value.clone());
            }
        }
        schema.logical = logical_type(&schema).map_err(|why| invalid_schema(path, why))?;
        if let Some(default) = obj.get("default") {
            let mark = self.coercions.len();
            let value = self
                .value(&schema, Some(default), path)
                .map_err(|e| DecodeError {
                    field: e.field,
                    kind: DecodeErrorKind::InvalidDefault(Box::new(e.kind)),
                })?;
            for c in &mut self.coercions[mark..] {
                c.field = format!("{} (schema default)", c.field)
                    .trim_start()
                    .to_string();
            }
            // A null default on an optional schema means "no default", as in SchemaBuilder.
            schema.default = (!value.is_null()).then_some(value);
        }
        Ok(schema)
    }

    fn schema_type(
        &mut self,
        obj: &JsonMap<String, Json>,
        path: &str,
    ) -> Result<Type, DecodeError> {
        let name = match obj.get("type") {
            Some(Json::String(name)) => name.as_str(),
            Some(other) => {
                return Err(invalid_schema(
                    path,
                    format!("\"type\" must be a string, found {}", describe_json(other)),
                ))
            }
            None => {
                return Err(invalid_schema(
                    path,
                    format!("the schema has no \"type\"; the types are {TYPE_NAMES}"),
                ))
            }
        };
        let sub = |key: &str| obj.get(key).filter(|j| !j.is_null());
        Ok(match name {
            "boolean" => Type::Boolean,
            "int8" => Type::Int8,
            "int16" => Type::Int16,
            "int32" => Type::Int32,
            "int64" => Type::Int64,
            "float" => Type::Float32,
            "double" => Type::Float64,
            "bytes" => Type::Bytes,
            "string" => Type::String,
            "array" => {
                let items = sub("items").ok_or_else(|| {
                    invalid_schema(path, "an array schema needs an \"items\" schema")
                })?;
                Type::Array(Box::new(self.schema(items, &join(path, "items"))?))
            }
            "map" => {
                let keys = sub("keys")
                    .ok_or_else(|| invalid_schema(path, "a map schema needs a \"keys\" schema"))?;
                let values = sub("values").ok_or_else(|| {
                    invalid_schema(path, "a map schema needs a \"values\" schema")
                })?;
                let keys = self.schema(keys, &join(path, "keys"))?;
                Type::Map(
                    Box::new(keys),
                    Box::new(self.schema(values, &join(path, "values"))?),
                )
            }
            "struct" => Type::Struct(self.struct_fields(obj, path)?),
            other => {
                return Err(DecodeError::at(
                    path,
                    DecodeErrorKind::UnknownType(other.to_string()),
                ))
            }
        })
    }

    fn struct_fields(
        &mut self,
        obj: &JsonMap<String, Json>,
        path: &str,
    ) -> Result<Vec<Field>, DecodeError> {
        let Some(Json::Array(items)) = obj.get("fields") else {
            return Err(invalid_schema(
                path,
                "a struct schema needs a \"fields\" array",
            ));
        };
        let mut fields: Vec<Field> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let name = match item.get("field") {
                Some(Json::String(name)) if !name.is_empty() => name,
                _ => {
                    return Err(invalid_schema(
                        path,
                        format!("struct field #{i} needs a non-empty string \"field\" name"),
                    ))
                }
            };
            if fields.iter().any(|f| &f.name == name) {
                return Err(invalid_schema(
                    path,
                    format!("struct field {name:?} is declared twice"),
                ));
            }
            let schema = self.schema(item, &join(path, name))?;
            fields.push(Field::new(name.clone(), schema));
        }
        Ok(fields)
    }

    /// `JsonConverter.convertToConnect`: null/missing handling first, then the logical type,
    /// then the physical type.
    fn value(
        &mut self,
        schema: &Schema,
        json: Option<&Json>,
        path: &str,
    ) -> Result<Value, DecodeError> {
        let json = match json {
            None | Some(Json::Null) => {
                if let Some(default) = &schema.default {
                    return Ok(default.clone());
                }
                if schema.optional {
                    return Ok(Value::Null);
                }
                return Err(DecodeError::at(path, DecodeErrorKind::MissingRequired));
            }
            Some(json) => json,
        };
        if let Some(logical) = schema.logical {
            return self.logical(logical, schema, json, path);
        }
        Ok(match &schema.ty {
            Type::Boolean => match json {
                Json::Bool(b) => Value::Boolean(*b),
                other => return wrong_kind(path, "true or false for boolean", other),
            },
            Type::Int8 => Value::Int8(self.integer(json, path, 8, "int8")? as i8),
            Type::Int16 => Value::Int16(self.integer(json, path, 16, "int16")? as i16),
            Type::Int32 => Value::Int32(self.integer(json, path, 32, "int32")? as i32),
            Type::Int64 => Value::Int64(self.integer(json, path, 64, "int64")?),
            Type::Float32 => Value::Float32(self.float::<f32>(json, path, "float")?),
            Type::Float64 => Value::Float64(self.float::<f64>(json, path, "double")?),
            Type::Bytes => match json {
                Json::String(s) => Value::Bytes(base64_decode(s, path)?),
                other => return wrong_kind(path, "a base64 string for bytes", other),
            },
            Type::String => match json {
                Json::String(s) => Value::String(s.clone()),
                other => return wrong_kind(path, "a string for string", other),
            },
            Type::Array(items) => {
                let Json::Array(elements) = json else {
                    return wrong_kind(path, format!("an array for {}", schema.describe()), json);
                };
                let mut out = Vec::with_capacity(elements.len());
                for (i, element) in elements.iter().enumerate() {
                    out.push(self.value(items, Some(element), &format!("{path}[{i}]"))?);
                }
                Value::Array(out)
            }
            Type::Map(keys, values) => Value::Map(self.map(schema, keys, values, json, path)?),
            Type::Struct(fields) => {
                let Json::Object(obj) = json else {
                    return wrong_kind(path, format!("an object for {}", schema.describe()), json);
                };
                let mut out = Vec::with_capacity(fields.len());
                for field in fields {
                    let value = self.value(
                        &field.schema,
                        obj.get(&field.name),
                        &join(path, &field.name),
                    )?;
                    out.push((field.name.clone(), value));
                }
                Value::Struct(out)
            }
        })
    }

    /// String-keyed maps are JSON objects; other maps are arrays of `[key, value]` pairs.
    fn map(
        &mut self,
        schema: &Schema,
        keys: &Schema,
        values: &Schema,
        json: &Json,
        path: &str,
    ) -> Result<Vec<(Value, Value)>, DecodeError> {
        if keys.ty == Type::String {
            let Json::Object(obj) = json else {
                return wrong_kind(path, format!("an object for {}", schema.describe()), json);
            };
            let mut out = Vec::with_capacity(obj.len());
            for (k, v) in obj {
                // Upstream uses the object key as is, without the key schema.
                let value = self.value(
                    values,
                    Some(v),
                    &format!("{path}[{}]", Json::String(k.clone())),
                )?;
                out.push((Value::String(k.clone()), value));
            }
            return Ok(out);
        }
        let Json::Array(entries) = json else {
            return wrong_kind(
                path,
                format!("an array of [key, value] pairs for {}", schema.describe()),
                json,
            );
        };
        let mut out = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = format!("{path}[{i}]");
            let pair = match entry {
                Json::Array(pair) if pair.len() == 2 => pair,
                other => {
                    let why = format!(
                        "expected a [key, value] array of 2 elements, found {}",
                        describe_json(other)
                    );
                    return Err(DecodeError::at(
                        &entry_path,
                        DecodeErrorKind::InvalidMapEntry(why),
                    ));
                }
            };
            let key = self.value(keys, Some(&pair[0]), &format!("{entry_path}.key"))?;
            let value = self.value(values, Some(&pair[1]), &format!("{entry_path}.value"))?;
            out.push((key, value));
        }
        Ok(out)
    }

    fn logical(
        &mut self,
        logical: Logical,
        schema: &Schema,
        json: &Json,
        path: &str,
    ) -> Result<Value, DecodeError> {
        match logical {
            Logical::Decimal { scale, .. } => match json {
                // `decimalValue()` of an exact BigDecimal node: the literal's own scale.
                Json::Number(n) => n
                    .as_str()
                    .parse::<Decimal>()
                    .map(Value::Decimal)
                    .map_err(|e| DecodeError::at(path, DecodeErrorKind::InvalidDecimal(e.0))),
                Json::String(s) => {
                    let bytes = base64_decode(s, path)?;
                    if bytes.is_empty() {
                        // `new BigInteger(new byte[0])` throws upstream.
                        let why = "the base64 string holds no bytes; an unscaled value needs at least one".into();
                        return Err(DecodeError::at(path, DecodeErrorKind::InvalidDecimal(why)));
                    }
                    Ok(Value::Decimal(Decimal::new(
                        BigInt::from_signed_bytes_be(&bytes),
                        scale,
                    )))
                }
                other => wrong_kind(
                    path,
                    format!("a number or a base64 string for {}", schema.describe()),
                    other,
                ),
            },
            // Upstream requires `isInt()`: an integer token that fits in 32 bits; no wrapping.
            Logical::Date => Ok(Value::Date(self.int32_strict(json, path, "Date")?)),
            Logical::Time => {
                let ms = self.int32_strict(json, path, "Time")?;
                if !(0..=86_400_000).contains(&ms) {
                    return Err(DecodeError::at(path, out_of_range("Time", json)));
                }
                Ok(Value::Time(ms))
            }
            // Upstream requires `isIntegralNumber()`, then `longValue()`, which wraps.
            Logical::Timestamp => match json {
                Json::Number(n)
                    if NumberLiteral::parse(n.as_str()).is_some_and(|l| l.integer_token) =>
                {
                    Ok(Value::Timestamp(self.integer(
                        json,
                        path,
                        64,
                        "Timestamp",
                    )?))
                }
                other => wrong_kind(path, "an integer for Timestamp", other),
            },
        }
    }

    fn int32_strict(
        &mut self,
        json: &Json,
        path: &str,
        target: &'static str,
    ) -> Result<i32, DecodeError> {
        let lit = match json {
            Json::Number(n) => NumberLiteral::parse(n.as_str()).filter(|l| l.integer_token),
            _ => None,
        };
        let Some(lit) = lit else {
            return wrong_kind(path, format!("an integer for {target}"), json);
        };
        let conv = wrap_integer(&lit, 32);
        if !conv.in_range {
            return Err(DecodeError::at(path, out_of_range(target, json)));
        }
        Ok(conv.value as i32)
    }

    /// `(byte) intValue()`, `(short) intValue()`, `intValue()`, `longValue()` of a Jackson node:
    /// truncate toward zero, keep the low `bits` bits.
    fn integer(
        &mut self,
        json: &Json,
        path: &str,
        bits: u32,
        target: &'static str,
    ) -> Result<i64, DecodeError> {
        let Json::Number(n) = json else {
            return wrong_kind(path, format!("a number for {target}"), json);
        };
        let Some(lit) = NumberLiteral::parse(n.as_str()) else {
            return wrong_kind(path, format!("a number for {target}"), json);
        };
        let conv = wrap_integer(&lit, bits);
        if conv.in_range && !conv.fraction {
            return Ok(conv.value);
        }
        match self.opts.overflow {
            Overflow::Wrap => {
                self.coerced(path, n, conv.value.to_string(), target);
                Ok(conv.value)
            }
            Overflow::Error if !conv.in_range => {
                Err(DecodeError::at(path, out_of_range(target, json)))
            }
            Overflow::Error => Err(DecodeError::at(
                path,
                DecodeErrorKind::Fractional {
                    target,
                    literal: n.to_string(),
                },
            )),
        }
    }

    /// `floatValue()` / `doubleValue()`: the correctly rounded nearest value. Overflow to
    /// infinity and underflow of a non-zero literal to zero count as changes.
    ///
    /// Deviation: the sign of a zero is kept as written (`-0.0` stays `-0.0`); upstream's
    /// BigDecimal has no negative zero, so it stores `0.0`.
    fn float<F: Float>(
        &mut self,
        json: &Json,
        path: &str,
        target: &'static str,
    ) -> Result<F, DecodeError> {
        let Json::Number(n) = json else {
            return wrong_kind(path, format!("a number for {target}"), json);
        };
        let (Some(lit), Ok(value)) = (NumberLiteral::parse(n.as_str()), n.as_str().parse::<F>())
        else {
            return wrong_kind(path, format!("a number for {target}"), json);
        };
        // Jackson reads the literal as an exact BigDecimal, which has no negative zero, so
        // JsonConverter stores `-0.0` as `0.0`.
        if lit.is_zero() {
            return Ok("0".parse::<F>().unwrap_or(value));
        }
        let changed = value.is_infinite() || value.is_zero();
        if !changed {
            return Ok(value);
        }
        match self.opts.overflow {
            Overflow::Wrap => {
                self.coerced(path, n, value.java_string(), target);
                Ok(value)
            }
            Overflow::Error => Err(DecodeError::at(path, out_of_range(target, json))),
        }
    }

    fn coerced(&mut self, path: &str, written: &Number, stored: String, target: &'static str) {
        self.coercions.push(Coercion {
            field: path.to_string(),
            written: written.to_string(),
            stored,
            target,
        });
    }
}

fn out_of_range(target: &'static str, json: &Json) -> DecodeErrorKind {
    DecodeErrorKind::OutOfRange {
        target,
        literal: json.to_string(),
    }
}

/// The float types, so `float` and `double` share one decoding path.
pub(crate) trait Float: std::str::FromStr + Copy {
    fn is_infinite(self) -> bool;
    fn is_zero(self) -> bool;
    /// How Java prints the special values this decoder reports.
    fn java_string(self) -> String;
}

macro_rules! impl_float {
    ($t:ty) => {
        impl Float for $t {
            fn is_infinite(self) -> bool {
                <$t>::is_infinite(self)
            }
            fn is_zero(self) -> bool {
                self == 0.0
            }
            fn java_string(self) -> String {
                match self {
                    x if x == <$t>::INFINITY => "Infinity".into(),
                    x if x == <$t>::NEG_INFINITY => "-Infinity".into(),
                    x => format!("{x:?}"),
                }
            }
        }
    };
}
impl_float!(f32);
impl_float!(f64);

pub(crate) struct IntConversion {
    /// The low `bits` bits of the truncated value, sign-extended.
    pub value: i64,
    /// The truncated value fits in `bits` bits (so `value` equals it).
    pub in_range: bool,
    /// Truncation dropped a non-zero fraction.
    pub fraction: bool,
}

/// Exact for every literal, without building big integers: the low 64 bits of `d × 10^k` only
/// depend on the low 64 bits of `d`, and are 0 once `k >= 64` (`10^k` is a multiple of `2^k`).
pub(crate) fn wrap_integer(lit: &NumberLiteral, bits: u32) -> IntConversion {
    if lit.exponent_beyond_int && !lit.is_zero() {
        // Jackson's double is ±Infinity; Java's (long) / (int) casts saturate, and int8/int16
        // are the (byte) / (short) of the saturated int.
        let (long, int) = if lit.negative {
            (i64::MIN, i32::MIN)
        } else {
            (i64::MAX, i32::MAX)
        };
        let value = match bits {
            8 => i64::from(int as i8),
            16 => i64::from(int as i16),
            32 => i64::from(int),
            _ => long,
        };
        return IntConversion {
            value,
            in_range: false,
            fraction: false,
        };
    }
    if lit.is_zero() {
        return IntConversion {
            value: 0,
            in_range: true,
            fraction: false,
        };
    }
    let digits = lit.digits.as_str();
    let (int, zeros, fraction) = if lit.exp10 >= 0 {
        (digits, lit.exp10 as u64, false)
    } else {
        let drop = lit.exp10.unsigned_abs();
        if drop >= digits.len() as u64 {
            ("", 0, true)
        } else {
            let (int, frac) = digits.split_at(digits.len() - drop as usize);
            (int, 0, frac.bytes().any(|b| b != b'0'))
        }
    };
    let mut low: u64 = 0;
    for b in int.bytes() {
        low = low.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
    }
    if zeros >= 64 {
        low = 0;
    } else {
        for _ in 0..zeros {
            low = low.wrapping_mul(10);
        }
    }
    if lit.negative {
        low = low.wrapping_neg();
    }
    let value = match bits {
        8 => i64::from(low as i8),
        16 => i64::from(low as i16),
        32 => i64::from(low as i32),
        _ => low as i64,
    };
    // 20 digits hold every 64-bit magnitude; more cannot be in range (no leading zeros).
    let in_range = int.is_empty()
        || (int.len() as u64 + zeros <= 20 && {
            let magnitude = int.parse::<i128>().expect("ASCII digits") * 10i128.pow(zeros as u32);
            let exact = if lit.negative { -magnitude } else { magnitude };
            exact == i128::from(value)
        });
    IntConversion {
        value,
        in_range,
        fraction,
    }
}

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    // Jackson's MIME_NO_LINEFEEDS variant requires padding but ignores stray trailing bits.
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

pub(crate) fn base64_decode(text: &str, path: &str) -> Result<Vec<u8>, DecodeError> {
    BASE64
        .decode(text)
        .map_err(|e| DecodeError::at(path, DecodeErrorKind::InvalidBase64(e.to_string())))
}

/// The logical type a schema's `name` selects, checked against its physical type.
fn logical_type(schema: &Schema) -> Result<Option<Logical>, String> {
    let Some(name) = schema.name.as_deref() else {
        return Ok(None);
    };
    let (logical, physical) = match name {
        DECIMAL_NAME => (decimal_logical(schema)?, Type::Bytes),
        DATE_NAME => (Logical::Date, Type::Int32),
        TIME_NAME => (Logical::Time, Type::Int32),
        TIMESTAMP_NAME => (Logical::Timestamp, Type::Int64),
        _ => return Ok(None),
    };
    if schema.ty != physical {
        return Err(format!(
            "{name} must have type {}, found {}",
            physical.type_name(),
            schema.ty.type_name()
        ));
    }
    Ok(Some(logical))
}

fn decimal_logical(schema: &Schema) -> Result<Logical, String> {
    let scale = schema
        .parameters
        .get(DECIMAL_SCALE_PARAM)
        .ok_or_else(|| format!("a Decimal schema needs a \"{DECIMAL_SCALE_PARAM}\" parameter"))?;
    // `Integer.parseInt`, as upstream.
    let scale = scale
        .parse::<i32>()
        .map_err(|_| format!("the Decimal \"{DECIMAL_SCALE_PARAM}\" parameter must be a 32-bit integer, found {scale:?}"))?;
    let precision = match schema.parameters.get(DECIMAL_PRECISION_PARAM) {
        None => None,
        Some(p) => Some(p.parse::<u32>().ok().filter(|p| *p > 0).ok_or_else(|| {
            format!("the Decimal \"{DECIMAL_PRECISION_PARAM}\" parameter must be a positive integer, found {p:?}")
        })?),
    };
    Ok(Logical::Decimal { scale, precision })
}

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
