//! The model (a schema and the values of each field, abstract enough to shrink well) and the
//! proptest strategies that draw it.

use super::*;
// ---------------------------------------------------------------------------------------------
// The model: a schema and the values of each field, abstract enough to shrink well.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float,
    Double,
    String,
    Bytes,
    Decimal { scale: u32, precision: Option<u32> },
    Date,
    Time,
    Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Bool(bool),
    /// An int8..int64 literal, possibly outside the type's range (it wraps).
    Int(i128),
    /// A float or double JSON number literal, as written.
    Num(String),
    Str(String),
    Bytes(Vec<u8>),
    /// A Decimal as base64 of the unscaled value at the schema's scale.
    DecBytes(i128),
    /// A Decimal as a JSON number with exactly `scale` digits after the point.
    DecNum {
        unscaled: i128,
        scale: u32,
    },
    Date(i64),
    Time(i64),
    Timestamp(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Slot {
    Value(Val),
    Null,
    Missing,
}

#[derive(Debug, Clone)]
pub(super) struct FieldSpec {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) optional: bool,
    pub(super) default: Option<Val>,
    /// One slot per record (MAX_RECORDS); the first `records` are used.
    pub(super) slots: Vec<Slot>,
}

#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) table_style: u8,
    pub(super) fields: Vec<FieldSpec>,
    /// The Timestamp field native mode designates, and where it goes among `fields`. Every
    /// path sees it; on the default path it is an ordinary TIMESTAMP column.
    pub(super) designated: (Index, FieldSpec),
    /// Every other field optional without a default, so that all-null rows can happen.
    pub(super) all_optional: bool,
    /// Per record: every optional field without a default is null (or missing) in it.
    pub(super) all_null: Vec<bool>,
    pub(super) records: usize,
    /// A field renamed to a name QuestDB rejects.
    pub(super) rejected: Option<(Index, String)>,
    /// One bad value: (record, field, variant).
    pub(super) fault: Option<(Index, Index, u8)>,
}

/// The model resolved: unique names, the fault applied.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub(super) table_style: u8,
    pub(super) fields: Vec<FieldSpec>,
    /// The index in `fields` of native mode's designated timestamp.
    pub(super) designated: usize,
    /// `records[r][f]`.
    pub(super) records: Vec<Vec<Slot>>,
    pub(super) rejected: Vec<String>,
    /// (record, field index, what is wrong).
    pub(super) fault: Option<(usize, usize, &'static str)>,
}

pub(super) fn plan(model: &Model) -> Plan {
    let mut fields = model.fields.clone();
    if model.all_optional {
        for f in &mut fields {
            f.optional = true;
            f.default = None;
        }
    }
    let designated = model.designated.0.index(fields.len() + 1);
    fields.insert(designated, model.designated.1.clone());
    // QuestDB column names are case-insensitive: keep them unique that way.
    let mut seen = std::collections::HashSet::new();
    for (i, f) in fields.iter_mut().enumerate() {
        while !seen.insert(f.name.to_lowercase()) {
            f.name = format!("{}_{i}", f.name);
        }
    }
    let mut rejected = Vec::new();
    if let Some((index, name)) = &model.rejected {
        let i = index.index(fields.len());
        let mut name = name.clone();
        while !seen.insert(name.to_lowercase()) {
            name.push('x');
        }
        fields[i].name = name.clone();
        rejected.push(name);
    }
    let mut records: Vec<Vec<Slot>> = (0..model.records)
        .map(|r| {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let nullable = f.optional && f.default.is_none();
                    match f.slots[r].clone() {
                        // Null and missing alike, both spellings in one row.
                        _ if model.all_null[r] && nullable && i != designated => {
                            if i % 2 == 0 {
                                Slot::Null
                            } else {
                                Slot::Missing
                            }
                        }
                        // A value drawn for a field made optional stays a value.
                        slot => slot,
                    }
                })
                .collect()
        })
        .collect();
    let mut fault = None;
    if let (Some((record, field, variant)), true) = (&model.fault, rejected.is_empty()) {
        let r = record.index(records.len());
        let start = field.index(fields.len());
        for k in 0..fields.len() {
            let f = (start + k) % fields.len();
            let candidates = faults(&fields[f]);
            if !candidates.is_empty() {
                let (slot, why) = candidates[*variant as usize % candidates.len()].clone();
                records[r][f] = slot;
                fault = Some((r, f, why));
                break;
            }
        }
    }
    Plan {
        table_style: model.table_style,
        fields,
        designated,
        records,
        rejected,
        fault,
    }
}

