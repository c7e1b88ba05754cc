//! The CPU half of a batch: every record decoded and mapped to its row (or the problem it has),
//! with no connection involved, so that the pipeline can prepare the next batch while the
//! current one is being written.

use crate::config::{KeyConverter, Mapping, SinkConfig};
use crate::connect::cache::{SchemaCache, Shared};
use crate::connect::json::DecodeOptions;
use crate::connect::scalar::Scalar;
use crate::connect::schema::{Schema, Type};
use crate::connect::value::Value;
use crate::error::{Problem, RecordAt};
use crate::mapping::jdbc::PkMode;
use crate::mapping::jdbc::{self, Column, Coordinates, SqlParam};
use crate::mapping::questdb_connector::flatten::{self, Datum};
use crate::mapping::questdb_connector::loose::Loose;
use crate::mapping::questdb_connector::{ConnectorConfig, Converter};
use crate::mapping::transform;
use rdkafka::message::{Message, OwnedMessage};
use std::sync::Arc;

/// A decoded record on its way to a table.
pub(crate) struct Row {
    /// Its place in the batch.
    pub index: usize,
    pub table: String,
    pub columns: Arc<Vec<Column>>,
    pub params: Vec<SqlParam>,
}

/// One record of a batch, ready for the writer.
pub(crate) struct Prepared {
    /// `Ok(None)`: nothing to write (QuestDB's connector skips tombstones).
    pub row: Result<Option<Row>, Problem>,
    /// The values decoding changed as JsonConverter changes them, counted and sampled by the run.
    pub coercions: Vec<Coerced>,
}

/// One value decoding changed, and where: formatted only when it is logged or sampled, so that
/// a stream of coerced records costs no text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Coerced {
    pub at: RecordAt,
    pub coercion: crate::connect::Coercion,
}

impl Coerced {
    /// The field as a log or a metric names it: the root is `(value)`.
    pub fn field(&self) -> &str {
        if self.coercion.field.is_empty() {
            "(value)"
        } else {
            &self.coercion.field
        }
    }
}

impl std::fmt::Display for Coerced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.coercion;
        write!(
            f,
            "{}: field \"{}\": {} {} stored as {}, as JsonConverter stores it",
            self.at,
            self.field(),
            c.target,
            c.written,
            c.stored
        )
    }
}

pub(crate) fn at(message: &OwnedMessage) -> RecordAt {
    RecordAt {
        topic: message.topic().to_string(),
        partition: message.partition(),
        offset: message.offset(),
    }
}

pub(crate) struct Preparer {
    /// Shared, so that a batch can be prepared on a thread of its own.
    config: Arc<SinkConfig>,
    /// Each distinct schema is decoded once (values' and, with `pk.mode=record_key`, keys').
    schemas: SchemaCache,
    /// The schema of every key read with `key.converter=StringConverter`: an optional string.
    string_key: Arc<Schema>,
    /// The last column list of QuestDB-connector rows, shared by the rows that have the same.
    last_connector_columns: Option<Arc<Vec<Column>>>,
    /// Records of a struct of scalars are decoded without a value tree; off only in the test
    /// that compares both ways.
    flat_path: bool,
}

/// The coercions decoding made, with where.
fn coercion_notes<'a>(
    message: &'a OwnedMessage,
    coercions: &'a [crate::connect::Coercion],
) -> impl Iterator<Item = Coerced> + 'a {
    coercions.iter().map(move |c| Coerced {
        at: at(message),
        coercion: c.clone(),
    })
}

/// The payload of an envelope whose schema is null, as schemaless JSON.
fn schemaless_payload(bytes: &[u8]) -> Result<Holder, ()> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| ())?;
    Ok(match json.get("payload").map(Loose::from_json) {
        None | Some(Loose::Null) => Holder::None,
        Some(v) => Holder::Loose(v),
    })
}

/// A converted key or value, owned while its row is made.
enum Holder {
    None,
    Schema(Shared),
    Loose(Loose),
}

