//! QuestDB's HTTP port as QuestDB-connector mode sees it: the connector speaks ILP only, so
//! this mode waits for QuestDB at start-up, and answers readiness probes, by asking ILP's HTTP
//! endpoint (`addr` of `client.conf.string`) for `/settings`, which the ILP client itself reads
//! when it starts. PG wire is not needed unless `connection.url` is set.

use crate::config::IlpConf;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// `host:port` of the conf string (QuestDB's default port when it has none).
pub fn addr(conf: &IlpConf) -> String {
    let addr = conf.get("addr").unwrap_or_else(|| "localhost:9000".into());
    if addr.contains(':') {
        addr
    } else {
        format!("{addr}:9000")
    }
}

/// The request: `GET /settings`, with the conf string's credentials (basic or bearer).
pub fn request(conf: &IlpConf) -> String {
    let auth = conf.auth_header();
    format!(
        "GET /settings HTTP/1.1\r\nHost: {}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n",
        addr(conf)
    )
}

/// Whether an answer's status line says QuestDB is up: `Err` says what it answered instead.
pub fn judge(status_line: &str) -> Result<(), String> {
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        Some(_) => Err(format!("answered `{}`", status_line.trim())),
        None => Err("closed the connection without an answer".into()),
    }
}

/// Asks QuestDB's HTTP port; `Err` says why it is not up (never the credentials). Over
/// `https::` only the TCP connection is tried (the sink has no TLS client of its own here; the
/// ILP client's first request checks the certificate).
pub async fn probe(conf: &IlpConf, limit: Duration) -> Result<(), String> {
    let addr = addr(conf);
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr.as_str()).await?;
        if !conf.as_str().starts_with("http::") {
            return Ok(None);
        }
        stream.write_all(request(conf).as_bytes()).await?;
        let answer = crate::write::ilp::read_status_line(&mut stream).await?;
        Ok::<_, std::io::Error>(Some(answer))
    };
    let answer = match tokio::time::timeout(limit, exchange).await {
        Err(_) => {
            return Err(format!(
                "QuestDB's HTTP port {addr}: no answer within {limit:?}"
            ))
        }
        Ok(Err(e)) => return Err(format!("QuestDB's HTTP port {addr}: {e}")),
        Ok(Ok(None)) => return Ok(()),
        Ok(Ok(Some(answer))) => answer,
    };
    let answer = String::from_utf8_lossy(&answer);
    judge(answer.lines().next().unwrap_or_default())
        .map_err(|why| format!("QuestDB's HTTP port {addr}: GET /settings {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_settings_with_the_conf_credentials() {
        let conf = IlpConf("http::addr=127.0.0.1:9123;username=u;password=p;".into());
        assert_eq!(addr(&conf), "127.0.0.1:9123");
        let r = request(&conf);
        assert!(
            r.starts_with("GET /settings HTTP/1.1\r\nHost: 127.0.0.1:9123\r\n"),
            "{r}"
        );
        assert!(r.contains("Authorization: Basic dTpw\r\n"), "{r}");
        let token = IlpConf("http::addr=h;token=t;".into());
        assert_eq!(addr(&token), "h:9000");
        assert!(request(&token).contains("Authorization: Bearer t\r\n"));
    }

    #[test]
    fn only_200_is_up() {
        assert_eq!(judge("HTTP/1.1 200 OK\r"), Ok(()));
        assert_eq!(
            judge("HTTP/1.1 503 Service Unavailable"),
            Err("answered `HTTP/1.1 503 Service Unavailable`".into())
        );
        assert!(judge("").is_err());
    }

    #[tokio::test]
    async fn a_closed_port_is_not_up_and_names_the_address() {
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let conf = IlpConf(format!("http::addr=127.0.0.1:{port};password=secret-x;"));
        let why = probe(&conf, Duration::from_secs(2)).await.unwrap_err();
        assert!(why.contains(&format!("127.0.0.1:{port}")), "{why}");
        assert!(!why.contains("secret-x"), "{why}");
    }
}
