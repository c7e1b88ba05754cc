//! [`super::row`] for a record decoded without a value tree
//! ([`crate::connect::cache::SchemaCache::decode_flat`]): the same parameters and the same
//! errors, with a string copied once, straight from the message into its parameter.

use super::{param, row_with, Column, Coordinates, MappingError, SqlParam, SqlType};
use crate::connect::scalar::Scalar;
use crate::connect::value::Value;

/// The parameters for one row: `fields` are the value struct's, in its schema's order, the
/// schema the columns were made from; `key` as for [`super::row`].
pub fn row(
    columns: &[Column],
    fields: &[Scalar<'_>],
    key: Option<&Value>,
    at: Coordinates<'_>,
) -> Result<Vec<SqlParam>, MappingError> {
    row_with(columns, key, at, |column, index| {
        scalar_param(column, fields.get(index).unwrap_or(&Scalar::Null))
    })
}

/// [`param`] of the scalar: a string into a text column directly, anything else through the
/// value it stands for (no allocation but for a string), so every check and error is
/// [`param`]'s own.
fn scalar_param(column: &Column, scalar: &Scalar<'_>) -> Result<SqlParam, MappingError> {
    match (scalar, &column.sql_type) {
        (Scalar::String(s), SqlType::Text) => Ok(SqlParam::Text(s.to_string())),
        _ => param(column, &scalar.clone().into_value()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::jdbc::Source;
    use std::borrow::Cow;

    fn col(name: &str, sql_type: SqlType, source: Source) -> Column {
        Column {
            name: name.into(),
            sql_type,
            nullable: true,
            has_default: false,
            source,
        }
    }

    /// Every kind of scalar on a matching and a mismatched column, the null markers, a field
    /// past the end and the Kafka coordinates: the same result as the tree's row.
    #[test]
    fn rows_and_errors_are_the_value_trees() {
        let at = Coordinates {
            topic: "t",
            partition: 1,
            offset: 7,
            timestamp_ms: Some(1_000),
        };
        let scalars = [
            Scalar::Boolean(true),
            Scalar::Int8(-3),
            Scalar::Int16(300),
            Scalar::Int32(i32::MIN),
            Scalar::Int32(5),
            Scalar::Int64(i64::MIN),
            Scalar::Float32(f32::NAN),
            Scalar::Float64(-0.0),
            Scalar::String(Cow::Borrowed("hi")),
            Scalar::Date(19_000),
            Scalar::Date(i32::MAX),
            Scalar::Time(1_000),
            Scalar::Timestamp(1_700_000_000_000),
            Scalar::Timestamp(i64::MAX),
            Scalar::Null,
        ];
        let types = [
            SqlType::Boolean,
            SqlType::SmallInt,
            SqlType::Int,
            SqlType::BigInt,
            SqlType::Real,
            SqlType::DoublePrecision,
            SqlType::Text,
            SqlType::Date,
            SqlType::Timestamp,
        ];
        let value = Value::Struct(
            scalars
                .iter()
                .map(|s| (String::new(), s.clone().into_value()))
                .collect(),
        );
        for (i, _) in scalars.iter().enumerate() {
            for ty in &types {
                let columns = [
                    col("c", ty.clone(), Source::Field(i)),
                    col("past", ty.clone(), Source::Field(scalars.len())),
                    col("topic", SqlType::Text, Source::KafkaTopic),
                    col("offset", SqlType::BigInt, Source::KafkaOffset),
                ];
                assert_eq!(
                    row(&columns, &scalars, None, at),
                    super::super::row(&columns, &value, None, at),
                    "{:?} into {ty:?}",
                    scalars[i]
                );
            }
        }
    }
}
