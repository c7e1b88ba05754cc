//! The `sink` binary on secured services (issue 20, item 4), started once for these cases
//! (`SecuredServices::shared`: Kafka with a SASL_SSL listener, SCRAM users and a certificate
//! made for this run; QuestDB with a PG password and HTTP basic auth, all secrets random per
//! run). The right credentials store every row; a wrong password, an unknown user, an
//! untrusted certificate, a wrong QuestDB password each stop the sink at start-up (well within
//! its `startup.timeout.ms` of 120 s: a refusal is not retried) with an error naming the
//! endpoint and what to fix, exit 1, and commit nothing. No secret reaches what the sink
//! prints, its summary or `Debug` of its config.

use harness::security::{self, Credentials, SecuredRun};
use harness::services::{random_secret, SecuredServices};
use std::time::Duration;

const RECORDS: u64 = 50;

fn services() -> &'static SecuredServices {
    SecuredServices::shared()
}

async fn run(case: &str, credentials: &Credentials) -> SecuredRun {
    let binary = harness::replay::sink_binary().unwrap_or_else(|e| panic!("{e}"));
    let run = security::run(
        services(),
        &binary,
        case,
        credentials,
        RECORDS,
        Duration::from_secs(90),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    println!(
        "{case}: {} in {:?}, {} rows, committed {:?}\n{}",
        run.exit, run.took, run.rows, run.committed, run.error
    );
    run
}

fn with_ilp(mut c: Credentials, user: &str, password: &str) -> Credentials {
    c.ilp = Some((user.to_owned(), password.to_owned()));
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_credentials_store_every_row_over_pg_wire_and_ilp() {
    let s = services();
    let pg = run("right-pg", &Credentials::right(s)).await;
    let ilp = with_ilp(
        Credentials::right(s),
        &s.secrets.http_user,
        &s.secrets.http_password,
    );
    let ilp = run("right-ilp", &ilp).await;
    for run in [&pg, &ilp] {
        assert_eq!(run.exit, "exit status 0", "{}", run.log);
        assert_eq!(run.rows, RECORDS, "{}", run.log);
        assert_eq!(run.committed, Some(RECORDS as i64), "{}", run.log);
    }
}

/// QuestDB-connector mode speaks ILP only (issue 25.6): on a QuestDB whose PG wire password is
/// the run's own (not `quest`), with no PG setting at all, it waits for QuestDB on its HTTP port
/// and stores every row; before, it logged in to PG wire as admin/quest and never started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_connector_mode_stores_every_row_without_a_pg_login() {
    let s = services();
    let mut c = with_ilp(
        Credentials::right(s),
        &s.secrets.http_user,
        &s.secrets.http_password,
    );
    c.questdb_connector = true;
    let run = run("connector-no-pg", &c).await;
    assert!(
        !run.properties.contains("connection."),
        "{}",
        run.properties
    );
    assert_eq!(run.exit, "exit status 0", "{}", run.log);
    assert_eq!(run.rows, RECORDS, "{}", run.log);
    assert_eq!(run.committed, Some(RECORDS as i64), "{}", run.log);
    assert!(
        run.log.contains("QuestDB's HTTP port") && !run.log.contains("PostgreSQL wire"),
        "waited on ILP's HTTP port only:\n{}",
        run.log
    );
}

/// The dead letter queue's producer logs in with the `producer.override.` keys, as Connect's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_record_reaches_the_dead_letter_queue_over_sasl_ssl() {
    let mut c = Credentials::right(services());
    c.dead_letter = true;
    let run = run("dead-letter", &c).await;
    assert_eq!(run.exit, "exit status 0", "{}", run.log);
    assert_eq!(run.rows, RECORDS, "{}", run.log);
    assert_eq!(run.dead_letters, 1, "{}", run.log);
    assert_eq!(run.committed, Some(RECORDS as i64 + 1), "{}", run.log);
}

/// A case that must stop at start-up: exit 1, nothing stored, nothing committed, fast, and an
/// error that names `endpoint` and says `fix`.
fn assert_refused(run: &SecuredRun, endpoint: &str, fix: &str) {
    assert_eq!(run.exit, "exit status 1", "{}", run.log);
    assert_eq!(run.rows, 0, "nothing stored");
    assert_eq!(run.committed, None, "nothing committed");
    assert!(
        run.took < Duration::from_secs(30),
        "a refusal is not retried until startup.timeout.ms (120 s): took {:?}",
        run.took
    );
    assert!(
        run.error.contains(endpoint) && run.error.contains(fix),
        "the error names {endpoint:?} and says {fix:?}:\n{}",
        run.error
    );
}

