//! Connect values, with logical types already applied (a Decimal is a [`Decimal`], not bytes).

use std::fmt;
use std::str::FromStr;

use num_bigint::{BigInt, Sign};

/// An exact decimal: `unscaled × 10^-scale`, like Java's `BigDecimal`.
///
/// Equality is structural, as `BigDecimal.equals` is: `1.5` (15, 1) and `1.50` (150, 2) differ.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub unscaled: BigInt,
    pub scale: i32,
}

/// Why a decimal literal was rejected by [`Decimal::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseDecimalError(pub String);

impl Decimal {
    /// Upper bound on the digits [`Decimal::rescale`] will produce and [`fmt::Display`] will
    /// pad with zeros. Far beyond any database column; it keeps a hostile literal such as
    /// `1e2000000000` from costing gigabytes when rescaled or printed.
    pub const MAX_DIGITS: u32 = 10_000;

    pub fn new(unscaled: impl Into<BigInt>, scale: i32) -> Decimal {
        Decimal {
            unscaled: unscaled.into(),
            scale,
        }
    }

    /// The same number at `scale`; `None` if that would drop non-zero digits, or would need more
    /// than [`Decimal::MAX_DIGITS`] digits.
    pub fn rescale(&self, scale: i32) -> Option<Decimal> {
        let diff = i64::from(scale) - i64::from(self.scale);
        if self.unscaled.sign() == Sign::NoSign {
            return Some(Decimal::new(0, scale));
        }
        let precision = u64::from(self.precision());
        if diff >= 0 {
            if precision + diff as u64 > u64::from(Self::MAX_DIGITS) {
                return None;
            }
            let factor = BigInt::from(10).pow(diff as u32);
            return Some(Decimal::new(&self.unscaled * factor, scale));
        }
        let drop = diff.unsigned_abs();
        // |unscaled| < 10^drop, so dividing leaves a non-zero remainder.
        if drop >= precision {
            return None;
        }
        let factor = BigInt::from(10).pow(drop as u32);
        if (&self.unscaled % &factor).sign() != Sign::NoSign {
            return None;
        }
        Some(Decimal::new(&self.unscaled / factor, scale))
    }

    /// Number of decimal digits in the unscaled value; 1 for zero.
    pub fn precision(&self) -> u32 {
        self.unscaled.magnitude().to_string().len() as u32
    }
}

impl fmt::Display for Decimal {
    /// Plain notation (`toPlainString`): `1.5600`, `-0.05`, `120`, `12300` for (123, -2).
    /// Falls back to `BigDecimal.toString`'s `1.23E+20000` form past [`Decimal::MAX_DIGITS`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.unscaled.magnitude().to_string();
        let sign = if self.unscaled.sign() == Sign::Minus {
            "-"
        } else {
            ""
        };
        let len = digits.len() as i64;
        let scale = i64::from(self.scale);
        let padding = if scale < 0 { -scale } else { scale - len + 1 };
        if padding > i64::from(Self::MAX_DIGITS) {
            let exponent = len - 1 - scale;
            let (head, tail) = digits.split_at(1);
            let dot = if tail.is_empty() { "" } else { "." };
            return write!(f, "{sign}{head}{dot}{tail}E{exponent:+}");
        }
        if scale <= 0 {
            if self.unscaled.sign() == Sign::NoSign {
                return f.write_str("0");
            }
            return write!(f, "{sign}{digits}{}", "0".repeat(-scale as usize));
        }
        let scale = scale as usize;
        if digits.len() > scale {
            let (int, frac) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{int}.{frac}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    /// Parses a JSON number literal exactly, keeping its scale as `new BigDecimal(text)` does:
    /// `1.5600` is (15600, 4), `1e3` is (1, -3), `-0.0` is (0, 1).
    fn from_str(text: &str) -> Result<Decimal, ParseDecimalError> {
        let lit = NumberLiteral::parse(text)
            .ok_or_else(|| ParseDecimalError(format!("{text:?} is not a number")))?;
        let scale = i32::try_from(-lit.exp10).map_err(|_| {
            ParseDecimalError(format!(
                "the exponent of {text} puts its scale outside the 32-bit range"
            ))
        })?;
        let magnitude = if lit.is_zero() {
            BigInt::from(0)
        } else {
            BigInt::parse_bytes(lit.digits.as_bytes(), 10).expect("digits are ASCII decimal")
        };
        Ok(Decimal::new(
            if lit.negative { -magnitude } else { magnitude },
            scale,
        ))
    }
}

/// A decimal literal taken apart: `±digits × 10^exp10`, `digits` without leading zeros (empty
/// for zero). Shared with the JSON decoder, which needs the same exact view of a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberLiteral {
    pub negative: bool,
    pub digits: String,
    /// Clamped to about ±10^15: anything beyond is equally out of range for every use.
    pub exp10: i64,
    /// No fraction and no exponent: Jackson reads such a token as an integer node.
    pub integer_token: bool,
    /// The exponent as written is above `i32::MAX`: Jackson cannot make a BigDecimal of it and
    /// reads a double (±Infinity), so JsonConverter's integers saturate (measured with the
    /// oracle: `5e2147483647` reads as a BigDecimal, `5e2147483648` as a double).
    pub exponent_beyond_int: bool,
}

