//! Numbers as JsonConverter reads them: ints wrapped as Java casts wrap them, floats that
//! overflow or underflow, and base64 bytes.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use serde_json::Value as Json;

use super::decode_error::{DecodeError, DecodeErrorKind};
use super::value::NumberLiteral;

pub(super) fn out_of_range(target: &'static str, json: &Json) -> DecodeErrorKind {
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

pub(super) const BASE64: GeneralPurpose = GeneralPurpose::new(
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
