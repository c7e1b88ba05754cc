//! The records and chains the transforms oracle test draws.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sink::connect::schema::{Field, Schema, Type};
use sink::connect::transforms::{Header, Record};
use sink::connect::{Decimal, Value};

pub fn primitive() -> impl Strategy<Value = (Schema, BoxedStrategy<Value>)> {
    prop_oneof![
        Just((
            Schema::new(Type::Int8),
            any::<i8>().prop_map(Value::Int8).boxed()
        )),
        Just((
            Schema::new(Type::Int16),
            any::<i16>().prop_map(Value::Int16).boxed()
        )),
        Just((
            Schema::new(Type::Int32),
            any::<i32>().prop_map(Value::Int32).boxed()
        )),
        Just((
            Schema::new(Type::Int64),
            any::<i64>().prop_map(Value::Int64).boxed()
        )),
        Just((
            Schema::new(Type::Float32),
            prop_oneof![proptest::num::f32::NORMAL, -1e6f32..1e6]
                .prop_map(|f| Value::Float32(if f == 0.0 { 0.0 } else { f }))
                .boxed()
        )),
        Just((
            Schema::new(Type::Float64),
            prop_oneof![proptest::num::f64::NORMAL, -1e9f64..1e9]
                .prop_map(|f| Value::Float64(if f == 0.0 { 0.0 } else { f }))
                .boxed()
        )),
        Just((
            Schema::new(Type::Boolean),
            any::<bool>().prop_map(Value::Boolean).boxed()
        )),
        Just((
            Schema::new(Type::String),
            prop_oneof![
                "[a-z]{0,6}",
                "-?[0-9]{1,4}",
                "(true|TRUE|false|x)",
                "[0-9]{4}-[01][0-9]-[0-2][0-9]"
            ]
            .prop_map(Value::String)
            .boxed()
        )),
        Just((
            Schema::new(Type::Bytes),
            proptest::collection::vec(any::<u8>(), 0..4)
                .prop_map(Value::Bytes)
                .boxed()
        )),
        Just((
            Schema::decimal(2, None),
            (-100_000i64..100_000)
                .prop_map(|u| Value::Decimal(Decimal::new(u, 2)))
                .boxed()
        )),
        Just((
            Schema::date(),
            (-1000i32..50_000).prop_map(Value::Date).boxed()
        )),
        Just((
            Schema::time(),
            (0i32..86_400_000).prop_map(Value::Time).boxed()
        )),
        Just((
            Schema::timestamp(),
            (-1_000_000_000_000i64..4_000_000_000_000)
                .prop_map(Value::Timestamp)
                .boxed()
        )),
    ]
}

/// A field: its schema (optional or not) and a value for it.
pub fn field(name: &'static str) -> impl Strategy<Value = (Field, Value)> {
    (primitive(), any::<bool>(), 0u8..10).prop_flat_map(
        move |((schema, values), optional, null)| {
            let schema = if optional { schema.optional() } else { schema };
            let null = optional && null == 0;
            values.prop_map(move |v| {
                let v = if null { Value::Null } else { v };
                (Field::new(name, schema.clone()), v)
            })
        },
    )
}

const NAMES: [&str; 5] = ["id", "name", "price", "ts", "note"];

pub fn row() -> impl Strategy<Value = (Schema, Value)> {
    (
        field(NAMES[0]),
        field(NAMES[1]),
        field(NAMES[2]),
        field(NAMES[3]),
        proptest::option::of(field(NAMES[4])),
        any::<bool>(),
        proptest::option::of((any::<i32>(), "[a-z]{0,3}")),
    )
        .prop_map(|(a, b, c, d, e, named, inner)| {
            let mut fields = vec![a, b, c, d];
            fields.extend(e);
            let mut schema_fields: Vec<Field> = fields.iter().map(|(f, _)| f.clone()).collect();
            let mut values: Vec<(String, Value)> =
                fields.into_iter().map(|(f, v)| (f.name, v)).collect();
            if let Some((x, y)) = inner {
                let s = Schema::structure(vec![
                    Field::new("a", Schema::new(Type::Int32)),
                    Field::new("b", Schema::new(Type::String).optional()),
                ])
                .optional();
                schema_fields.push(Field::new("inner", s));
                values.push((
                    "inner".into(),
                    Value::Struct(vec![
                        ("a".into(), Value::Int32(x)),
                        ("b".into(), Value::String(y)),
                    ]),
                ));
            }
            let mut s = Schema::structure(schema_fields);
            if named {
                s = s.named("server.public.orders.Value");
            }
            (s, Value::Struct(values))
        })
}

