//! Fixture files: one file is one conformance case.
//!
//! A case is the lines one would paste into `kafka-console-producer`, plus directives:
//!
//! ```text
//! # a comment
//! @topic example-topic          the topic (and, by default, table); default: the file stem
//! @set auto.evolve=true         a connector property on top of the seed's connect-jdbc.properties
//! @sql CREATE TABLE "t" (a INT) a statement run on QuestDB before anything is produced
//! @tombstone                    a record with a null value
//! @raw not json                 a record whose value is the rest of the line, as is
//! {"schema":...,"payload":...}  any other non-empty line: a record value, as is
//! ```

use std::path::{Path, PathBuf};

/// One record to produce, with the fixture line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub line: usize,
    /// `None` is a tombstone.
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub path: PathBuf,
    /// The path relative to the fixtures root, with `/` separators: the case's name.
    pub name: String,
    pub topic: String,
    pub properties: Vec<(String, String)>,
    pub setup_sql: Vec<String>,
    pub messages: Vec<Message>,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read fixture {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("no fixture matched {pattern}: an empty fixture set is a failure, not a pass")]
    Empty { pattern: String },
}

/// The extension of case files.
pub const EXTENSION: &str = "case";

/// The repository's root folder.
pub fn workspace_root() -> PathBuf {
    let harness = Path::new(env!("CARGO_MANIFEST_DIR"));
    harness.parent().unwrap_or(harness).to_path_buf()
}

/// The repository's fixtures folder.
pub fn root() -> PathBuf {
    workspace_root().join("fixtures")
}

impl Case {
    pub fn load(path: &Path, root: &Path) -> Result<Case, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
            path: path.into(),
            source,
        })?;
        let name = path
            .strip_prefix(root)
            .unwrap_or(path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        Case::parse(path, &name, &text)
    }

    pub fn parse(path: &Path, name: &str, text: &str) -> Result<Case, FixtureError> {
        let syntax = |line: usize, message: String| FixtureError::Syntax {
            path: path.into(),
            line,
            message,
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case = Case {
            path: path.into(),
            name: name.into(),
            topic: stem,
            properties: Vec::new(),
            setup_sql: Vec::new(),
            messages: Vec::new(),
        };
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() || raw.starts_with('#') {
                continue;
            }
            let Some(directive) = raw.strip_prefix('@') else {
                case.messages.push(Message {
                    line,
                    value: Some(raw.to_string()),
                });
                continue;
            };
            let (word, rest) = directive.split_once(' ').unwrap_or((directive, ""));
            match word {
                "topic" if !rest.trim().is_empty() => case.topic = rest.trim().to_string(),
                "set" => {
                    let (k, v) = rest
                        .split_once('=')
                        .ok_or_else(|| syntax(line, format!("`@set {rest}`: expected @set key=value")))?;
                    case.properties.push((k.trim().to_string(), v.trim().to_string()));
                }
                "sql" if !rest.trim().is_empty() => case.setup_sql.push(rest.trim().to_string()),
                "tombstone" => case.messages.push(Message { line, value: None }),
                "raw" => case.messages.push(Message { line, value: Some(rest.to_string()) }),
                _ => return Err(syntax(line, format!("unknown directive `@{word}`; expected @topic, @set, @sql, @tombstone or @raw"))),
            }
        }
        if case.messages.is_empty() {
            return Err(syntax(
                0,
                "no messages: a case produces at least one record".into(),
            ));
        }
        Ok(case)
    }

    /// The fixture line of the message at a Kafka offset (cases go to one partition, in order).
    pub fn line_of(&self, offset: i64) -> Option<usize> {
        usize::try_from(offset)
            .ok()
            .and_then(|o| self.messages.get(o))
            .map(|m| m.line)
    }
}

/// Every case under `dir` (recursively), sorted by name; an empty result is an error.
pub fn discover(dir: &Path) -> Result<Vec<Case>, FixtureError> {
    let mut paths = Vec::new();
    collect(dir, &mut paths).map_err(|source| FixtureError::Read {
        path: dir.into(),
        source,
    })?;
    paths.sort();
    if paths.is_empty() {
        return Err(FixtureError::Empty {
            pattern: format!("{}/**/*.{EXTENSION}", dir.display()),
        });
    }
    let root = root();
    let root = root.canonicalize().unwrap_or(root);
    paths
        .iter()
        .map(|p| Case::load(&p.canonicalize().unwrap_or(p.clone()), &root))
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if dir.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == EXTENSION) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Case, FixtureError> {
        Case::parse(
            Path::new("fixtures/area/my-case.case"),
            "area/my-case.case",
            text,
        )
    }

    #[test]
    fn parses_directives_and_messages_with_their_lines() {
        let case = parse("# comment\n@topic t-1\n@set auto.evolve=true\n@sql CREATE TABLE x (a INT)\n\n{\"a\":1}\n@tombstone\n@raw not json\n").unwrap();
        assert_eq!(case.topic, "t-1");
        assert_eq!(
            case.properties,
            vec![("auto.evolve".to_string(), "true".to_string())]
        );
        assert_eq!(case.setup_sql, vec!["CREATE TABLE x (a INT)".to_string()]);
        assert_eq!(
            case.messages,
            vec![
                Message {
                    line: 6,
                    value: Some("{\"a\":1}".into())
                },
                Message {
                    line: 7,
                    value: None
                },
                Message {
                    line: 8,
                    value: Some("not json".into())
                },
            ]
        );
        assert_eq!(case.line_of(1), Some(7));
        assert_eq!(case.line_of(3), None);
    }

    #[test]
    fn topic_defaults_to_the_file_stem() {
        assert_eq!(parse("{}").unwrap().topic, "my-case");
    }

    #[test]
    fn unknown_directives_and_empty_cases_are_errors_with_a_line() {
        let e = parse("{}\n@frobnicate x").unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("@frobnicate"), "{e}");
        assert!(parse("# only a comment")
            .unwrap_err()
            .to_string()
            .contains("no messages"));
    }

    #[test]
    fn an_empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            discover(dir.path()),
            Err(FixtureError::Empty { .. })
        ));
    }
}
