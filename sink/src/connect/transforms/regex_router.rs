//! `RegexRouter`, and Java's regular-expression matching and replacement as it and
//! `TopicNameMatches` use them.

use regex::Regex;

use super::config::{Conf, ConfigError};
use super::{Failure, Outcome, Record, Transform};

/// A Java pattern compiled with Rust's `regex`: the same leftmost-first semantics for the
/// patterns both accept. Deviation: java-regex — a pattern `regex` cannot compile (lookaround,
/// backreferences, possessive quantifiers) is refused when the chain is built.
#[derive(Debug)]
pub(crate) struct JavaRegex {
    find: Regex,
    whole: Regex,
}

impl JavaRegex {
    pub(crate) fn new(pattern: &str) -> Result<JavaRegex, String> {
        let compile = |p: &str| {
            Regex::new(p).map_err(|e| {
                format!("the pattern {pattern:?} is not supported by this sink's regular expressions: {e}")
            })
        };
        Ok(JavaRegex {
            find: compile(pattern)?,
            whole: compile(&format!(r"\A(?:{pattern})\z"))?,
        })
    }

    /// `Matcher.matches()`: the whole text.
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.whole.is_match(text)
    }

    /// `Matcher.replaceFirst(replacement)`.
    pub(crate) fn replace_first(&self, text: &str, replacement: &str) -> Outcome<String> {
        let Some(caps) = self.find.captures(text) else {
            return Ok(text.to_owned());
        };
        let m = caps.get(0).expect("group 0");
        let mut out = String::from(&text[..m.start()]);
        let groups = caps.len() - 1;
        let chars: Vec<char> = replacement.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '\\' => {
                    i += 1;
                    match chars.get(i) {
                        Some(c) => out.push(*c),
                        None => return Err(Failure::data("character to be escaped is missing")),
                    }
                    i += 1;
                }
                '$' => {
                    i += 1;
                    match chars.get(i) {
                        None => {
                            return Err(Failure::data(
                                "Illegal group reference: group index is missing",
                            ))
                        }
                        Some('{') => {
                            let end =
                                chars[i..].iter().position(|c| *c == '}').ok_or_else(|| {
                                    Failure::data("named capturing group is missing trailing '}'")
                                })?;
                            let name: String = chars[i + 1..i + end].iter().collect();
                            if name.is_empty() {
                                return Err(Failure::data(
                                    "named capturing group has 0 length name",
                                ));
                            }
                            match caps.name(&name) {
                                Some(g) => out.push_str(g.as_str()),
                                None if self.find.capture_names().any(|n| n == Some(&name)) => {}
                                None => {
                                    return Err(Failure::data(format!(
                                        "No group with name {{{name}}}"
                                    )))
                                }
                            }
                            i += end + 1;
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let mut group = c.to_digit(10).expect("digit") as usize;
                            if group > groups {
                                return Err(Failure::data(format!("No group {group}")));
                            }
                            i += 1;
                            while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                                let next = group * 10 + d as usize;
                                if next > groups {
                                    break;
                                }
                                group = next;
                                i += 1;
                            }
                            if let Some(g) = caps.get(group) {
                                out.push_str(g.as_str());
                            }
                        }
                        Some(_) => return Err(Failure::data("Illegal group reference")),
                    }
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        out.push_str(&text[m.end()..]);
        Ok(out)
    }
}

/// `RegexRouter`: a topic that matches `regex` whole becomes `replacement`.
#[derive(Debug)]
pub(crate) struct RegexRouter {
    regex: JavaRegex,
    replacement: String,
}

impl RegexRouter {
    pub(crate) fn build(conf: &Conf) -> Result<RegexRouter, ConfigError> {
        let pattern = conf.required("regex")?;
        let regex = JavaRegex::new(&pattern).map_err(|m| conf.error("regex", m))?;
        let replacement = conf.required("replacement")?;
        Ok(RegexRouter { regex, replacement })
    }
}

impl Transform for RegexRouter {
    fn apply(&self, mut record: Record) -> Outcome<Option<Record>> {
        if self.regex.matches(&record.topic) {
            record.topic = self.regex.replace_first(&record.topic, &self.replacement)?;
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_as_java_does() {
        let r = JavaRegex::new(r"(\w+)\.(\w+)\.(\w+)").unwrap();
        assert!(r.matches("server.public.orders"));
        assert_eq!(
            r.replace_first("server.public.orders", "$3").unwrap(),
            "orders"
        );
        assert_eq!(r.replace_first("a.b.c", "$31").unwrap(), "c1");
        assert_eq!(r.replace_first("a.b.c", r"\$1").unwrap(), "$1");
        assert!(r.replace_first("a.b.c", "$4").is_err());
        let n = JavaRegex::new(r"(?P<t>.*)-x").unwrap();
        assert_eq!(n.replace_first("t-x", "${t}_y").unwrap(), "t_y");
        assert!(!JavaRegex::new("a").unwrap().matches("ab"));
    }
}
