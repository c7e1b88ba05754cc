//! Secured services for the security cases: Kafka with a SASL_SSL listener (SCRAM-SHA-256 and
//! -512 over TLS, a certificate made for this run by its own CA) beside its PLAINTEXT one, and
//! QuestDB with a PG wire user and password of the run's own and HTTP basic auth in front of
//! ILP (`pg.user`/`pg.password`, `http.user`/`http.password`, QuestDB open source). Every
//! secret is random per run, so a grep for it in logs finds only a leak. Local processes only.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{
    start_three, start_timeout, write_file, Kafka, QuestDb, QuestDbOptions, ZooKeeper,
    KAFKA_TIMEOUT, QUESTDB_TIMEOUT, ZOOKEEPER_TIMEOUT,
};
use crate::error::ServiceError;
use crate::provision::{self, Libs};
use crate::versions::{KafkaMode, Versions};

/// The SCRAM mechanisms the secured listener offers; its user has credentials for both.
pub const SCRAM_MECHANISMS: [&str; 2] = ["SCRAM-SHA-256", "SCRAM-SHA-512"];

/// A CA and a server certificate it signed for 127.0.0.1 and localhost, PEM.
#[derive(Clone)]
pub struct Pki {
    pub ca_pem: String,
    pub server_cert_pem: String,
    pub server_key_pem: String,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

fn tls_error(what: &str, e: rcgen::Error) -> ServiceError {
    ServiceError::Config(format!("making the run's TLS certificates: {what}: {e}"))
}

/// A self-signed CA certificate named `name`, and its key.
fn certificate_authority(
    name: &str,
) -> Result<(String, rcgen::Issuer<'static, rcgen::KeyPair>), ServiceError> {
    let key = rcgen::KeyPair::generate().map_err(|e| tls_error("a CA key", e))?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
        .map_err(|e| tls_error("CA parameters", e))?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let cert = params
        .self_signed(&key)
        .map_err(|e| tls_error("the CA certificate", e))?;
    Ok((cert.pem(), rcgen::Issuer::new(params, key)))
}

impl Pki {
    /// A fresh CA and a server certificate for 127.0.0.1 and localhost.
    pub fn generate() -> Result<Pki, ServiceError> {
        let (ca_pem, issuer) = certificate_authority("kq-conformance test CA")?;
        let key = rcgen::KeyPair::generate().map_err(|e| tls_error("a server key", e))?;
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .map_err(|e| tls_error("server parameters", e))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "127.0.0.1");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| tls_error("the server certificate", e))?;
        Ok(Pki {
            ca_pem,
            server_cert_pem: cert.pem(),
            server_key_pem: key.serialize_pem(),
        })
    }

    /// Another CA, which signed nothing the services use: a client that trusts only it must
    /// refuse the broker.
    pub fn other_ca() -> Result<String, ServiceError> {
        Ok(certificate_authority("kq-conformance untrusted CA")?.0)
    }
}

/// A random secret for this run, e.g. `kq-pg-3f9c1a2b7d4e5f60`.
pub fn random_secret(label: &str) -> String {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut bytes);
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("kq-{label}-{hex}{nanos:x}")
}

/// Kafka's SASL_SSL listener: its certificate and the one user it knows.
#[derive(Clone)]
pub struct SecuredListener {
    pub pki: Pki,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for SecuredListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecuredListener")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl SecuredListener {
    /// Adds the SASL_SSL listener on `port` to a broker's settings: listeners, advertised
    /// listeners, the protocol map (KRaft spells it out), SCRAM, and the PEM key store given
    /// inline (a PEM key store file needs an encrypted key; an inline key may be plain PKCS#8).
    pub(crate) fn add_to(
        &self,
        settings: &mut Vec<(&'static str, String)>,
        listen_host: &str,
        port: u16,
    ) {
        for (key, value) in settings.iter_mut() {
            match *key {
                "listeners" => value.push_str(&format!(",SASL_SSL://{listen_host}:{port}")),
                "advertised.listeners" => value.push_str(&format!(",SASL_SSL://127.0.0.1:{port}")),
                "listener.security.protocol.map" => value.push_str(",SASL_SSL:SASL_SSL"),
                _ => {}
            }
        }
        let jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
        settings.extend([
            ("inter.broker.listener.name", "PLAINTEXT".to_owned()),
            ("sasl.enabled.mechanisms", SCRAM_MECHANISMS.join(",")),
            (
                "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config",
                jaas.to_owned(),
            ),
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                jaas.to_owned(),
            ),
            ("listener.name.sasl_ssl.ssl.keystore.type", "PEM".to_owned()),
            (
                "listener.name.sasl_ssl.ssl.keystore.certificate.chain",
                self.pki.server_cert_pem.clone(),
            ),
            (
                "listener.name.sasl_ssl.ssl.keystore.key",
                self.pki.server_key_pem.clone(),
            ),
        ]);
        // inter.broker.listener.name may already be there (KRaft): keep one.
        let mut seen = std::collections::HashSet::new();
        settings.retain(|(k, _)| seen.insert(*k));
    }