impl Holder {
    fn into_data(self) -> transform::Data {
        match self {
            Holder::None => (None, Value::Null),
            Holder::Schema(s) => (Some((*s.schema).clone()), s.value),
            Holder::Loose(v) => (None, transform::from_loose(v)),
        }
    }

    /// A transformed key or value; schemaless data back as schemaless JSON.
    fn of(schema: Option<Schema>, value: Value) -> Result<Holder, Problem> {
        Ok(match (schema, value) {
            (_, Value::Null) => Holder::None,
            (Some(schema), value) => Holder::Schema(Shared {
                schema: Arc::new(schema),
                value,
                coercions: Vec::new(),
            }),
            (None, value) => match transform::to_loose(value) {
                Some(v) => Holder::Loose(v),
                None => {
                    return Err(Problem::Mapping(jdbc::MappingError::NotAStruct {
                        found: "schemaless data JSON cannot hold".into(),
                    }))
                }
            },
        })
    }

    fn datum(&self) -> Option<Datum<'_>> {
        match self {
            Holder::None => None,
            Holder::Schema(s) => Some(Datum::Schema(&s.schema, &s.value)),
            Holder::Loose(v) => Some(Datum::Loose(v)),
        }
    }
}

/// Why a converter refused the bytes.
enum Converted {
    Decode(crate::connect::DecodeError),
    Text(String),
}

/// A record's value as a row is made of it: the decoder's tree, or the fields of a struct of
/// scalars decoded without one.
enum Fields<'a, 'm> {
    Tree(&'a Value),
    Flat(&'a [Scalar<'m>]),
}

/// The value's schema and, with `pk.mode=record_key`, the key's: what a table's columns come
/// from.
type Schemas = (Arc<Schema>, Option<Arc<Schema>>);

/// The cache hands out one Arc per distinct schema: comparing pointers is enough for the
/// common case.
fn same_schemas(a: &Schemas, b: &Schemas) -> bool {
    let same = |x: &Arc<Schema>, y: &Arc<Schema>| Arc::ptr_eq(x, y) || **x == **y;
    same(&a.0, &b.0)
        && match (&a.1, &b.1) {
            (None, None) => true,
            (Some(x), Some(y)) => same(x, y),
            _ => false,
        }
}

impl Preparer {
    pub fn new(config: Arc<SinkConfig>) -> Preparer {
        Preparer {
            config,
            schemas: SchemaCache::new(),
            string_key: Arc::new(Schema {
                optional: true,
                ..Schema::new(Type::String)
            }),
            last_connector_columns: None,
            flat_path: true,
        }
    }

    /// Every record of `batch`, in order, mapped the way `connector.class` chose.
    pub fn batch(&mut self, batch: &[OwnedMessage]) -> Vec<Prepared> {
        match &self.config.mapping {
            Mapping::Jdbc => self.jdbc_batch(batch),
            Mapping::QuestDbConnector(c) => {
                let c = c.clone();
                batch
                    .iter()
                    .enumerate()
                    .map(|(index, message)| self.connector_record(&c, index, message))
                    .collect()
            }
        }
    }

