//! The operator's endpoint (`metrics.listen=HOST:PORT`, off by default): one small HTTP/1.1
//! listener on the sink's runtime, answering
//! - `GET /metrics`: the metrics in Prometheus' text format ([`crate::metrics`]);
//! - `GET /health/live`: 200 while the process runs;
//! - `GET /health/ready`: 200 once partitions are assigned and QuestDB answers on a new
//!   connection, else 503 saying which is missing.
//!
//! Each connection is one request and one answer (`Connection: close`), which is all a
//! Prometheus scraper or an orchestrator's probe needs; no HTTP stack is linked for it.

use crate::config::{Connection, IlpConf, SinkConfig};
use crate::write::pg::QuestDb;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What readiness is judged by, shared with the pipeline.
pub struct Health {
    /// Partitions assigned to this process (kept up to date by the pipeline).
    assigned: AtomicUsize,
    questdb: Probe,
}

/// How readiness asks QuestDB: a new PG wire connection, or (QuestDB-connector mode without
/// `connection.url`) ILP's HTTP port.
pub enum Probe {
    Pg(Connection),
    IlpHttp(IlpConf),
}

impl Probe {
    pub fn of(config: &SinkConfig) -> Probe {
        match (&config.ilp, config.pg_wire) {
            (Some(conf), false) => Probe::IlpHttp(conf.clone()),
            _ => Probe::Pg(config.connection.clone()),
        }
    }
}

impl Health {
    pub fn new(questdb: Probe) -> Health {
        Health {
            assigned: AtomicUsize::new(0),
            questdb,
        }
    }

    pub fn set_assigned(&self, partitions: usize) {
        self.assigned.store(partitions, Ordering::Relaxed);
        crate::metrics::assigned(partitions);
    }

    /// `Ok(why)` when ready, `Err(what is missing)` otherwise. QuestDB is asked on a
    /// connection of its own, so a probe says whether QuestDB answers now.
    async fn ready(&self) -> Result<String, String> {
        let assigned = self.assigned.load(Ordering::Relaxed);
        if assigned == 0 {
            return Err(
                "no partition assigned yet (waiting for Kafka or the consumer group)".into(),
            );
        }
        let c = match &self.questdb {
            Probe::Pg(c) => c,
            Probe::IlpHttp(conf) => {
                return match crate::run::ilp_http::probe(conf, PROBE_TIMEOUT).await {
                    Ok(()) => Ok(format!(
                        "{assigned} partition(s) assigned, QuestDB's HTTP port at {} answers",
                        crate::run::ilp_http::addr(conf)
                    )),
                    Err(why) => Err(why),
                }
            }
        };
        match tokio::time::timeout(PROBE_TIMEOUT, QuestDb::connect(c)).await {
            Ok(Ok(db)) => match db.execute("SELECT 1").await {
                Ok(()) => Ok(format!(
                    "{assigned} partition(s) assigned, QuestDB at {}:{} answers",
                    c.host, c.port
                )),
                Err(e) => Err(format!("QuestDB: {e}")),
            },
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "QuestDB at {}:{} did not answer within {PROBE_TIMEOUT:?}",
                c.host, c.port
            )),
        }
    }
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// A client gets this long to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests are a line and a few headers; more is not a probe or a scrape.
const MAX_REQUEST: usize = 16 * 1024;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Metrics,
    Live,
    Ready,
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

/// The route of a request, from its head (request line and headers).
pub fn route(head: &str) -> Route {
    let line = head.lines().next().unwrap_or_default();
    let mut words = line.split_whitespace();
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    if method != "GET" && method != "HEAD" {
        return Route::MethodNotAllowed;
    }
    match target.split('?').next().unwrap_or_default() {
        "/metrics" => Route::Metrics,
        "/health/live" => Route::Live,
        "/health/ready" => Route::Ready,
        _ => Route::NotFound,
    }
}

/// One complete HTTP/1.1 answer.
pub fn response(status: u16, content_type: &str, body: &str, head_only: bool) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    out
}

const TEXT: &str = "text/plain; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Listens on `listener` until the task is aborted; upkeeps the recorder meanwhile.
pub async fn serve(listener: TcpListener, metrics: PrometheusHandle, health: Arc<Health>) {
    let upkeep = metrics.clone();
    let _upkeep = AbortOnDrop(tokio::spawn(async move {
        // Drains histogram samples even if nobody scrapes, so they do not pile up.
        let mut every = tokio::time::interval(Duration::from_secs(5));
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    }));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("metrics endpoint: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (metrics, health) = (metrics.clone(), health.clone());
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &metrics, &health).await {
                tracing::debug!("metrics endpoint: {e}");
            }
        });
    }
}

