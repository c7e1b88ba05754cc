//! The relative links of the README and `docs/`: every one must name a file that exists and,
//! with `#anchor`, a heading of that file, so that a page moved or a heading renamed breaks a
//! test instead of a reader's click.

/// The link targets of a Markdown text (`[text](target)`), outside code blocks and spans.
pub fn links(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if fence {
            continue;
        }
        // Code spans may hold `](` that is not a link.
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].trim().to_owned());
            rest = &after[end..];
        }
    }
    out
}

/// Whether a link leaves the repository (checked by nobody here).
pub fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// GitHub's anchor of a heading: lower case, spaces as `-`, punctuation other than `-` and `_`
/// dropped.
pub fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown text's headings (outside code blocks).
pub fn anchors(markdown: &str) -> Vec<String> {
    let mut fence = false;
    let mut out = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
        } else if !fence && line.starts_with('#') {
            out.push(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn finds_links_and_anchors_outside_code() {
        let text =
            "See [a](docs/a.md#x-y) and `[no](b.md)`.\n```\n[no](c.md)\n```\n[e](https://e.org)\n";
        assert_eq!(links(text), ["docs/a.md#x-y", "https://e.org"]);
        assert_eq!(
            anchor("The seed's config, and the one line that differs"),
            "the-seeds-config-and-the-one-line-that-differs"
        );
        assert_eq!(anchors("# A b\n```\n# not\n```\n## C_d"), ["a-b", "c_d"]);
    }

    fn pages() -> Vec<PathBuf> {
        let root = crate::fixture::workspace_root();
        let mut pages = vec![root.join("README.md")];
        let mut dirs = vec![root.join("docs")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "md") {
                    pages.push(path);
                }
            }
        }
        pages
    }

    /// Every relative link of README.md and docs/**/*.md resolves, anchors included.
    #[test]
    fn every_relative_link_resolves() {
        let mut broken = Vec::new();
        let mut checked = 0;
        for page in pages() {
            let text = std::fs::read_to_string(&page).unwrap();
            for link in links(&text).into_iter().filter(|l| !is_external(l)) {
                checked += 1;
                let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
                let target = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().unwrap_or(Path::new(".")).join(file)
                };
                if !target.exists() {
                    broken.push(format!("{}: {link}: no such file", page.display()));
                    continue;
                }
                let is_markdown = target.extension().is_some_and(|e| e == "md");
                if !fragment.is_empty() && is_markdown {
                    let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                    if !headings.iter().any(|h| h == fragment) {
                        broken.push(format!("{}: {link}: no such heading", page.display()));
                    }
                }
            }
        }
        assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
        assert!(
            checked > 20,
            "only {checked} relative links found: is the parser blind?"
        );
    }
}
