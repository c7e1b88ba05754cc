//! The chain a Connect worker builds from a connector's `transforms=` and `predicates=` keys.

use std::collections::BTreeMap;

use super::config::{split_list, Conf, ConfigError};
use super::predicates::Predicate;
use super::{
    cast, drop_headers, extract_field, extract_new_record_state, flatten, header_from, hoist_field,
    insert_field, insert_header, mask_field, regex_router, replace_field, set_schema_metadata,
    timestamp_converter, timestamp_router, value_to_key,
};
use super::{Failure, Record, Side, Transform, TransformError};

const KAFKA: &str = "org.apache.kafka.connect.transforms.";

/// Every transform class the chain implements (full names, as `transforms.<name>.type` takes
/// them).
pub const TRANSFORM_CLASSES: &[&str] = &[
    "org.apache.kafka.connect.transforms.Cast$Key",
    "org.apache.kafka.connect.transforms.Cast$Value",
    "org.apache.kafka.connect.transforms.DropHeaders",
    "org.apache.kafka.connect.transforms.ExtractField$Key",
    "org.apache.kafka.connect.transforms.ExtractField$Value",
    "org.apache.kafka.connect.transforms.Filter",
    "org.apache.kafka.connect.transforms.Flatten$Key",
    "org.apache.kafka.connect.transforms.Flatten$Value",
    "org.apache.kafka.connect.transforms.HeaderFrom$Key",
    "org.apache.kafka.connect.transforms.HeaderFrom$Value",
    "org.apache.kafka.connect.transforms.HoistField$Key",
    "org.apache.kafka.connect.transforms.HoistField$Value",
    "org.apache.kafka.connect.transforms.InsertField$Key",
    "org.apache.kafka.connect.transforms.InsertField$Value",
    "org.apache.kafka.connect.transforms.InsertHeader",
    "org.apache.kafka.connect.transforms.MaskField$Key",
    "org.apache.kafka.connect.transforms.MaskField$Value",
    "org.apache.kafka.connect.transforms.RegexRouter",
    "org.apache.kafka.connect.transforms.ReplaceField$Key",
    "org.apache.kafka.connect.transforms.ReplaceField$Value",
    "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key",
    "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
    "org.apache.kafka.connect.transforms.TimestampConverter$Key",
    "org.apache.kafka.connect.transforms.TimestampConverter$Value",
    "org.apache.kafka.connect.transforms.TimestampRouter",
    "org.apache.kafka.connect.transforms.ValueToKey",
    "io.debezium.transforms.ExtractNewRecordState",
];

/// Every predicate class the chain implements.
pub const PREDICATE_CLASSES: &[&str] = &[
    "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
];

/// Whether a connector key belongs to the chain (`transforms`, `transforms.*`, `predicates`,
/// `predicates.*`): the chain reads and checks these itself.
pub fn is_chain_key(key: &str) -> bool {
    key == "transforms"
        || key == "predicates"
        || key.starts_with("transforms.")
        || key.starts_with("predicates.")
}

#[derive(Debug)]
struct Stage {
    alias: String,
    class: String,
    transform: Box<dyn Transform>,
    predicate: Option<(usize, bool)>,
}

/// A configured chain of transforms. Empty when the connector has no `transforms`.
#[derive(Debug, Default)]
pub struct Chain {
    stages: Vec<Stage>,
    predicates: Vec<Predicate>,
}

impl Chain {
    /// Builds the chain from a connector's properties (as `sink::config::properties::parse` returns
    /// them). A transform or predicate class, or a key of one, that this sink does not implement
    /// is refused, naming it.
    pub fn from_properties(props: &BTreeMap<String, String>) -> Result<Chain, ConfigError> {
        let aliases = |key: &str| -> Vec<String> {
            props
                .get(key)
                .map(|v| split_list(v.trim()))
                .unwrap_or_default()
                .into_iter()
                .filter(|a| !a.is_empty())
                .collect()
        };
        let transforms = aliases("transforms");
        let predicate_names = aliases("predicates");
        let mut chain = Chain::default();
        for name in &predicate_names {
            let (class, conf) = plugin_conf(props, "predicates", name, &[])?;
            let p = Predicate::build(&class, &conf)?;
            refuse_unread(&conf)?;
            chain.predicates.push(p);
        }
        for name in &transforms {
            let (class, conf) = plugin_conf(props, "transforms", name, &["predicate", "negate"])?;
            let transform = build(&class, &conf)?;
            refuse_unread(&conf)?;
            let prefix = format!("transforms.{name}.");
            let predicate = match props.get(&format!("{prefix}predicate")).map(|p| p.trim()) {
                None | Some("") => None,
                Some(p) => {
                    let index =
                        predicate_names
                            .iter()
                            .position(|n| n == p)
                            .ok_or_else(|| ConfigError {
                                key: format!("{prefix}predicate"),
                                message: format!("predicate {p:?} is not listed in `predicates`"),
                            })?;
                    let negate = match props.get(&format!("{prefix}negate")).map(|v| v.trim()) {
                        None => false,
                        Some(v) if v.eq_ignore_ascii_case("true") => true,
                        Some(v) if v.eq_ignore_ascii_case("false") => false,
                        Some(v) => {
                            return Err(ConfigError {
                                key: format!("{prefix}negate"),
                                message: format!("expected a boolean, found {v:?}"),
                            })
                        }
                    };
                    Some((index, negate))
                }
            };
            chain.stages.push(Stage {
                alias: name.clone(),
                class,
                transform,
                predicate,
            });
        }
        for key in props.keys() {
            let listed = |section: &str, names: &[String]| {
                key.strip_prefix(section).is_some_and(|rest| {
                    names.iter().any(|n| {
                        rest.strip_prefix(n.as_str())
                            .is_some_and(|r| r.starts_with('.'))
                    })
                })
            };
            if (key.starts_with("transforms.") && !listed("transforms.", &transforms))
                || (key.starts_with("predicates.") && !listed("predicates.", &predicate_names))
            {
                return Err(ConfigError {
                    key: key.clone(),
                    message: "names a transform or predicate that `transforms` / `predicates` does not list".into(),
                });
            }
        }
        Ok(chain)
    }

    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the record through every transform whose predicate holds; `None` when one drops it.
    pub fn apply(&self, mut record: Record) -> Result<Option<Record>, TransformError> {
        for stage in &self.stages {
            if let Some((p, negate)) = stage.predicate {
                if self.predicates[p].test(&record) == negate {
                    continue;
                }
            }
            let out = stage.transform.apply(record).map_err(|f| {
                let (message, unsupported) = match f {
                    Failure::Data(m) => (m, None),
                    Failure::Unsupported(name, m) => (m, Some(name)),
                };
                TransformError {
                    transform: stage.alias.clone(),
                    class: stage.class.clone(),
                    message,
                    unsupported,
                }
            })?;
            match out {
                Some(r) => record = r,
                None => return Ok(None),
            }
        }
        Ok(Some(record))
    }
}

