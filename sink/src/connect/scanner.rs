//! A cursor over JSON text with serde_json's grammar, for the decoder's common path
//! ([`super::scan`], [`super::cache`]): it borrows what it reads from the bytes.

use std::borrow::Cow;

/// A cursor over JSON text with serde_json's grammar: the same whitespace, string escapes and
/// number syntax.
pub(crate) struct Scanner<'b> {
    bytes: &'b [u8],
    pub pos: usize,
}

impl<'b> Scanner<'b> {
    pub fn new(bytes: &'b [u8], pos: usize) -> Scanner<'b> {
        Scanner { bytes, pos }
    }

    pub fn rest(&self) -> &'b [u8] {
        &self.bytes[self.pos.min(self.bytes.len())..]
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    pub fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    pub fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.rest()
            .starts_with(word)
            .then(|| self.pos += word.len())
    }

    /// A string token, unescaped; borrowed when it has no escapes.
    pub fn string(&mut self) -> Option<Cow<'b, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    let text = std::str::from_utf8(&self.bytes[start..self.pos]).ok()?;
                    self.pos += 1;
                    return Some(Cow::Borrowed(text));
                }
                b'\\' => break,
                b if b < 0x20 => return None,
                _ => self.pos += 1,
            }
        }
        let mut out = self.bytes[start..self.pos].to_vec();
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return String::from_utf8(out).ok().map(Cow::Owned);
                }
                b'\\' => {
                    self.pos += 1;
                    let c = match self.peek()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            self.pos += 1;
                            let c = self.unicode_escape()?;
                            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    self.pos += 1;
                    out.push(c as u8);
                }
                b if b < 0x20 => return None,
                b => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
    }

    /// After `\u`: four hex digits, and a second escape for a surrogate pair. A lone surrogate
    /// is left to the full decoder.
    fn unicode_escape(&mut self) -> Option<char> {
        let high = self.hex4()?;
        if (0xDC00..=0xDFFF).contains(&high) {
            return None;
        }
        if !(0xD800..=0xDBFF).contains(&high) {
            return char::from_u32(high);
        }
        self.literal(b"\\u")?;
        let low = self.hex4()?;
        if !(0xDC00..=0xDFFF).contains(&low) {
            return None;
        }
        char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.pos..self.pos + 4)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(n)
    }

    /// The characters a number token can hold; [`number_shape`] checks the grammar.
    pub fn number(&mut self) -> &'b str {
        let start = self.pos;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.pos += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.pos]).expect("ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(r#""plain""#, Some("plain"))]
    #[case(r#""a\"b\\c\/d\n\t\r\b\f""#, Some("a\"b\\c/d\n\t\r\u{8}\u{c}"))]
    #[case(r#""\u00e9\uD83D\uDE00x""#, Some("é😀x"))]
    #[case(r#""é""#, Some("é"))]
    #[case(r#""\uD83D""#, None)]
    #[case(r#""\uDE00""#, None)]
    #[case(r#""\x""#, None)]
    #[case("\"a\u{1}\"", None)]
    #[case(r#""open"#, None)]
    fn strings_unescape_as_serde_json_does(#[case] text: &str, #[case] expected: Option<&str>) {
        let got = Scanner::new(text.as_bytes(), 0).string();
        assert_eq!(got.as_deref(), expected, "{text}");
        if let Some(expected) = expected {
            assert_eq!(serde_json::from_str::<String>(text).unwrap(), expected);
        }
    }
}
