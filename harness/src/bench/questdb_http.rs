//! Row counts over QuestDB's HTTP `/exec` (cheap enough to ask every few milliseconds while a
//! sink runs; a WAL table counts what QuestDB applied, what a query sees).

/// Rows visible in `table`; 0 while it does not exist.
pub fn count_rows(http_port: u16, table: &str) -> Result<u64, String> {
    let sql = format!("select count() from '{}'", table.replace('\'', "''"));
    let path = format!("/exec?count=false&query={}", percent_encode(&sql));
    let (status, body) = crate::connect::http(http_port, "GET", &path, None)?;
    if status != 200 {
        if body.contains("does not exist") {
            return Ok(0);
        }
        return Err(format!("{sql}: HTTP {status}: {body}"));
    }
    first_value(&body).ok_or_else(|| format!("{sql}: no count in {body}"))
}

/// Runs one statement (DDL) over `/exec`.
pub fn exec(http_port: u16, sql: &str) -> Result<(), String> {
    let path = format!("/exec?query={}", percent_encode(sql));
    let (status, body) = crate::connect::http(http_port, "GET", &path, None)?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!("{sql}: HTTP {status}: {body}"))
    }
}

/// The first cell of an `/exec` answer's dataset, as an integer.
fn first_value(body: &str) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    json["dataset"][0][0].as_u64()
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(
            percent_encode("select count() from 'a-b'"),
            "select%20count%28%29%20from%20%27a-b%27"
        );
    }

    #[test]
    fn the_count_is_the_first_cell() {
        let body = r#"{"query":"select count() from 't'","columns":[{"name":"count","type":"LONG"}],"timestamp":-1,"dataset":[[42]],"count":1}"#;
        assert_eq!(first_value(body), Some(42));
        assert_eq!(first_value(r#"{"error":"x"}"#), None);
    }
}
