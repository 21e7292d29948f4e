//! Field-level parsers of the v1 input streams (SPEC section 3): dates,
//! estimates, triage levels, ranks and vacations. qplan, qcondition and
//! qwhatif all read fields through these, so the rules live in one place.
//!
//! Each parser returns a short message on failure; the caller adds where
//! (section, line, column, value).

use chrono::NaiveDate;

pub use crate::model::{Amount, Triage};

/// The years a date may have: exactly four digits. A plan is a quarter or
/// a year of this era; a shorter year (`Oct 7, 13`, `0013-10-07`), a sign or
/// a fifth digit is a typo to refuse, never the year 13 or 20130.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// Reads a date written as ISO `2013-10-07` or as `Oct 7, 2013` (the day may
/// be padded with spaces: `Oct  7, 2013`). The year is exactly four digits,
/// 1000 to 9999, in both forms: the one date parser of the toolkit (qplan's
/// input, `qcondition --map`, qwhatif's changes and results read back).
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = trim(s);
    // The usual form read directly (a results stream has a date on every
    // line); anything else, valid or not, goes the general way below.
    if let Some(d) = iso_date(t.as_bytes()) {
        return Ok(d);
    }
    formula(t)?;
    let expected = "expected 2013-10-07 or Oct 7, 2013";
    if let Some(parts) = iso_parts(t) {
        let [y, m, d] = parts;
        year(y)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(format!(
                "the month and the day are two digits each ({expected})"
            ));
        }
        return NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|_| format!("not a date, there is no such day ({expected})"));
    }
    if let Some((month_day, y)) = t.rsplit_once(',') {
        year(y.trim())?;
        // The year checked, chrono reads the rest (`%e`: a day padded or
        // not); a sign or more digits were refused above.
        return NaiveDate::parse_from_str(t, "%b %e, %Y").map_err(|_| {
            let mut words = month_day.split_whitespace();
            let month = words.next().unwrap_or("");
            let day = words.next().unwrap_or("");
            let month_ok =
                NaiveDate::parse_from_str(&format!("{month} 1, 2000"), "%b %e, %Y").is_ok();
            if month_ok && !day.is_empty() && day.bytes().all(|b| b.is_ascii_digit()) {
                format!("not a date, there is no such day ({expected})")
            } else {
                format!("not a date ({expected})")
            }
        });
    }
    Err(format!("not a date ({expected})"))
}

/// A cell that holds a spreadsheet formula (`=SUM(A1:A3)`) instead of its
/// value: said as such, whole, rather than read up to its first `:` or `,`
/// (issue 20: `skill =SUM(A1: "A3)" is not a number`).
fn formula(t: &str) -> Result<(), String> {
    if t.starts_with('=') {
        return Err(format!(
            "{t:?} is a spreadsheet formula, not a value (export the sheet's values, not its formulas)"
        ));
    }
    Ok(())
}

/// A year of a date: four ASCII digits, 1000 to 9999.
fn year(y: &str) -> Result<i32, String> {
    match y.parse::<i32>() {
        Ok(n) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) && YEARS.contains(&n) => {
            Ok(n)
        }
        _ => Err(format!(
            "the year {y:?} is not four digits from {} to {} (a year is written whole: 2013, not 13)",
            YEARS.start(),
            YEARS.end()
        )),
    }
}

/// The three parts of something shaped like an ISO date: an optional sign
/// and digits, `-`, digits, `-`, digits (the sign kept with the year, so
/// that it is refused as one).
fn iso_parts(t: &str) -> Option<[&str; 3]> {
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-' | b'+') => (1, &t[1..]),
        _ => (0, t),
    };
    let mut it = rest.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if it.next().is_some() || !digits(y) || !digits(m) || !digits(d) {
        return None;
    }
    Some([&t[..sign + y.len()], m, d])
}

