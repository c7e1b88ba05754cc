//! Cases on services the user already has (a staging QuestDB and Kafka: `harness conformance
//! --questdb URL --bootstrap-servers B`): every topic and table of the run carries a prefix of
//! its own, anything else is refused, and what carries the prefix is dropped afterwards, also
//! when the run fails.

use crate::fixture::Case;
use crate::replay::Target;
use std::time::Duration;

/// The prefix of one run's topics and tables: `kqrun-<pid>-<time>-`, unlike any name a user
/// gives (and unlike another run's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPrefix(String);

impl RunPrefix {
    pub fn new() -> RunPrefix {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        RunPrefix(format!(
            "kqrun-{}-{:x}-",
            std::process::id(),
            nanos % (1 << 40)
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` (a topic or table) is this run's. QuestDB's table names are not case
    /// sensitive.
    pub fn owns(&self, name: &str) -> bool {
        name.to_lowercase().starts_with(&self.0)
    }

    /// The rendered outcome as it reads without the prefix, to judge against a snapshot.
    pub fn strip(&self, rendered: &str) -> String {
        rendered.replace(&self.0, "")
    }
}

impl Default for RunPrefix {
    fn default() -> Self {
        RunPrefix::new()
    }
}

/// Why a case cannot run on shared services, if it cannot: fault cases break services, and
/// `@sql` statements name tables the prefix cannot vouch for.
pub fn refusal(case: &Case) -> Option<&'static str> {
    if case.scenario.is_some() {
        Some("a fault case breaks its services")
    } else if !case.setup_sql.is_empty() {
        Some("its @sql statements name tables of their own")
    } else {
        None
    }
}

/// The case on this run's topic: `<prefix><topic>` (and so the table, unless the case names
/// it otherwise, which the replay refuses).
pub fn prefixed(mut case: Case, prefix: &RunPrefix) -> Case {
    case.topic = format!("{}{}", prefix.as_str(), case.topic);
    case
}

/// `http://HOST:PORT` (QuestDB's HTTP port) as a target with `pg_port` and `bootstrap`.
pub fn target(
    url: &str,
    pg_port: u16,
    bootstrap: &str,
    prefix: &RunPrefix,
) -> Result<Target, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("--questdb {url}: expected http://HOST:PORT (QuestDB's HTTP port)")
    })?;
    let rest = rest.trim_end_matches('/');
    let (host, port) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("--questdb {url}: expected http://HOST:PORT"))?;
    let http_port = port
        .parse()
        .map_err(|_| format!("--questdb {url}: {port} is not a port"))?;
    Ok(Target {
        bootstrap: bootstrap.to_owned(),
        pg_host: host.to_owned(),
        pg_port,
        http_port,
        prefix: Some(prefix.as_str().to_owned()),
    })
}

/// Drops this run's tables and topics (theirs only: every name is checked against the prefix
/// once more); returns what it dropped, or what it could not.
pub async fn clean_up(
    target: &Target,
    connection: &sink::config::Connection,
    prefix: &RunPrefix,
) -> Result<Vec<String>, String> {
    let mut dropped = Vec::new();
    let db = sink::write::pg::QuestDb::connect(connection)
        .await
        .map_err(|e| e.to_string())?;
    let tables = crate::readback::simple_rows(&db, "SELECT table_name FROM tables()")
        .await
        .map_err(|e| e.to_string())?;
    for table in tables
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
    {
        if prefix.owns(&table) {
            db.execute(&format!("DROP TABLE \"{}\"", table.replace('"', "\"\"")))
                .await
                .map_err(|e| format!("DROP TABLE {table}: {e}"))?;
            dropped.push(format!("table {table}"));
        }
    }
    let bootstrap = target.bootstrap.clone();
    let p = prefix.as_str().to_owned();
    let topics =
        tokio::task::spawn_blocking(move || crate::kafka::topics_with_prefix(&bootstrap, &p))
            .await
            .expect("list topics")
            .map_err(|e| e.to_string())?;
    let topics: Vec<String> = topics.into_iter().filter(|t| prefix.owns(t)).collect();
    crate::kafka::delete_topics(&target.bootstrap, &topics)
        .await
        .map_err(|e| e.to_string())?;
    // Kafka deletes topics in the background: done once the cluster no longer lists them.
    let (bootstrap, p) = (target.bootstrap.clone(), prefix.as_str().to_owned());
    tokio::task::spawn_blocking(move || {
        crate::wait::wait_until("this run's topics deleted", Duration::from_secs(60), || {
            match crate::kafka::topics_with_prefix(&bootstrap, &p) {
                Ok(left) if left.is_empty() => Ok(()),
                Ok(left) => Err(format!("still listed: {left:?}")),
                Err(e) => Err(e.to_string()),
            }
        })
    })
    .await
    .expect("wait for deletion")
    .map_err(|e| e.to_string())?;
    dropped.extend(topics.into_iter().map(|t| format!("topic {t}")));
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_owns_its_names_only_and_is_stripped_for_judging() {
        let prefix = RunPrefix("kqrun-1-a-".into());
        assert!(prefix.owns("kqrun-1-a-orders"));
        assert!(prefix.owns("KQRUN-1-a-Orders"));
        assert!(!prefix.owns("orders"));
        assert!(!prefix.owns("kqrun-2-a-orders"));
        assert_eq!(
            prefix.strip("topic: kqrun-1-a-t -> table: kqrun-1-a-t"),
            "topic: t -> table: t"
        );
        let two = RunPrefix::new();
        assert!(two.as_str().starts_with("kqrun-") && two.as_str().ends_with('-'));
    }

    #[test]
    fn reads_questdbs_http_address() {
        let prefix = RunPrefix("kqrun-1-a-".into());
        let t = target("http://127.0.0.1:9000/", 8812, "127.0.0.1:9092", &prefix).unwrap();
        assert_eq!(
            (t.pg_host.as_str(), t.http_port, t.pg_port),
            ("127.0.0.1", 9000, 8812)
        );
        assert_eq!(t.prefix.as_deref(), Some("kqrun-1-a-"));
        assert!(target("127.0.0.1:9000", 8812, "b", &prefix).is_err());
    }

    #[test]
    fn refuses_fault_cases_and_setup_sql() {
        let text = "@sql CREATE TABLE x (a INT)\n{}\n";
        let case = Case::parse(std::path::Path::new("a.case"), "a.case", text).unwrap();
        assert!(refusal(&case).is_some());
        let case = Case::parse(std::path::Path::new("b.case"), "b.case", "{}\n").unwrap();
        assert_eq!(refusal(&case), None);
        assert_eq!(prefixed(case, &prefix_of("p-")).topic, "p-b");
    }

    fn prefix_of(p: &str) -> RunPrefix {
        RunPrefix(p.into())
    }
}
