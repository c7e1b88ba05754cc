//! Kafka Connect's (Java client's) security settings as librdkafka's. A Connect user secures
//! a sink's consumer with `consumer.override.security.protocol`, `.sasl.mechanism`,
//! `.sasl.jaas.config` and `.ssl.truststore.*` (and its dead letter queue producer with the
//! same keys under `producer.override.`); librdkafka spells the credentials `sasl.username` /
//! `sasl.password` and the trusted CA `ssl.ca.location`, and refuses the Java names. This
//! module translates one set of client settings; keys it does not know pass through as before.
//! Pure logic: the files named are not read here (librdkafka reads them, and says so when it
//! cannot).

use crate::config::error::ConfigError;

/// Java client keys that only tune the JVM's TLS stack; librdkafka (OpenSSL) has no
/// equivalent, so they are dropped with a notice rather than refused.
const JVM_ONLY: &[&str] = &[
    "ssl.protocol",
    "ssl.enabled.protocols",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
    "ssl.secure.random.implementation",
    "ssl.provider",
];

/// Client settings: key, value.
pub type Settings = Vec<(String, String)>;

/// librdkafka settings for Connect client settings `settings` (prefix already removed),
/// in their order, and notices for what was dropped. `prefix` names the keys in errors
/// (`consumer.override.`).
pub fn translate(
    prefix: &str,
    settings: &[(String, String)],
) -> Result<(Settings, Vec<String>), ConfigError> {
    let get = |key: &str| {
        settings
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
    };
    let err = |key: &str, message: String| ConfigError {
        key: format!("{prefix}{key}"),
        message,
    };
    let mut out = Vec::new();
    let mut notices = Vec::new();
    for (key, value) in settings {
        let value = value.trim();
        match key.as_str() {
            "security.protocol" => {
                let protocol = value.to_ascii_lowercase();
                if !["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(&protocol.as_str())
                {
                    return Err(err(
                        key,
                        format!("`{value}`: expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"),
                    ));
                }
                out.push((key.clone(), protocol));
            }
            "sasl.mechanism" => {
                let mechanism = value.to_ascii_uppercase();
                if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(&mechanism.as_str()) {
                    return Err(err(key, format!("`{value}` is not supported; this sink's Kafka client (librdkafka) authenticates with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")));
                }
                out.push(("sasl.mechanism".into(), mechanism));
            }
            "sasl.jaas.config" => {
                let login = parse_jaas(value).map_err(|why| err(key, why))?;
                out.push(("sasl.username".into(), login.username));
                out.push(("sasl.password".into(), login.password));
            }
            "ssl.truststore.type" | "ssl.keystore.type" => {} // read with their location
            "ssl.truststore.location" | "ssl.truststore.certificates" => {
                pem_type(get("ssl.truststore.type"))
                    .map_err(|why| err("ssl.truststore.type", why))?;
                let ours = if key == "ssl.truststore.location" {
                    "ssl.ca.location"
                } else {
                    "ssl.ca.pem"
                };
                out.push((ours.into(), value.to_string()));
            }
            "ssl.truststore.password" => {
                return Err(err(key, "a PEM truststore has no password (Java's client refuses one too); remove the key".into()));
            }
            "ssl.endpoint.identification.algorithm" => {
                let algorithm = match value.to_ascii_lowercase().as_str() {
                    "" | "none" => "none",
                    "https" => "https",
                    _ => {
                        return Err(err(
                            key,
                            format!("`{value}`: expected https or empty (no host name check)"),
                        ))
                    }
                };
                out.push((key.clone(), algorithm.into()));
            }
            "ssl.keystore.location" => match keystore_type(get("ssl.keystore.type")) {
                KeystoreType::Pem => {
                    // One file with the key and the certificate chain, as Java's PEM keystore.
                    out.push(("ssl.certificate.location".into(), value.to_string()));
                    out.push(("ssl.key.location".into(), value.to_string()));
                }
                KeystoreType::Pkcs12 => out.push((key.clone(), value.to_string())),
                KeystoreType::Other(t) => {
                    return Err(err("ssl.keystore.type", format!("`{t}`: this sink's Kafka client reads PEM or PKCS12 keystores, not JKS; convert it (keytool -importkeystore -deststoretype PKCS12) or give PEM")));
                }
            },
            "ssl.keystore.certificate.chain" => {
                out.push(("ssl.certificate.pem".into(), value.to_string()))
            }
            "ssl.keystore.key" => out.push(("ssl.key.pem".into(), value.to_string())),
            "ssl.keystore.password" | "ssl.key.password" => {
                out.push((key.clone(), value.to_string()))
            }
            "partition.assignment.strategy" => out.push((
                key.clone(),
                assignors(value).map_err(|why| err(key, why))?,
            )),
            k if JVM_ONLY.contains(&k) => notices.push(format!(
                "{prefix}{k}: a setting of Java's TLS stack; librdkafka negotiates TLS with OpenSSL's defaults, so it is ignored"
            )),
            k if k.starts_with("sasl.") && k != "sasl.username" && k != "sasl.password" => {
                return Err(err(k, "is a Java client setting this sink's Kafka client (librdkafka) has no equivalent for; remove it (credentials go in sasl.jaas.config)".into()));
            }
            _ => out.push((key.clone(), value.to_string())),
        }
    }
    Ok((out, notices))
}

/// `partition.assignment.strategy` as Connect users write it (Java's assignor classes, as a
/// list) in librdkafka's names. Java's consumer takes the rebalance protocol every assignor of
/// the list supports: a list that mixes eager assignors with CooperativeStickyAssignor (Kafka
/// 3.x's default, `RangeAssignor, CooperativeStickyAssignor`) rebalances eagerly with its eager
/// ones, and librdkafka refuses a mixed list, so the eager ones are kept.
fn assignors(value: &str) -> Result<String, String> {
    let mut eager = Vec::new();
    let mut cooperative = false;
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name.rsplit('.').next().unwrap_or(name) {
            "RangeAssignor" | "range" => eager.push("range"),
            "RoundRobinAssignor" | "roundrobin" => eager.push("roundrobin"),
            "CooperativeStickyAssignor" | "cooperative-sticky" => cooperative = true,
            "StickyAssignor" => return Err("`StickyAssignor` (eager sticky) is not in this sink's Kafka client (librdkafka); use CooperativeStickyAssignor, RangeAssignor or RoundRobinAssignor".into()),
            other => return Err(format!("`{other}`: expected RangeAssignor, RoundRobinAssignor or CooperativeStickyAssignor (org.apache.kafka.clients.consumer.*), or librdkafka's range, roundrobin, cooperative-sticky")),
        }
    }
    match (eager.is_empty(), cooperative) {
        (false, _) => Ok(eager.join(",")),
        (true, true) => Ok("cooperative-sticky".into()),
        (true, false) => Err("empty: name an assignor, e.g. org.apache.kafka.clients.consumer.CooperativeStickyAssignor".into()),
    }
}