/// `s.split(sep)` for an ASCII separator, by bytes: the fields of every
/// line of a plan are found this way, and the general `char` search costs
/// a fifth of the reading. (A property test holds the two together.)
pub fn split_ascii(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    debug_assert!(sep.is_ascii());
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == sep) {
            // An ASCII byte is a character of its own: both slices are on
            // character boundaries.
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// `s.trim()`, without decoding a character when the first and last bytes
/// are ASCII other than blanks (nearly every field): `str::trim` is not
/// inlined and decodes from both ends, a tenth of qplan's instructions on
/// the judged 30,000-item plan.
#[inline]
pub fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] | [first @ last]
            if first.is_ascii()
                && last.is_ascii()
                && !char::from(*first).is_whitespace()
                && !char::from(*last).is_whitespace() =>
        {
            s
        }
        _ => s.trim(),
    }
}

/// The first `N` TAB-separated fields of `s` (the others empty) and how
/// many there were, at most `N`: [`split_ascii`] by TAB into an array, the
/// TABs found with `memchr` (a content line is split once per line).
pub fn tab_fields<const N: usize>(s: &str) -> ([&str; N], usize) {
    let mut fields = [""; N];
    let mut n = 0;
    let mut start = 0;
    for i in memchr::memchr_iter(b'\t', s.as_bytes()) {
        if n == N {
            break;
        }
        // A TAB is a character of its own: the slices are on boundaries.
        fields[n] = &s[start..i];
        n += 1;
        start = i + 1;
    }
    if n < N {
        fields[n] = &s[start..];
        n += 1;
    }
    (fields, n)
}

/// `s.split_once(sep)` for an ASCII separator, by bytes.
pub fn split_once_ascii(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// `YYYY-MM-DD` of ASCII digits, when it is a valid date.
fn iso_date(b: &[u8]) -> Option<NaiveDate> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *b else {
        return None;
    };
    let mut n = [0u32; 8];
    for (slot, c) in n.iter_mut().zip([y0, y1, y2, y3, m0, m1, d0, d1]) {
        if !c.is_ascii_digit() {
            return None;
        }
        *slot = u32::from(c - b'0');
    }
    let year = n[0] * 1000 + n[1] * 100 + n[2] * 10 + n[3];
    if year < 1000 {
        return None;
    }
    NaiveDate::from_ymd_opt(year as i32, n[4] * 10 + n[5], n[6] * 10 + n[7])
}

/// Reads a vacation entry: a date or an inclusive range `FROM..TO`.
pub fn parse_vacation(s: &str) -> Result<(NaiveDate, NaiveDate), String> {
    match s.split_once("..") {
        Some((a, b)) => {
            let from = parse_date(a).map_err(|e| format!("range start: {e}"))?;
            let to = parse_date(b).map_err(|e| format!("range end: {e}"))?;
            if to < from {
                return Err(format!("range ends ({to}) before it starts ({from})"));
            }
            Ok((from, to))
        }
        None => parse_date(s).map(|d| (d, d)),
    }
}

/// Reads the vacation column: entries joined by `:`; empty entries are
/// skipped, so an empty column means no vacation.
pub fn parse_vacations(s: &str) -> Result<Vec<(NaiveDate, NaiveDate)>, String> {
    split_ascii(s, b':')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| parse_vacation(e).map_err(|m| format!("vacation {e:?}: {m}")))
        .collect()
}

/// Reads a rank: an integer, lower is more important.
pub fn parse_rank(s: &str) -> Result<i64, String> {
    let t = trim(s);
    formula(t)?;
    t.parse().map_err(|_| "rank is not an integer".to_owned())
}

/// Reads a triage column: a number, bucketed; empty means 3. The number
/// is read as exactly as an amount (at most nine decimals; more are
/// refused, not rounded), so the bucket never depends on a float.
pub fn parse_triage(s: &str) -> Result<Triage, String> {
    let t = trim(s);
    if t.is_empty() {
        return Ok(Triage::LOWEST);
    }
    // The five names, as a tool writes them, without reading a number.
    if let Some(i) = Triage::NAMES.iter().position(|n| *n == t) {
        return Ok(Triage::ALL[i]);
    }
    formula(t)?;
    match Amount::parse_signed(t) {
        Ok(x) => Ok(Triage::bucket(x)),
        Err(m) if m.ends_with("is not a number") => Err("triage is not a number".into()),
        Err(m) => Err(format!("triage: {m}")),
    }
}

