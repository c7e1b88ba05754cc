//! Records per second on one core, parsing the seed's envelope (the `harness bench` record:
//! a 600-byte schema and an 8-field payload) and reading the payload's fields, with serde_json,
//! simd-json and sonic-rs. The sink's own decoder on the same record: `harness bench
//! --decode-only` (same machine, run back to back). These parsers do none of JsonConverter's
//! checks (int8 wrapping, the schema's types), so their rates are upper bounds for a decoder
//! built on them.

use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;
use std::hint::black_box;
use std::time::Instant;

/// The envelope of `harness/src/bench/mod.rs`, with the same varying fields.
fn envelope(i: u64) -> Vec<u8> {
    format!(
        r#"{{"schema":{{"type":"struct","fields":[{{"type":"boolean","optional":false,"field":"flag"}},{{"type":"int8","optional":false,"field":"id8"}},{{"type":"int16","optional":false,"field":"id16"}},{{"type":"int32","optional":false,"field":"id32"}},{{"type":"int64","optional":false,"field":"id64"}},{{"type":"float","optional":false,"field":"idFloat"}},{{"type":"double","optional":false,"field":"idDouble"}},{{"type":"string","optional":true,"field":"msg"}}],"optional":false,"name":"msgschema"}},"payload":{{"flag":false,"id8":{},"id16":222,"id32":{},"id64":{i},"idFloat":222,"idDouble":333,"msg":"hi {i}"}}}}"#,
        i % 100,
        i % 1_000_000
    )
    .into_bytes()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Payload<'a> {
    flag: bool,
    id8: i64,
    id16: i64,
    id32: i64,
    id64: i64,
    #[serde(rename = "idFloat")]
    id_float: f64,
    #[serde(rename = "idDouble")]
    id_double: f64,
    #[serde(borrow)]
    msg: Cow<'a, str>,
}

impl Payload<'_> {
    fn sum(&self) -> i64 {
        i64::from(self.flag)
            + self.id8
            + self.id16
            + self.id32
            + self.id64
            + self.msg.len() as i64
            + (self.id_float + self.id_double) as i64
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[allow(dead_code)]
    schema: IgnoredAny,
    #[serde(borrow)]
    payload: Payload<'a>,
}

fn rate(name: &str, messages: &[Vec<u8>], n: usize, mut each: impl FnMut(&[u8]) -> i64) {
    let mut sum = 0i64;
    for m in messages.iter().take(1000) {
        sum = sum.wrapping_add(each(m));
    }
    let started = Instant::now();
    for i in 0..n {
        sum = sum.wrapping_add(each(&messages[i % messages.len()]));
    }
    let secs = started.elapsed().as_secs_f64();
    black_box(sum);
    println!("{name:<58} {:>10.0} records/s", n as f64 / secs);
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let messages: Vec<Vec<u8>> = (0..10_000).map(envelope).collect();
    println!(
        "{n} records of the seed's shape ({} bytes), one core:",
        messages[0].len()
    );
    rate(
        "serde_json, typed struct (schema skipped)",
        &messages,
        n,
        |m| serde_json::from_slice::<Envelope>(m).unwrap().payload.sum(),
    );
    let mut buf = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    rate("simd-json 0.15, serde typed struct", &messages, n, |m| {
        buf.clear();
        buf.extend_from_slice(m);
        simd_json::serde::from_slice_with_buffers::<Envelope>(&mut buf, &mut buffers)
            .unwrap()
            .payload
            .sum()
    });
    let mut buf = Vec::new();
    let mut buffers = simd_json::Buffers::default();
    rate(
        "simd-json 0.15, tape, fields read from it",
        &messages,
        n,
        |m| {
            use simd_json::prelude::*;
            buf.clear();
            buf.extend_from_slice(m);
            let tape = simd_json::to_tape_with_buffers(&mut buf, &mut buffers).unwrap();
            let v = tape.as_value();
            let p = v.get("payload").unwrap();
            let int = |k: &str| p.get(k).and_then(|x| x.as_i64()).unwrap();
            int("id8")
                + int("id16")
                + int("id32")
                + int("id64")
                + i64::from(p.get("flag").and_then(|x| x.as_bool()).unwrap())
                + p.get("msg").and_then(|x| x.as_str().map(str::len)).unwrap() as i64
                + (p.get("idFloat").and_then(|x| x.cast_f64()).unwrap()
                    + p.get("idDouble").and_then(|x| x.cast_f64()).unwrap())
                    as i64
        },
    );
    rate("sonic-rs 0.5, serde typed struct", &messages, n, |m| {
        sonic_rs::from_slice::<Envelope>(m).unwrap().payload.sum()
    });
    rate(
        "sonic-rs 0.5, get(\"payload\") then typed struct",
        &messages,
        n,
        |m| {
            let raw = sonic_rs::get(m, &["payload"]).unwrap();
            sonic_rs::from_str::<Payload>(raw.as_raw_str())
                .unwrap()
                .sum()
        },
    );
}
