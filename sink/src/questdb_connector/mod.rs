//! QuestDB's own Kafka connector (`io.questdb.kafka.QuestDBSinkConnector` 0.23), read from its
//! properties file as it is: which keys it has and what they mean ([`ConnectorConfig`]), how
//! its records become ILP rows ([`flatten`]), schemaless JSON as its converter hands it over
//! ([`loose`]), and its timestamps ([`timestamp`]). Pure; the rows go through the sink's one
//! pipeline and ILP writer. What differs from the real connector, and why: docs/questdb-connector.md.

pub mod flatten;
pub mod loose;
pub mod timestamp;

use crate::config::{self, err, ConfigError, Connection, Mapping, Props, SinkConfig};
use crate::connect::json::Overflow;
use crate::mapping::PkMode;
use std::collections::BTreeMap;
use std::sync::Arc;
use timestamp::{Format, Units};

/// The class name that selects this mapping.
pub const CONNECTOR_CLASS: &str = "io.questdb.kafka.QuestDBSinkConnector";

/// The name of the designated timestamp column of the tables the connector's ILP rows create.
pub const TIMESTAMP_COLUMN: &str = "timestamp";

/// How a record key or value is converted (`key.converter`, `value.converter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Converter {
    /// JsonConverter: with `schemas.enable=true` a `{"schema","payload"}` envelope, else plain
    /// JSON inferred as [`loose::Loose`].
    Json { schemas: bool },
    /// StringConverter: the bytes as a UTF-8 string.
    String,
}

/// Where a row's designated timestamp comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Designated {
    /// The server's clock when it takes the row (no timestamp key).
    ServerTime,
    /// `timestamp.field.name=f`: the (flattened) field `f`, not written as a column.
    Field(String),
    /// `timestamp.field.name=date,time`: these fields' text concatenated, parsed with
    /// `timestamp.string.format`.
    Composed(Vec<String>),
    /// `timestamp.kafka.native=true`: the record's Kafka timestamp.
    Kafka,
}

/// `table`: a name with `${topic}`, `${key}` and `${partition}` in it, or the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TablePart {
    Literal(String),
    Topic,
    Key,
    Partition,
}

/// The QuestDB connector's keys, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorConfig {
    pub table: Vec<TablePart>,
    pub include_key: bool,
    pub key_prefix: String,
    pub value_prefix: String,
    pub skip_unsupported_types: bool,
    pub designated: Designated,
    /// `timestamp.units`; `None` is `auto`.
    pub units: Option<Units>,
    pub format: Format,
    pub string_timestamps: Vec<String>,
    pub symbols: Vec<String>,
    pub doubles: Vec<String>,
    pub key_converter: Converter,
    pub value_converter: Converter,
}

impl ConnectorConfig {
    /// Whether the record key is read at all.
    pub fn reads_key(&self) -> bool {
        self.include_key || self.table.contains(&TablePart::Key)
    }

    /// The table for a record (`key` as Java's `toString()`, `null` without a key).
    pub fn table_name(&self, topic: &str, key: &str, partition: i32) -> String {
        self.table
            .iter()
            .map(|p| match p {
                TablePart::Literal(l) => l.clone(),
                TablePart::Topic => topic.to_string(),
                TablePart::Key => key.to_string(),
                TablePart::Partition => partition.to_string(),
            })
            .collect()
    }
}

/// Every key of the connector 0.23's `ConfigDef`, Connect's own sink keys, and the sink's
/// operational keys; anything else is reported as unused.
const KNOWN_KEYS: &[&str] = &[
    "name",
    "connector.class",
    "tasks.max",
    "topics",
    "topics.regex",
    "client.conf.string",
    "table",
    "key.prefix",
    "value.prefix",
    "skip.unsupported.types",
    "timestamp.field.name",
    "timestamp.kafka.native",
    "timestamp.string.fields",
    "timestamp.string.format",
    "timestamp.units",
    "include.key",
    "symbols",
    "doubles",
    "allowed.lag",
    "retry.backoff.ms",
    "max.retries",
    "dlq.send.batch.on.error",
    "host",
    "username",
    "token",
    "tls",
    "tls.validation.mode",
    "key.converter",
    "key.converter.schemas.enable",
    "value.converter",
    "value.converter.schemas.enable",
    "errors.tolerance",
    "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.context.headers.enable",
    "errors.deadletterqueue.topic.replication.factor",
    "errors.log.enable",
    "errors.log.include.messages",
    "metrics.listen",
    "startup.timeout.ms",
    "startup.backoff.max.ms",
    "shutdown.timeout.ms",
];

