//! The stacked-stream codec: read, write, nest, the end marker.
//! May use: error only; it knows no domain and no storage.
//!
//! Stacked streams (SPEC section 2): the format every tool reads and writes.
//!
//! A stream is a sequence of sections; a section is a header line starting
//! with `=====` followed by content lines starting with one TAB. A content
//! line may itself be a header, which is how streams nest. `=====end` marks
//! the end of a stream.
//!
//! [`Reader`] streams events (header, content line, end) from any line source
//! without holding the input in memory; [`Section`] is the owned form for the
//! small sections a tool wants whole, and [`Section::nested`] parses a
//! section's content as a stream of its own, on demand. [`Writer`] writes
//! sections at any nesting depth.

mod read;
mod write;

pub use read::{read_sections, Event, IoLines, LineSource, Reader, Section, SliceLines};
pub use write::Writer;

/// The prefix of every header line.
pub const HEADER_PREFIX: &[u8] = b"=====";
/// The header of the end marker, `=====end`.
pub const END: &str = "end";
/// The provenance section that `qsnap get` writes and filters pass through.
pub const PROVENANCE: &str = "qsnap provenance v1";

#[cfg(test)]
mod tests;
