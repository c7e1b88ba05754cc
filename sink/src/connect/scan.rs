//! An envelope's payload parsed straight from its bytes against the already decoded schema,
//! with no `serde_json::Value` in between: the schema cache's common path.
//!
//! Only success counts here. On every error, and on what this parser leaves alone (a key that is
//! unknown, repeated or out of schema order, a large string-keyed map, deep nesting), it returns
//! `None` and the caller decodes the message with the full decoder, so values, coercions and
//! error messages stay exactly those of [`super::json::decode_envelope`].

use super::json::{Coercion, DecodeOptions, Overflow};
use super::number::{self, Float};
use super::scalar::{is_scalar, Scalar};
use super::scanner::Scanner;
use super::schema::{Field, Logical, Schema, Type};
use super::value::{Decimal, NumberLiteral, Value};
use num_bigint::BigInt;

/// Nesting followed here. serde_json refuses documents nested deeper than 128 (the envelope
/// included), so whatever parses here parses there too.
const MAX_DEPTH: usize = 100;

/// String-keyed map entries checked for repeated keys one by one; larger maps go to the full
/// decoder (serde_json keeps the last of repeated keys, at the first one's place).
const MAX_MAP_ENTRIES: usize = 64;

/// What the decoder needs of a valid JSON number literal, found without allocating.
struct Shape {
    /// No fraction and no exponent.
    integer_token: bool,
    /// Every digit of the mantissa is 0.
    zero: bool,
}

/// The JSON number grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`), which is
/// also what [`NumberLiteral::parse`] accepts.
fn number_shape(text: &str) -> Option<Shape> {
    let b = text.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize, zero: &mut bool| {
        let start = *i;
        while let Some(d @ b'0'..=b'9') = b.get(*i) {
            *zero &= *d == b'0';
            *i += 1;
        }
        *i > start
    };
    let mut zero = true;
    let int_start = i;
    if !digits(&mut i, &mut zero) || (b[int_start] == b'0' && i - int_start > 1) {
        return None;
    }
    let mut integer_token = true;
    if b.get(i) == Some(&b'.') {
        i += 1;
        integer_token = false;
        if !digits(&mut i, &mut zero) {
            return None;
        }
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        integer_token = false;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        if !digits(&mut i, &mut true) {
            return None;
        }
    }
    (i == b.len()).then_some(Shape {
        integer_token,
        zero,
    })
}

/// A plain integer token of at most 18 digits, which fits in an i64 as it is.
fn small_integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || (digits.len() > 1 && digits.starts_with('0')) {
        return None;
    }
    let mut n: i64 = 0;
    for d in digits.bytes() {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if text.starts_with('-') { -n } else { n })
}

/// How serde_json (with `arbitrary_precision`) spells a literal: the exponent as `e`, signed.
fn serde_spelling(text: &str) -> String {
    match text.find(['e', 'E']) {
        None => text.to_string(),
        Some(i) => {
            let exponent = &text[i + 1..];
            let sign = if exponent.starts_with(['+', '-']) {
                ""
            } else {
                "+"
            };
            format!("{}e{sign}{exponent}", &text[..i])
        }
    }
}

/// Where a value sits, rendered only for a coercion, as the full decoder names it.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Field(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
    Key(&'p Path<'p>, &'p str),
    EntryKey(&'p Path<'p>, usize),
    EntryValue(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Field(parent, name) => match parent.render() {
                p if p.is_empty() => name.to_string(),
                p => format!("{p}.{name}"),
            },
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
            Path::Key(parent, key) => format!(
                "{}[{}]",
                parent.render(),
                serde_json::Value::String(key.to_string())
            ),
            Path::EntryKey(parent, i) => format!("{}[{i}].key", parent.render()),
            Path::EntryValue(parent, i) => format!("{}[{i}].value", parent.render()),
        }
    }
}

/// Decodes the payload that starts at `pos` of `bytes` against `schema`, appending to the
/// schema's own `coercions`. Returns the value, the coercions and where the payload ends.
pub(crate) fn decode_payload(
    schema: &Schema,
    bytes: &[u8],
    pos: usize,
    opts: &DecodeOptions,
    coercions: Vec<Coercion>,
) -> Option<(Value, Vec<Coercion>, usize)> {
    let mut payload = Payload {
        s: Scanner::new(bytes, pos),
        opts,
        coercions,
        depth: 0,
    };
    let value = payload.value(schema, Path::Root)?;
    Some((value, payload.coercions, payload.s.pos))
}

