//! Reading one transform's or predicate's keys as Connect's `ConfigDef` parses them (values
//! trimmed, booleans case-insensitive, lists split on commas), keeping track of the keys read so
//! that a key no implementation reads is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

/// A configuration the chain refuses, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct ConfigError {
    /// The full property name (`transforms.unwrap.add.fields`).
    pub key: String,
    pub message: String,
}

/// The keys of one transform (`transforms.<name>.` stripped).
#[derive(Debug)]
pub(crate) struct Conf {
    prefix: String,
    class: String,
    keys: BTreeMap<String, String>,
    read: Mutex<BTreeSet<String>>,
}

impl Conf {
    pub(crate) fn new(prefix: String, class: String, keys: BTreeMap<String, String>) -> Conf {
        Conf {
            prefix,
            class,
            keys,
            read: Mutex::new(BTreeSet::new()),
        }
    }

    pub(crate) fn class(&self) -> &str {
        &self.class
    }

    /// An error about `key`, named in full.
    pub(crate) fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: format!("{}{key}", self.prefix),
            message: message.into(),
        }
    }

    fn raw(&self, key: &str) -> Option<&str> {
        self.read
            .lock()
            .expect("not poisoned")
            .insert(key.to_owned());
        self.keys.get(key).map(String::as_str)
    }

    /// A STRING key: trimmed, as ConfigDef parses it; `None` if absent.
    pub(crate) fn string(&self, key: &str) -> Option<String> {
        self.raw(key).map(|v| v.trim().to_owned())
    }

    /// A STRING key without a default.
    pub(crate) fn required(&self, key: &str) -> Result<String, ConfigError> {
        self.string(key).ok_or_else(|| {
            self.error(
                key,
                format!("missing required configuration \"{key}\" which has no default value"),
            )
        })
    }

    pub(crate) fn string_or(&self, key: &str, default: &str) -> String {
        self.string(key).unwrap_or_else(|| default.to_owned())
    }

    pub(crate) fn bool_or(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.string(key) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.error(key, format!("expected a boolean, found {v:?}"))),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i32>, ConfigError> {
        match self.string(key) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| self.error(key, format!("expected a 32-bit integer, found {v:?}"))),
        }
    }

    /// A LIST key: comma-separated, each item trimmed; the empty string is the empty list.
    pub(crate) fn list(&self, key: &str) -> Option<Vec<String>> {
        self.raw(key).map(|v| split_list(v.trim()))
    }

    pub(crate) fn required_list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        self.list(key).ok_or_else(|| {
            self.error(
                key,
                format!("missing required configuration \"{key}\" which has no default value"),
            )
        })
    }

    /// A required non-empty LIST (`NonEmptyListValidator`).
    pub(crate) fn non_empty_list(&self, key: &str) -> Result<Vec<String>, ConfigError> {
        let list = self.required_list(key)?;
        if list.is_empty() {
            return Err(self.error(key, "empty list is not allowed"));
        }
        Ok(list)
    }

    /// Keys given but never read: the implementation does not know them.
    pub(crate) fn unread(&self) -> Vec<String> {
        let read = self.read.lock().expect("not poisoned");
        self.keys
            .keys()
            .filter(|k| !read.contains(*k))
            .map(|k| format!("{}{k}", self.prefix))
            .collect()
    }
}

/// Connect's LIST parsing: split on commas (with surrounding whitespace), empty text is empty.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',').map(|s| s.trim().to_owned()).collect()
}
