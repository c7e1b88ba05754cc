//! A sink connector's configuration, read from the same `.properties` file Connect reads
//! (section 4 of the reference): the JDBC sink's keys ([`jdbc`]) or QuestDB's connector's
//! ([`questdb_connector`]), chosen by `connector.class`, and the keys every connector has
//! ([`common`]). Keys that ask for behaviour this sink does not have
//! are refused with an error naming the key; keys that are accepted but change nothing here
//! are listed in [`SinkConfig::notices`] so the binary can say so at start-up.

mod common;
pub(crate) mod error;
mod ilp_conf;
mod jdbc;
pub mod properties;
mod questdb_connector;

pub(crate) use error::err;
pub use error::ConfigError;
pub use ilp_conf::IlpConf;
pub use jdbc::parse_jdbc_url;

use crate::connect::json::Overflow;
use crate::mapping::jdbc::native::NativeTable;
use crate::mapping::jdbc::PkMode;
use crate::source::security;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Topics {
    List(Vec<String>),
    Regex(String),
}

/// Where QuestDB's PostgreSQL wire endpoint is, from `connection.url` and friends.
#[derive(Clone, PartialEq)]
pub struct Connection {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Connection {
    // The password stays out of logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Kafka client settings (librdkafka's keys); `Debug` shows secrets as `***`.
#[derive(Clone, PartialEq, Default)]
pub struct ClientSettings(pub Vec<(String, String)>);

impl ClientSettings {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if security::is_secret(k) { "***" } else { v };
                (k, shown)
            }))
            .finish()
    }
}

/// How record keys are read, with `pk.mode=record_key` (`key.converter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyConverter {
    /// `org.apache.kafka.connect.json.JsonConverter` with schemas (the default, like values):
    /// each key is a `{"schema":...,"payload":...}` envelope.
    Json,
    /// `org.apache.kafka.connect.storage.StringConverter`: the key's bytes as an optional
    /// string (UTF-8).
    String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerance {
    /// The first bad record stops the sink (Connect's default).
    None,
    /// Bad records are reported (dead letter queue and/or log) and skipped.
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ErrorPolicy {
    pub tolerance: Tolerance,
    pub dlq_topic: Option<String>,
    /// `errors.deadletterqueue.topic.replication.factor`: the dead letter topic's, when the
    /// sink creates it at start (Connect's default 3, which a one-broker cluster refuses).
    pub dlq_replication_factor: i16,
    pub dlq_context_headers: bool,
    pub log: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    pub name: String,
    pub topics: Topics,
    pub connection: Connection,
    /// Whether the sink talks PG wire at all: always with the JDBC sink's properties; in
    /// QuestDB-connector mode only when `connection.url` is set (the connector speaks ILP only,
    /// so its start-up wait and readiness go to ILP's HTTP port).
    pub pg_wire: bool,
    pub pk_mode: PkMode,
    /// `pk.fields`: with `pk.mode=record_key`, the key's fields (or the one column of a primitive
    /// key) that identify a row.
    pub pk_fields: Vec<String>,
    /// How keys are read; used with `pk.mode=record_key` only (keys are not read otherwise).
    pub key_converter: KeyConverter,
    pub auto_create: bool,
    pub auto_evolve: bool,
    pub table_name_format: String,
    pub batch_size: usize,
    pub max_retries: u32,
    pub retry_backoff: Duration,
    pub fields_whitelist: Vec<String>,
    pub errors: ErrorPolicy,
    /// `consumer.override.*` keys, prefix removed: consumer settings, as Connect applies them
    /// with `connector.client.config.override.policy=All`; Java's security keys translated to
    /// librdkafka's ([`crate::source::security`]).
    pub consumer_overrides: ClientSettings,
    /// `producer.override.*` keys, the same way: the dead letter queue producer's settings.
    pub producer_overrides: ClientSettings,
    /// ILP over HTTP instead of PG wire inserts (`client.conf.string`, QuestDB connector's key).
    pub ilp: Option<IlpConf>,
    /// A QuestDB-native table (designated timestamp, partitions, WAL, DEDUP), opt-in.
    pub native: Option<NativeTable>,
    /// What to do with integer values that JsonConverter would wrap (`sink.integer.overflow`).
    pub overflow: Overflow,
    /// How the process is operated: metrics and health, the start-up wait, the stop time.
    pub operations: Operations,
    /// Accepted keys that do nothing here, or values that only name the reference implementation.
    pub notices: Vec<String>,
    /// How records become rows: the JDBC sink's way, or QuestDB's connector's (chosen by
    /// `connector.class`).
    pub mapping: Mapping,
    /// Connect's transform chain (`transforms=`), run on each record before it is mapped;
    /// `None` without one.
    pub transforms: Option<crate::mapping::transform::Transforms>,
}

/// How records become rows, chosen once from `connector.class`.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    /// Confluent's JDBC sink: the schema gives the columns, tables are created over PG wire.
    Jdbc,
    /// QuestDB's own connector (`io.questdb.kafka.QuestDBSinkConnector`): fields flattened,
    /// schemaless JSON inferred, tables created by ILP (see `docs/questdb-connector.md`).
    QuestDbConnector(std::sync::Arc<crate::mapping::questdb_connector::ConnectorConfig>),
}