/// [`decode_payload`] for a struct of scalar fields ([`super::scalar::is_flat_struct`]): its
/// fields into `out`, in schema order, borrowed from `bytes` where they can be. A null payload
/// is left to the caller (it is no struct).
pub(crate) fn decode_flat<'b>(
    fields: &[Field],
    bytes: &'b [u8],
    pos: usize,
    opts: &DecodeOptions,
    coercions: Vec<Coercion>,
    out: &mut Vec<Scalar<'b>>,
) -> Option<(Vec<Coercion>, usize)> {
    let mut payload = Payload {
        s: Scanner::new(bytes, pos),
        opts,
        coercions,
        depth: 0,
    };
    out.clear();
    payload.fields(fields, Path::Root, out, |p, field, at| match at {
        Some(at) => p.scalar(&field.schema, at),
        None => Scalar::of(&absent(&field.schema)?),
    })?;
    Some((payload.coercions, payload.s.pos))
}

struct Payload<'b, 'o> {
    s: Scanner<'b>,
    opts: &'o DecodeOptions,
    coercions: Vec<Coercion>,
    depth: usize,
}

/// A missing or null value: the default, null if optional, else an error (`None`).
fn absent(schema: &Schema) -> Option<Value> {
    match &schema.default {
        Some(default) => Some(default.clone()),
        None => schema.optional.then_some(Value::Null),
    }
}

