//! Which node is the active KRaft controller: Kafka's `DescribeQuorum` request (API key 55,
//! version 0, what `Admin.describeMetadataQuorum` and `kafka-metadata-quorum.sh` send), asked of
//! a broker, which forwards it to the controller quorum (KIP-836). librdkafka has no call for
//! it, and a metadata response's controller id is a random broker in KRaft mode, so the request
//! is written here: encoding and decoding are pure, [`active_controller`] does the round trip.

use std::io::{Read, Write};
use std::time::Duration;

const DESCRIBE_QUORUM: i16 = 55;
const METADATA_TOPIC: &str = "__cluster_metadata";

/// The request, with its 4-byte size in front (request header v2: flexible).
pub fn encode_request(correlation_id: i32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(DESCRIBE_QUORUM.to_be_bytes());
    body.extend(0i16.to_be_bytes()); // version 0
    body.extend(correlation_id.to_be_bytes());
    let client = b"kq-harness";
    body.extend((client.len() as i16).to_be_bytes()); // client id: a plain nullable string
    body.extend(client);
    body.push(0); // header tagged fields
    body.push(2); // topics: compact array of 1
    body.push(METADATA_TOPIC.len() as u8 + 1); // compact string
    body.extend(METADATA_TOPIC.as_bytes());
    body.push(2); // partitions: compact array of 1
    body.extend(0i32.to_be_bytes());
    body.extend([0, 0, 0]); // partition, topic and request tagged fields
    let mut framed = (body.len() as i32).to_be_bytes().to_vec();
    framed.extend(body);
    framed
}

/// The leader id of `__cluster_metadata`'s partition 0 in a response (without its size), or why
/// there is none.
pub fn decode_leader(response: &[u8], correlation_id: i32) -> Result<i32, String> {
    let mut r = Reader(response);
    let id = r.i32()?;
    if id != correlation_id {
        return Err(format!("correlation id {id}, expected {correlation_id}"));
    }
    r.tagged_fields()?;
    let error = r.i16()?;
    if error != 0 {
        return Err(format!("error code {error}"));
    }
    let topics = r.compact_len()?;
    if topics == 0 {
        return Err("no topic in the answer".into());
    }
    let _name = r.compact_string()?;
    if r.compact_len()? == 0 {
        return Err("no partition in the answer".into());
    }
    let _partition = r.i32()?;
    let error = r.i16()?;
    if error != 0 {
        return Err(format!("partition error code {error}"));
    }
    match r.i32()? {
        -1 => Err("no leader (an election is under way)".into()),
        leader => Ok(leader),
    }
}

/// Asks the broker at `127.0.0.1:port` which node leads the controller quorum.
pub fn active_controller(port: u16) -> Result<i32, String> {
    let mut stream = super::running::probe_connection(port)?;
    let correlation_id = 26;
    stream
        .write_all(&encode_request(correlation_id))
        .map_err(|e| format!("send: {e}"))?;
    let mut size = [0u8; 4];
    stream
        .read_exact(&mut size)
        .map_err(|e| format!("read: {e}"))?;
    let size = i32::from_be_bytes(size);
    if !(0..1 << 20).contains(&size) {
        return Err(format!("an answer of {size} bytes"));
    }
    let mut response = vec![0u8; size as usize];
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .and_then(|()| stream.read_exact(&mut response))
        .map_err(|e| format!("read: {e}"))?;
    decode_leader(&response, correlation_id)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.0.len() < n {
            return Err("the answer ends early".into());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint too long".into())
    }

    /// A compact array's or string's length (stored plus one; 0 is null).
    fn compact_len(&mut self) -> Result<usize, String> {
        Ok(self.varint()?.saturating_sub(1) as usize)
    }

    fn compact_string(&mut self) -> Result<String, String> {
        let n = self.compact_len()?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn tagged_fields(&mut self) -> Result<(), String> {
        for _ in 0..self.varint()? {
            let _tag = self.varint()?;
            let n = self.varint()? as usize;
            self.take(n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_asks_for_the_metadata_partition() {
        let framed = encode_request(7);
        let size = i32::from_be_bytes(framed[..4].try_into().unwrap()) as usize;
        assert_eq!(size, framed.len() - 4);
        // api key 55, version 0, correlation 7
        assert_eq!(&framed[4..12], &[0, 55, 0, 0, 0, 0, 0, 7]);
        let topic = framed
            .windows(METADATA_TOPIC.len())
            .position(|w| w == METADATA_TOPIC.as_bytes())
            .unwrap();
        assert_eq!(framed[topic - 1] as usize, METADATA_TOPIC.len() + 1);
        assert_eq!(
            &framed[topic + METADATA_TOPIC.len()..],
            &[2, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    /// A response as a 3.9 broker writes it: header, error, one topic, one partition.
    fn response(correlation: i32, leader: i32) -> Vec<u8> {
        let mut r = correlation.to_be_bytes().to_vec();
        r.push(0); // header tagged fields
        r.extend(0i16.to_be_bytes());
        r.push(2);
        r.push(METADATA_TOPIC.len() as u8 + 1);
        r.extend(METADATA_TOPIC.as_bytes());
        r.push(2);
        r.extend(0i32.to_be_bytes());
        r.extend(0i16.to_be_bytes());
        r.extend(leader.to_be_bytes());
        r.extend(5i32.to_be_bytes()); // leader epoch; the rest is not read
        r
    }

    #[test]
    fn the_leader_is_read_from_the_answer() {
        assert_eq!(decode_leader(&response(7, 2), 7), Ok(2));
        assert!(decode_leader(&response(7, -1), 7)
            .unwrap_err()
            .contains("election"));
        assert!(decode_leader(&response(8, 1), 7)
            .unwrap_err()
            .contains("correlation"));
        assert!(decode_leader(&response(7, 1)[..12], 7)
            .unwrap_err()
            .contains("early"));
    }

    #[test]
    fn tagged_fields_are_skipped() {
        let mut r = 7i32.to_be_bytes().to_vec();
        r.extend([1, 3, 2, 0xaa, 0xbb]); // one tagged field: tag 3, 2 bytes
        r.extend(&response(7, 1)[5..]);
        assert_eq!(decode_leader(&r, 7), Ok(1));
    }
}