/// Values the document says are refused with an error naming the field.
pub(super) fn faults(field: &FieldSpec) -> Vec<(Slot, &'static str)> {
    let mut out: Vec<(Slot, &'static str)> = match &field.kind {
        Kind::Int32 => vec![
            (Slot::Value(Val::Int(-2147483648)), "INT NULL marker"),
            (
                Slot::Value(Val::Int(2147483648)),
                "INT NULL marker after wrap",
            ),
        ],
        Kind::Int64 => vec![
            (Slot::Value(Val::Int(i64::MIN.into())), "LONG NULL marker"),
            (
                Slot::Value(Val::Int(i128::from(i64::MAX) + 1)),
                "LONG NULL marker after wrap",
            ),
        ],
        Kind::Float => vec![
            (Slot::Value(Val::Num("1e39".into())), "FLOAT Infinity"),
            (Slot::Value(Val::Num("-1e39".into())), "FLOAT -Infinity"),
        ],
        Kind::Double => vec![
            (Slot::Value(Val::Num("1e400".into())), "DOUBLE Infinity"),
            (Slot::Value(Val::Num("-1e400".into())), "DOUBLE -Infinity"),
        ],
        Kind::Time => vec![
            (Slot::Value(Val::Time(-1)), "Time out of range"),
            (Slot::Value(Val::Time(86_400_001)), "Time out of range"),
        ],
        Kind::Decimal { scale, precision } => {
            let mut v = vec![(
                Slot::Value(Val::DecNum {
                    unscaled: 1,
                    scale: scale + 1,
                }),
                "Decimal with more digits after the point than the scale",
            )];
            if let Some(p) = precision
                .map(|_| column_precision(*scale, *precision))
                .filter(|p| *p <= 38)
            {
                v.push((
                    Slot::Value(Val::DecBytes(10i128.pow(p))),
                    "Decimal with more digits than the precision",
                ));
            }
            v
        }
        _ => vec![],
    };
    if !field.optional && field.default.is_none() {
        out.push((Slot::Null, "null in a required field"));
        out.push((Slot::Missing, "missing required field"));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Strategies.

pub(super) const KEYWORDS: &[&str] = &[
    "select",
    "from",
    "where",
    "table",
    "order",
    "group",
    "by",
    "limit",
    "case",
    "insert",
    "create",
    "drop",
    "timestamp",
    "symbol",
    "index",
    "null",
    "values",
];

pub(super) const UNICODE_NAMES: &[&str] = &[
    "ünïcödé",
    "名前",
    "größe",
    "Ωmega",
    "emoji😀",
    "naïve café",
    "Ärger",
];

pub(super) fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9_]{0,8}",
        1 => prop::sample::select(KEYWORDS).prop_map(String::from),
        1 => "[A-Z][a-zA-Z]{1,8}",
        1 => "[a-z]{1,5} [a-zA-Z]{1,5}",
        1 => prop::sample::select(UNICODE_NAMES).prop_map(String::from),
        1 => "[0-9][a-z0-9]{0,5}",
        1 => "_[a-z0-9]{0,6}",
    ]
}

pub(super) fn rejected_name() -> impl Strategy<Value = String> {
    "[a-z]{1,5}[-.][a-z]{1,5}"
}

pub(super) fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Boolean),
        Just(Kind::Int8),
        Just(Kind::Int16),
        Just(Kind::Int32),
        Just(Kind::Int64),
        Just(Kind::Float),
        Just(Kind::Double),
        Just(Kind::String),
        Just(Kind::Bytes),
        (0u32..=10, prop::option::of(1u32..=76)).prop_map(|(scale, p)| Kind::Decimal {
            scale,
            // precision == scale is drawn too: found by this test, it is now
            // fixtures/logical/decimal-precision-equals-scale.case.
            precision: p.map(|p| p.max(scale).max(1)),
        }),
        Just(Kind::Date),
        Just(Kind::Time),
        Just(Kind::Timestamp),
    ]
}

pub(super) fn wrap(literal: i128, bits: u32) -> i64 {
    let modulus = 1i128 << bits;
    let mut low = literal.rem_euclid(modulus);
    if low >= modulus / 2 {
        low -= modulus;
    }
    low as i64
}

pub(super) fn int_literal(bits: u32) -> BoxedStrategy<i128> {
    let max = (1i128 << (bits - 1)) - 1;
    let min = -(1i128 << (bits - 1));
    let has_marker = bits >= 32;
    prop_oneof![
        6 => min..=max,
        1 => prop::sample::select(vec![min, max, min + 1, max - 1, 0, -1, 1]),
        2 => (-(1i128 << 100))..(1i128 << 100),
        1 => (max + 1)..(max + 1000),
    ]
    // The NULL marker is a fault, never a regular value.
    .prop_map(move |l| {
        if has_marker && wrap(l, bits) == min as i64 {
            l + 1
        } else {
            l
        }
    })
    .boxed()
}

