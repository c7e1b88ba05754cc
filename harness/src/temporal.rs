//! What QuestDB stores in a temporal column and what it shows for it. A TIMESTAMP stores
//! microseconds and a DATE milliseconds since 1970-01-01 (read with `cast(col as long)`);
//! over PG wire QuestDB shows them as proleptic Gregorian UTC text. Where the text it shows is
//! not the text of what it stores, QuestDB renders wrongly, and the read-back says so in a note
//! instead of blaming whoever wrote the value.
//!
//! The one such defect known: [`DEC31_RENDERING`] (docs/questdb-defects/dec31-rendering.md).

use sink::mapping::questdb_connector::timestamp::civil_from_days;

const DAY_MICROS: i64 = 86_400_000_000;
const DAY_MILLIS: i64 = 86_400_000;
/// QuestDB's average Gregorian year (365.2425 days) in microseconds, from which it estimates
/// an instant's year.
const AVG_YEAR_MICROS: i64 = 31_556_952_000_000;

/// The name of the defect, as docs and notes spell it.
pub const DEC31_RENDERING: &str = "questdb-dec31-rendering";

/// Where the defect is written up.
pub const DEC31_DOC: &str = "docs/questdb-defects/dec31-rendering.md";

/// The unit of what a column type stores, if it is a temporal type the read-back checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// TIMESTAMP.
    Micros,
    /// DATE.
    Millis,
}

impl Unit {
    pub fn of(column_type: &str) -> Option<Unit> {
        match column_type {
            "TIMESTAMP" => Some(Unit::Micros),
            "DATE" => Some(Unit::Millis),
            _ => None,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Micros => "µs",
            Unit::Millis => "ms",
        }
    }

    /// The text QuestDB should show for `stored`, in its PG-wire layout: `1969-12-31
    /// 23:59:59.999000` (TIMESTAMP), `1969-12-31 23:59:59.999` (DATE); the year unpadded.
    pub fn text(self, stored: i64) -> String {
        match self {
            Unit::Micros => timestamp_text(stored),
            Unit::Millis => date_text(stored),
        }
    }
}

/// (days since 1970-01-01, microseconds into that day).
fn split_micros(micros: i64) -> (i64, i64) {
    (micros.div_euclid(DAY_MICROS), micros.rem_euclid(DAY_MICROS))
}

fn time_of_day(in_day_micros: i64) -> (i64, i64, i64, i64) {
    let secs = in_day_micros / 1_000_000;
    (
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        in_day_micros % 1_000_000,
    )
}

pub fn timestamp_text(micros: i64) -> String {
    let (days, in_day) = split_micros(micros);
    let (y, m, d) = civil_from_days(days);
    let (h, mi, s, f) = time_of_day(in_day);
    format!("{y}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{f:06}")
}

pub fn date_text(millis: i64) -> String {
    let (y, m, d) = civil_from_days(millis.div_euclid(DAY_MILLIS));
    let (h, mi, s, f) = time_of_day(millis.rem_euclid(DAY_MILLIS) * 1000);
    format!("{y}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}.{:03}", f / 1000)
}

/// What QuestDB 9.3.4 shows over PG wire for a TIMESTAMP that [`DEC31_RENDERING`] affects,
/// `None` for every other instant (measured exact: `tests/conformance/questdb_defects.rs`).
///
/// The rule: an instant before 1970 in year `y` <= 1967 is shown in year `y + 1` when it lies
/// after `(y + 1 - 1970) * 365.2425` days from the epoch, i.e. within the last 0 to 28.9 hours
/// of `y` (the gap between the average-year grid and January 1 of `y + 1`; none in 1968 and
/// 1969, which QuestDB clamps). Such an instant reads back as January 1 of `y + 1`, or as the
/// impossible day `y+1-01-00` when it is on December 30 or at 00:00:00 of December 31, with
/// the right time of day.
pub fn dec31_shown(micros: i64) -> Option<String> {
    if micros >= 0 {
        return None;
    }
    let (days, in_day) = split_micros(micros);
    let (y, m, d) = civil_from_days(days);
    let y = i64::from(y);
    if y > 1967 || micros <= (y + 1 - 1970) * AVG_YEAR_MICROS || m != 12 {
        return None;
    }
    // QuestDB counts the day from January 1 of y + 1, backwards, truncating toward zero.
    let next_year = (days + 32 - d) * DAY_MICROS;
    let shown_day = (micros - next_year) / DAY_MICROS + 1;
    let (h, mi, s, f) = time_of_day(in_day);
    Some(format!(
        "{}-01-{shown_day:02} {h:02}:{mi:02}:{s:02}.{f:06}",
        y + 1
    ))
}

/// Why QuestDB shows `shown` for a cell that stores `stored`, or `None` when it shows the
/// stored value right.
pub fn misrendering(unit: Unit, shown: &str, stored: i64) -> Option<Misrendering> {
    let truth = unit.text(stored);
    if shown == truth {
        return None;
    }
    let known = (unit == Unit::Micros && dec31_shown(stored).as_deref() == Some(shown))
        .then_some(DEC31_RENDERING);
    Some(Misrendering {
        shown: shown.to_owned(),
        stored,
        unit,
        truth,
        known,
    })
}

