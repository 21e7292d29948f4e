//! What-if (`qwhatif`): change language, apply, scenarios, diff, compare, explain.
//! May use: plan, model, rules, report, snap, bus, stream, cli, error; never web.
//!
//! Hypothetical changes to a plan's conditioned input, computed by the same
//! engine as the baseline, and what they change. The page of
//! `qwhatif serve --http` is a room of its own (`web`), above this one.
//!
//! - [`lang`]: the change language of SPEC section 6 (parse and print);
//! - [`apply`](mod@apply): a script applied to an [`Input`], giving the
//!   scenario's input;
//! - [`diff`](mod@diff): what differs between two [`Results`], item by item,
//!   and the summary of it;
//! - [`render`]: the what-if's output formats (streams, text, JSON, CSV);
//! - [`compare`]: several scenarios against one baseline in one table;
//! - [`scenario`]: named scenarios kept in the snapshot store (save, list,
//!   show, drop, apply);
//! - [`solve`]: `qwhatif solve`, the cheapest combination of allowed
//!   changes that meets a goal;
//! - [`bus`](mod@bus): `qwhatif serve --bus`, WHATIF requests answered over
//!   the bus.
//!
//! [`run`] is the whole of a what-if for callers that have the input: the
//! baseline and the scenario computed (on two threads), and the diff.

pub mod apply;
pub mod bus;
pub mod compare;
pub mod diff;
pub mod explain;
pub mod lang;
pub mod render;
pub mod scenario;
pub mod solve;

pub use apply::{apply, apply_reach};
pub use diff::{diff, Moved};
pub use lang::{parse, Change, Located};

use crate::error::Result;
use crate::plan::{compute, Input, Results};

/// `qwhatif changes v1`: the changes applied, one a line, in canonical form.
pub const CHANGES: &str = "qwhatif changes v1";
/// `qwhatif diff v1`: every item whose date or shortage changed.
pub const DIFF: &str = "qwhatif diff v1";

/// A computed what-if.
pub struct WhatIf {
    pub baseline: Results,
    pub scenario: Results,
    pub changes: Vec<Located>,
    pub diff: Vec<Moved>,
}

/// Applies `changes` to `base` and computes baseline and scenario with the
/// same engine. A script that names nothing is an error before anything is
/// computed.
pub fn run(base: Input, changes: Vec<Located>) -> Result<WhatIf> {
    let scenario = apply(&base, &changes)?;
    let (baseline, scenario) = compute_both(base, scenario)?;
    let diff = diff(&baseline, &scenario);
    Ok(WhatIf {
        baseline,
        scenario,
        changes,
        diff,
    })
}

/// Computes two inputs, side by side on two threads.
pub fn compute_both(a: Input, b: Input) -> Result<(Results, Results)> {
    let (ra, rb) = std::thread::scope(|scope| {
        let rb = scope.spawn(|| compute(b));
        let ra = compute(a);
        (
            ra,
            rb.join().unwrap_or_else(|e| std::panic::resume_unwind(e)),
        )
    });
    Ok((ra?, rb?))
}

/// The data the input came from, from its provenance: `qplan conditioned
/// 1a2b3c4` (its first line), or `None` when it has none.
pub fn based_on(provenance: Option<&Vec<Vec<u8>>>) -> Option<String> {
    let first = provenance?.first()?;
    let text = String::from_utf8_lossy(first);
    let mut parts = text.split('\t');
    let resource = parts.next().unwrap_or("").trim();
    let commit = parts.next().unwrap_or("").trim();
    if resource.is_empty() {
        return None;
    }
    Some(if commit.is_empty() {
        resource.to_owned()
    } else {
        format!("{resource} {commit}")
    })
}

#[cfg(test)]
mod tests;
