//! Where a case's accepted snapshot lives, and reading its body, so the `harness` binary judges
//! a case exactly as `cargo test` does.
//!
//! Other service versions than the default ([`crate::versions`]) are judged against the same
//! snapshots; where a version legitimately differs, the case keeps a reviewed variant named for
//! what differs: `<name>@questdb-8.2.0.snap`, `<name>@kafka-4.1.1.snap` or
//! `<name>@questdb-8.2.0_kafka-4.1.1.snap` (the most specific one that exists wins). The default
//! snapshots never change for another version.

use crate::versions::Versions;
use std::path::PathBuf;

/// The snapshots folder of the root package's tests.
pub fn dir() -> PathBuf {
    crate::fixture::workspace_root().join("tests/snapshots")
}

/// The snapshot name of a case: `seed/example-topic.case` -> `seed__example-topic`.
pub fn name(case: &str) -> String {
    case.trim_end_matches(&format!(".{}", crate::fixture::EXTENSION))
        .replace('/', "__")
}

pub fn path(case: &str) -> PathBuf {
    dir().join(format!("{}.snap", name(case)))
}

/// The accepted body of a snapshot file (what follows insta's `---` header), if there is one.
pub fn accepted(case: &str) -> Option<String> {
    read_body(&path(case))
}

fn read_body(path: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(body(&text).to_string())
}

/// The variant names a case may have for `versions` (most specific first); empty for the
/// default versions.
pub fn variant_names(case: &str, versions: &Versions, default: &Versions) -> Vec<String> {
    let base = name(case);
    let mut names = Vec::new();
    let both = versions.variant_of(default);
    if both.is_empty() {
        return names;
    }
    names.push(format!("{base}@{both}"));
    for single in [
        Versions {
            kafka: default.kafka.clone(),
            ..versions.clone()
        },
        Versions {
            questdb: default.questdb.clone(),
            ..versions.clone()
        },
    ] {
        let v = single.variant_of(default);
        if !v.is_empty() && v != both {
            names.push(format!("{base}@{v}"));
        }
    }
    names
}

/// Which snapshot judges a case on `versions`: the most specific variant that exists, else the
/// default snapshot. Returns its name and accepted body (`None` when it does not exist yet).
pub fn judge_with(case: &str, versions: &Versions, default: &Versions) -> (String, Option<String>) {
    for variant in variant_names(case, versions, default) {
        if let Some(body) = read_body(&dir().join(format!("{variant}.snap"))) {
            return (variant, Some(body));
        }
    }
    (name(case), accepted(case))
}

/// Asserts a case's rendered outcome on `versions`: against its variant for these versions if
/// one exists; else against the default snapshot, and when that differs, against a new variant
/// named for what differs (so `INSTA_UPDATE=always` writes a variant, never the default).
pub fn assert_case(case: &str, versions: &Versions, rendered: &str) {
    let default = Versions::default_pinned().unwrap_or_else(|e| panic!("{e}"));
    let (mut snapshot, body) = judge_with(case, versions, &default);
    let is_default_snapshot = snapshot == name(case);
    if is_default_snapshot && !versions.is_default() {
        if body.as_deref().is_some_and(|b| equivalent(b, rendered)) {
            return;
        }
        snapshot = variant_names(case, versions, &default).remove(0);
    }
    assert(&snapshot, case, rendered);
}

fn body(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n") else {
        return text;
    };
    match rest.find("\n---\n") {
        Some(end) => &rest[end + 5..],
        None => rest,
    }
}

/// Whether the rendered text matches the accepted body (insta ignores trailing newlines too).
pub fn matches(accepted: &str, rendered: &str) -> bool {
    accepted.trim_end() == rendered.trim_end()
}

/// Whether an outcome on another version says the same as a snapshot: equal, or equal but for
/// the `SHOW CREATE TABLE` text that QuestDB before 9.0 cannot give (the `table:` flags, the
/// columns and the rows still have to match).
pub fn equivalent(accepted: &str, rendered: &str) -> bool {
    matches(accepted, rendered)
        || (rendered.contains(crate::readback::NO_SHOW_CREATE)
            && matches(
                &without_show_create(accepted),
                &without_show_create(rendered),
            ))
}

