//! Kafka's own JsonConverter as a decoding oracle.
//!
//! `reference/jsonconverter/` is a small Java program around upstream `JsonConverter` of the
//! pinned Kafka version. [`Oracle::start`] builds it with Maven on first use (cached under the
//! cache dir, keyed by its sources and the Kafka version) and starts it once; [`Oracle::convert`]
//! sends it one record value over stdin and reads the canonical line it prints
//! (`sink::connect::canonical` renders the sink's decoder the same way). The JVM exits when its
//! stdin closes, and the kernel kills it if this process dies first: it never outlives a run.
//!
//! [`judge`] compares the two lines: identical, a deviation this project decided on (by name,
//! each documented in `docs/type-mapping.md`), or a bug.

pub mod corpus;
pub mod jvm;
pub mod transforms;

use std::path::Path;

use sink::connect::cache::SchemaCache;
use sink::connect::{canonical, decode_envelope, DecodeErrorKind, DecodeOptions};

use crate::error::ServiceError;
use crate::versions::Versions;

#[derive(Debug, thiserror::Error)]
pub enum OracleError {
    #[error("building an oracle: {0}")]
    Build(#[from] ServiceError),
    #[error("{oracle} (pid {pid}): {what}: {source}; its stderr:\n{stderr}")]
    Io {
        oracle: &'static str,
        pid: u32,
        what: &'static str,
        source: std::io::Error,
        stderr: String,
    },
    #[error("{oracle} (pid {pid}) exited without answering; its stderr:\n{stderr}")]
    Exited {
        oracle: &'static str,
        pid: u32,
        stderr: String,
    },
}

/// The running oracle.
pub struct Oracle {
    jvm: jvm::Jvm,
}

/// The converter settings a run uses: `value.converter.*` without the prefix.
pub type Settings = Vec<(String, String)>;

impl Oracle {
    /// Builds (first time only) and starts the oracle with these converter settings.
    pub fn start(settings: &[(String, String)]) -> Result<Oracle, OracleError> {
        let program = jvm::Program {
            name: "jsonconverter",
            label: "the JsonConverter oracle",
            main_class: "kq.JsonConverterOracle",
            properties: vec![("kafka.version", Versions::default_pinned()?.kafka)],
        };
        let args: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Ok(Oracle {
            jvm: program.start(&args)?,
        })
    }

