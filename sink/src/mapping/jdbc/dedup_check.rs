//! An existing table's DEDUP keys against those the sink would declare (`pk.mode=kafka`, or
//! upsert keys, on a native table). Without them a record read again after a restart is
//! stored twice, silently: the sink refuses such a table with the statement that fixes it; pure.

use crate::mapping::jdbc::ddl::quote;

/// What QuestDB says of an existing table (`tables()`, `table_columns()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingTable {
    pub wal: bool,
    pub designated: Option<String>,
    pub upsert_keys: Vec<String>,
}

/// An existing table without the DEDUP keys the configuration needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table \"{table}\" exists without the DEDUP UPSERT KEYS the configuration needs ({}): a record read again after a restart would be stored twice. Fix: {fix}", missing.join(", "))]
pub struct MissingDedupKeys {
    pub table: String,
    pub missing: Vec<String>,
    pub fix: String,
}

/// Whether `existing` deduplicates on every one of `wanted` (the designated timestamp first);
/// if not, the statement that makes it do so, or why no statement can.
pub fn check(
    table: &str,
    wanted: &[&str],
    existing: &ExistingTable,
) -> Result<(), MissingDedupKeys> {
    let has = |k: &str| {
        existing
            .upsert_keys
            .iter()
            .any(|u| u.eq_ignore_ascii_case(k))
    };
    let missing: Vec<String> = wanted
        .iter()
        .filter(|k| !has(k))
        .map(|k| k.to_string())
        .collect();
    let Some(timestamp) = wanted.first().filter(|_| !missing.is_empty()) else {
        return Ok(());
    };
    let designated_ok = existing
        .designated
        .as_deref()
        .is_some_and(|d| d.eq_ignore_ascii_case(timestamp));
    // QuestDB 9.3.4: "deduplication is only supported for WAL tables", and "deduplicate key
    // list must include dedicated timestamp column" (measured).
    let fix = if existing.wal && designated_ok {
        // The keys it has stay keys: ALTER replaces the whole list.
        let mut keys: Vec<&str> = wanted.to_vec();
        keys.extend(
            existing
                .upsert_keys
                .iter()
                .map(String::as_str)
                .filter(|u| !wanted.iter().any(|w| w.eq_ignore_ascii_case(u))),
        );
        let keys: Vec<String> = keys.into_iter().map(quote).collect();
        format!(
            "ALTER TABLE {} DEDUP ENABLE UPSERT KEYS({})",
            quote(table),
            keys.join(", ")
        )
    } else {
        let why = match (&existing.designated, existing.wal) {
            (None, _) => "it has no designated timestamp".to_string(),
            (Some(d), _) if !designated_ok => format!("its designated timestamp is {d}"),
            _ => "it is not a WAL table".to_string(),
        };
        format!("QuestDB deduplicates only a WAL table on its designated timestamp ({timestamp}), and {why}: create the table again (drop it, or rename it and copy its rows over, and let the sink create it with auto.create=true)")
    };
    Err(MissingDedupKeys {
        table: table.to_string(),
        missing,
        fix,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KAFKA: [&str; 4] = [
        "__connect_timestamp",
        "__connect_topic",
        "__connect_partition",
        "__connect_offset",
    ];

    fn table(wal: bool, designated: Option<&str>, keys: &[&str]) -> ExistingTable {
        ExistingTable {
            wal,
            designated: designated.map(str::to_string),
            upsert_keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn a_table_with_every_key_passes_whatever_their_case() {
        let upper = KAFKA.map(str::to_uppercase);
        let keys: Vec<&str> = upper.iter().map(String::as_str).collect();
        let t = table(true, Some("__CONNECT_TIMESTAMP"), &keys);
        assert_eq!(check("t", &KAFKA, &t), Ok(()));
    }

    #[test]
    fn a_wal_table_without_dedup_gets_the_alter_statement() {
        let t = table(true, Some("__connect_timestamp"), &[]);
        let e = check("events", &KAFKA, &t).unwrap_err();
        assert_eq!(e.missing, KAFKA.map(String::from));
        assert_eq!(
            e.fix,
            r#"ALTER TABLE "events" DEDUP ENABLE UPSERT KEYS("__connect_timestamp", "__connect_topic", "__connect_partition", "__connect_offset")"#
        );
        let text = e.to_string();
        assert!(
            text.starts_with(r#"table "events" exists without the DEDUP UPSERT KEYS the configuration needs (__connect_timestamp, __connect_topic, __connect_partition, __connect_offset)"#),
            "{text}"
        );
    }

    #[test]
    fn keys_the_table_has_already_stay_in_the_statement() {
        let t = table(true, Some("at"), &["at", "region"]);
        let e = check("t", &["at", "id"], &t).unwrap_err();
        assert_eq!(e.missing, ["id"]);
        assert_eq!(
            e.fix,
            r#"ALTER TABLE "t" DEDUP ENABLE UPSERT KEYS("at", "id", "region")"#
        );
    }

    #[rstest::rstest]
    #[case::not_wal(table(false, Some("__connect_timestamp"), &[]), "it is not a WAL table")]
    #[case::no_timestamp(table(true, None, &[]), "it has no designated timestamp")]
    #[case::other_timestamp(table(true, Some("at"), &[]), "its designated timestamp is at")]
    fn a_table_that_cannot_deduplicate_must_be_created_again(
        #[case] t: ExistingTable,
        #[case] why: &str,
    ) {
        let e = check("t", &KAFKA, &t).unwrap_err();
        assert!(
            e.fix.contains(why) && e.fix.contains("create the table again"),
            "{}",
            e.fix
        );
    }

    #[test]
    fn no_wanted_keys_no_check() {
        assert_eq!(check("t", &[], &table(false, None, &[])), Ok(()));
    }
}