impl NumberLiteral {
    const EXP_LIMIT: i64 = 1_000_000_000_000_000;

    /// Accepts the JSON number grammar, nothing else.
    pub fn parse(text: &str) -> Option<NumberLiteral> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (mantissa, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int)
            || (int.len() > 1 && int.starts_with('0'))
            || frac.is_some_and(|f| !all_digits(f))
        {
            return None;
        }
        let mut exp10: i64 = 0;
        let mut exponent_beyond_int = false;
        if let Some(e) = exponent {
            let (neg, digits) = match e.as_bytes().first() {
                Some(b'-') => (true, &e[1..]),
                Some(b'+') => (false, &e[1..]),
                _ => (false, e),
            };
            if !all_digits(digits) {
                return None;
            }
            for b in digits.bytes() {
                exp10 = (exp10 * 10 + i64::from(b - b'0')).min(Self::EXP_LIMIT);
            }
            exponent_beyond_int = !neg && exp10 > i64::from(i32::MAX);
            if neg {
                exp10 = -exp10;
            }
        }
        let frac = frac.unwrap_or("");
        exp10 -= frac.len() as i64;
        let mut digits = String::with_capacity(int.len() + frac.len());
        digits.push_str(int);
        digits.push_str(frac);
        let digits = digits.trim_start_matches('0').to_string();
        Some(NumberLiteral {
            negative,
            digits,
            exp10,
            integer_token: exponent.is_none() && frac.is_empty(),
            exponent_beyond_int,
        })
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }
}

