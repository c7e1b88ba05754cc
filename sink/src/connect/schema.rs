//! Connect schemas: a physical [`Type`], an optional [`Logical`] type, and the metadata a
//! JsonConverter envelope carries (`optional`, `name`, `version`, `doc`, `parameters`, `default`).

use std::collections::BTreeMap;

use super::value::Value;

/// `name` of the Decimal logical type (physical type bytes).
pub const DECIMAL_NAME: &str = "org.apache.kafka.connect.data.Decimal";
/// `name` of the Date logical type (physical type int32, days since the epoch).
pub const DATE_NAME: &str = "org.apache.kafka.connect.data.Date";
/// `name` of the Time logical type (physical type int32, milliseconds of the day).
pub const TIME_NAME: &str = "org.apache.kafka.connect.data.Time";
/// `name` of the Timestamp logical type (physical type int64, milliseconds since the epoch).
pub const TIMESTAMP_NAME: &str = "org.apache.kafka.connect.data.Timestamp";
/// Decimal parameter holding the scale (required).
pub const DECIMAL_SCALE_PARAM: &str = "scale";
/// Decimal parameter holding the precision (optional; written by Debezium and others).
pub const DECIMAL_PRECISION_PARAM: &str = "connect.decimal.precision";

/// The physical type of a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    Boolean,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Bytes,
    String,
    /// Element schema.
    Array(Box<Schema>),
    /// Key schema, value schema.
    Map(Box<Schema>, Box<Schema>),
    Struct(Vec<Field>),
}

impl Type {
    /// The name as a JsonConverter envelope spells it (`"float"`, `"double"`, not Java's
    /// `FLOAT32`/`FLOAT64`), so messages use the words the producer wrote.
    pub fn type_name(&self) -> &'static str {
        match self {
            Type::Boolean => "boolean",
            Type::Int8 => "int8",
            Type::Int16 => "int16",
            Type::Int32 => "int32",
            Type::Int64 => "int64",
            Type::Float32 => "float",
            Type::Float64 => "double",
            Type::Bytes => "bytes",
            Type::String => "string",
            Type::Array(_) => "array",
            Type::Map(..) => "map",
            Type::Struct(_) => "struct",
        }
    }
}

/// A logical type, recognised by the schema's `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    /// Physical bytes: big-endian two's-complement unscaled value.
    Decimal { scale: i32, precision: Option<u32> },
    /// Physical int32: days since 1970-01-01.
    Date,
    /// Physical int32: milliseconds of the day, 0..=86_400_000.
    Time,
    /// Physical int64: milliseconds since the epoch.
    Timestamp,
}

impl Logical {
    /// The Connect name that selects this logical type.
    pub fn connect_name(&self) -> &'static str {
        match self {
            Logical::Decimal { .. } => DECIMAL_NAME,
            Logical::Date => DATE_NAME,
            Logical::Time => TIME_NAME,
            Logical::Timestamp => TIMESTAMP_NAME,
        }
    }
}

/// A Connect schema.
///
/// Invariant kept by the decoder and the constructors below: `logical` is `Some` exactly when
/// `name` is a logical type's name, and a Decimal's `parameters` hold its scale (and precision).
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    pub ty: Type,
    /// `false` (required) unless the envelope says `"optional": true`.
    pub optional: bool,
    pub name: Option<String>,
    pub version: Option<i32>,
    pub doc: Option<String>,
    pub parameters: BTreeMap<String, String>,
    /// Already decoded against this schema (logical conversions applied).
    pub default: Option<Value>,
    pub logical: Option<Logical>,
}

/// A struct field: its name and schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: Schema,
}

impl Field {
    pub fn new(name: impl Into<String>, schema: Schema) -> Field {
        Field {
            name: name.into(),
            schema,
        }
    }
}

impl Schema {
    /// A required schema of `ty` without metadata.
    pub fn new(ty: Type) -> Schema {
        Schema {
            ty,
            optional: false,
            name: None,
            version: None,
            doc: None,
            parameters: BTreeMap::new(),
            default: None,
            logical: None,
        }
    }

    pub fn array(items: Schema) -> Schema {
        Schema::new(Type::Array(Box::new(items)))
    }

    pub fn map(keys: Schema, values: Schema) -> Schema {
        Schema::new(Type::Map(Box::new(keys), Box::new(values)))
    }

    pub fn structure(fields: Vec<Field>) -> Schema {
        Schema::new(Type::Struct(fields))
    }

    /// A Decimal as `Decimal.builder(scale)` makes it, plus the precision parameter if given.
    pub fn decimal(scale: i32, precision: Option<u32>) -> Schema {
        let mut s = Schema::new(Type::Bytes).with_logical(Logical::Decimal { scale, precision });
        s.parameters
            .insert(DECIMAL_SCALE_PARAM.into(), scale.to_string());
        if let Some(p) = precision {
            s.parameters
                .insert(DECIMAL_PRECISION_PARAM.into(), p.to_string());
        }
        s
    }

    pub fn date() -> Schema {
        Schema::new(Type::Int32).with_logical(Logical::Date)
    }

    pub fn time() -> Schema {
        Schema::new(Type::Int32).with_logical(Logical::Time)
    }

    pub fn timestamp() -> Schema {
        Schema::new(Type::Int64).with_logical(Logical::Timestamp)
    }

