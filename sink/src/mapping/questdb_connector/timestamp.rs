//! Timestamps as QuestDB's connector reads them: a number in `timestamp.units` (or units guessed
//! from its size), or a string in `timestamp.string.format`, QuestDB's own date-format language
//! (`yyyy-MM-ddTHH:mm:ss.SSSUUUZ` by default). Pure.

use std::fmt;

/// `timestamp.units`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Units {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl Units {
    /// `auto` is `None`: the units are guessed per value.
    pub fn parse(text: &str) -> Result<Option<Units>, String> {
        Ok(Some(match text {
            "auto" => return Ok(None),
            "seconds" => Units::Seconds,
            "millis" => Units::Millis,
            "micros" => Units::Micros,
            "nanos" => Units::Nanos,
            other => {
                return Err(format!(
                    "`{other}`: expected auto, seconds, millis, micros or nanos"
                ))
            }
        }))
    }

    /// The connector's guess: below 10^10 seconds, below 10^13 milliseconds, below 10^16
    /// microseconds, else nanoseconds (negative values are seconds).
    pub fn guess(value: i64) -> Units {
        if value < 10_000_000_000 {
            Units::Seconds
        } else if value < 10_000_000_000_000 {
            Units::Millis
        } else if value < 10_000_000_000_000_000 {
            Units::Micros
        } else {
            Units::Nanos
        }
    }

    /// As Java's `TimeUnit.toMicros`: saturating when scaling up, truncating toward zero down.
    pub fn to_micros(self, value: i64) -> i64 {
        match self {
            Units::Seconds => value.saturating_mul(1_000_000),
            Units::Millis => value.saturating_mul(1_000),
            Units::Micros => value,
            Units::Nanos => value / 1_000,
        }
    }
}

/// A compiled `timestamp.string.format`.
#[derive(Clone, PartialEq, Eq)]
pub struct Format {
    pattern: String,
    ops: Vec<Op>,
    /// The first year of the century window two-digit years fall in (QuestDB's `adjustYear`).
    century_low: i32,
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Format({:?})", self.pattern)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Year,
    Month,
    Day,
    Hour24,
    Hour12,
    Minute,
    Second,
    Millis,
    Micros,
    /// Parsed and ignored (`N`, `NNN`; `u`, `w`, `D`).
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    /// Exactly this many digits.
    Fixed(Field, usize),
    /// As many digits as there are (the last element before a delimiter or the end).
    Greedy(Field),
    /// 1 to 3 digits, scaled to 3 (`S`, `U`, `N` before a delimiter).
    Greedy000(Field),
    /// `yy`: two digits in the century window.
    Year2,
    /// `yyyy`: four digits, or `-` and four.
    Year4,
    /// A greedy `y`: two digits mean the century window.
    YearGreedy,
    /// `U+`: 1 to 6 digits, scaled to 6.
    Micros6,
    /// `N+`: 1 to 9 digits of nanoseconds, kept as microseconds.
    Nanos9,
    /// `.U+` / `.N+`: optional, only when a `.` and a digit follow.
    OptionalMicros6,
    OptionalNanos9,
    MonthName,
    DayName,
    AmPm,
    /// `Z`, `x`, `z`...: `Z`, `UTC`, `GMT`, `+01:00`, `-0130`, `+01`.
    Offset,
    Literal(String),
}

