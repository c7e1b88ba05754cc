//! A configuration problem, naming the key.

/// A config problem, naming the key and what would fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("config key `{key}`: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

pub(crate) fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        message: message.into(),
    }
}
