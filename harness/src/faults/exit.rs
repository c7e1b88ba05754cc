//! What the fault runner records of a sink process that exited on its own (gave up), at
//! whichever point it finds it: during a fault, on its first write after one, or at the end.

use super::probe::Probe;
use super::sinks::SinkProcess;
use super::GaveUp;

/// A sink process that exited on its own, read when it was found so: its error, and the
/// group's committed offsets against the keys stored (`excused`: records that leave no row
/// by design: rows gone with a dropped table, bad records dead-lettered).
pub(super) struct Exit {
    task: u32,
    error: String,
    committed: i64,
    stored: u64,
    /// The committed offsets were not ahead of the rows stored.
    pub(super) behind: bool,
}

impl Exit {
    pub(super) async fn of(
        sink: &SinkProcess,
        committed: i64,
        probe: &mut Probe,
        key: &str,
        excused: u64,
    ) -> Exit {
        let stored = probe.stored(key).await;
        Exit {
            task: sink.task,
            error: sink.error(),
            committed,
            stored,
            behind: committed <= (stored + excused) as i64,
        }
    }

    pub(super) fn gave_up(self, during: Option<String>, restarted: bool) -> GaveUp {
        GaveUp {
            task: self.task,
            during,
            error: self.error,
            committed: self.committed,
            stored: self.stored,
            restarted,
        }
    }
}
