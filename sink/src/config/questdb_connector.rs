//! QuestDB's connector's keys (`io.questdb.kafka.QuestDBSinkConnector` 0.23) as this sink's
//! configuration: `client.conf.string` (or `QDB_CLIENT_CONF`) with its variables, the table
//! template, and the mapping's keys ([`ConnectorConfig`]).

use crate::config::common::{self, Props, JSON_CONVERTER, STRING_CONVERTER};
use crate::config::{err, ConfigError, Connection, IlpConf, KeyConverter, Mapping, SinkConfig};
use crate::connect::json::Overflow;
use crate::mapping::jdbc::PkMode;
use crate::mapping::questdb_connector::timestamp::{self, Format, Units};
use crate::mapping::questdb_connector::{ConnectorConfig, Converter, Designated, TablePart};
use crate::mapping::transform::Transforms;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Every key of the connector 0.23's `ConfigDef` besides the keys every sink connector has
/// (`common::unknown_keys` knows those); anything else is reported as unused.
const CONNECTOR_KEYS: &[&str] = &[
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
    // The sink's own: PG wire, only for rows ILP cannot spell (a row of only its timestamp).
    "connection.url",
    "connection.user",
    "connection.password",
];

/// The sink's config for a QuestDB-connector properties file, with this process's environment
/// (`QDB_CLIENT_CONF`, `${VAR}` in `client.conf.string`).
pub fn sink_config(props: &BTreeMap<String, String>) -> Result<SinkConfig, ConfigError> {
    sink_config_in(props, &|name| std::env::var(name).ok())
}

