//! Which versions of QuestDB and Kafka a run uses: a parameter of the run, not a constant.
//!
//! `ci/services/pom.xml` is still the one place where versions are pinned: its properties
//! `questdb.version` and `kafka.version` are the default combination (what `cargo test` and
//! `harness conformance` run), and `kq.matrix.questdb` / `kq.matrix.kafka` list the versions
//! `harness matrix` crosses. `KQ_QUESTDB_VERSION` and `KQ_KAFKA_VERSION` (or the `--questdb` and
//! `--kafka` flags) pick another combination for one run. Kafka 4.x has no ZooKeeper mode, so it
//! runs in KRaft mode (one combined broker/controller); Kafka 3.x and 2.x run with ZooKeeper, as
//! the seed's stack (Kafka 2.6.0) does.

use std::fmt;
use std::path::PathBuf;

use crate::error::ServiceError;

/// One combination of service versions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Versions {
    pub questdb: String,
    pub kafka: String,
}

/// How the Kafka broker is coordinated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaMode {
    /// Kafka 3.x and 2.x with a ZooKeeper ensemble (the seed's stack is 2.6.0).
    ZooKeeper,
    /// Kafka 4.x: a combined broker/controller node on formatted storage, no ZooKeeper.
    Kraft,
}

impl Versions {
    /// The pom's default combination.
    pub fn default_pinned() -> Result<Versions, ServiceError> {
        let pom = Pom::read()?;
        Ok(Versions {
            questdb: pom.property("questdb.version")?,
            kafka: pom.property("kafka.version")?,
        })
    }

    /// `KQ_QUESTDB_VERSION` / `KQ_KAFKA_VERSION` over the pom's defaults.
    pub fn from_env() -> Result<Versions, ServiceError> {
        let default = Self::default_pinned()?;
        let pick = |name: &str, default: String| {
            std::env::var(name)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
        };
        let versions = Versions {
            questdb: pick("KQ_QUESTDB_VERSION", default.questdb),
            kafka: pick("KQ_KAFKA_VERSION", default.kafka),
        };
        versions.check()?;
        Ok(versions)
    }

    /// Every combination `harness matrix` runs: the pom's QuestDB versions crossed with its
    /// Kafka versions, the default first.
    pub fn matrix() -> Result<Vec<Versions>, ServiceError> {
        let pom = Pom::read()?;
        let default = Self::default_pinned()?;
        let list = |key: &str| -> Result<Vec<String>, ServiceError> {
            Ok(pom
                .property(key)?
                .split_whitespace()
                .map(str::to_owned)
                .collect())
        };
        let mut all = vec![default.clone()];
        for kafka in list("kq.matrix.kafka")? {
            for questdb in list("kq.matrix.questdb")? {
                let v = Versions {
                    questdb,
                    kafka: kafka.clone(),
                };
                if !all.contains(&v) {
                    all.push(v);
                }
            }
        }
        Ok(all)
    }

    fn check(&self) -> Result<(), ServiceError> {
        for (what, v) in [("QuestDB", &self.questdb), ("Kafka", &self.kafka)] {
            let ok = !v.is_empty()
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if !ok || major(v).is_none() {
                return Err(ServiceError::Config(format!(
                    "{what} version {v:?} is not a version number like 9.3.4"
                )));
            }
        }
        Ok(())
    }

    pub fn kafka_mode(&self) -> KafkaMode {
        match major(&self.kafka) {
            Some(m) if m >= 4 => KafkaMode::Kraft,
            _ => KafkaMode::ZooKeeper,
        }
    }

    /// Whether this is the pom's default combination.
    pub fn is_default(&self) -> bool {
        Self::default_pinned().is_ok_and(|d| &d == self)
    }

    /// The Maven `-D` properties that select these versions in the pom.
    pub fn maven_properties(&self) -> Vec<String> {
        let logging = match self.kafka_mode() {
            // Kafka 4 logs through log4j 2; 3.x through reload4j (the pom's profiles).
            KafkaMode::Kraft => "log4j2",
            KafkaMode::ZooKeeper => "reload4j",
        };
        vec![
            format!("-Dquestdb.version={}", self.questdb),
            format!("-Dkafka.version={}", self.kafka),
            format!("-Dkafka.logging={logging}"),
        ]
    }

