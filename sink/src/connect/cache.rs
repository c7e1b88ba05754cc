//! Decoding with a schema cache: a topic's records nearly always carry the same schema text, so
//! each distinct schema (by its bytes) is decoded once, and the payload is parsed straight from
//! the message against it ([`super::scan`]).
//!
//! The result is the same as [`decode_envelope`]'s for every input: anything off the common path
//! (not an object of exactly `schema` and `payload`, a `null` schema, a payload the scanner
//! leaves alone, any decoding error) is decoded again by [`decode_envelope`] itself, so errors
//! keep their exact wording.

use super::json::{decode_envelope, decode_schema, Coercion, DecodeError};
use super::json::{DecodeOptions, Decoded, Envelope};
use super::scalar::{is_flat_struct, Scalar};
use super::scan;
use super::scanner::Scanner;
use super::schema::{Schema, Type};
use super::value::Value;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// Distinct schemas kept before the cache starts over (a topic has a handful).
const CAPACITY: usize = 256;

/// A decoded schema and the coercions its defaults made.
#[derive(Clone)]
struct Entry {
    schema: Arc<Schema>,
    coercions: Vec<Coercion>,
    /// A struct of scalar fields: [`SchemaCache::decode_flat`] takes it.
    flat: bool,
}

/// A record decoded through the cache: as [`Decoded`], with the schema shared by every record
/// that carries it instead of copied into each.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub schema: Arc<Schema>,
    pub value: Value,
    pub coercions: Vec<Coercion>,
}

/// A record decoded by [`SchemaCache::decode_flat`]: its fields are in the caller's vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Flat {
    pub schema: Arc<Schema>,
    pub coercions: Vec<Coercion>,
}

#[derive(Default)]
pub struct SchemaCache {
    /// The options the entries were decoded with (a default's coercions depend on them).
    opts: Option<DecodeOptions>,
    /// Schema text -> its entry.
    schemas: HashMap<String, Entry>,
    /// The last schema's text and entry: consecutive records nearly always share it, and
    /// comparing the bytes is cheaper than hashing them.
    last: Option<(String, Entry)>,
}

impl SchemaCache {
    pub fn new() -> SchemaCache {
        SchemaCache::default()
    }

    /// [`decode_envelope`], parsing the schema only the first time its bytes are seen.
    pub fn decode_envelope(
        &mut self,
        bytes: Option<&[u8]>,
        opts: &DecodeOptions,
    ) -> Result<Envelope, DecodeError> {
        Ok(match self.decode(bytes, opts)? {
            None => Envelope::Tombstone,
            Some(shared) => Envelope::Record(Decoded {
                schema: Arc::unwrap_or_clone(shared.schema),
                value: shared.value,
                coercions: shared.coercions,
            }),
        })
    }

    /// [`SchemaCache::decode_envelope`] without copying the schema; `None` is a tombstone.
    pub fn decode(
        &mut self,
        bytes: Option<&[u8]>,
        opts: &DecodeOptions,
    ) -> Result<Option<Shared>, DecodeError> {
        self.options(opts);
        if let Some(shared) = bytes.and_then(|b| self.fast(b, opts)) {
            return Ok(Some(shared));
        }
        Ok(match decode_envelope(bytes, opts)? {
            Envelope::Tombstone => None,
            Envelope::Record(d) => Some(Shared {
                schema: Arc::new(d.schema),
                value: d.value,
                coercions: d.coercions,
            }),
        })
    }

