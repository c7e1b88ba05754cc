//! Schemaless JSON (`schemas.enable=false`) as Kafka's JsonConverter hands it to a connector:
//! an integral number is a `Long` (a bigger one wraps as `BigInteger.longValue()` does), any
//! other number a `Double`, an object a `HashMap<String, Object>` (whose iteration order, the
//! order QuestDB's connector writes columns in, is Java's hash order, not the document's). Pure.

use num_bigint::BigInt;
use serde_json::Value as Json;

/// A value as a schemaless Connect record holds it (Java's boxed types).
#[derive(Debug, Clone, PartialEq)]
pub enum Loose {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    String(String),
    List(Vec<Loose>),
    /// Entries in Java `HashMap` iteration order.
    Map(Vec<(String, Loose)>),
}

impl Loose {
    /// Decodes a message value; `Ok(None)` for a Kafka null or a JSON `null`.
    pub fn decode(bytes: Option<&[u8]>) -> Result<Option<Loose>, String> {
        let Some(bytes) = bytes else {
            return Ok(None);
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let json: Json = serde_json::from_slice(bytes)
            .map_err(|e| format!("the message is not valid JSON: {e}"))?;
        Ok(match Loose::from_json(&json) {
            Loose::Null => None,
            v => Some(v),
        })
    }

    pub fn from_json(json: &Json) -> Loose {
        match json {
            Json::Null => Loose::Null,
            Json::Bool(b) => Loose::Bool(*b),
            Json::Number(n) => number(&n.to_string()),
            Json::String(s) => Loose::String(s.clone()),
            Json::Array(items) => Loose::List(items.iter().map(Loose::from_json).collect()),
            Json::Object(entries) => {
                let keys: Vec<&str> = entries.keys().map(String::as_str).collect();
                Loose::Map(
                    java_hash_order(&keys)
                        .into_iter()
                        .map(|i| (keys[i].to_string(), Loose::from_json(&entries[keys[i]])))
                        .collect(),
                )
            }
        }
    }

    /// Java's `toString()` of the value (for `${key}` in table names and composed timestamps).
    pub fn java_string(&self) -> String {
        match self {
            Loose::Null => "null".into(),
            Loose::Bool(b) => b.to_string(),
            Loose::Long(v) => v.to_string(),
            Loose::Double(d) => java_double(*d),
            Loose::String(s) => s.clone(),
            Loose::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(Loose::java_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Loose::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.java_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A JSON number literal: Jackson reads one without `.`/`e` as an integer (then `longValue()`),
/// any other as a BigDecimal (then `doubleValue()`).
fn number(literal: &str) -> Loose {
    if literal.contains(['.', 'e', 'E']) {
        return Loose::Double(literal.parse().unwrap_or(f64::NAN));
    }
    match literal.parse::<i64>() {
        Ok(v) => Loose::Long(v),
        Err(_) => {
            // BigInteger.longValue(): the low 64 bits, two's complement.
            let big: BigInt = literal.parse().unwrap_or_default();
            let (sign, mut bytes) = big.to_bytes_le();
            bytes.resize(8, 0);
            let low = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            let v = if sign == num_bigint::Sign::Minus {
                low.wrapping_neg()
            } else {
                low
            };
            Loose::Long(v as i64)
        }
    }
}

/// Java's `Float.toString`: as [`java_double`], with a float's shortest digits.
pub fn java_float(f: f32) -> String {
    if !f.is_finite() || f == 0.0 {
        return java_double(f64::from(f));
    }
    let abs = f.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{f}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{f:e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let dot = if mantissa.contains('.') { "" } else { ".0" };
    format!("{mantissa}{dot}E{exp}")
}

/// Java's `Double.toString`: plain between 10^-3 and 10^7, else `d.dddE±n`; shortest digits,
/// as Java 19 and later print them (Java 17 prints a longer form for a few values, e.g. the
/// float 1.5E10 as `1.50000005E10`).
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    // Rust's `{:e}` is the shortest digits too: 1.5e21 -> "1.5E21", 1e21 -> "1.0E21".
    let s = format!("{d:e}");
    let (mantissa, exp) = s.split_once('e').expect("exponent form");
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exp}")
}

/// Java's `String.hashCode` over UTF-16 code units.
fn java_hash(s: &str) -> i32 {
    s.encode_utf16().fold(0i32, |h, c| {
        h.wrapping_mul(31)
            .wrapping_add(i32::from(c as i16) & 0xffff)
    })
}

/// The order a Java `HashMap<String, _>` iterates keys put in this order: by bucket of the
/// spread hash in the final table, then insertion order (resizes keep it within a bucket).
/// The table starts at 16 buckets and doubles past 3/4 full, or when a bucket would hold more
/// than 8 keys while the table is below 64 (where Java would make a tree bin instead; keys
/// that collide that often are not modelled beyond this).
pub fn java_hash_order(keys: &[&str]) -> Vec<usize> {
    let spread: Vec<u32> = keys
        .iter()
        .map(|k| {
            let h = java_hash(k) as u32;
            h ^ (h >> 16)
        })
        .collect();
    let mut capacity: u32 = 16;
    for n in 1..=keys.len() {
        let bucket = spread[n - 1] & (capacity - 1);
        let chain = spread[..n - 1]
            .iter()
            .filter(|h| **h & (capacity - 1) == bucket)
            .count();
        if chain >= 8 && capacity < 64 {
            capacity *= 2;
        }
        if n as u64 * 4 > u64::from(capacity) * 3 {
            capacity *= 2;
        }
    }
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| (spread[i] & (capacity - 1), i));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn decode(text: &str) -> Loose {
        Loose::decode(Some(text.as_bytes())).unwrap().unwrap()
    }

    #[rstest]
    #[case("1", Loose::Long(1))]
    #[case("-0", Loose::Long(0))]
    #[case("1.0", Loose::Double(1.0))]
    #[case("1e3", Loose::Double(1000.0))]
    #[case("9223372036854775807", Loose::Long(i64::MAX))]
    #[case("9223372036854775808", Loose::Long(i64::MIN))]
    #[case("18446744073709551617", Loose::Long(1))]
    #[case("-9223372036854775809", Loose::Long(i64::MAX))]
    #[case("\"x\"", Loose::String("x".into()))]
    #[case("[1, 2.5, null]", Loose::List(vec![Loose::Long(1), Loose::Double(2.5), Loose::Null]))]
    fn numbers_are_longs_or_doubles_as_jackson_reads_them(#[case] text: &str, #[case] v: Loose) {
        assert_eq!(decode(text), v);
    }

    #[test]
    fn a_kafka_null_and_a_json_null_are_no_value() {
        assert_eq!(Loose::decode(None), Ok(None));
        assert_eq!(Loose::decode(Some(b"null")), Ok(None));
        assert!(Loose::decode(Some(b"{")).is_err());
    }

    /// Java's order, from `new HashMap<>()` with these keys put in this order
    /// (`System.out.println(map.keySet())` on Java 17).
    #[rstest]
    #[case(&["b", "a"], &["a", "b"])]
    #[case(&["symbol", "price", "qty"], &["symbol", "price", "qty"])]
    #[case(&["id", "name", "ts"], &["name", "id", "ts"])]
    #[case(&["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"], &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"])]
    #[case(
        &["key", "value", "timestamp", "sensor_id", "temperature", "humidity", "location_lat", "location_lon", "tags", "reading_time", "firmware", "battery", "status", "x"],
        &["reading_time", "location_lon", "battery", "tags", "sensor_id", "temperature", "x", "humidity", "value", "firmware", "key", "location_lat", "timestamp", "status"]
    )]
    fn maps_iterate_in_java_hash_order(#[case] keys: &[&str], #[case] java: &[&str]) {
        let order: Vec<&str> = java_hash_order(keys).into_iter().map(|i| keys[i]).collect();
        assert_eq!(order, java);
    }

    #[rstest]
    #[case(1.0, "1.0")]
    #[case(0.1, "0.1")]
    #[case(-2.5, "-2.5")]
    #[case(1e7, "1.0E7")]
    #[case(1.5e-4, "1.5E-4")]
    #[case(123456.789, "123456.789")]
    #[case(0.0, "0.0")]
    #[case(1e21, "1.0E21")]
    #[case(100.0, "100.0")]
    fn doubles_print_as_java_prints_them(#[case] d: f64, #[case] text: &str) {
        assert_eq!(java_double(d), text);
    }

    #[test]
    fn floats_print_as_java_prints_them() {
        assert_eq!(java_float(1.1), "1.1");
        assert_eq!(java_float(3.0), "3.0");
    }
}
