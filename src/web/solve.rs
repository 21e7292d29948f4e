//! The Solve panel of the page (`qwhatif solve` in the browser): a goal and
//! a menu in, the answer out, and the answer's changes one click from being
//! tried as a what-if (the page's own `/whatif` form, filled).
//!
//! The search runs on the store's current `qplan conditioned`, on every
//! core, with a budget of [`MAX_SCENARIOS`] so that a request cannot keep
//! the server busy for long; a search that needs more says NOT proven, as
//! the command does.

use std::sync::atomic::AtomicBool;

use crate::error::Result;
use crate::model::Input;
use crate::report::html::esc;
use crate::whatif::solve::{self, ask, render, Answer};

/// The scenarios one request may compute.
pub const MAX_SCENARIOS: u64 = 20_000;

/// Text of several lines, escaped line by line.
fn esc_text(b: &mut String, text: &str) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            b.push('\n');
        }
        esc(b, line);
    }
}

/// The panel's form, filled with `ask`; `error` above it.
pub fn form(b: &mut String, token: &str, ask: &str, error: Option<&str>) {
    b.push_str("<details class=\"qw-solve\" id=\"qw-solve\"");
    if error.is_some() || !ask.is_empty() {
        b.push_str(" open");
    }
    b.push_str(
        "><summary><strong>Solve</strong>: the cheapest changes that meet a goal</summary>\n",
    );
    b.push_str("<form method=\"post\" action=\"/solve\" id=\"qw-solve-form\" class=\"qw-form\">\n<input type=\"hidden\" name=\"token\" value=\"");
    esc(b, token);
    b.push_str("\">\n<label for=\"qw-ask\">A goal line and allow lines (<code>man qwhatif-solve</code>):</label><br>\n");
    if let Some(e) = error {
        b.push_str("<div class=\"qw-error\" id=\"qw-solve-error\" role=\"alert\"><strong>Not answered</strong><pre>");
        esc_text(b, e);
        b.push_str("</pre></div>\n");
    }
    b.push_str("<textarea name=\"ask\" id=\"qw-ask\" rows=\"5\" cols=\"80\" spellcheck=\"false\" placeholder=\"goal triage&lt;=1 by 2013-12-13&#10;allow 5 max=2 add staff &quot;Web hire&quot; track=Tenor skill=Web&#10;allow 1 drop MOB-113\">");
    esc_text(b, ask);
    b.push_str("</textarea><br>\n<button type=\"submit\" id=\"qw-solve-run\">Find the cheapest</button> <span class=\"note\">Nothing is stored; at most ");
    b.push_str(&MAX_SCENARIOS.to_string());
    b.push_str(" scenarios are computed.</span>\n</form>\n</details>\n");
}

/// Answers `ask` on `base`.
pub fn run(base: &Input, ask_text: &str) -> Result<Answer> {
    let ask = ask::parse("ask", ask_text)?;
    let stop = AtomicBool::new(false);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    solve::solve(
        base,
        &ask,
        &solve::Options {
            max_scenarios: MAX_SCENARIOS,
            threads,
            stop: &stop,
            progress: &|_, _| {},
        },
    )
}

/// The answer, and the form to try its changes as a what-if.
pub fn answer(b: &mut String, token: &str, ask: &str, a: &Answer) {
    let mut text = Vec::new();
    // Writing to memory does not fail.
    let _ = render::text(a, &mut text);
    b.push_str("<section id=\"qw-solve-answer\"><h2>Solve</h2>\n<pre id=\"qw-solve-text\">");
    esc_text(b, &String::from_utf8_lossy(&text));
    b.push_str("</pre>\n");
    match &a.found {
        Some(f) if !f.uses.is_empty() => {
            b.push_str("<form method=\"post\" action=\"/whatif\" id=\"qw-solve-try-form\">\n<input type=\"hidden\" name=\"token\" value=\"");
            esc(b, token);
            b.push_str("\">\n<textarea name=\"script\" id=\"qw-solve-script\" rows=\"4\" cols=\"80\" readonly>");
            esc_text(b, f.script().trim_end());
            b.push_str("</textarea><br>\n<button type=\"submit\" id=\"qw-solve-try\">Try it as a what-if</button>\n</form>\n");
        }
        _ => {}
    }
    b.push_str("</section>\n");
    form(b, token, ask, None);
}
