//! `harness chaos` (issue 26): random fault schedules, each a fault case drawn from a seed,
//! run on the fault runner ([`crate::faults::run`]) and checked against invariants, so the suite
//! finds faults nobody wrote a case for.
//!
//! - [`draw`]: a schedule from a seed (pure), printed as a `.case` file;
//! - [`verdict`]: the invariants on a schedule's outcome and the run's figures (pure);
//! - [`shrink`]: smaller schedules to try when one fails (pure);
//! - [`run`]: runs schedules until a bound, shrinks the failing ones.

pub mod draw;
pub mod run;
pub mod shrink;
pub mod verdict;