/// `ssl.truststore.type`: only PEM can be read. Java's default is JKS, so a missing type with
/// a truststore is an error too, as it would be in Java for a PEM file.
fn pem_type(t: Option<&str>) -> Result<(), String> {
    match t {
        Some(t) if t.eq_ignore_ascii_case("PEM") => Ok(()),
        Some(t) => Err(format!("`{t}`: this sink's Kafka client reads PEM truststores only; export the CA as PEM (keytool -exportcert -rfc) and set ssl.truststore.type=PEM")),
        None => Err("missing: Java's client then reads the truststore as JKS; this sink reads PEM only: set ssl.truststore.type=PEM".into()),
    }
}

enum KeystoreType<'a> {
    Pem,
    Pkcs12,
    Other(&'a str),
}

fn keystore_type(t: Option<&str>) -> KeystoreType<'_> {
    match t {
        Some(t) if t.eq_ignore_ascii_case("PEM") => KeystoreType::Pem,
        Some(t) if t.eq_ignore_ascii_case("PKCS12") => KeystoreType::Pkcs12,
        Some(t) => KeystoreType::Other(t),
        None => KeystoreType::Other("JKS (the default)"),
    }
}

/// A login from `sasl.jaas.config`.
#[derive(PartialEq, Eq)]
pub struct Login {
    pub module: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("module", &self.module)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u"
/// password="p";` (or `...plain.PlainLoginModule`): the module, its flag, then `key=value`
/// options, values quoted or not, ending with `;`, as Java's JAAS parser reads one entry.
/// Errors never repeat the text: it holds the password.
pub fn parse_jaas(text: &str) -> Result<Login, String> {
    let text = text.trim();
    let body = text.strip_suffix(';').ok_or(
        "must end with `;` (Module required username=\"...\" password=\"...\";)".to_string(),
    )?;
    let mut rest = body.trim_start();
    let word = |rest: &mut &str| -> String {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (w, r) = rest.split_at(end);
        *rest = r.trim_start();
        w.to_string()
    };
    let module = word(&mut rest);
    let flag = word(&mut rest);
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.as_str()) {
        return Err(format!(
            "expected a control flag (required) after the login module {module}"
        ));
    }
    let short = module.rsplit('.').next().unwrap_or_default();
    if !["ScramLoginModule", "PlainLoginModule"].contains(&short) {
        return Err(format!("login module {module} is not supported; use org.apache.kafka.common.security.scram.ScramLoginModule (SCRAM) or org.apache.kafka.common.security.plain.PlainLoginModule (PLAIN)"));
    }
    let (mut username, mut password) = (None, None);
    while !rest.is_empty() {
        let (key, after) = rest
            .split_once('=')
            .ok_or("expected key=\"value\" options after the control flag".to_string())?;
        let key = key.trim();
        let after = after.trim_start();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, c)) => value.push(c),
                            None => return Err(format!("option {key}: unterminated quote")),
                        },
                        Some((i, '"')) => break i,
                        Some((_, c)) => value.push(c),
                        None => return Err(format!("option {key}: unterminated quote")),
                    }
                };
                (value, &quoted[end + 1..])
            }
            None => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (after[..end].to_string(), &after[end..])
            }
        };
        match key {
            "username" => username = Some(value),
            "password" => password = Some(value),
            other => {
                return Err(format!(
                    "option {other} is not supported (only username and password)"
                ))
            }
        }
        rest = next.trim_start();
    }
    match (username, password) {
        (Some(username), Some(password)) => Ok(Login {
            module,
            username,
            password,
        }),
        _ => Err("needs both username=\"...\" and password=\"...\"".into()),
    }
}

