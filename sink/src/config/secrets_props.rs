//! Property test: no secret of any secret-bearing key shows in `Debug` of the config, in
//! `Display` or `Debug` of a config error, or in the summary JSON (issue 25.8), whether the
//! config is taken or refused, in either mapping.

use crate::config::SinkConfig;
use crate::error::SinkError;
use crate::run::report::{refused_json, summary_json};
use crate::run::RunSummary;
use proptest::prelude::*;

/// Every key that can carry a secret, with the secret placed in it (`{s}`).
const PLACEMENTS: &[&str] = &[
    "connection.password={s}",
    "connection.url=jdbc:postgresql://u:{s}@127.0.0.1:8812/qdb",
    "connection.url=jdbc:postgresql://127.0.0.1:8812/qdb?user=u&password={s}",
    "connection.url=jdbc:postgresql://127.0.0.1:8812/qdb?sslpassword={s}",
    "client.conf.string=http::addr=127.0.0.1:9000;username=u;password={s};",
    "client.conf.string=http::addr=127.0.0.1:9000;token={s};",
    "client.conf.string=https::addr=127.0.0.1:9000;username=u;password={s};tls_verify=unsafe_off;",
    "consumer.override.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"{s}\";",
    "producer.override.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username=u password={s};",
    "consumer.override.ssl.key.password={s}",
    "consumer.override.ssl.keystore.password={s}",
    "consumer.override.ssl.truststore.password={s}",
    "producer.override.ssl.key.password={s}",
];

/// Something else in the file, to see the secret through a refusal as well as an acceptance.
const OTHERS: &[&str] = &[
    "",
    "batch.size=many",
    "consumer.override.security.protocol=SASL_SSL\nconsumer.override.sasl.mechanism=SCRAM-SHA-256",
    "consumer.override.ssl.keystore.type=PEM\nconsumer.override.ssl.keystore.location=/k.pem",
    "client.conf.string=tcp::addr=127.0.0.1:9009;",
    "errors.tolerance=maybe",
];

const JDBC: &str = "name=s\ntopics=t\nconnection.url=jdbc:postgresql://127.0.0.1:8812/qdb\ntimestamp.kafka.native=true\n";
const CONNECTOR: &str = "name=s\nconnector.class=io.questdb.kafka.QuestDBSinkConnector\ntopics=t\nclient.conf.string=http::addr=127.0.0.1:9000;\n";

fn shown(outcome: &Result<SinkConfig, crate::config::ConfigError>) -> String {
    let mut summary = RunSummary::default();
    summary.coerced("a note");
    match outcome {
        Ok(config) => format!("{config:?}\n{}", summary_json(&summary, None)),
        Err(e) => {
            let error = SinkError::Config(e.clone());
            format!(
                "{e}\n{e:?}\n{error}\n{error:?}\n{}\n{}",
                refused_json(e),
                summary_json(&summary, Some(&error))
            )
        }
    }
}

proptest! {
    #[test]
    fn no_secret_is_ever_shown(
        secret in "[A-Za-z0-9_-]{10,20}",
        placement in 0..PLACEMENTS.len(),
        other in 0..OTHERS.len(),
        connector in any::<bool>(),
    ) {
        // A marker no setting's own text contains.
        let secret = format!("zq{secret}");
        let line = PLACEMENTS[placement].replace("{s}", &secret);
        let base = if connector { CONNECTOR } else { JDBC };
        // Later lines win: the placement after the base, the other setting last.
        let text = format!("{base}{line}\n{}\n", OTHERS[other]);
        let outcome = SinkConfig::from_properties(&crate::config::properties::parse(&text));
        let shown = shown(&outcome);
        prop_assert!(!shown.contains(&secret), "{} shown for\n{}\n---\n{}", secret, text, shown);
    }
}
