//! Connect's transform chain (`transforms=`, `predicates=`; [`crate::connect::transforms`]) in
//! the pipeline: built from the connector's keys, run on each decoded record before it is mapped
//! to a row, as a Connect worker runs it between the converters and the sink task.

use crate::config::error::ConfigError;
use crate::connect::schema::{Schema, Type};
use crate::connect::transforms::{is_chain_key, Chain, Header, Record, TransformError};
use crate::connect::value::Value;
use crate::mapping::questdb_connector::loose::Loose;
use rdkafka::message::{Headers, Message, OwnedMessage};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The configured chain; `None` in [`crate::SinkConfig`] without `transforms`.
#[derive(Clone)]
pub struct Transforms {
    /// The chain's keys, which say what it is (for `Debug` and equality).
    keys: BTreeMap<String, String>,
    chain: Arc<Chain>,
}

impl std::fmt::Debug for Transforms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.keys.iter()).finish()
    }
}

impl PartialEq for Transforms {
    fn eq(&self, other: &Transforms) -> bool {
        self.keys == other.keys
    }
}

impl Transforms {
    /// The chain the properties configure, `None` when they name no transform. A class or key
    /// the chain does not implement is refused, naming it.
    pub fn from_properties(
        props: &BTreeMap<String, String>,
    ) -> Result<Option<Transforms>, ConfigError> {
        let chain = Chain::from_properties(props).map_err(|e| ConfigError {
            key: e.key,
            message: e.message,
        })?;
        if chain.is_empty() {
            return Ok(None);
        }
        let keys = props
            .iter()
            .filter(|(k, _)| is_chain_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Some(Transforms {
            keys,
            chain: Arc::new(chain),
        }))
    }
}

/// A decoded key or value: its schema (`None`: schemaless, or a null) and its value.
pub(crate) type Data = (Option<Schema>, Value);

/// The record through the chain. `Ok(None)`: a transform filtered it out (nothing to write; its
/// offset is committed). A transform's failure names the transform; it makes the record bad.
pub(crate) fn apply(
    transforms: &Transforms,
    message: &OwnedMessage,
    key: Data,
    value: Data,
) -> Result<Option<Record>, Box<TransformError>> {
    let record = Record {
        topic: message.topic().to_owned(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: message.timestamp().to_millis(),
        key_schema: key.0,
        key: key.1,
        value_schema: value.0,
        value: value.1,
        headers: headers(message),
    };
    transforms.chain.apply(record).map_err(Box::new)
}

/// Kafka's headers as Connect headers. Deviation: header-text — a header's bytes are a string
/// (bytes when not UTF-8); Connect's SimpleHeaderConverter also infers numbers, booleans, dates,
/// lists and maps. Neither mapping writes headers, and the predicates read their keys only.
fn headers(message: &OwnedMessage) -> Vec<Header> {
    let Some(headers) = message.headers() else {
        return Vec::new();
    };
    headers
        .iter()
        .map(|h| {
            let (schema, value) = match h.value {
                None => (None, Value::Null),
                Some(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => (Some(Schema::new(Type::String)), Value::String(text.into())),
                    Err(_) => (Some(Schema::new(Type::Bytes)), Value::Bytes(bytes.to_vec())),
                },
            };
            Header {
                key: h.key.to_owned(),
                schema,
                value,
            }
        })
        .collect()
}

/// Schemaless JSON (QuestDB's connector with `schemas.enable=false`) as Connect data without a
/// schema, as JsonConverter hands it to transforms.
pub(crate) fn from_loose(loose: Loose) -> Value {
    match loose {
        Loose::Null => Value::Null,
        Loose::Bool(b) => Value::Boolean(b),
        Loose::Long(n) => Value::Int64(n),
        Loose::Double(d) => Value::Float64(d),
        Loose::String(s) => Value::String(s),
        Loose::List(items) => Value::Array(items.into_iter().map(from_loose).collect()),
        Loose::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::String(k), from_loose(v)))
                .collect(),
        ),
    }
}