/// Why a broker refused the client: not something waiting fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// SASL: wrong password, unknown user, or a mechanism the user has no credentials for.
    Authentication,
    /// TLS: the broker's certificate is not trusted, or does not name the host.
    Tls,
}

impl Refusal {
    /// From an error event's code. A bare TLS error (`__SSL`) may be a connection lost
    /// mid-handshake, so only a login refusal counts here; see [`Refusal::from_log`].
    pub fn of(code: rdkafka::types::RDKafkaErrorCode) -> Option<Refusal> {
        use rdkafka::types::RDKafkaErrorCode as C;
        match code {
            C::Authentication | C::SaslAuthenticationFailed => Some(Refusal::Authentication),
            _ => None,
        }
    }

    /// From librdkafka's error log line, which arrives as soon as the broker refused (its
    /// error event reaches the consumer's queue only seconds later): the broker's answer to a
    /// login, or a certificate OpenSSL could not verify.
    pub fn from_log(message: &str) -> Option<Refusal> {
        if message.contains("SASL authentication error") {
            Some(Refusal::Authentication)
        } else if message.contains("SSL handshake failed")
            && message.contains("certificate verify failed")
        {
            Some(Refusal::Tls)
        } else {
            None
        }
    }

    /// What was refused, for the error.
    pub fn what(self) -> &'static str {
        match self {
            Refusal::Authentication => "SASL login",
            Refusal::Tls => "TLS handshake",
        }
    }

    /// What to fix, naming the keys as the user wrote them (`prefix`: `consumer.override.`).
    pub fn fix(self, prefix: &str) -> String {
        match self {
            Refusal::Authentication => format!(
                "check the username and password in {prefix}sasl.jaas.config and the mechanism in \
                 {prefix}sasl.mechanism: the user must exist on the broker with credentials for \
                 that mechanism (wrong passwords and unknown users look the same from here)"
            ),
            Refusal::Tls => format!(
                "check {prefix}ssl.truststore.location (PEM, {prefix}ssl.truststore.type=PEM): it \
                 must hold the CA that signed the broker's certificate, and the certificate must \
                 name the host in bootstrap.servers; and that {prefix}security.protocol matches \
                 the broker's listener"
            ),
        }
    }
}

