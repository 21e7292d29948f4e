//! Item text and amounts kept in two growing buffers, one of each per plan,
//! instead of a heap allocation per string: a million items read, sorted
//! and written without a million allocations, and a list walked in order
//! reads memory in order.

use super::amount::Amount;

/// Where a string or a run of amounts lies in an [`Arena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arena {
    text: String,
    amounts: Vec<(u32, Amount)>,
}

impl Span {
    /// The same span after what it points into has been appended behind
    /// `text` bytes and `amounts` amounts of another arena
    /// ([`Arena::append`]); a span of text moves by the first, a span of
    /// amounts by the second.
    pub fn shifted(self, by: usize) -> Span {
        Span {
            start: self.start + by,
            end: self.end + by,
        }
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl Arena {
    /// Appends another arena; returns by how much its text spans and its
    /// amount spans move ([`Span::shifted`]).
    pub fn append(&mut self, other: &Arena) -> (usize, usize) {
        let moved = (self.text.len(), self.amounts.len());
        self.text.push_str(&other.text);
        self.amounts.extend_from_slice(&other.amounts);
        moved
    }

    /// An arena with room for `text` bytes and `amounts` amounts.
    pub fn with_capacity(text: usize, amounts: usize) -> Self {
        Arena {
            text: String::with_capacity(text),
            amounts: Vec::with_capacity(amounts),
        }
    }

    /// The bytes of text and the number of amounts held.
    pub fn sizes(&self) -> (usize, usize) {
        (self.text.len(), self.amounts.len())
    }

    pub fn push_str(&mut self, s: &str) -> Span {
        let start = self.text.len();
        self.text.push_str(s);
        Span {
            start,
            end: self.text.len(),
        }
    }

    pub fn str(&self, span: Span) -> &str {
        &self.text[span.start..span.end]
    }

    /// Amounts per skill (skill index, person-weeks).
    pub fn push_amounts(&mut self, amounts: impl IntoIterator<Item = (u32, Amount)>) -> Span {
        let start = self.amounts.len();
        self.amounts.extend(amounts);
        Span {
            start,
            end: self.amounts.len(),
        }
    }

    pub fn amounts(&self, span: Span) -> &[(u32, Amount)] {
        &self.amounts[span.start..span.end]
    }
}