/// Connect data without a schema back as schemaless JSON; `None` for what JSON cannot hold (the
/// transforms that make such data need a schema, so this is not expected).
pub(crate) fn to_loose(value: Value) -> Option<Loose> {
    Some(match value {
        Value::Null => Loose::Null,
        Value::Boolean(b) => Loose::Bool(b),
        Value::Int8(n) => Loose::Long(n.into()),
        Value::Int16(n) => Loose::Long(n.into()),
        Value::Int32(n) => Loose::Long(n.into()),
        Value::Int64(n) => Loose::Long(n),
        Value::Float32(f) => Loose::Double(f.into()),
        Value::Float64(f) => Loose::Double(f),
        Value::String(s) => Loose::String(s),
        Value::Array(items) => Loose::List(items.into_iter().map(to_loose).collect::<Option<_>>()?),
        Value::Map(entries) => Loose::Map(
            entries
                .into_iter()
                .map(|(k, v)| match k {
                    Value::String(k) => Some((k, to_loose(v)?)),
                    _ => None,
                })
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
    use rdkafka::Timestamp;

    fn props(text: &str) -> BTreeMap<String, String> {
        crate::config::properties::parse(text)
    }

    fn message() -> OwnedMessage {
        let headers = OwnedHeaders::new()
            .insert(KafkaHeader {
                key: "trace",
                value: Some("abc"),
            })
            .insert(KafkaHeader::<&[u8]> {
                key: "none",
                value: None,
            });
        OwnedMessage::new(
            None,
            None,
            "server.public.orders".into(),
            Timestamp::CreateTime(1_700_000_000_000),
            2,
            41,
            Some(headers),
        )
    }

    fn string(s: &str) -> Data {
        (Some(Schema::new(Type::String)), Value::String(s.into()))
    }

    #[test]
    fn no_transforms_no_chain() {
        assert!(Transforms::from_properties(&props("name=x\n"))
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_refused_class_or_key_names_it() {
        let e = Transforms::from_properties(&props(
            "transforms=x\ntransforms.x.type=io.questdb.kafka.OrderBookToArray$Value\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "transforms.x.type");
        let e = Transforms::from_properties(&props(
            "transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\ntransforms.unwrap.drop.tombstones=false\n",
        ))
        .unwrap_err();
        assert_eq!(e.key, "transforms.unwrap.drop.tombstones");
    }

    #[test]
    fn the_record_carries_its_coordinates_and_headers_through_the_chain() {
        let t = Transforms::from_properties(&props(
            "transforms=route,hk\ntransforms.route.type=org.apache.kafka.connect.transforms.RegexRouter\ntransforms.route.regex=[^.]+\\.[^.]+\\.(.*)\ntransforms.route.replacement=$1\ntransforms.hk.type=org.apache.kafka.connect.transforms.Filter\ntransforms.hk.predicate=has\ntransforms.hk.negate=true\npredicates=has\npredicates.has.type=org.apache.kafka.connect.transforms.predicates.HasHeaderKey\npredicates.has.name=trace\n",
        ))
        .unwrap()
        .unwrap();
        let out = apply(&t, &message(), (None, Value::Null), string("v"))
            .unwrap()
            .expect("kept: it has the header");
        assert_eq!(out.topic, "orders");
        assert_eq!((out.partition, out.offset), (2, 41));
        assert_eq!(out.timestamp, Some(1_700_000_000_000));
        assert_eq!(out.headers[0].value, Value::String("abc".into()));
        assert_eq!(out.headers[1].value, Value::Null);
    }

    #[test]
    fn a_filtered_record_is_none_and_a_failure_names_the_transform() {
        let t = Transforms::from_properties(&props(
            "transforms=drop\ntransforms.drop.type=org.apache.kafka.connect.transforms.Filter\n",
        ))
        .unwrap()
        .unwrap();
        assert!(apply(&t, &message(), (None, Value::Null), string("v"))
            .unwrap()
            .is_none());
        let t = Transforms::from_properties(&props(
            "transforms=pick\ntransforms.pick.type=org.apache.kafka.connect.transforms.ExtractField$Value\ntransforms.pick.field=a\n",
        ))
        .unwrap()
        .unwrap();
        let e = crate::error::Problem::Transform(
            apply(&t, &message(), (None, Value::Null), string("v")).unwrap_err(),
        );
        assert!(e.to_string().contains("`pick`"), "{e}");
        assert_eq!(e.stage(), "TRANSFORMATION");
    }

    fn prepared(config: &str, batch: &[OwnedMessage]) -> Vec<crate::mapping::prepare::Prepared> {
        let config = crate::SinkConfig::from_properties(&props(config)).unwrap();
        assert!(config.transforms.is_some());
        crate::mapping::prepare::Preparer::new(Arc::new(config)).batch(batch)
    }

    fn record(topic: &str, offset: i64, value: Option<&str>) -> OwnedMessage {
        OwnedMessage::new(
            value.map(|v| v.as_bytes().to_vec()),
            None,
            topic.into(),
            Timestamp::CreateTime(1_700_000_000_000),
            0,
            offset,
            None,
        )
    }

    const ROUTE: &str = "transforms=route,drop\ntransforms.route.type=org.apache.kafka.connect.transforms.RegexRouter\ntransforms.route.regex=[^.]+\\.[^.]+\\.(.*)\ntransforms.route.replacement=$1\ntransforms.drop.type=org.apache.kafka.connect.transforms.Filter\ntransforms.drop.predicate=tomb\npredicates=tomb\npredicates.tomb.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone\n";

    #[test]
    fn the_jdbc_mapping_writes_the_routed_table_and_skips_the_filtered() {
        let seed = include_str!("../../../fixtures/seed/connect-jdbc.properties");
        let value = r#"{"schema":{"type":"struct","fields":[{"type":"int32","field":"id"}]},"payload":{"id":7}}"#;
        let out = prepared(
            &format!("{seed}\n{ROUTE}"),
            &[
                record("db.public.orders", 0, Some(value)),
                record("db.public.orders", 1, None),
            ],
        );
        let row = out[0].row.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(row.table, "orders");
        assert!(
            matches!(out[1].row, Ok(None)),
            "a filtered tombstone: nothing to write"
        );
    }

    #[test]
    fn the_connector_mapping_routes_schemaless_json_and_reports_a_failing_transform() {
        let conf = "name=q\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=x\nclient.conf.string=http::addr=localhost:9000;\nvalue.converter.schemas.enable=false\n";
        let out = prepared(
            &format!("{conf}{ROUTE}"),
            &[
                record("db.public.ticks", 0, Some(r#"{"p":1.5}"#)),
                record("db.public.ticks", 1, None),
            ],
        );
        let row = out[0].row.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(row.table, "ticks");
        assert!(matches!(out[1].row, Ok(None)));
        // A transform that looks inside schemaless data refuses it (deviation `schemaless`).
        let pick = "transforms=pick\ntransforms.pick.type=org.apache.kafka.connect.transforms.ExtractField$Value\ntransforms.pick.field=p\n";
        let out = prepared(
            &format!("{conf}{pick}"),
            &[record("t", 0, Some(r#"{"p":1.5}"#))],
        );
        assert!(matches!(
            out[0].row,
            Err(crate::error::Problem::Transform(_))
        ));
    }

    #[test]
    fn schemaless_json_goes_through_and_back() {
        let loose = Loose::Map(vec![
            ("a".into(), Loose::Long(1)),
            (
                "b".into(),
                Loose::List(vec![Loose::Double(1.5), Loose::Null]),
            ),
        ]);
        assert_eq!(to_loose(from_loose(loose.clone())), Some(loose));
        assert_eq!(to_loose(Value::Bytes(vec![1])), None);
    }
}
