//! JsonConverter envelopes (`schemas.enable=true`): decoding into a [`Schema`] and a [`Value`],
//! and encoding back.
//!
//! Follows apache/kafka `connect/json/src/main/java/org/apache/kafka/connect/json/JsonConverter.java`
//! as of 2.6 (the seed's version): Jackson reads floats as exact `BigDecimal`s
//! (`USE_BIG_DECIMAL_FOR_FLOATS`, `withExactBigDecimals(true)`), ints are `(byte) intValue()` and so
//! on. Where this module differs on purpose, the comment says `Deviation:`.

use num_bigint::BigInt;
use serde_json::{Map as JsonMap, Number, Value as Json};

use super::schema::{Field, Logical, Schema, Type};
use super::value::{Decimal, NumberLiteral, Value};

use super::decode_error::*;
pub use super::decode_error::{DecodeError, DecodeErrorKind};
pub use super::encode::{encode_envelope, encode_value, schema_to_json};
use super::number::*;
use super::schema::logical_type;

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