    /// A record as QuestDB's connector writes it: key and value converted, then flattened.
    fn connector_record(
        &mut self,
        c: &ConnectorConfig,
        index: usize,
        message: &OwnedMessage,
    ) -> Prepared {
        let mut coercions = Vec::new();
        let row = (|| {
            let value = self.convert(
                c.value_converter,
                message.payload(),
                &mut coercions,
                message,
            );
            let value = value.map_err(|e| match e {
                Converted::Decode(e) => Problem::Decode(e),
                Converted::Text(e) => Problem::Decode(crate::connect::DecodeError {
                    field: None,
                    kind: crate::connect::DecodeErrorKind::NotJson(e),
                }),
            })?;
            let key = if c.reads_key() || self.config.transforms.is_some() {
                self.convert(c.key_converter, message.key(), &mut coercions, message)
                    .map_err(|e| match e {
                        Converted::Decode(e) => Problem::Key(e.to_string()),
                        Converted::Text(e) => Problem::Key(e),
                    })?
            } else {
                Holder::None
            };
            let (topic, key, value) = match &self.config.transforms {
                None => (message.topic().to_owned(), key, value),
                Some(t) => {
                    match transform::apply(t, message, key.into_data(), value.into_data())? {
                        None => return Ok(None),
                        Some(r) => (
                            r.topic,
                            Holder::of(r.key_schema, r.key)?,
                            Holder::of(r.value_schema, r.value)?,
                        ),
                    }
                }
            };
            let record = flatten::Record {
                topic: &topic,
                partition: message.partition(),
                kafka_timestamp_ms: message.timestamp().to_millis(),
                key: key.datum(),
                value: value.datum(),
            };
            let Some(row) = flatten::row(c, &record)? else {
                return Ok(None);
            };
            let table = row.table.clone();
            let (columns, params) = row.into_sql();
            // Consecutive rows of the same columns share one list, so they are one write.
            let columns = match &self.last_connector_columns {
                Some(last) if **last == columns => last.clone(),
                _ => {
                    let columns = Arc::new(columns);
                    self.last_connector_columns = Some(columns.clone());
                    columns
                }
            };
            Ok(Some(Row {
                index,
                table,
                columns,
                params,
            }))
        })();
        Prepared { row, coercions }
    }