/// The class and the other keys of `<section>.<name>.`.
fn plugin_conf(
    props: &BTreeMap<String, String>,
    section: &str,
    name: &str,
    chain_keys: &[&str],
) -> Result<(String, Conf), ConfigError> {
    let prefix = format!("{section}.{name}.");
    let class = props
        .get(&format!("{prefix}type"))
        .map(|c| c.trim().to_owned())
        .ok_or_else(|| ConfigError {
            key: format!("{prefix}type"),
            message: format!("{section} `{name}` has no type"),
        })?;
    let keys: BTreeMap<String, String> = props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(&prefix)
                .map(|rest| (rest.to_owned(), v.clone()))
        })
        .filter(|(k, _)| k != "type" && !chain_keys.contains(&k.as_str()))
        .collect();
    Ok((class.clone(), Conf::new(prefix, class, keys)))
}

fn refuse_unread(conf: &Conf) -> Result<(), ConfigError> {
    match conf.unread().into_iter().next() {
        None => Ok(()),
        Some(key) => Err(ConfigError {
            key,
            message: format!("{} has no such key in this sink", conf.class()),
        }),
    }
}

fn build(class: &str, conf: &Conf) -> Result<Box<dyn Transform>, ConfigError> {
    let (base, side) = match class.rsplit_once('$') {
        Some((base, "Key")) => (base, Some(Side::Key)),
        Some((base, "Value")) => (base, Some(Side::Value)),
        _ => (class, None),
    };
    let simple = base.strip_prefix(KAFKA);
    let refused = || ConfigError {
        key: conf.error("type", "").key,
        message: format!(
            "transform class `{class}` is not implemented by this sink (it implements {})",
            TRANSFORM_CLASSES.join(", ")
        ),
    };
    Ok(match (simple, side) {
        (Some("Cast"), Some(s)) => Box::new(cast::Cast::build(conf, s)?),
        (Some("DropHeaders"), None) => Box::new(drop_headers::DropHeaders::build(conf)?),
        (Some("ExtractField"), Some(s)) => Box::new(extract_field::ExtractField::build(conf, s)?),
        (Some("Filter"), None) => Box::new(Filter),
        (Some("Flatten"), Some(s)) => Box::new(flatten::Flatten::build(conf, s)?),
        (Some("HeaderFrom"), Some(s)) => Box::new(header_from::HeaderFrom::build(conf, s)?),
        (Some("HoistField"), Some(s)) => Box::new(hoist_field::HoistField::build(conf, s)?),
        (Some("InsertField"), Some(s)) => Box::new(insert_field::InsertField::build(conf, s)?),
        (Some("InsertHeader"), None) => Box::new(insert_header::InsertHeader::build(conf)?),
        (Some("MaskField"), Some(s)) => Box::new(mask_field::MaskField::build(conf, s)?),
        (Some("RegexRouter"), None) => Box::new(regex_router::RegexRouter::build(conf)?),
        (Some("ReplaceField"), Some(s)) => Box::new(replace_field::ReplaceField::build(conf, s)?),
        (Some("SetSchemaMetadata"), Some(s)) => {
            Box::new(set_schema_metadata::SetSchemaMetadata::build(conf, s)?)
        }
        (Some("TimestampConverter"), Some(s)) => {
            Box::new(timestamp_converter::TimestampConverter::build(conf, s)?)
        }
        (Some("TimestampRouter"), None) => {
            Box::new(timestamp_router::TimestampRouter::build(conf)?)
        }
        (Some("ValueToKey"), None) => Box::new(value_to_key::ValueToKey::build(conf)?),
        (None, None) if class == "io.debezium.transforms.ExtractNewRecordState" => Box::new(
            extract_new_record_state::ExtractNewRecordState::build(conf)?,
        ),
        _ => return Err(refused()),
    })
}

/// `Filter`: drops every record it is applied to (with a predicate, the ones it matches).
#[derive(Debug)]
struct Filter;

impl Transform for Filter {
    fn apply(&self, _record: Record) -> super::Outcome<Option<Record>> {
        Ok(None)
    }
}