pub fn envelope() -> impl Strategy<Value = (Schema, Value)> {
    (row(), row(), 0u8..4, "(c|u|d|r)", any::<i64>()).prop_map(
        |((rs, before), (_, after), shape, op, ts)| {
            let row_schema = rs.optional();
            let after = match &after {
                // Both rows share the first row's schema.
                Value::Struct(_) => before.clone(),
                _ => after,
            };
            let (b, a) = match shape {
                0 => (Value::Null, after),
                1 => (before, Value::Null),
                2 => (Value::Null, Value::Null),
                _ => (before, after),
            };
            let source = Schema::structure(vec![
                Field::new("db", Schema::new(Type::String)),
                Field::new("table", Schema::new(Type::String)),
                Field::new("ts_ms", Schema::new(Type::Int64)),
            ]);
            let schema = Schema::structure(vec![
                Field::new("before", row_schema.clone()),
                Field::new("after", row_schema),
                Field::new("source", source),
                Field::new("op", Schema::new(Type::String)),
                Field::new("ts_ms", Schema::new(Type::Int64).optional()),
            ])
            .named("server.public.orders.Envelope");
            let source_value = Value::Struct(vec![
                ("db".into(), Value::String("shop".into())),
                ("table".into(), Value::String("orders".into())),
                ("ts_ms".into(), Value::Int64(ts)),
            ]);
            let value = Value::Struct(vec![
                ("before".into(), b),
                ("after".into(), a),
                ("source".into(), source_value),
                ("op".into(), Value::String(op)),
                ("ts_ms".into(), Value::Int64(ts)),
            ]);
            (schema, value)
        },
    )
}

pub fn record(envelope_value: bool) -> impl Strategy<Value = Record> {
    let value = if envelope_value {
        envelope().boxed()
    } else {
        row().boxed()
    };
    (
        value,
        0u8..3,
        any::<i32>(),
        "(orders|server\\.public\\.orders|a-b)",
        proptest::option::of(0i64..4_000_000_000_000),
        proptest::collection::vec(("(h1|h2)", "[a-z]{0,3}"), 0..3),
        0u8..8,
    )
        .prop_map(|((vs, v), key, k, topic, timestamp, headers, tomb)| {
            let (key_schema, key) = match key {
                0 => (None, Value::Null),
                1 => (
                    Some(Schema::new(Type::String).optional()),
                    Value::String(k.to_string()),
                ),
                _ => (
                    Some(Schema::structure(vec![Field::new(
                        "id",
                        Schema::new(Type::Int32),
                    )])),
                    Value::Struct(vec![("id".into(), Value::Int32(k))]),
                ),
            };
            let (value_schema, value) = if tomb == 0 {
                (None, Value::Null)
            } else {
                (Some(vs), v)
            };
            Record {
                topic,
                partition: 3,
                offset: 42,
                timestamp,
                key_schema,
                key,
                value_schema,
                value,
                headers: headers
                    .into_iter()
                    .map(|(k, v)| Header {
                        key: k,
                        schema: Some(Schema::new(Type::String)),
                        value: Value::String(v),
                    })
                    .collect(),
            }
        })
}

const K: &str = "org.apache.kafka.connect.transforms.";

pub fn pick<T: Clone + std::fmt::Debug + 'static>(items: &'static [T]) -> impl Strategy<Value = T> {
    proptest::sample::select(items)
}