/// Reads one amount in person-weeks: a non-negative decimal of at most
/// nine decimals, or a T-shirt size with an optional factor (`S`=1, `M`=2,
/// `L`=3, `Q`=13; `3S`=3). See [`Amount`] for why nine.
pub fn parse_amount(s: &str) -> Result<Amount, String> {
    let t = trim(s);
    formula(t)?;
    let bad = || format!("{t:?} is not a number or a T-shirt size (S, M, L, Q)");
    let size = match t.as_bytes().last().map(u8::to_ascii_uppercase) {
        Some(b'S') => Some(1),
        Some(b'M') => Some(2),
        Some(b'L') => Some(3),
        Some(b'Q') => Some(13),
        _ => None,
    };
    let amount = match size {
        Some(size) => {
            // The last byte is ASCII, so this slice is on a char boundary.
            let factor = trim(&t[..t.len() - 1]);
            let n = if factor.is_empty() {
                Amount::weeks(1).unwrap_or_default()
            } else {
                Amount::parse_signed(factor).map_err(|m| tshirt_error(m, &bad))?
            };
            n.units()
                .checked_mul(size)
                .map(Amount::from_units)
                .ok_or_else(|| format!("{t:?} is larger than {}", Amount::MAX_TEXT))?
        }
        None => Amount::parse_signed(t).map_err(|m| tshirt_error(m, &bad))?,
    };
    if amount.is_negative() {
        return Err(format!("amount {t:?} is negative"));
    }
    Ok(amount)
}

/// An amount's own message, or the general one when it is no number at all.
fn tshirt_error(m: String, bad: &impl Fn() -> String) -> String {
    if m.ends_with("is not a number") {
        bad()
    } else {
        m
    }
}

/// Reads an estimate: comma-separated `Skill:Amount`, each skill at most
/// once. `None` for an empty estimate ("not estimated").
pub fn parse_estimate(s: &str) -> Result<Option<Vec<(&str, Amount)>>, String> {
    let mut parts = Vec::with_capacity(2);
    Ok(parse_estimate_into(s, &mut parts)?.then_some(parts))
}

/// [`parse_estimate`] into a buffer the caller reuses; `false` when the
/// estimate is empty.
pub fn parse_estimate_into<'a>(
    s: &'a str,
    parts: &mut Vec<(&'a str, Amount)>,
) -> Result<bool, String> {
    parts.clear();
    let t = trim(s);
    if t.is_empty() {
        return Ok(false);
    }
    formula(t)?;
    for part in split_ascii(t, b',') {
        let part = trim(part);
        let Some((skill, amount)) = split_once_ascii(part, b':') else {
            return Err(format!("{part:?} is not Skill:Amount"));
        };
        let skill = trim(skill);
        if skill.is_empty() {
            return Err(format!("{part:?} names no skill"));
        }
        let amount = parse_amount(amount).map_err(|e| format!("skill {skill}: {e}"))?;
        if parts.iter().any(|(s, _)| *s == skill) {
            return Err(format!("skill {skill} appears twice"));
        }
        parts.push((skill, amount));
    }
    Ok(true)
}

/// Writes an amount in its shortest exact decimal form (`4.6`, `2`, `0.5`).
pub fn fmt_num(x: Amount) -> String {
    x.to_string()
}

