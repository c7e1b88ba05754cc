//! The classified differences from Confluent's JDBC sink 10.7.6, the seed's family's reference.

use super::class::{Class, Kind};

/// Every classified difference from Confluent's JDBC sink. A case appears in one class only. Deviations are this sink's
/// choices where the reference does what it was designed to do; reference defects are where
/// what the reference sends fails or changes data on QuestDB (it would not on PostgreSQL), and
/// this sink's outcome is its way around it (also a deviation, listed in docs/type-mapping.md).
pub const CLASSES: &[Class] = &[
    // Deviation: stored-up-to-the-bad-record.
    Class {
        name: "stored-up-to-the-bad-record",
        kind: Kind::Deviation,
        why: "Both stop at the same bad record and neither commits it. Connect converts a whole \
              poll before the task sees it, and the JDBC sink rolls back a whole put() on any \
              failure, so the good records before a bad one are not stored when they share its \
              poll: what survives depends on how records fell into polls. This sink stores and \
              commits every record before the bad one (what the reference does when the bad \
              record starts a poll), so a restart resumes exactly at it.",
        cases: &[
            "failures/array-field.case",
            "failures/extra-envelope-keys.case",
            "failures/map-field.case",
            "failures/missing-payload.case",
            "failures/missing-required.case",
            "failures/missing-schema.case",
            "failures/not-json.case",
            "failures/null-marker-float.case",
            "failures/null-marker-long.case",
            "failures/plain-json.case",
            "failures/schemaless.case",
            "failures/struct-field.case",
            "failures/tombstone.case",
            "failures/unknown-type.case",
            "failures/wrong-kind-boolean.case",
            "failures/wrong-kind-object.case",
            "lifecycle/evolve-disabled.case",
            "lifecycle/evolve-required-field.case",
            "lifecycle/existing-table-rejects-row.case",
            "logical/time-out-of-range.case",
            "types/required-null.case",
        ],
        reproduction: &[],
    },
    // Deviation: wrong-kind-is-an-error.
    Class {
        name: "wrong-kind-is-an-error",
        kind: Kind::Deviation,
        why: "JsonConverter turns a JSON node of the wrong kind into 0 / false / null (\"two\" for \
              an int32 is stored as 0); this sink stops on it naming topic, partition, offset and \
              field (with errors.tolerance=all it goes to the dead letter queue): a silent \
              change of data is not stored.",
        cases: &[
            "failures/wrong-kind.case",
            "failures/wrong-kind-string.case",
            "failures/tolerance-all.case",
        ],
        reproduction: &[],
    },
    // Deviation: integer-overflow-opt-in.
    Class {
        name: "integer-overflow-opt-in",
        kind: Kind::Deviation,
        why: "sink.integer.overflow=error is a setting of this sink only: it refuses what \
              JsonConverter wraps (222 as int8 is -34). The reference ignores the key and wraps, \
              as this sink does by default.",
        cases: &["types/overflow-error.case"],
        reproduction: &[],
    },
    // Deviation: native-tables-opt-in.
    Class {
        name: "native-tables-opt-in",
        kind: Kind::Deviation,
        why: "QuestDB-native tables (timestamp.field.name, timestamp.kafka.native, ILP with \
              client.conf.string, DEDUP UPSERT KEYS) are opt-in settings of this sink; the \
              reference ignores those keys and runs the seed's pipeline (and fails where that \
              pipeline does: TIME, PRIMARY KEY, bare DECIMAL).",
        cases: &[
            "native/dedup-kafka.case",
            "native/ilp-decimal.case",
            "native/ilp-designated-timestamp-limits.case",
            "native/ilp-every-type.case",
            "native/partition-month-no-wal.case",
            "native/pg-every-type.case",
            "native/prop-ilp-beyond-9999.case",
            "native/prop-ilp-only-timestamp.case",
            "native/timestamp-field-missing.case",
            "native/timestamp-field-not-timestamp.case",
            "native/timestamp-field.case",
            "native/upsert-by-value.case",
        ],
        reproduction: &[],
    },
    // Deviation: dotted-topic-is-one-table.
    Class {
        name: "dotted-topic-is-one-table",
        kind: Kind::Deviation,
        why: "The reference reads dots in a table name as catalog.schema.table and sends \
              \"my\".\"dotted\".\"topic\", which QuestDB (no schemas) refuses with `unexpected \
              token [.]`; QuestDB allows dots in a table name, so this sink creates the table \
              `my.dotted.topic` the topic names.",
        cases: &["names/table-dots.case"],
        reproduction: &[],
    },
    // Deviation: decimal-precision-enforced.
    Class {
        name: "decimal-precision-enforced",
        kind: Kind::Deviation,
        why: "This sink declares DECIMAL(p,s) from the schema's scale and \
              connect.decimal.precision and stops on a value with more digits (1000.00 for \
              precision 5); the reference declares a bare DECIMAL, DECIMAL(18,3) on QuestDB, and \
              stores 1000.000.",
        cases: &["logical/decimal-precision.case"],
        reproduction: &[],
    },
    // Reference defect: bare DECIMAL.
    Class {
        name: "bare-decimal-is-18-3",
        kind: Kind::ReferenceDefect,
        why: "The reference declares a bare DECIMAL (unconstrained NUMERIC on PostgreSQL); \
              QuestDB makes it DECIMAL(18,3): every value reads back with three decimals (1.00 \
              as 1.000) and a value with a scale above 3 is refused, failing the task. This \
              sink declares the schema's scale.",
        cases: &[
            "logical/decimal-number.case",
            "logical/decimal-precision-equals-scale.case",
            "logical/decimal-scale10.case",
            "logical/decimal-scale2.case",
        ],
        reproduction: &[
            "CREATE TABLE t (d DECIMAL);",
            "SELECT \"type\" FROM table_columns('t');  -- DECIMAL(18,3)",
            "INSERT INTO t VALUES ('1.00'::numeric);  -- reads back 1.000",
            "INSERT INTO t VALUES ('1.2345'::numeric);  -- ERROR: inconvertible value: `1.2345...` [DECIMAL(76,38) -> DECIMAL(18,3)]",
        ],
    },
    // Reference defect: a decimal too large for DECIMAL(18,3) wraps.
    Class {
        name: "decimal-overflow-wraps",
        kind: Kind::ReferenceDefect,
        why: "Through the reference, the Decimal 12345678901234567890 (scale 0) is stored in \
              the DECIMAL(18,3) column as 4807115922877858.896: its unscaled value times 1000 \
              wrapped to 64 bits. Not yet reduced to QuestDB alone: the same value bound with \
              pgjdbc 42.4.4's setBigDecimal, alone or in a batch of the case's four rows, is \
              refused (`inconvertible value`), not wrapped. This sink declares DECIMAL(76,0) \
              and stores it exactly.",
        cases: &["logical/decimal-scale0.case"],
        reproduction: &[],
    },
    // Reference defect: TIME.
    Class {
        name: "time-column-refused",
        kind: Kind::ReferenceDefect,
        why: "QuestDB has no TIME type, so the reference cannot create a table with a Connect \
              Time field. This sink stores its milliseconds of the day in an INT column.",
        cases: &["logical/time.case"],
        reproduction: &["CREATE TABLE t (t TIME);  -- ERROR: unsupported column type: TIME"],
    },
    // Reference defect: DEFAULT.
    Class {
        name: "default-refused",
        kind: Kind::ReferenceDefect,
        why: "QuestDB refuses DEFAULT in a column definition, so the reference cannot create or \
              amend a table for a field with a default. This sink leaves DEFAULT out and applies \
              the default while decoding, as JsonConverter does.",
        cases: &[
            "schema/defaults.case",
            "lifecycle/evolve-required-with-default.case",
        ],
        reproduction: &[
            "CREATE TABLE t (a INT DEFAULT 1);  -- ERROR: found [tok='DEFAULT', len=7] ',' or ')' expected",
            "CREATE TABLE u (a INT);",
            "ALTER TABLE u ADD b TEXT DEFAULT 'x';  -- ERROR: ',' expected",
        ],
    },
    // Reference defect: PRIMARY KEY.
    Class {
        name: "primary-key-refused",
        kind: Kind::ReferenceDefect,
        why: "With pk.mode=kafka the reference declares PRIMARY KEY, which QuestDB does not \
              have. This sink declares the three Kafka coordinate columns without it.",
        cases: &["lifecycle/pk-mode-kafka.case"],
        reproduction: &[
            "CREATE TABLE t (\"__connect_topic\" TEXT NOT NULL, \"__connect_partition\" INT NOT NULL, \"__connect_offset\" BIGINT NOT NULL, id INT NULL, PRIMARY KEY(\"__connect_topic\",\"__connect_partition\",\"__connect_offset\"));  -- ERROR: unsupported column type: KEY",
        ],
    },
    // Reference defect: INT minimum.
    Class {
        name: "int-minimum-reads-back-null",
        kind: Kind::ReferenceDefect,
        why: "QuestDB uses an INT column's minimum as its NULL marker: the reference stores \
              -2147483648 and it reads back NULL. This sink refuses the value naming the field.",
        cases: &["failures/null-marker-int.case"],
        reproduction: &[
            "CREATE TABLE t (id INT);",
            "INSERT INTO t VALUES (-2147483648);",
            "SELECT id IS NULL FROM t;  -- true",
        ],
    },
    // Reference defect: bytes.
    Class {
        name: "bytes-refused",
        kind: Kind::ReferenceDefect,
        why: "QuestDB makes the reference's BYTEA column a STRING and refuses the bytes bound to \
              it, failing the task. This sink stores PostgreSQL's hex text form (\\x80).",
        cases: &["types/bytes.case"],
        reproduction: &[
            "CREATE TABLE t (b BYTEA);  -- the column is STRING",
            "INSERT INTO t (b) VALUES ($1);  -- $1 bound as bytea (pgjdbc setBytes): ERROR: inconvertible types: BINARY -> STRING",
        ],
    },
    // Reference defect: a bound int into a STRING column.
    Class {
        name: "bound-int-into-string-refused",
        kind: Kind::ReferenceDefect,
        why: "The reference binds each value with its Connect type; QuestDB refuses an int4 \
              parameter for an existing STRING column (PostgreSQL assigns it as text), failing \
              the task. This sink sends each parameter as the type QuestDB describes for it, so \
              the int is stored as its text.",
        cases: &["lifecycle/existing-table-other-types.case"],
        reproduction: &[
            "CREATE TABLE t (id STRING);",
            "INSERT INTO t (id) VALUES ($1);  -- $1 bound as int4 (pgjdbc setInt): ERROR: inconvertible types: INT -> STRING",
        ],
    },
    // Reference defect: rows lost on auto.evolve.
    Class {
        name: "rows-lost-on-evolve",
        kind: Kind::ReferenceDefect,
        why: "With auto.evolve the reference inserts the rows before the new field, sends \
              ALTER TABLE ADD in the same transaction, and commits at the end of its batch. \
              QuestDB cannot alter a non-WAL table whose writer that transaction holds: it \
              answers `Timeout expired on waiting for the async command execution result`, \
              adds the column afterwards all the same, and the rows inserted before are lost. \
              The reference retries a failed amendment after reading the table again, finds \
              the column and carries on: 1 row of 3 is stored while offset 3 is committed \
              (in all 5 runs here). The statements below, sent by pgjdbc 42.4.4 with \
              autocommit off as the connector sends them, leave only id=3 too. This sink \
              writes one transaction per run of rows with the same columns and issues DDL \
              between them.",
        cases: &["lifecycle/evolve-optional-field.case"],
        reproduction: &[
            "CREATE TABLE t (id INT NOT NULL);",
            "BEGIN;",
            "INSERT INTO t (id) VALUES ($1);  -- $1 = 1",
            "ALTER TABLE t ADD note TEXT NULL;  -- ERROR: Timeout expired on waiting for the async command execution result (the column is added all the same)",
            "INSERT INTO t (id, note) VALUES ($1, $2);  -- 2, 'added'",
            "INSERT INTO t (id) VALUES ($1);  -- 3",
            "COMMIT;",
            "SELECT * FROM t;  -- one row: id=3, note=NULL",
        ],
    },
];
