//! Debezium's `io.debezium.transforms.ExtractNewRecordState` (debezium-core 3.4.3.Final): a
//! change event envelope becomes its `after` row; deletes and tombstones as
//! `delete.tombstone.handling.mode` says; `add.fields`, `add.headers`, `route.by.field`,
//! `drop.fields.*` and `replace.null.with.default`.

use super::config::{split_list, Conf, ConfigError};
use super::extract_field::ExtractField;
use super::insert_field::InsertField;
use super::replace_field::ReplaceField;
use super::{data, Failure, Header, Outcome, Record, Side, Transform};
use crate::connect::schema::{Schema, Type};
use crate::connect::value::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Drop,
    Tombstone,
    Rewrite,
    RewriteWithTombstone,
    DeleteToTombstone,
}

/// One `add.fields` / `add.headers` entry: `[struct.]field[:new_name]`.
#[derive(Debug)]
struct FieldRef {
    parent: Option<String>,
    field: String,
    new_field: String,
}

impl FieldRef {
    fn parse(prefix: &str, spec: &str) -> Result<FieldRef, String> {
        let parts: Vec<&str> = spec.split(':').collect();
        let splits: Vec<&str> = parts[0].split('.').collect();
        let field = if splits.len() == 1 {
            splits[0]
        } else {
            splits[1]
        }
        .to_owned();
        let parent = if splits.len() == 1 {
            match field.as_str() {
                "id" | "total_order" | "data_collection_order" => Some("transaction".to_owned()),
                "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
                "updateDescription" => Some("updateDescription".to_owned()),
                _ => Some("source".to_owned()),
            }
        } else {
            Some(splits[0].to_owned())
        };
        let new_field = match parts.len() {
            1 if splits.len() == 1 => format!("{prefix}{field}"),
            1 => format!("{prefix}{}_{field}", parent.as_deref().unwrap_or("")),
            2 => format!("{prefix}{}", parts[1]),
            _ => return Err(format!("Unexpected field name: {spec}")),
        };
        Ok(FieldRef {
            parent,
            field,
            new_field,
        })
    }

    fn schema(&self, envelope: &Schema) -> Outcome<Option<Schema>> {
        let parent = match &self.parent {
            Some(p) => {
                &envelope
                    .field(p)
                    .ok_or_else(|| Failure::data(format!("the envelope has no field {p}")))?
                    .schema
            }
            None => envelope,
        };
        let f = parent
            .field(&self.field)
            .or_else(|| envelope.field(&self.field));
        Ok(f.map(|f| {
            if matches!(f.schema.ty, Type::Struct(_) | Type::Map(..)) {
                // copySchemaBasics keeps no fields or key/value schemas of these.
                return Schema::new(Type::Struct(Vec::new())).optional();
            }
            let mut s = data::copy_basics(&f.schema, f.schema.ty.clone());
            s.optional = true;
            s
        }))
    }

    fn value(&self, envelope: &Schema, value: &Value) -> Value {
        let (ps, pv) = match &self.parent {
            Some(p) => {
                let v = value.field(p).cloned().unwrap_or(Value::Null);
                if v.is_null() {
                    return Value::Null;
                }
                (envelope.field(p).map(|f| f.schema.clone()), v)
            }
            None => (Some(envelope.clone()), value.clone()),
        };
        if ps.is_some_and(|s| s.field(&self.field).is_some()) {
            pv.field(&self.field).cloned().unwrap_or(Value::Null)
        } else {
            value.field(&self.field).cloned().unwrap_or(Value::Null)
        }
    }
}

#[derive(Debug)]
pub(crate) struct ExtractNewRecordState {
    mode: Mode,
    fields: Vec<FieldRef>,
    headers: Vec<FieldRef>,
    route_by_field: Option<String>,
    drop_header: Option<String>,
    drop_from_key: bool,
    drop_keep_compatible: bool,
    after: ExtractField,
    before: ExtractField,
    deleted: InsertField,
    updated: InsertField,
}

