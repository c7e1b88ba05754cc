//! `client.conf.string`: the ILP client's configuration string, kept whole for the client, read
//! key by key for the sink's own checks, and never shown with its secrets.

/// `client.conf.string` (ILP over HTTP); `Debug` and [`IlpConf::redacted`] hide its
/// `password` and `token`.
#[derive(Clone, PartialEq)]
pub struct IlpConf(pub(crate) String);

impl IlpConf {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The conf string with the values of `password`, `token`, `token_x`, `token_y` replaced
    /// by `***` (`;;` is an escaped `;` inside a value).
    pub fn redacted(&self) -> String {
        let mut out = String::new();
        let (scheme, rest) = self.0.split_once("::").unwrap_or(("", self.0.as_str()));
        out.push_str(scheme);
        out.push_str("::");
        for (key, _value, raw) in conf_pairs(rest) {
            if ["password", "token", "token_x", "token_y"].contains(&key.trim()) {
                out.push_str(&format!("{key}=***;"));
            } else {
                out.push_str(raw);
            }
        }
        out
    }

    /// The `Authorization` header line (with its CRLF) the conf string's credentials make:
    /// basic with `username` and `password`, else bearer with `token`, else none.
    pub fn auth_header(&self) -> String {
        use base64::Engine;
        match (
            self.get("username"),
            self.get("password"),
            self.get("token"),
        ) {
            (Some(user), Some(password), _) => format!(
                "Authorization: Basic {}\r\n",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ),
            (_, _, Some(token)) => format!("Authorization: Bearer {token}\r\n"),
            _ => String::new(),
        }
    }

    /// A value of the conf string (`addr`, `username`, ...), unescaped.
    pub fn get(&self, wanted: &str) -> Option<String> {
        let rest = self.0.split_once("::").map_or(self.0.as_str(), |(_, r)| r);
        conf_pairs(rest)
            .into_iter()
            .find(|(k, _, _)| k.trim() == wanted)
            .map(|(_, v, _)| v)
    }
}

/// `key=value;` pairs of a conf string after its `scheme::`: key, unescaped value, raw text.
fn conf_pairs(rest: &str) -> Vec<(String, String, &str)> {
    let mut pairs = Vec::new();
    let bytes = rest.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b';' {
            if bytes.get(i + 1) == Some(&b';') {
                i += 2;
                continue;
            }
            let raw = &rest[start..=i];
            let (k, v) = raw[..raw.len() - 1]
                .split_once('=')
                .unwrap_or((&raw[..raw.len() - 1], ""));
            pairs.push((k.to_string(), v.replace(";;", ";"), raw));
            start = i + 1;
        }
        i += 1;
    }
    if start < rest.len() {
        let raw = &rest[start..];
        let (k, v) = raw.split_once('=').unwrap_or((raw, ""));
        pairs.push((k.to_string(), v.replace(";;", ";"), raw));
    }
    pairs
}

impl std::fmt::Debug for IlpConf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("IlpConf").field(&self.redacted()).finish()
    }
}
