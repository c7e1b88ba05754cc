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
#[derive(Debug)]
pub struct Class {
    pub name: &'static str,
    pub kind: Kind,
    pub why: &'static str,
    /// Case names as in the fixtures (`types/bytes.case`).
    pub cases: &'static [&'static str],
    /// For a reference defect: statements that show it on QuestDB alone, over PG wire.
    pub reproduction: &'static [&'static str],
}