impl ExtractNewRecordState {
    pub(crate) fn build(conf: &Conf) -> Result<ExtractNewRecordState, ConfigError> {
        let mode = match conf.string_or("delete.tombstone.handling.mode", "tombstone").as_str() {
            "drop" => Mode::Drop,
            "tombstone" => Mode::Tombstone,
            "rewrite" => Mode::Rewrite,
            "rewrite-with-tombstone" => Mode::RewriteWithTombstone,
            "delete-to-tombstone" => Mode::DeleteToTombstone,
            other => return Err(conf.error("delete.tombstone.handling.mode", format!("{other:?} is not one of drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone"))),
        };
        let refs = |list_key: &str, prefix_key: &str| -> Result<Vec<FieldRef>, ConfigError> {
            let prefix = conf.string_or(prefix_key, "__");
            let list = conf.string_or(list_key, "");
            if list.is_empty() {
                return Ok(Vec::new());
            }
            list.split(',')
                .map(|s| FieldRef::parse(&prefix, s.trim()).map_err(|m| conf.error(list_key, m)))
                .collect()
        };
        let replace = conf.bool_or("replace.null.with.default", true)?;
        let route = conf.string_or("route.by.field", "");
        let drop_header = conf
            .string("drop.fields.header.name")
            .filter(|h| !h.trim().is_empty());
        Ok(ExtractNewRecordState {
            mode,
            fields: refs("add.fields", "add.fields.prefix")?,
            headers: refs("add.headers", "add.headers.prefix")?,
            route_by_field: (!route.is_empty()).then_some(route),
            drop_header,
            drop_from_key: conf.bool_or("drop.fields.from.key", false)?,
            drop_keep_compatible: conf.bool_or("drop.fields.keep.schema.compatible", true)?,
            after: ExtractField::value_field("after"),
            before: ExtractField::value_field("before"),
            deleted: InsertField::static_value("__deleted", "true", replace),
            updated: InsertField::static_value("__deleted", "false", replace),
        })
    }

    fn extract(&self, ef: &ExtractField, record: &Record) -> Outcome<Record> {
        Ok(ef
            .apply(record.clone())?
            .expect("ExtractField keeps records"))
    }

    fn add_fields(&self, original: &Record, record: Record) -> Outcome<Record> {
        let envelope = original
            .value_schema
            .as_ref()
            .expect("a valid envelope has a schema");
        let schema = record
            .value_schema
            .clone()
            .unwrap_or_else(|| Schema::new(Type::Struct(Vec::new())));
        data::require_struct(&record.value, "source field insertion")?;
        let mut fields = schema.fields().to_vec();
        let mut values: Vec<Value> = schema
            .fields()
            .iter()
            .map(|f| record.value.field(&f.name).cloned().unwrap_or(Value::Null))
            .collect();
        for r in &self.fields {
            if let Some(s) = r.schema(envelope)? {
                let v = r.value(envelope, &original.value);
                data::validate(&r.new_field, &s, &v)?;
                if let Some(i) = fields.iter().position(|f| f.name == r.new_field) {
                    if fields[i].schema != s {
                        return Err(Failure::data(format!(
                            "Cannot create field because of field name duplication {}",
                            r.new_field
                        )));
                    }
                    values[i] = v;
                    continue;
                }
                data::push_field(&mut fields, &r.new_field, s)?;
                values.push(v);
            }
        }
        let mut updated = data::copy_basics(&schema, Type::Struct(fields));
        updated.optional = false;
        let v = Value::Struct(
            updated
                .fields()
                .iter()
                .map(|f| f.name.clone())
                .zip(values)
                .collect(),
        );
        Ok(record.with(Side::Value, Some(updated), v))
    }

