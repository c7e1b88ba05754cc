//! `TimestampRouter`: the topic becomes `topic.format` with `${topic}` and `${timestamp}`
//! (the record's timestamp in `timestamp.format`, UTC) replaced.

use super::config::{Conf, ConfigError};
use super::datefmt::DateFormat;
use super::{Failure, Outcome, Record, Transform};

#[derive(Debug)]
pub(crate) struct TimestampRouter {
    topic_format: String,
    timestamp_format: DateFormat,
}

impl TimestampRouter {
    pub(crate) fn build(conf: &Conf) -> Result<TimestampRouter, ConfigError> {
        let topic_format = conf.string_or("topic.format", "${topic}-${timestamp}");
        let pattern = conf.string_or("timestamp.format", "yyyyMMdd");
        let timestamp_format =
            DateFormat::new(&pattern).map_err(|m| conf.error("timestamp.format", m))?;
        Ok(TimestampRouter {
            topic_format,
            timestamp_format,
        })
    }
}

impl Transform for TimestampRouter {
    fn apply(&self, mut record: Record) -> Outcome<Option<Record>> {
        let Some(ts) = record.timestamp else {
            return Err(Failure::data("Timestamp missing on record"));
        };
        super::datefmt::check_gregorian(ts)?;
        let formatted = self.timestamp_format.format(ts);
        record.topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        Ok(Some(record))
    }
}
