//! A small HTTP proxy in front of QuestDB's HTTP port, for fault cases that need an HTTP status
//! QuestDB itself never answers (502, 503 from a load balancer or gateway in front of it). It
//! forwards every connection while healthy; while a fault holds it answers each request with
//! the fault's status and closes. Loopback only.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct Proxy {
    addr: SocketAddr,
    /// The status answered to every request; 0 forwards to QuestDB.
    status: watch::Sender<u16>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (status, watching) = watch::channel(0u16);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                connections.spawn(serve(client, upstream, watching.clone()));
                // Reap the finished ones so the set does not grow with the run.
                while connections.try_join_next().is_some() {}
            }
        });
        Ok(Proxy { addr, status, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// From now on every request is answered `status` (0: forwarded again). Connections open
    /// when a fault begins are closed, so a client's pooled connection meets it too.
    pub fn answer(&self, status: u16) {
        self.status.send_replace(status);
    }
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, mut status: watch::Receiver<u16>) {
    let now = *status.borrow_and_update();
    if now != 0 {
        let _ = answer(&mut client, now).await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return; // QuestDB away: the client sees the connection closed, as it would directly
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = async {
            while status.changed().await.is_ok() {
                if *status.borrow() != 0 {
                    return;
                }
            }
            std::future::pending::<()>().await
        } => {}
    }
}

/// Reads one request (headers and a `Content-Length` body) and answers `status`, closing.
async fn answer(client: &mut TcpStream, status: u16) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&request, b"\r\n\r\n") {
            break end + 4;
        }
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = request.len() - head_end;
    while body < length {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body += n;
    }
    let reason = match status {
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    };
    let text = format!("{status} {reason} (the fault case's proxy)\n");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    client.write_all(response.as_bytes()).await?;
    client.shutdown().await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw request through the proxy: forwarded to a one-shot upstream, then answered 502.
    #[tokio::test]
    async fn forwards_then_answers_the_fault_status() {
        let upstream = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let up_addr = upstream.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = upstream.accept().await {
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                    .await;
            }
        });
        let proxy = Proxy::start(up_addr).await.unwrap();
        let ask = |addr: SocketAddr| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"POST /write HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
                .await
                .unwrap();
            let mut answer = String::new();
            s.read_to_string(&mut answer).await.unwrap();
            answer
        };
        assert!(ask(proxy.addr()).await.starts_with("HTTP/1.1 204"));
        proxy.answer(502);
        assert!(ask(proxy.addr())
            .await
            .starts_with("HTTP/1.1 502 Bad Gateway"));
        proxy.answer(0);
        assert!(ask(proxy.addr()).await.starts_with("HTTP/1.1 204"));
    }
}