#[rstest::rstest]
#[case::kafka_wrong_password("kafka-wrong-password")]
#[case::kafka_unknown_user("kafka-unknown-user")]
#[case::kafka_scram_512_wrong_password("kafka-512-wrong-password")]
#[case::untrusted_certificate("untrusted-certificate")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafka_refusals_stop_the_sink_naming_the_broker_and_the_keys(#[case] case: &str) {
    let s = services();
    let mut c = Credentials::right(s);
    let fix = match case {
        "kafka-wrong-password" => {
            c.kafka_password = random_secret("wrong");
            "consumer.override.sasl.jaas.config"
        }
        "kafka-unknown-user" => {
            c.kafka_user = "nobody".into();
            "consumer.override.sasl.jaas.config"
        }
        "kafka-512-wrong-password" => {
            c.sasl_mechanism = "SCRAM-SHA-512".into();
            c.kafka_password = random_secret("wrong");
            "consumer.override.sasl.mechanism"
        }
        "untrusted-certificate" => {
            c.truststore = s.other_ca_file();
            "consumer.override.ssl.truststore.location"
        }
        other => unreachable!("{other}"),
    };
    let run = run(case, &c).await;
    let endpoint = format!("Kafka at {}", s.secured_bootstrap());
    assert_refused(&run, &endpoint, fix);
}

#[rstest::rstest]
#[case::pg_wrong_password("pg-wrong-password")]
#[case::pg_unknown_user("pg-unknown-user")]
#[case::ilp_wrong_password("ilp-wrong-password")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questdb_refusals_stop_the_sink_naming_the_endpoint_and_the_keys(#[case] case: &str) {
    let s = services();
    let mut c = Credentials::right(s);
    let (endpoint, fix) = match case {
        "pg-wrong-password" => {
            c.pg_password = random_secret("wrong");
            (
                format!(
                    "QuestDB at 127.0.0.1:{} (PostgreSQL wire)",
                    s.questdb.pg_port
                ),
                "connection.password",
            )
        }
        "pg-unknown-user" => {
            c.pg_user = "nobody".into();
            (
                format!(
                    "QuestDB at 127.0.0.1:{} (PostgreSQL wire)",
                    s.questdb.pg_port
                ),
                "connection.user",
            )
        }
        "ilp-wrong-password" => {
            c = with_ilp(c, &s.secrets.http_user, &random_secret("wrong"));
            (
                format!(
                    "QuestDB at http://127.0.0.1:{} (ILP over HTTP)",
                    s.questdb.http_port
                ),
                "client.conf.string",
            )
        }
        other => unreachable!("{other}"),
    };
    let run = run(case, &c).await;
    assert_refused(&run, &endpoint, fix);
}

/// Every secret a run was given (right and wrong ones), looked for in everything it printed
/// (its own log at debug level, librdkafka's messages), its summary, and `Debug` of its config
/// and of the harness's services.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_a_summary_or_debug_output() {
    let s = services();
    let wrong_kafka = random_secret("wrong");
    let wrong_http = random_secret("wrong");
    let right = with_ilp(
        Credentials::right(s),
        &s.secrets.http_user,
        &s.secrets.http_password,
    );
    let mut bad_kafka = right.clone();
    bad_kafka.kafka_password = wrong_kafka.clone();
    let bad_ilp = with_ilp(Credentials::right(s), &s.secrets.http_user, &wrong_http);
    let mut secrets: Vec<String> = s.secrets.values().iter().map(|v| v.to_string()).collect();
    secrets.extend([wrong_kafka, wrong_http]);

    let mut seen = 0;
    for (case, c) in [
        ("grep-right", &right),
        ("grep-bad-kafka", &bad_kafka),
        ("grep-bad-ilp", &bad_ilp),
    ] {
        let run = run(case, c).await;
        let config =
            sink::SinkConfig::from_properties(&sink::config::properties::parse(&run.properties))
                .expect("the run's properties");
        let debug = format!("{config:?}");
        for secret in &secrets {
            // The properties file holds them, as a user's does: the check can fail.
            seen += usize::from(run.properties.contains(secret.as_str()));
            for (what, text) in [
                ("the sink's output", &run.log),
                ("its summary", &run.summary),
                ("Debug of its config", &debug),
                ("Debug of the services", &format!("{s:?}")),
            ] {
                assert!(
                    !text.contains(secret.as_str()),
                    "{case}: a secret is in {what}:\n{text}"
                );
            }
        }
        assert!(!run.log.is_empty(), "{case}: the sink printed something");
    }
    assert!(seen >= 6, "the runs were given the secrets ({seen})");
}
