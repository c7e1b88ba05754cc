//! A folder of cases, wherever it is: `harness conformance DIR`. Under the repository's
//! fixtures/ a case is what [`fixture::discover`] makes of it. Anywhere else, the folder is the
//! user's own: a case is named by its path under DIR, starts from the properties of its folder
//! (`connect-jdbc.properties` or `connector.properties` there or in a parent up to DIR, else the
//! seed's) and is judged against `DIR/snapshots/` (or the folder given).

use crate::fixture::{self, Case, Family, FixtureError, Outside};
use std::path::{Path, PathBuf};

/// The properties files a folder may hold, in the order they are looked for.
pub const PROPERTIES: [&str; 2] = ["connect-jdbc.properties", "connector.properties"];

/// The folder a user's cases keep their snapshots in, under DIR, unless told otherwise.
pub const SNAPSHOTS: &str = "snapshots";

/// Every case under `dir` (a folder or one `.case` file); an empty result is an error.
/// `snapshots` overrides `DIR/snapshots/` for a folder outside fixtures/.
pub fn discover(dir: &Path, snapshots: Option<&Path>) -> Result<Vec<Case>, FixtureError> {
    let read = |source| FixtureError::Read {
        path: dir.into(),
        source,
    };
    let canonical = dir.canonicalize().map_err(read)?;
    let fixtures = fixture::root();
    let fixtures = fixtures.canonicalize().unwrap_or(fixtures);
    if canonical.starts_with(&fixtures) {
        return fixture::discover(&canonical);
    }
    // A single file is its own folder's.
    let root = if canonical.is_file() {
        canonical.parent().unwrap_or(&canonical).to_path_buf()
    } else {
        canonical.clone()
    };
    let snapshots = snapshots.map_or_else(|| root.join(SNAPSHOTS), Path::to_path_buf);
    let mut cases = Vec::new();
    for path in fixture::case_files(&canonical)? {
        let folder = path.parent().unwrap_or(&root).to_path_buf();
        let properties = properties_for(&folder, &root);
        let family = match &properties {
            Some(p) => family_of(p)?,
            None => Family::Jdbc,
        };
        let outside = Outside {
            properties: properties.unwrap_or_else(|| Family::Jdbc.properties_path()),
            family,
            snapshots: snapshots.clone(),
        };
        for mut case in Case::load(&path, &root)?.variants() {
            case.outside = Some(outside.clone());
            cases.push(case);
        }
    }
    Ok(cases)
}

/// The first properties file in `folder` or a parent of it, up to and including `root`.
pub fn properties_for(folder: &Path, root: &Path) -> Option<PathBuf> {
    let mut at = Some(folder);
    while let Some(dir) = at {
        if let Some(found) = PROPERTIES.iter().map(|f| dir.join(f)).find(|p| p.is_file()) {
            return Some(found);
        }
        if dir == root || !dir.starts_with(root) {
            return None;
        }
        at = dir.parent();
    }
    None
}

/// Which connector a properties file configures: QuestDB's (its `connector.class`), else a
/// JDBC sink's.
pub fn family_of(properties: &Path) -> Result<Family, FixtureError> {
    let text = std::fs::read_to_string(properties).map_err(|source| FixtureError::Read {
        path: properties.into(),
        source,
    })?;
    let props = sink::config::properties::parse(&text);
    let questdb = props
        .get("connector.class")
        .is_some_and(|c| c.contains("QuestDBSinkConnector"));
    Ok(if questdb {
        Family::QuestDbConnector
    } else {
        Family::Jdbc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_folder_outside_fixtures_brings_its_properties_and_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write(
            &root.join("connect-jdbc.properties"),
            "connector.class=io.confluent.connect.jdbc.JdbcSinkConnector\n",
        );
        write(&root.join("a.case"), "{\"a\":1}\n");
        write(
            &root.join("qdb/connector.properties"),
            "connector.class=io.questdb.kafka.QuestDBSinkConnector\n",
        );
        write(&root.join("qdb/deeper/b.case"), "{\"b\":1}\n");
        let cases = discover(&root, None).unwrap();
        let names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a.case", "qdb/deeper/b.case"]);
        let a = cases[0].outside.as_ref().unwrap();
        assert_eq!(a.properties, root.join("connect-jdbc.properties"));
        assert_eq!(a.family, Family::Jdbc);
        assert_eq!(a.snapshots, root.join("snapshots"));
        let b = cases[1].outside.as_ref().unwrap();
        assert_eq!(b.properties, root.join("qdb/connector.properties"));
        assert_eq!(b.family, Family::QuestDbConnector);
        assert_eq!(cases[1].family(), Family::QuestDbConnector);

        let elsewhere = root.join("elsewhere");
        let cases = discover(&root.join("qdb"), Some(&elsewhere)).unwrap();
        assert_eq!(cases[0].name, "deeper/b.case");
        assert_eq!(cases[0].outside.as_ref().unwrap().snapshots, elsewhere);
    }

    #[test]
    fn without_properties_a_folder_starts_from_the_seeds() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("x/c.case"), "{\"c\":1}\n");
        let cases = discover(dir.path(), None).unwrap();
        let outside = cases[0].outside.as_ref().unwrap();
        assert_eq!(outside.properties, Family::Jdbc.properties_path());
        assert_eq!(outside.family, Family::Jdbc);
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover(dir.path(), None).unwrap_err();
        assert!(
            matches!(err, FixtureError::Empty { .. }),
            "{err}: an empty folder must fail"
        );
    }

    #[test]
    fn fixtures_keep_their_names_and_properties() {
        let cases = discover(&fixture::root().join("seed"), None).unwrap();
        assert!(cases.iter().all(|c| c.outside.is_none()));
        assert!(cases.iter().any(|c| c.name == "seed/example-topic.case"));
    }
}
