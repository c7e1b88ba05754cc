//! Kafka's and Debezium's transforms as an oracle for `sink::connect::transforms`.
//!
//! `reference/transforms/` is a small Java program around the real classes (connect-transforms
//! of the pinned Kafka, debezium-core of the pinned Debezium). [`TransformsOracle::start`]
//! builds it with Maven on first use (cached, keyed by its sources and both versions) and starts
//! it; [`TransformsOracle::run`] sends one configuration and one record and reads the line the
//! real chain's result renders to. [`ours`] renders the sink's chain the same way and [`judge`]
//! compares the two: identical, a deviation named in docs/transforms.md, or a bug.

use std::collections::BTreeMap;
use std::fs;

use serde_json::{json, Value as Json};
use sink::connect::canonical;
use sink::connect::transforms::{Chain, Header, Record};
use sink::connect::{encode_envelope, Schema};

use crate::error::ServiceError;
use crate::versions::Versions;

use super::OracleError;

/// The running JVM.
pub struct TransformsOracle {
    jvm: super::jvm::Jvm,
}

impl TransformsOracle {
    pub fn start() -> Result<TransformsOracle, OracleError> {
        let program = super::jvm::Program {
            name: "transforms",
            label: "the transforms oracle",
            main_class: "kq.TransformsOracle",
            properties: vec![
                ("kafka.version", Versions::default_pinned()?.kafka),
                ("debezium.version", pinned_debezium()?),
            ],
        };
        Ok(TransformsOracle {
            jvm: program.start(&[])?,
        })
    }

    /// Upstream's line for this configuration and record.
    pub fn run(
        &mut self,
        config: &BTreeMap<String, String>,
        record: &Record,
    ) -> Result<String, OracleError> {
        let request = json!({ "config": config, "record": record_json(record) });
        self.jvm.ask(&request.to_string())
    }
}

fn envelope(schema: Option<&Schema>, value: &sink::connect::Value) -> Json {
    match schema {
        Some(s) => encode_envelope(s, value),
        None => Json::Null,
    }
}

fn record_json(r: &Record) -> Json {
    json!({
        "topic": r.topic,
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "key": envelope(r.key_schema.as_ref(), &r.key),
        "value": envelope(r.value_schema.as_ref(), &r.value),
        "headers": r.headers.iter().map(|h| json!({"key": h.key, "value": envelope(h.schema.as_ref(), &h.value)})).collect::<Vec<_>>(),
    })
}

fn side(schema: Option<&Schema>, value: &sink::connect::Value) -> String {
    match schema {
        Some(s) => format!("{} = {}", canonical::schema(s), canonical::value(s, value)),
        None if value.is_null() => "- = null".into(),
        None => format!("- = {value:?}"),
    }
}

/// The sink's chain on the same request, rendered as the oracle renders upstream's.
pub fn ours(config: &BTreeMap<String, String>, record: &Record) -> String {
    let chain = match Chain::from_properties(config) {
        Ok(c) => c,
        Err(e) => return format!("CONFIG {e}"),
    };
    match chain.apply(record.clone()) {
        Ok(None) => "DROPPED".into(),
        Ok(Some(r)) => {
            let headers: Vec<String> = r
                .headers
                .iter()
                .map(|h: &Header| {
                    format!(
                        "{}:{}",
                        canonical::string(&h.key),
                        side(h.schema.as_ref(), &h.value)
                    )
                })
                .collect();
            format!(
                "topic={} | key={} | value={} | headers=[{}]",
                canonical::string(&r.topic),
                side(r.key_schema.as_ref(), &r.key),
                side(r.value_schema.as_ref(), &r.value),
                headers.join(",")
            )
        }
        Err(e) => match e.unsupported {
            Some(name) => format!("UNSUPPORTED {name}: {e}"),
            None => format!("ERROR {e}"),
        },
    }
}

/// How the sink's chain compares with upstream on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Identical,
    Deviation(String),
    Bug,
}

/// Compares our line with upstream's.
pub fn judge(ours: &str, upstream: &str) -> Verdict {
    let kind = |s: &str| s.split(' ').next().unwrap_or("").to_owned();
    match (kind(ours).as_str(), kind(upstream).as_str()) {
        _ if ours == upstream => Verdict::Identical,
        ("ERROR", "ERROR") | ("CONFIG", "CONFIG") => Verdict::Identical,
        // A deviation the port names itself (docs/transforms.md).
        ("UNSUPPORTED", _) => Verdict::Deviation(
            ours.trim_start_matches("UNSUPPORTED ")
                .split(':')
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        _ => Verdict::Bug,
    }
}

/// The pinned Debezium version (`debezium.version` of ci/services/pom.xml).
pub fn pinned_debezium() -> Result<String, ServiceError> {
    let pom = crate::versions::pom_path();
    let text = fs::read_to_string(&pom).map_err(|e| ServiceError::io("reading", &pom, e))?;
    let start = text
        .find("<debezium.version>")
        .map(|i| i + "<debezium.version>".len());
    let end = text.find("</debezium.version>");
    match (start, end) {
        (Some(s), Some(e)) if s < e => Ok(text[s..e].trim().to_owned()),
        _ => Err(ServiceError::io(
            "finding debezium.version in",
            &pom,
            std::io::Error::other("no debezium.version property"),
        )),
    }
}