    /// A name for file names and report columns: `questdb-9.3.4_kafka-3.9.1`.
    pub fn label(&self) -> String {
        format!("questdb-{}_kafka-{}", self.questdb, self.kafka)
    }

    /// What differs from `default`, for snapshot variant names: `questdb-8.2.0`,
    /// `kafka-4.1.1`, or both joined by `_`; empty when nothing differs.
    pub fn variant_of(&self, default: &Versions) -> String {
        let mut parts = Vec::new();
        if self.questdb != default.questdb {
            parts.push(format!("questdb-{}", self.questdb));
        }
        if self.kafka != default.kafka {
            parts.push(format!("kafka-{}", self.kafka));
        }
        parts.join("_")
    }
}

impl fmt::Display for Versions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.kafka_mode() {
            KafkaMode::ZooKeeper => "ZooKeeper",
            KafkaMode::Kraft => "KRaft",
        };
        write!(f, "QuestDB {}, Kafka {} ({mode})", self.questdb, self.kafka)
    }
}

fn major(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

/// The services pom, read for its `<properties>`.
struct Pom {
    path: PathBuf,
    text: String,
}

impl Pom {
    fn read() -> Result<Pom, ServiceError> {
        let path = pom_path();
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ServiceError::io("reading the services pom", &path, e))?;
        Ok(Pom { path, text })
    }

    /// The text of `<key>...</key>` in the pom (its properties are plain elements).
    fn property(&self, key: &str) -> Result<String, ServiceError> {
        property(&self.text, key).ok_or_else(|| {
            ServiceError::Config(format!(
                "{} has no <{key}> property; it pins the service versions",
                self.path.display()
            ))
        })
    }
}

fn property(text: &str, key: &str) -> Option<String> {
    let open = format!("<{key}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{key}>"))?;
    Some(text[start..end].trim().to_owned())
}

/// The pom listing the services: `$KQ_SERVICES_POM`, else `ci/services/pom.xml` in this workspace.
pub fn pom_path() -> PathBuf {
    match std::env::var_os("KQ_SERVICES_POM") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ci/services/pom.xml"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(questdb: &str, kafka: &str) -> Versions {
        Versions {
            questdb: questdb.into(),
            kafka: kafka.into(),
        }
    }

    #[test]
    fn kafka_4_runs_in_kraft_mode() {
        assert_eq!(v("9.3.4", "3.9.1").kafka_mode(), KafkaMode::ZooKeeper);
        assert_eq!(v("9.3.4", "4.1.1").kafka_mode(), KafkaMode::Kraft);
    }

    #[test]
    fn variant_names_say_what_differs() {
        let default = v("9.3.4", "3.9.1");
        assert_eq!(v("9.3.4", "3.9.1").variant_of(&default), "");
        assert_eq!(v("8.2.0", "3.9.1").variant_of(&default), "questdb-8.2.0");
        assert_eq!(
            v("8.2.0", "4.1.1").variant_of(&default),
            "questdb-8.2.0_kafka-4.1.1"
        );
    }

    #[test]
    fn reads_the_pinned_versions_from_the_pom() {
        let default = Versions::default_pinned().expect("pom");
        assert_eq!(default.kafka_mode(), KafkaMode::ZooKeeper);
        let matrix = Versions::matrix().expect("pom");
        assert_eq!(matrix[0], default);
        assert!(
            matrix.len() >= 6,
            "3 QuestDB x 2 Kafka at least: {matrix:?}"
        );
        assert!(matrix.iter().any(|m| m.kafka_mode() == KafkaMode::Kraft));
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        assert!(v("9.3.4; rm -rf /", "3.9.1").check().is_err());
        assert!(v("latest", "3.9.1").check().is_err());
        assert!(v("9.0.3", "4.1.1").check().is_ok());
    }

    #[test]
    fn properties_are_read_from_plain_elements() {
        let pom = "<properties>\n  <kafka.version> 3.9.1 </kafka.version>\n</properties>";
        assert_eq!(property(pom, "kafka.version").as_deref(), Some("3.9.1"));
        assert_eq!(property(pom, "questdb.version"), None);
    }
}
