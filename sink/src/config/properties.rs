//! The `java.util.Properties` text format, which Connect reads its connector files with.
//!
//! Supported: `#`/`!` comments, `=`, `:` or whitespace separators, backslash line
//! continuations, and the escapes `\t \n \r \f \uXXXX` (any other escaped character is
//! itself). Later keys override earlier ones, as in Java.

use std::collections::BTreeMap;

/// Parses properties text into a map. Never fails: like Java, malformed lines become keys.
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for logical in logical_lines(text) {
        let (key, value) = split_key_value(&logical);
        out.insert(unescape(key), unescape(value));
    }
    out
}

/// Joins continuation lines and drops comments and blank lines.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current: Option<String> = None;
    for raw in text.lines() {
        let line = match current {
            // A continuation line's leading whitespace is not part of the value.
            Some(_) => raw.trim_start(),
            None => {
                let trimmed = raw.trim_start();
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
                    continue;
                }
                trimmed
            }
        };
        let continues = ends_with_odd_backslashes(line);
        let content = if continues {
            &line[..line.len() - 1]
        } else {
            line
        };
        let mut acc = current.take().unwrap_or_default();
        acc.push_str(content);
        if continues {
            current = Some(acc);
        } else {
            lines.push(acc);
        }
    }
    if let Some(acc) = current {
        lines.push(acc);
    }
    lines
}

fn ends_with_odd_backslashes(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// Splits at the first unescaped `=`, `:` or whitespace; whitespace around the separator is dropped.
fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' | b'\x0c' => break,
            _ => i += 1,
        }
    }
    let i = i.min(bytes.len());
    let key = &line[..i];
    let mut rest = line[i..].trim_start_matches([' ', '\t', '\x0c']);
    if let Some(stripped) = rest.strip_prefix(['=', ':']) {
        rest = stripped.trim_start_matches([' ', '\t', '\x0c']);
    }
    (key, rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => {
                        out.push_str("\\u");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;
    use rstest::rstest;

    #[rstest]
    #[case::equals("a=b", "a", "b")]
    #[case::colon("a: b", "a", "b")]
    #[case::space("a b", "a", "b")]
    #[case::spaces_around("  a  =  b c ", "a", "b c ")]
    #[case::empty_value("a=", "a", "")]
    #[case::key_only("a", "a", "")]
    #[case::escaped_separator(r"a\=b=c", "a=b", "c")]
    #[case::value_with_equals(
        "url=jdbc:postgresql://h:1/qdb?x=y",
        "url",
        "jdbc:postgresql://h:1/qdb?x=y"
    )]
    #[case::unicode_escape(r"k=\u00e9t\u00E9", "k", "été")]
    #[case::tab_escape(r"k=a\tb", "k", "a\tb")]
    #[case::continuation("k=a,\\\n    b", "k", "a,b")]
    #[case::literal_backslash("k=a\\\\", "k", "a\\")]
    fn parses_one_entry(#[case] text: &str, #[case] key: &str, #[case] value: &str) {
        let props = parse(text);
        assert_eq!(props.len(), 1, "{props:?}");
        assert_eq!(props.get(key).map(String::as_str), Some(value), "{props:?}");
    }

    #[rstest]
    #[case::hash("# comment\n")]
    #[case::bang("! comment\n")]
    #[case::indented_comment("   # comment\n")]
    #[case::blank("\n   \n")]
    fn ignores_comments_and_blanks(#[case] text: &str) {
        assert!(parse(text).is_empty());
    }

    #[test]
    fn later_keys_override_earlier_ones() {
        assert_eq!(parse("a=1\na=2")["a"], "2");
    }
}