const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";

/// The sink's config for a QuestDB-connector properties file.
pub fn sink_config(props: &BTreeMap<String, String>) -> Result<SinkConfig, ConfigError> {
    let p = Props(props);
    let mut notices = Vec::new();
    let name = p.required("name")?.to_string();
    let topics = config::topics(&p)?;
    let connector = connector_config(&p, &mut notices)?;

    // Deviation: only ILP over HTTP (the connector also speaks ILP over TCP, whose errors it
    // cannot attribute to a record, and reads QDB_CLIENT_CONF from the environment).
    let conf = match p.get("client.conf.string").filter(|c| !c.is_empty()) {
        Some(conf) if conf.starts_with("http::") || conf.starts_with("https::") => conf,
        Some(conf) => {
            return Err(err(
                "client.conf.string",
                format!("`{conf}`: only ILP over HTTP is implemented, e.g. http::addr=127.0.0.1:9000;"),
            ))
        }
        None if p.get("host").is_some() => {
            return Err(err(
                "host",
                "ILP over TCP (`host`, deprecated by the connector) is not implemented; set client.conf.string=http::addr=HOST:9000;",
            ))
        }
        None => return Err(err("client.conf.string", "missing: e.g. http::addr=127.0.0.1:9000;")),
    };
    if conf.contains("auto_flush=off") {
        return Err(err(
            "client.conf.string",
            "auto_flush=off: the connector refuses it too",
        ));
    }
    for key in ["username", "token", "tls", "tls.validation.mode"] {
        if p.get(key).is_some() {
            return Err(err(
                key,
                "belongs to the deprecated `host` (TCP) settings; put credentials and TLS in client.conf.string",
            ));
        }
    }
    let host = conf_addr_host(conf).unwrap_or("127.0.0.1").to_string();
    if let Some(lag) = p.get("allowed.lag") {
        let lag: u32 = p.parse("allowed.lag", lag)?;
        if lag == 0 {
            return Err(err("allowed.lag", "must be at least 1"));
        }
        // Deviation: offsets are committed after each stored batch, not after a buffer's lag.
        notices.push(format!("allowed.lag={lag}: rows are written as soon as a poll's batch is decoded; there is no buffer to wait for"));
    }
    if let Some(v) = p.get("dlq.send.batch.on.error") {
        if p.bool("dlq.send.batch.on.error", false)? {
            notices.push(format!("dlq.send.batch.on.error={v}: a refused batch is always split to find the bad records; only those go to the dead letter queue"));
        }
    }
    if p.get("transforms").is_some() {
        return Err(err(
            "transforms",
            "single message transforms are not implemented",
        ));
    }
    // Deviation: errors.tolerance=all skips a record this mapping cannot write even without a
    // dead letter queue or errors.log.enable (the connector has no error reporter then and
    // fails the task); a batch QuestDB refuses is always split to find the bad records.
    let errors = config::error_policy(&p, &mut notices)?;
    let operations = config::operations(&p)?;
    for key in props.keys() {
        if !KNOWN_KEYS.contains(&key.as_str())
            && !key.starts_with("consumer.override.")
            && key != "transforms"
        {
            notices.push(format!("{key}: not a key this sink knows; ignored"));
        }
    }
    let table_name_format = connector
        .table
        .iter()
        .map(|p| match p {
            TablePart::Literal(l) => l.clone(),
            TablePart::Topic => "${topic}".into(),
            TablePart::Key => "${key}".into(),
            TablePart::Partition => "${partition}".into(),
        })
        .collect();
    Ok(SinkConfig {
        name,
        topics,
        // QuestDB's PG wire on the ILP host, for the start-up wait and the health check.
        connection: Connection {
            host,
            port: 8812,
            database: "qdb".into(),
            user: "admin".into(),
            password: "quest".into(),
        },
        pk_mode: PkMode::None,
        pk_fields: Vec::new(),
        key_converter: config::KeyConverter::Json,
        auto_create: true,
        auto_evolve: true,
        table_name_format,
        batch_size: 3000,
        max_retries: p.parse("max.retries", p.get("max.retries").unwrap_or("10"))?,
        retry_backoff: std::time::Duration::from_millis(p.parse(
            "retry.backoff.ms",
            p.get("retry.backoff.ms").unwrap_or("3000"),
        )?),
        fields_whitelist: Vec::new(),
        errors,
        consumer_overrides: props
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("consumer.override.")
                    .map(|k| (k.to_string(), v.trim().to_string()))
            })
            .collect(),
        ilp: Some(conf.to_string()),
        native: None,
        overflow: Overflow::Wrap,
        operations,
        notices,
        mapping: Mapping::QuestDbConnector(Arc::new(connector)),
    })
}