/// The sink's own keys for running it as a service (none of them is a Connect key).
#[derive(Debug, Clone, PartialEq)]
pub struct Operations {
    /// `metrics.listen=HOST:PORT`: serve `/metrics` (Prometheus text format) and
    /// `/health/live`, `/health/ready` there. Off unless set.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// `startup.timeout.ms`: how long the sink waits at start-up for Kafka and QuestDB to
    /// answer before it gives up (0: give up on the first failure).
    pub startup_timeout: Duration,
    /// `startup.backoff.max.ms`: the longest pause between two start-up attempts (the pause
    /// doubles from 250 ms up to this).
    pub startup_backoff_max: Duration,
    /// `shutdown.timeout.ms`: after SIGTERM/SIGINT, how long the batch in progress may take
    /// to be stored and committed before it is abandoned (not committed, so replayed).
    pub shutdown_timeout: Duration,
}

impl Default for Operations {
    fn default() -> Operations {
        Operations {
            metrics_listen: None,
            startup_timeout: Duration::from_secs(300),
            startup_backoff_max: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

impl SinkConfig {
    /// Reads a connector `.properties` file.
    pub fn load(path: &Path) -> Result<SinkConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("(file)", format!("cannot read {}: {e}", path.display())))?;
        Self::from_properties(&properties::parse(&text))
    }

    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<SinkConfig, ConfigError> {
        if props.get("connector.class").map(String::as_str)
            == Some(crate::mapping::questdb_connector::CONNECTOR_CLASS)
        {
            return questdb_connector::sink_config(props);
        }
        jdbc::sink_config(props)
    }

    /// The table a topic's records go to (`table.name.format`, `${topic}` replaced).
    pub fn table_name(&self, topic: &str) -> String {
        self.table_name_format.replace("${topic}", topic)
    }

    /// The column the ILP writer sends as each row's timestamp, if rows are written over ILP.
    pub fn designated_column(&self) -> Option<&str> {
        match &self.mapping {
            Mapping::QuestDbConnector(_) => {
                Some(crate::mapping::questdb_connector::flatten::DESIGNATED)
            }
            Mapping::Jdbc => self.native.as_ref().map(|n| n.timestamp_column()),
        }
    }

    /// The consumer group, named as Connect names a sink connector's group.
    pub fn group_id(&self) -> String {
        format!("connect-{}", self.name)
    }
}

#[cfg(test)]
mod secrets_props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::jdbc::native::{Dedup, DesignatedTimestamp, PartitionBy};
    use rstest::rstest;

