//! `SetSchemaMetadata`: sets the schema's `schema.name` and/or `schema.version`.

use super::config::{Conf, ConfigError};
use super::{data, Outcome, Record, Side, Transform};

#[derive(Debug)]
pub(crate) struct SetSchemaMetadata {
    side: Side,
    name: Option<String>,
    version: Option<i32>,
}

impl SetSchemaMetadata {
    pub(crate) fn build(conf: &Conf, side: Side) -> Result<SetSchemaMetadata, ConfigError> {
        let name = conf.string("schema.name");
        let version = conf.int("schema.version")?;
        // Read (and ignored) upstream too: nothing in this transform reads field values.
        conf.bool_or("replace.null.with.default", true)?;
        if name.is_none() && version.is_none() {
            return Err(conf.error("schema.name", "Neither schema name nor version configured"));
        }
        Ok(SetSchemaMetadata {
            side,
            name,
            version,
        })
    }
}

impl Transform for SetSchemaMetadata {
    fn apply(&self, record: Record) -> Outcome<Option<Record>> {
        let value = record.data(self.side).clone();
        let Some(schema) = record.schema(self.side) else {
            if value.is_null() {
                return Ok(Some(record));
            }
            return Err(data::schemaless("updating schema metadata"));
        };
        // Upstream copies `schema.fields()`, which only a struct schema answers.
        if !matches!(schema.ty, crate::connect::schema::Type::Struct(_)) {
            return Err(super::Failure::data(
                "Cannot list fields on non-struct type",
            ));
        }
        let mut updated = schema.clone();
        if let Some(name) = &self.name {
            updated.name = Some(name.clone());
            // The logical type follows the name, as Connect's converters read it.
            updated.logical = crate::connect::schema::Schema {
                name: Some(name.clone()),
                ..schema.clone()
            }
            .logical
            .filter(|l| l.connect_name() == name);
        }
        if let Some(v) = self.version {
            updated.version = Some(v);
        }
        Ok(Some(record.with(self.side, Some(updated), value)))
    }
}