/// A Connect value. Logical types have their own variants; `Struct` holds its fields in the
/// schema's field order, and `Map` keeps entry order (JsonConverter's `HashMap` has none).
///
/// Equality is the derived one: floats compare as IEEE numbers (`-0.0 == 0.0`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    Bytes(Vec<u8>),
    String(String),
    Decimal(Decimal),
    /// Days since 1970-01-01.
    Date(i32),
    /// Milliseconds of the day.
    Time(i32),
    /// Milliseconds since the epoch.
    Timestamp(i64),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<(String, Value)>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A struct field's value by exact name.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn dec(unscaled: i128, scale: i32) -> Decimal {
        Decimal::new(unscaled, scale)
    }

    #[rstest]
    #[case(dec(15600, 4), "1.5600")]
    #[case(dec(-5, 2), "-0.05")]
    #[case(dec(0, 0), "0")]
    #[case(dec(0, 2), "0.00")]
    #[case(dec(0, -3), "0")]
    #[case(dec(120, 0), "120")]
    #[case(dec(123, -2), "12300")]
    #[case(dec(-123, -2), "-12300")]
    #[case(dec(1, 1), "0.1")]
    #[case(dec(-12345, 2), "-123.45")]
    #[case(dec(i128::from(i64::MAX), 10), "922337203.6854775807")]
    #[case(dec(1, -20_000), "1E+20000")]
    #[case(dec(-123, 20_000), "-1.23E-19998")]
    fn display(#[case] d: Decimal, #[case] expected: &str) {
        assert_eq!(d.to_string(), expected);
    }

    #[rstest]
    #[case("1.5600", dec(15600, 4))]
    #[case("-0.05", dec(-5, 2))]
    #[case("0", dec(0, 0))]
    #[case("-0", dec(0, 0))]
    #[case("-0.0", dec(0, 1))]
    #[case("1e3", dec(1, -3))]
    #[case("1.50E+1", dec(150, 1))]
    #[case("25e-3", dec(25, 3))]
    #[case("0e5", dec(0, -5))]
    #[case("100", dec(100, 0))]
    #[case("123456789012345678901234567890.5", Decimal::new("1234567890123456789012345678905".parse::<BigInt>().unwrap(), 1))]
    fn parses_exactly(#[case] text: &str, #[case] expected: Decimal) {
        assert_eq!(text.parse::<Decimal>(), Ok(expected));
    }

    #[rstest]
    #[case("")]
    #[case("abc")]
    #[case("01")]
    #[case("1.")]
    #[case(".5")]
    #[case("+1")]
    #[case("1e")]
    #[case("1e+")]
    #[case("--1")]
    #[case("1e99999999999")]
    #[case("1e-2147483649")]
    fn rejects(#[case] text: &str) {
        assert!(text.parse::<Decimal>().is_err(), "{text}");
    }

    #[test]
    fn scale_limits_are_the_i32_range() {
        assert_eq!("1e-2147483647".parse::<Decimal>().unwrap().scale, i32::MAX);
        assert_eq!("1e2147483648".parse::<Decimal>().unwrap().scale, i32::MIN);
    }

    #[rstest]
    #[case(dec(156, 2), 4, Some(dec(15600, 4)))]
    #[case(dec(15600, 4), 2, Some(dec(156, 2)))]
    #[case(dec(15601, 4), 2, None)]
    #[case(dec(-5, 2), 3, Some(dec(-50, 3)))]
    #[case(dec(-5, 2), 1, None)]
    #[case(dec(0, 7), -2, Some(dec(0, -2)))]
    #[case(dec(1, -3), 0, Some(dec(1000, 0)))]
    #[case(dec(1000, 0), -3, Some(dec(1, -3)))]
    #[case(dec(5, 0), -1, None)]
    #[case(dec(12, 0), -100, None)]
    #[case(dec(1, i32::MIN), i32::MAX, None)]
    #[case(dec(1, i32::MAX), i32::MIN, None)]
    #[case(dec(1, 0), 9_999, Some(Decimal::new(BigInt::from(10).pow(9_999), 9_999)))]
    #[case(dec(1, 0), 10_000, None)]
    fn rescale(#[case] d: Decimal, #[case] scale: i32, #[case] expected: Option<Decimal>) {
        assert_eq!(d.rescale(scale), expected);
    }

    #[rstest]
    #[case(dec(0, 3), 1)]
    #[case(dec(7, 0), 1)]
    #[case(dec(-15600, 4), 5)]
    #[case(dec(i128::MIN, 0), 39)]
    fn precision(#[case] d: Decimal, #[case] expected: u32) {
        assert_eq!(d.precision(), expected);
    }

    #[rstest]
    #[case("222", false, "222", 0, true)]
    #[case("-0", true, "", 0, true)]
    #[case("1.9", false, "19", -1, false)]
    #[case("0.050", false, "50", -3, false)]
    #[case("1e3", false, "1", 3, false)]
    #[case("-12.5E-2", true, "125", -3, false)]
    #[case("1e99999999999999999999", false, "1", 1_000_000_000_000_000, false)]
    #[case("5e2147483647", false, "5", 2_147_483_647, false)]
    #[case("5.1e2147483648", false, "51", 2_147_483_647, false)]
    fn number_literal(
        #[case] text: &str,
        #[case] negative: bool,
        #[case] digits: &str,
        #[case] exp10: i64,
        #[case] integer_token: bool,
    ) {
        let lit = NumberLiteral::parse(text).unwrap();
        assert_eq!(
            lit,
            NumberLiteral {
                negative,
                digits: digits.into(),
                exp10,
                integer_token,
                exponent_beyond_int: text.ends_with("e99999999999999999999")
                    || text.ends_with("e2147483648"),
            }
        );
    }

    #[test]
    fn struct_field_lookup() {
        let v = Value::Struct(vec![
            ("a".into(), Value::Int8(1)),
            ("b".into(), Value::Null),
        ]);
        assert_eq!(v.field("a"), Some(&Value::Int8(1)));
        assert_eq!(v.field("c"), None);
        assert!(v.field("b").unwrap().is_null());
    }
}
