//! The log lines of coercions, rate-limited: the first coercion of each field and type is
//! logged as it happens, the rest are counted and logged as one line a minute at most. A
//! stream of records that all wrap the same value (the seed's `"id8": 222`) writes a line a
//! minute, not one per record. Pure: the caller gives the time.

use crate::mapping::prepare::Coerced;
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// Fields and types remembered; past them (a schema of thousands of fields, every one coerced)
/// coercions are only counted, as `other fields`.
const MAX_FIELDS: usize = 1000;

pub(crate) struct CoercionLog {
    interval: Duration,
    seen: HashSet<(String, &'static str)>,
    /// Coercions not logged since the last counts line, per field and type.
    pending: BTreeMap<(String, &'static str), u64>,
    /// Those of fields past [`MAX_FIELDS`].
    other: u64,
    since: Option<Instant>,
}

impl CoercionLog {
    pub fn new(interval: Duration) -> CoercionLog {
        CoercionLog {
            interval,
            seen: HashSet::new(),
            pending: BTreeMap::new(),
            other: 0,
            since: None,
        }
    }

    /// The line to log for this coercion, if any.
    pub fn note(&mut self, c: &Coerced, now: Instant) -> Option<String> {
        let since = *self.since.get_or_insert(now);
        let key = (c.field().to_string(), c.coercion.target);
        if !self.seen.contains(&key) && self.seen.len() < MAX_FIELDS {
            self.seen.insert(key);
            return Some(format!(
                "{c} (the next coercions of this field are counted: sink_coercions_total, and a line a minute)"
            ));
        }
        let room = self.pending.len() < MAX_FIELDS;
        match self.pending.get_mut(&key) {
            Some(n) => *n += 1,
            None if room => {
                self.pending.insert(key, 1);
            }
            None => self.other += 1,
        }
        if now.duration_since(since) >= self.interval {
            return self.flush(now);
        }
        None
    }

    /// The counts line of what was not logged yet, if anything (at the end of a run too).
    pub fn flush(&mut self, now: Instant) -> Option<String> {
        let since = self.since.replace(now)?;
        let total: u64 = self.pending.values().sum::<u64>() + self.other;
        if total == 0 {
            return None;
        }
        let mut fields: Vec<String> = std::mem::take(&mut self.pending)
            .into_iter()
            .map(|((field, target), n)| format!("field \"{field}\" {target}: {n}"))
            .collect();
        if self.other > 0 {
            fields.push(format!("other fields: {}", std::mem::take(&mut self.other)));
        }
        Some(format!(
            "{total} more values changed on decoding as JsonConverter changes them in the last {} s ({})",
            now.duration_since(since).as_secs(),
            fields.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::Coercion;
    use crate::error::RecordAt;

    fn coerced(field: &str, offset: i64) -> Coerced {
        Coerced {
            at: RecordAt {
                topic: "t".into(),
                partition: 0,
                offset,
            },
            coercion: Coercion {
                field: field.into(),
                written: "222".into(),
                stored: "-34".into(),
                target: "int8",
            },
        }
    }

    #[test]
    fn the_first_of_each_field_then_a_line_a_minute() {
        let start = Instant::now();
        let mut log = CoercionLog::new(Duration::from_secs(60));
        let first = log
            .note(&coerced("id8", 0), start)
            .expect("the first is logged");
        assert!(
            first.starts_with(
                "topic t, partition 0, offset 0: field \"id8\": int8 222 stored as -34"
            ),
            "{first}"
        );
        assert!(log.note(&coerced("b", 1), start).is_some(), "another field");
        // A million more within the minute: no line.
        let lines = (2..1_000_002)
            .filter_map(|i| log.note(&coerced("id8", i), start + Duration::from_secs(30)))
            .count();
        assert_eq!(lines, 0);
        let line = log
            .note(&coerced("id8", 2_000_000), start + Duration::from_secs(61))
            .expect("a minute passed");
        assert_eq!(
            line,
            "1000001 more values changed on decoding as JsonConverter changes them in the last 61 s (field \"id8\" int8: 1000001)"
        );
        let end = start + Duration::from_secs(70);
        assert_eq!(log.flush(end), None, "nothing since");
        log.note(&coerced("b", 3), end);
        assert!(log.flush(end).unwrap().contains("field \"b\" int8: 1"));
    }

    #[test]
    fn fields_past_the_limit_are_counted_as_other() {
        let now = Instant::now();
        let mut log = CoercionLog::new(Duration::from_secs(60));
        for i in 0..(2 * MAX_FIELDS + 3) {
            log.note(&coerced(&format!("f{i}"), 0), now);
        }
        assert_eq!(log.seen.len(), MAX_FIELDS);
        assert_eq!(log.pending.len(), MAX_FIELDS);
        assert_eq!(log.other, 3);
        assert!(log.flush(now).unwrap().ends_with("other fields: 3)"));
    }
}
