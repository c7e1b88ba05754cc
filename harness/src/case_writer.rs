//! Writes records taken from a live topic as a `.case` file (`harness record`): values as they
//! are, one line each; keys and timestamps as `@record-key` / `@record-timestamp` lines before
//! them; a null value as `@tombstone`; a value a plain line would misread (empty, or starting
//! with `#` or `@`) as `@raw`. Reading the file back ([`crate::fixture::Case::parse`]) gives
//! the same records. What a line cannot hold (a line break, bytes that are not UTF-8) is refused,
//! naming the record's offset.

use crate::kafka::RawRecord;

/// The `.case` text of `records`, read from `topic`.
pub fn render(topic: &str, records: &[RawRecord]) -> Result<String, String> {
    let headers: usize = records.iter().map(|r| r.headers).sum();
    let mut out = format!(
        "# Recorded by `harness record` from topic {topic}: {} records.\n",
        records.len()
    );
    if headers > 0 {
        out.push_str(&format!(
            "# {headers} record headers were left out: a case has no directive for them.\n"
        ));
    }
    out.push_str(&format!("@topic {topic}\n"));
    for (offset, record) in records.iter().enumerate() {
        let text = |what: &str, bytes: &[u8]| -> Result<String, String> {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| format!("record {offset}: its {what} is not UTF-8 text"))?;
            if text.contains(['\n', '\r']) {
                return Err(format!(
                    "record {offset}: its {what} holds a line break, which a case line cannot"
                ));
            }
            Ok(text.to_owned())
        };
        if let Some(key) = &record.key {
            out.push_str(&format!("@record-key {}\n", text("key", key)?));
        }
        if let Some(ts) = record.timestamp {
            out.push_str(&format!("@record-timestamp {ts}\n"));
        }
        match &record.value {
            None => out.push_str("@tombstone\n"),
            Some(value) => {
                let value = text("value", value)?;
                if value.trim().is_empty() || value.starts_with(['#', '@']) {
                    out.push_str(&format!("@raw {value}\n"));
                } else {
                    out.push_str(&format!("{value}\n"));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::Case;
    use std::path::Path;

    fn record(key: Option<&str>, value: Option<&str>, timestamp: Option<i64>) -> RawRecord {
        RawRecord {
            key: key.map(|k| k.as_bytes().to_vec()),
            value: value.map(|v| v.as_bytes().to_vec()),
            timestamp,
            headers: 0,
        }
    }

    #[test]
    fn renders_keys_timestamps_tombstones_and_raw_lines() {
        let records = [
            record(Some("k-1"), Some(r#"{"a":1}"#), Some(1_700_000_000_000)),
            record(None, None, Some(1_700_000_000_001)),
            record(Some(""), Some("# not a comment"), None),
            record(None, Some("@set not a directive"), None),
            record(None, Some(""), None),
        ];
        let text = render("orders", &records).unwrap();
        insta::assert_snapshot!(text, @r#"
        # Recorded by `harness record` from topic orders: 5 records.
        @topic orders
        @record-key k-1
        @record-timestamp 1700000000000
        {"a":1}
        @record-timestamp 1700000000001
        @tombstone
        @record-key 
        @raw # not a comment
        @raw @set not a directive
        @raw 
        "#);
        // Read back, the file is the same records on the same topic.
        let case = Case::parse(Path::new("orders.case"), "orders.case", &text).unwrap();
        assert_eq!(case.topic, "orders");
        let read: Vec<_> = case
            .messages
            .iter()
            .map(|m| RawRecord {
                key: m.key.as_ref().map(|k| k.as_bytes().to_vec()),
                value: m.value.as_ref().map(|v| v.as_bytes().to_vec()),
                timestamp: m.timestamp,
                headers: 0,
            })
            .collect();
        assert_eq!(read, records);
    }

    #[test]
    fn refuses_what_a_line_cannot_hold_and_counts_headers() {
        let broken = record(None, Some("{\"a\":\n1}"), None);
        let err = render("t", &[record(None, Some("{}"), None), broken]).unwrap_err();
        assert_eq!(
            err,
            "record 1: its value holds a line break, which a case line cannot"
        );
        let binary = RawRecord {
            key: Some(vec![0xff, 0xfe]),
            ..record(None, Some("{}"), None)
        };
        assert_eq!(
            render("t", &[binary]).unwrap_err(),
            "record 0: its key is not UTF-8 text"
        );
        let with_headers = RawRecord {
            headers: 2,
            ..record(None, Some("{}"), None)
        };
        let text = render("t", &[with_headers]).unwrap();
        assert!(text.contains("# 2 record headers were left out"), "{text}");
    }
}
