//! Start-up while Kafka or QuestDB is not up yet (an orchestrator starts everything at once):
//! each is tried again with a growing pause until it answers or `startup.timeout.ms` is spent,
//! saying in the log what the sink waits for. A SIGTERM meanwhile ends the wait at once.
//!
//! Deviation: the JDBC sink tries a connection `connection.attempts` (3) times
//! `connection.backoff.ms` (10 s) apart and then fails the task, which Connect does not
//! restart; this sink waits up to `startup.timeout.ms` (5 min) for Kafka and QuestDB, since
//! under an orchestrator the services start together and a failed process only restarts later.

use crate::config::Operations;
use crate::error::SinkError;
use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The first pause between two attempts; it doubles up to `startup.backoff.max.ms`.
const FIRST_PAUSE: Duration = Duration::from_millis(250);

/// Pauses between start-up attempts: 250 ms, doubling up to `max`, none past `timeout`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    timeout: Duration,
}

impl Backoff {
    pub fn new(timeout: Duration, max: Duration) -> Backoff {
        Backoff {
            next: FIRST_PAUSE.min(max),
            max,
            timeout,
        }
    }

    /// The pause before the next attempt after `elapsed` of waiting, cut short at the
    /// timeout; `None` once the timeout is spent (give up).
    pub fn pause(&mut self, elapsed: Duration) -> Option<Duration> {
        let left = self.timeout.checked_sub(elapsed).filter(|l| !l.is_zero())?;
        let pause = self.next.min(left);
        self.next = (self.next * 2).min(self.max);
        Some(pause)
    }
}

/// How one attempt went.
pub enum Attempt<T> {
    Ready(T),
    /// Not reachable (yet): worth another attempt.
    Retry(String),
    /// It answered, and the answer will not change by waiting (wrong password, ...).
    Fatal(SinkError),
}

/// Tries `attempt` until it is ready, fails for good, or `startup.timeout.ms` since
/// `started` (the sink's start: the waits for Kafka and QuestDB share it) is spent.
/// `Ok(None)`: the shutdown signal came while waiting.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    operations: &Operations,
    started: Instant,
    shutdown: &mut Option<watch::Receiver<bool>>,
    mut attempt: F,
) -> Result<Option<T>, SinkError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut backoff = Backoff::new(operations.startup_timeout, operations.startup_backoff_max);
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let last = match attempt().await {
            Attempt::Ready(value) => {
                if attempts > 1 {
                    tracing::info!(
                        "{what} answered after {attempts} attempts ({:.1} s since start)",
                        started.elapsed().as_secs_f64()
                    );
                }
                return Ok(Some(value));
            }
            Attempt::Fatal(e) => return Err(e),
            Attempt::Retry(e) => e,
        };
        crate::metrics::startup_retry(what_kind(what));
        let Some(pause) = backoff.pause(started.elapsed()) else {
            tracing::warn!("{what} did not answer in {attempts} attempts");
            return Err(SinkError::NotReachable {
                what: what.to_string(),
                timeout_ms: operations.startup_timeout.as_millis(),
                last,
            });
        };
        tracing::warn!(
            "waiting for {what} (attempt {attempts}, next in {:.1} s, giving up in {:.1} s: startup.timeout.ms): {last}",
            pause.as_secs_f64(),
            operations
                .startup_timeout
                .saturating_sub(started.elapsed())
                .as_secs_f64()
        );
        if sleep_or_stop(pause, shutdown).await {
            tracing::info!("stopped while waiting for {what}");
            return Ok(None);
        }
    }
}

/// The `reason` label of a start-up retry.
fn what_kind(what: &str) -> &'static str {
    if what.starts_with("Kafka") {
        "kafka_startup"
    } else {
        "questdb_startup"
    }
}

/// Sleeps `pause`; `true` if the shutdown signal came first (or had come already).
pub async fn sleep_or_stop(pause: Duration, shutdown: &mut Option<watch::Receiver<bool>>) -> bool {
    match shutdown {
        None => {
            tokio::time::sleep(pause).await;
            false
        }
        Some(s) => {
            if *s.borrow() {
                return true;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => false,
                // A dropped sender stops nothing.
                changed = s.changed() => changed.is_ok() && *s.borrow(),
            }
        }
    }
}

/// What is left of `startup.timeout.ms` since `started`, for one attempt's own timeout:
/// at most `cap`, at least 100 ms.
pub fn attempt_timeout(operations: &Operations, started: Instant, cap: Duration) -> Duration {
    operations
        .startup_timeout
        .saturating_sub(started.elapsed())
        .clamp(Duration::from_millis(100), cap)
}

/// An error as one line, for the wait's log.
pub fn one_line(e: impl Display) -> String {
    e.to_string().replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn pauses_double_up_to_the_cap_and_stop_at_the_timeout() {
        let mut b = Backoff::new(ms(5000), ms(1000));
        let pauses: Vec<_> = [0, 250, 750, 1750, 2750, 3750, 4750, 5000]
            .iter()
            .map(|&e| b.pause(ms(e)))
            .collect();
        assert_eq!(
            pauses,
            vec![
                Some(ms(250)),
                Some(ms(500)),
                Some(ms(1000)),
                Some(ms(1000)),
                Some(ms(1000)),
                Some(ms(1000)),
                Some(ms(250)), // only what is left of the timeout
                None,
            ]
        );
    }

    #[test]
    fn a_zero_timeout_gives_up_on_the_first_failure() {
        assert_eq!(Backoff::new(Duration::ZERO, ms(1000)).pause(ms(0)), None);
    }

    #[test]
    fn a_small_cap_caps_the_first_pause_too() {
        assert_eq!(Backoff::new(ms(5000), ms(100)).pause(ms(0)), Some(ms(100)));
    }

    #[tokio::test]
    async fn waits_until_ready_and_gives_up_naming_what_and_how_long() {
        let ops = Operations {
            startup_timeout: ms(300),
            startup_backoff_max: ms(20),
            ..Operations::default()
        };
        let mut tries = 0;
        let ready = wait_for("QuestDB at h:1", &ops, Instant::now(), &mut None, || {
            tries += 1;
            let t = tries;
            async move {
                if t < 3 {
                    Attempt::Retry("refused".into())
                } else {
                    Attempt::Ready(t)
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(ready, Some(3));

        let e = wait_for::<(), _, _>(
            "QuestDB at h:1",
            &ops,
            Instant::now(),
            &mut None,
            || async { Attempt::Retry("connection refused".into()) },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("QuestDB at h:1")
                && e.contains("connection refused")
                && e.contains("startup.timeout.ms"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_shutdown_signal_ends_the_wait() {
        let ops = Operations {
            startup_timeout: Duration::from_secs(60),
            ..Operations::default()
        };
        let (stop, rx) = watch::channel(false);
        stop.send(true).unwrap();
        let started = Instant::now();
        let waited = wait_for::<(), _, _>("Kafka at k:1", &ops, started, &mut Some(rx), || async {
            Attempt::Retry("all brokers down".into())
        })
        .await
        .unwrap();
        assert_eq!(waited, None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