    fn drop_fields(&self, mut record: Record) -> Outcome<Record> {
        let Some(name) = &self.drop_header else {
            return Ok(record);
        };
        let Some(h) = record.headers.iter().find(|h| &h.key == name) else {
            return Ok(record);
        };
        let names: Vec<String> = match &h.value {
            Value::Null => return Ok(record),
            Value::Array(items) => items
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            Value::String(s) => split_list(s),
            _ => {
                return Err(Failure::data(
                    "the drop fields header is not a list of strings",
                ))
            }
        };
        if names.is_empty() {
            return Ok(record);
        }
        let to_drop = |schema: Option<&Schema>| -> Vec<String> {
            if !self.drop_keep_compatible {
                return names.clone();
            }
            schema
                .map(|s| {
                    s.fields()
                        .iter()
                        .filter(|f| f.schema.optional && names.contains(&f.name))
                        .map(|f| f.name.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        if self.drop_from_key && !record.key.is_null() {
            let k = to_drop(record.key_schema.as_ref());
            if !k.is_empty() {
                record = ReplaceField::excluding(Side::Key, k)
                    .apply(record)?
                    .expect("kept");
            }
        }
        let v = to_drop(record.value_schema.as_ref());
        if !v.is_empty() {
            record = ReplaceField::excluding(Side::Value, v)
                .apply(record)?
                .expect("kept");
        }
        Ok(record)
    }

    fn route(&self, record: Record, row: &Value, row_schema: Option<&Schema>) -> Outcome<Record> {
        let Some(field) = &self.route_by_field else {
            return Ok(record);
        };
        let schema = row_schema.ok_or_else(|| Failure::data("no row to route by"))?;
        data::require_struct(row, "Read record to set topic routing")?;
        let f = schema
            .field(field)
            .ok_or_else(|| Failure::data(format!("{field} is not a valid field name")))?;
        // Struct.getString checks the field's schema before its value.
        if f.schema.ty != Type::String {
            return Err(Failure::data(format!(
                "Field '{field}' is not of type STRING"
            )));
        }
        let topic = match data::get(schema, row, field, true) {
            Value::String(s) => Some(s),
            _ => None,
        };
        let mut record = record;
        if let Some(t) = topic.filter(|t| !t.trim().is_empty()) {
            record.topic = t;
        }
        Ok(record)
    }
}

impl Transform for ExtractNewRecordState {
    fn apply(&self, mut record: Record) -> Outcome<Option<Record>> {
        let tombstone = record.value.is_null();
        let envelope = record
            .value_schema
            .as_ref()
            .and_then(|s| s.name.as_deref())
            .is_some_and(|n| n.ends_with(".Envelope"));
        if (envelope || tombstone) && !self.headers.is_empty() {
            let mut added = Vec::new();
            for r in &self.headers {
                if tombstone {
                    if r.field == "op" {
                        added.push(Header {
                            key: r.new_field.clone(),
                            schema: Some(Schema::new(Type::String)),
                            value: Value::String("d".into()),
                        });
                    }
                    continue;
                }
                let es = record.value_schema.as_ref().expect("envelope");
                if let Some(s) = r.schema(es)? {
                    added.push(Header {
                        key: r.new_field.clone(),
                        schema: Some(s),
                        value: r.value(es, &record.value),
                    });
                }
            }
            record.headers.extend(added);
        }
        if tombstone {
            return Ok(match self.mode {
                Mode::RewriteWithTombstone => Some(record),
                _ => None,
            });
        }
        if !envelope {
            return Ok(Some(record));
        }
        let after = self.extract(&self.after, &record)?;
        if after.value.is_null() {
            let before = self.extract(&self.before, &record)?;
            if before.value.is_null() {
                return Ok(None);
            }
            let mut out = match self.mode {
                Mode::Drop => return Ok(None),
                Mode::Tombstone => after,
                Mode::DeleteToTombstone => {
                    let mut r = record.clone();
                    r.value_schema = None;
                    r.value = Value::Null;
                    r
                }
                Mode::Rewrite | Mode::RewriteWithTombstone => {
                    if matches!(before.value, Value::Struct(_)) {
                        self.deleted.apply(before)?.expect("kept")
                    } else {
                        before
                    }
                }
            };
            if self.route_by_field.is_some() {
                let bs = record
                    .value_schema
                    .as_ref()
                    .and_then(|s| s.field("before"))
                    .map(|f| f.schema.clone());
                let bv = record.value.field("before").cloned().unwrap_or(Value::Null);
                out = self.route(out, &bv, bs.as_ref())?;
            }
            out = self.drop_fields(out)?;
            if !out.value.is_null() {
                out = self.add_fields(&record, out)?;
            }
            return Ok(Some(out));
        }
        let mut out = match self.mode {
            Mode::Rewrite | Mode::RewriteWithTombstone
                if matches!(after.value, Value::Struct(_)) =>
            {
                self.updated.apply(after)?.expect("kept")
            }
            _ => after,
        };
        if self.route_by_field.is_some() {
            let (v, s) = (out.value.clone(), out.value_schema.clone());
            out = self.route(out, &v, s.as_ref())?;
        }
        out = self.add_fields(&record, out)?;
        out = self.drop_fields(out)?;
        Ok(Some(out))
    }
}
