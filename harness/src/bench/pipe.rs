//! The limit a Kafka -> QuestDB pipe can reach here: a consumer that reads its partitions and
//! sends each message's payload as one ILP row, decoding nothing ILP does not need. No schema:
//! the payload object's members are written as they are spelled (a string as a string, `true` as
//! a boolean, a number with `.` or an exponent as a double, else as a long); the Kafka timestamp
//! is the designated timestamp, as the sink's `timestamp.kafka.native` does. It runs as its own
//! process (`harness bench-pipe`), so its CPU and memory are measured as the sink's are.

use questdb::ingress::{Buffer, Sender, TimestampMicros};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::Message;
use std::time::Duration;

/// What one pipe process reads and where it writes.
#[derive(clap::Args, Debug, Clone)]
pub struct PipeArgs {
    #[arg(long)]
    pub bootstrap: String,
    #[arg(long)]
    pub topic: String,
    /// The partitions this process reads, from their beginning to their end at start.
    #[arg(long, value_delimiter = ',')]
    pub partitions: Vec<i32>,
    /// questdb-rs configuration string (ILP over HTTP).
    #[arg(long)]
    pub ilp_conf: String,
    #[arg(long)]
    pub table: String,
    /// Rows per ILP request.
    #[arg(long, default_value_t = 3000)]
    pub batch_size: usize,
}

/// Reads the partitions to their end and stores every payload; returns the rows sent.
pub fn run(args: &PipeArgs) -> anyhow::Result<u64> {
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &args.bootstrap)
        .set("group.id", format!("bench-pipe-{}", args.table))
        .set("enable.auto.commit", "false")
        .create()?;
    let mut ends = Vec::new();
    let mut assignment = rdkafka::TopicPartitionList::new();
    for &p in &args.partitions {
        let (_, high) = consumer.fetch_watermarks(&args.topic, p, Duration::from_secs(30))?;
        if high > 0 {
            ends.push((p, high));
            assignment.add_partition_offset(&args.topic, p, rdkafka::Offset::Beginning)?;
        }
    }
    consumer.assign(&assignment)?;
    // The ILP requests go out on a thread of their own while the next batch is read, as the
    // sink overlaps them: buffers travel to it and back (two, so one is filled while the other
    // is sent).
    let mut sender = Sender::from_conf(&args.ilp_conf)?;
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Buffer>(1);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Buffer>();
    empty_tx.send(sender.new_buffer())?;
    let mut buffer = sender.new_buffer();
    let writer = std::thread::spawn(move || -> anyhow::Result<()> {
        for mut full in full_rx {
            sender.flush_and_keep_with_flags(&full, true)?;
            full.clear();
            if empty_tx.send(full).is_err() {
                break;
            }
        }
        Ok(())
    });
    let mut open = ends.len();
    let mut rows = 0u64;
    let deadline = std::time::Instant::now() + Duration::from_secs(600);
    let read = (|| -> anyhow::Result<()> {
        while open > 0 {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the pipe did not reach the end of {} in 600 s",
                args.topic
            );
            let Some(message) = consumer.poll(Duration::from_millis(100)) else {
                continue;
            };
            let message = message?;
            let at = message.timestamp().to_millis().unwrap_or(0) * 1000;
            if let Some(payload) = message.payload() {
                append_row(&mut buffer, &args.table, payload, at).map_err(|e| {
                    anyhow::anyhow!(
                        "{}[{}]@{}: {e}",
                        args.topic,
                        message.partition(),
                        message.offset()
                    )
                })?;
                rows += 1;
            }
            if let Some((_, end)) = ends.iter().find(|(p, _)| *p == message.partition()) {
                if message.offset() + 1 == *end {
                    open -= 1;
                }
            }
            if buffer.row_count() >= args.batch_size || (open == 0 && !buffer.is_empty()) {
                // The writer's error, if it stopped, is told below.
                let Ok(empty) = empty_rx.recv() else { break };
                full_tx.send(std::mem::replace(&mut buffer, empty))?;
            }
        }
        Ok(())
    })();
    drop(full_tx);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the ILP writer panicked"))?;
    read?;
    written?;
    Ok(rows)
}