    /// The seed document's `connect-jdbc.properties`, verbatim.
    const SEED: &str = include_str!("../../../fixtures/seed/connect-jdbc.properties");

    fn config(extra: &str) -> Result<SinkConfig, ConfigError> {
        SinkConfig::from_properties(&properties::parse(&format!("{SEED}\n{extra}")))
    }

    #[test]
    fn reads_the_seed_file_unchanged() {
        let c = config("").unwrap();
        assert_eq!(c.name, "local-jdbc-sink");
        assert_eq!(c.group_id(), "connect-local-jdbc-sink");
        assert_eq!(c.topics, Topics::List(vec!["example-events".into()]));
        assert_eq!(
            (c.connection.host.as_str(), c.connection.port),
            ("127.0.0.1", 8812)
        );
        assert_eq!(
            (
                c.connection.database.as_str(),
                c.connection.user.as_str(),
                c.connection.password.as_str()
            ),
            ("qdb", "admin", "quest")
        );
        assert_eq!(c.pk_mode, PkMode::None);
        assert!(c.auto_create);
        assert!(!c.auto_evolve);
        assert_eq!(c.table_name("example-topic"), "example-topic");
        assert_eq!(c.batch_size, 3000);
        assert_eq!(c.errors.tolerance, Tolerance::None);
        assert!(c.notices.is_empty(), "{:?}", c.notices);
    }

