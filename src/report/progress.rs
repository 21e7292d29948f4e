//! A progress bar for long jobs over stored history (blame over many
//! versions, replay, comparisons): counts, rate and ETA on stderr, drawn
//! only when stderr is a terminal and `-q` was not given. Output on stdout
//! is never touched, so a pipe sees the same bytes either way.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps named `what` (`blame`, `replay`), hidden when
/// `quiet` or when stderr is not a terminal. The caller ticks it with
/// `inc` and ends it with `finish_and_clear`.
pub fn bar(len: u64, what: &str, quiet: bool) -> ProgressBar {
    let target = if !quiet && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} versions ({per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    // Drawn at once: the first frame says what is being done.
    bar.tick();
    bar
}
