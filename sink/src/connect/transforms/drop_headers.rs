//! `DropHeaders`: removes every header whose key is listed in `headers`.

use super::config::{Conf, ConfigError};
use super::{Outcome, Record, Transform};

#[derive(Debug)]
pub(crate) struct DropHeaders {
    headers: Vec<String>,
}

impl DropHeaders {
    pub(crate) fn build(conf: &Conf) -> Result<DropHeaders, ConfigError> {
        Ok(DropHeaders {
            headers: conf.non_empty_list("headers")?,
        })
    }
}

impl Transform for DropHeaders {
    fn apply(&self, mut record: Record) -> Outcome<Option<Record>> {
        record.headers.retain(|h| !self.headers.contains(&h.key));
        Ok(Some(record))
    }
}