/// The text without the indented lines that follow a `table:` line.
fn without_show_create(text: &str) -> String {
    let mut out = String::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.starts_with("table:") {
            in_table = true;
        } else if in_table && line.starts_with("  ") {
            continue;
        } else {
            in_table = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Asserts rendered text against `tests/snapshots/<name>.snap` with insta, from any test binary
/// of the workspace. `fixture` names the case in the snapshot's header.
pub fn assert(name: &str, fixture: &str, rendered: &str) {
    assert_at(dir(), name, fixture, rendered);
}

/// The snapshots of another sink under test (`tests/snapshots/<set>/`), kept apart from the
/// sink's own.
pub fn set_dir(set: &str) -> PathBuf {
    dir().join(set)
}

/// The accepted body of a case's snapshot in the set `set`, if there is one.
pub fn accepted_in_set(set: &str, case: &str) -> Option<String> {
    accepted_at(&set_dir(set), case)
}

/// The accepted body of a case's snapshot in the folder `dir`, if there is one.
pub fn accepted_at(dir: &std::path::Path, case: &str) -> Option<String> {
    read_body(&dir.join(format!("{}.snap", name(case))))
}

/// [`assert`] against the snapshot set `set` (e.g. `debezium`).
pub fn assert_in_set(set: &str, name: &str, fixture: &str, rendered: &str) {
    assert_at(set_dir(set), name, fixture, rendered);
}

/// [`assert`] against the snapshots in `dir`.
pub fn assert_at(dir: PathBuf, name: &str, fixture: &str, rendered: &str) {
    insta::with_settings!({
        snapshot_path => dir,
        prepend_module_to_snapshot => false,
        description => format!("fixture: fixtures/{fixture}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, rendered);
    });
}

/// The first line where `rendered` differs from `accepted` (called `label` in the message:
/// "snapshot", "default"), with its number.
pub fn first_difference(label: &str, accepted: &str, rendered: &str) -> String {
    let (a, r): (Vec<&str>, Vec<&str>) = (accepted.lines().collect(), rendered.lines().collect());
    for i in 0..a.len().max(r.len()) {
        let (x, y) = (a.get(i).copied(), r.get(i).copied());
        if x != y {
            return format!(
                "line {}: {label} `{}`, here `{}`",
                i + 1,
                x.unwrap_or("(end)").trim(),
                y.unwrap_or("(end)").trim()
            );
        }
    }
    "the outputs differ only in trailing blank lines".to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_difference_names_the_line() {
        use super::first_difference;
        assert_eq!(
            first_difference("default", "a\nb\nc", "a\nx\nc"),
            "line 2: default `b`, here `x`"
        );
        assert_eq!(
            first_difference("snapshot", "a", "a\nmore"),
            "line 2: snapshot `(end)`, here `more`"
        );
    }

    use super::*;

    #[test]
    fn names_and_bodies() {
        assert_eq!(name("seed/example-topic.case"), "seed__example-topic");
        assert_eq!(
            body("---\nsource: x\nexpression: y\n---\nhello\nworld\n"),
            "hello\nworld\n"
        );
        assert!(matches("a\n", "a"));
    }

    #[test]
    fn a_missing_show_create_table_is_not_a_difference() {
        let accepted = "columns:\n  a  INT\n\ntable: wal=false\n  CREATE TABLE 't' (\n    a INT\n  )\n\nrows: 1\n";
        let old = format!(
            "columns:\n  a  INT\n\ntable: wal=false\n  {}\n\nrows: 1\n",
            crate::readback::NO_SHOW_CREATE
        );
        assert!(equivalent(accepted, &old));
        assert!(!equivalent(accepted, &old.replace("rows: 1", "rows: 2")));
        assert!(!equivalent(accepted, &old.replace("wal=false", "wal=true")));
        // Without the marker, a different CREATE text is a difference.
        assert!(!equivalent(
            accepted,
            &accepted.replace("a INT\n  )", "a LONG\n  )")
        ));
    }

    #[test]
    fn variants_are_named_for_what_differs() {
        let v = |q: &str, k: &str| Versions {
            questdb: q.into(),
            kafka: k.into(),
        };
        let default = v("9.3.4", "3.9.1");
        let case = "seed/example-topic.case";
        assert!(variant_names(case, &default, &default).is_empty());
        assert_eq!(
            variant_names(case, &v("8.2.0", "3.9.1"), &default),
            ["seed__example-topic@questdb-8.2.0"]
        );
        assert_eq!(
            variant_names(case, &v("8.2.0", "4.1.1"), &default),
            [
                "seed__example-topic@questdb-8.2.0_kafka-4.1.1",
                "seed__example-topic@questdb-8.2.0",
                "seed__example-topic@kafka-4.1.1"
            ]
        );
    }
}
