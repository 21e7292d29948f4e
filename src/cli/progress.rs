//! Progress bars of long jobs (blame over many versions, clone, push and
//! pull, a comparison of scenarios, a pull of several sources): counts,
//! rate and ETA on stderr, drawn only when stderr is a terminal and `-q`
//! was not given, as hyperfine and cargo do. Nothing else changes with
//! them: stdout gets the same bytes with a bar or without.
//!
//! The command decides here whether bars are drawn; the library doing the
//! work is handed a bar (a hidden one draws nothing) and only counts.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether bars are drawn: stderr is a terminal and `-q` was not given.
pub fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

fn target(quiet: bool) -> ProgressDrawTarget {
    if shown(quiet) {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// The look of every counting bar: `what [====>   ] 12/200 unit (40/s,
/// ETA 5s)`.
pub fn style(unit: &str) -> ProgressStyle {
    ProgressStyle::with_template(&template(unit))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(s.per_sec()));
            },
        )
        .progress_chars("=> ")
}

/// Steps a second, as a person reads them: `1234/s`, `2.5/s`.
fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() || per_sec <= 0.0 {
        "-/s".into()
    } else if per_sec < 10.0 {
        format!("{per_sec:.1}/s")
    } else {
        format!("{per_sec:.0}/s")
    }
}

fn template(unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    // Braces in the unit would be read as placeholders.
    let unit = unit.replace('{', "{{").replace('}', "}}");
    // The bar takes what the line leaves, so that the line never wraps.
    format!("{{msg}} [{{wide_bar}}] {{pos}}/{{len}}{unit} ({{rate}}, ETA {{eta}})")
}

/// A bar of `len` steps counted in `unit` (`versions`, `scenarios`),
/// named `what` (`qplan blame`), hidden when `quiet` or when stderr is not
/// a terminal. The caller ticks it with `inc` and ends it with
/// `finish_and_clear`.
pub fn bar(len: u64, what: &str, unit: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), target(quiet));
    bar.set_style(style(unit));
    bar.set_message(what.to_owned());
    // Drawn at once: the first frame says what is being done.
    bar.tick();
    bar
}

/// A bar of `len` steps like [`bar`]'s, drawn in `multi` above the lines
/// added to it later.
pub fn bar_in(multi: &MultiProgress, len: u64, what: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_length(len);
    bar.set_style(style(unit));
    bar.set_message(what.to_owned());
    let bar = multi.add(bar);
    bar.tick();
    bar
}

/// A bar whose steps and count are set by the work as it learns them (the
/// phases of a transfer, each with its own count): named `what`, not
/// drawn until the work first moves it; hidden as [`bar`] is.
pub fn steps(what: &str, quiet: bool) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(style(""));
    bar.set_message(what.to_owned());
    bar.set_draw_target(target(quiet));
    bar
}

/// Where several bars are drawn together, one line each (the sources of a
/// pull fetched side by side); hidden as [`bar`] is.
pub fn multi(quiet: bool) -> MultiProgress {
    MultiProgress::with_draw_target(target(quiet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_bar_is_hidden_and_still_counts() {
        let b = bar(3, "test", "versions", true);
        assert!(b.is_hidden());
        b.inc(2);
        assert_eq!(b.position(), 2);
        assert!(multi(true).is_hidden());
    }

    #[test]
    fn the_template_takes_any_unit() {
        for unit in ["", "versions", "{pos}", "}{"] {
            let t = template(unit);
            assert!(ProgressStyle::with_template(&t).is_ok(), "{t}");
        }
        assert!(template("versions").contains("{pos}/{len} versions ("));
        assert_eq!(rate(1_899_758.83), "1899759/s");
        assert_eq!(rate(2.54), "2.5/s");
        assert_eq!(rate(0.0), "-/s");
        assert_eq!(rate(f64::NAN), "-/s");
        assert!(template("{pos}").contains("{len} {{pos}} ("));
    }
}
