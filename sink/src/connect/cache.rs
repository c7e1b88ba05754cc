//! Decoding with a schema cache: a topic's records nearly always carry the same schema text, so
//! each distinct schema (by its bytes) is decoded once and only the payload is parsed per record.
//!
//! The result is the same as [`decode_envelope`]'s for every input: anything off the common path
//! (not an object of exactly `schema` and `payload`, escaped keys, a `null` schema, any decoding
//! error) is decoded again by [`decode_envelope`] itself, so errors keep their exact wording.

use super::json::{decode_envelope, decode_payload, decode_schema, Coercion, DecodeError};
use super::json::{DecodeOptions, Decoded, Envelope};
use super::schema::Schema;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Distinct schemas kept before the cache starts over (a topic has a handful).
const CAPACITY: usize = 256;

#[derive(Default)]
pub struct SchemaCache {
    /// Schema text -> the schema and the coercions its defaults made.
    schemas: HashMap<String, (Schema, Vec<Coercion>)>,
    /// The last schema's text and entry: consecutive records nearly always share it, and
    /// comparing the bytes is cheaper than hashing them.
    last: Option<(String, Schema, Vec<Coercion>)>,
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
        match bytes.and_then(|b| self.fast(b, opts)) {
            Some(decoded) => Ok(Envelope::Record(decoded)),
            None => decode_envelope(bytes, opts),
        }
    }

    fn fast(&mut self, bytes: &[u8], opts: &DecodeOptions) -> Option<Decoded> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let parts: HashMap<&str, &RawValue> = serde_json::from_slice(bytes).ok()?;
        if parts.len() != 2 {
            return None;
        }
        let (schema_text, payload) = (parts.get("schema")?.get(), parts.get("payload")?);
        if self
            .last
            .as_ref()
            .is_none_or(|(text, ..)| text != schema_text)
        {
            let (schema, coercions) = self.lookup(schema_text, opts)?;
            self.last = Some((schema_text.to_string(), schema.clone(), coercions.clone()));
        }
        let (_, schema, coercions) = self.last.as_ref()?;
        let payload: serde_json::Value = serde_json::from_str(payload.get()).ok()?;
        let (value, coercions) = decode_payload(schema, &payload, opts, coercions.clone()).ok()?;
        Some(Decoded {
            schema: schema.clone(),
            value,
            coercions,
        })
    }

    /// The decoded schema for this text, decoding it the first time.
    fn lookup(
        &mut self,
        schema_text: &str,
        opts: &DecodeOptions,
    ) -> Option<&(Schema, Vec<Coercion>)> {
        if !self.schemas.contains_key(schema_text) {
            let json: serde_json::Value = serde_json::from_str(schema_text).ok()?;
            if json.is_null() {
                return None;
            }
            let decoded = decode_schema(&json, opts).ok()?;
            if self.schemas.len() >= CAPACITY {
                self.schemas.clear();
            }
            self.schemas.insert(schema_text.to_string(), decoded);
        }
        self.schemas.get(schema_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::json::Overflow;

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