/// Whether a setting's value is a secret, to be left out of logs and `Debug` output: passwords,
/// private keys, JAAS configs (which hold the password).
pub fn is_secret(key: &str) -> bool {
    key.ends_with("password")
        || key.ends_with("sasl.jaas.config")
        || key.ends_with("ssl.keystore.key")
        || key.ends_with("ssl.key.pem")
        || key.ends_with("secret")
        || key.ends_with("token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignors_in_librdkafka_names() {
        let java = "org.apache.kafka.clients.consumer.";
        for (value, expected) in [
            (
                format!("{java}CooperativeStickyAssignor"),
                "cooperative-sticky",
            ),
            ("cooperative-sticky".into(), "cooperative-sticky"),
            (format!("{java}RangeAssignor"), "range"),
            // Kafka 3.x's default: Java rebalances eagerly with it.
            (
                format!("{java}RangeAssignor, {java}CooperativeStickyAssignor"),
                "range",
            ),
            (
                format!("{java}RoundRobinAssignor,{java}RangeAssignor"),
                "roundrobin,range",
            ),
        ] {
            assert_eq!(assignors(&value).as_deref(), Ok(expected), "{value}");
        }
        assert!(assignors(&format!("{java}StickyAssignor"))
            .unwrap_err()
            .contains("CooperativeStickyAssignor"));
        assert!(assignors("com.example.Mine")
            .unwrap_err()
            .contains("`Mine`"));
        assert!(assignors(" ").is_err());
    }

    fn s(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn map(pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, ConfigError> {
        translate("consumer.override.", &s(pairs)).map(|(out, _)| out)
    }

    #[test]
    fn connect_keys_become_librdkafka_keys() {
        let out = map(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\"s3 \\\"cr;t\";"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/etc/kafka/ca.pem"),
            ("ssl.endpoint.identification.algorithm", ""),
            ("fetch.min.bytes", "1"),
        ])
        .unwrap();
        assert_eq!(
            out,
            s(&[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("sasl.username", "alice"),
                ("sasl.password", "s3 \"cr;t"),
                ("ssl.ca.location", "/etc/kafka/ca.pem"),
                ("ssl.endpoint.identification.algorithm", "none"),
                ("fetch.min.bytes", "1"),
            ])
        );
    }

    #[test]
    fn plain_logins_unquoted_values_and_keystores() {
        let out = map(&[
            ("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=bob password=pw;"),
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.location", "/k.pem"),
            ("ssl.key.password", "kp"),
            ("ssl.truststore.type", "pem"),
            ("ssl.truststore.certificates", "-----BEGIN CERTIFICATE-----"),
        ])
        .unwrap();
        assert_eq!(
            out,
            s(&[
                ("sasl.username", "bob"),
                ("sasl.password", "pw"),
                ("ssl.certificate.location", "/k.pem"),
                ("ssl.key.location", "/k.pem"),
                ("ssl.key.password", "kp"),
                ("ssl.ca.pem", "-----BEGIN CERTIFICATE-----"),
            ])
        );
    }

    #[test]
    fn jvm_only_tls_settings_are_dropped_with_a_notice() {
        let (out, notices) = translate(
            "consumer.override.",
            &s(&[("ssl.enabled.protocols", "TLSv1.3")]),
        )
        .unwrap();
        assert!(out.is_empty());
        assert!(notices[0].starts_with("consumer.override.ssl.enabled.protocols"));
    }

    #[rstest::rstest]
    #[case(&[("security.protocol", "TLS")], "consumer.override.security.protocol")]
    #[case(&[("sasl.mechanism", "GSSAPI")], "consumer.override.sasl.mechanism")]
    #[case(&[("ssl.truststore.location", "/ca.jks")], "consumer.override.ssl.truststore.type")]
    #[case(&[("ssl.truststore.type", "JKS"), ("ssl.truststore.location", "/ca.jks")], "consumer.override.ssl.truststore.type")]
    #[case(&[("ssl.keystore.location", "/k.jks")], "consumer.override.ssl.keystore.type")]
    #[case(&[("ssl.truststore.password", "x")], "consumer.override.ssl.truststore.password")]
    #[case(&[("sasl.login.callback.handler.class", "x")], "consumer.override.sasl.login.callback.handler.class")]
    #[case(&[("sasl.jaas.config", "com.sun.security.auth.module.Krb5LoginModule required;")], "consumer.override.sasl.jaas.config")]
    fn what_librdkafka_cannot_do_is_refused_naming_the_key(
        #[case] pairs: &[(&str, &str)],
        #[case] key: &str,
    ) {
        assert_eq!(map(pairs).unwrap_err().key, key);
    }

    #[rstest::rstest]
    #[case("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"hunter2\"")]
    #[case("org.apache.kafka.common.security.scram.ScramLoginModule username=\"u\" password=\"hunter2\";")]
    #[case(
        "org.apache.kafka.common.security.scram.ScramLoginModule required password=\"hunter2\";"
    )]
    #[case("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"hunter2;")]
    #[case("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"hunter2\" tokenauth=true;")]
    fn bad_jaas_configs_are_explained_without_the_password(#[case] text: &str) {
        let e = parse_jaas(text).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn refusals_are_read_from_librdkafkas_error_lines() {
        let sasl = "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256 (after 117ms in state AUTH_REQ)";
        let tls = "sasl_ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: ../ssl/statem/statem_clnt.c:1889:tls_post_process_server_certificate error:0A000086:SSL routines::certificate verify failed: broker certificate could not be verified";
        let lost = "sasl_ssl://127.0.0.1:9093/bootstrap: SSL handshake failed: Disconnected: connection reset by peer";
        assert_eq!(Refusal::from_log(sasl), Some(Refusal::Authentication));
        assert_eq!(Refusal::from_log(tls), Some(Refusal::Tls));
        assert_eq!(
            Refusal::from_log(lost),
            None,
            "a lost connection is retried"
        );
        assert_eq!(
            Refusal::from_log("Connect to ipv4#127.0.0.1:9093 failed: Connection refused"),
            None
        );
    }

    #[test]
    fn secrets_are_recognised_by_key() {
        for key in [
            "sasl.jaas.config",
            "sasl.password",
            "ssl.key.password",
            "ssl.keystore.password",
            "connection.password",
            "ssl.keystore.key",
        ] {
            assert!(is_secret(key), "{key}");
        }
        assert!(!is_secret("sasl.username"));
        assert!(!is_secret("ssl.truststore.location"));
    }
}
