//! The JDBC sink connector's configuration, read from the same `.properties` file Connect
//! reads (section 4 of the reference). Keys that ask for behaviour this sink does not have
//! are refused with an error naming the key; keys that are accepted but change nothing here
//! are listed in [`SinkConfig::notices`] so the binary can say so at start-up.

use crate::connect::json::Overflow;
use crate::kafka_security;
use crate::mapping::PkMode;
use crate::native::{Dedup, DesignatedTimestamp, NativeTable, PartitionBy};
use crate::properties;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

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
                let shown = if kafka_security::is_secret(k) {
                    "***"
                } else {
                    v
                };
                (k, shown)
            }))
            .finish()
    }
}

/// `client.conf.string` (ILP over HTTP); `Debug` and [`IlpConf::redacted`] hide its
/// `password` and `token`.
#[derive(Clone, PartialEq)]
pub struct IlpConf(pub(crate) String);

impl IlpConf {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conf string with the values of `password`, `token`, `token_x`, `token_y` replaced
    /// by `***` (`;;` is an escaped `;` inside a value).
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        let (scheme, rest) = self.0.split_once("::").unwrap_or(("", self.0.as_str()));
        out.push_str(scheme);
        out.push_str("::");
        for (key, _value, raw) in conf_pairs(rest) {
            if ["password", "token", "token_x", "token_y"].contains(&key.trim()) {
                out.push_str(&format!("{key}=***;"));
            } else {
                out.push_str(raw);
            }
        }
        out
    }

    /// A value of the conf string (`addr`, `username`, ...), unescaped.
    pub fn get(&self, wanted: &str) -> Option<String> {
        let rest = self.0.split_once("::").map_or(self.0.as_str(), |(_, r)| r);
        conf_pairs(rest)
            .into_iter()
            .find(|(k, _, _)| k.trim() == wanted)
            .map(|(_, v, _)| v)
    }
}

/// `key=value;` pairs of a conf string after its `scheme::`: key, unescaped value, raw text.
fn conf_pairs(rest: &str) -> Vec<(String, String, &str)> {
    let mut pairs = Vec::new();
    let bytes = rest.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b';' {
            if bytes.get(i + 1) == Some(&b';') {
                i += 2;
                continue;
            }
            let raw = &rest[start..=i];
            let (k, v) = raw[..raw.len() - 1]
                .split_once('=')
                .unwrap_or((&raw[..raw.len() - 1], ""));
            pairs.push((k.to_string(), v.replace(";;", ";"), raw));
            start = i + 1;
        }
        i += 1;
    }
    if start < rest.len() {
        let raw = &rest[start..];
        let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
        pairs.push((k.to_string(), v.replace(";;", ";"), raw));
    }
    pairs
}

impl std::fmt::Debug for IlpConf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IlpConf").field(&self.redacted()).finish()
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
    pub dlq_context_headers: bool,
    pub log: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    pub name: String,
    pub topics: Topics,
    pub connection: Connection,
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
    /// librdkafka's ([`crate::kafka_security`]).
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
}

/// How records become rows, chosen once from `connector.class`.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapping {
    /// Confluent's JDBC sink: the schema gives the columns, tables are created over PG wire.
    Jdbc,
    /// QuestDB's own connector (`io.questdb.kafka.QuestDBSinkConnector`): fields flattened,
    /// schemaless JSON inferred, tables created by ILP (see `docs/questdb-connector.md`).
    QuestDbConnector(std::sync::Arc<crate::questdb_connector::ConnectorConfig>),
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

/// The JDBC sink's keys this sink reads or knowingly accepts, besides [`COMMON_KEYS`].
const JDBC_KEYS: &[&str] = &[
    "connection.url",
    "connection.user",
    "connection.password",
    "insert.mode",
    "pk.mode",
    "pk.fields",
    "auto.create",
    "auto.evolve",
    "table.name.format",
    "batch.size",
    "max.retries",
    "retry.backoff.ms",
    "delete.enabled",
    "fields.whitelist",
    "db.timezone",
    "quote.sql.identifiers",
    "dialect.name",
    "value.converter.schemas.cache.size",
    "value.converter.decimal.format",
    "value.converter.replace.null.with.default",
    "sink.integer.overflow",
    "timestamp.field.name",
    "timestamp.kafka.native",
    "table.partition.by",
    "table.wal.enabled",
    "client.conf.string",
];

/// A notice for every key that is neither in [`COMMON_KEYS`], nor in `own`, nor a
/// `consumer.override.`/`producer.override.` setting: ignored, as Connect reports unused keys.
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
        {
            notices.push(format!("{key}: not a key this sink knows; ignored"));
        }
    }
}

