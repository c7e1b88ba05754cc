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

/// What the oracle expects a cell to read back as: the rendering, and for a DATE or
/// TIMESTAMP also the number QuestDB must store, as [`judged_rows`] puts what it read.
pub(super) fn expect(kind: &Kind, v: &Val) -> String {
    let shown = render(kind, v);
    match (kind, v) {
        (Kind::Date, Val::Date(days)) => format!("{shown} (stored {} ms)", days * 86_400_000),
        (Kind::Timestamp, Val::Timestamp(ms)) => format!("{shown} (stored {} µs)", ms * 1000),
        _ => shown,
    }
}

/// The rows as the oracle judges them: a temporal cell by the number QuestDB stores (its text
/// and the number), not by the text QuestDB shows, so that a rendering defect of QuestDB is
/// not taken for a wrong value written. Where the shown text is not that of the stored number
/// and no named QuestDB defect explains it, that is a difference too.
pub(super) fn judged_rows(
    table: &harness::readback::Table,
    out: &mut Vec<String>,
) -> Vec<Vec<Option<String>>> {
    for (r, c, m) in table.misrenderings() {
        if m.known.is_none() {
            out.push(format!("row {r}, column {:?}: {m}", table.columns[c].name));
        }
    }
    table
        .rows
        .iter()
        .zip(&table.stored)
        .map(|(row, stored)| {
            row.iter()
                .enumerate()
                .map(|(c, cell)| {
                    let unit = table
                        .columns
                        .get(c)
                        .and_then(|col| harness::temporal::Unit::of(&col.column_type));
                    match (unit, stored.get(c).copied().flatten()) {
                        (Some(unit), Some(n)) => {
                            Some(format!("{} (stored {n} {})", unit.text(n), unit.symbol()))
                        }
                        _ => cell.clone(),
                    }
                })
                .collect()
        })
        .collect()
}

pub(super) fn inject_failure() -> bool {
    std::env::var("KQ_PROPTEST_INJECT_FAILURE").is_ok_and(|v| v == "1")
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Expected {
    pub(super) columns: Vec<(String, String)>,
    /// Columns before the record's fields (the Kafka coordinates with `pk.mode=kafka`).
    pub(super) leading: usize,
    /// The rows stored, in the order they read back: every record before the first refused
    /// one, each with its record's index.
    pub(super) rows: Vec<(usize, Vec<Option<String>>)>,
    /// A native table reads back in designated-timestamp order; rows with equal timestamps
    /// (the key, one per row) may come in any order.
    pub(super) order_keys: Option<Vec<i64>>,
    /// The refused record's offset, the fields its error may name, and why.
    pub(super) error: Option<(usize, Vec<String>, String)>,
}

/// The designated timestamp of record `r`, in milliseconds, as the record resolves it (its
/// value, else the field's default); `None` when null.
pub(super) fn designated_millis_of(plan: &Plan, r: usize) -> Option<i64> {
    let f = &plan.fields[plan.designated];
    match (&plan.records[r][plan.designated], &f.default) {
        (Slot::Value(Val::Timestamp(ms)), _) => Some(*ms),
        (Slot::Null | Slot::Missing, Some(Val::Timestamp(ms))) => Some(*ms),
        _ => None,
    }
}

/// Why QuestDB cannot store a row with this designated timestamp, if it cannot
/// (docs/native-tables.md: null, before 1970-01-01, beyond 9999-12-31).
pub(super) fn designated_refusal(ms: Option<i64>) -> Option<&'static str> {
    match ms {
        None => Some("null designated timestamp"),
        Some(ms) if ms < 0 => Some("designated timestamp before 1970-01-01"),
        Some(ms) if ms > 253_402_300_799_999 => Some("designated timestamp beyond 9999-12-31"),
        Some(_) => None,
    }
}