/// A JSON number with `mantissa` x 10^`exp`, written plainly when short, else with an exponent.
pub(super) fn number_literal(mantissa: i64, exp: i32) -> String {
    if (0..=3).contains(&exp) {
        return format!("{}", i128::from(mantissa) * 10i128.pow(exp as u32));
    }
    if (-9..0).contains(&exp) {
        let neg = mantissa < 0;
        let digits = mantissa.unsigned_abs().to_string();
        let places = (-exp) as usize;
        let padded = format!("{digits:0>width$}", width = places + 1);
        let (int, frac) = padded.split_at(padded.len() - places);
        return format!("{}{int}.{frac}", if neg { "-" } else { "" });
    }
    if exp % 2 == 0 {
        format!("{mantissa}e{exp}")
    } else {
        format!("{mantissa}E{exp:+}")
    }
}

/// FLOAT literals and what the accepted snapshots show QuestDB renders for them.
pub(super) const FLOAT_EXTREMES: &[(&str, &str)] = &[
    ("3.4028235E38", "3.4028235E38"),
    ("-3.4028235E38", "-3.4028235E38"),
    ("1.4E-45", "1.4E-45"),
    ("1.17549435E-38", "1.17549435E-38"),
    ("-0.0", "0.0"),
    ("0", "0.0"),
    ("1e-50", "0.0"),
    ("222", "222.0"),
    ("123456.789", "123456.79"),
    ("0.1", "0.1"),
];

pub(super) const DOUBLE_EXTREMES: &[&str] = &[
    "1.7976931348623157E308",
    "-1.7976931348623157E308",
    "4.9E-324",
    "2.2250738585072014E-308",
    "-0.0",
    "0",
    "1e-400",
    "333",
    "0.1",
    "3.141592653589793",
    "9007199254740993",
];

pub(super) fn value(kind: &Kind) -> BoxedStrategy<Val> {
    match kind.clone() {
        Kind::Boolean => any::<bool>().prop_map(Val::Bool).boxed(),
        Kind::Int8 => int_literal(8).prop_map(Val::Int).boxed(),
        Kind::Int16 => int_literal(16).prop_map(Val::Int).boxed(),
        Kind::Int32 => int_literal(32).prop_map(Val::Int).boxed(),
        Kind::Int64 => int_literal(64).prop_map(Val::Int).boxed(),
        Kind::Float => prop_oneof![
            // |x| < 1e7: see the module comment.
            6 => (-999_999i64..=999_999, -12i32..=1)
                .prop_map(|(m, e)| Val::Num(number_literal(m, e))),
            1 => prop::sample::select(FLOAT_EXTREMES).prop_map(|(l, _)| Val::Num(l.to_string())),
        ]
        .boxed(),
        Kind::Double => prop_oneof![
            6 => (-999_999_999_999_999i64..=999_999_999_999_999, -30i32..=30)
                .prop_map(|(m, e)| Val::Num(number_literal(m, e))),
            1 => (-999_999_999_999_999i64..=999_999_999_999_999, -320i32..=290)
                .prop_map(|(m, e)| Val::Num(number_literal(m, e))),
            1 => prop::sample::select(DOUBLE_EXTREMES).prop_map(|l| Val::Num(l.to_string())),
            // Found by this test: a negative underflow keeps its sign, as Java's
            // BigDecimal.doubleValue() does (docs/type-mapping.md, "Nulls" and floats).
            1 => Just(Val::Num("-1e-400".into())),
        ]
        .boxed(),
        Kind::String => prop_oneof![
            3 => "[a-zA-Z0-9 ]{0,20}",
            3 => "[^\u{0}]{0,20}",
            3 => unicode_classes(),
            1 => prop::sample::select(vec![
                "", "NULL", "null", "quote \" and 'single'", "back\\slash", "line\nbreak\ttab\r",
                "café 中文 😀", "  padded  ", "\u{7f}\u{1}\u{1f}", "\u{feff}bom", "\u{10ffff}",
            ])
            .prop_map(String::from),
        ]
        .prop_map(Val::Str)
        .boxed(),
        Kind::Bytes => prop::collection::vec(any::<u8>(), 0..16)
            .prop_map(Val::Bytes)
            .boxed(),
        Kind::Decimal { scale, precision } => {
            let limit = precision.unwrap_or(76).min(38);
            (
                prop_oneof![1u32..=3, 1u32..=38],
                any::<u128>(),
                any::<bool>(),
                any::<bool>(),
                0u32..=10,
            )
                .prop_map(move |(digits, raw, neg, as_number, literal_scale)| {
                    let sign = |v: i128| if neg { -v } else { v };
                    if as_number {
                        let mut ls = literal_scale % (scale + 1);
                        let mut room = limit.saturating_sub(scale - ls);
                        if room == 0 {
                            ls = scale;
                            room = limit;
                        }
                        let v = (raw % 10u128.pow(digits.min(room))) as i128;
                        Val::DecNum {
                            unscaled: sign(v),
                            scale: ls,
                        }
                    } else {
                        let v = (raw % 10u128.pow(digits.min(limit))) as i128;
                        Val::DecBytes(sign(v))
                    }
                })
                .boxed()
        }
        Kind::Date => prop_oneof![
            6 => -719_162i64..=2_932_896,
            1 => prop::sample::select(vec![0i64, -1, -25_567, 24_856, -719_162, 2_932_896]),
            1 => 2_932_897i64..=106_000_000,
        ]
        .prop_map(Val::Date)
        .boxed(),
        Kind::Time => prop_oneof![
            4 => 0i64..=86_400_000,
            1 => prop::sample::select(vec![0i64, 1, 43_200_000, 86_399_999, 86_400_000]),
        ]
        .prop_map(Val::Time)
        .boxed(),
        Kind::Timestamp => prop_oneof![
            6 => -62_135_596_800_000i64..=253_402_300_799_999,
            1 => prop::sample::select(vec![0i64, 1001, -1, -86_400_000, 1_700_000_000_123, 9_007_199_254_740_993]),
            1 => 253_402_300_800_000i64..=9_223_372_036_854_775,
        ]
        .prop_map(Val::Timestamp)
        .boxed(),
    }
}

