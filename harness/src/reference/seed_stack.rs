//! Confluent's JDBC sink 10.0.1 with the PostgreSQL driver 42.2.10 on a Kafka Connect 2.6.0
//! worker and Kafka 2.6.0 with ZooKeeper: the exact stack the seed's guide names. Recorded in
//! `tests/snapshots/confluent-jdbc-10.0.1/`; not the family's reference (10.7.6 is), but every
//! difference from this sink is classified the same way. Where 10.0.1 does what 10.7.6 does, the
//! class is 10.7.6's ([`named`]).

use super::class::{named, Class, Kind};
use super::confluent::CLASSES as V10_7_6;
use super::Reference;
use crate::fixture::Family;

/// Its snapshot set.
pub const SEED_STACK_SET: &str = "confluent-jdbc-10.0.1";

/// Confluent's JDBC sink 10.0.1 on Kafka 2.6.0, the seed's stack.
pub const SEED_STACK: Reference = Reference {
    name: "Confluent",
    version: "10.0.1 (the seed's stack)",
    set: SEED_STACK_SET,
    family: Family::Jdbc,
    classes: CLASSES,
    compares_commits: false,
    unrecorded: &[
        ("failures/dlq-original-record.case", super::DLQ25),
        ("failures/dlq-topic-refused.case", super::DLQ25),
        ("native/pk-kafka-table-without-dedup.case", super::NATIVE25),
        ("native/pk-kafka-table-dedup-enabled.case", super::NATIVE25),
    ],
    about: "Confluent's JDBC sink 10.0.1 (built from its upstream tag v10.0.1, unchanged) with \
            the PostgreSQL driver 42.2.10 beside it, in a Kafka Connect 2.6.0 standalone worker \
            on Kafka 2.6.0 with ZooKeeper: the versions the seed's guide names. Recorded with \
            `KQ_KAFKA_VERSION=2.6.0 harness conformance --sink connect --plugin-path DIR`. Where \
            it does what 10.7.6 does, the class is 10.7.6's.",
};

/// Every classified difference between this sink and 10.0.1: 10.7.6's where 10.0.1 does the
/// same (the differences in their error texts, quoting and bound literals, change no outcome),
/// and three of its own.
pub const CLASSES: &[Class] = &[
    *named(V10_7_6, "stored-up-to-the-bad-record"),
    *named(V10_7_6, "wrong-kind-is-an-error"),
    *named(V10_7_6, "integer-overflow-opt-in"),
    *named(V10_7_6, "native-tables-opt-in"),
    *named(V10_7_6, "dotted-topic-is-one-table"),
    *named(V10_7_6, "decimal-precision-enforced"),
    *named(V10_7_6, "bare-decimal-is-18-3"),
    *named(V10_7_6, "time-column-refused"),
    *named(V10_7_6, "default-refused"),
    *named(V10_7_6, "primary-key-refused"),
    *named(V10_7_6, "int-minimum-reads-back-null"),
    *named(V10_7_6, "bytes-refused"),
    *named(V10_7_6, "bound-int-into-string-refused"),
    *named(V10_7_6, "rows-lost-on-evolve"),
    // 10.7.6 stores this case's wrapped value (decimal-overflow-wraps); 10.0.1 with pgjdbc
    // 42.2.10 is refused.
    Class {
        name: "decimal-beyond-18-digits-refused",
        kind: Kind::ReferenceDefect,
        why: "The reference declares a bare DECIMAL, DECIMAL(18,3) on QuestDB; pgjdbc 42.2.10 \
              sends the Decimal 12345678901234567890 (scale 0) as the literal \
              '12345678901234567890'::numeric, which QuestDB refuses (`requires precision of 23 \
              but is limited to 18`), failing the task: none of the case's four rows is stored. \
              (10.7.6 with pgjdbc 42.4.4 stores it wrapped instead: decimal-overflow-wraps.) \
              This sink declares DECIMAL(76,0) and stores it exactly.",
        cases: &["logical/decimal-scale0.case"],
        reproduction: &[
            "CREATE TABLE t (d DECIMAL);  -- DECIMAL(18,3)",
            "INSERT INTO t (d) VALUES ($1);  -- $1 bound as numeric 12345678901234567890 (pgjdbc 42.2.10 setBigDecimal, the recorded task trace): ERROR: decimal '12345678901234567890' requires precision of 23 but is limited to 18",
            "INSERT INTO t VALUES ('12345678901234567890'::numeric);  -- as a literal: ERROR: inconvertible value: `12345678901234567890.000` [DECIMAL(76,38) -> DECIMAL(18,3)]",
        ],
    },
    Class {
        name: "julian-dates-before-1582",
        kind: Kind::ReferenceDefect,
        why: "A Timestamp or Date before 1582-10-15 is stored 7 to 10 days early: \
              1293-12-31T23:59:59.999Z reads back 1293-12-24 23:59:59.999. The connector binds \
              java.sql.Timestamp and java.sql.Date, whose text is in the Julian calendar before \
              1582 (checked on the Java 17 here: `new java.sql.Timestamp(-21332419200001L)` in \
              UTC prints 1293-12-24 23:59:59.999, java.time 1293-12-31T23:59:59.999Z); QuestDB \
              reads dates as proleptic Gregorian: that text, sent to QuestDB, stores exactly the \
              recorded value (below; what pgjdbc 42.2.10 put on the wire was not captured, and \
              10.7.6 was not recorded on these cases). This sink converts with the proleptic \
              Gregorian calendar and stores the instant.",
        cases: &[
            "logical/timestamp-dec31-before-1970.case",
            "properties/timestamp-1293-12-31.case",
        ],
        reproduction: &[
            "CREATE TABLE u (ts TIMESTAMP);",
            "INSERT INTO u VALUES ('1293-12-24 23:59:59.999'::timestamp);  -- java.sql.Timestamp's text for -21332419200001 ms",
            "SELECT cast(ts AS long) FROM u;  -- -21333024000001000: 7 days before the record's -21332419200001000",
        ],
    },
    Class {
        name: "no-errant-record-reporter",
        kind: Kind::Deviation,
        why: "With errors.tolerance=all and a dead letter queue, this sink (and 10.7.6) sends the \
              row QuestDB refuses to the queue and stores the others. 10.0.1 predates the \
              connector's use of Connect's errant record reporter (added in 10.0.3): Connect's \
              tolerance covers conversion only, so the refused INSERT fails the task after its \
              retries, rolls back the batch, and nothing is stored or queued.",
        cases: &["lifecycle/existing-table-rejects-row-dlq.case"],
        reproduction: &[],
    },
];
