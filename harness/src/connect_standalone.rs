//! What a Connect standalone worker's command line needs besides its worker properties.
//!
//! Kafka 2.x's `ConnectStandalone` refuses to start without at least one connector properties
//! file (3.x starts with none); the harness adds its connectors through the REST API. On 2.x the
//! worker gets a placeholder: Connect's own `MockSinkConnector` (in connect-runtime) on a topic
//! nothing writes to, deleted as soon as the REST API answers.

use std::path::{Path, PathBuf};

use crate::error::ServiceError;
use crate::services::write_file;

/// The placeholder connector's name (and its topic's).
pub const PLACEHOLDER: &str = "kq-standalone-placeholder";

/// Whether a worker of this Kafka version needs a connector file to start: 2.x and older.
pub fn needs_connector_file(kafka_version: &str) -> bool {
    kafka_version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|major| major < 3)
}

/// The connector files to pass after the worker properties: the placeholder's, written into
/// `dir`, when the version needs one; else none.
pub fn connector_files(kafka_version: &str, dir: &Path) -> Result<Vec<PathBuf>, ServiceError> {
    if !needs_connector_file(kafka_version) {
        return Ok(Vec::new());
    }
    let path = dir.join("placeholder-connector.properties");
    write_file(
        &path,
        &format!(
            "name={PLACEHOLDER}\n\
             connector.class=org.apache.kafka.connect.tools.MockSinkConnector\n\
             tasks.max=1\n\
             topics={PLACEHOLDER}\n"
        ),
    )?;
    Ok(vec![path])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_kafka_2_and_older_need_a_connector_file() {
        assert!(needs_connector_file("2.6.0"));
        assert!(needs_connector_file("1.1.1"));
        assert!(!needs_connector_file("3.9.2"));
        assert!(!needs_connector_file("4.1.1"));
        assert!(!needs_connector_file("not-a-version"));
    }

    #[test]
    fn the_placeholder_is_written_for_2x_only() {
        let dir = tempfile::tempdir().unwrap();
        assert!(connector_files("3.9.2", dir.path()).unwrap().is_empty());
        let files = connector_files("2.6.0", dir.path()).unwrap();
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("MockSinkConnector"), "{text}");
        assert!(text.contains(&format!("name={PLACEHOLDER}")), "{text}");
    }
}