    /// The common case without a value tree: a record whose schema is a struct of scalar
    /// fields, decoded on the fast path, its fields into `out` (in schema order, borrowed from
    /// `bytes` where they can be). `None` for anything else, decoding errors included: the
    /// caller then takes [`SchemaCache::decode`], which gives the same values (one parser for
    /// both), or the error.
    pub fn decode_flat<'b>(
        &mut self,
        bytes: &'b [u8],
        opts: &DecodeOptions,
        out: &mut Vec<Scalar<'b>>,
    ) -> Option<Flat> {
        self.options(opts);
        let (schema, (), coercions) = self.envelope(bytes, opts, |entry, bytes, pos| {
            let Type::Struct(fields) = &entry.schema.ty else {
                return None;
            };
            if !entry.flat || bytes.get(pos) == Some(&b'n') {
                return None;
            }
            let (coercions, end) =
                scan::decode_flat(fields, bytes, pos, opts, entry.coercions, out)?;
            Some(((), coercions, end))
        })?;
        Some(Flat { schema, coercions })
    }

    /// Entries decoded with other options start over (a default's coercions depend on them).
    fn options(&mut self, opts: &DecodeOptions) {
        if self.opts != Some(*opts) {
            *self = SchemaCache {
                opts: Some(*opts),
                ..SchemaCache::default()
            };
        }
    }

    fn fast(&mut self, bytes: &[u8], opts: &DecodeOptions) -> Option<Shared> {
        let (schema, value, coercions) = self.envelope(bytes, opts, |entry, bytes, pos| {
            scan::decode_payload(&entry.schema, bytes, pos, opts, entry.coercions)
        })?;
        Some(Shared {
            schema,
            value,
            coercions,
        })
    }

    /// `{"schema": S, "payload": P}` in either order, whitespace as JSON allows it; `payload`
    /// decodes P against S's entry from where it starts, returning where it ends.
    fn envelope<'b, T>(
        &mut self,
        bytes: &'b [u8],
        opts: &DecodeOptions,
        mut payload: impl FnMut(Entry, &'b [u8], usize) -> Option<(T, Vec<Coercion>, usize)>,
    ) -> Option<(Arc<Schema>, T, Vec<Coercion>)> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut s = Scanner::new(bytes, 0);
        s.ws();
        s.eat(b'{')?;
        s.ws();
        let first = s.string()?;
        key_colon(&mut s)?;
        let (schema, value, coercions) = match first.as_ref() {
            "schema" => {
                let entry = self.schema_at(&mut s, opts)?;
                s.ws();
                s.eat(b',')?;
                s.ws();
                (s.string()? == "payload").then_some(())?;
                key_colon(&mut s)?;
                let schema = entry.schema.clone();
                let (value, coercions, end) = payload(entry, bytes, s.pos)?;
                s.pos = end;
                (schema, value, coercions)
            }
            "payload" => {
                let start = s.pos;
                s.pos += raw_value(s.rest())?.len();
                let end = s.pos;
                s.ws();
                s.eat(b',')?;
                s.ws();
                (s.string()? == "schema").then_some(())?;
                key_colon(&mut s)?;
                let entry = self.schema_at(&mut s, opts)?;
                let schema = entry.schema.clone();
                let (value, coercions, payload_end) = payload(entry, bytes, start)?;
                (payload_end == end).then_some(())?;
                (schema, value, coercions)
            }
            _ => return None,
        };
        s.ws();
        s.eat(b'}')?;
        s.ws();
        s.at_end().then_some((schema, value, coercions))
    }

    /// The schema that starts at the cursor, which moves past it.
    fn schema_at(&mut self, s: &mut Scanner, opts: &DecodeOptions) -> Option<Entry> {
        // Only JSON objects are cached, and no object's text is a prefix of another value, so
        // bytes that start with a cached text hold exactly that schema.
        if let Some((text, entry)) = &self.last {
            if s.rest().starts_with(text.as_bytes()) {
                s.pos += text.len();
                return Some(entry.clone());
            }
        }
        let text = raw_value(s.rest())?;
        let entry = self.lookup(text, opts)?;
        s.pos += text.len();
        self.last = Some((text.to_string(), entry.clone()));
        Some(entry)
    }

    /// The decoded schema for this text, decoding it the first time.
    fn lookup(&mut self, schema_text: &str, opts: &DecodeOptions) -> Option<Entry> {
        if let Some(entry) = self.schemas.get(schema_text) {
            return Some(entry.clone());
        }
        let json: serde_json::Value = serde_json::from_str(schema_text).ok()?;
        if !json.is_object() {
            return None;
        }
        let (schema, coercions) = decode_schema(&json, opts).ok()?;
        let entry = Entry {
            flat: is_flat_struct(&schema),
            schema: Arc::new(schema),
            coercions,
        };
        if self.schemas.len() >= CAPACITY {
            self.schemas.clear();
        }
        self.schemas.insert(schema_text.to_string(), entry.clone());
        Some(entry)
    }
}

/// After a key: the colon and the whitespace around it.
fn key_colon(s: &mut Scanner) -> Option<()> {
    s.ws();
    s.eat(b':')?;
    s.ws();
    Some(())
}