/// [`sink_config`] with `env` as the environment.
pub fn sink_config_in(
    props: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SinkConfig, ConfigError> {
    let p = Props(props);
    let mut notices = Vec::new();
    let name = p.required("name")?.to_string();
    let topics = common::topics(&p)?;
    let connector = connector_config(&p, &mut notices)?;

    // Deviation: only ILP over HTTP (the connector also speaks ILP over TCP, whose errors it
    // cannot attribute to a record, and reads QDB_CLIENT_CONF from the environment).
    // As the connector: the string from the file or else from QDB_CLIENT_CONF (not both),
    // with `${VAR}` replaced from the environment and `$$` meaning `$`.
    let from_env = env("QDB_CLIENT_CONF").filter(|c| !c.is_empty());
    let conf = match (p.get("client.conf.string").filter(|c| !c.is_empty()), from_env) {
        (Some(_), Some(_)) => {
            return Err(err(
                "client.conf.string",
                "is set and so is the QDB_CLIENT_CONF environment variable; set one of them (as the connector requires)",
            ))
        }
        (Some(conf), None) => Some(conf.to_string()),
        (None, from_env) => from_env,
    };
    let conf = match conf {
        Some(conf) => Some(expand_env(&conf, env).map_err(|m| err("client.conf.string", m))?),
        None => None,
    };
    let conf = match conf.as_deref() {
        Some(conf) if conf.starts_with("http::") || conf.starts_with("https::") => conf,
        Some(conf) => {
            return Err(err(
                "client.conf.string",
                format!(
                    "`{}::...`: only ILP over HTTP is implemented, e.g. http::addr=127.0.0.1:9000;",
                    // The scheme only: the rest may hold a token.
                    conf.split("::").next().unwrap_or_default()
                ),
            ))
        }
        None if p.get("host").is_some() => {
            return Err(err(
                "host",
                "ILP over TCP (`host`, deprecated by the connector) is not implemented; set client.conf.string=http::addr=HOST:9000;",
            ))
        }
        None => {
            return Err(err(
                "client.conf.string",
                "missing (and no QDB_CLIENT_CONF in the environment): e.g. http::addr=127.0.0.1:9000;",
            ))
        }
    };
    let (conf, flush_keys) = without_auto_flush(conf).map_err(|m| err("client.conf.string", m))?;
    let conf = conf.as_str();
    if !flush_keys.is_empty() {
        notices.push(format!("client.conf.string: {}: the connector's flush settings; rows are written per batch here, and the Rust client takes no auto-flush keys", flush_keys.join(", ")));
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
    let transforms = Transforms::from_properties(props)?;
    // Deviation: errors.tolerance=all skips a record this mapping cannot write even without a
    // dead letter queue or errors.log.enable (the connector has no error reporter then and
    // fails the task); a batch QuestDB refuses is always split to find the bad records.
    let errors = common::error_policy(&p, &mut notices)?;
    let operations = common::operations(&p)?;
    common::unknown_keys(props, CONNECTOR_KEYS, &mut notices);
    // The connector speaks ILP only, and so does this mode unless `connection.url` is set:
    // it waits for QuestDB and checks its health over ILP's HTTP port. With PG wire configured,
    // a row of only its timestamp (which ILP cannot spell) is written over it; without, such a
    // row is a bad record, as the connector fails on it.
    let pg_wire = p.get("connection.url").is_some();
    let connection = match p.get("connection.url") {
        Some(url) => crate::config::jdbc::connection(&p, url)?,
        // Never used: where `--pg-host`/`--pg-port` would point if it were.
        None => Connection {
            host,
            port: 8812,
            database: "qdb".into(),
            user: "admin".into(),
            password: "quest".into(),
        },
    };
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
    // Connect's Kafka security keys, translated as for the JDBC sink's properties.
    let consumer_overrides = common::client_settings(props, "consumer.override.", &mut notices)?;
    let producer_overrides = common::client_settings(props, "producer.override.", &mut notices)?;
    Ok(SinkConfig {
        name,
        topics,
        connection,
        pg_wire,
        pk_mode: PkMode::None,
        pk_fields: Vec::new(),
        key_converter: KeyConverter::Json,
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
        consumer_overrides,
        producer_overrides,
        ilp: Some(IlpConf(conf.to_string())),
        native: None,
        overflow: Overflow::Wrap,
        operations,
        notices,
        mapping: Mapping::QuestDbConnector(Arc::new(connector)),
        transforms,
    })
}

/// The connector's `${VAR}` expansion of a client configuration string: `$$` is `$`, `${NAME}`
/// the variable's value (an undefined one, an empty or invalid name, or no `}` is an error), any
/// other `$` itself. Not recursive.
pub fn expand_env(input: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail
                .find('}')
                .ok_or_else(|| format!("an unclosed ${{ in `{input}`"))?;
            let name = &tail[..end];
            let valid = name
                .chars()
                .enumerate()
                .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
            if name.is_empty() || !valid {
                return Err(format!("`${{{name}}}` is not a variable name"));
            }
            let value =
                env(name).ok_or_else(|| format!("environment variable '{name}' is not defined"))?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The HTTP configuration string without the keys the connector takes for its own flushing
/// (`auto_flush`, `auto_flush_rows`, `auto_flush_interval`; validated as it does: `off` is
/// refused) and the Rust client would refuse; with the keys removed. `;;` is an escaped `;`.
pub fn without_auto_flush(conf: &str) -> Result<(String, Vec<String>), String> {
    let Some((scheme, params)) = conf.split_once("::") else {
        return Ok((conf.to_string(), Vec::new()));
    };
    let mut out = format!("{scheme}::");
    let mut removed = Vec::new();
    let mut rest = params;
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            out.push_str(rest); // malformed: left for the client to refuse
            break;
        };
        // The value ends at a `;` that is not doubled.
        let mut value = String::new();
        let mut chars = after.char_indices().peekable();
        let mut end = after.len();
        while let Some((i, c)) = chars.next() {
            if c == ';' {
                if matches!(chars.peek(), Some((_, ';'))) {
                    chars.next();
                    value.push(';');
                    continue;
                }
                end = i + 1;
                break;
            }
            value.push(c);
        }
        rest = &after[end.min(after.len())..];
        let key = key.trim();
        match key {
            "auto_flush" => match value.as_str() {
                "on" => {}
                "off" => {
                    return Err(
                        "auto_flush=off: the connector cannot have auto-flush disabled".into(),
                    )
                }
                other => return Err(format!("unknown auto_flush value `{other}`")),
            },
            "auto_flush_rows" | "auto_flush_interval" => {
                if value == "off" {
                    return Err(format!("{key}=off: the connector cannot have it disabled"));
                }
                if value.parse::<i64>().is_err() {
                    return Err(format!("invalid {key} value `{value}`"));
                }
            }
            _ => {
                out.push_str(&format!("{key}={};", value.replace(';', ";;")));
                continue;
            }
        }
        removed.push(format!("{key}={value}"));
    }
    Ok((out, removed))
}

/// The connector's own keys (those that decide how records become rows).
fn connector_config(p: &Props, notices: &mut Vec<String>) -> Result<ConnectorConfig, ConfigError> {
    let list = |key: &str| p.get(key).map(common::split_list).unwrap_or_default();
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
    use crate::mapping::questdb_connector::ConnectorConfig;
    use rstest::rstest;

    /// The connector's own sample file, in the shape its docs give.
    const BASE: &str = "name=questdb-sink\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=trades\nclient.conf.string=http::addr=localhost:9000;\nvalue.converter=org.apache.kafka.connect.json.JsonConverter\nvalue.converter.schemas.enable=false\n";

    fn config(extra: &str) -> Result<SinkConfig, ConfigError> {
        SinkConfig::from_properties(&crate::config::properties::parse(&format!("{BASE}{extra}")))
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
        assert_eq!(
            c.ilp.as_ref().map(|i| i.as_str()),
            Some("http::addr=localhost:9000;")
        );
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
    #[case::transform_type("transforms=unwrap", "transforms.unwrap.type")]
    #[case::own_transform(
        "transforms=x\ntransforms.x.type=io.questdb.kafka.StructArrayExplode",
        "transforms.x.type"
    )]
    #[case::include_key("include.key=maybe", "include.key")]
    fn refuses_what_it_cannot_do_naming_the_key(#[case] line: &str, #[case] key: &str) {
        let e = config(&format!("{line}\n")).unwrap_err();
        assert_eq!(e.key, key, "{e}");
    }

    #[rstest]
    #[case("http::addr=h:9000;", "http::addr=h:9000;")]
    #[case("http::addr=h:9000;token=${TOKEN};", "http::addr=h:9000;token=s3cr$t;")]
    #[case("a$$b", "a$b")]
    #[case("a$${TOKEN}", "a${TOKEN}")]
    #[case("a$$${TOKEN}", "a$s3cr$t")]
    #[case("$TOKEN and $", "$TOKEN and $")]
    fn client_conf_expands_variables_as_the_connector(#[case] input: &str, #[case] out: &str) {
        let env = |k: &str| (k == "TOKEN").then(|| "s3cr$t".to_string());
        assert_eq!(expand_env(input, &env), Ok(out.to_string()));
    }

    #[rstest]
    #[case("${NOPE}")]
    #[case("${}")]
    #[case("${1A}")]
    #[case("${A-B}")]
    #[case("${OPEN")]
    fn client_conf_variables_must_be_defined_and_well_formed(#[case] input: &str) {
        let env = |k: &str| (k == "1A" || k == "A-B").then(String::new);
        assert!(expand_env(input, &env).is_err(), "{input}");
    }

    #[rstest]
    #[case("http::addr=h:9000;", "http::addr=h:9000;", &[])]
    #[case("http::addr=h:9000;auto_flush_rows=1000;auto_flush_interval=500;retry_timeout=2000;", "http::addr=h:9000;retry_timeout=2000;", &["auto_flush_rows=1000", "auto_flush_interval=500"])]
    #[case("https::addr=h:9000;auto_flush=on;password=a;;b;", "https::addr=h:9000;password=a;;b;", &["auto_flush=on"])]
    #[case("http::addr=h:9000", "http::addr=h:9000;", &[])]
    fn the_connectors_flush_keys_are_taken_out(
        #[case] conf: &str,
        #[case] out: &str,
        #[case] removed: &[&str],
    ) {
        let (patched, keys) = without_auto_flush(conf).unwrap();
        assert_eq!(
            (
                patched.as_str(),
                keys.iter().map(String::as_str).collect::<Vec<_>>()
            ),
            (out, removed.to_vec())
        );
    }

    #[rstest]
    #[case("http::addr=h;auto_flush=off;")]
    #[case("http::addr=h;auto_flush_rows=off;")]
    #[case("http::addr=h;auto_flush_interval=soon;")]
    #[case("http::addr=h;auto_flush=maybe;")]
    fn flush_settings_the_connector_refuses_are_refused(#[case] conf: &str) {
        assert!(without_auto_flush(conf).is_err(), "{conf}");
    }

    #[test]
    fn pg_wire_only_when_connection_url_is_set() {
        let c = sink_config_in(&crate::config::properties::parse(BASE), &|_| None).unwrap();
        assert!(!c.pg_wire, "the connector speaks ILP only");
        assert!(c.notices.iter().all(|n| !n.contains("connection.")));
        let text = format!(
            "{BASE}connection.url=jdbc:postgresql://pghost:18812/qdb\nconnection.user=u\nconnection.password=p\n"
        );
        let c = sink_config_in(&crate::config::properties::parse(&text), &|_| None).unwrap();
        assert!(c.pg_wire);
        assert_eq!(
            (
                c.connection.host.as_str(),
                c.connection.port,
                c.connection.user.as_str()
            ),
            ("pghost", 18812, "u")
        );
        assert!(c.notices.is_empty(), "{:?}", c.notices);
    }

    #[test]
    fn client_conf_may_come_from_the_environment_but_not_twice() {
        let env =
            |k: &str| (k == "QDB_CLIENT_CONF").then(|| "http::addr=envhost:9000;".to_string());
        let without = crate::config::properties::parse(
            &BASE.replace("client.conf.string=http::addr=localhost:9000;\n", ""),
        );
        let c = sink_config_in(&without, &env).unwrap();
        assert_eq!(
            c.ilp.as_ref().map(|i| i.as_str()),
            Some("http::addr=envhost:9000;")
        );
        assert_eq!(c.connection.host, "envhost");
        let e = sink_config_in(&crate::config::properties::parse(BASE), &env).unwrap_err();
        assert_eq!(e.key, "client.conf.string", "{e}");
        let e = sink_config_in(&without, &|_| None).unwrap_err();
        assert!(e.message.contains("QDB_CLIENT_CONF"), "{e}");
    }

    #[test]
    fn the_tcp_host_setting_is_refused_naming_it() {
        let text = BASE.replace(
            "client.conf.string=http::addr=localhost:9000;\n",
            "host=localhost:9009\n",
        );
        let e = SinkConfig::from_properties(&crate::config::properties::parse(&text)).unwrap_err();
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
    fn client_overrides_are_used_not_reported() {
        let c = config(
            "consumer.override.security.protocol=SASL_SSL\n\
             producer.override.security.protocol=SASL_SSL\n",
        )
        .unwrap();
        assert!(c.notices.is_empty(), "{:?}", c.notices);
        assert!(c
            .producer_overrides
            .0
            .contains(&("security.protocol".into(), "sasl_ssl".into())));
    }

    #[test]
    fn the_seed_keeps_the_jdbc_mapping() {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let c = SinkConfig::from_properties(&crate::config::properties::parse(seed)).unwrap();
        assert_eq!(c.mapping, Mapping::Jdbc);
    }
}
