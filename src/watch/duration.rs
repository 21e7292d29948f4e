//! Durations as people write them on a command line or in a chain file:
//! `15m`, `1h30m`, `500ms`, `2s`, `1d`. A dozen lines of our own rather than
//! a crate: qwatch needs only these units, and the parser gets a property
//! test like every parser here.

use std::time::Duration;

/// Parses `<number><unit>` repeated (`1h30m`); units `ms`, `s`, `m`, `h`,
/// `d`. A bare number is refused: `--every 15` could mean anything.
pub fn parse(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration (write it like 15m, 30s, 500ms, 1h30m)".into());
    }
    let bad = || format!("{text:?} is not a duration (write it like 15m, 30s, 500ms, 1h30m)");
    let mut total: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return Err(bad());
        }
        let n: u128 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let millis: u128 = match &rest[..unit] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit..];
        total = total.saturating_add(n * millis);
    }
    // Ten years is more than any timer needs and keeps Instant arithmetic
    // far from overflow.
    if total > 10 * 365 * 86_400_000 {
        return Err(format!("{text:?} is longer than ten years"));
    }
    Ok(Duration::from_millis(total as u64))
}

/// For clap's `value_parser`.
pub fn arg(s: &str) -> Result<Duration, String> {
    parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn units_and_sums() {
        assert_eq!(parse("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse(" 0s "), Ok(Duration::ZERO));
    }

    #[test]
    fn refused() {
        for s in [
            "",
            "15",
            "m",
            "1x",
            "1.5s",
            "-1s",
            "1 m",
            "99999999999999s",
            "4000d",
        ] {
            assert!(parse(s).is_err(), "{s:?} accepted");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse(&s);
        }

        #[test]
        fn round_trip(h in 0u64..1000, m in 0u64..60, ms in 0u64..1000) {
            let text = format!("{h}h{m}m{ms}ms");
            prop_assert_eq!(parse(&text), Ok(Duration::from_millis(h * 3_600_000 + m * 60_000 + ms)));
        }
    }
}
