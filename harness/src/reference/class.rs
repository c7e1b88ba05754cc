//! A named reason why this sink and a recorded connector differ.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// This sink decides differently on purpose, for the reason given.
    Deviation,
    /// The reference does something wrong on QuestDB (loses or corrupts rows, or cannot run);
    /// `reproduction` shows it with SQL on QuestDB alone.
    ReferenceDefect,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Deviation => "deviation",
            Kind::ReferenceDefect => "reference defect",
        }
    }
}

/// One named reason why this sink and the reference differ, and the cases it explains.
#[derive(Debug, Clone, Copy)]
pub struct Class {
    pub name: &'static str,
    pub kind: Kind,
    pub why: &'static str,
    /// Case names as in the fixtures (`types/bytes.case`).
    pub cases: &'static [&'static str],
    /// For a reference defect: statements that show it on QuestDB alone, over PG wire.
    pub reproduction: &'static [&'static str],
}

/// The class named `name` in `classes`: how a second recording of the same connector (another
/// version) reuses a class's reason and cases. Fails the build when no class has that name.
pub const fn named(classes: &'static [Class], name: &str) -> &'static Class {
    let mut i = 0;
    while i < classes.len() {
        if same_str(classes[i].name, name) {
            return &classes[i];
        }
        i += 1;
    }
    panic!("no class of that name")
}

const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
