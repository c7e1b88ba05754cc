//! A Connect value that holds no other value, borrowed from the message bytes where it can be:
//! what the decoder's common path ([`super::cache::SchemaCache::decode_flat`]) produces for a
//! struct of such fields, so that a record of the common shape costs no allocation to decode
//! (the [`Value`] tree allocates a vector, every field's name and every string).

use super::schema::{Logical, Schema, Type};
use super::value::Value;
use std::borrow::Cow;

/// The variants of [`Value`] that hold no other value, except `Bytes` and `Decimal` (decoding
/// them allocates anyway).
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'b> {
    Null,
    Boolean(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Float32(f32),
    Float64(f64),
    /// Borrowed from the message unless it had escapes (or is a schema default).
    String(Cow<'b, str>),
    Date(i32),
    Time(i32),
    Timestamp(i64),
}

impl Scalar<'_> {
    /// The same value as the decoder's tree holds it.
    pub fn into_value(self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Boolean(v) => Value::Boolean(v),
            Scalar::Int8(v) => Value::Int8(v),
            Scalar::Int16(v) => Value::Int16(v),
            Scalar::Int32(v) => Value::Int32(v),
            Scalar::Int64(v) => Value::Int64(v),
            Scalar::Float32(v) => Value::Float32(v),
            Scalar::Float64(v) => Value::Float64(v),
            Scalar::String(v) => Value::String(v.into_owned()),
            Scalar::Date(v) => Value::Date(v),
            Scalar::Time(v) => Value::Time(v),
            Scalar::Timestamp(v) => Value::Timestamp(v),
        }
    }

    /// A value of the tree as a scalar; `None` for one that holds others, bytes or a decimal.
    pub fn of(value: &Value) -> Option<Scalar<'static>> {
        Some(match value {
            Value::Null => Scalar::Null,
            Value::Boolean(v) => Scalar::Boolean(*v),
            Value::Int8(v) => Scalar::Int8(*v),
            Value::Int16(v) => Scalar::Int16(*v),
            Value::Int32(v) => Scalar::Int32(*v),
            Value::Int64(v) => Scalar::Int64(*v),
            Value::Float32(v) => Scalar::Float32(*v),
            Value::Float64(v) => Scalar::Float64(*v),
            Value::String(v) => Scalar::String(Cow::Owned(v.clone())),
            Value::Date(v) => Scalar::Date(*v),
            Value::Time(v) => Scalar::Time(*v),
            Value::Timestamp(v) => Scalar::Timestamp(*v),
            Value::Bytes(_)
            | Value::Decimal(_)
            | Value::Array(_)
            | Value::Map(..)
            | Value::Struct(_) => return None,
        })
    }
}

/// Whether values of `schema` decode to a [`Scalar`].
pub fn is_scalar(schema: &Schema) -> bool {
    match schema.logical {
        Some(Logical::Decimal { .. }) => false,
        Some(Logical::Date | Logical::Time | Logical::Timestamp) => true,
        None => !matches!(
            schema.ty,
            Type::Bytes | Type::Array(_) | Type::Map(..) | Type::Struct(_)
        ),
    }
}

/// Whether `schema` is a struct of scalar fields, the shape [`Scalar`]s decode.
pub fn is_flat_struct(schema: &Schema) -> bool {
    match &schema.ty {
        Type::Struct(fields) => fields.iter().all(|f| is_scalar(&f.schema)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::schema::Field;

    #[test]
    fn every_scalar_value_goes_round_trip() {
        for value in [
            Value::Null,
            Value::Boolean(true),
            Value::Int8(-3),
            Value::Int16(300),
            Value::Int32(-70_000),
            Value::Int64(1 << 40),
            Value::Float32(-0.0),
            Value::Float64(1.5),
            Value::String("é".into()),
            Value::Date(19_000),
            Value::Time(1_000),
            Value::Timestamp(1_700_000_000_000),
        ] {
            assert_eq!(Scalar::of(&value).unwrap().into_value(), value);
        }
        assert_eq!(Scalar::of(&Value::Bytes(vec![1])), None);
        assert_eq!(Scalar::of(&Value::Struct(vec![])), None);
    }

    #[test]
    fn a_flat_struct_has_only_scalar_fields() {
        let decimal = Schema {
            logical: Some(Logical::Decimal {
                scale: 2,
                precision: None,
            }),
            ..Schema::new(Type::Bytes)
        };
        let date = Schema {
            logical: Some(Logical::Date),
            ..Schema::new(Type::Int32)
        };
        let flat = |fields: Vec<Schema>| {
            is_flat_struct(&Schema::new(Type::Struct(
                fields.into_iter().map(|s| Field::new("f", s)).collect(),
            )))
        };
        assert!(flat(vec![Schema::new(Type::String), date]));
        assert!(!flat(vec![Schema::new(Type::Bytes)]));
        assert!(!flat(vec![decimal]));
        assert!(!flat(vec![Schema::array(Schema::new(Type::Int8))]));
        assert!(!is_flat_struct(&Schema::new(Type::Int8)));
    }
}