/// Pattern elements, longest first, as QuestDB's compiler defines them.
const ELEMENTS: &[&str] = &[
    "yyyy", "YYYY", "MMMM", "yyy", "MMM", "SSS", "UUU", "NNN", "zzz", "xxx", "yy", "MM", "dd",
    "EE", "ww", "HH", "kk", "KK", "hh", "mm", "ss", "zz", "xx", "U+", "N+", "G", "y", "M", "d",
    "E", "u", "D", "w", "a", "H", "k", "K", "h", "m", "s", "S", "N", "z", "Z", "x", "U",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The connector's default `timestamp.string.format`.
pub const DEFAULT_FORMAT: &str = "yyyy-MM-ddTHH:mm:ss.SSSUUUZ";

impl Format {
    /// Compiles `pattern`; two-digit years fall in the window around this year.
    pub fn compile(pattern: &str) -> Result<Format, String> {
        let year = current_year();
        Format::compile_in(pattern, year)
    }

    /// [`Format::compile`] as if this were `year` (for tests).
    pub fn compile_in(pattern: &str, year: i32) -> Result<Format, String> {
        let mut ops: Vec<Op> = Vec::new();
        let mut rest = pattern;
        while !rest.is_empty() {
            match ELEMENTS.iter().find(|e| rest.starts_with(**e)) {
                Some(element) => {
                    rest = &rest[element.len()..];
                    if matches!(*element, "a" | "z") {
                        make_last_greedy(&mut ops);
                    }
                    ops.push(element_op(element)?);
                }
                None => {
                    // A run of characters that start no element is one delimiter.
                    let len = rest
                        .char_indices()
                        .find(|(i, _)| *i > 0 && ELEMENTS.iter().any(|e| rest[*i..].starts_with(e)))
                        .map_or(rest.len(), |(i, _)| i);
                    make_last_greedy(&mut ops);
                    ops.push(Op::Literal(rest[..len].to_string()));
                    rest = &rest[len..];
                }
            }
        }
        make_last_greedy(&mut ops);
        // `.U+` and `.N+`: the fraction and its dot are optional.
        let mut i = 0;
        while i + 1 < ops.len() {
            if ops[i] == Op::Literal(".".into()) {
                let optional = match ops[i + 1] {
                    Op::Micros6 => Some(Op::OptionalMicros6),
                    Op::Nanos9 => Some(Op::OptionalNanos9),
                    _ => None,
                };
                if let Some(op) = optional {
                    ops[i] = op;
                    ops.remove(i + 1);
                }
            }
            i += 1;
        }
        let offset = year % 100;
        let century_low = if offset + 20 > 100 {
            year - offset + 100
        } else {
            year - offset
        };
        Ok(Format {
            pattern: pattern.to_string(),
            ops,
            century_low,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Microseconds since 1970-01-01T00:00:00Z, or why `text` does not match.
    pub fn parse(&self, text: &str) -> Result<i64, String> {
        let fail = || format!("`{text}` does not match the format `{}`", self.pattern);
        let mut p = Parsed::default();
        let mut pos = 0;
        let b = text.as_bytes();
        for op in &self.ops {
            match op {
                Op::Fixed(field, n) => {
                    let v = digits_exact(b, pos, *n).ok_or_else(fail)?;
                    pos += n;
                    p.set(*field, v);
                }
                Op::Greedy(field) => {
                    let (v, len) = digits_greedy(b, pos).ok_or_else(fail)?;
                    pos += len;
                    p.set(*field, v);
                }
                Op::Greedy000(field) => {
                    let (v, len) = scaled(b, pos, 3).ok_or_else(fail)?;
                    pos += len;
                    p.set(*field, v);
                }
                Op::Year2 => {
                    let v = digits_exact(b, pos, 2).ok_or_else(fail)?;
                    pos += 2;
                    p.year = self.century_low + v as i32;
                }
                Op::Year4 => {
                    if b.get(pos) == Some(&b'-') {
                        p.year = -(digits_exact(b, pos + 1, 4).ok_or_else(fail)? as i32);
                        pos += 5;
                    } else {
                        p.year = digits_exact(b, pos, 4).ok_or_else(fail)? as i32;
                        pos += 4;
                    }
                }
                Op::YearGreedy => {
                    let (v, len) = digits_greedy(b, pos).ok_or_else(fail)?;
                    pos += len;
                    p.year = if len == 2 {
                        self.century_low + v as i32
                    } else {
                        v as i32
                    };
                }
                Op::Micros6 => {
                    let (v, len) = scaled(b, pos, 6).ok_or_else(fail)?;
                    pos += len;
                    p.micros = v;
                }
                Op::Nanos9 => {
                    let (v, len) = scaled(b, pos, 9).ok_or_else(fail)?;
                    pos += len;
                    p.micros = v / 1000;
                }
                Op::OptionalMicros6 | Op::OptionalNanos9 => {
                    if b.get(pos) == Some(&b'.') && b.get(pos + 1).is_some_and(u8::is_ascii_digit) {
                        let nanos = *op == Op::OptionalNanos9;
                        let (v, len) =
                            scaled(b, pos + 1, if nanos { 9 } else { 6 }).ok_or_else(fail)?;
                        pos += len + 1;
                        p.micros = if nanos { v / 1000 } else { v };
                    }
                }
                Op::MonthName => {
                    let (i, len) = name(&text[pos..], &MONTHS).ok_or_else(fail)?;
                    pos += len;
                    p.month = i as i64 + 1;
                }
                Op::DayName => {
                    let (_, len) = name(&text[pos..], &DAYS).ok_or_else(fail)?;
                    pos += len;
                }
                Op::AmPm => {
                    let head = text.get(pos..pos + 2).ok_or_else(fail)?;
                    p.hour_type = match head.to_ascii_uppercase().as_str() {
                        "AM" => HourType::Am,
                        "PM" => HourType::Pm,
                        _ => return Err(fail()),
                    };
                    pos += 2;
                }
                Op::Offset => {
                    let (minutes, len) = offset(&b[pos..]).ok_or_else(fail)?;
                    pos += len;
                    p.offset_minutes = minutes;
                }
                Op::Literal(l) => {
                    if !text[pos..].starts_with(l.as_str()) {
                        return Err(fail());
                    }
                    pos += l.len();
                }
            }
        }
        if pos < text.len() {
            return Err(fail());
        }
        p.compute().ok_or_else(fail)
    }
}

fn current_year() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    civil_from_days(secs.div_euclid(86_400)).0
}

fn element_op(element: &str) -> Result<Op, String> {
    use Field::*;
    Ok(match element {
        "y" => Op::Fixed(Year, 1),
        "yy" => Op::Year2,
        "yyy" => Op::Fixed(Year, 3),
        "yyyy" | "YYYY" => Op::Year4,
        "M" => Op::Fixed(Month, 1),
        "MM" => Op::Fixed(Month, 2),
        "MMM" | "MMMM" => Op::MonthName,
        "d" => Op::Fixed(Day, 1),
        "dd" => Op::Fixed(Day, 2),
        "E" | "EE" => Op::DayName,
        "u" => Op::Fixed(Ignored, 1),
        "D" | "w" => Op::Greedy(Ignored),
        "a" => Op::AmPm,
        "H" | "k" => Op::Fixed(Hour24, 1),
        "HH" | "kk" => Op::Fixed(Hour24, 2),
        "K" | "h" => Op::Fixed(Hour12, 1),
        "KK" | "hh" => Op::Fixed(Hour12, 2),
        "m" => Op::Fixed(Minute, 1),
        "mm" => Op::Fixed(Minute, 2),
        "s" => Op::Fixed(Second, 1),
        "ss" => Op::Fixed(Second, 2),
        "S" => Op::Fixed(Millis, 1),
        "SSS" => Op::Fixed(Millis, 3),
        "U" => Op::Fixed(Micros, 1),
        "UUU" => Op::Fixed(Micros, 3),
        "U+" => Op::Micros6,
        "N" => Op::Fixed(Ignored, 1),
        "NNN" => Op::Fixed(Ignored, 3),
        "N+" => Op::Nanos9,
        "z" | "zz" | "zzz" | "Z" | "x" | "xx" | "xxx" => Op::Offset,
        // Left out: eras and ISO weeks (rare in Kafka payloads); refused at start-up.
        other => {
            return Err(format!(
                "pattern element `{other}` (era, ISO week) is not supported by this sink"
            ))
        }
    })
}

/// QuestDB's compiler makes the element before a delimiter (or the end) take all its digits.
fn make_last_greedy(ops: &mut [Op]) {
    use Field::*;
    if let Some(last) = ops.last_mut() {
        *last = match last {
            Op::Fixed(Year, 1) => Op::YearGreedy,
            Op::Fixed(f @ (Month | Day | Hour24 | Hour12 | Minute | Second), 1) => Op::Greedy(*f),
            Op::Fixed(f @ (Millis | Micros | Ignored), 1) => Op::Greedy000(*f),
            _ => return,
        };
    }
}

fn digits_exact(b: &[u8], pos: usize, n: usize) -> Option<i64> {
    let s = b.get(pos..pos + n)?;
    s.iter()
        .all(u8::is_ascii_digit)
        .then(|| s.iter().fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')))
}

fn digits_greedy(b: &[u8], pos: usize) -> Option<(i64, usize)> {
    let len = b[pos.min(b.len())..]
        .iter()
        .take_while(|d| d.is_ascii_digit())
        .count();
    if len == 0 || len > 9 {
        return None;
    }
    Some((digits_exact(b, pos, len)?, len))
}

/// 1 to `width` digits, scaled to `width` digits (`5` is 500 for width 3).
fn scaled(b: &[u8], pos: usize, width: usize) -> Option<(i64, usize)> {
    let (v, len) = digits_greedy(b, pos)?;
    (len <= width).then(|| (v * 10i64.pow((width - len) as u32), len))
}

/// An English month or weekday name, full or its first three letters, any case.
fn name(text: &str, names: &[&str]) -> Option<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    names
        .iter()
        .position(|n| lower.starts_with(n))
        .map(|i| (i, names[i].len()))
        .or_else(|| {
            names
                .iter()
                .position(|n| lower.starts_with(&n[..3]))
                .map(|i| (i, 3))
        })
}

/// `Z`, `UTC`/`GMT` with an optional signed offset, `+HH`, `+HH:MM`, `+HHMM` -> (minutes, length).
fn offset(b: &[u8]) -> Option<(i64, usize)> {
    let mut p = 0;
    let mut negative = false;
    match b.first()? {
        b'Z' | b'z' => return (b.len() == 1).then_some((0, 1)),
        b'+' => p = 1,
        b'-' => {
            negative = true;
            p = 1
        }
        c if c.is_ascii_digit() => {}
        _ => {
            let head = b.get(..3)?.to_ascii_uppercase();
            if head != b"UTC" && head != b"GMT" {
                return None;
            }
            p = 3;
            match b.get(p) {
                None => return Some((0, 3)),
                Some(b'+') => {}
                Some(b'-') => negative = true,
                _ => return None,
            }
            p += 1;
        }
    }
    let hour = digits_exact(b, p, 2)?;
    p += 2;
    let mut minute = 0;
    if b.get(p) == Some(&b':') {
        minute = digits_exact(b, p + 1, 2)?;
        p += 3;
    } else if b.get(p).is_some_and(u8::is_ascii_digit) {
        minute = digits_exact(b, p, 2)?;
        p += 2;
    }
    if hour > 23 || minute > 59 {
        return None;
    }
    let total = hour * 60 + minute;
    Some((if negative { -total } else { total }, p))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HourType {
    H24,
    Am,
    Pm,
}

struct Parsed {
    year: i32,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    millis: i64,
    micros: i64,
    offset_minutes: i64,
    hour_type: HourType,
}

impl Default for Parsed {
    fn default() -> Parsed {
        Parsed {
            year: 1970,
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
            micros: 0,
            offset_minutes: 0,
            hour_type: HourType::H24,
        }
    }
}

impl Parsed {
    fn set(&mut self, field: Field, v: i64) {
        match field {
            Field::Year => self.year = v as i32,
            Field::Month => self.month = v,
            Field::Day => self.day = v,
            Field::Hour24 => self.hour = v,
            Field::Hour12 => {
                self.hour = v;
                if self.hour_type == HourType::H24 {
                    self.hour_type = HourType::Am;
                }
            }
            Field::Minute => self.minute = v,
            Field::Second => self.second = v,
            Field::Millis => self.millis = v,
            Field::Micros => self.micros = v,
            Field::Ignored => {}
        }
    }

    /// QuestDB's `compute`: the same range checks, then microseconds since the epoch.
    fn compute(&self) -> Option<i64> {
        if !(1..=12).contains(&self.month) {
            return None;
        }
        let hour = match self.hour_type {
            HourType::H24 if (0..=24).contains(&self.hour) => self.hour % 24,
            HourType::Am if (0..=12).contains(&self.hour) => self.hour % 12,
            HourType::Pm if (0..=12).contains(&self.hour) => self.hour % 12 + 12,
            _ => return None,
        };
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return None;
        }
        if !(0..=59).contains(&self.minute) || !(0..=59).contains(&self.second) {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * 86_400 + hour * 3600 + self.minute * 60 + self.second;
        Some(
            seconds * 1_000_000 + self.millis * 1000 + self.micros
                - self.offset_minutes * 60_000_000,
        )
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: i64, day: i64) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01 (Howard
/// Hinnant's algorithm); the harness renders its own timestamps with it too.
pub fn civil_from_days(days: i64) -> (i32, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    ((yoe + era * 400 + i64::from(month <= 2)) as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(0, Units::Seconds)]
    #[case(-5, Units::Seconds)]
    #[case(9_999_999_999, Units::Seconds)]
    #[case(10_000_000_000, Units::Millis)]
    #[case(1_700_000_000_000, Units::Millis)]
    #[case(1_700_000_000_000_000, Units::Micros)]
    #[case(1_700_000_000_000_000_000, Units::Nanos)]
    fn units_are_guessed_by_size(#[case] value: i64, #[case] units: Units) {
        assert_eq!(Units::guess(value), units);
    }

    #[rstest]
    #[case(Units::Seconds, 1_700_000_000, 1_700_000_000_000_000)]
    #[case(Units::Millis, 1_700_000_000_123, 1_700_000_000_123_000)]
    #[case(Units::Micros, 5, 5)]
    #[case(Units::Nanos, 1_700_000_000_123_456_789, 1_700_000_000_123_456)]
    #[case(Units::Nanos, -1_999, -1)]
    #[case(Units::Seconds, i64::MAX, i64::MAX)]
    fn units_convert_as_java_time_unit(#[case] u: Units, #[case] v: i64, #[case] micros: i64) {
        assert_eq!(u.to_micros(v), micros);
    }

    const T: i64 = 1_704_164_645_000_000; // 2024-01-02T03:04:05Z

    #[rstest]
    #[case(DEFAULT_FORMAT, "2024-01-02T03:04:05.123456Z", T + 123_456)]
    #[case(DEFAULT_FORMAT, "2024-01-02T03:04:05.123456+01:00", T + 123_456 - 3_600_000_000)]
    #[case(DEFAULT_FORMAT, "2024-01-02T03:04:05.123456-0130", T + 123_456 + 5_400_000_000)]
    #[case("yyyy-MM-dd HH:mm:ss", "2024-01-02 03:04:05", T)]
    #[case("yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.007", T + 7_000)]
    #[case("yyyy-MM-dd HH:mm:ss.S", "2024-01-02 03:04:05.5", T + 500_000)]
    #[case("yyyy-MM-ddTHH:mm:ss.U+Z", "2024-01-02T03:04:05.12Z", T + 120_000)]
    #[case("yyyy-MM-ddTHH:mm:ss.U+Z", "2024-01-02T03:04:05Z", T)]
    #[case("yyyy-MM-ddTHH:mm:ss.N+", "2024-01-02T03:04:05.123456789", T + 123_456)]
    #[case("yyyyMMddHHmmssSSS", "20240102030405000", T)]
    #[case("dd/MM/yyyy", "02/01/2024", T - 3 * 3600 * 1_000_000 - 245_000_000)]
    #[case("d MMM yyyy h:mm a", "2 Jan 2024 3:04 PM", T + 12 * 3_600_000_000 - 5_000_000)]
    #[case("d MMMM yyyy", "2 January 2024", T - 11_045_000_000)]
    #[case("yyyy-MM-dd HH:mm:ss z", "2024-01-02 03:04:05 UTC", T)]
    #[case("yy-MM-dd", "24-01-02", T - 11_045_000_000)]
    #[case("yyyy-M-d H:m:s", "2024-1-2 3:4:5", T)]
    #[case("yyyy-MM-dd HH:mm:ss", "1969-12-31 23:59:59", -1_000_000)]
    fn strings_parse_as_questdb_formats_read_them(
        #[case] pattern: &str,
        #[case] text: &str,
        #[case] micros: i64,
    ) {
        let f = Format::compile_in(pattern, 2026).unwrap();
        assert_eq!(f.parse(text), Ok(micros), "{pattern} {text}");
    }

    #[rstest]
    #[case(DEFAULT_FORMAT, "2024-01-02T03:04:05.123Z")]
    #[case(DEFAULT_FORMAT, "2024-01-02 03:04:05.123456Z")]
    #[case(DEFAULT_FORMAT, "2024-01-02T03:04:05.123456Z ")]
    #[case("yyyy-MM-dd", "2024-02-30")]
    #[case("yyyy-MM-dd", "2024-13-01")]
    #[case("yyyy-MM-dd HH:mm", "2024-01-01 25:00")]
    #[case("yyyy-MM-dd HH:mm:ss.SSS", "2024-01-02 03:04:05.1234")]
    #[case("yyyy-MM-dd", "not a date")]
    fn strings_that_do_not_match_are_refused(#[case] pattern: &str, #[case] text: &str) {
        let f = Format::compile_in(pattern, 2026).unwrap();
        let e = f.parse(text).unwrap_err();
        assert!(e.contains(pattern), "{e}");
    }

    #[test]
    fn eras_and_iso_weeks_are_refused_when_compiled() {
        assert!(Format::compile("G yyyy").is_err());
        assert!(Format::compile("YYYY-ww").is_err());
    }

    #[test]
    fn civil_days_round_trip() {
        for days in [-719_468, -1, 0, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