/// The connector's own keys (those that decide how records become rows).
fn connector_config(p: &Props, notices: &mut Vec<String>) -> Result<ConnectorConfig, ConfigError> {
    let list = |key: &str| p.get(key).map(config::split_list).unwrap_or_default();
    let designated = match (
        p.get("timestamp.field.name").filter(|f| !f.is_empty()),
        p.bool("timestamp.kafka.native", false)?,
    ) {
        (Some(_), true) => {
            return Err(err(
                "timestamp.field.name",
                "and timestamp.kafka.native=true exclude each other (as in the connector)",
            ))
        }
        (Some(f), false) if f.contains(',') => {
            let fields: Vec<String> = f.split(',').map(|s| s.trim().to_string()).collect();
            if fields.iter().any(String::is_empty) {
                return Err(err(
                    "timestamp.field.name",
                    format!("`{f}`: an empty field name"),
                ));
            }
            if let Some(dup) = fields
                .iter()
                .enumerate()
                .find(|(i, x)| fields[..*i].contains(x))
            {
                return Err(err(
                    "timestamp.field.name",
                    format!("`{f}`: `{}` twice", dup.1),
                ));
            }
            Designated::Composed(fields)
        }
        (Some(f), false) => Designated::Field(f.to_string()),
        (None, true) => Designated::Kafka,
        (None, false) => Designated::ServerTime,
    };
    let units = Units::parse(p.get("timestamp.units").unwrap_or("auto"))
        .map_err(|m| err("timestamp.units", m))?;
    let pattern = p
        .get("timestamp.string.format")
        .unwrap_or(timestamp::DEFAULT_FORMAT);
    let format = Format::compile(pattern).map_err(|m| err("timestamp.string.format", m))?;
    let converter = |prefix: &str| -> Result<Converter, ConfigError> {
        let key = format!("{prefix}.converter");
        let schemas = p.bool(&format!("{key}.schemas.enable"), true)?;
        match p.get(&key) {
            None | Some(JSON_CONVERTER) => Ok(Converter::Json { schemas }),
            Some(STRING_CONVERTER) => Ok(Converter::String),
            Some(other) => Err(err(
                &key,
                format!("`{other}` is not implemented; use {JSON_CONVERTER} (with or without schemas) or {STRING_CONVERTER}"),
            )),
        }
    };
    let table = parse_table(p.get("table"))?;
    if p.get("tasks.max").is_some_and(|t| t != "1") {
        notices.push(
            "tasks.max: this process is one task; run one process per task with --task N".into(),
        );
    }
    Ok(ConnectorConfig {
        table,
        include_key: p.bool("include.key", true)?,
        key_prefix: p.get("key.prefix").unwrap_or("key").to_string(),
        value_prefix: p.get("value.prefix").unwrap_or("").to_string(),
        skip_unsupported_types: p.bool("skip.unsupported.types", false)?,
        designated,
        units,
        format,
        string_timestamps: list("timestamp.string.fields"),
        symbols: list("symbols"),
        doubles: list("doubles"),
        key_converter: converter("key")?,
        value_converter: converter("value")?,
    })
}