pub(super) fn oracle(plan: &Plan, path: WritePath, topic: &str) -> Expected {
    let mut columns: Vec<(String, String)> = Vec::new();
    if path.dedup() {
        for (name, ty) in [
            ("__connect_topic", "STRING"),
            ("__connect_partition", "INT"),
            ("__connect_offset", "LONG"),
        ] {
            columns.push((name.into(), ty.into()));
        }
    }
    let leading = columns.len();
    columns.extend(
        plan.fields
            .iter()
            .map(|f| (f.name.clone(), column_type(&f.kind))),
    );
    if !plan.rejected.is_empty() {
        return Expected {
            columns,
            leading,
            rows: vec![],
            order_keys: None,
            error: Some((
                0,
                plan.rejected.clone(),
                "QuestDB rejects the column name".into(),
            )),
        };
    }
    // The first refused record: a bad value, or (native) a designated timestamp QuestDB
    // cannot store. The record's value errors are found first, so either may be named.
    let mut error = plan
        .fault
        .map(|(r, f, why)| (r, vec![plan.fields[f].name.clone()], why.to_string()));
    if path.native() {
        let refused = (0..plan.records.len())
            .find_map(|r| designated_refusal(designated_millis_of(plan, r)).map(|why| (r, why)));
        if let Some((r, why)) = refused {
            let name = plan.fields[plan.designated].name.clone();
            error = match error {
                Some((fr, mut names, fwhy)) if fr == r => {
                    names.push(name);
                    Some((r, names, format!("{fwhy}, or {why}")))
                }
                Some(e) if e.0 < r => Some(e),
                _ => Some((r, vec![name], why.to_string())),
            };
        }
    }
    let stored = error.as_ref().map_or(plan.records.len(), |(r, _, _)| *r);
    let mut rows: Vec<(usize, Vec<Option<String>>)> =
        plan.records[..stored]
            .iter()
            .enumerate()
            .map(|(r, record)| {
                let mut row: Vec<Option<String>> = Vec::new();
                if path.dedup() {
                    row.extend([
                        Some(topic.to_string()),
                        Some("0".into()),
                        Some(r.to_string()),
                    ]);
                }
                row.extend(plan.fields.iter().zip(record).map(|(f, slot)| {
                    match (slot, &f.default) {
                        (Slot::Value(v), _) => Some(expect(&f.kind, v)),
                        (Slot::Null | Slot::Missing, Some(d)) => Some(expect(&f.kind, d)),
                        (Slot::Null | Slot::Missing, None) => null_rendering(&f.kind),
                    }
                }));
                (r, row)
            })
            .collect();
    let order_keys = if path.native() {
        // Stable: rows of one timestamp keep their record order (which is not checked).
        rows.sort_by_key(|(r, _)| designated_millis_of(plan, *r));
        Some(
            rows.iter()
                .map(|(r, _)| designated_millis_of(plan, *r).unwrap_or(0))
                .collect(),
        )
    } else {
        None
    };
    Expected {
        columns,
        leading,
        rows,
        order_keys,
        error,
    }
}

/// `got` reordered within each run of equal order keys so that rows equal to the expected ones
/// line up; what is left over keeps its order. Nothing is dropped or added.
pub(super) fn align(
    got: &[Vec<Option<String>>],
    want: &[(usize, Vec<Option<String>>)],
    keys: &[i64],
) -> Vec<Vec<Option<String>>> {
    let mut out: Vec<Vec<Option<String>>> = Vec::with_capacity(got.len());
    let mut start = 0;
    while start < got.len() {
        let end = if start < keys.len() {
            let mut end = start + 1;
            while end < keys.len() && keys[end] == keys[start] {
                end += 1;
            }
            end.min(got.len())
        } else {
            got.len()
        };
        let mut pool: Vec<Option<&Vec<Option<String>>>> =
            got[start..end].iter().map(Some).collect();
        let mut placed: Vec<Option<&Vec<Option<String>>>> = vec![None; end - start];
        for (i, slot) in placed.iter_mut().enumerate() {
            let Some((_, wanted)) = want.get(start + i) else {
                continue;
            };
            if let Some(j) = pool.iter().position(|g| *g == Some(wanted)) {
                *slot = pool[j].take();
            }
        }
        let mut rest = pool.into_iter().flatten();
        for slot in placed {
            out.push(
                slot.or_else(|| rest.next())
                    .expect("one row per place")
                    .clone(),
            );
        }
        start = end;
    }
    out
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
            let judged = judged_rows(table, &mut out);
            let rows = match &expected.order_keys {
                Some(keys) => align(&judged, &expected.rows, keys),
                None => judged,
            };
            for (n, (got, (r, want))) in rows.iter().zip(&expected.rows).enumerate() {
                for (c, (g, w)) in got.iter().zip(want).enumerate() {
                    if g == w {
                        continue;
                    }
                    let Some(f) = c.checked_sub(expected.leading) else {
                        out.push(format!(
                            "row {n} (record {r}), column {:?}: reads back {g:?}, oracle expects {w:?}",
                            expected.columns[c].0
                        ));
                        continue;
                    };
                    let field = &plan.fields[f];
                    out.push(format!(
                        "record {r}, field {:?} ({:?}, written {}): reads back {g:?}, oracle expects {w:?}{}",
                        field.name,
                        field.kind,
                        match &plan.records[*r][f] {
                            Slot::Value(v) => json_value(v),
                            Slot::Null => "null".into(),
                            Slot::Missing => "(missing)".into(),
                        },
                        if n == *r { String::new() } else { format!(" (row {n})") },
                    ));
                }
            }
        }
    }
    out
}