/// One transform's keys (without the `transforms.<name>.` prefix).
pub fn transform() -> impl Strategy<Value = Vec<(String, String)>> {
    let f = || pick(&["id", "name", "price", "ts", "note", "inner", "missing"]);
    let types = || {
        pick(&[
            "int8", "int16", "int32", "int64", "float32", "float64", "boolean", "string",
        ])
    };
    let kv = |pairs: &[(&str, String)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<Vec<_>>()
    };
    prop_oneof![
        (f(), types()).prop_map(move |(f, t)| kv(&[
            ("type", format!("{K}Cast$Value")),
            ("spec", format!("{f}:{t}"))
        ])),
        (f(), types(), f(), types()).prop_map(move |(f, t, g, u)| kv(&[
            ("type", format!("{K}Cast$Value")),
            ("spec", format!("{f}:{t},{g}:{u}"))
        ])),
        types().prop_map(move |t| kv(&[("type", format!("{K}Cast$Key")), ("spec", t.to_owned())])),
        (f(), any::<bool>()).prop_map(move |(f, v2)| {
            let mut c = kv(&[
                ("type", format!("{K}ExtractField$Value")),
                (
                    "field",
                    if v2 {
                        format!("inner.{}", if f == "id" { "a" } else { "b" })
                    } else {
                        f.to_owned()
                    },
                ),
            ]);
            if v2 {
                c.push(("field.syntax.version".into(), "V2".into()));
            }
            c
        }),
        Just(kv(&[
            ("type", format!("{K}ExtractField$Key")),
            ("field", "id".into())
        ])),
        pick(&[".", "_"]).prop_map(move |d| kv(&[
            ("type", format!("{K}Flatten$Value")),
            ("delimiter", d.into())
        ])),
        pick(&["wrap", "id"]).prop_map(move |n| kv(&[
            ("type", format!("{K}HoistField$Value")),
            ("field", n.into())
        ])),
        Just(kv(&[
            ("type", format!("{K}HoistField$Key")),
            ("field", "k".into())
        ])),
        (
            pick(&[
                "topic.field",
                "partition.field",
                "offset.field",
                "timestamp.field"
            ]),
            pick(&["meta", "meta!", "meta?", "id"])
        )
            .prop_map(move |(k, v)| kv(&[
                ("type", format!("{K}InsertField$Value")),
                (k, v.into())
            ])),
        Just(kv(&[
            ("type", format!("{K}InsertField$Value")),
            ("static.field", "src".into()),
            ("static.value", "pg".into())
        ])),
        (
            f(),
            proptest::option::of(pick(&["0", "7", "x", "1.5", "-300"]))
        )
            .prop_map(move |(f, r)| {
                let mut c = kv(&[
                    ("type", format!("{K}MaskField$Value")),
                    ("fields", f.into()),
                ]);
                if let Some(r) = r {
                    c.push(("replacement".into(), r.into()));
                }
                c
            }),
        (
            pick(&["(\\w+)\\.(\\w+)\\.(\\w+)", "orders", "a-(.*)", ".*"]),
            pick(&["$3", "t_$1", "x", "$1$2"])
        )
            .prop_map(move |(r, s)| kv(&[
                ("type", format!("{K}RegexRouter")),
                ("regex", r.into()),
                ("replacement", s.into())
            ])),
        (pick(&["exclude", "include", "renames"]), f(), f()).prop_map(move |(k, a, b)| {
            let v = if k == "renames" {
                format!("{a}:{b}_new")
            } else {
                format!("{a},{b}")
            };
            kv(&[("type", format!("{K}ReplaceField$Value")), (k, v)])
        }),
        (
            proptest::option::of(pick(&[
                "renamed",
                "org.apache.kafka.connect.data.Timestamp"
            ])),
            proptest::option::of(1i32..5)
        )
            .prop_filter("one key", |(a, b)| a.is_some() || b.is_some())
            .prop_map(move |(n, v)| {
                let mut c = kv(&[("type", format!("{K}SetSchemaMetadata$Value"))]);
                if let Some(n) = n {
                    c.push(("schema.name".into(), n.into()));
                }
                if let Some(v) = v {
                    c.push(("schema.version".into(), v.to_string()));
                }
                c
            }),
        (
            f(),
            pick(&["string", "unix", "Date", "Time", "Timestamp"]),
            pick(&["yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss.SSS", "yyyyMMdd'T'HHmmss"]),
            pick(&["milliseconds", "seconds", "microseconds", "nanoseconds"])
        )
            .prop_map(move |(f, t, fmt, p)| kv(&[
                ("type", format!("{K}TimestampConverter$Value")),
                ("field", f.into()),
                ("target.type", t.into()),
                ("format", fmt.into()),
                ("unix.precision", p.into())
            ])),
        (
            pick(&["${topic}-${timestamp}", "t_${timestamp}"]),
            pick(&["yyyyMMdd", "yyyy-MM-dd'T'HH", "EEE MMM d yy a"])
        )
            .prop_map(move |(t, f)| kv(&[
                ("type", format!("{K}TimestampRouter")),
                ("topic.format", t.into()),
                ("timestamp.format", f.into())
            ])),
        (f(), any::<bool>()).prop_map(move |(f, two)| kv(&[
            ("type", format!("{K}ValueToKey")),
            ("fields", if two { format!("id,{f}") } else { f.into() })
        ])),
        pick(&["h1", "h1,h2", "h3"])
            .prop_map(move |h| kv(&[("type", format!("{K}DropHeaders")), ("headers", h.into())])),
        (
            pick(&["h1", "h9"]),
            pick(&["true", "42", "-70000", "hello", "5000000000"])
        )
            .prop_map(move |(h, v)| kv(&[
                ("type", format!("{K}InsertHeader")),
                ("header", h.into()),
                ("value.literal", v.into())
            ])),
        (f(), pick(&["move", "copy"])).prop_map(move |(f, o)| kv(&[
            ("type", format!("{K}HeaderFrom$Value")),
            ("fields", f.into()),
            ("headers", "hf".into()),
            ("operation", o.into())
        ])),
        Just(kv(&[("type", format!("{K}Filter"))])),
    ]
}