impl<'b> Payload<'b, '_> {
    /// One value; the cursor is on its first byte.
    fn value(&mut self, schema: &Schema, path: Path) -> Option<Value> {
        if is_scalar(schema) {
            return self.scalar(schema, path).map(Scalar::into_value);
        }
        if self.s.peek()? == b'n' {
            self.s.literal(b"null")?;
            return absent(schema);
        }
        if let Some(Logical::Decimal { scale, .. }) = schema.logical {
            return self.decimal(scale);
        }
        Some(match &schema.ty {
            Type::Bytes => Value::Bytes(number::base64_decode(&self.s.string()?, "").ok()?),
            Type::Array(items) => self.array(items, path)?,
            Type::Map(keys, values) if keys.ty == Type::String => self.string_map(values, path)?,
            Type::Map(keys, values) => self.pair_map(keys, values, path)?,
            Type::Struct(fields) => self.structure(fields, path)?,
            _ => return None,
        })
    }

    /// A value of a schema [`is_scalar`] says holds no other: one code for the tree and the
    /// flat path, so both decode it alike.
    fn scalar(&mut self, schema: &Schema, path: Path) -> Option<Scalar<'b>> {
        if self.s.peek()? == b'n' {
            self.s.literal(b"null")?;
            return Scalar::of(&absent(schema)?);
        }
        match schema.logical {
            Some(Logical::Date) => return self.int32_strict().map(Scalar::Date),
            Some(Logical::Time) => {
                return self
                    .int32_strict()
                    .filter(|ms| (0..=86_400_000).contains(ms))
                    .map(Scalar::Time)
            }
            Some(Logical::Timestamp) => {
                let text = self.s.number();
                number_shape(text)?.integer_token.then_some(())?;
                return self
                    .convert_integer(text, path, 64, "Timestamp")
                    .map(Scalar::Timestamp);
            }
            Some(Logical::Decimal { .. }) => return None,
            None => {}
        }
        Some(match &schema.ty {
            Type::Boolean => match self.s.peek()? {
                b't' => self.s.literal(b"true").map(|()| Scalar::Boolean(true))?,
                b'f' => self.s.literal(b"false").map(|()| Scalar::Boolean(false))?,
                _ => return None,
            },
            Type::Int8 => Scalar::Int8(self.integer(path, 8, "int8")? as i8),
            Type::Int16 => Scalar::Int16(self.integer(path, 16, "int16")? as i16),
            Type::Int32 => Scalar::Int32(self.integer(path, 32, "int32")? as i32),
            Type::Int64 => Scalar::Int64(self.integer(path, 64, "int64")?),
            Type::Float32 => Scalar::Float32(self.float::<f32>(path, "float")?),
            Type::Float64 => Scalar::Float64(self.float::<f64>(path, "double")?),
            Type::String => Scalar::String(self.s.string()?),
            _ => return None,
        })
    }

    fn enter(&mut self, open: u8) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.s.eat(open)?;
        self.s.ws();
        Some(())
    }

    /// After an element: `true` at the closing byte, `false` after a comma (the cursor then
    /// on the next element).
    fn next_or_close(&mut self, close: u8) -> Option<bool> {
        self.s.ws();
        if self.s.eat(close).is_some() {
            self.depth -= 1;
            return Some(true);
        }
        self.s.eat(b',')?;
        self.s.ws();
        Some(false)
    }

    /// An empty container right after its opening byte.
    fn close_empty(&mut self, close: u8) -> bool {
        let closed = self.s.eat(close).is_some();
        if closed {
            self.depth -= 1;
        }
        closed
    }

    fn array(&mut self, items: &Schema, path: Path) -> Option<Value> {
        self.enter(b'[')?;
        let mut out = Vec::new();
        if !self.close_empty(b']') {
            loop {
                out.push(self.value(items, Path::Index(&path, out.len()))?);
                if self.next_or_close(b']')? {
                    break;
                }
            }
        }
        Some(Value::Array(out))
    }

    fn string_map(&mut self, values: &Schema, path: Path) -> Option<Value> {
        self.enter(b'{')?;
        let mut out: Vec<(Value, Value)> = Vec::new();
        if !self.close_empty(b'}') {
            loop {
                let key = self.s.string()?.into_owned();
                let repeated = out
                    .iter()
                    .any(|(k, _)| matches!(k, Value::String(k) if *k == key));
                if repeated || out.len() >= MAX_MAP_ENTRIES {
                    return None;
                }
                self.s.ws();
                self.s.eat(b':')?;
                self.s.ws();
                let value = self.value(values, Path::Key(&path, &key))?;
                out.push((Value::String(key), value));
                if self.next_or_close(b'}')? {
                    break;
                }
            }
        }
        Some(Value::Map(out))
    }

    /// A map with non-string keys: an array of `[key, value]` pairs.
    fn pair_map(&mut self, keys: &Schema, values: &Schema, path: Path) -> Option<Value> {
        self.enter(b'[')?;
        let mut out = Vec::new();
        if !self.close_empty(b']') {
            loop {
                let i = out.len();
                self.enter(b'[')?;
                let key = self.value(keys, Path::EntryKey(&path, i))?;
                if self.next_or_close(b']')? {
                    return None;
                }
                let value = self.value(values, Path::EntryValue(&path, i))?;
                if !self.next_or_close(b']')? {
                    return None;
                }
                out.push((key, value));
                if self.next_or_close(b']')? {
                    break;
                }
            }
        }
        Some(Value::Map(out))
    }

    fn structure(&mut self, fields: &[Field], path: Path) -> Option<Value> {
        let mut out: Vec<(String, Value)> = Vec::with_capacity(fields.len());
        self.fields(fields, path, &mut out, |p, field, at| {
            let value = match at {
                Some(at) => p.value(&field.schema, at)?,
                None => absent(&field.schema)?,
            };
            Some((field.name.clone(), value))
        })?;
        Some(Value::Struct(out))
    }

    /// A struct's keys in schema order (as JsonConverter writes them); fields left out are
    /// absent, as the full decoder has them. `one` makes a field's element of `out`: the value
    /// at the cursor, given its path, or the field's absent value, given none.
    fn fields<T>(
        &mut self,
        fields: &[Field],
        path: Path,
        out: &mut Vec<T>,
        mut one: impl FnMut(&mut Self, &Field, Option<Path>) -> Option<T>,
    ) -> Option<()> {
        self.enter(b'{')?;
        if !self.close_empty(b'}') {
            loop {
                let key = self.s.string()?;
                let skipped = fields[out.len()..].iter().position(|f| f.name == *key)?;
                for field in &fields[out.len()..out.len() + skipped] {
                    out.push(one(self, field, None)?);
                }
                self.s.ws();
                self.s.eat(b':')?;
                self.s.ws();
                let field = &fields[out.len()];
                out.push(one(self, field, Some(Path::Field(&path, &field.name)))?);
                if self.next_or_close(b'}')? {
                    break;
                }
            }
        }
        for field in &fields[out.len()..] {
            out.push(one(self, field, None)?);
        }
        Some(())
    }

    fn decimal(&mut self, scale: i32) -> Option<Value> {
        if self.s.peek()? == b'"' {
            let bytes = number::base64_decode(&self.s.string()?, "").ok()?;
            if bytes.is_empty() {
                return None;
            }
            return Some(Value::Decimal(Decimal::new(
                BigInt::from_signed_bytes_be(&bytes),
                scale,
            )));
        }
        // The literal's own scale; the exponent's spelling does not change the number.
        self.s.number().parse::<Decimal>().ok().map(Value::Decimal)
    }

    /// An integer token within 32 bits: Date and Time neither wrap nor truncate.
    fn int32_strict(&mut self) -> Option<i32> {
        let text = self.s.number();
        if let Some(n) = small_integer(text) {
            return i32::try_from(n).ok();
        }
        let lit = NumberLiteral::parse(text).filter(|l| l.integer_token)?;
        let conv = number::wrap_integer(&lit, 32);
        conv.in_range.then_some(conv.value as i32)
    }

    fn integer(&mut self, path: Path, bits: u32, target: &'static str) -> Option<i64> {
        let text = self.s.number();
        self.convert_integer(text, path, bits, target)
    }

    /// As the full decoder's `integer`: truncate toward zero, keep the low `bits` bits.
    fn convert_integer(
        &mut self,
        text: &str,
        path: Path,
        bits: u32,
        target: &'static str,
    ) -> Option<i64> {
        if let Some(n) = small_integer(text) {
            let half = 1i64 << (bits.min(63) - 1);
            if bits == 64 || (-half..half).contains(&n) {
                return Some(n);
            }
        }
        let lit = NumberLiteral::parse(text)?;
        let conv = number::wrap_integer(&lit, bits);
        if conv.in_range && !conv.fraction {
            return Some(conv.value);
        }
        match self.opts.overflow {
            Overflow::Wrap => {
                self.coerced(path, text, conv.value.to_string(), target);
                Some(conv.value)
            }
            Overflow::Error => None,
        }
    }

    /// As the full decoder's `float`.
    fn float<F: Float>(&mut self, path: Path, target: &'static str) -> Option<F> {
        let text = self.s.number();
        let shape = number_shape(text)?;
        let value = text.parse::<F>().ok()?;
        if shape.zero {
            return Some("0".parse::<F>().unwrap_or(value));
        }
        if !(value.is_infinite() || value.is_zero()) {
            return Some(value);
        }
        match self.opts.overflow {
            Overflow::Wrap => {
                self.coerced(path, text, value.java_string(), target);
                Some(value)
            }
            Overflow::Error => None,
        }
    }

    fn coerced(&mut self, path: Path, written: &str, stored: String, target: &'static str) {
        self.coercions.push(Coercion {
            field: path.render(),
            written: serde_spelling(written),
            stored,
            target,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("0", true, true)]
    #[case("-0", true, true)]
    #[case("-0.000e5", false, true)]
    #[case("10", true, false)]
    #[case("1.5", false, false)]
    #[case("1E+3", false, false)]
    #[case("0.001", false, false)]
    fn valid_numbers(#[case] text: &str, #[case] integer_token: bool, #[case] zero: bool) {
        let shape = number_shape(text).unwrap();
        assert_eq!((shape.integer_token, shape.zero), (integer_token, zero));
        assert!(NumberLiteral::parse(text).is_some());
    }

    #[rstest]
    #[case("")]
    #[case("-")]
    #[case("01")]
    #[case("1.")]
    #[case(".5")]
    #[case("+1")]
    #[case("1e")]
    #[case("1e+")]
    #[case("1-2")]
    #[case("1.5.3")]
    #[case("1e5e5")]
    fn invalid_numbers(#[case] text: &str) {
        assert!(number_shape(text).is_none(), "{text}");
        assert!(NumberLiteral::parse(text).is_none(), "{text}");
    }

    #[rstest]
    #[case("12", Some(12))]
    #[case("-7", Some(-7))]
    #[case("-0", Some(0))]
    #[case("999999999999999999", Some(999_999_999_999_999_999))]
    #[case("1000000000000000000", None)]
    #[case("01", None)]
    #[case("1.0", None)]
    #[case("-", None)]
    fn small_integers(#[case] text: &str, #[case] expected: Option<i64>) {
        assert_eq!(small_integer(text), expected);
    }

    #[rstest]
    #[case("1E3", "1e+3")]
    #[case("1e-3", "1e-3")]
    #[case("2.5E+10", "2.5e+10")]
    #[case("300", "300")]
    fn spelling_is_serde_jsons(#[case] text: &str, #[case] expected: &str) {
        assert_eq!(serde_spelling(text), expected);
        let number: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(number.to_string(), expected);
    }

    #[test]
    fn paths_render_as_the_full_decoder_names_them() {
        let root = Path::Root;
        let a = Path::Field(&root, "a");
        let i = Path::Index(&a, 2);
        let b = Path::Field(&i, "b");
        assert_eq!(b.render(), "a[2].b");
        let k = Path::Key(&root, "x\"y");
        assert_eq!(k.render(), r#"["x\"y"]"#);
        assert_eq!(Path::EntryValue(&k, 0).render(), r#"["x\"y"][0].value"#);
        assert_eq!(Path::EntryKey(&root, 1).render(), "[1].key");
    }
}
