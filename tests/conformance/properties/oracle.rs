//! The oracle: what QuestDB must report and read back, from docs/type-mapping.md alone.

use super::*;
// ---------------------------------------------------------------------------------------------
// The oracle, from docs/type-mapping.md.

pub(super) fn column_type(kind: &Kind) -> String {
    match kind {
        Kind::Boolean => "BOOLEAN".into(),
        Kind::Int8 | Kind::Int16 => "SHORT".into(),
        Kind::Int32 | Kind::Time => "INT".into(),
        Kind::Int64 => "LONG".into(),
        Kind::Float => "FLOAT".into(),
        Kind::Double => "DOUBLE".into(),
        Kind::String | Kind::Bytes => "STRING".into(),
        Kind::Decimal { scale, precision } => {
            format!("DECIMAL({},{scale})", column_precision(*scale, *precision))
        }
        Kind::Date => "DATE".into(),
        Kind::Timestamp => "TIMESTAMP".into(),
    }
}

/// The declared precision: `connect.decimal.precision`, else 76; one more when it equals the
/// scale (QuestDB counts the 0 of `0.123` as a digit), as docs/type-mapping.md says.
pub(super) fn column_precision(scale: u32, precision: Option<u32>) -> u32 {
    match precision {
        Some(p) if p == scale => p + 1,
        Some(p) => p,
        None => 76,
    }
}

/// What a null reads back as: BOOLEAN and SHORT have no null.
pub(super) fn null_rendering(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Boolean => Some("f".into()),
        Kind::Int8 | Kind::Int16 => Some("0".into()),
        _ => None,
    }
}

/// Java's layout of a shortest-digits number (`{:e}` of Rust): plain for 1e-3 <= |x| < 1e7,
/// else `d.dddE<n>`; always a digit after the point.
pub(super) fn java_layout(scientific: &str) -> String {
    let (sign, rest) = match scientific.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", scientific),
    };
    let (mantissa, exp) = rest.split_once('e').expect("{:e} output");
    let exp: i32 = exp.parse().expect("exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if digits == "0" {
        return format!("{sign}0.0");
    }
    if (-3..7).contains(&exp) {
        let (int, frac) = if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                (format!("{digits:0<int_len$}"), "0".to_string())
            } else {
                (digits[..int_len].to_string(), digits[int_len..].to_string())
            }
        } else {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat((-exp - 1) as usize)),
            )
        };
        format!("{sign}{int}.{frac}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{frac}E{exp}", &digits[..1])
    }
}

pub(super) fn render_float(literal: &str) -> String {
    if let Some((_, shown)) = FLOAT_EXTREMES.iter().find(|(l, _)| *l == literal) {
        return shown.to_string();
    }
    let v: f32 = literal.parse().expect("a float literal");
    java_layout(&format!("{v:e}"))
}

/// Whether every digit of the literal's mantissa is 0 (`-0.0`, `0e5`).
pub(super) fn is_zero_literal(literal: &str) -> bool {
    let mantissa = literal.split(['e', 'E']).next().unwrap_or(literal);
    mantissa
        .chars()
        .filter(char::is_ascii_digit)
        .all(|c| c == '0')
}