/// Characters of every Unicode general category, a few of each (the astral planes too).
/// Not drawn: NUL (PG wire text cannot carry it) and surrogates (Cs), which no UTF-8 text
/// and no JSON string that decodes to one can hold.
pub(super) const UNICODE_CLASSES: &[(&str, &[char])] = &[
    ("Lu", &['A', 'Ä', 'Ω', 'Ж', '\u{1D400}']),
    ("Ll", &['a', 'ß', 'ω', 'ж', '\u{1D41A}']),
    ("Lt", &['\u{01C5}', '\u{1F88}']),
    ("Lm", &['\u{02B0}', '\u{30FC}']),
    ("Lo", &['中', 'א', 'ا', 'ก', '\u{20000}']),
    ("Mn", &['\u{0301}', '\u{0651}', '\u{FE0F}']),
    ("Mc", &['\u{0903}', '\u{1D165}']),
    ("Me", &['\u{20DD}', '\u{0488}']),
    ("Nd", &['0', '\u{0663}', '\u{0967}', '\u{1D7D8}']),
    ("Nl", &['\u{216B}', '\u{3007}']),
    ("No", &['²', '½', '\u{2460}']),
    ("Pc", &['_', '\u{203F}']),
    ("Pd", &['-', '\u{2014}']),
    ("Ps", &['(', '\u{300C}']),
    ("Pe", &[')', '\u{300D}']),
    ("Pi", &['«', '\u{2018}']),
    ("Pf", &['»', '\u{2019}']),
    ("Po", &['!', '"', '\'', '\\', '¿', ',', '=', '\u{3002}']),
    ("Sm", &['+', '=', '\u{2211}']),
    ("Sc", &['$', '€', '\u{20BF}']),
    ("Sk", &['^', '`', '\u{1F3FB}']),
    ("So", &['©', '\u{1F600}', '\u{1F004}']),
    ("Zs", &[' ', '\u{A0}', '\u{2009}', '\u{3000}']),
    ("Zl", &['\u{2028}']),
    ("Zp", &['\u{2029}']),
    (
        "Cc",
        &[
            '\u{1}', '\t', '\n', '\r', '\u{1B}', '\u{7F}', '\u{85}', '\u{9F}',
        ],
    ),
    (
        "Cf",
        &[
            '\u{AD}',
            '\u{200B}',
            '\u{200D}',
            '\u{202E}',
            '\u{FEFF}',
            '\u{E0001}',
        ],
    ),
    ("Co", &['\u{E000}', '\u{F8FF}', '\u{F0000}', '\u{10FFFD}']),
    (
        "Cn",
        &[
            '\u{0378}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{E0080}',
            '\u{10FFFF}',
        ],
    ),
];

