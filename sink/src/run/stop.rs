//! A clean stop on SIGTERM/SIGINT (the shutdown signal of [`crate::RunOptions`]): no new
//! batch is polled; the batch in progress is stored and committed, or abandoned once
//! `shutdown.timeout.ms` has passed (then none of its unstored records is committed, so a
//! restart replays them); then the consumer leaves its group and closes, within a bound.

use rdkafka::consumer::{Consumer, StreamConsumer};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// How long leaving the group and closing the consumer may take before the sink exits anyway.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `work` to the end, unless the shutdown signal came and `grace` passed since: then
/// `None`, and `work` is dropped where it was.
pub async fn unless_abandoned<F: Future>(
    work: F,
    shutdown: Option<watch::Receiver<bool>>,
    grace: Duration,
) -> Option<F::Output> {
    let Some(mut shutdown) = shutdown else {
        return Some(work.await);
    };
    let abandon = async move {
        while !*shutdown.borrow_and_update() {
            if shutdown.changed().await.is_err() {
                // No sender left: no signal can come.
                std::future::pending::<()>().await;
            }
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        out = work => Some(out),
        () = abandon => None,
    }
}

/// Leaves the consumer group and closes the consumer, each within [`CLOSE_TIMEOUT`].
///
/// The sink is a static group member (`group.instance.id`), and librdkafka sends no
/// LeaveGroup for a static member it destroys (KIP-345): its partitions would wait
/// `session.timeout.ms` for it. An unsubscribe does send one, once the revocation it starts is
/// served by a poll, and clears the member id then; closing afterwards waits for the broker's
/// answer. So the partitions are free for the group's other members at once, and a restarted
/// process joins again.
pub async fn leave_and_close<C>(consumer: StreamConsumer<C>)
where
    C: rdkafka::consumer::ConsumerContext + 'static,
{
    let leave = async {
        consumer.unsubscribe();
        while member_id(&consumer).is_some_and(|id| !id.is_empty()) {
            // Serves the revocation; a record still fetched is dropped, neither stored nor
            // committed (the next owner reads it).
            let _ = tokio::time::timeout(Duration::from_millis(20), consumer.recv()).await;
        }
    };
    if tokio::time::timeout(CLOSE_TIMEOUT, leave).await.is_err() {
        tracing::warn!(
            "could not leave the consumer group within {CLOSE_TIMEOUT:?} (is Kafka reachable?): the group frees this task's partitions after session.timeout.ms"
        );
    }
    if close(consumer).await {
        tracing::info!("left the consumer group and closed the consumer");
    }
}

/// Closes the consumer within [`CLOSE_TIMEOUT`] (whether it closed): dropping it is a blocking
/// wait for librdkafka, done off the runtime, and one that never ends (librdkafka's close can
/// wait for itself when a rebalance arrives meanwhile) must not keep the sink from stopping.
pub async fn close<C>(consumer: StreamConsumer<C>) -> bool
where
    C: rdkafka::consumer::ConsumerContext + 'static,
{
    let closed = tokio::task::spawn_blocking(move || drop(consumer));
    match tokio::time::timeout(CLOSE_TIMEOUT, closed).await {
        Ok(_) => true,
        Err(_) => {
            tracing::warn!("the consumer did not close within {CLOSE_TIMEOUT:?}; exiting anyway");
            false
        }
    }
}

/// The consumer's member id in its group (`Some("")` or `None` when it is not a member).
fn member_id<C>(consumer: &StreamConsumer<C>) -> Option<String>
where
    C: rdkafka::consumer::ConsumerContext + 'static,
{
    let rk = consumer.client().native_ptr();
    // SAFETY: `rk` is the live handle `consumer` owns; rd_kafka_memberid returns NULL or a
    // NUL-terminated string allocated by librdkafka, copied here and freed with its allocator.
    unsafe {
        let id = rdkafka::bindings::rd_kafka_memberid(rk);
        if id.is_null() {
            return None;
        }
        let copy = std::ffi::CStr::from_ptr(id).to_string_lossy().into_owned();
        rdkafka::bindings::rd_kafka_mem_free(rk, id.cast());
        Some(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_to_the_end_without_a_signal() {
        let (_stop, rx) = watch::channel(false);
        let out = unless_abandoned(
            async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                7
            },
            Some(rx),
            Duration::ZERO,
        )
        .await;
        assert_eq!(out, Some(7));
    }

    #[tokio::test]
    async fn work_finishing_within_the_grace_is_kept() {
        let (stop, rx) = watch::channel(false);
        stop.send(true).unwrap();
        let out = unless_abandoned(
            async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                7
            },
            Some(rx),
            Duration::from_secs(10),
        )
        .await;
        assert_eq!(out, Some(7));
    }

    #[tokio::test]
    async fn work_outlasting_the_grace_after_the_signal_is_abandoned() {
        let (stop, rx) = watch::channel(false);
        let started = std::time::Instant::now();
        let work = unless_abandoned(
            std::future::pending::<()>(),
            Some(rx),
            Duration::from_millis(100),
        );
        let signal = async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stop.send(true).unwrap();
        };
        let (out, ()) = tokio::join!(work, signal);
        assert_eq!(out, None);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(150) && took < Duration::from_secs(5),
            "{took:?}"
        );
    }
}
