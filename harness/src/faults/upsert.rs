//! Fault cases on an upsert table (`insert.mode=upsert`, `pk.fields` = the case's `@key`): one
//! row per key, fed the case's stream, in which `id64` rises for every key (record `i` has
//! `id64` = i). At the end each key's row must hold the `id64` of its last record: a row of a
//! revoked partition written after its new owner's newer one shows as an older value. While the
//! case runs, "stored" counts the records the rows cover (per key, its records up to the stored
//! `id64`: a key's records are written in order), so a committed offset ahead of the table
//! still shows.

use std::collections::BTreeMap;

/// The value column that rises per key.
pub const VALUE: &str = "id64";

/// Per key, its records' `id64` values in stream order.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub key: String,
    values: BTreeMap<i64, Vec<i64>>,
}

/// How the table ended against the stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LastValues {
    pub key: String,
    /// Keys in the stream.
    pub keys: u64,
    /// Keys whose row does not hold their last value: key, the row's value (if any), the last.
    pub stale: Vec<(i64, Option<i64>, i64)>,
}

impl Stream {
    /// The first `records` of the case's generated stream ([`crate::bench::envelope`]), keyed
    /// by the integer field `key`.
    pub fn of(key: &str, records: u64) -> Result<Stream, String> {
        let mut values: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for i in 0..records {
            let envelope: serde_json::Value = serde_json::from_slice(&crate::bench::envelope(i))
                .map_err(|e| format!("envelope {i}: {e}"))?;
            let field = |name: &str| {
                envelope["payload"][name]
                    .as_i64()
                    .ok_or_else(|| format!("`{name}` is not an integer field of the stream"))
            };
            values.entry(field(key)?).or_default().push(field(VALUE)?);
        }
        Ok(Stream {
            key: key.to_string(),
            values,
        })
    }

    pub fn keys(&self) -> u64 {
        self.values.len() as u64
    }

    /// Records the rows `(key, id64)` cover.
    pub fn covered(&self, rows: &[(i64, i64)]) -> u64 {
        rows.iter()
            .filter_map(|(k, v)| Some(self.values.get(k)?.partition_point(|x| x <= v) as u64))
            .sum()
    }

    /// The table's rows `(key, id64)` against each key's last value.
    pub fn last_values(&self, rows: &[(i64, i64)]) -> LastValues {
        let held: BTreeMap<i64, i64> = rows.iter().copied().collect();
        let stale = self
            .values
            .iter()
            .filter_map(|(k, values)| {
                let last = *values.last()?;
                let row = held.get(k).copied();
                (row != Some(last)).then_some((*k, row, last))
            })
            .collect();
        LastValues {
            key: self.key.clone(),
            keys: self.keys(),
            stale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_ends_with_its_last_value() {
        // id8 = i % 100: 250 records, keys 0..99, key 7's values 7, 107, 207.
        let s = Stream::of("id8", 250).unwrap();
        assert_eq!(s.keys(), 100);
        let mut rows: Vec<(i64, i64)> = (0..100)
            .map(|k| (k, if k < 50 { 200 + k } else { 100 + k }))
            .collect();
        assert!(s.last_values(&rows).stale.is_empty());
        assert_eq!(s.covered(&rows), 250);
        rows[7] = (7, 107); // an older value landed last
        rows.pop(); // key 99 never written
        let last = s.last_values(&rows);
        assert_eq!(last.stale, vec![(7, Some(107), 207), (99, None, 199)]);
        assert_eq!(s.covered(&rows), 250 - 1 - 2);
        assert!(Stream::of("msg", 1).is_err(), "not an integer");
    }
}
