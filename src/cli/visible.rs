//! Names are data from JIRA and spreadsheets, which anyone can write. What
//! reaches a terminal or a spreadsheet must not act on it:
//!
//! - [`visible`]: text output (`qplan -f text`, qwhatif's text, explain,
//!   messages on stderr) shows control characters as escapes, the way `git`
//!   and `ls` do, so that an item named `\e]0;…\a` or `\e[2J` cannot retitle
//!   or clear the terminal, and a bidi override cannot reorder what is read.
//! - [`csv_cell`]: a CSV cell that a spreadsheet would run as a formula
//!   (`=HYPERLINK(…)`) is neutralised as OWASP recommends ("CSV Injection"):
//!   a `'` before it, which spreadsheets show as text and do not display.
//!
//! JSON and the stacked streams stay exact: JSON escapes control characters
//! itself, and the streams are read back by tools.

use std::borrow::Cow;

/// Whether `c` is shown as an escape in text output: C0 controls other
/// than TAB and newline, DEL, C1 controls, and the bidirectional
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
/// reorder the text around them ("Trojan Source").
pub fn is_hidden(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` as text output shows it: unchanged when it holds no hidden
/// character ([`is_hidden`]); otherwise each one as `\xHH` (below U+0080)
/// or `\u{HHHH}`, and each backslash doubled, so that the escaped form
/// cannot be mistaken for another name.
pub fn visible(s: &str) -> Cow<'_, str> {
    let clean = if s.is_ascii() {
        !s.bytes().any(|b| is_hidden(char::from(b)))
    } else {
        !s.chars().any(is_hidden)
    };
    if clean {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_hidden(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_hidden(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Whether a spreadsheet would read a CSV cell as a formula: it begins
/// with `=`, `+`, `@`, TAB or CR, or with `-` when it is not a plain
/// number (`-1.5` is a number; `-2+3` and `-cmd` are formulas).
pub fn is_formula(s: &str) -> bool {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'@' | b'\t' | b'\r') => true,
        // A lone `-` (a date not in a plan) computes nothing.
        Some(b'-') => s.len() > 1 && !is_negative_number(&s[1..]),
        _ => false,
    }
}

/// `1`, `1.5`, `.5`: digits with at most one point (after a `-`).
fn is_negative_number(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.iter().any(u8::is_ascii_digit)
        && b.iter().all(|c| c.is_ascii_digit() || *c == b'.')
        && b.iter().filter(|&&c| c == b'.').count() <= 1
}

/// A CSV cell as written: a cell a spreadsheet would run ([`is_formula`])
/// gets a `'` before it, unless `raw` (for machine consumers that read
/// the exact text: `--csv-raw`).
pub fn csv_cell(s: &str, raw: bool) -> Cow<'_, str> {
    if !raw && is_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn terminal_sequences_are_shown_not_sent() {
        assert_eq!(visible("\u{1b}]0;pwned\u{7}"), "\\x1b]0;pwned\\x07");
        assert_eq!(visible("\u{1b}[2J"), "\\x1b[2J");
        assert_eq!(visible("a\u{7f}b\u{85}c"), "a\\x7fb\\u{85}c");
        assert_eq!(visible("abc\u{202e}fdp.exe"), "abc\\u{202e}fdp.exe");
        assert_eq!(visible("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        // Once escaping, a backslash is doubled: `\x1b` typed is not ESC.
        assert_eq!(visible("C:\\x1b\u{1b}"), "C:\\\\x1b\\x1b");
        // Ordinary text, TAB and newline, and other scripts are as they are.
        for s in [
            "Login rewrite",
            "a\tb\nc",
            "Café ☕ 東京",
            "C:\\dir",
            "עברית\u{200f}",
        ] {
            assert!(matches!(visible(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn formulas_are_neutralised_numbers_are_not() {
        for f in [
            "=HYPERLINK(\"http://x\"&A1)",
            "+1",
            "-2+3",
            "-cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "-1-1",
            "-1.2.3",
        ] {
            assert!(is_formula(f), "{f:?}");
            assert_eq!(csv_cell(f, false), format!("'{f}"));
            assert_eq!(csv_cell(f, true), f);
        }
        for plain in ["-1.5", "-3", "-.5", "-", "Apps:-1", "a=b", "", "1", "'=x"] {
            assert!(!is_formula(plain), "{plain:?}");
            assert_eq!(csv_cell(plain, false), plain);
        }
    }

    proptest! {
        /// The escaped form holds no hidden character, and reading its
        /// escapes back gives the name: nothing is lost, only shown.
        #[test]
        fn escapes_hide_nothing_and_read_back(s in "[a\\\\\u{0}-\u{1f}\u{7f}-\u{9f}\u{202a}-\u{202e}\u{2066}-\u{2069}é東]{0,16}") {
            let v = visible(&s);
            prop_assert!(!v.chars().any(is_hidden));
            if matches!(v, Cow::Borrowed(_)) {
                prop_assert_eq!(v.as_ref(), s.as_str());
            } else {
                prop_assert_eq!(unescape(&v), s);
            }
        }
    }

    /// The inverse of [`visible`]'s escapes, for the property test.
    fn unescape(v: &str) -> String {
        let mut out = String::new();
        let mut it = v.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next() {
                Some('\\') => out.push('\\'),
                Some('x') => {
                    let h: String = it.by_ref().take(2).collect();
                    out.push(char::from(u8::from_str_radix(&h, 16).unwrap()));
                }
                Some('u') => {
                    it.next(); // {
                    let h: String = it.by_ref().take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap());
                }
                other => panic!("bad escape {other:?}"),
            }
        }
        out
    }
}