pub(crate) const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
pub(crate) const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

const JDBC_SINK_CLASSES: &[&str] = &[
    "io.confluent.connect.jdbc.JdbcSinkConnector",
    "JdbcSinkConnector",
];

impl SinkConfig {
    /// Reads a connector `.properties` file.
    pub fn load(path: &Path) -> Result<SinkConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("(file)", format!("cannot read {}: {e}", path.display())))?;
        Self::from_properties(&properties::parse(&text))
    }

    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<SinkConfig, ConfigError> {
        let p = Props(props);
        let mut notices = Vec::new();

        if p.get("connector.class") == Some(crate::questdb_connector::CONNECTOR_CLASS) {
            return crate::questdb_connector::sink_config(props);
        }
        let name = p.required("name")?.to_string();
        if let Some(class) = p.get("connector.class") {
            if !JDBC_SINK_CLASSES.contains(&class) {
                return Err(err(
                    "connector.class",
                    format!("`{class}` is not a connector this sink implements: io.confluent.connect.jdbc.JdbcSinkConnector or {}", crate::questdb_connector::CONNECTOR_CLASS),
                ));
            }
        }
        if let Some(tasks) = p.get("tasks.max") {
            let n: u32 = p.parse("tasks.max", tasks)?;
            if n > 1 {
                notices.push(format!("tasks.max={n}: this sink runs one task; partitions are still consumed in order per partition"));
            }
        }

        let topics = topics(&p)?;

        let url = p.required("connection.url")?;
        let (host, port, database) = parse_jdbc_url(url)?;
        let connection = Connection {
            host,
            port,
            database,
            user: p.get("connection.user").unwrap_or("admin").to_string(),
            password: p.get("connection.password").unwrap_or("quest").to_string(),
        };

        let native = native_table(&p)?;
        let upsert = match p.get("insert.mode").unwrap_or("insert") {
            "insert" => false,
            "upsert" if native.is_some() => true,
            other => {
                return Err(err(
                    "insert.mode",
                    format!("`{other}` is not supported: QuestDB tables made by this sink have no primary key, so only `insert` is implemented (`upsert` needs a native table: set timestamp.field.name)"),
                ))
            }
        };
        let pk_fields = p.get("pk.fields").map(split_list).unwrap_or_default();
        let pk_mode = match p.get("pk.mode").unwrap_or("none") {
            "none" => PkMode::None,
            "kafka" => PkMode::Kafka,
            "record_value" if upsert => PkMode::RecordValue,
            "record_key" if upsert => PkMode::RecordKey,
            other => {
                return Err(err(
                    "pk.mode",
                    format!("`{other}` is not supported; use `none` or `kafka` (or `record_value` / `record_key` with insert.mode=upsert on a native table)"),
                ))
            }
        };
        let native = match native {
            Some(mut native) => {
                native.dedup = match (upsert, pk_mode) {
                    (false, PkMode::Kafka) => Dedup::Kafka,
                    (false, _) => Dedup::None,
                    (true, PkMode::RecordValue) if pk_fields.is_empty() => {
                        return Err(err("pk.fields", "missing: insert.mode=upsert with pk.mode=record_value needs the value fields that identify a row"))
                    }
                    (true, PkMode::RecordValue) => Dedup::Fields(pk_fields.clone()),
                    (true, PkMode::RecordKey) => Dedup::RecordKey,
                    (true, _) => {
                        return Err(err("pk.mode", "insert.mode=upsert needs pk.mode=record_value and pk.fields, or pk.mode=record_key"))
                    }
                };
                if native.dedup != Dedup::None && !native.wal {
                    return Err(err(
                        "table.wal.enabled",
                        "is false, but DEDUP (from pk.mode / insert.mode=upsert) needs a WAL table",
                    ));
                }
                Some(native)
            }
            None => {
                if let Some(fields) = p.get("pk.fields") {
                    notices.push(format!("pk.fields={fields}: QuestDB has no primary keys; the columns are created but no key is declared"));
                }
                None
            }
        };
        if p.bool("delete.enabled", false)? {
            return Err(err(
                "delete.enabled",
                "deletes need pk.mode=record_key, which this sink does not implement",
            ));
        }
        if let Some(tz) = p.get("db.timezone") {
            if tz != "UTC" {
                return Err(err("db.timezone", format!("`{tz}` is not supported: QuestDB stores UTC timestamps; only UTC is implemented")));
            }
        }
        if let Some(q) = p.get("quote.sql.identifiers") {
            if q != "always" {
                return Err(err("quote.sql.identifiers", format!("`{q}` is not supported: identifiers are always quoted so case and hyphens survive")));
            }
        }
        if let Some(dialect) = p.get("dialect.name") {
            if dialect != "PostgreSqlDatabaseDialect" {
                return Err(err("dialect.name", format!("`{dialect}` is not supported; QuestDB speaks the PostgreSQL wire protocol, use PostgreSqlDatabaseDialect")));
            }
        }
        if let Some(class) = p.get("value.converter") {
            if class != JSON_CONVERTER {
                return Err(err(
                    "value.converter",
                    format!(
                        "`{class}` is not supported; values are decoded as {JSON_CONVERTER} does"
                    ),
                ));
            }
        }
        // Keys are read only with pk.mode=record_key; otherwise key.converter is ignored, as
        // the JDBC sink ignores keys then.
        let key_converter = match p.get("key.converter") {
            None | Some(JSON_CONVERTER) => KeyConverter::Json,
            Some(STRING_CONVERTER) => KeyConverter::String,
            Some(class) if pk_mode == PkMode::RecordKey => {
                return Err(err("key.converter", format!("`{class}` is not supported with pk.mode=record_key; use {JSON_CONVERTER} (keys with schemas) or {STRING_CONVERTER}")));
            }
            Some(_) => KeyConverter::Json,
        };
        if pk_mode == PkMode::RecordKey
            && key_converter == KeyConverter::Json
            && !p.bool("key.converter.schemas.enable", true)?
        {
            return Err(err(
                "key.converter.schemas.enable",
                "must be true with pk.mode=record_key: the key's schema gives its columns",
            ));
        }
        if !p.bool("value.converter.schemas.enable", true)? {
            return Err(err(
                "value.converter.schemas.enable",
                "must be true: the JDBC sink needs the schema in each message to create tables",
            ));
        }
        // The rest of JsonConverterConfig (Kafka 3.9): schemas.cache.size only sizes a cache and
        // decimal.format only changes how decimals are written, never how they are read, so
        // both are honoured by reading as upstream reads; replace.null.with.default=false is not
        // implemented (defaults always replace a null, upstream's default).
        if let Some(size) = p.get("value.converter.schemas.cache.size") {
            if size.trim().parse::<u32>().is_err() {
                return Err(err(
                    "value.converter.schemas.cache.size",
                    format!("`{size}` is not a number of schemas"),
                ));
            }
        }
        if let Some(format) = p.get("value.converter.decimal.format") {
            if !["BASE64", "NUMERIC"].contains(&format.trim().to_ascii_uppercase().as_str()) {
                return Err(err(
                    "value.converter.decimal.format",
                    format!("`{format}` is not BASE64 or NUMERIC"),
                ));
            }
        }
        if !p.bool("value.converter.replace.null.with.default", true)? {
            return Err(err(
                "value.converter.replace.null.with.default",
                "false is not supported: a null field with a schema default is stored as the \
                 default, as JsonConverter does by default",
            ));
        }

        let ilp = match p.get("client.conf.string").filter(|c| !c.is_empty()) {
            None => None,
            Some(conf) if !(conf.starts_with("http::") || conf.starts_with("https::")) => {
                return Err(err("client.conf.string", format!("`{conf}`: only ILP over HTTP is implemented, e.g. http::addr=127.0.0.1:9000;")))
            }
            Some(_) if native.is_none() => {
                return Err(err("client.conf.string", "ILP writes rows with a designated timestamp: set timestamp.field.name or timestamp.kafka.native=true too"))
            }
            Some(conf) => Some(IlpConf(conf.to_string())),
        };

        let errors = error_policy(&p, &mut notices)?;

        let overflow = match p.get("sink.integer.overflow").unwrap_or("wrap") {
            "wrap" => Overflow::Wrap,
            "error" => Overflow::Error,
            other => {
                return Err(err(
                    "sink.integer.overflow",
                    format!("`{other}`: expected `wrap` (JsonConverter's behaviour) or `error`"),
                ))
            }
        };

        let table_name_format = p.get("table.name.format").unwrap_or("${topic}").to_string();
        if table_name_format.is_empty() {
            return Err(err("table.name.format", "is empty"));
        }

        let batch_size: usize = p.parse("batch.size", p.get("batch.size").unwrap_or("3000"))?;
        if batch_size == 0 {
            return Err(err("batch.size", "must be at least 1"));
        }

        let operations = operations(&p)?;
        let consumer_overrides = client_settings(props, "consumer.override.", &mut notices)?;
        let producer_overrides = client_settings(props, "producer.override.", &mut notices)?;

        unknown_keys(props, JDBC_KEYS, &mut notices);

        Ok(SinkConfig {
            name,
            topics,
            connection,
            pk_mode,
            pk_fields,
            key_converter,
            auto_create: p.bool("auto.create", false)?,
            auto_evolve: p.bool("auto.evolve", false)?,
            table_name_format,
            batch_size,
            max_retries: p.parse("max.retries", p.get("max.retries").unwrap_or("10"))?,
            retry_backoff: Duration::from_millis(p.parse(
                "retry.backoff.ms",
                p.get("retry.backoff.ms").unwrap_or("3000"),
            )?),
            fields_whitelist: p
                .get("fields.whitelist")
                .map(split_list)
                .unwrap_or_default(),
            errors,
            consumer_overrides,
            producer_overrides,
            ilp,
            native,
            overflow,
            operations,
            notices,
            mapping: Mapping::Jdbc,
        })
    }

    /// The table a topic's records go to (`table.name.format`, `${topic}` replaced).
    pub fn table_name(&self, topic: &str) -> String {
        self.table_name_format.replace("${topic}", topic)
    }

    /// The column the ILP writer sends as each row's timestamp, if rows are written over ILP.
    pub fn designated_column(&self) -> Option<&str> {
        match &self.mapping {
            Mapping::QuestDbConnector(_) => Some(crate::questdb_connector::flatten::DESIGNATED),
            Mapping::Jdbc => self.native.as_ref().map(|n| n.timestamp_column()),
        }
    }

    /// The consumer group, named as Connect names a sink connector's group.
    pub fn group_id(&self) -> String {
        format!("connect-{}", self.name)
    }
}

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
    let (settings, dropped) = kafka_security::translate(prefix, &settings)?;
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

