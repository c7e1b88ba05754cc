//! Polling with a deadline: the only way the harness waits for something to become true.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

/// First pause between two probes; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(250);

/// `wait_until` gave up: the probe never succeeded before the deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTimeout {
    /// What was being waited for, as given to [`wait_until`].
    pub what: String,
    /// How long it waited.
    pub waited: Duration,
    /// The error string of the last probe, i.e. the last observed state.
    pub last_observed: String,
    /// How many times the probe ran.
    pub attempts: u32,
}

impl fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:.1?} ({} attempts) waiting for {}; last observed: {}",
            self.waited, self.attempts, self.what, self.last_observed
        )
    }
}

impl std::error::Error for WaitTimeout {}

/// Runs `probe` until it returns `Ok`, pausing 20 ms after the first failure and up to 250 ms
/// after later ones, and gives up once `timeout` has passed since the call. The probe always
/// runs at least once, and once more at the deadline if the pause ran into it. The `Err` string
/// of the last probe is kept as the last observed state.
///
/// To stop early on a fatal condition, let the probe return `Ok(Err(..))` and match on it.
pub fn wait_until<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> Result<T, WaitTimeout> {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let last_observed = match probe() {
            Ok(value) => return Ok(value),
            Err(observed) => observed,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitTimeout {
                what: what.to_owned(),
                waited: now - start,
                last_observed,
                attempts,
            });
        }
        thread::sleep(backoff.min(deadline - now));
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// [`wait_until`] for a probe that awaits (a query on an async client), pausing on the runtime's
/// timer instead of blocking its thread.
pub async fn wait_until_async<T, F, Fut>(
    what: &str,
    timeout: Duration,
    mut probe: F,
) -> Result<T, WaitTimeout>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    let deadline = start + timeout;
    let mut backoff = FIRST_BACKOFF;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let last_observed = match probe().await {
            Ok(value) => return Ok(value),
            Err(observed) => observed,
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitTimeout {
                what: what.to_owned(),
                waited: now - start,
                last_observed,
                attempts,
            });
        }
        tokio::time::sleep(backoff.min(deadline - now)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// How long one case may take before the harness gives up (`KQ_CASE_TIMEOUT_SECS`).
pub fn case_timeout() -> Duration {
    let secs = std::env::var("KQ_CASE_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_first_success() {
        let mut n = 0;
        let got = wait_until("n to reach 3", Duration::from_secs(5), || {
            n += 1;
            if n == 3 {
                Ok(n)
            } else {
                Err(format!("n={n}"))
            }
        });
        assert_eq!(got, Ok(3));
    }

    #[test]
    fn keeps_the_last_observed_state() {
        let mut n = 0;
        let err = wait_until("never", Duration::from_millis(60), || -> Result<(), _> {
            n += 1;
            Err(format!("attempt {n}"))
        })
        .unwrap_err();
        assert_eq!(err.last_observed, format!("attempt {}", err.attempts));
        assert!(err.attempts >= 2, "{err}");
        assert!(err.waited >= Duration::from_millis(60), "{err}");
        assert!(err.to_string().contains("waiting for never"), "{err}");
    }

    #[tokio::test]
    async fn async_probe_keeps_the_last_observed_state() {
        let mut n = 0;
        let err = wait_until_async("never", Duration::from_millis(60), || {
            n += 1;
            let observed = format!("attempt {n}");
            async move { Err::<(), _>(observed) }
        })
        .await
        .unwrap_err();
        assert_eq!(err.last_observed, format!("attempt {}", err.attempts));
        let got = wait_until_async("now", Duration::ZERO, || async { Ok::<_, String>(7) }).await;
        assert_eq!(got, Ok(7));
    }

    #[test]
    fn zero_timeout_probes_once() {
        let err = wait_until("x", Duration::ZERO, || -> Result<(), _> {
            Err("no".into())
        })
        .unwrap_err();
        assert_eq!(err.attempts, 1);
    }
}