    /// `SCRAM-SHA-256=[password=...],SCRAM-SHA-512=[password=...]` or, for the KRaft storage
    /// tool, with `name=` too.
    fn scram_config(&self, with_name: bool) -> Vec<String> {
        SCRAM_MECHANISMS
            .iter()
            .map(|m| match with_name {
                true => format!("{m}=[name={},password={}]", self.user, self.password),
                false => format!("{m}=[password={}]", self.password),
            })
            .collect()
    }

    /// `--add-scram` arguments of `kafka-storage format` (KRaft: the user exists from the
    /// first start).
    pub(crate) fn kraft_format_args(&self) -> Vec<String> {
        self.scram_config(true)
            .into_iter()
            .flat_map(|c| ["--add-scram".to_owned(), c])
            .collect()
    }

    /// Creates the user in ZooKeeper before the broker starts, as `kafka-configs.sh
    /// --zookeeper ... --alter --add-config 'SCRAM-SHA-256=[password=...]' --entity-type users`.
    pub(crate) fn create_user_in_zookeeper(
        &self,
        libs: &Libs,
        java: &Path,
        zookeeper: &str,
    ) -> Result<(), ServiceError> {
        let mut cmd = Command::new(java);
        cmd.arg("-Xmx256m")
            .arg("-cp")
            .arg(&libs.kafka_classpath)
            .arg("kafka.admin.ConfigCommand")
            .args(["--zookeeper", zookeeper, "--alter"])
            .arg("--add-config")
            .arg(self.scram_config(false).join(","))
            .args(["--entity-type", "users", "--entity-name", &self.user]);
        let output = cmd.output();
        match output {
            Ok(o) if o.status.success() => Ok(()),
            other => Err(ServiceError::Provision {
                command: self.redact(&format!("{cmd:?}")),
                output: self.redact(&match other {
                    Ok(o) => format!(
                        "{}: {}{}",
                        o.status,
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    ),
                    Err(e) => e.to_string(),
                }),
                hint: "creating the SCRAM user of the secured Kafka listener failed".to_owned(),
            }),
        }
    }

    /// `text` with the password replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.password, "***")
    }
}

/// The run's secrets.
#[derive(Clone)]
pub struct Secrets {
    pub kafka_user: String,
    pub kafka_password: String,
    pub pg_user: String,
    pub pg_password: String,
    pub http_user: String,
    pub http_password: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("kafka_user", &self.kafka_user)
            .field("pg_user", &self.pg_user)
            .field("http_user", &self.http_user)
            .finish_non_exhaustive()
    }
}

impl Secrets {
    pub fn generate() -> Secrets {
        Secrets {
            kafka_user: "kq-sink".to_owned(),
            kafka_password: random_secret("kafka"),
            pg_user: "kq-pg".to_owned(),
            pg_password: random_secret("pg"),
            http_user: "kq-ilp".to_owned(),
            http_password: random_secret("http"),
        }
    }

    /// Every secret value, for a test that greps logs for them.
    pub fn values(&self) -> [&str; 3] {
        [&self.kafka_password, &self.pg_password, &self.http_password]
    }
}

/// ZooKeeper (unless KRaft), Kafka with its SASL_SSL listener, QuestDB with credentials.
#[derive(Debug)]
pub struct SecuredServices {
    pub kafka: Kafka,
    pub questdb: QuestDb,
    pub zookeeper: Option<ZooKeeper>,
    pub secrets: Secrets,
}

