//! Envelopes to compare the decoders on: random Connect schemas and payloads written as JSON
//! text with the spellings a producer can use (exponents, `-0`, huge and tiny magnitudes,
//! unicode, defaults, logical names on unexpected base types, missing or extra schema keys, a
//! node of the wrong kind now and then), and mutations of given envelopes. Deterministic for a
//! seed, so a difference can be reproduced.

/// A small deterministic PRNG (xorshift64*), enough to draw test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const LOGICALS: &[(&str, &str)] = &[
    ("bytes", "org.apache.kafka.connect.data.Decimal"),
    ("int32", "org.apache.kafka.connect.data.Date"),
    ("int32", "org.apache.kafka.connect.data.Time"),
    ("int64", "org.apache.kafka.connect.data.Timestamp"),
];
const PRIMITIVES: &[&str] = &[
    "boolean", "int8", "int16", "int32", "int64", "float", "double", "string", "bytes",
];

/// One random envelope as JSON text.
pub fn envelope(rng: &mut Rng) -> String {
    let fields = 1 + rng.below(6);
    let mut schema_fields = Vec::new();
    let mut payload = Vec::new();
    for i in 0..fields {
        let name = field_name(rng, i);
        let (schema, value) = field(rng, 0);
        schema_fields.push(format!("{{{schema},\"field\":{name}}}"));
        if !rng.chance(5) {
            payload.push(format!("{name}:{value}"));
        }
    }
    let extra = if rng.chance(10) {
        ",\"doc\":\"d\",\"version\":3"
    } else {
        ""
    };
    format!(
        "{{\"schema\":{{\"type\":\"struct\",\"fields\":[{}],\"optional\":false,\"name\":\"r\"{extra}}},\"payload\":{{{}}}}}",
        schema_fields.join(","),
        payload.join(",")
    )
}

fn field_name(rng: &mut Rng, i: usize) -> String {
    let base = *rng.pick(&["id", "a", "msg", "ünï", "with space", "x\\\"q"]);
    format!("\"{base}{i}\"")
}

/// A field's schema keys (without `field`) and a payload value for it.
fn field(rng: &mut Rng, depth: usize) -> (String, String) {
    let optional = match rng.below(3) {
        0 => ",\"optional\":true",
        1 => ",\"optional\":false",
        _ => "",
    };
    let roll = rng.below(100);
    if depth < 2 && roll < 8 {
        let (items, _) = field(rng, depth + 1);
        let values: Vec<String> = (0..rng.below(3)).map(|_| field(rng, depth + 1).1).collect();
        // The items' spellings come from other draws: mismatches are part of the corpus.
        return (
            format!("\"type\":\"array\",\"items\":{{{items}}}{optional}"),
            format!("[{}]", values.join(",")),
        );
    }
    if depth < 2 && roll < 14 {
        let (values, value) = field(rng, depth + 1);
        return (
            format!(
                "\"type\":\"map\",\"keys\":{{\"type\":\"string\"}},\"values\":{{{values}}}{optional}"
            ),
            format!("{{\"k\":{value},\"j\":{value}}}"),
        );
    }
    if depth < 2 && roll < 18 {
        let (inner, value) = field(rng, depth + 1);
        return (
            format!("\"type\":\"struct\",\"fields\":[{{{inner},\"field\":\"f\"}}]{optional}"),
            format!("{{\"f\":{value}}}"),
        );
    }
    if roll < 38 {
        let (base, name) = *rng.pick(LOGICALS);
        // A logical name on an unexpected base type now and then.
        let base = if rng.chance(10) {
            *rng.pick(PRIMITIVES)
        } else {
            base
        };
        let params = if name.ends_with("Decimal") {
            match rng.below(4) {
                0 => String::new(),
                1 => ",\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"5\"}".into(),
                _ => format!(",\"parameters\":{{\"scale\":\"{}\"}}", rng.below(12)),
            }
        } else {
            String::new()
        };
        let value = logical_value(rng, name);
        return (
            format!("\"type\":\"{base}\",\"name\":\"{name}\"{params}{optional}"),
            maybe_wrong(rng, value),
        );
    }
    let ty = *rng.pick(PRIMITIVES);
    let value = primitive_value(rng, ty);
    let default = if rng.chance(10) {
        format!(",\"default\":{}", primitive_value(rng, ty))
    } else {
        String::new()
    };
    (
        format!("\"type\":\"{ty}\"{optional}{default}"),
        maybe_wrong(rng, value),
    )
}

fn maybe_wrong(rng: &mut Rng, value: String) -> String {
    if rng.chance(4) {
        rng.pick(&["\"str\"", "true", "1", "1.5", "{}", "[]", "null"])
            .to_string()
    } else {
        value
    }
}

