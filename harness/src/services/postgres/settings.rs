//! What the harness's PostgreSQL runs with: `initdb`'s and `postgres`'s arguments and the
//! account it runs as. Pure: [`super::Postgres`] runs them.

/// The superuser `initdb` creates; Debezium connects as it (logical replication and `CREATE
/// PUBLICATION ... FOR ALL TABLES` need it).
pub const SUPERUSER: &str = "postgres";

/// The account PostgreSQL runs as when the harness runs as root: `postgres` refuses to start as
/// root, so it runs as `nobody`, which every Linux has, on a data dir given to it.
pub const UNPRIVILEGED: &str = "nobody";

/// `initdb`'s arguments: trust on loopback (the server listens on 127.0.0.1 only, for one run),
/// UTF-8 without a locale (the C collation, so that text sorts the same everywhere), no fsync
/// (a throw-away cluster).
pub fn initdb_args(data: &str) -> Vec<String> {
    [
        "-D",
        data,
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The server's settings, as `-c name=value`: TCP on 127.0.0.1:`port` only (no Unix socket, so
/// nothing is written outside the data dir), logical decoding for Debezium, and durability off
/// (the cluster lives for one run).
pub fn server_settings(port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("listen_addresses", "127.0.0.1".to_owned()),
        ("port", port.to_string()),
        ("unix_socket_directories", String::new()),
        // Debezium's pgoutput stream needs logical decoding, a WAL sender and a slot per
        // connector; a few cases may stream at once.
        ("wal_level", "logical".to_owned()),
        ("max_wal_senders", "20".to_owned()),
        ("max_replication_slots", "20".to_owned()),
        ("fsync", "off".to_owned()),
        ("synchronous_commit", "off".to_owned()),
        ("full_page_writes", "off".to_owned()),
        // Times that Debezium maps (timestamptz) print in UTC whatever the machine's zone.
        ("timezone", "UTC".to_owned()),
        ("log_timezone", "UTC".to_owned()),
        ("max_connections", "50".to_owned()),
    ]
}

/// `postgres`'s arguments for the data dir and port.
pub fn server_args(data: &str, port: u16) -> Vec<String> {
    let mut args = vec!["-D".to_owned(), data.to_owned()];
    for (name, value) in server_settings(port) {
        args.push("-c".to_owned());
        args.push(format!("{name}={value}"));
    }
    args
}

/// The account to run as, for a harness running as `euid`: none (itself) unless root.
pub fn run_as(euid: u32) -> Option<&'static str> {
    (euid == 0).then_some(UNPRIVILEGED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_listens_on_loopback_with_logical_decoding() {
        let args = server_args("/d", 5433);
        assert_eq!(&args[..2], ["-D", "/d"]);
        let settings: Vec<&str> = args[2..]
            .chunks(2)
            .map(|pair| {
                assert_eq!(pair[0], "-c");
                pair[1].as_str()
            })
            .collect();
        for wanted in [
            "listen_addresses=127.0.0.1",
            "port=5433",
            "unix_socket_directories=",
            "wal_level=logical",
            "timezone=UTC",
        ] {
            assert!(settings.contains(&wanted), "{wanted} in {settings:?}");
        }
        let senders: u32 = settings
            .iter()
            .find_map(|s| s.strip_prefix("max_wal_senders="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(senders >= 4);
    }

    #[test]
    fn initdb_makes_a_trusting_utf8_cluster_with_the_superuser() {
        let args = initdb_args("/d");
        assert_eq!(&args[..4], ["-D", "/d", "-U", SUPERUSER]);
        assert!(args.contains(&"--auth=trust".to_owned()));
        assert!(args.contains(&"--encoding=UTF8".to_owned()));
    }

    #[test]
    fn root_runs_it_as_nobody() {
        assert_eq!(run_as(0), Some("nobody"));
        assert_eq!(run_as(1000), None);
    }
}
