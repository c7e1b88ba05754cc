//! Java's text forms of numbers, as the transforms produce and read them: `Float.toString`,
//! `Double.toString`, `BigDecimal.toString`, and the `parseXxx` methods `Cast` uses.

use crate::connect::value::Decimal;

/// `Float.toString` / `Double.toString` from the shortest round-trip digits (`digits` of `{:e}`).
/// Deviation: java-float-digits — JDK 17's algorithm prints a longer digit string for a few
/// values; this prints the shortest, as JDK 19 and later do.
fn java_fp(sci: String, nan: bool, inf: Option<bool>) -> String {
    if nan {
        return "NaN".into();
    }
    if let Some(neg) = inf {
        return if neg { "-Infinity" } else { "Infinity" }.into();
    }
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("exponent");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if digits.chars().all(|c| c == '0') {
        return format!("{sign}0.0");
    }
    if (-3..7).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat((-exp - 1) as usize);
            return format!("{sign}0.{zeros}{digits}");
        }
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            let pad = "0".repeat(int_len - digits.len());
            return format!("{sign}{digits}{pad}.0");
        }
        return format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..]);
    }
    let (head, tail) = digits.split_at(1);
    let tail = if tail.is_empty() { "0" } else { tail };
    format!("{sign}{head}.{tail}E{exp}")
}

pub(crate) fn float_to_string(f: f32) -> String {
    java_fp(
        format!("{f:e}"),
        f.is_nan(),
        f.is_infinite().then_some(f < 0.0),
    )
}

pub(crate) fn double_to_string(f: f64) -> String {
    java_fp(
        format!("{f:e}"),
        f.is_nan(),
        f.is_infinite().then_some(f < 0.0),
    )
}

/// `BigDecimal.toString`: plain when the scale is not negative and the adjusted exponent is at
/// least -6, scientific otherwise.
pub(crate) fn decimal_to_string(d: &Decimal) -> String {
    let digits = d.unscaled.magnitude().to_string();
    let sign = if d.unscaled.sign() == num_bigint::Sign::Minus {
        "-"
    } else {
        ""
    };
    let adjusted = -i64::from(d.scale) + digits.len() as i64 - 1;
    if d.scale >= 0 && adjusted >= -6 {
        return d.to_string();
    }
    let (head, tail) = digits.split_at(1);
    let dot = if tail.is_empty() { "" } else { "." };
    let exp = if adjusted >= 0 {
        format!("+{adjusted}")
    } else {
        adjusted.to_string()
    };
    format!("{sign}{head}{dot}{tail}E{exp}")
}

/// `Long.parseLong` (ASCII digits): an optional sign then digits, nothing else.
pub(crate) fn parse_long(text: &str) -> Option<i64> {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = text.strip_prefix('+').unwrap_or(text);
    t.parse().ok()
}

/// `Double.parseDouble` for the decimal forms: whitespace trimmed, an optional `f`/`d` suffix,
/// `NaN` and `Infinity`. Deviation: java-hex-float — hexadecimal literals are refused.
pub(crate) fn parse_double(text: &str) -> Option<f64> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let negative = t.starts_with('-');
    match unsigned {
        "NaN" => return Some(f64::NAN),
        "Infinity" => {
            return Some(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            })
        }
        _ => {}
    }
    let t = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let valid = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body.bytes().any(|b| b.is_ascii_digit());
    if !valid {
        return None;
    }
    t.parse().ok()
}

/// `Float.parseFloat`: rounded once from the decimal text, as Java does.
pub(crate) fn parse_float(text: &str) -> Option<f32> {
    let t = text.trim_matches(|c: char| c <= ' ');
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let negative = t.starts_with('-');
    match unsigned {
        "NaN" => return Some(f32::NAN),
        "Infinity" => {
            return Some(if negative {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            })
        }
        _ => {}
    }
    parse_double(t)?;
    let t = t.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(t);
    t.parse().ok()
}

pub(crate) fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_java_does() {
        assert_eq!(double_to_string(1.0), "1.0");
        assert_eq!(double_to_string(-0.0), "-0.0");
        assert_eq!(double_to_string(1e7), "1.0E7");
        assert_eq!(double_to_string(1234567.5), "1234567.5");
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(0.0001), "1.0E-4");
        assert_eq!(double_to_string(1.5e-10), "1.5E-10");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(float_to_string(f32::NAN), "NaN");
        assert_eq!(double_to_string(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(double_to_string(100.0), "100.0");
    }

    #[test]
    fn decimals_print_as_big_decimal_does() {
        assert_eq!(decimal_to_string(&Decimal::new(155, 2)), "1.55");
        assert_eq!(decimal_to_string(&Decimal::new(123, -2)), "1.23E+4");
        assert_eq!(decimal_to_string(&Decimal::new(1, 10)), "1E-10");
        assert_eq!(decimal_to_string(&Decimal::new(-5, 0)), "-5");
        assert_eq!(decimal_to_string(&Decimal::new(0, -2)), "0E+2");
    }

    #[test]
    fn parses_as_java_does() {
        assert_eq!(parse_long("+12"), Some(12));
        assert_eq!(parse_long(" 12"), None);
        assert_eq!(parse_long("-"), None);
        assert_eq!(parse_double(" 1.5d "), Some(1.5));
        assert_eq!(parse_double("inf"), None);
        assert_eq!(parse_double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("1e3f"), Some(1000.0));
    }
}
