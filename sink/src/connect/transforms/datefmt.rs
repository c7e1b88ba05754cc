//! A subset of Java's `SimpleDateFormat` in UTC, for `TimestampConverter` and
//! `TimestampRouter`: the letters `y M d H h k K m s S E a D Z X z` and quoted literals.
//! A pattern with another letter is refused when the transform is built, naming the letter.
//! Deviation: julian-calendar — dates before 1582-10-15 are proleptic Gregorian here; Java's
//! calendar switches to the Julian calendar there.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DateFormat {
    tokens: Vec<Token>,
}

impl DateFormat {
    /// Compiles `pattern`; the error names what is not supported or not valid.
    pub(crate) fn new(pattern: &str) -> Result<DateFormat, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        let mut literal = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("Unterminated quote in {pattern:?}")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&x) => {
                            literal.push(x);
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if c.is_ascii_alphabetic() {
                if !"yMdHhkKmsSEaDZXz".contains(c) {
                    return Err(format!(
                        "pattern letter '{c}' is not supported by this sink (supported: y M d H h k K m s S E a D Z X z)"
                    ));
                }
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                if c == 'X' && n > 3 {
                    return Err(format!("invalid ISO 8601 format: length={n}"));
                }
                if !literal.is_empty() {
                    tokens.push(Token::Literal(std::mem::take(&mut literal)));
                }
                tokens.push(Token::Field(c, n));
                i += n;
                continue;
            }
            literal.push(c);
            i += 1;
        }
        if !literal.is_empty() {
            tokens.push(Token::Literal(literal));
        }
        Ok(DateFormat { tokens })
    }

    /// The text of `millis` since the epoch, in UTC.
    pub(crate) fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(DAY_MS);
        let ms_of_day = millis.rem_euclid(DAY_MS);
        let (year, month, day) = civil_from_days(days);
        let hour = ms_of_day / 3_600_000;
        let minute = ms_of_day / 60_000 % 60;
        let second = ms_of_day / 1000 % 60;
        let milli = ms_of_day % 1000;
        let mut out = String::new();
        for t in &self.tokens {
            match t {
                Token::Literal(s) => out.push_str(s),
                Token::Field(c, n) => {
                    let n = *n;
                    let num = |v: i64| format!("{v:0n$}");
                    let text = match c {
                        'y' => {
                            // Java prints the year of the era: 1 BC is year 1.
                            let y = if year <= 0 { 1 - year } else { year };
                            if n == 2 {
                                format!("{:02}", y % 100)
                            } else {
                                num(y)
                            }
                        }
                        'M' if n >= 4 => MONTHS[month as usize - 1].to_owned(),
                        'M' if n == 3 => MONTHS[month as usize - 1][..3].to_owned(),
                        'M' => num(month),
                        'd' => num(day),
                        'H' => num(hour),
                        'k' => num(if hour == 0 { 24 } else { hour }),
                        'K' => num(hour % 12),
                        'h' => num(if hour % 12 == 0 { 12 } else { hour % 12 }),
                        'm' => num(minute),
                        's' => num(second),
                        'S' => num(milli),
                        'D' => num(days - days_from_civil(year, 1, 1) + 1),
                        'E' => {
                            let dow = DAYS[(days + 3).rem_euclid(7) as usize];
                            if n >= 4 {
                                dow.to_owned()
                            } else {
                                dow[..3].to_owned()
                            }
                        }
                        'a' => if hour < 12 { "AM" } else { "PM" }.to_owned(),
                        'Z' => "+0000".to_owned(),
                        'X' => "Z".to_owned(),
                        'z' => {
                            if n >= 4 {
                                "Coordinated Universal Time".to_owned()
                            } else {
                                "UTC".to_owned()
                            }
                        }
                        _ => unreachable!("letters are checked in new"),
                    };
                    out.push_str(&text);
                }
            }
        }
        out
    }

    /// Parses `text` (numeric fields and literals only) into millis since the epoch. `Err` names
    /// why; `Ok(None)` means the pattern uses a letter this parser does not read.
    /// Deviation: date-parse — Java's lenient parser also reads text fields, out-of-range fields
    /// (month 13) and trailing text; this reads strict numeric fields and the whole text.
    pub(crate) fn parse(&self, text: &str) -> Result<Option<i64>, String> {
        let bytes = text.as_bytes();
        let mut pos = 0;
        let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
        let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
        for (i, t) in self.tokens.iter().enumerate() {
            match t {
                Token::Literal(s) => {
                    if !text[pos..].starts_with(s.as_str()) {
                        return Err(format!("expected {s:?} at position {pos}"));
                    }
                    pos += s.len();
                }
                Token::Field(c, n) => {
                    if !"yMdHmsS".contains(*c) || (*c == 'M' && *n >= 3) {
                        return Ok(None);
                    }
                    // Adjacent numeric fields take exactly their width, as Java's do.
                    let next_numeric = matches!(self.tokens.get(i + 1), Some(Token::Field(..)));
                    let sign = if *c == 'y' && bytes.get(pos) == Some(&b'-') {
                        pos += 1;
                        -1
                    } else {
                        1
                    };
                    let start = pos;
                    while pos < bytes.len()
                        && bytes[pos].is_ascii_digit()
                        && (!next_numeric || pos - start < *n)
                    {
                        pos += 1;
                    }
                    if pos == start {
                        return Err(format!("expected digits at position {start}"));
                    }
                    let v: i64 = text[start..pos]
                        .parse()
                        .map_err(|_| format!("number too long at position {start}"))?;
                    let v = v * sign;
                    match c {
                        'y' => year = v,
                        'M' => month = v,
                        'd' => day = v,
                        'H' => hour = v,
                        'm' => minute = v,
                        's' => second = v,
                        _ => milli = v,
                    }
                }
            }
        }
        if pos != text.len() {
            return Ok(None);
        }
        if !(1..=12).contains(&month)
            || !(1..=31).contains(&day)
            || hour > 23
            || minute > 59
            || second > 59
            || milli > 999
        {
            return Ok(None);
        }
        let days = days_from_civil(year, month, day);
        Ok(Some(
            days * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli,
        ))
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01, proleptic Gregorian.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// 1582-10-15T00:00Z, where Java's calendar turns from Julian to Gregorian.
const GREGORIAN_CUTOVER_MS: i64 = -12_219_292_800_000;

/// `Err` for an instant Java would format in the Julian calendar (see `julian-calendar`).
pub(crate) fn check_gregorian(millis: i64) -> super::Outcome<()> {
    if millis < GREGORIAN_CUTOVER_MS {
        return Err(super::Failure::Unsupported(
            "julian-calendar",
            format!("{millis} ms is before 1582-10-15, where Java formats Julian dates"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let f = DateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").unwrap();
        assert_eq!(f.format(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            f.parse("2023-11-14T22:13:20.123Z"),
            Ok(Some(1_700_000_000_123))
        );
        let r = DateFormat::new("yyyyMMdd").unwrap();
        assert_eq!(r.format(0), "19700101");
        assert_eq!(r.parse("19700102"), Ok(Some(DAY_MS)));
        assert_eq!(
            DateFormat::new("EEE MMM d yy a").unwrap().format(0),
            "Thu Jan 1 70 AM"
        );
        assert!(DateFormat::new("yyyy-ww").unwrap_err().contains("'w'"));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
