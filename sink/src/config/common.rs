//! What every sink connector's configuration has: Connect's own keys (name, topics, converters,
//! `errors.*`), the `consumer.override.`/`producer.override.` client settings, and the sink's
//! operations keys; and the helpers both mappings read their keys with.

use crate::config::{err, ClientSettings, ConfigError, ErrorPolicy, Operations, Tolerance, Topics};
use crate::source::security;
use std::collections::BTreeMap;
use std::time::Duration;

/// Keys of every sink connector this sink reads: Connect's own (name, topics, converters,
/// `errors.*`) and the sink's operations keys.
const COMMON_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "topics",
    "topics.regex",
    "errors.tolerance",
    "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.context.headers.enable",
    "errors.deadletterqueue.topic.replication.factor",
    "errors.log.enable",
    "errors.log.include.messages",
    "key.converter",
    "key.converter.schemas.enable",
    "value.converter",
    "value.converter.schemas.enable",
    "metrics.listen",
    "startup.timeout.ms",
    "startup.backoff.max.ms",
    "shutdown.timeout.ms",
];

/// A notice for every key that is neither in [`COMMON_KEYS`], nor in `own`, nor a
/// `consumer.override.`/`producer.override.` setting, nor the transform chain's (which reads
/// and checks its own): ignored, as Connect reports unused keys.
pub(crate) fn unknown_keys(
    props: &BTreeMap<String, String>,
    own: &[&str],
    notices: &mut Vec<String>,
) {
    for key in props.keys() {
        if !COMMON_KEYS.contains(&key.as_str())
            && !own.contains(&key.as_str())
            && !key.starts_with("consumer.override.")
            && !key.starts_with("producer.override.")
            && !crate::connect::transforms::is_chain_key(key)
        {
            notices.push(format!("{key}: not a key this sink knows; ignored"));
        }
    }
}

pub(crate) const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub(crate) const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

/// The `prefix`ed keys (prefix removed), Java's security keys translated for librdkafka.
pub(crate) fn client_settings(
    props: &BTreeMap<String, String>,
    prefix: &str,
    notices: &mut Vec<String>,
) -> Result<ClientSettings, ConfigError> {
    let settings: Vec<(String, String)> = props
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect();
    let (settings, dropped) = security::translate(prefix, &settings)?;
    notices.extend(dropped);
    Ok(ClientSettings(settings))
}

/// `topics` or `topics.regex`, as Connect reads them for any sink connector.
pub(crate) fn topics(p: &Props) -> Result<Topics, ConfigError> {
    let topics = match (p.get("topics"), p.get("topics.regex")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "topics",
                "set either `topics` or `topics.regex`, not both",
            ))
        }
        (Some(list), None) => Topics::List(split_list(list)),
        (None, Some(regex)) => Topics::Regex(regex.to_string()),
        (None, None) => {
            return Err(err(
                "topics",
                "missing: name the topics to consume (`topics=a,b`) or `topics.regex`",
            ))
        }
    };
    if matches!(&topics, Topics::List(t) if t.is_empty()) {
        return Err(err("topics", "is empty"));
    }
    Ok(topics)
}

/// Connect's `errors.*` keys, the same for every sink connector.
pub(crate) fn error_policy(
    p: &Props,
    notices: &mut Vec<String>,
) -> Result<ErrorPolicy, ConfigError> {
    let errors = ErrorPolicy {
        tolerance: match p.get("errors.tolerance").unwrap_or("none") {
            "none" => Tolerance::None,
            "all" => Tolerance::All,
            other => {
                return Err(err(
                    "errors.tolerance",
                    format!("`{other}`: expected `none` or `all`"),
                ))
            }
        },
        dlq_topic: p
            .get("errors.deadletterqueue.topic.name")
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        dlq_replication_factor: match p.get("errors.deadletterqueue.topic.replication.factor") {
            None => 3,
            Some(v) => p.parse("errors.deadletterqueue.topic.replication.factor", v)?,
        },
        dlq_context_headers: p.bool("errors.deadletterqueue.context.headers.enable", false)?,
        log: p.bool("errors.log.enable", false)?,
    };
    if errors.dlq_topic.is_some() && errors.tolerance == Tolerance::None {
        notices.push("errors.deadletterqueue.topic.name is set but errors.tolerance=none: the first bad record stops the sink, as in Connect".into());
    }
    Ok(errors)
}

pub(crate) fn operations(p: &Props) -> Result<Operations, ConfigError> {
    let defaults = Operations::default();
    let millis = |key: &str, default: Duration| -> Result<Duration, ConfigError> {
        match p.get(key) {
            None => Ok(default),
            Some(v) => Ok(Duration::from_millis(p.parse(key, v)?)),
        }
    };
    let metrics_listen = match p.get("metrics.listen").filter(|v| !v.is_empty()) {
        None => None,
        Some(addr) => Some(addr.parse().map_err(|_| {
            err(
                "metrics.listen",
                format!("`{addr}` is not an address and port, e.g. 127.0.0.1:9464 (0.0.0.0:9464 for every interface)"),
            )
        })?),
    };
    let startup_backoff_max = millis("startup.backoff.max.ms", defaults.startup_backoff_max)?;
    if startup_backoff_max.is_zero() {
        return Err(err("startup.backoff.max.ms", "must be at least 1"));
    }
    Ok(Operations {
        metrics_listen,
        startup_timeout: millis("startup.timeout.ms", defaults.startup_timeout)?,
        startup_backoff_max,
        shutdown_timeout: millis("shutdown.timeout.ms", defaults.shutdown_timeout)?,
    })
}

pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) struct Props<'a>(pub(crate) &'a BTreeMap<String, String>);

impl Props<'_> {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.trim())
    }
    pub(crate) fn required(&self, key: &str) -> Result<&str, ConfigError> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| err(key, "missing"))
    }
    pub(crate) fn bool(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(err(key, format!("`{other}`: expected true or false"))),
        }
    }
    pub(crate) fn parse<T: std::str::FromStr>(
        &self,
        key: &str,
        value: &str,
    ) -> Result<T, ConfigError> {
        value
            .parse()
            .map_err(|_| err(key, format!("`{value}` is not a valid number")))
    }
}
