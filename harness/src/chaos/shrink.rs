//! Smaller schedules to try once one fails, as proptest shrinks: first each with one fault
//! fewer, then the records halved (each fault's `after` with them). Pure.

use super::draw::Schedule;

/// The fewest records a shrunk schedule keeps: below that a fault has no stream to land in.
pub const MIN_RECORDS: u64 = 1_000;

/// The next candidates, simplest change first.
pub fn candidates(s: &Schedule) -> Vec<Schedule> {
    let mut out = Vec::new();
    if s.faults.len() > 1 {
        for i in 0..s.faults.len() {
            let mut smaller = s.clone();
            smaller.faults.remove(i);
            out.push(smaller);
        }
    }
    if let Some(halved) = halve(s) {
        out.push(halved);
    }
    out
}

/// The schedule on half its records, each `after` halved too; `None` below [`MIN_RECORDS`] or
/// when two faults would land on the same record.
fn halve(s: &Schedule) -> Option<Schedule> {
    let records = s.records / 2;
    if records < MIN_RECORDS {
        return None;
    }
    let mut smaller = s.clone();
    smaller.records = records;
    let mut before = 0;
    for f in &mut smaller.faults {
        if let Some(after) = &mut f.after {
            *after /= 2;
            if *after <= before || *after >= records {
                return None;
            }
            before = *after;
        }
    }
    Some(smaller)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chaos::draw::{draw, Bounds};

    #[test]
    fn faults_are_dropped_one_at_a_time_before_records_are_halved() {
        let b = Bounds::full(true);
        let s = (0..)
            .map(|i| draw(1, i, &b))
            .find(|s| s.faults.len() == 3 && s.faults.iter().all(|f| f.after.is_some()))
            .unwrap();
        let c = candidates(&s);
        assert_eq!(c.len(), 4, "{c:?}");
        for (i, smaller) in c[..3].iter().enumerate() {
            let mut expected = s.faults.clone();
            expected.remove(i);
            assert_eq!(
                (smaller.faults.clone(), smaller.records),
                (expected, s.records)
            );
        }
        assert_eq!(c[3].records, s.records / 2);
        for (half, full) in c[3].faults.iter().zip(&s.faults) {
            assert_eq!(half.after, full.after.map(|a| a / 2));
        }
    }

    #[test]
    fn shrinking_stops_at_one_fault_and_the_fewest_records() {
        let mut s = draw(1, 0, &Bounds::full(true));
        s.faults.truncate(1);
        s.faults[0].after = Some(600);
        s.records = 1_500;
        assert!(candidates(&s).is_empty());
        s.records = 2_400;
        assert_eq!(candidates(&s)[0].records, 1_200);
        // Every candidate is still a valid case.
        for c in candidates(&draw(2, 5, &Bounds::full(true))) {
            let text = c.case_text();
            crate::fixture::Case::parse(std::path::Path::new("x.case"), "x.case", &text)
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
        }
    }
}