/// [`fmt_num`] appending to a buffer.
pub fn push_num(buf: &mut String, x: Amount) {
    x.push_to(buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(parse_date("2013-10-07"), Ok(d("2013-10-07")));
        assert_eq!(parse_date("Oct 7, 2013"), Ok(d("2013-10-07")));
        assert_eq!(parse_date("Oct  7, 2013"), Ok(d("2013-10-07")));
        assert_eq!(parse_date(" Dec 25, 2013 "), Ok(d("2013-12-25")));
        for bad in [
            "",
            "2013-13-01",
            "2013-2-1",
            "7 Oct 2013",
            "Oct 32, 2013",
            "yesterday",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    /// Issue 20: `Oct 7, 13` was read as the year 13 AD, and a vacation
    /// written so fell silently outside the plan. A year is four digits,
    /// 1000 to 9999, in both forms; anything else names the year.
    #[test]
    fn short_signed_and_long_years_are_refused_naming_the_year() {
        for (bad, year) in [
            ("Oct 7, 13", "\"13\""),
            ("Oct 7, 0013", "\"0013\""),
            ("Oct 7, 213", "\"213\""),
            ("Oct 7, -13", "\"-13\""),
            ("Oct 7, -2013", "\"-2013\""),
            ("Oct 7, +2013", "\"+2013\""),
            ("Oct 7, 20130", "\"20130\""),
            ("0013-10-07", "\"0013\""),
            ("13-10-07", "\"13\""),
            ("-2013-10-07", "\"-2013\""),
            ("+2013-10-07", "\"+2013\""),
            ("-013-10-07", "\"-013\""),
            ("20130-10-07", "\"20130\""),
            ("0999-12-31", "\"0999\""),
        ] {
            let e = parse_date(bad).unwrap_err();
            assert!(e.starts_with(&format!("the year {year} ")), "{bad}: {e}");
        }
        assert_eq!(parse_date("1000-01-01"), Ok(d("1000-01-01")));
        assert_eq!(parse_date("9999-12-31"), Ok(d("9999-12-31")));
        assert_eq!(parse_date("Jan 1, 1000"), Ok(d("1000-01-01")));
        assert!(parse_date("2013-02-29")
            .unwrap_err()
            .contains("no such day"));
        assert!(parse_date("Feb 30, 2013")
            .unwrap_err()
            .contains("no such day"));
    }

    #[test]
    fn vacation_ranges() {
        assert_eq!(
            parse_vacations("2013-12-23..2013-12-27:2014-01-02"),
            Ok(vec![
                (d("2013-12-23"), d("2013-12-27")),
                (d("2014-01-02"), d("2014-01-02"))
            ])
        );
        assert_eq!(parse_vacations(""), Ok(vec![]));
        assert!(parse_vacations("2013-12-27..2013-12-23").is_err());
        assert!(parse_vacations("2013-12-27..").is_err());
    }

    #[test]
    fn triage_buckets() {
        let t = |s| parse_triage(s).unwrap().as_str();
        assert_eq!(t(""), "3");
        assert_eq!(t("0"), "1");
        assert_eq!(t("1"), "1");
        assert_eq!(t("1.2"), "1.5");
        assert_eq!(t("2"), "2");
        assert_eq!(t("2.4"), "2.5");
        assert_eq!(t("2.6"), "3");
        assert_eq!(t("7"), "3");
        assert!(parse_triage("high").is_err());
        assert!(parse_triage("NaN").is_err());
    }

    /// Issue 20: triage was bucketed through an f64, so a level just above
    /// a bound (`1.0000000000000001`) fell into the bucket below it. It is
    /// read as the same exact decimal as amounts: above the bound is the
    /// next bucket, and more decimals than an amount holds are refused.
    #[test]
    fn triage_is_bucketed_exactly() {
        let t = |s| parse_triage(s).unwrap().as_str();
        assert_eq!(t("1.000000001"), "1.5");
        assert_eq!(t("1.500000001"), "2");
        assert_eq!(t("2.000000000"), "2");
        assert_eq!(t("2.499999999"), "2.5");
        assert_eq!(t("2.500000001"), "3");
        assert_eq!(t("-4"), "1");
        assert_eq!(t("1e0"), "1");
        let e = parse_triage("1.0000000000000001").unwrap_err();
        assert!(e.contains("more than 9 decimals"), "{e}");
    }

    fn a(s: &str) -> Amount {
        Amount::parse_signed(s).unwrap()
    }

    #[test]
    fn amounts_and_tshirt_sizes() {
        assert_eq!(parse_amount("2"), Ok(a("2")));
        assert_eq!(parse_amount("0.5"), Ok(a("0.5")));
        assert_eq!(parse_amount("S"), Ok(a("1")));
        assert_eq!(parse_amount("M"), Ok(a("2")));
        assert_eq!(parse_amount("L"), Ok(a("3")));
        assert_eq!(parse_amount("Q"), Ok(a("13")));
        assert_eq!(parse_amount("3S"), Ok(a("3")));
        assert_eq!(parse_amount("2Q"), Ok(a("26")));
        assert_eq!(parse_amount("0.5M"), Ok(a("1")));
        assert_eq!(parse_amount("0.1Q"), Ok(a("1.3")));
        assert_eq!(parse_amount("-0"), Ok(a("0")));
        for bad in ["", "-1", "X", "3X", "inf", "NaN", "-2S", "1e400"] {
            assert!(parse_amount(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_that_cannot_be_held_exactly_are_refused_by_value() {
        let e = parse_amount("0.0000000001").unwrap_err();
        assert!(
            e.contains("\"0.0000000001\" has more than 9 decimals"),
            "{e}"
        );
        let e = parse_amount("0.0000000001S").unwrap_err();
        assert!(e.contains("more than 9 decimals"), "{e}");
        // 13 × 709,490,157 person-weeks is beyond the largest total.
        let e = parse_amount("709490157Q").unwrap_err();
        assert!(e.contains("\"709490157Q\" is larger than"), "{e}");
        assert_eq!(parse_amount("709490156Q"), Ok(a("9223372028")));
    }

    #[test]
    fn estimates() {
        assert_eq!(
            parse_estimate("Apps:2,Web:0.5"),
            Ok(Some(vec![("Apps", a("2")), ("Web", a("0.5"))]))
        );
        assert_eq!(
            parse_estimate("Apps:2, Web:L"),
            Ok(Some(vec![("Apps", a("2")), ("Web", a("3"))]))
        );
        assert_eq!(parse_estimate(""), Ok(None));
        assert!(parse_estimate("Apps:2,Apps:1").is_err());
        assert!(parse_estimate("Apps").is_err());
        assert!(parse_estimate(":2").is_err());
        assert!(parse_estimate("Apps:2,").is_err());
    }

    /// Issue 20: a formula exported instead of its value was reported cut
    /// at its first `:` (`skill =SUM(A1: "A3)" is not a number`).
    #[test]
    fn a_formula_is_named_whole() {
        let whole = "\"=SUM(A1:A3)\" is a spreadsheet formula, not a value";
        for e in [
            parse_estimate("=SUM(A1:A3)").unwrap_err(),
            parse_triage("=SUM(A1:A3)").unwrap_err(),
            parse_rank("=SUM(A1:A3)").unwrap_err(),
            parse_date("=SUM(A1:A3)").unwrap_err(),
            parse_amount("=SUM(A1:A3)").unwrap_err(),
        ] {
            assert!(e.starts_with(whole), "{e}");
        }
        let e = parse_estimate("Apps:=B2*2").unwrap_err();
        assert!(e.contains("\"=B2*2\" is a spreadsheet formula"), "{e}");
    }

    #[test]
    fn triage_names_read_as_their_numbers() {
        for name in Triage::NAMES {
            let x = Amount::parse_signed(name).unwrap();
            assert_eq!(parse_triage(name), Ok(Triage::bucket(x)));
            assert_eq!(parse_triage(name).unwrap().as_str(), name);
        }
    }

    proptest! {
        #[test]
        fn tab_fields_agree_with_split_ascii(s in "[a\t\\PC]{0,20}") {
            fn check<const N: usize>(s: &str) -> Result<(), TestCaseError> {
                let all: Vec<&str> = split_ascii(s, b'\t').collect();
                let (fields, n) = tab_fields::<N>(s);
                prop_assert_eq!(n, all.len().min(N));
                for (c, f) in fields.iter().enumerate() {
                    prop_assert_eq!(*f, all.get(c).copied().unwrap_or(""));
                }
                Ok(())
            }
            check::<1>(&s)?;
            check::<3>(&s)?;
            check::<6>(&s)?;
        }

        #[test]
        fn trim_agrees_with_str_trim(s in "[ \t\u{a0}\u{3000}a,:\\PC]{0,12}") {
            prop_assert_eq!(trim(&s), s.trim());
        }

        #[test]
        fn ascii_splits_agree_with_str_split(s in "[a,:\t\\PC]{0,30}") {
            for sep in [b',', b':', b'\t'] {
                let by_bytes: Vec<&str> = split_ascii(&s, sep).collect();
                let by_chars: Vec<&str> = s.split(char::from(sep)).collect();
                prop_assert_eq!(by_bytes, by_chars);
                prop_assert_eq!(split_once_ascii(&s, sep), s.split_once(char::from(sep)));
            }
        }

        #[test]
        fn iso_dates_read_directly_agree_with_chrono(y in 0u32..10000, m in 0u32..14, d in 0u32..33) {
            let s = format!("{y:04}-{m:02}-{d:02}");
            let chrono = NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok().filter(|_| y >= 1000);
            prop_assert_eq!(parse_date(&s).ok(), chrono);
        }

        /// Any date of the years a plan may have reads back from both forms
        /// as itself; any other year, however written, is refused.
        #[test]
        fn dates_round_trip_or_are_refused(y in -20000i32..20000, m in 1u32..13, d in 1u32..29, pad in 0usize..3) {
            let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m as usize - 1];
            let spaces = " ".repeat(pad + 1);
            let forms = [
                format!("{y:04}-{m:02}-{d:02}"),
                format!("{y}-{m:02}-{d:02}"),
                format!("{month}{spaces}{d}, {y}"),
                format!("{month} {d}, {y:04}"),
            ];
            for s in forms {
                match parse_date(&s) {
                    Ok(date) => {
                        prop_assert!(YEARS.contains(&y), "{s} read as {date}");
                        prop_assert_eq!(date, NaiveDate::from_ymd_opt(y, m, d).unwrap());
                        prop_assert_eq!(parse_date(&date.to_string()), Ok(date));
                    }
                    Err(e) => prop_assert!(!YEARS.contains(&y), "{s}: {e}"),
                }
            }
        }

        /// A triage read from a decimal lands in the bucket its exact
        /// value says, compared as integers of billionths.
        #[test]
        fn triage_buckets_agree_with_integer_comparison(units in -10_000_000_000i64..10_000_000_000) {
            let text = fmt_num(Amount::from_units(units));
            let want = match units {
                u if u <= 1_000_000_000 => "1",
                u if u <= 1_500_000_000 => "1.5",
                u if u <= 2_000_000_000 => "2",
                u if u <= 2_500_000_000 => "2.5",
                _ => "3",
            };
            prop_assert_eq!(parse_triage(&text).unwrap().as_str(), want);
        }

        #[test]
        fn field_parsers_never_panic(s in "\\PC{0,30}") {
            let _ = parse_date(&s);
            let _ = parse_vacations(&s);
            let _ = parse_rank(&s);
            let _ = parse_triage(&s);
            let _ = parse_amount(&s);
            let _ = parse_estimate(&s);
        }

        #[test]
        fn estimates_read_back_from_their_display(parts in proptest::collection::btree_map("[A-Z][a-z]{0,6}", 0i64..100_000_000_000, 1..5)) {
            let text: Vec<String> = parts.iter().map(|(k, v)| format!("{k}:{}", fmt_num(Amount::from_units(*v)))).collect();
            let joined = text.join(", ");
            let parsed = parse_estimate(&joined).unwrap().unwrap();
            let want: Vec<(&str, Amount)> = parts.iter().map(|(k, v)| (k.as_str(), Amount::from_units(*v))).collect();
            prop_assert_eq!(parsed, want);
        }
    }
}