/// A string of characters drawn across [`UNICODE_CLASSES`], or one of every class at once.
pub(super) fn unicode_classes() -> BoxedStrategy<String> {
    let pick = |(class, choice): (Index, Index)| {
        let (_, chars) = UNICODE_CLASSES[class.index(UNICODE_CLASSES.len())];
        *choice.get(chars)
    };
    prop_oneof![
        3 => prop::collection::vec((any::<Index>(), any::<Index>()), 1..12)
            .prop_map(move |picks| picks.into_iter().map(pick).collect::<String>()),
        1 => prop::collection::vec(any::<Index>(), UNICODE_CLASSES.len())
            .prop_map(|choices| UNICODE_CLASSES
                .iter()
                .zip(choices)
                .map(|((_, chars), choice)| *choice.get(chars))
                .collect::<String>()),
    ]
    .boxed()
}

/// Epoch milliseconds for the designated timestamp: QuestDB's bounds and beyond them on both
/// sides (before 1970, after 9999-12-31), and a few values drawn often so that records share
/// a timestamp.
pub(super) fn designated_millis() -> BoxedStrategy<i64> {
    prop_oneof![
        4 => prop::sample::select(vec![
            0i64, 1, 1_767_225_600_000, 1_767_225_600_001, 253_402_300_799_999,
        ]),
        3 => 946_684_800_000i64..4_102_444_800_000,
        1 => 4_102_444_800_000i64..=253_402_300_799_999,
        1 => prop::sample::select(vec![-1i64, -86_400_000, -62_135_596_800_000]),
        1 => -62_135_596_800_000i64..0,
        1 => 253_402_300_800_000i64..=9_223_372_036_854_775,
    ]
    .boxed()
}

/// The designated timestamp's field: a Connect Timestamp, mostly required.
pub(super) fn designated_field() -> impl Strategy<Value = FieldSpec> {
    (
        field_name(),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.1, designated_millis()),
    )
        .prop_flat_map(|(name, optional, default)| {
            let nullable = optional || default.is_some();
            let slot = prop_oneof![
                12 => designated_millis().prop_map(|ms| Slot::Value(Val::Timestamp(ms))),
                (if nullable { 1 } else { 0 }) => Just(Slot::Null),
                (if nullable { 1 } else { 0 }) => Just(Slot::Missing),
            ];
            prop::collection::vec(slot, MAX_RECORDS).prop_map(move |slots| FieldSpec {
                name: name.clone(),
                kind: Kind::Timestamp,
                optional,
                default: default.map(Val::Timestamp),
                slots,
            })
        })
}

pub(super) fn field() -> impl Strategy<Value = FieldSpec> {
    (
        field_name(),
        kind(),
        any::<bool>(),
        prop::bool::weighted(0.25),
    )
        .prop_flat_map(|(name, kind, optional, has_default)| {
            let nullable = optional || has_default;
            let slot = prop_oneof![
                8 => value(&kind).prop_map(Slot::Value),
                (if nullable { 1 } else { 0 }) => Just(Slot::Null),
                (if nullable { 1 } else { 0 }) => Just(Slot::Missing),
            ];
            let default = if has_default {
                value(&kind).prop_map(Some).boxed()
            } else {
                Just(None).boxed()
            };
            (
                Just(name),
                Just(kind),
                Just(optional),
                default,
                prop::collection::vec(slot, MAX_RECORDS),
            )
                .prop_map(|(name, kind, optional, default, slots)| FieldSpec {
                    name,
                    kind,
                    optional,
                    default,
                    slots,
                })
        })
}

pub(super) fn model() -> impl Strategy<Value = Model> {
    (
        0u8..3,
        prop::collection::vec(field(), 0..MAX_FIELDS),
        (any::<Index>(), designated_field()),
        prop::bool::weighted(0.25),
        prop::collection::vec(prop::bool::weighted(0.2), MAX_RECORDS),
        1..=MAX_RECORDS,
        prop::option::weighted(0.1, (any::<Index>(), rejected_name())),
        prop::option::weighted(0.2, (any::<Index>(), any::<Index>(), 0u8..4)),
    )
        .prop_map(
            |(
                table_style,
                fields,
                designated,
                all_optional,
                all_null,
                records,
                rejected,
                fault,
            )| {
                Model {
                    table_style,
                    fields,
                    designated,
                    all_optional,
                    all_null,
                    records,
                    rejected,
                    fault,
                }
            },
        )
}