impl SecuredServices {
    /// Starts them as local processes, in the run's versions.
    pub fn start() -> Result<SecuredServices, ServiceError> {
        let libs = provision::libs_for(&Versions::from_env()?)?;
        let java = provision::java()?;
        let secrets = Secrets::generate();
        let pki = Pki::generate()?;
        let ca_pem = pki.ca_pem.clone();
        let listener = SecuredListener {
            pki,
            user: secrets.kafka_user.clone(),
            password: secrets.kafka_password.clone(),
        };
        let questdb_options = QuestDbOptions {
            timeout: start_timeout(QUESTDB_TIMEOUT),
            env: vec![
                ("QDB_PG_USER".into(), secrets.pg_user.clone()),
                ("QDB_PG_PASSWORD".into(), secrets.pg_password.clone()),
                ("QDB_HTTP_USER".into(), secrets.http_user.clone()),
                ("QDB_HTTP_PASSWORD".into(), secrets.http_password.clone()),
            ],
        };
        let zookeeper = (libs.versions.kafka_mode() == KafkaMode::ZooKeeper)
            .then_some(|| ZooKeeper::start(&libs, &java, start_timeout(ZOOKEEPER_TIMEOUT)));
        let (zookeeper, kafka, questdb) = start_three(
            || QuestDb::start_with(&libs, &java, &questdb_options),
            zookeeper,
            |zk: Option<&ZooKeeper>| {
                Kafka::start_secured(
                    &libs,
                    &java,
                    zk.map(|zk| zk.connect_string()).as_deref(),
                    start_timeout(KAFKA_TIMEOUT),
                    &listener,
                )
            },
        )?;
        let services = SecuredServices {
            kafka,
            questdb,
            zookeeper,
            secrets,
        };
        // In Kafka's data dir, which its guardian removes with it, however the run ends.
        write_file(&services.ca_file(), &ca_pem)?;
        write_file(&services.other_ca_file(), &Pki::other_ca()?)?;
        eprintln!(
            "secured Kafka listener (SASL_SSL, SCRAM) on {}",
            services.secured_bootstrap()
        );
        Ok(services)
    }

    /// The secured services of this process, started on first use.
    ///
    /// # Panics
    /// If starting failed (now or on an earlier call), with the full error.
    pub fn shared() -> &'static SecuredServices {
        static SHARED: OnceLock<Result<SecuredServices, String>> = OnceLock::new();
        match SHARED.get_or_init(|| SecuredServices::start().map_err(|e| e.to_string())) {
            Ok(services) => services,
            Err(e) => panic!("starting the secured services failed:\n{e}"),
        }
    }

    /// `127.0.0.1:<port>` of the SASL_SSL listener, for the sink.
    pub fn secured_bootstrap(&self) -> String {
        format!(
            "127.0.0.1:{}",
            self.kafka
                .secured_port
                .expect("started with a secured listener")
        )
    }

    /// The CA that signed the broker's certificate (PEM), and one that did not.
    pub fn ca_file(&self) -> PathBuf {
        self.kafka.process().data_dir().join("ca.pem")
    }
    pub fn other_ca_file(&self) -> PathBuf {
        self.kafka.process().data_dir().join("other-ca.pem")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::kafka::{broker_settings, Coordination};

    fn listener() -> SecuredListener {
        SecuredListener {
            pki: Pki {
                ca_pem: String::new(),
                server_cert_pem: "CERT".into(),
                server_key_pem: "KEY".into(),
            },
            user: "u".into(),
            password: "s3cret".into(),
        }
    }

    fn get<'a>(settings: &'a [(&'static str, String)], key: &str) -> Vec<&'a str> {
        settings
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    #[test]
    fn the_secured_listener_joins_the_plaintext_one_on_both_modes() {
        for coordination in [
            Coordination::ZooKeeper("127.0.0.1:2181"),
            Coordination::Kraft {
                controller_port: 9094,
            },
        ] {
            let mut settings = broker_settings("127.0.0.1", 9092, coordination);
            listener().add_to(&mut settings, "127.0.0.1", 9093);
            assert!(
                get(&settings, "listeners")[0].starts_with("PLAINTEXT://127.0.0.1:9092")
                    && get(&settings, "listeners")[0].ends_with(",SASL_SSL://127.0.0.1:9093")
            );
            assert_eq!(
                get(&settings, "advertised.listeners"),
                ["PLAINTEXT://127.0.0.1:9092,SASL_SSL://127.0.0.1:9093"]
            );
            assert_eq!(get(&settings, "inter.broker.listener.name"), ["PLAINTEXT"]);
            assert_eq!(
                get(&settings, "listener.name.sasl_ssl.ssl.keystore.key"),
                ["KEY"]
            );
            if let Coordination::Kraft { .. } = coordination {
                assert!(get(&settings, "listener.security.protocol.map")[0]
                    .ends_with(",SASL_SSL:SASL_SSL"));
            }
        }
    }

    #[test]
    fn scram_users_are_made_for_both_mechanisms_and_redacted_in_errors() {
        let l = listener();
        assert_eq!(
            l.kraft_format_args(),
            [
                "--add-scram",
                "SCRAM-SHA-256=[name=u,password=s3cret]",
                "--add-scram",
                "SCRAM-SHA-512=[name=u,password=s3cret]"
            ]
        );
        assert_eq!(l.redact("password=s3cret]"), "password=***]");
        assert!(!format!("{l:?}").contains("s3cret"));
    }

    #[test]
    fn certificates_are_pem_and_secrets_random() {
        let pki = Pki::generate().unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki
            .server_key_pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_ne!(pki.ca_pem, Pki::other_ca().unwrap());
        assert_ne!(random_secret("x"), random_secret("x"));
    }
}
