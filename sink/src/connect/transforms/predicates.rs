//! Kafka's predicates: `HasHeaderKey`, `RecordIsTombstone`, `TopicNameMatches`.

use super::config::{Conf, ConfigError};
use super::regex_router::JavaRegex;
use super::Record;

const PREFIX: &str = "org.apache.kafka.connect.transforms.predicates.";

#[derive(Debug)]
pub(crate) enum Predicate {
    HasHeaderKey(String),
    RecordIsTombstone,
    TopicNameMatches(JavaRegex),
}

impl Predicate {
    pub(crate) fn build(class: &str, conf: &Conf) -> Result<Predicate, ConfigError> {
        match class.strip_prefix(PREFIX) {
            Some("HasHeaderKey") => Ok(Predicate::HasHeaderKey(conf.required("name")?)),
            Some("RecordIsTombstone") => Ok(Predicate::RecordIsTombstone),
            Some("TopicNameMatches") => {
                let pattern = conf.required("pattern")?;
                if pattern.is_empty() {
                    return Err(conf.error("pattern", "String must be non-empty"));
                }
                let regex = JavaRegex::new(&pattern).map_err(|m| conf.error("pattern", m))?;
                Ok(Predicate::TopicNameMatches(regex))
            }
            _ => Err(conf.error(
                "type",
                format!(
                    "predicate class `{class}` is not implemented by this sink (it implements {})",
                    super::PREDICATE_CLASSES.join(", ")
                ),
            )),
        }
    }

    pub(crate) fn test(&self, record: &Record) -> bool {
        match self {
            Predicate::HasHeaderKey(name) => record.headers.iter().any(|h| &h.key == name),
            Predicate::RecordIsTombstone => record.value.is_null(),
            Predicate::TopicNameMatches(regex) => regex.matches(&record.topic),
        }
    }
}
