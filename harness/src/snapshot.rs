//! Where a case's accepted snapshot lives, and reading its body, so the `harness` binary judges
//! a case exactly as `cargo test` does.

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
    let text = std::fs::read_to_string(path(case)).ok()?;
    Some(body(&text).to_string())
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

/// Asserts rendered text against `tests/snapshots/<name>.snap` with insta, from any test binary
/// of the workspace. `fixture` names the case in the snapshot's header.
pub fn assert(name: &str, fixture: &str, rendered: &str) {
    insta::with_settings!({
        snapshot_path => dir(),
        prepend_module_to_snapshot => false,
        description => format!("fixture: fixtures/{fixture}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, rendered);
    });
}

#[cfg(test)]
mod tests {
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
}