pub fn unwrap() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        pick(&[
            "drop",
            "tombstone",
            "rewrite",
            "rewrite-with-tombstone",
            "delete-to-tombstone",
        ]),
        proptest::option::of(pick(&[
            "op,source.ts_ms",
            "table,ts_ms",
            "op:operation,db",
            "source.table:tbl",
        ])),
        proptest::option::of(pick(&["op", "db,op"])),
        proptest::option::of(pick(&["meta_", ""])),
        proptest::option::of(pick(&["name"])),
    )
        .prop_map(|(mode, fields, headers, prefix, route)| {
            let mut c = vec![
                (
                    "type".to_owned(),
                    "io.debezium.transforms.ExtractNewRecordState".to_owned(),
                ),
                ("delete.tombstone.handling.mode".to_owned(), mode.to_owned()),
            ];
            if let Some(f) = fields {
                c.push(("add.fields".into(), f.into()));
            }
            if let Some(h) = headers {
                c.push(("add.headers".into(), h.into()));
            }
            if let Some(p) = prefix {
                c.push(("add.fields.prefix".into(), p.into()));
            }
            if let Some(r) = route {
                c.push(("route.by.field".into(), r.into()));
            }
            c
        })
}

pub fn predicate() -> impl Strategy<Value = Option<(Vec<(String, String)>, bool)>> {
    let p = "org.apache.kafka.connect.transforms.predicates.";
    proptest::option::of((
        prop_oneof![
            Just(vec![("type".to_owned(), format!("{p}RecordIsTombstone"))]),
            pick(&["h1", "h2"]).prop_map(move |h| vec![
                ("type".to_owned(), format!("{p}HasHeaderKey")),
                ("name".to_owned(), h.to_owned())
            ]),
            pick(&["orders", "server\\..*", "a-b|x"]).prop_map(move |r| vec![
                ("type".to_owned(), format!("{p}TopicNameMatches")),
                ("pattern".to_owned(), r.to_owned())
            ]),
        ],
        any::<bool>(),
    ))
}

pub fn config(envelope_value: bool) -> impl Strategy<Value = BTreeMap<String, String>> {
    let first = if envelope_value {
        unwrap().boxed()
    } else {
        transform().boxed()
    };
    (first, proptest::option::of(transform()), predicate()).prop_map(|(a, b, p)| {
        let mut c = BTreeMap::new();
        let mut names = vec!["a".to_owned()];
        for (k, v) in a {
            c.insert(format!("transforms.a.{k}"), v);
        }
        if let Some(b) = b {
            names.push("b".into());
            for (k, v) in b {
                c.insert(format!("transforms.b.{k}"), v);
            }
        }
        if let Some((keys, negate)) = p {
            c.insert("predicates".into(), "p".into());
            for (k, v) in keys {
                c.insert(format!("predicates.p.{k}"), v);
            }
            let last = names.last().expect("one").clone();
            c.insert(format!("transforms.{last}.predicate"), "p".into());
            c.insert(format!("transforms.{last}.negate"), negate.to_string());
        }
        c.insert("transforms".into(), names.join(","));
        c
    })
}