async fn answer(
    mut stream: TcpStream,
    metrics: &PrometheusHandle,
    health: &Health,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(READ_TIMEOUT, read).await.is_err() {
        return Ok(()); // a client that sends nothing gets nothing
    }
    let head = String::from_utf8_lossy(&head);
    let head_only = head.starts_with("HEAD ");
    let out = match route(&head) {
        Route::Metrics => response(200, PROMETHEUS_TEXT, &metrics.render(), head_only),
        Route::Live => response(200, TEXT, "live\n", head_only),
        Route::Ready => match health.ready().await {
            Ok(why) => response(200, TEXT, &format!("ready: {why}\n"), head_only),
            Err(why) => response(503, TEXT, &format!("not ready: {why}\n"), head_only),
        },
        Route::NotFound => response(
            404,
            TEXT,
            "not found: try /metrics, /health/live or /health/ready\n",
            head_only,
        ),
        Route::MethodNotAllowed => response(405, TEXT, "only GET and HEAD\n", head_only),
        Route::BadRequest => response(400, TEXT, "bad request\n", false),
    };
    stream.write_all(&out).await?;
    stream.shutdown().await
}

/// A spawned task that ends with its owner.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Binds `metrics.listen` and serves it until the returned guard is dropped.
pub async fn start(
    addr: std::net::SocketAddr,
    health: Arc<Health>,
) -> Result<AbortOnDrop, crate::SinkError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| crate::SinkError::Listen { addr, source })?;
    let bound = listener.local_addr().unwrap_or(addr);
    tracing::info!("metrics on http://{bound}/metrics, health on /health/live and /health/ready");
    let metrics = crate::metrics::install();
    Ok(AbortOnDrop(tokio::spawn(serve(listener, metrics, health))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        for (head, expected) in [
            ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", Route::Metrics),
            ("GET /metrics?name[]=x HTTP/1.0\r\n\r\n", Route::Metrics),
            ("HEAD /health/live HTTP/1.1\r\n\r\n", Route::Live),
            ("GET /health/ready HTTP/1.1\r\n\r\n", Route::Ready),
            ("GET / HTTP/1.1\r\n\r\n", Route::NotFound),
            ("POST /metrics HTTP/1.1\r\n\r\n", Route::MethodNotAllowed),
            ("GET /metrics\r\n\r\n", Route::BadRequest),
            ("\u{16}\u{3}\u{1} tls hello", Route::BadRequest),
            ("", Route::BadRequest),
        ] {
            assert_eq!(route(head), expected, "{head:?}");
        }
    }

    #[test]
    fn answers_are_complete_http_messages() {
        let text = String::from_utf8(response(503, TEXT, "not ready: x\n", false)).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 13\r\nConnection: close\r\n\r\nnot ready: x\n"
        );
        let head = String::from_utf8(response(200, TEXT, "live\n", true)).unwrap();
        assert!(
            head.ends_with("Content-Length: 5\r\nConnection: close\r\n\r\n"),
            "{head}"
        );
    }

    #[tokio::test]
    async fn not_ready_without_partitions_live_anyway() {
        let health = Arc::new(Health::new(Probe::Pg(Connection {
            host: "127.0.0.1".into(),
            port: 1,
            database: "qdb".into(),
            user: "admin".into(),
            password: "quest".into(),
        })));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = AbortOnDrop(tokio::spawn(serve(
            listener,
            crate::metrics::install(),
            health.clone(),
        )));
        let get = |path: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        assert!(get("/health/live").await.starts_with("HTTP/1.1 200"));
        let ready = get("/health/ready").await;
        assert!(
            ready.starts_with("HTTP/1.1 503") && ready.contains("no partition assigned"),
            "{ready}"
        );
        health.set_assigned(1);
        // Port 1 does not answer: readiness names QuestDB.
        let ready = get("/health/ready").await;
        assert!(
            ready.starts_with("HTTP/1.1 503") && ready.contains("127.0.0.1:1"),
            "{ready}"
        );
        let metrics = get("/metrics").await;
        assert!(
            metrics.contains("text/plain; version=0.0.4")
                && metrics.contains("sink_assigned_partitions 1"),
            "{metrics}"
        );
    }
}
