//! Row counts over QuestDB's HTTP `/exec` (cheap enough to ask every few milliseconds while a
//! sink runs; a WAL table counts what QuestDB applied, what a query sees).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A keep-alive HTTP/1.1 connection to QuestDB's `/exec` (QuestDB keeps a connection open
/// whatever the request says, so an answer ends where its length or last chunk says).
pub struct QuestDbHttp {
    port: u16,
    conn: Option<BufReader<TcpStream>>,
}

impl QuestDbHttp {
    pub fn new(port: u16) -> QuestDbHttp {
        QuestDbHttp { port, conn: None }
    }

    /// Rows visible in `table`; 0 while it does not exist.
    pub fn count_rows(&mut self, table: &str) -> Result<u64, String> {
        let sql = format!("select count() from '{}'", table.replace('\'', "''"));
        let (status, body) = self.exec_answer(&sql, "&count=false")?;
        if status != 200 {
            if body.contains("does not exist") {
                return Ok(0);
            }
            return Err(format!("{sql}: HTTP {status}: {body}"));
        }
        first_value(&body).ok_or_else(|| format!("{sql}: no count in {body}"))
    }

    /// Runs one statement (DDL).
    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        match self.exec_answer(sql, "")? {
            (200, _) => Ok(()),
            (status, body) => Err(format!("{sql}: HTTP {status}: {body}")),
        }
    }

    fn exec_answer(&mut self, sql: &str, extra: &str) -> Result<(u16, String), String> {
        let path = format!("/exec?query={}{extra}", percent_encode(sql));
        // A connection QuestDB closed since the last request: one retry on a new one.
        match self.get(&path) {
            Ok(answer) => Ok(answer),
            Err(_) => {
                self.conn = None;
                self.get(&path)
            }
        }
    }

    fn get(&mut self, path: &str) -> Result<(u16, String), String> {
        let port = self.port;
        let context = |e: std::io::Error| format!("GET {path} on 127.0.0.1:{port}: {e}");
        if self.conn.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", port)).map_err(context)?;
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .map_err(context)?;
            self.conn = Some(BufReader::new(stream));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
        conn.get_mut()
            .write_all(request.as_bytes())
            .map_err(context)?;
        let answer = read_answer(conn).map_err(context);
        if answer.is_err() {
            self.conn = None;
        }
        answer
    }
}

/// One HTTP/1.1 answer: status and body (by Content-Length or chunked).
fn read_answer(conn: &mut impl BufRead) -> std::io::Result<(u16, String)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    conn.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(&format!("not an HTTP answer: {line:?}")))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(bad("the connection closed in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| bad(&format!("bad chunk size {line:?}")))?;
            let mut chunk = vec![0; size + 2];
            conn.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        conn.read_exact(&mut body)?;
    } else {
        return Err(bad("an answer without length"));
    }
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// The first cell of an `/exec` answer's dataset, as an integer.
fn first_value(body: &str) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["dataset"][0][0].as_u64()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            percent_encode("select count() from 'a-b'"),
            "select%20count%28%29%20from%20%27a-b%27"
        );
    }

    #[test]
    fn answers_end_at_their_length_or_last_chunk() {
        let mut chunked: &[u8] =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT";
        assert_eq!(read_answer(&mut chunked).unwrap(), (200, "abcde".into()));
        assert_eq!(chunked, b"NEXT");
        let mut sized: &[u8] = b"HTTP/1.1 400 Bad\r\nContent-Length: 2\r\n\r\nnoNEXT";
        assert_eq!(read_answer(&mut sized).unwrap(), (400, "no".into()));
        assert_eq!(sized, b"NEXT");
    }

    #[test]
    fn the_count_is_the_first_cell() {
        let body = r#"{"query":"select count() from 't'","columns":[{"name":"count","type":"LONG"}],"timestamp":-1,"dataset":[[42]],"count":1}"#;
        assert_eq!(first_value(body), Some(42));
        assert_eq!(first_value(r#"{"error":"x"}"#), None);
    }
}