pub(super) fn render_double(literal: &str) -> String {
    let v: f64 = literal.parse().expect("a double literal");
    if v == 0.0 {
        // A zero literal (`-0.0` too) is 0.0; a negative underflow (`-1e-400`) is -0.0.
        return if v.is_sign_negative() && !is_zero_literal(literal) {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    java_layout(&format!("{v:e}"))
}

/// (year, month, day) of days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
pub(super) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(super) fn render_date(days: i64) -> String {
    let (y, m, d) = civil(days);
    // QuestDB does not pad the year: year 999 reads back as `999-12-31`.
    format!("{y}-{m:02}-{d:02} 00:00:00.000")
}

pub(super) fn render_timestamp(ms: i64) -> String {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (mi, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!(
        "{y}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:06}",
        milli * 1000
    )
}

pub(super) fn render(kind: &Kind, v: &Val) -> String {
    match (kind, v) {
        (Kind::Boolean, Val::Bool(b)) => if *b { "t" } else { "f" }.into(),
        (Kind::Int8, Val::Int(l)) => wrap(*l, 8).to_string(),
        (Kind::Int16, Val::Int(l)) => wrap(*l, 16).to_string(),
        (Kind::Int32, Val::Int(l)) => wrap(*l, 32).to_string(),
        (Kind::Int64, Val::Int(l)) => wrap(*l, 64).to_string(),
        (Kind::Float, Val::Num(l)) => render_float(l),
        (Kind::Double, Val::Num(l)) => {
            let shown = render_double(l);
            if inject_failure() {
                format!("{shown}(injected)")
            } else {
                shown
            }
        }
        (Kind::String, Val::Str(s)) => s.clone(),
        (Kind::Bytes, Val::Bytes(b)) => {
            let mut s = String::from("\\x");
            for byte in b {
                let _ = write!(s, "{byte:02x}");
            }
            s
        }
        (Kind::Decimal { scale, .. }, Val::DecBytes(u)) => plain_decimal(*u, *scale),
        (
            Kind::Decimal { scale, .. },
            Val::DecNum {
                unscaled,
                scale: ls,
            },
        ) => plain_decimal(unscaled * 10i128.pow(scale - ls), *scale),
        (Kind::Date, Val::Date(d)) => render_date(*d),
        (Kind::Time, Val::Time(t)) => t.to_string(),
        (Kind::Timestamp, Val::Timestamp(t)) => render_timestamp(*t),
        (kind, v) => panic!("the generator paired {kind:?} with {v:?}"),
    }
}

pub(super) fn inject_failure() -> bool {
    std::env::var("KQ_PROPTEST_INJECT_FAILURE").is_ok_and(|v| v == "1")
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Expected {
    pub(super) columns: Vec<(String, String)>,
    /// The rows stored: every record before the first refused one.
    pub(super) rows: Vec<Vec<Option<String>>>,
    /// The refused record's offset, the fields its error may name, and why.
    pub(super) error: Option<(usize, Vec<String>, String)>,
}

pub(super) fn oracle(plan: &Plan) -> Expected {
    let columns = plan
        .fields
        .iter()
        .map(|f| (f.name.clone(), column_type(&f.kind)))
        .collect();
    if !plan.rejected.is_empty() {
        return Expected {
            columns,
            rows: vec![],
            error: Some((
                0,
                plan.rejected.clone(),
                "QuestDB rejects the column name".into(),
            )),
        };
    }
    let stored = plan.fault.map_or(plan.records.len(), |(r, _, _)| r);
    let rows = plan.records[..stored]
        .iter()
        .map(|record| {
            plan.fields
                .iter()
                .zip(record)
                .map(|(f, slot)| match (slot, &f.default) {
                    (Slot::Value(v), _) => Some(render(&f.kind, v)),
                    (Slot::Null | Slot::Missing, Some(d)) => Some(render(&f.kind, d)),
                    (Slot::Null | Slot::Missing, None) => null_rendering(&f.kind),
                })
                .collect()
        })
        .collect();
    Expected {
        columns,
        rows,
        error: plan
            .fault
            .map(|(r, f, why)| (r, vec![plan.fields[f].name.clone()], why.to_string())),
    }
}

/// Every way the outcome differs from the oracle; empty when they agree.
pub(super) fn differences(plan: &Plan, expected: &Expected, outcome: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    let produced = plan.records.len();
    match (&expected.error, &outcome.error) {
        (None, Some(e)) => out.push(format!("unexpected error: {e}")),
        (Some((offset, fields, why)), None) => out.push(format!(
            "no error, expected one at offset {offset} naming {fields:?} ({why})"
        )),
        (Some((offset, fields, why)), Some(e)) => {
            if !e.contains(&format!("offset {offset}:")) {
                out.push(format!("error does not name offset {offset} ({why}): {e}"));
            }
            if !fields.iter().any(|f| e.contains(&format!("field \"{f}\""))) {
                out.push(format!("error does not name field {fields:?} ({why}): {e}"));
            }
        }
        (None, None) => {}
    }
    let stored = expected.rows.len();
    let committed_ok = match outcome.committed {
        Some(c) => c == stored as i64,
        None => stored == 0,
    };
    if !committed_ok {
        out.push(format!(
            "committed offset {:?}, expected {stored} (of {produced} produced)",
            outcome.committed
        ));
    }
    match &outcome.table_state {
        None => {
            // Refused before any SQL: no table. A first record refused for its value may leave
            // an empty table or none; every other case needs the table.
            if stored > 0 || (expected.error.is_none()) {
                out.push("table does not exist".into());
            }
        }
        Some(table) => {
            if !plan.rejected.is_empty() {
                out.push(format!(
                    "table {} exists although the schema has a name QuestDB rejects",
                    table.name
                ));
            }
            let columns: Vec<(String, String)> = table
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.column_type.clone()))
                .collect();
            if columns != expected.columns {
                for (i, pair) in columns
                    .iter()
                    .map(Some)
                    .chain(std::iter::repeat(None))
                    .zip(
                        expected
                            .columns
                            .iter()
                            .map(Some)
                            .chain(std::iter::repeat(None)),
                    )
                    .take(columns.len().max(expected.columns.len()))
                    .enumerate()
                {
                    if pair.0 != pair.1 {
                        out.push(format!(
                            "column {i}: QuestDB has {:?}, oracle expects {:?}",
                            pair.0, pair.1
                        ));
                    }
                }
            }
            if table.rows.len() != expected.rows.len() {
                out.push(format!(
                    "{} rows read back, expected {}",
                    table.rows.len(),
                    expected.rows.len()
                ));
            }
            for (r, (got, want)) in table.rows.iter().zip(&expected.rows).enumerate() {
                for (c, (g, w)) in got.iter().zip(want).enumerate() {
                    if g != w {
                        let f = &plan.fields[c];
                        out.push(format!(
                            "record {r}, field {:?} ({:?}, written {}): reads back {g:?}, oracle expects {w:?}",
                            f.name,
                            f.kind,
                            match &plan.records[r][c] {
                                Slot::Value(v) => json_value(v),
                                Slot::Null => "null".into(),
                                Slot::Missing => "(missing)".into(),
                            }
                        ));
                    }
                }
            }
        }
    }
    out
}
