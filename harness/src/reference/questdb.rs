//! How this sink differs from QuestDB's own connector 0.23 on its family's cases
//! (`fixtures/questdb-connector/`, recorded in `tests/snapshots/questdb-connector-0.23/`): each
//! difference by name, a deliberate deviation with its reason or a defect of the connector.
//! `harness/tests/reference.rs` fails on a difference that is not here, and on a class whose
//! case no longer differs. docs/questdb-connector.md explains the deviations for users.

use super::class::{Class, Kind};

/// Every classified difference from QuestDB's connector 0.23. A case appears in one class only.
pub const CLASSES: &[Class] = &[
    Class {
        name: "qdb-stored-up-to-the-bad-record",
        kind: Kind::Deviation,
        why: "Both stop at a record JsonConverter cannot read and neither commits it. Connect \
              converts a whole poll before the connector sees it, so a converter failure fails \
              the task before any record of that poll is written: the good records before the \
              bad one are not stored when they share its poll. This sink stores and commits \
              every record before the bad one, so a restart resumes exactly at it.",
        cases: &["questdb-connector/bad-not-json.case"],
        reproduction: &[],
    },
    Class {
        name: "qdb-decimal-and-bytes-stored",
        kind: Kind::Deviation,
        why: "The connector refuses a Decimal or bytes field (`Unsupported type`, the task \
              fails) or drops it with skip.unsupported.types=true. This sink stores a Decimal's \
              exact value as text and bytes as PostgreSQL's \\x hex text, in VARCHAR columns \
              (ILP cannot create DECIMAL columns): nobody depends on losing the value \
              (docs/questdb-connector.md).",
        cases: &[
            "questdb-connector/bytes-field.case",
            "questdb-connector/decimal-field.case",
            "questdb-connector/skip-unsupported-types.case",
        ],
        reproduction: &[],
    },
    Class {
        name: "qdb-wrong-kind-is-an-error",
        kind: Kind::Deviation,
        why:
            "JsonConverter turns a JSON node of the wrong kind into 0 / false / null (\"two\" for \
              an int32 is stored as 0 by the connector); this sink stops on it naming topic, \
              partition, offset and field, as in its JDBC mapping: a silent change of data is \
              not stored.",
        cases: &["questdb-connector/payload-wrong-kind.case"],
        reproduction: &[],
    },
    Class {
        name: "qdb-refused-batch-split",
        kind: Kind::Deviation,
        why: "QuestDB refuses a whole ILP-over-HTTP request when one of its rows is bad (a string \
              for a LONG column, a designated timestamp before 1970). Without a dead letter \
              queue the connector's task fails and none of the request's rows is stored, the \
              good ones before the bad one included (their offsets are not committed, so they \
              come again, and fail again, after a restart). This sink splits a refused batch to \
              find the bad row: the rows before it are stored and committed, and it stops at \
              the bad one.",
        cases: &[
            "questdb-connector/schemaless-type-change.case",
            "questdb-connector/timestamp-string-designated.case",
        ],
        reproduction: &[],
    },
    Class {
        name: "qdb-tolerance-all-skips",
        kind: Kind::Deviation,
        why: "With errors.tolerance=all but no dead letter queue, Connect gives the connector no \
              error reporter, and its task fails on a record it cannot write (tolerance covers \
              only conversion): the rows after it are not stored. This sink skips the record, \
              as errors.tolerance=all says, and stores the rest (docs/questdb-connector.md).",
        cases: &["questdb-connector/tolerance-all-no-dlq.case"],
        reproduction: &[],
    },
    Class {
        name: "qdb-commits-what-it-stored",
        kind: Kind::Deviation,
        why: "Both store the rows before a record the connector refuses and both stop there, but \
              the connector's task fails before Connect commits: the stored rows' offsets are \
              not committed, and a restarted connector writes them again (its tables have no \
              DEDUP). This sink commits every row it stored, so a restart resumes at the \
              refused record. (Committed offsets are compared for this reference only.)",
        cases: &[
            "questdb-connector/array-2d-doubles.case",
            "questdb-connector/timestamp-null.case",
            "questdb-connector/timestamp-string-unparseable.case",
        ],
        reproduction: &[],
    },
];
