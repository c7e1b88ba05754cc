//! How this sink differs from QuestDB's own connector 0.23 on its family's cases
//! (`fixtures/questdb-connector/`, recorded in `tests/snapshots/questdb-connector-0.23/`): each
//! difference by name, a deliberate deviation with its reason or a defect of the connector.
//! `harness/tests/reference.rs` fails on a difference that is not here, and on a class whose
//! case no longer differs. docs/questdb-connector.md explains them for users.

use crate::reference::Class;

/// Every classified difference from QuestDB's connector 0.23. A case appears in one class only.
pub const CLASSES: &[Class] = &[];