    /// A key or value through its converter.
    fn convert(
        &mut self,
        converter: Converter,
        bytes: Option<&[u8]>,
        coercions: &mut Vec<Coerced>,
        message: &OwnedMessage,
    ) -> Result<Holder, Converted> {
        let Some(bytes) = bytes else {
            return Ok(Holder::None);
        };
        match converter {
            Converter::Json { schemas: true } => {
                let decode = DecodeOptions {
                    overflow: self.config.overflow,
                };
                match self.schemas.decode(Some(bytes), &decode) {
                    Ok(Some(shared)) => {
                        coercions.extend(coercion_notes(message, &shared.coercions));
                        Ok(Holder::Schema(shared))
                    }
                    Ok(None) => Ok(Holder::None),
                    // JsonConverter reads `{"schema": null, "payload": ...}` as schemaless,
                    // which QuestDB's connector takes (the JDBC sink needs a schema).
                    Err(e) if e.kind == crate::connect::DecodeErrorKind::SchemaNull => {
                        schemaless_payload(bytes).map_err(|_| Converted::Decode(e))
                    }
                    Err(e) => Err(Converted::Decode(e)),
                }
            }
            Converter::Json { schemas: false } => match Loose::decode(Some(bytes)) {
                Ok(Some(v)) => Ok(Holder::Loose(v)),
                Ok(None) => Ok(Holder::None),
                Err(e) => Err(Converted::Text(e)),
            },
            Converter::String => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Holder::Schema(Shared {
                    schema: self.string_key.clone(),
                    value: Value::String(text.to_owned()),
                    coercions: Vec::new(),
                })),
                Err(e) => Err(Converted::Text(format!(
                    "not UTF-8 text, which StringConverter needs: {e}"
                ))),
            },
        }
    }

    /// The JDBC sink's way: the schema gives the columns.
    fn jdbc_batch(&mut self, batch: &[OwnedMessage]) -> Vec<Prepared> {
        let decode = DecodeOptions {
            overflow: self.config.overflow,
        };
        let mut last_columns: Option<(Schemas, Arc<Vec<Column>>)> = None;
        let mut out = Vec::with_capacity(batch.len());
        let config = self.config.clone();
        // One vector for every record's fields on the flat path.
        let mut fields = Vec::new();
        for (index, message) in batch.iter().enumerate() {
            let mut coercions = Vec::new();
            if let Some(t) = &config.transforms {
                let row =
                    self.jdbc_transformed(t, index, message, &mut coercions, &mut last_columns);
                out.push(Prepared { row, coercions });
                continue;
            }
            let flat = match self.flat_path {
                true => self.flat_row(
                    index,
                    message,
                    &decode,
                    &mut fields,
                    &mut coercions,
                    &mut last_columns,
                ),
                false => None,
            };
            if let Some(row) = flat {
                out.push(Prepared { row, coercions });
                continue;
            }
            let row = match self.schemas.decode(message.payload(), &decode) {
                Ok(Some(decoded)) => {
                    coercions.extend(coercion_notes(message, &decoded.coercions));
                    match self.decode_key(message, &decode) {
                        Ok(key) => self
                            .to_row(
                                index,
                                message.topic(),
                                message,
                                (decoded.schema, key.as_ref().map(|k| k.schema.clone())),
                                Fields::Tree(&decoded.value),
                                key.as_ref().map(|k| &k.value),
                                &mut last_columns,
                            )
                            .map(Some),
                        Err(problem) => Err(problem),
                    }
                }
                Ok(None) => Err(Problem::Tombstone),
                Err(e) => Err(Problem::Decode(e)),
            };
            out.push(Prepared { row, coercions });
        }
        out
    }

    /// The common shape without a value tree ([`SchemaCache::decode_flat`]): the same row, or
    /// the same problem, as the tree's. `None` for a record off that path: the caller decodes
    /// it again with the tree (and so names its error).
    fn flat_row<'m>(
        &mut self,
        index: usize,
        message: &'m OwnedMessage,
        decode: &DecodeOptions,
        fields: &mut Vec<Scalar<'m>>,
        coercions: &mut Vec<Coerced>,
        last: &mut Option<(Schemas, Arc<Vec<Column>>)>,
    ) -> Option<Result<Option<Row>, Problem>> {
        let flat = self
            .schemas
            .decode_flat(message.payload()?, decode, fields)?;
        // Moved, not cloned: the guide's record has a coercion in every record.
        coercions.extend(flat.coercions.into_iter().map(|coercion| Coerced {
            at: at(message),
            coercion,
        }));
        let row = self.decode_key(message, decode).and_then(|key| {
            self.to_row(
                index,
                message.topic(),
                message,
                (flat.schema, key.as_ref().map(|k| k.schema.clone())),
                Fields::Flat(fields),
                key.as_ref().map(|k| &k.value),
                last,
            )
        });
        Some(row.map(Some))
    }

    /// The record key, decoded, with `pk.mode=record_key`; `None` otherwise (keys are not read).
    fn decode_key(
        &mut self,
        message: &OwnedMessage,
        decode: &DecodeOptions,
    ) -> Result<Option<Shared>, Problem> {
        if self.config.pk_mode != PkMode::RecordKey {
            return Ok(None);
        }
        self.read_key(message, decode)?
            .map(Some)
            .ok_or(Problem::MissingKey)
    }

    /// The record key through `key.converter`; `None` for a null key.
    fn read_key(
        &mut self,
        message: &OwnedMessage,
        decode: &DecodeOptions,
    ) -> Result<Option<Shared>, Problem> {
        let Some(bytes) = message.key() else {
            return Ok(None);
        };
        match self.config.key_converter {
            KeyConverter::Json => match self.schemas.decode(Some(bytes), decode) {
                Ok(Some(key)) => Ok(Some(key)),
                Ok(None) => Ok(None),
                Err(e) => Err(Problem::Key(e.to_string())),
            },
            KeyConverter::String => match std::str::from_utf8(bytes) {
                Ok(text) => Ok(Some(Shared {
                    schema: self.string_key.clone(),
                    value: Value::String(text.to_owned()),
                    coercions: Vec::new(),
                })),
                Err(e) => Err(Problem::Key(format!(
                    "not UTF-8 text, which key.converter=StringConverter needs: {e}"
                ))),
            },
        }
    }

    /// A JDBC record through `transforms=`: decoded (the key too, as the worker does), the
    /// chain applied, the result mapped; `Ok(None)` when a transform filtered it out.
    fn jdbc_transformed(
        &mut self,
        t: &transform::Transforms,
        index: usize,
        message: &OwnedMessage,
        coercions: &mut Vec<Coerced>,
        last: &mut Option<(Schemas, Arc<Vec<Column>>)>,
    ) -> Result<Option<Row>, Problem> {
        let decode = DecodeOptions {
            overflow: self.config.overflow,
        };
        let data = |shared: Option<Shared>| match shared {
            Some(s) => (Some((*s.schema).clone()), s.value),
            None => (None, Value::Null),
        };
        let value = self.schemas.decode(message.payload(), &decode)?;
        if let Some(v) = &value {
            coercions.extend(coercion_notes(message, &v.coercions));
        }
        let key = data(self.read_key(message, &decode)?);
        let Some(r) = transform::apply(t, message, key, data(value))? else {
            return Ok(None);
        };
        let schema = match (r.value_schema, &r.value) {
            (_, Value::Null) => return Err(Problem::Tombstone),
            (Some(schema), _) => Arc::new(schema),
            (None, _) => {
                return Err(Problem::Mapping(jdbc::MappingError::NotAStruct {
                    found: "schemaless data".into(),
                }))
            }
        };
        let key = match (self.config.pk_mode, r.key_schema, &r.key) {
            (PkMode::RecordKey, Some(schema), key) if !key.is_null() => {
                Some((Arc::new(schema), key))
            }
            (PkMode::RecordKey, _, _) => return Err(Problem::MissingKey),
            _ => None,
        };
        let schemas = (schema, key.as_ref().map(|k| k.0.clone()));
        self.to_row(
            index,
            &r.topic,
            message,
            schemas,
            Fields::Tree(&r.value),
            key.map(|k| k.1),
            last,
        )
        .map(Some)
    }

    #[allow(clippy::too_many_arguments)]
    fn to_row(
        &self,
        index: usize,
        // The record's topic after any transform: it names the table.
        topic: &str,
        message: &OwnedMessage,
        schemas: Schemas,
        value: Fields,
        key: Option<&Value>,
        last: &mut Option<(Schemas, Arc<Vec<Column>>)>,
    ) -> Result<Row, Problem> {
        let columns = match last {
            Some((s, columns)) if same_schemas(s, &schemas) => columns.clone(),
            _ => {
                let (schema, key_schema) = &schemas;
                let mut columns =
                    jdbc::columns(schema, self.config.pk_mode, &self.config.fields_whitelist)?;
                if let Some(key_schema) = key_schema {
                    let key_columns = jdbc::key_columns(key_schema, &self.config.pk_fields)?;
                    columns = jdbc::with_key_columns(key_columns, columns);
                }
                if let Some(native) = &self.config.native {
                    columns = native.columns(columns)?;
                }
                let columns = Arc::new(columns);
                *last = Some((schemas, columns.clone()));
                columns
            }
        };
        let coordinates = Coordinates {
            topic,
            partition: message.partition(),
            offset: message.offset(),
            timestamp_ms: message.timestamp().to_millis(),
        };
        let params = match value {
            Fields::Tree(value) => jdbc::row(&columns, value, key, coordinates)?,
            Fields::Flat(fields) => jdbc::flat::row(&columns, fields, key, coordinates)?,
        };
        if let Some(native) = &self.config.native {
            native.check_row(&columns, &params)?;
        }
        Ok(Row {
            index,
            table: self.config.table_name(topic),
            columns,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::Timestamp;

    const SCHEMA: &str = r#"{"type":"struct","fields":[{"type":"int8","field":"a"},{"type":"string","optional":true,"field":"b"}]}"#;

    fn message(offset: i64, payload: Option<String>) -> OwnedMessage {
        OwnedMessage::new(
            payload.map(String::into_bytes),
            None,
            "events".into(),
            Timestamp::CreateTime(1_700_000_000_000),
            3,
            offset,
            None,
        )
    }

    fn record(payload: &str) -> Option<String> {
        Some(format!(r#"{{"schema":{SCHEMA},"payload":{payload}}}"#))
    }

    #[test]
    fn a_batch_becomes_rows_and_problems_in_order() {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let config = SinkConfig::from_properties(&crate::config::properties::parse(seed)).unwrap();
        let batch = vec![
            message(10, record(r#"{"a":1,"b":"x"}"#)),
            message(11, None),
            message(12, record(r#"{"a":"one"}"#)),
            message(13, record(r#"{"a":300}"#)),
        ];
        let prepared = Preparer::new(Arc::new(config)).batch(&batch);
        assert_eq!(prepared.len(), 4);
        let row = prepared[0]
            .row
            .as_ref()
            .expect("a row")
            .as_ref()
            .expect("a row");
        assert_eq!((row.index, row.table.as_str()), (0, "events"));
        assert_eq!(row.params, [SqlParam::I16(1), SqlParam::Text("x".into())]);
        assert!(matches!(prepared[1].row, Err(Problem::Tombstone)));
        assert!(matches!(prepared[2].row, Err(Problem::Decode(_))));
        let wrapped = prepared[3]
            .row
            .as_ref()
            .expect("a row")
            .as_ref()
            .expect("a row");
        assert_eq!(wrapped.params, [SqlParam::I16(44), SqlParam::Null]);
        assert!(
            Arc::ptr_eq(&row.columns, &wrapped.columns),
            "one schema, one column list"
        );
        assert_eq!(
            prepared[3]
                .coercions
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["topic events, partition 3, offset 13: field \"a\": int8 300 stored as 44, as JsonConverter stores it"]
        );
        assert!(prepared[..3].iter().all(|p| p.coercions.is_empty()));
    }

    /// A batch's rows and problems as text: what the flat and the tree path must agree on.
    fn rendered(prepared: &[Prepared]) -> Vec<String> {
        prepared
            .iter()
            .map(|p| {
                let row = match &p.row {
                    Ok(Some(r)) => {
                        format!("{} {} {:?} {:?}", r.index, r.table, r.columns, r.params)
                    }
                    Ok(None) => "skipped".into(),
                    Err(problem) => format!("problem: {problem}"),
                };
                let notes: Vec<String> = p.coercions.iter().map(ToString::to_string).collect();
                format!("{row} {notes:?}")
            })
            .collect()
    }

    /// Struct-of-scalar records, good and bad, under the settings that change a row (keys,
    /// coordinates, the native timestamp, a whitelist): the flat path prepares exactly what the
    /// value tree does, rows, problems and coercion notes.
    #[test]
    fn the_flat_path_prepares_what_the_value_tree_does() {
        let schema = r#"{"type":"struct","fields":[{"type":"boolean","field":"flag"},{"type":"int8","field":"id8"},{"type":"int32","optional":true,"field":"i"},{"type":"int64","optional":true,"field":"l"},{"type":"float","optional":true,"field":"f"},{"type":"double","optional":true,"field":"d"},{"type":"string","optional":true,"field":"msg"},{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","optional":true,"field":"ts"},{"type":"int32","name":"org.apache.kafka.connect.data.Date","optional":true,"field":"day"},{"type":"string","default":"dflt","field":"s"}]}"#;
        let payloads = [
            r#"{"flag":false,"id8":222,"i":222,"l":222,"f":222,"d":333,"msg":"hi"}"#,
            r#"{"flag":true,"id8":1,"msg":"a\"b\u00e9","ts":1700000000000,"day":19000,"s":"x"}"#,
            r#"{"flag":true,"id8":1,"i":-2147483648}"#,
            r#"{"flag":true,"id8":1,"l":-9223372036854775808}"#,
            r#"{"flag":true,"id8":1,"f":1e39,"d":1e309}"#,
            r#"{"flag":true,"id8":1,"ts":9223372036854775807}"#,
            r#"{"flag":true,"id8":1,"day":2147483647}"#,
            r#"{"flag":true,"id8":"one"}"#,
            r#"{"id8":1,"flag":true}"#,
            r#"null"#,
        ];
        let key = r#"{"schema":{"type":"int32"},"payload":5}"#;
        let mut batch: Vec<OwnedMessage> = payloads
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut m = message(
                    i as i64,
                    Some(format!(r#"{{"schema":{schema},"payload":{p}}}"#)),
                );
                if i % 3 != 2 {
                    m = OwnedMessage::new(
                        m.payload().map(<[u8]>::to_vec),
                        Some(key.as_bytes().to_vec()),
                        "events".into(),
                        m.timestamp(),
                        3,
                        i as i64,
                        None,
                    );
                }
                m
            })
            .collect();
        batch.push(message(99, None));
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        for extra in [
            "",
            "pk.mode=kafka\n",
            "insert.mode=upsert\npk.mode=record_key\ntimestamp.field.name=ts\nkey.converter=org.apache.kafka.connect.json.JsonConverter\nkey.converter.schemas.enable=true\npk.fields=k\n",
            "timestamp.kafka.native=true\n",
            "fields.whitelist=msg,id8,ts\nerrors.tolerance=all\n",
            "value.converter.wrap.overflow=false\n",
        ] {
            let text = format!("{seed}\n{extra}");
            let config = SinkConfig::from_properties(&crate::config::properties::parse(&text))
                .unwrap_or_else(|e| panic!("{extra}: {e}"));
            let config = Arc::new(config);
            let mut flat = Preparer::new(config.clone());
            let mut tree = Preparer::new(config);
            tree.flat_path = false;
            // Twice: the second batch finds the schemas and the columns cached.
            for _ in 0..2 {
                assert_eq!(
                    rendered(&flat.batch(&batch)),
                    rendered(&tree.batch(&batch)),
                    "{extra}"
                );
            }
        }
    }

    /// QuestDB-connector mode never needs PG wire for a row: one of only its timestamp is a bad
    /// record with or without `connection.url` (the connector fails on it too).
    #[test]
    fn a_connector_row_of_only_its_timestamp_is_a_bad_record_with_or_without_pg_wire() {
        let base = "name=q\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=events\nclient.conf.string=http::addr=localhost:9000;\ntimestamp.field.name=ts\n";
        let batch = vec![
            message(0, Some(r#"{"schema":null,"payload":{"ts":1000}}"#.into())),
            message(
                1,
                Some(r#"{"schema":null,"payload":{"ts":1000,"a":1}}"#.into()),
            ),
        ];
        let with_pg = format!("{base}connection.url=jdbc:postgresql://localhost:8812/qdb\n");
        for text in [base, with_pg.as_str()] {
            let config =
                SinkConfig::from_properties(&crate::config::properties::parse(text)).unwrap();
            let prepared = Preparer::new(Arc::new(config)).batch(&batch);
            match &prepared[0].row {
                Err(p @ Problem::Row(_)) => {
                    assert!(p.to_string().contains("no symbols or columns"), "{p}")
                }
                other => panic!("{:?}", other.as_ref().map(|r| r.is_some())),
            }
            assert!(matches!(prepared[1].row, Ok(Some(_))));
        }
    }

    #[test]
    fn questdb_connector_records_become_ilp_rows_and_tombstones_nothing() {
        let text = "name=q\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=events\nclient.conf.string=http::addr=localhost:9000;\n";
        let config = SinkConfig::from_properties(&crate::config::properties::parse(text)).unwrap();
        let batch = vec![
            message(0, Some(r#"{"schema":null,"payload":{"a":1}}"#.into())),
            message(1, record(r#"{"a":2,"b":"x"}"#)),
            message(2, None),
            message(3, Some(r#"{"a":1}"#.into())),
        ];
        let prepared = Preparer::new(Arc::new(config)).batch(&batch);
        let row = |i: usize| prepared[i].row.as_ref().unwrap().as_ref().unwrap();
        // A null schema is schemaless JSON to JsonConverter, and to the connector.
        assert_eq!(row(0).params, [SqlParam::I64(1), SqlParam::Null]);
        assert_eq!(
            row(1).params,
            [SqlParam::I64(2), SqlParam::Text("x".into()), SqlParam::Null]
        );
        assert_eq!(row(1).table, "events");
        assert!(
            matches!(prepared[2].row, Ok(None)),
            "a tombstone is skipped"
        );
        assert!(matches!(prepared[3].row, Err(Problem::Decode(_))));
    }
}