/// The connector's table template: `${topic}`, `${key}`, `${partition}`; no nesting.
fn parse_table(template: Option<&str>) -> Result<Vec<TablePart>, ConfigError> {
    let Some(template) = template.filter(|t| !t.is_empty()) else {
        return Ok(vec![TablePart::Topic]);
    };
    if template
        .chars()
        .any(|c| "\n\r?,'\"\\/:)(+*%~".contains(c) || c.is_control())
    {
        return Err(err(
            "table",
            format!("`{template}` contains a character QuestDB refuses in table names"),
        ));
    }
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let end = rest[start..]
            .find('}')
            .map(|e| start + e)
            .ok_or_else(|| err("table", format!("`{template}`: missing closing '}}'")))?;
        if rest[start + 2..end].contains("${") {
            return Err(err("table", format!("`{template}`: nested templates")));
        }
        if start > 0 {
            parts.push(TablePart::Literal(rest[..start].to_string()));
        }
        parts.push(match &rest[start + 2..end] {
            "topic" => TablePart::Topic,
            "key" => TablePart::Key,
            "partition" => TablePart::Partition,
            other => {
                return Err(err(
                    "table",
                    format!("`{template}`: unknown template `${{{other}}}`; expected ${{topic}}, ${{key}} or ${{partition}}"),
                ))
            }
        });
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(TablePart::Literal(rest.to_string()));
    }
    Ok(parts)
}