    fn with_logical(mut self, logical: Logical) -> Schema {
        self.name = Some(logical.connect_name().into());
        self.logical = Some(logical);
        self
    }

    pub fn optional(mut self) -> Schema {
        self.optional = true;
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Schema {
        self.name = Some(name.into());
        self
    }

    pub fn with_default(mut self, default: Value) -> Schema {
        self.default = Some(default);
        self
    }

    /// The fields of a struct schema; empty for every other type.
    pub fn fields(&self) -> &[Field] {
        match &self.ty {
            Type::Struct(fields) => fields,
            _ => &[],
        }
    }

    /// A struct field by exact name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// A short description for messages: `int32`, `Decimal(scale=2)`, `Date`,
    /// `array<int32>`, `map<string,int64>`, `struct msgschema`.
    pub fn describe(&self) -> String {
        match self.logical {
            Some(Logical::Decimal {
                scale,
                precision: None,
            }) => return format!("Decimal(scale={scale})"),
            Some(Logical::Decimal {
                scale,
                precision: Some(p),
            }) => return format!("Decimal(scale={scale}, precision={p})"),
            Some(Logical::Date) => return "Date".into(),
            Some(Logical::Time) => return "Time".into(),
            Some(Logical::Timestamp) => return "Timestamp".into(),
            None => {}
        }
        match &self.ty {
            Type::Array(items) => format!("array<{}>", items.describe()),
            Type::Map(k, v) => format!("map<{},{}>", k.describe(), v.describe()),
            Type::Struct(_) => match &self.name {
                Some(name) => format!("struct {name}"),
                None => "struct".into(),
            },
            ty => ty.type_name().into(),
        }
    }
}

/// The logical type a schema's `name` selects, checked against its physical type.
pub(crate) fn logical_type(schema: &Schema) -> Result<Option<Logical>, String> {
    let Some(name) = schema.name.as_deref() else {
        return Ok(None);
    };
    let (logical, physical) = match name {
        DECIMAL_NAME => (decimal_logical(schema)?, Type::Bytes),
        DATE_NAME => (Logical::Date, Type::Int32),
        TIME_NAME => (Logical::Time, Type::Int32),
        TIMESTAMP_NAME => (Logical::Timestamp, Type::Int64),
        _ => return Ok(None),
    };
    if schema.ty != physical {
        return Err(format!(
            "{name} must have type {}, found {}",
            physical.type_name(),
            schema.ty.type_name()
        ));
    }
    Ok(Some(logical))
}

fn decimal_logical(schema: &Schema) -> Result<Logical, String> {
    let scale = schema
        .parameters
        .get(DECIMAL_SCALE_PARAM)
        .ok_or_else(|| format!("a Decimal schema needs a \"{DECIMAL_SCALE_PARAM}\" parameter"))?;
    // `Integer.parseInt`, as upstream.
    let scale = scale
        .parse::<i32>()
        .map_err(|_| format!("the Decimal \"{DECIMAL_SCALE_PARAM}\" parameter must be a 32-bit integer, found {scale:?}"))?;
    let precision = match schema.parameters.get(DECIMAL_PRECISION_PARAM) {
        None => None,
        Some(p) => Some(p.parse::<u32>().ok().filter(|p| *p > 0).ok_or_else(|| {
            format!("the Decimal \"{DECIMAL_PRECISION_PARAM}\" parameter must be a positive integer, found {p:?}")
        })?),
    };
    Ok(Logical::Decimal { scale, precision })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Schema::new(Type::Int32), "int32")]
    #[case(Schema::new(Type::Float32), "float")]
    #[case(Schema::new(Type::Float64), "double")]
    #[case(Schema::decimal(2, None), "Decimal(scale=2)")]
    #[case(Schema::decimal(-3, Some(10)), "Decimal(scale=-3, precision=10)")]
    #[case(Schema::date(), "Date")]
    #[case(Schema::time(), "Time")]
    #[case(Schema::timestamp(), "Timestamp")]
    #[case(Schema::array(Schema::new(Type::Int32)), "array<int32>")]
    #[case(
        Schema::map(Schema::new(Type::String), Schema::date()),
        "map<string,Date>"
    )]
    #[case(Schema::structure(vec![]), "struct")]
    #[case(Schema::structure(vec![]).named("msgschema"), "struct msgschema")]
    fn describe(#[case] schema: Schema, #[case] expected: &str) {
        assert_eq!(schema.describe(), expected);
    }

    #[test]
    fn fields_is_empty_unless_struct() {
        assert!(Schema::new(Type::String).fields().is_empty());
        let s = Schema::structure(vec![Field::new("a", Schema::new(Type::Int8))]);
        assert_eq!(s.fields().len(), 1);
        assert_eq!(s.field("a").map(|f| &f.schema.ty), Some(&Type::Int8));
        assert!(s.field("A").is_none(), "lookup is by exact name");
    }

    #[test]
    fn decimal_constructor_sets_name_and_parameters() {
        let s = Schema::decimal(4, Some(12));
        assert_eq!(s.ty, Type::Bytes);
        assert_eq!(s.name.as_deref(), Some(DECIMAL_NAME));
        assert_eq!(s.parameters.get("scale").map(String::as_str), Some("4"));
        assert_eq!(
            s.parameters
                .get(DECIMAL_PRECISION_PARAM)
                .map(String::as_str),
            Some("12")
        );
    }
}
