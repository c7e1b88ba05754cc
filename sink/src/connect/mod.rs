//! Kafka Connect's data model ([`schema`], [`value`]) and a decoder for the envelope Kafka's
//! `JsonConverter` reads with `schemas.enable=true` ([`json`]), and the canonical text both it
//! and upstream's JsonConverter (the oracle) render ([`canonical`]). Pure: no I/O.
//!
//! Decoding follows JsonConverter (wrapping ints included) except that a JSON node of the wrong
//! kind is an error instead of a silent 0 / false / null; see `shared/reference/connect-behaviour.md`
//! section 6.

pub mod cache;
pub mod canonical;
mod decode_error;
mod encode;
pub mod json;
mod number;
pub mod scalar;
mod scan;
mod scanner;
pub mod schema;
pub mod transforms;
pub mod value;

pub use json::{
    decode_envelope, encode_envelope, encode_value, schema_to_json, Coercion, DecodeError,
    DecodeErrorKind, DecodeOptions, Decoded, Envelope, Overflow,
};
pub use schema::{Field, Logical, Schema, Type};
pub use value::{Decimal, Value};