/// The host of `addr=HOST:PORT` in an ILP configuration string.
fn conf_addr_host(conf: &str) -> Option<&str> {
    let (_, params) = conf.split_once("::")?;
    let addr = params
        .split(';')
        .find_map(|kv| kv.trim().strip_prefix("addr="))?;
    Some(addr.rsplit_once(':').map_or(addr, |(h, _)| h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Tolerance;
    use rstest::rstest;

    /// The connector's own sample file, in the shape its docs give.
    const BASE: &str = "name=questdb-sink\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=trades\nclient.conf.string=http::addr=localhost:9000;\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n";

    fn config(extra: &str) -> Result<SinkConfig, ConfigError> {
        SinkConfig::from_properties(&crate::properties::parse(&format!("{BASE}{extra}")))
    }

    fn connector(extra: &str) -> ConnectorConfig {
        match config(extra).unwrap().mapping {
            Mapping::QuestDbConnector(c) => (*c).clone(),
            Mapping::Jdbc => panic!("the JDBC mapping"),
        }
    }

    #[test]
    fn is_recognised_by_its_class_with_its_defaults() {
        let c = config("").unwrap();
        assert_eq!(c.ilp.as_deref(), Some("http::addr=localhost:9000;"));
        assert_eq!(
            (c.connection.host.as_str(), c.connection.port),
            ("localhost", 8812)
        );
        assert_eq!((c.max_retries, c.retry_backoff.as_millis()), (10, 3000));
        assert_eq!(c.errors.tolerance, Tolerance::None);
        assert!(c.notices.is_empty(), "{:?}", c.notices);
        let k = connector("");
        assert_eq!(k.table, [TablePart::Topic]);
        assert!(k.include_key, "include.key defaults to true");
        assert_eq!(
            (k.key_prefix.as_str(), k.value_prefix.as_str()),
            ("key", "")
        );
        assert_eq!(k.designated, Designated::ServerTime);
        assert_eq!(k.units, None);
        assert_eq!(k.format.pattern(), "yyyy-MM-ddTHH:mm:ss.SSSUUUZ");
        assert_eq!(k.value_converter, Converter::Json { schemas: false });
        assert_eq!(k.key_converter, Converter::Json { schemas: true });
        assert!(!k.skip_unsupported_types);
    }

    #[test]
    fn reads_every_mapping_key() {
        let k = connector(
            "table=t_${topic}_${partition}\ninclude.key=false\nkey.prefix=k\nvalue.prefix=v\nskip.unsupported.types=true\ntimestamp.field.name=ts\ntimestamp.units=nanos\ntimestamp.string.fields=a, b\ntimestamp.string.format=yyyy-MM-dd HH:mm:ss\nsymbols=s1,s2\ndoubles=d\nkey.converter=org.apache.kafka.connect.storage.StringConverter\n",
        );
        assert_eq!(
            k.table,
            [
                TablePart::Literal("t_".into()),
                TablePart::Topic,
                TablePart::Literal("_".into()),
                TablePart::Partition
            ]
        );
        assert_eq!(k.table_name("trades", "null", 3), "t_trades_3");
        assert!(!k.include_key && !k.reads_key());
        assert_eq!((k.key_prefix.as_str(), k.value_prefix.as_str()), ("k", "v"));
        assert!(k.skip_unsupported_types);
        assert_eq!(k.designated, Designated::Field("ts".into()));
        assert_eq!(k.units, Some(Units::Nanos));
        assert_eq!(k.string_timestamps, ["a", "b"]);
        assert_eq!(k.symbols, ["s1", "s2"]);
        assert_eq!(k.doubles, ["d"]);
        assert_eq!(k.key_converter, Converter::String);
        assert_eq!(
            connector("timestamp.field.name=date, time").designated,
            Designated::Composed(vec!["date".into(), "time".into()])
        );
        assert_eq!(
            connector("timestamp.kafka.native=true").designated,
            Designated::Kafka
        );
        assert!(connector("include.key=false\ntable=${key}").reads_key());
    }

    #[rstest]
    #[case::both_timestamps(
        "timestamp.field.name=ts\ntimestamp.kafka.native=true",
        "timestamp.field.name"
    )]
    #[case::composed_empty("timestamp.field.name=a,,b", "timestamp.field.name")]
    #[case::composed_twice("timestamp.field.name=a,a", "timestamp.field.name")]
    #[case::units("timestamp.units=days", "timestamp.units")]
    #[case::format("timestamp.string.format=G yyyy", "timestamp.string.format")]
    #[case::table_template("table=${offset}", "table")]
    #[case::table_unclosed("table=a_${topic", "table")]
    #[case::table_char("table=a/b", "table")]
    #[case::tcp("client.conf.string=tcp::addr=localhost:9009;", "client.conf.string")]
    #[case::auto_flush_off(
        "client.conf.string=http::addr=localhost:9000;auto_flush=off;",
        "client.conf.string"
    )]
    #[case::tls_key("tls=true", "tls")]
    #[case::converter(
        "value.converter=io.confluent.connect.avro.AvroConverter",
        "value.converter"
    )]
    #[case::lag("allowed.lag=0", "allowed.lag")]
    #[case::transforms("transforms=unwrap", "transforms")]
    #[case::include_key("include.key=maybe", "include.key")]
    fn refuses_what_it_cannot_do_naming_the_key(#[case] line: &str, #[case] key: &str) {
        let e = config(&format!("{line}\n")).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }

    #[test]
    fn the_tcp_host_setting_is_refused_naming_it() {
        let text = BASE.replace(
            "client.conf.string=http::addr=localhost:9000;\n",
            "host=localhost:9009\n",
        );
        let e = SinkConfig::from_properties(&crate::properties::parse(&text)).unwrap_err();
        assert_eq!(e.key, "host", "{e}");
    }

    #[test]
    fn keys_that_change_nothing_here_become_notices() {
        let c = config("allowed.lag=500\ndlq.send.batch.on.error=true\nfoo=1\n").unwrap();
        for key in ["allowed.lag", "dlq.send.batch.on.error", "foo"] {
            assert!(
                c.notices.iter().any(|n| n.starts_with(key)),
                "{key}: {:?}",
                c.notices
            );
        }
    }

    #[test]
    fn the_seed_keeps_the_jdbc_mapping() {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let c = SinkConfig::from_properties(&crate::properties::parse(seed)).unwrap();
        assert_eq!(c.mapping, Mapping::Jdbc);
    }
}