/// The native table the keys ask for, if any: one of the QuestDB connector's timestamp keys
/// opts in; partitioning and WAL only refine it.
fn native_table(p: &Props) -> Result<Option<NativeTable>, ConfigError> {
    let field = p.get("timestamp.field.name").filter(|f| !f.is_empty());
    let kafka = p.bool("timestamp.kafka.native", false)?;
    let timestamp = match (field, kafka) {
        (Some(_), true) => {
            return Err(err(
                "timestamp.field.name",
                "set either timestamp.field.name or timestamp.kafka.native=true, not both",
            ))
        }
        (Some(f), false) if f.contains(',') => {
            return Err(err(
                "timestamp.field.name",
                format!("`{f}`: composed timestamps (several fields) are not supported; name one Timestamp field"),
            ))
        }
        (Some(f), false) => DesignatedTimestamp::Field(f.to_string()),
        (None, true) => DesignatedTimestamp::Kafka,
        (None, false) => {
            for key in ["table.partition.by", "table.wal.enabled"] {
                if p.get(key).is_some() {
                    return Err(err(key, "only applies to a native table: set timestamp.field.name or timestamp.kafka.native=true"));
                }
            }
            return Ok(None);
        }
    };
    let partition_by = match p.get("table.partition.by") {
        None => PartitionBy::Day,
        Some(text) => PartitionBy::parse(text).ok_or_else(|| {
            err(
                "table.partition.by",
                format!("`{text}`: expected NONE, HOUR, DAY, WEEK, MONTH or YEAR"),
            )
        })?,
    };
    let wal = p.bool("table.wal.enabled", true)?;
    if wal && partition_by == PartitionBy::None {
        return Err(err(
            "table.partition.by",
            "NONE: a WAL table must be partitioned; pick a unit or set table.wal.enabled=false",
        ));
    }
    Ok(Some(NativeTable {
        timestamp,
        partition_by,
        wal,
        dedup: Dedup::None,
    }))
}

pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `jdbc:postgresql://host[:port]/database[?params]` -> (host, port, database).
/// Query parameters (the seed's `useSSL=false` is a MySQL option) are ignored, as PgJDBC does.
pub fn parse_jdbc_url(url: &str) -> Result<(String, u16, String), ConfigError> {
    let bad = |why: &str| {
        err(
            "connection.url",
            format!("`{url}` {why}; expected jdbc:postgresql://HOST:PORT/DATABASE, e.g. jdbc:postgresql://127.0.0.1:8812/qdb"),
        )
    };
    let rest = url
        .strip_prefix("jdbc:postgresql://")
        .ok_or_else(|| bad("is not a PostgreSQL JDBC URL"))?;
    let rest = rest.split('?').next().unwrap_or_default();
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("has an invalid port"))?),
        None => (authority, 5432),
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    let database = if database.is_empty() { "qdb" } else { database };
    Ok((host.to_string(), port, database.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    /// The seed document's `connect-jdbc.properties`, verbatim.
    const SEED: &str = include_str!("../../fixtures/seed/connect-jdbc.properties");

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