/// A cell QuestDB shows as something else than what it stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misrendering {
    pub shown: String,
    pub stored: i64,
    pub unit: Unit,
    /// The text of what is stored.
    pub truth: String,
    /// The named QuestDB defect that explains it, if one does.
    pub known: Option<&'static str>,
}

impl std::fmt::Display for Misrendering {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "QuestDB shows {} for stored {} {} = {}: ",
            self.shown,
            self.stored,
            self.unit.symbol(),
            self.truth
        )?;
        match self.known {
            Some(name) => write!(f, "QuestDB defect {name} ({DEC31_DOC})"),
            None => f.write_str("not a known QuestDB defect"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_questdbs_layout() {
        assert_eq!(timestamp_text(0), "1970-01-01 00:00:00.000000");
        assert_eq!(timestamp_text(-1000), "1969-12-31 23:59:59.999000");
        assert_eq!(
            timestamp_text(9_007_199_254_740_993_000),
            "287396-10-12 08:59:00.993000"
        );
        assert_eq!(
            timestamp_text(-62_135_596_800_000_000),
            "1-01-01 00:00:00.000000"
        );
        assert_eq!(date_text(-86_400_000), "1969-12-31 00:00:00.000");
        assert_eq!(date_text(-1), "1969-12-31 23:59:59.999");
        assert_eq!(Unit::of("TIMESTAMP"), Some(Unit::Micros));
        assert_eq!(Unit::of("DATE"), Some(Unit::Millis));
        assert_eq!(Unit::of("LONG"), None);
    }

    /// The instants measured on QuestDB 9.3.4 (see `tests/conformance/questdb_defects.rs`).
    #[test]
    fn the_rule_gives_what_questdb_shows() {
        // The property test's shrunk case: 1293-12-31 23:59:59.999.
        assert_eq!(
            dec31_shown(-21_332_419_200_001_000).as_deref(),
            Some("1294-01-01 23:59:59.999000")
        );
        // 1964: from 18:54:00 on (the grid point is 1964-12-31 18:54:00).
        let jan1_1965 = -157_766_400_000_000;
        assert_eq!(
            dec31_shown(jan1_1965 - 1_000_000).as_deref(),
            Some("1965-01-01 23:59:59.000000")
        );
        assert_eq!(dec31_shown(jan1_1965 - 12 * 3_600_000_000), None);
        assert_eq!(dec31_shown(jan1_1965 - 18_360_000_000), None);
        assert!(dec31_shown(jan1_1965 - 18_360_000_000 + 1).is_some());
        assert_eq!(dec31_shown(jan1_1965), None);
        // 1968 would be affected but QuestDB clamps its estimate to 1969.
        assert_eq!(dec31_shown(-31_536_000_000_001), None);
        // 1900 and 1800: the grid point falls after January 1, nothing is affected.
        assert_eq!(dec31_shown(-2_177_452_800_000_001), None);
        assert_eq!(dec31_shown(-5_333_126_400_000_001), None);
        // 1799 is.
        assert_eq!(
            dec31_shown(-5_364_662_400_000_001).as_deref(),
            Some("1800-01-01 23:59:59.999999")
        );
        // 1696: 28.9 hours; December 30 and 00:00 of December 31 show as day 00.
        let jan1_1697 = -8_614_944_000_000_000;
        assert_eq!(
            dec31_shown(jan1_1697 - DAY_MICROS).as_deref(),
            Some("1697-01-00 00:00:00.000000")
        );
        assert_eq!(
            dec31_shown(jan1_1697 - DAY_MICROS - 1).as_deref(),
            Some("1697-01-00 23:59:59.999999")
        );
        assert_eq!(
            dec31_shown(jan1_1697 - DAY_MICROS + 1).as_deref(),
            Some("1697-01-01 00:00:00.000001")
        );
        assert_eq!(dec31_shown(1), None);
    }

    #[test]
    fn a_note_names_the_defect_only_when_the_rule_explains_the_text() {
        let stored = -21_332_419_200_001_000;
        assert_eq!(
            misrendering(Unit::Micros, "1293-12-31 23:59:59.999000", stored),
            None
        );
        let m = misrendering(Unit::Micros, "1294-01-01 23:59:59.999000", stored).unwrap();
        assert_eq!(
            m.to_string(),
            "QuestDB shows 1294-01-01 23:59:59.999000 for stored -21332419200001000 µs = \
             1293-12-31 23:59:59.999000: QuestDB defect questdb-dec31-rendering \
             (docs/questdb-defects/dec31-rendering.md)"
        );
        let m = misrendering(Unit::Micros, "1293-12-30 23:59:59.999000", stored).unwrap();
        assert_eq!(m.known, None);
        assert!(m.to_string().ends_with("not a known QuestDB defect"));
        let m = misrendering(Unit::Millis, "1294-01-01 23:59:59.999", stored / 1000).unwrap();
        assert_eq!(m.known, None);
    }
}
