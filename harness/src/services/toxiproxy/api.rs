//! Toxiproxy's HTTP API on loopback: one blocking HTTP/1.1 request per call, JSON in and out.
//! Tiny on purpose: the API is a handful of calls on 127.0.0.1 (no TLS, no redirects), and the
//! harness has no HTTP client among its dependencies.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `method path` with `body` (JSON) to the API on `port`: the status and the body.
pub(crate) fn call(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<(u16, String), String> {
    let context = |e: std::io::Error| format!("{method} {path} on 127.0.0.1:{port}: {e}");
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(context)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(context)?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(context)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(context)?;
    parse_response(&String::from_utf8_lossy(&response)).ok_or_else(|| {
        format!(
            "{method} {path}: not an HTTP answer: {:?}",
            String::from_utf8_lossy(&response)
        )
    })
}

/// Status and body of an answer; Toxiproxy (Go's net/http) sends a Content-Length for its small
/// JSON bodies, and chunks only big ones, which the harness never asks for.
fn parse_response(text: &str) -> Option<(u16, String)> {
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// `Ok(body)` for a 2xx answer, else the status and body as the error.
pub(crate) fn expect_success(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<String, String> {
    let (status, text) = call(port, method, path, body)?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(format!(
            "{method} {path} answered {status}: {}",
            text.trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_and_body() {
        let text =
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse_response(text), Some((201, "{}".to_owned())));
        assert_eq!(parse_response("garbage"), None);
    }
}
