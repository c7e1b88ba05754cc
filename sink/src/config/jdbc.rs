//! The JDBC sink's own keys (`io.confluent.connect.jdbc.JdbcSinkConnector`): the connection
//! URL, keys and upserts, tables, batches and retries, and the opt-in QuestDB-native tables.

use crate::config::common::{
    client_settings, error_policy, operations, split_list, topics, unknown_keys, Props,
    JSON_CONVERTER, STRING_CONVERTER,
};
use crate::config::{err, ConfigError, Connection, IlpConf, KeyConverter, Mapping, SinkConfig};
use crate::connect::json::Overflow;
use crate::mapping::jdbc::native::{Dedup, DesignatedTimestamp, NativeTable, PartitionBy};
use crate::mapping::jdbc::PkMode;
use crate::mapping::transform::Transforms;
use std::collections::BTreeMap;
use std::time::Duration;

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

const JDBC_SINK_CLASSES: &[&str] = &[
    "io.confluent.connect.jdbc.JdbcSinkConnector",
    "JdbcSinkConnector",
];

/// The JDBC sink's configuration (any `connector.class` but QuestDB's connector's).
pub(crate) fn sink_config(props: &BTreeMap<String, String>) -> Result<SinkConfig, ConfigError> {
    let p = Props(props);
    let mut notices = Vec::new();
    let name = p.required("name")?.to_string();
    if let Some(class) = p.get("connector.class") {
        if !JDBC_SINK_CLASSES.contains(&class) {
            return Err(err(
                "connector.class",
                format!("`{class}` is not a connector this sink implements: io.confluent.connect.jdbc.JdbcSinkConnector or {}", crate::mapping::questdb_connector::CONNECTOR_CLASS),
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

    let connection = connection(&p, p.required("connection.url")?)?;

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
                format!("`{class}` is not supported; values are decoded as {JSON_CONVERTER} does"),
            ));
        }
    }
    let transforms = Transforms::from_properties(props)?;
    // Keys are read only with pk.mode=record_key or transforms (which see the key, as the
    // worker converts it before them); otherwise key.converter is ignored, as the JDBC sink
    // ignores keys then.
    let reads_keys = pk_mode == PkMode::RecordKey || transforms.is_some();
    let key_converter = match p.get("key.converter") {
        None | Some(JSON_CONVERTER) => KeyConverter::Json,
        Some(STRING_CONVERTER) => KeyConverter::String,
        Some(class) if reads_keys => {
            return Err(err("key.converter", format!("`{class}` is not supported with pk.mode=record_key or transforms; use {JSON_CONVERTER} (keys with schemas) or {STRING_CONVERTER}")));
        }
        Some(_) => KeyConverter::Json,
    };
    if reads_keys
        && key_converter == KeyConverter::Json
        && !p.bool("key.converter.schemas.enable", true)?
    {
        return Err(err(
            "key.converter.schemas.enable",
            "must be true with pk.mode=record_key (the key's schema gives its columns) or transforms (keys are read with their schemas)",
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
        pg_wire: true,
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
        transforms,
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

/// PG wire's endpoint and login: `connection.url`, `connection.user`, `connection.password`;
/// `user` and `password` parameters of the URL win, as in PgJDBC.
pub(crate) fn connection(p: &Props, url: &str) -> Result<Connection, ConfigError> {
    let (host, port, database) = parse_jdbc_url(url)?;
    let param = |name: &str| {
        url_params(url)
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    Ok(Connection {
        host,
        port,
        database,
        user: param("user")
            .or_else(|| p.get("connection.user").map(str::to_string))
            .unwrap_or_else(|| "admin".into()),
        password: param("password")
            .or_else(|| p.get("connection.password").map(str::to_string))
            .unwrap_or_else(|| "quest".into()),
    })
}

/// The `key=value` parameters after a URL's `?`.
fn url_params(url: &str) -> impl Iterator<Item = (&str, &str)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
}

/// A URL as errors show it: user info and the values of `password` and `sslpassword` as `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest
                .split_once('/')
                .map_or((rest, None), |(a, p)| (a, Some(p)));
            let authority = match authority.rsplit_once('@') {
                Some((_, host)) => format!("***@{host}"),
                None => authority.to_string(),
            };
            match path {
                Some(path) => format!("{scheme}://{authority}/{path}"),
                None => format!("{scheme}://{authority}"),
            }
        }
        None => base.to_string(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _))
                    if k.eq_ignore_ascii_case("password")
                        || k.eq_ignore_ascii_case("sslpassword") =>
                {
                    format!("{k}=***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Refuses, by name, a URL parameter that asks for TLS: the sink has no TLS client for PG wire
/// (and QuestDB open source offers none there), so a dropped `sslmode=require` would log in in
/// plain text. `sslmode=disable|allow|prefer` and `ssl=false` are honoured: no TLS.
/// Deviation: with `prefer` (PgJDBC's default) or `allow`, PgJDBC uses TLS when the server
/// offers it; the sink never does (docs/security.md).
fn check_tls_params(url: &str) -> Result<(), String> {
    const FIX: &str = "PG wire over TLS is not implemented (QuestDB open source offers no TLS on PG wire); remove it, or use sslmode=disable";
    for (key, value) in url_params(url) {
        let lower = key.to_ascii_lowercase();
        let refused = match lower.as_str() {
            "ssl" => !value.eq_ignore_ascii_case("false"),
            "sslmode" => match value {
                "disable" | "allow" | "prefer" => false,
                "require" | "verify-ca" | "verify-full" => true,
                other => return Err(format!("sslmode={other}: not a PgJDBC sslmode (disable, allow, prefer, require, verify-ca, verify-full)")),
            },
            // MySQL's spellings (the seed's URL has useSSL=false, which PgJDBC ignores): one
            // that asks for TLS is refused rather than ignored.
            "usessl" | "requiressl" => !value.eq_ignore_ascii_case("false"),
            _ => lower.starts_with("ssl"),
        };
        if refused {
            let shown = if lower == "sslpassword" { "***" } else { value };
            return Err(format!("{key}={shown}: {FIX}"));
        }
    }
    Ok(())
}

/// `jdbc:postgresql://host[:port]/database[?params]` -> (host, port, database). Parameters
/// that ask for TLS are refused by name ([`check_tls_params`]); `user` and `password` are read
/// by [`connection`]; others are ignored, as PgJDBC ignores those it does not know. User info
/// (`USER:PASSWORD@HOST`), which PgJDBC does not read, is refused. Errors never show a secret.
pub fn parse_jdbc_url(url: &str) -> Result<(String, u16, String), ConfigError> {
    let shown = redact_url(url);
    let bad = |why: &str| {
        err(
            "connection.url",
            format!("`{shown}` {why}; expected jdbc:postgresql://HOST:PORT/DATABASE, e.g. jdbc:postgresql://127.0.0.1:8812/qdb"),
        )
    };
    let rest = url
        .strip_prefix("jdbc:postgresql://")
        .ok_or_else(|| bad("is not a PostgreSQL JDBC URL"))?;
    let rest = rest.split('?').next().unwrap_or_default();
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err(bad("has user info (USER:PASSWORD@), which PgJDBC does not read: set connection.user and connection.password"));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("has an invalid port"))?),
        None => (authority, 5432),
    };
    if host.is_empty() {
        return Err(bad("has no host"));
    }
    check_tls_params(url).map_err(|why| err("connection.url", format!("`{shown}`: {why}")))?;
    let database = if database.is_empty() { "qdb" } else { database };
    Ok((host.to_string(), port, database.to_string()))
}