/// One ILP row from an envelope's `payload` object, at `micros`.
pub fn append_row(
    buffer: &mut Buffer,
    table: &str,
    message: &[u8],
    micros: i64,
) -> anyhow::Result<()> {
    let text = std::str::from_utf8(message)?;
    // The envelope puts the payload after the schema: its last `"payload":` is the one.
    let at = text
        .rfind("\"payload\":")
        .ok_or_else(|| anyhow::anyhow!("no payload"))?;
    let mut members = Members::new(&text[at + "\"payload\":".len()..])?;
    buffer.table(table)?;
    while let Some((name, value)) = members.next_member()? {
        match value {
            Value::Str(s) => buffer.column_str(name, s)?,
            Value::Escaped(s) => {
                let s: String = serde_json::from_str(s)?;
                buffer.column_str(name, s)?
            }
            Value::Bool(b) => buffer.column_bool(name, b)?,
            Value::Long(n) => buffer.column_i64(name, n)?,
            Value::Double(x) => buffer.column_f64(name, x)?,
            Value::Null => buffer,
        };
    }
    buffer.at(TimestampMicros::new(micros))?;
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Value<'a> {
    Str(&'a str),
    /// A string with escapes, quotes included, for serde_json to read.
    Escaped(&'a str),
    Bool(bool),
    Long(i64),
    Double(f64),
    Null,
}

/// The members of a flat JSON object (the bench's payloads have no nested values).
struct Members<'a> {
    rest: &'a str,
}

impl<'a> Members<'a> {
    fn new(text: &'a str) -> anyhow::Result<Members<'a>> {
        let rest = text
            .trim_start()
            .strip_prefix('{')
            .ok_or_else(|| anyhow::anyhow!("the payload is not an object"))?;
        Ok(Members { rest })
    }

    fn next_member(&mut self) -> anyhow::Result<Option<(&'a str, Value<'a>)>> {
        let rest = self.rest.trim_start().trim_start_matches(',').trim_start();
        if rest.starts_with('}') {
            return Ok(None);
        }
        let (name, rest) = string(rest)?;
        let rest = rest
            .trim_start()
            .strip_prefix(':')
            .ok_or_else(|| anyhow::anyhow!("no `:` after {name}"))?
            .trim_start();
        let (value, rest) = if rest.starts_with('"') {
            let (s, tail) = string(rest)?;
            let raw = &rest[..rest.len() - tail.len()];
            let v = if raw.contains('\\') {
                Value::Escaped(raw)
            } else {
                Value::Str(s)
            };
            (v, tail)
        } else {
            let end = rest
                .find([',', '}'])
                .ok_or_else(|| anyhow::anyhow!("{name}: unterminated value"))?;
            let token = rest[..end].trim();
            let v = match token {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                t if t.contains(['.', 'e', 'E']) => Value::Double(t.parse()?),
                t => Value::Long(t.parse()?),
            };
            (v, &rest[end..])
        };
        self.rest = rest;
        Ok(Some((name, value)))
    }
}

/// A JSON string at the start of `text`: its content (escapes left as they are) and the rest.
fn string(text: &str) -> anyhow::Result<(&str, &str)> {
    let body = text
        .strip_prefix('"')
        .ok_or_else(|| anyhow::anyhow!("expected a string at {:.20}", text))?;
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok((&body[..i], &body[i + 1..])),
            _ => i += 1,
        }
    }
    anyhow::bail!("unterminated string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flat_payload_is_read_member_by_member() {
        let mut m =
            Members::new(r#"{"a":1, "b":-2.5e3,"c":"x\"y","d":true,"e":null,"f":"hi"}}"#).unwrap();
        let mut got = Vec::new();
        while let Some(member) = m.next_member().unwrap() {
            got.push(member);
        }
        assert_eq!(
            got,
            vec![
                ("a", Value::Long(1)),
                ("b", Value::Double(-2500.0)),
                ("c", Value::Escaped(r#""x\"y""#)),
                ("d", Value::Bool(true)),
                ("e", Value::Null),
                ("f", Value::Str("hi")),
            ]
        );
    }

    #[test]
    fn the_bench_envelope_makes_one_row() {
        let mut buffer = Buffer::new(questdb::ingress::ProtocolVersion::V1);
        append_row(&mut buffer, "t", &super::super::envelope(7), 1_000).unwrap();
        assert_eq!(buffer.row_count(), 1);
        let line = String::from_utf8_lossy(buffer.as_bytes()).into_owned();
        assert_eq!(
            line,
            "t flag=f,id8=7i,id16=222i,id32=7i,id64=7i,idFloat=222i,idDouble=333i,msg=\"hi 7\" 1000000\n"
        );
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_an_error() {
        let mut buffer = Buffer::new(questdb::ingress::ProtocolVersion::V1);
        let err = append_row(&mut buffer, "t", br#"{"payload":[1]}"#, 0).unwrap_err();
        assert!(err.to_string().contains("not an object"), "{err}");
    }
}