/// The text of the JSON value `bytes` start with (serde_json's parse, so also its checks).
fn raw_value(bytes: &[u8]) -> Option<&str> {
    let mut values = serde_json::Deserializer::from_slice(bytes).into_iter::<&RawValue>();
    let raw = values.next()?.ok()?.get();
    bytes.starts_with(raw.as_bytes()).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::json::Overflow;
    use std::borrow::Cow;

    const SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int8","optional":false,"field":"a"},{"type":"int8","optional":true,"default":300,"field":"d"}],"optional":false}"#;

    fn both(text: &str, overflow: Overflow) {
        let opts = DecodeOptions { overflow };
        let mut cache = SchemaCache::new();
        let bytes = Some(text.as_bytes());
        let expected = decode_envelope(bytes, &opts);
        // Twice: the first fills the cache, the second reads from it.
        assert_eq!(cache.decode_envelope(bytes, &opts), expected, "{text}");
        assert_eq!(cache.decode_envelope(bytes, &opts), expected, "{text}");
    }

    #[test]
    fn the_cache_decodes_as_decode_envelope_does() {
        for text in [
            format!(r#"{{"schema":{SCHEMA},"payload":{{"a":1}}}}"#),
            format!(r#"{{"payload":{{"a":222,"d":null}},"schema":{SCHEMA}}}"#),
            format!("\u{feff}{{\"schema\":{SCHEMA},\"payload\":{{\"a\":1}}}}"),
            format!(r#"{{"schema":{SCHEMA},"payload":{{"a":"x"}}}}"#),
            format!(r#"{{"schema":{SCHEMA},"payload":{{}}}}"#),
            format!(r#"{{"schema":{SCHEMA},"payload":null}}"#),
            format!(r#"{{"schema":{SCHEMA},"payload":{{"a":1}},"extra":1}}"#),
            format!(r#"{{"sch\u0065ma":{SCHEMA},"payload":{{"a":1}}}}"#),
            format!(r#"{{"schema":{SCHEMA},"schema":{SCHEMA},"payload":{{"a":1}}}}"#),
            r#"{"schema":null,"payload":1}"#.to_string(),
            r#"{"schema":{"type":"nope"},"payload":1}"#.to_string(),
            r#"{"schema":{"type":"int32"}}"#.to_string(),
            r#"[1,2]"#.to_string(),
            "not json".to_string(),
        ] {
            both(&text, Overflow::Wrap);
            both(&text, Overflow::Error);
        }
    }

    #[test]
    fn alternating_schemas_each_decode_as_their_own() {
        let a = format!(r#"{{"schema":{SCHEMA},"payload":{{"a":1}}}}"#);
        let b = r#"{"schema":{"type":"int32"},"payload":5}"#.to_string();
        let opts = DecodeOptions::default();
        let mut cache = SchemaCache::new();
        for text in [&a, &b, &a, &b, &b, &a] {
            let bytes = Some(text.as_bytes());
            assert_eq!(
                cache.decode_envelope(bytes, &opts),
                decode_envelope(bytes, &opts)
            );
        }
    }

    #[test]
    fn common_envelopes_take_the_fast_path_and_share_the_schema() {
        let opts = DecodeOptions::default();
        let mut cache = SchemaCache::new();
        for text in [
            format!(r#"{{"schema":{SCHEMA},"payload":{{"a":1}}}}"#),
            format!(r#"{{"schema":{SCHEMA},"payload":{{"a":2,"d":null}}}}"#),
            format!("\u{feff} {{ \"payload\" : {{\"a\":3}} ,\n\"schema\" : {SCHEMA} }}\n"),
        ] {
            let Some(shared) = cache.fast(text.as_bytes(), &opts) else {
                panic!("not on the fast path: {text}")
            };
            let last = cache.last.as_ref().map(|(_, e)| e.schema.clone());
            assert!(Arc::ptr_eq(&shared.schema, &last.unwrap()), "{text}");
        }
        assert_eq!(cache.schemas.len(), 1);
    }

    #[test]
    fn structs_of_scalars_take_the_flat_path_borrowing_their_strings() {
        let opts = DecodeOptions::default();
        let mut cache = SchemaCache::new();
        let text = format!(r#"{{"schema":{SCHEMA},"payload":{{"a":222}}}}"#);
        let seed = r#"{"schema":{"type":"struct","fields":[{"type":"int8","field":"a"},{"type":"string","optional":true,"field":"msg"}]},"payload":{"a":1,"msg":"hi"}}"#;
        let mut fields = Vec::new();
        let flat = cache.decode_flat(text.as_bytes(), &opts, &mut fields);
        // 222 wraps, and the schema's default 300 is a coercion of its own.
        assert_eq!(flat.map(|f| f.coercions.len()), Some(2));
        assert_eq!(fields, [Scalar::Int8(-34), Scalar::Int8(44)]);
        assert!(cache
            .decode_flat(seed.as_bytes(), &opts, &mut fields)
            .is_some());
        assert!(matches!(fields[1], Scalar::String(Cow::Borrowed("hi"))));
        let nested = r#"{"schema":{"type":"struct","fields":[{"type":"array","items":{"type":"int8"},"field":"a"}]},"payload":{"a":[1]}}"#;
        assert_eq!(
            cache.decode_flat(nested.as_bytes(), &opts, &mut fields),
            None
        );
        let bad = format!(r#"{{"schema":{SCHEMA},"payload":{{"a":"x"}}}}"#);
        assert_eq!(cache.decode_flat(bad.as_bytes(), &opts, &mut fields), None);
    }

    #[test]
    fn a_tombstone_stays_a_tombstone() {
        let mut cache = SchemaCache::new();
        assert_eq!(
            cache.decode_envelope(None, &DecodeOptions::default()),
            Ok(Envelope::Tombstone)
        );
    }

    #[test]
    fn schema_default_coercions_are_reported_for_every_record() {
        let text = format!(r#"{{"schema":{SCHEMA},"payload":{{"a":1}}}}"#);
        let mut cache = SchemaCache::new();
        for _ in 0..2 {
            let Ok(Envelope::Record(d)) =
                cache.decode_envelope(Some(text.as_bytes()), &DecodeOptions::default())
            else {
                panic!("decodes")
            };
            assert_eq!(d.coercions.len(), 1, "{:?}", d.coercions);
        }
    }
}
