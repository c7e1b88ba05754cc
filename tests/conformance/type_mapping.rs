//! `docs/type-mapping.md` and the accepted snapshots must agree: for every row of its mapping
//! table, the fixture must write the value, and its snapshot must show the DDL type, the QuestDB
//! column type and the read-back value for the fixture's `req` field. Needs no services.

use harness::fixture;
use harness::{render, snapshot};

struct Row {
    line: usize,
    connect: String,
    ddl: String,
    questdb: String,
    fixture: String,
    written: String,
    reads_back: String,
}

fn mapping_rows() -> Vec<Row> {
    let path = fixture::workspace_root().join("docs/type-mapping.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let section = text
        .split("## Mapping")
        .nth(1)
        .expect("a `## Mapping` section");
    let offset = text[..text.len() - section.len()].lines().count();
    section
        .lines()
        .enumerate()
        .skip_while(|(_, l)| !l.starts_with('|'))
        .take_while(|(_, l)| l.starts_with('|'))
        .skip(2) // header and separator
        .map(|(i, l)| {
            let cells: Vec<String> = l
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().trim_matches('`').to_string())
                .collect();
            assert_eq!(
                cells.len(),
                6,
                "docs/type-mapping.md:{}: expected 6 cells: {l}",
                offset + i
            );
            Row {
                line: offset + i,
                connect: cells[0].clone(),
                ddl: cells[1].clone(),
                questdb: cells[2].clone(),
                fixture: cells[3].clone(),
                written: cells[4].clone(),
                reads_back: cells[5].clone(),
            }
        })
        .collect()
}

#[test]
fn type_mapping_document_matches_the_snapshots() {
    let rows = mapping_rows();
    assert!(
        rows.len() >= 15,
        "the mapping table lost rows: {}",
        rows.len()
    );
    let mut problems = Vec::new();
    for row in &rows {
        let at = format!("docs/type-mapping.md:{} ({})", row.line, row.connect);
        let case = format!("{}.{}", row.fixture, fixture::EXTENSION);
        let fixture_text = std::fs::read_to_string(fixture::root().join(&case)).unwrap_or_default();
        if !fixture_text.contains(&format!("\"req\":{}", row.written)) {
            problems.push(format!(
                "{at}: fixtures/{case} never writes \"req\":{}",
                row.written
            ));
        }
        let Some(body) = snapshot::accepted(&case) else {
            problems.push(format!("{at}: no accepted snapshot for {case}"));
            continue;
        };
        if !body.lines().any(|l| {
            l.trim() == format!("\"req\" {} NOT NULL", row.ddl)
                || l.trim() == format!("\"req\" {} NOT NULL,", row.ddl)
        }) {
            problems.push(format!(
                "{at}: the snapshot of {case} does not declare \"req\" {}",
                row.ddl
            ));
        }
        if !body
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["req", row.questdb.as_str()])
        {
            problems.push(format!(
                "{at}: the snapshot of {case} does not show column req as {}",
                row.questdb
            ));
        }
        let cell = format!("req={}", render::value(Some(&row.reads_back)));
        if !body
            .lines()
            .any(|l| l.trim().split(" | ").any(|c| c == cell))
        {
            problems.push(format!(
                "{at}: the snapshot of {case} has no row with {cell}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/type-mapping.md disagrees with the snapshots:\n{}",
        problems.join("\n")
    );
}

/// The check above must be able to fail: a wrong row is reported.
#[test]
fn a_wrong_row_would_be_reported() {
    let body = snapshot::accepted("types/int8.case").expect("int8 snapshot");
    assert!(!body
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["req", "INT"]));
    assert!(body
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["req", "SHORT"]));
}
