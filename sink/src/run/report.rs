//! The JSON summary `sink --summary FILE` writes at exit: what a run did, for scripts and for
//! the harness, which judges the binary by the same snapshot as the library.

use crate::error::SinkError;
use crate::run::summary::RunSummary;
use serde_json::{json, Value};

/// `{"records", "rows", "reported", "ddl", "coercions", "coercions_total", "committed", "error",
/// "error_at", "peak_rss_kib"}`: `coercions` holds the first few coercions' notes and
/// `coercions_total` counts them all; the last is the process's peak resident memory (Linux; null elsewhere).
pub fn summary_json(summary: &RunSummary, error: Option<&SinkError>) -> Value {
    let committed: Vec<Value> = summary
        .committed
        .iter()
        .map(|((topic, partition), offset)| json!({"topic": topic, "partition": partition, "offset": offset}))
        .collect();
    let error_at = match error {
        Some(SinkError::Record(e)) => {
            json!({"topic": e.at.topic, "partition": e.at.partition, "offset": e.at.offset})
        }
        _ => Value::Null,
    };
    json!({
        "records": summary.records,
        "rows": summary.rows,
        "reported": summary.reported,
        "ddl": summary.ddl,
        "coercions": summary.coercions,
        "coercions_total": summary.coercions_total,
        "committed": committed,
        "error": error.map(ToString::to_string),
        "error_at": error_at,
        "peak_rss_kib": peak_rss_kib(),
    })
}

/// The summary of a run that never started: the configuration was refused (exit 2). Its error
/// reads as the harness words an in-process refusal, so both render the same outcome.
pub fn refused_json(error: &dyn std::fmt::Display) -> Value {
    json!({
        "records": 0,
        "rows": 0,
        "reported": 0,
        "ddl": [],
        "coercions": [],
        "coercions_total": 0,
        "committed": [],
        "error": format!("the sink refused its configuration: {error}"),
        "error_at": Value::Null,
        "peak_rss_kib": peak_rss_kib(),
    })
}

/// `VmHWM` of this process: the peak resident memory since it started, in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The parts of a summary file the harness reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryFile {
    pub ddl: Vec<String>,
    pub coercions: Vec<String>,
    pub error: Option<String>,
    /// The offset of the record the error names, if it names one.
    pub error_offset: Option<i64>,
}

impl SummaryFile {
    pub fn parse(text: &str) -> Option<SummaryFile> {
        let v: Value = serde_json::from_str(text).ok()?;
        let strings = |key: &str| -> Option<Vec<String>> {
            v.get(key)?
                .as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect()
        };
        Some(SummaryFile {
            ddl: strings("ddl")?,
            coercions: strings("coercions")?,
            error: v.get("error").and_then(Value::as_str).map(str::to_string),
            error_offset: v
                .get("error_at")
                .and_then(|a| a.get("offset"))
                .and_then(Value::as_i64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Problem, RecordAt, RecordError};

    #[test]
    fn a_summary_reads_back() {
        let mut summary = RunSummary {
            rows: 1,
            ..RunSummary::default()
        };
        summary
            .ddl
            .push("CREATE TABLE \"t\" (\n\"a\" INT NULL)".into());
        summary.coercions.push("c".into());
        summary.committed.insert(("t".into(), 0), 1);
        let error = SinkError::Record(RecordError {
            at: RecordAt {
                topic: "t".into(),
                partition: 0,
                offset: 1,
            },
            problem: Problem::Tombstone,
        });
        let file = SummaryFile::parse(&summary_json(&summary, Some(&error)).to_string()).unwrap();
        assert_eq!(file.ddl, summary.ddl);
        assert_eq!(file.coercions, ["c"]);
        assert_eq!(file.error.as_deref(), Some(error.to_string().as_str()));
        assert_eq!(file.error_offset, Some(1));
        let ok = SummaryFile::parse(&summary_json(&summary, None).to_string()).unwrap();
        assert_eq!((ok.error, ok.error_offset), (None, None));
    }
}
