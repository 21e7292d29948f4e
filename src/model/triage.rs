//! Triage levels: the five buckets of importance a work item is in.

use std::fmt;

use super::amount::Amount;

/// A triage level, one of the five buckets `1 1.5 2 2.5 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Triage(u8);

impl Triage {
    /// The five levels, most important first.
    pub const ALL: [Triage; 5] = [Triage(0), Triage(1), Triage(2), Triage(3), Triage(4)];
    pub const LOWEST: Triage = Triage(4);
    pub const NAMES: [&'static str; 5] = ["1", "1.5", "2", "2.5", "3"];

    /// Position in [`Triage::ALL`].
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self.index()]
    }

    /// Buckets a number: ≤1 → 1, ≤1.5 → 1.5, ≤2 → 2, ≤2.5 → 2.5, else 3.
    /// Exact: the number is the same decimal as an amount, compared without
    /// rounding (`1.000000001` is above 1).
    pub fn bucket(x: Amount) -> Triage {
        const HALF: i64 = super::amount::SCALE / 2;
        match x.units() {
            u if u <= 2 * HALF => Triage(0),
            u if u <= 3 * HALF => Triage(1),
            u if u <= 4 * HALF => Triage(2),
            u if u <= 5 * HALF => Triage(3),
            _ => Triage(4),
        }
    }
}

impl fmt::Display for Triage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