fn primitive_value(rng: &mut Rng, ty: &str) -> String {
    let choices: &[&str] = match ty {
        "boolean" => &["true", "false", "null"],
        "int8" | "int16" | "int32" | "int64" => &[
            "0",
            "-0",
            "1",
            "-1",
            "127",
            "128",
            "222",
            "-129",
            "32768",
            "-32769",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9007199254740993",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "1e2",
            "1E+2",
            "1.0",
            "1.9",
            "-1.9",
            "0.5",
            "1e-5",
            "1e400",
            "null",
        ],
        "float" | "double" => &[
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1.5",
            "0.1",
            "1e-400",
            "-1e-400",
            "1e400",
            "-1e400",
            "3.4028235e38",
            "3.4028236e38",
            "1.4e-45",
            "1e-46",
            "4.9e-324",
            "1.7976931348623157e308",
            "123456789012345678901234567890",
            "1E3",
            "2.5e-3",
            "222",
            "null",
        ],
        "string" => &[
            "\"hi\"",
            "\"\"",
            "\"ünïcödé\"",
            "\"\\u00e9\\n\\t\"",
            "\"😀\"",
            "\"\\ud83d\\ude00\"",
            "\"a\\\"b\"",
            "null",
        ],
        _ => &[
            "\"AQID\"",
            "\"\"",
            "\"AA==\"",
            "\"/+8=\"",
            "\"not base64!\"",
            "null",
        ],
    };
    rng.pick(choices).to_string()
}

fn logical_value(rng: &mut Rng, name: &str) -> String {
    let choices: &[&str] = match name.rsplit('.').next().unwrap_or_default() {
        "Decimal" => &[
            "\"AJs=\"",
            "\"/2U=\"",
            "\"AA==\"",
            "\"\"",
            "1.56",
            "1.5600",
            "-0.05",
            "12",
            "1e3",
            "1E-2",
            "12345678901234567890.123",
            "null",
        ],
        "Date" => &[
            "0",
            "19000",
            "-1",
            "2147483647",
            "2147483648",
            "1.5",
            "null",
        ],
        "Time" => &[
            "0", "1000", "86399999", "86400000", "86400001", "-1", "null",
        ],
        _ => &[
            "0",
            "1700000000000",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "1.7e12",
            "null",
        ],
    };
    rng.pick(choices).to_string()
}

/// Variations of an envelope that a producer could write: a key dropped or changed, a type
/// name changed, numbers respelled, the envelope wrapped, truncated or followed by text.
pub fn mutations(envelope: &str, rng: &mut Rng) -> Vec<String> {
    let mut out = Vec::new();
    let replace_one = |from: &str, to: &str| -> Option<String> {
        envelope.find(from).map(|at| {
            let mut s = envelope.to_owned();
            s.replace_range(at..at + from.len(), to);
            s
        })
    };
    for (from, to) in [
        ("\"optional\":false", "\"optional\":true"),
        ("\"optional\":true", "\"optional\":false"),
        ("\"optional\":false,", ""),
        ("\"type\":\"int32\"", "\"type\":\"int64\""),
        ("\"type\":\"int64\"", "\"type\":\"int8\""),
        ("\"type\":\"string\"", "\"type\":\"bytes\""),
        ("\"type\":\"float\"", "\"type\":\"double\""),
        ("\"type\":\"double\"", "\"type\":\"float\""),
        ("\"type\":\"struct\"", "\"type\":\"map\""),
        ("\"payload\":{", "\"payload\":{\"extra\":1,"),
        ("\"schema\":", "\"Schema\":"),
        (
            "\"fields\":[",
            "\"fields\":[{\"type\":\"int32\",\"optional\":true,\"field\":\"new\"},",
        ),
        (":1,", ":1e0,"),
        (":1}", ":1.0}"),
        (":222", ":2.22e2"),
        ("\"name\":\"", "\"name\":\"x."),
    ] {
        if let Some(m) = replace_one(from, to) {
            out.push(m);
        }
    }
    out.push(format!("[{envelope}]"));
    out.push(format!("{envelope} trailing"));
    if let Some(half) = envelope.get(..envelope.len() / 2) {
        out.push(half.to_owned());
    }
    out.push(envelope.replacen("\"payload\":", "\"payload\":null,\"x\":", 1));
    // A few random single-byte edits.
    for _ in 0..3 {
        if envelope.is_empty() {
            break;
        }
        let mut bytes = envelope.as_bytes().to_vec();
        let at = rng.below(bytes.len());
        bytes[at] = *rng.pick(b"0\"{}[],:-e9 ");
        if let Ok(s) = String::from_utf8(bytes) {
            out.push(s);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_are_deterministic_for_a_seed() {
        let draw = |seed| {
            let mut rng = Rng::new(seed);
            (0..20).map(|_| envelope(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn most_envelopes_are_json() {
        let mut rng = Rng::new(1);
        let json = (0..500)
            .filter(|_| serde_json::from_str::<serde_json::Value>(&envelope(&mut rng)).is_ok())
            .count();
        assert!(json > 450, "{json} of 500 parse");
    }
}