    /// Upstream's canonical line for one record value (`None`: a Kafka null).
    pub fn convert(&mut self, value: Option<&[u8]>) -> Result<String, OracleError> {
        let request = match value {
            None => "-".to_owned(),
            Some(bytes) => base64_encode(bytes),
        };
        self.jvm.ask(&request)
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The sink's decoder, rendered as the oracle renders upstream's: the canonical line, or
/// `ERROR <kind>: <message>`. The sink decodes through its schema cache, so that is checked
/// against the full decoder on the same record; a disagreement is a line upstream never prints.
pub fn ours(value: Option<&[u8]>) -> String {
    thread_local! {
        static CACHE: std::cell::RefCell<SchemaCache> = std::cell::RefCell::new(SchemaCache::new());
    }
    let opts = DecodeOptions::default();
    let full = decode_envelope(value, &opts);
    let cached = CACHE.with(|c| c.borrow_mut().decode_envelope(value, &opts));
    if cached != full {
        return format!("SCHEMA CACHE DISAGREES: {cached:?} instead of {full:?}");
    }
    if let Some(flat) = value.and_then(|v| CACHE.with(|c| flat_record(&mut c.borrow_mut(), v))) {
        if Ok(&flat) != full.as_ref() {
            return format!("FLAT PATH DISAGREES: {flat:?} instead of {full:?}");
        }
    }
    match full {
        Ok(envelope) => canonical::envelope(&envelope),
        Err(e) => format!("ERROR {}: {e}", kind_name(&e.kind)),
    }
}

/// The record as the sink's flat path (a struct of scalars, no value tree) decodes it, as an
/// envelope; `None` off that path.
fn flat_record(cache: &mut SchemaCache, bytes: &[u8]) -> Option<sink::connect::Envelope> {
    let mut fields = Vec::new();
    let flat = cache.decode_flat(bytes, &DecodeOptions::default(), &mut fields)?;
    let sink::connect::Type::Struct(names) = &flat.schema.ty else {
        return None;
    };
    let value = sink::connect::Value::Struct(
        names
            .iter()
            .zip(fields)
            .map(|(f, v)| (f.name.clone(), v.into_value()))
            .collect(),
    );
    Some(sink::connect::Envelope::Record(sink::connect::Decoded {
        schema: (*flat.schema).clone(),
        value,
        coercions: flat.coercions,
    }))
}

/// The variant name of a decode error.
fn kind_name(kind: &DecodeErrorKind) -> String {
    let debug = format!("{kind:?}");
    debug
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// How the sink's decoder compares with upstream on one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The same schema and value, or both refuse the record.
    Identical,
    /// A difference this project decided on; the name is its entry in docs/type-mapping.md.
    Deviation(&'static str),
    /// A difference nobody decided on.
    Bug,
}

/// The named deviations, each documented in docs/type-mapping.md ("The decoder against
/// JsonConverter").
pub const DEVIATIONS: &[&str] = &[
    "wrong-kind",
    "schemaless",
    "trailing-content",
    "logical-on-other-type",
    "decimal-without-scale",
    "non-standard-number",
    "lone-surrogate",
];

/// Compares our line with upstream's.
pub fn judge(ours: &str, upstream: &str) -> Verdict {
    let ours_error = ours.strip_prefix("ERROR ");
    let upstream_error = upstream.starts_with("ERROR ");
    match (ours_error, upstream_error) {
        (None, false) if ours == upstream => Verdict::Identical,
        (Some(_), true) => Verdict::Identical,
        // Deviation: a JSON node of the wrong kind is an error here, where JsonConverter stores
        // 0 / false / null (connect-behaviour.md §6).
        (Some(kind), false) if kind.starts_with("WrongKind") => Verdict::Deviation("wrong-kind"),
        // Deviation: a null schema (schema-less JSON) is refused: the sink needs the schema to
        // know the columns.
        (Some(kind), false) if kind.starts_with("SchemaNull") => Verdict::Deviation("schemaless"),
        // Deviation: text after the JSON document is an error; Jackson's readTree stops after
        // the first value and drops the rest silently.
        (Some(kind), false)
            if kind.starts_with("NotJson") && kind.contains("trailing characters") =>
        {
            Verdict::Deviation("trailing-content")
        }
        // Deviation: a number JSON does not allow (a leading zero, `-028`) is an error; the
        // Jackson parser JsonConverter uses reads it (-28).
        (Some(kind), false) if kind.starts_with("NotJson") && kind.contains("invalid number") => {
            Verdict::Deviation("non-standard-number")
        }
        // Deviation: a `\uD800`-`\uDBFF` escape not followed by its low half (a lone UTF-16
        // surrogate) is refused: a Rust string cannot hold it; Jackson passes it on as a
        // broken Java string.
        (Some(kind), false)
            if kind.starts_with("NotJson")
                && (kind.contains("hex escape") || kind.contains("surrogate")) =>
        {
            Verdict::Deviation("lone-surrogate")
        }
        // Deviation: a logical name on another physical type than Connect defines it on
        // (Timestamp on int8, Decimal on string) is refused; JsonConverter converts by the name
        // alone.
        (Some(kind), false)
            if kind.starts_with("InvalidSchema") && kind.contains("must have type") =>
        {
            Verdict::Deviation("logical-on-other-type")
        }
        // Deviation: a Decimal schema without "scale" is refused; JsonConverter takes a JSON
        // number's own scale, and the JDBC sink then fails declaring the column.
        (Some(kind), false)
            if kind.starts_with("InvalidSchema")
                && kind.contains("needs a \"scale\" parameter") =>
        {
            Verdict::Deviation("decimal-without-scale")
        }
        _ => Verdict::Bug,
    }
}

/// One difference nobody decided on, ready to print.
#[derive(Debug, Clone)]
pub struct Bug {
    /// Where the record came from: a fixture line, `random #n (seed s)`, a mutation.
    pub source: String,
    pub value: Option<String>,
    pub ours: String,
    pub upstream: String,
}

/// Counts of a comparison run.
#[derive(Debug, Default)]
pub struct Tally {
    pub identical: usize,
    pub deviations: std::collections::BTreeMap<&'static str, usize>,
    pub bugs: Vec<Bug>,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.identical + self.deviations.values().sum::<usize>() + self.bugs.len()
    }

    /// Compares one record value on both decoders and counts the verdict.
    pub fn compare(
        &mut self,
        oracle: &mut Oracle,
        source: impl FnOnce() -> String,
        value: Option<&[u8]>,
    ) -> Result<(), OracleError> {
        let upstream = oracle.convert(value)?;
        let ours = ours(value);
        match judge(&ours, &upstream) {
            Verdict::Identical => self.identical += 1,
            Verdict::Deviation(name) => *self.deviations.entry(name).or_default() += 1,
            Verdict::Bug => self.bugs.push(Bug {
                source: source(),
                value: value.map(|v| String::from_utf8_lossy(v).into_owned()),
                ours,
                upstream,
            }),
        }
        Ok(())
    }

    /// A summary: counts and rates, then the first `shown` bugs in full.
    pub fn report(&self, shown: usize) -> String {
        use std::fmt::Write as _;
        let total = self.total().max(1) as f64;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} records compared with upstream JsonConverter:",
            self.total()
        );
        let _ = writeln!(
            s,
            "  identical                        {:>8}  {:6.2}%",
            self.identical,
            100.0 * self.identical as f64 / total
        );
        for (name, n) in &self.deviations {
            let _ = writeln!(
                s,
                "  deviation {name:<22} {n:>8}  {:6.2}%",
                100.0 * *n as f64 / total
            );
        }
        let _ = writeln!(
            s,
            "  bug                              {:>8}  {:6.2}%",
            self.bugs.len(),
            100.0 * self.bugs.len() as f64 / total
        );
        for bug in self.bugs.iter().take(shown) {
            let _ = writeln!(
                s,
                "\n{}\n  value:    {}\n  ours:     {}\n  upstream: {}",
                bug.source,
                bug.value.as_deref().unwrap_or("(null)"),
                bug.ours,
                bug.upstream
            );
        }
        s
    }
}

/// Compares both decoders on every fixture record under `root`, mutations of each, and
/// `envelopes` random envelopes drawn from `seed`; `progress(i)` is called as random envelopes
/// go by. The same corpus for the same seed, so a bug can be reproduced.
pub fn compare_corpus(
    oracle: &mut Oracle,
    root: &Path,
    seed: u64,
    envelopes: usize,
    mut progress: impl FnMut(usize),
) -> Result<Tally, String> {
    let mut tally = Tally::default();
    let mut rng = corpus::Rng::new(seed);
    let records = fixture_records(root).map_err(|e| e.to_string())?;
    if records.is_empty() {
        return Err(format!("no fixture records under {}", root.display()));
    }
    for (source, value) in &records {
        let bytes = value.as_deref().map(str::as_bytes);
        tally
            .compare(oracle, || source.clone(), bytes)
            .map_err(|e| e.to_string())?;
        for (i, m) in value
            .iter()
            .flat_map(|v| corpus::mutations(v, &mut rng))
            .enumerate()
        {
            tally
                .compare(
                    oracle,
                    || format!("{source} mutation {i}"),
                    Some(m.as_bytes()),
                )
                .map_err(|e| e.to_string())?;
        }
    }
    for i in 0..envelopes {
        let e = corpus::envelope(&mut rng);
        tally
            .compare(
                oracle,
                || format!("random #{i} (seed {seed})"),
                Some(e.as_bytes()),
            )
            .map_err(|e| e.to_string())?;
        progress(i);
    }
    Ok(tally)
}

/// Every record value of every fixture under `root`, with its fixture line.
pub fn fixture_records(
    root: &Path,
) -> Result<Vec<(String, Option<String>)>, crate::fixture::FixtureError> {
    let mut out = Vec::new();
    for case in crate::fixture::discover(root)? {
        for m in &case.messages {
            out.push((format!("{}:{}", case.name, m.line), m.value.clone()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_standard_with_padding() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn verdicts() {
        assert_eq!(judge("int8 = 1", "int8 = 1"), Verdict::Identical);
        assert_eq!(
            judge("ERROR NotJson: x", "ERROR DataException: y"),
            Verdict::Identical
        );
        assert_eq!(
            judge("ERROR WrongKind: expected", "int8 = 0"),
            Verdict::Deviation("wrong-kind")
        );
        assert_eq!(judge("int8 = 1", "int8 = 2"), Verdict::Bug);
        assert_eq!(judge("int8 = 1", "ERROR DataException: y"), Verdict::Bug);
        assert_eq!(judge("ERROR InvalidSchema: x", "int8 = 1"), Verdict::Bug);
    }

    #[test]
    fn error_kinds_are_named() {
        assert_eq!(
            kind_name(&DecodeErrorKind::WrongKind {
                expected: "a".into(),
                found: "b".into()
            }),
            "WrongKind"
        );
        assert_eq!(kind_name(&DecodeErrorKind::MissingSchema), "MissingSchema");
    }
}