    #[rstest]
    #[case::upsert("insert.mode=upsert", "insert.mode")]
    #[case::record_key("pk.mode=record_key", "pk.mode")]
    #[case::mysql_dialect("dialect.name=MySqlDatabaseDialect", "dialect.name")]
    #[case::other_connector("connector.class=FileStreamSink", "connector.class")]
    #[case::schemaless(
        "value.converter.schemas.enable=false",
        "value.converter.schemas.enable"
    )]
    #[case::bad_bool("auto.create=yes", "auto.create")]
    #[case::bad_url("connection.url=jdbc:mysql://h/db", "connection.url")]
    #[case::bad_port("connection.url=jdbc:postgresql://h:x/db", "connection.url")]
    #[case::zero_batch("batch.size=0", "batch.size")]
    #[case::timezone("db.timezone=Europe/Paris", "db.timezone")]
    #[case::overflow("sink.integer.overflow=saturate", "sink.integer.overflow")]
    #[case::tolerance("errors.tolerance=some", "errors.tolerance")]
    #[case::upsert_not_native(
        "insert.mode=upsert\npk.mode=record_value\npk.fields=id",
        "insert.mode"
    )]
    #[case::record_value_not_native("pk.mode=record_value\npk.fields=id", "pk.mode")]
    #[case::record_key_insert("timestamp.field.name=at\npk.mode=record_key", "pk.mode")]
    #[case::record_key_bytes(
        "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_key\nkey.converter=org.apache.kafka.connect.converters.ByteArrayConverter",
        "key.converter"
    )]
    #[case::record_key_schemaless(
        "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_key\nkey.converter.schemas.enable=false",
        "key.converter.schemas.enable"
    )]
    #[case::transforms_key_bytes(
        "transforms=r\ntransforms.r.type=org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.regex=a\ntransforms.r.replacement=b\nkey.converter=org.apache.kafka.connect.converters.ByteArrayConverter",
        "key.converter"
    )]
    #[case::transforms_unlisted(
        "transforms=r\ntransforms.r.type=org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.regex=a\ntransforms.r.replacement=b\ntransforms.s.type=x",
        "transforms.s.type"
    )]
    #[case::upsert_without_fields(
        "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_value",
        "pk.fields"
    )]
    #[case::upsert_kafka(
        "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=kafka",
        "pk.mode"
    )]
    #[case::both_timestamps(
        "timestamp.field.name=at\ntimestamp.kafka.native=true",
        "timestamp.field.name"
    )]
    #[case::composed_timestamp("timestamp.field.name=date,time", "timestamp.field.name")]
    #[case::partition_unit(
        "timestamp.kafka.native=true\ntable.partition.by=fortnight",
        "table.partition.by"
    )]
    #[case::wal_unpartitioned(
        "timestamp.kafka.native=true\ntable.partition.by=NONE",
        "table.partition.by"
    )]
    #[case::dedup_without_wal(
        "timestamp.kafka.native=true\npk.mode=kafka\ntable.wal.enabled=false",
        "table.wal.enabled"
    )]
    #[case::ilp_tcp(
        "timestamp.kafka.native=true\nclient.conf.string=tcp::addr=127.0.0.1:9009;",
        "client.conf.string"
    )]
    #[case::ilp_not_native("client.conf.string=http::addr=127.0.0.1:9000;", "client.conf.string")]
    #[case::partition_not_native("table.partition.by=DAY", "table.partition.by")]
    #[case::null_default(
        "value.converter.replace.null.with.default=false",
        "value.converter.replace.null.with.default"
    )]
    #[case::decimal_format("value.converter.decimal.format=HEX", "value.converter.decimal.format")]
    #[case::metrics_listen("metrics.listen=9464", "metrics.listen")]
    #[case::startup_timeout("startup.timeout.ms=5m", "startup.timeout.ms")]
    #[case::startup_backoff("startup.backoff.max.ms=0", "startup.backoff.max.ms")]
    #[case::shutdown_timeout("shutdown.timeout.ms=-1", "shutdown.timeout.ms")]
    #[case::cache_size(
        "value.converter.schemas.cache.size=many",
        "value.converter.schemas.cache.size"
    )]
    fn refuses_what_it_cannot_do_naming_the_key(#[case] line: &str, #[case] key: &str) {
        let e = config(line).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }

    #[test]
    fn transforms_are_built_and_their_keys_are_no_notices() {
        let c = config("transforms=r\ntransforms.r.type=org.apache.kafka.connect.transforms.RegexRouter\ntransforms.r.regex=a\ntransforms.r.replacement=b").unwrap();
        assert!(c.transforms.is_some());
        assert!(c.notices.is_empty(), "{:?}", c.notices);
        assert!(config("").unwrap().transforms.is_none());
    }

    #[rstest]
    #[case("value.converter.decimal.format=NUMERIC")]
    #[case("value.converter.decimal.format=base64")]
    #[case("value.converter.schemas.cache.size=10")]
    #[case("value.converter.replace.null.with.default=true")]
    fn honours_the_json_converter_settings_that_do_not_change_reading(#[case] line: &str) {
        let c = config(line).unwrap();
        assert!(c.notices.is_empty(), "{:?}", c.notices);
    }

    #[rstest]
    #[case::no_port("jdbc:postgresql://db/qdb", ("db", 5432, "qdb"))]
    #[case::no_database("jdbc:postgresql://db:8812", ("db", 8812, "qdb"))]
    #[case::params("jdbc:postgresql://127.0.0.1:8812/qdb?useSSL=false&x=1", ("127.0.0.1", 8812, "qdb"))]
    fn parses_jdbc_urls(#[case] url: &str, #[case] expected: (&str, u16, &str)) {
        let (h, p, d) = parse_jdbc_url(url).unwrap();
        assert_eq!((h.as_str(), p, d.as_str()), expected);
    }

    #[rstest]
    #[case::sslmode_disable("sslmode=disable")]
    #[case::sslmode_prefer("sslmode=prefer")]
    #[case::ssl_false("ssl=false")]
    #[case::mysql_use_ssl_false("useSSL=false")]
    fn tls_parameters_that_ask_for_no_tls_are_honoured(#[case] params: &str) {
        let url = format!("jdbc:postgresql://h:8812/qdb?{params}");
        assert!(parse_jdbc_url(&url).is_ok(), "{url}");
    }

    #[rstest]
    #[case::sslmode_require("sslmode=require", "sslmode=require")]
    #[case::sslmode_verify_full("x=1&sslmode=verify-full", "sslmode=verify-full")]
    #[case::ssl_true("ssl=true", "ssl=true")]
    #[case::ssl_bare("ssl", "ssl=")]
    #[case::root_cert("sslrootcert=/ca.pem", "sslrootcert=/ca.pem")]
    #[case::mysql_use_ssl("useSSL=true", "useSSL=true")]
    #[case::bad_sslmode("sslmode=on", "not a PgJDBC sslmode")]
    #[case::key_password("sslpassword=tls-secret-9", "sslpassword=***")]
    fn tls_parameters_are_refused_by_name_never_dropped(#[case] params: &str, #[case] named: &str) {
        let e = config(&format!(
            "connection.url=jdbc:postgresql://h:8812/qdb?{params}"
        ))
        .unwrap_err();
        assert_eq!(e.key, "connection.url", "{e}");
        assert!(e.to_string().contains(named), "{e}");
        assert!(!format!("{e} {e:?}").contains("tls-secret-9"), "{e:?}");
    }

    #[test]
    fn url_login_parameters_are_read_and_user_info_refused_without_its_secret() {
        let c = config("connection.url=jdbc:postgresql://h:8812/qdb?user=u1&password=url-secret-7\nconnection.user=ignored").unwrap();
        assert_eq!(
            (c.connection.user.as_str(), c.connection.password.as_str()),
            ("u1", "url-secret-7")
        );
        let e = config(
            "connection.url=jdbc:postgresql://u:info-secret-8@h:8812/qdb?password=url-secret-7",
        )
        .unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(
            shown.contains("user info") && shown.contains("***@h:8812"),
            "{shown}"
        );
        assert!(
            !shown.contains("info-secret-8") && !shown.contains("url-secret-7"),
            "{shown}"
        );
        let e =
            config("connection.url=jdbc:postgresql://h:x/qdb?password=url-secret-7").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("url-secret-7"), "{e:?}");
    }

    #[test]
    fn unknown_keys_and_inert_values_become_notices() {
        let c = config("foo.bar=1\ntasks.max=3").unwrap();
        assert!(
            c.notices.iter().any(|n| n.starts_with("foo.bar")),
            "{:?}",
            c.notices
        );
        assert!(
            c.notices.iter().any(|n| n.starts_with("tasks.max=3")),
            "{:?}",
            c.notices
        );
    }

    #[test]
    fn native_tables_are_opt_in() {
        assert_eq!(config("").unwrap().native, None);
        let c = config("timestamp.field.name=at").unwrap();
        assert_eq!(
            c.native,
            Some(NativeTable {
                timestamp: DesignatedTimestamp::Field("at".into()),
                partition_by: PartitionBy::Day,
                wal: true,
                dedup: Dedup::None,
            })
        );
        let c =
            config("timestamp.kafka.native=true\npk.mode=kafka\ntable.partition.by=hour").unwrap();
        let n = c.native.unwrap();
        assert_eq!(
            (n.timestamp, n.partition_by, n.dedup),
            (DesignatedTimestamp::Kafka, PartitionBy::Hour, Dedup::Kafka)
        );
        let c = config("timestamp.field.name=at\ntable.partition.by=NONE\ntable.wal.enabled=false")
            .unwrap();
        assert!(!c.native.unwrap().wal);
    }

    #[test]
    fn upsert_by_key_reads_keys_with_the_key_converter() {
        let c = config("timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_key").unwrap();
        assert_eq!(
            (c.pk_mode, c.key_converter, c.native.unwrap().dedup),
            (PkMode::RecordKey, KeyConverter::Json, Dedup::RecordKey)
        );
        let c = config(
            "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_key\npk.fields=id\nkey.converter=org.apache.kafka.connect.storage.StringConverter",
        )
        .unwrap();
        assert_eq!(
            (c.key_converter, c.pk_fields),
            (KeyConverter::String, vec!["id".to_owned()])
        );
        // Without pk.mode=record_key keys are not read, so any key.converter will do.
        let c = config("key.converter=org.apache.kafka.connect.converters.ByteArrayConverter");
        assert!(c.is_ok(), "{c:?}");
    }

    #[test]
    fn upsert_by_value_declares_the_fields_as_dedup_keys() {
        let c = config(
            "timestamp.field.name=at\ninsert.mode=upsert\npk.mode=record_value\npk.fields=id, region",
        )
        .unwrap();
        assert_eq!(c.pk_mode, PkMode::RecordValue);
        assert_eq!(
            c.native.unwrap().dedup,
            Dedup::Fields(vec!["id".into(), "region".into()])
        );
        assert!(c.notices.is_empty(), "{:?}", c.notices);
    }

    #[test]
    fn operations_are_off_or_defaulted_for_the_seed_and_read_from_their_keys() {
        let seed = config("").unwrap().operations;
        assert_eq!(seed, Operations::default());
        assert_eq!(seed.metrics_listen, None, "metrics are opt-in");
        let c = config(
            "metrics.listen=127.0.0.1:9464\nstartup.timeout.ms=0\nstartup.backoff.max.ms=500\nshutdown.timeout.ms=2000",
        )
        .unwrap();
        assert!(c.notices.is_empty(), "{:?}", c.notices);
        assert_eq!(
            c.operations,
            Operations {
                metrics_listen: Some("127.0.0.1:9464".parse().unwrap()),
                startup_timeout: Duration::ZERO,
                startup_backoff_max: Duration::from_millis(500),
                shutdown_timeout: Duration::from_secs(2),
            }
        );
    }

    #[test]
    fn password_stays_out_of_debug_output() {
        assert!(!format!("{:?}", config("").unwrap()).contains("quest\""));
    }

    #[test]
    fn no_secret_shows_in_debug_output() {
        let c = config(
            "connection.password=pg-secret-1\n\
             consumer.override.security.protocol=SASL_SSL\n\
             consumer.override.sasl.mechanism=SCRAM-SHA-256\n\
             consumer.override.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"kafka-secret-2\";\n\
             consumer.override.ssl.keystore.type=PEM\n\
             consumer.override.ssl.keystore.location=/k.pem\n\
             consumer.override.ssl.key.password=key-secret-3\n\
             producer.override.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=u password=dlq-secret-4;\n\
             timestamp.kafka.native=true\n\
             client.conf.string=http::addr=127.0.0.1:9000;username=ilp;password=ilp;;secret-5;retry_timeout=100;\n",
        )
        .unwrap();
        let debug = format!("{c:?}");
        for secret in [
            "pg-secret-1",
            "kafka-secret-2",
            "key-secret-3",
            "dlq-secret-4",
            "secret-5",
        ] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        // What is not secret still shows, so the output stays useful.
        assert!(
            debug.contains("sasl.username") && debug.contains("retry_timeout=100"),
            "{debug}"
        );
        assert_eq!(
            c.ilp.as_ref().unwrap().redacted(),
            "http::addr=127.0.0.1:9000;username=ilp;password=***;retry_timeout=100;"
        );
        assert_eq!(
            c.ilp.unwrap().get("password").as_deref(),
            Some("ilp;secret-5")
        );
        assert_eq!(
            c.producer_overrides
                .iter()
                .find(|(k, _)| *k == "sasl.password"),
            Some(("sasl.password", "dlq-secret-4"))
        );
    }

    #[test]
    fn table_name_format_substitutes_the_topic() {
        assert_eq!(
            config("table.name.format=kafka_${topic}_t")
                .unwrap()
                .table_name("a"),
            "kafka_a_t"
        );
    }
}
