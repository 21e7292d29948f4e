//! Exact amounts of work and supply (SPEC sections 3 and 4): person-weeks as
//! an integer count of billionths.
//!
//! Why billionths of a person-week: a decimal amount with up to nine
//! decimals is a whole number of them, so reading, summing and writing are
//! exact however many amounts are added (50,000 items of 0.2 are exactly
//! 10,000); and a person-day (0.2 person-week) is exactly 200,000,000 of
//! them, so manpower (available days / 5) and the work to schedule
//! (5·e person-days) are whole numbers too. An `i64` then holds totals up to
//! about 9.2 billion person-weeks, far beyond any plan; a total beyond that
//! is refused as bad input (exit 65), never wrapped or rounded.
//!
//! An amount written with more decimals than nine (other than trailing
//! zeros) cannot be held exactly and is refused, naming the value, rather
//! than rounded: a planner who wrote it meant it.

use std::fmt;

/// Decimals an amount may have.
pub const DECIMALS: u32 = 9;
/// Units in one person-week.
pub const SCALE: i64 = 1_000_000_000;
/// Units in one person-day (a fifth of a person-week).
pub const DAY: i64 = SCALE / 5;

/// An amount in person-weeks, held exactly as billionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(i64);

impl Amount {
    pub const ZERO: Amount = Amount(0);
    /// The largest amount there is, in words for messages.
    pub const MAX_TEXT: &'static str = "9223372036.854775807 person-weeks";

    /// From a count of billionths of a person-week.
    pub const fn from_units(units: i64) -> Amount {
        Amount(units)
    }

    /// Whole person-weeks (`None` when that does not fit).
    pub fn weeks(n: i64) -> Option<Amount> {
        n.checked_mul(SCALE).map(Amount)
    }

    /// Whole person-days (`None` when that does not fit).
    pub fn days(n: i64) -> Option<Amount> {
        n.checked_mul(DAY).map(Amount)
    }

    /// The count of billionths of a person-week.
    pub const fn units(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Reads a decimal number: an optional sign, digits with an optional
    /// fraction (`2`, `0.5`, `.5`, `5.`), and an optional exponent (`1e3`,
    /// `2.5E-1`) as spreadsheets write. `inf`, `NaN`, hexadecimal and the
    /// like are not numbers here. The message says why not.
    pub fn parse_signed(s: &str) -> Result<Amount, String> {
        let t = s.trim();
        if let Some(a) = Self::parse_plain(t.as_bytes()) {
            return Ok(a);
        }
        Self::parse_general(t)
    }

    /// The usual form, read without the general machinery: an optional
    /// sign, up to 18 digits, an optional point and up to nine decimals, no
    /// exponent. `None` for anything else, and for a value that does not
    /// fit, so that [`Amount::parse_general`] gives the answer or says why
    /// not (the property test `plain_form_agrees_with_the_general_one`
    /// holds the two together).
    fn parse_plain(b: &[u8]) -> Option<Amount> {
        let (negative, b) = match b.first()? {
            b'-' => (true, &b[1..]),
            b'+' => (false, &b[1..]),
            _ => (false, b),
        };
        let point = b.iter().position(|&c| c == b'.');
        let (whole, frac) = match point {
            Some(p) => (&b[..p], &b[p + 1..]),
            None => (b, &b[..0]),
        };
        if whole.len() + frac.len() == 0 || whole.len() > 18 || frac.len() > DECIMALS as usize {
            return None;
        }
        let mut w: i64 = 0;
        for &c in whole {
            if !c.is_ascii_digit() {
                return None;
            }
            w = w * 10 + i64::from(c - b'0');
        }
        let mut f: i64 = 0;
        for &c in frac {
            if !c.is_ascii_digit() {
                return None;
            }
            f = f * 10 + i64::from(c - b'0');
        }
        f *= 10i64.pow(DECIMALS - frac.len() as u32);
        let units = w.checked_mul(SCALE)?.checked_add(f)?;
        Some(Amount(if negative { -units } else { units }))
    }

    /// [`Amount::parse_signed`] of any form, on trimmed text.
    fn parse_general(t: &str) -> Result<Amount, String> {
        let not_a_number = || format!("{t:?} is not a number");
        let b = t.as_bytes();
        let mut i = 0;
        let negative = match b.first() {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        // The digits, without the point; `point` is how many came before it.
        let mut digits: Vec<u8> = Vec::with_capacity(b.len());
        let mut point = None;
        while i < b.len() {
            match b[i] {
                c @ b'0'..=b'9' => digits.push(c - b'0'),
                b'.' if point.is_none() => point = Some(digits.len()),
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() {
            return Err(not_a_number());
        }
        let mut exponent: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let sign = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    -1
                }
                Some(b'+') => {
                    i += 1;
                    1
                }
                _ => 1,
            };
            let from = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Capped: an exponent this large is out of range either way.
                exponent = (exponent * 10 + i64::from(b[i] - b'0')).min(1_000_000);
                i += 1;
            }
            if i == from {
                return Err(not_a_number());
            }
            exponent *= sign;
        }
        if i != b.len() {
            return Err(not_a_number());
        }
        // The value is 0.d1d2d3… × 10^(point + exponent); in units it is
        // the digits shifted so that DECIMALS of them are after the point.
        let int_digits = point.unwrap_or(digits.len()) as i64 + exponent;
        let first = digits.iter().position(|&d| d != 0);
        let last = digits.iter().rposition(|&d| d != 0);
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(Amount::ZERO);
        };
        // Position of each digit's place, counted as a power of ten.
        let place = |k: usize| int_digits - 1 - k as i64;
        if place(last) < -(DECIMALS as i64) {
            return Err(format!(
                "{t:?} has more than {DECIMALS} decimals, which an amount cannot hold exactly"
            ));
        }
        let too_large = || format!("{t:?} is larger than {}", Amount::MAX_TEXT);
        if place(first) > 18 {
            return Err(too_large());
        }
        let mut units: i64 = 0;
        for (k, &d) in digits.iter().enumerate().take(last + 1).skip(first) {
            let power = place(k) + DECIMALS as i64;
            // power ≥ 0 here, and ≤ 27 at most; 10^19 already overflows.
            let term = (power <= 18)
                .then(|| 10i64.checked_pow(power as u32))
                .flatten()
                .and_then(|p| p.checked_mul(i64::from(d)));
            let next = term.and_then(|t| {
                if negative {
                    units.checked_sub(t)
                } else {
                    units.checked_add(t)
                }
            });
            units = match next {
                Some(u) => u,
                None if d == 0 => units,
                None => return Err(too_large()),
            };
        }
        Ok(Amount(units))
    }

    /// Writes the amount in its shortest exact decimal form: `4.6`, `2`,
    /// `0.5`, `-1.5`.
    pub fn push_to(self, buf: &mut String) {
        let abs = self.0.unsigned_abs();
        let whole = abs / SCALE as u64;
        let mut frac = abs % SCALE as u64;
        if self.0 < 0 {
            buf.push('-');
        }
        buf.push_str(itoa::Buffer::new().format(whole));
        if frac != 0 {
            let mut width = DECIMALS as usize;
            while frac.is_multiple_of(10) {
                frac /= 10;
                width -= 1;
            }
            buf.push('.');
            let digits = itoa::Buffer::new().format(frac).len();
            buf.extend(std::iter::repeat_n('0', width - digits));
            buf.push_str(itoa::Buffer::new().format(frac));
        }
    }

    /// The nearest `f64`, for JSON: exact to the digit when the amount has
    /// at most 15 significant digits.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.push_to(&mut s);
        f.write_str(&s)
    }
}

impl serde::Serialize for Amount {
    /// A JSON number with the exact decimal digits: as an `f64` when that
    /// reads back to the same digits (up to 15 significant digits), else
    /// as the decimal text itself.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.unsigned_abs() <= 999_999_999_999_999 {
            s.serialize_f64(self.to_f64())
        } else {
            let raw = serde_json::value::RawValue::from_string(self.to_string())
                .map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<Amount, String> {
        Amount::parse_signed(s)
    }

    #[test]
    fn decimals_read_exactly() {
        assert_eq!(p("2"), Ok(Amount(2 * SCALE)));
        assert_eq!(p("0.2"), Ok(Amount(200_000_000)));
        assert_eq!(p(".5"), Ok(Amount(500_000_000)));
        assert_eq!(p("5."), Ok(Amount(5 * SCALE)));
        assert_eq!(p("+1.25"), Ok(Amount(1_250_000_000)));
        assert_eq!(p("-1.5"), Ok(Amount(-1_500_000_000)));
        assert_eq!(p("-0"), Ok(Amount(0)));
        assert_eq!(p("0.000000001"), Ok(Amount(1)));
        assert_eq!(p("1e3"), Ok(Amount(1000 * SCALE)));
        assert_eq!(p("2.5E-1"), Ok(Amount(250_000_000)));
        assert_eq!(p("1e-9"), Ok(Amount(1)));
        // Trailing zeros past the ninth decimal change nothing.
        assert_eq!(p("0.10000000000000"), Ok(Amount(100_000_000)));
        assert_eq!(p("0e99999999999"), Ok(Amount(0)));
        assert_eq!(p("9223372036.854775807"), Ok(Amount(i64::MAX)));
        assert_eq!(p("-9223372036.854775808"), Ok(Amount(i64::MIN)));
    }

    #[test]
    fn what_cannot_be_held_exactly_is_refused() {
        for bad in [
            "", "-", ".", "e3", "1e", "1.2.3", "inf", "NaN", "0x10", "1 2",
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.contains("not a number"), "{bad}: {e}");
        }
        for bad in ["0.0000000001", "1.0000000005", "1e-10"] {
            let e = p(bad).unwrap_err();
            assert!(e.contains("more than 9 decimals"), "{bad}: {e}");
        }
        for bad in [
            "9223372036.854775808",
            "1e10",
            "99999999999999999999",
            "1e400",
        ] {
            let e = p(bad).unwrap_err();
            assert!(e.contains("larger than"), "{bad}: {e}");
        }
    }

    #[test]
    fn shortest_exact_form() {
        let f = |u: i64| Amount(u).to_string();
        assert_eq!(f(4_600_000_000), "4.6");
        assert_eq!(f(2 * SCALE), "2");
        assert_eq!(f(500_000_000), "0.5");
        assert_eq!(f(-1_500_000_000), "-1.5");
        assert_eq!(f(-500_000_000), "-0.5");
        assert_eq!(f(0), "0");
        assert_eq!(f(1), "0.000000001");
        assert_eq!(f(2_250_000_000), "2.25");
        assert_eq!(f(1_020_000_000), "1.02");
        assert_eq!(f(i64::MAX), "9223372036.854775807");
        assert_eq!(f(i64::MIN), "-9223372036.854775808");
    }

    #[test]
    fn a_person_day_is_a_fifth_of_a_week() {
        assert_eq!(Amount::days(5), Amount::weeks(1));
        assert_eq!(Amount::days(1), p("0.2").ok());
        assert_eq!(Amount::weeks(i64::MAX), None);
    }

    #[test]
    fn json_numbers_keep_their_digits() {
        let j = |s: &str| serde_json::to_string(&p(s).unwrap()).unwrap();
        assert_eq!(j("0.1"), "0.1");
        assert_eq!(j("4.6"), "4.6");
        assert_eq!(j("2"), "2.0");
        assert_eq!(j("123456.123456789"), "123456.123456789");
        assert_eq!(j("1234567.123456789"), "1234567.123456789");
        assert_eq!(j("-9223372036.854775808"), "-9223372036.854775808");
    }

    proptest! {
        #[test]
        fn written_amounts_read_back(u in any::<i64>()) {
            prop_assert_eq!(p(&Amount(u).to_string()), Ok(Amount(u)));
        }

        #[test]
        fn decimals_agree_with_integer_arithmetic(whole in 0u32..1_000_000, frac in 0u32..1_000_000_000) {
            let text = format!("{whole}.{frac:09}");
            prop_assert_eq!(p(&text), Ok(Amount(i64::from(whole) * SCALE + i64::from(frac))));
        }

        #[test]
        fn plain_form_agrees_with_the_general_one(s in "[+-]?[0-9]{0,20}(\\.[0-9]{0,11})?") {
            if let Some(a) = Amount::parse_plain(s.as_bytes()) {
                prop_assert_eq!(Amount::parse_general(&s), Ok(a));
            }
        }

        #[test]
        fn plain_form_reads_what_it_can(whole in 0i64..999_999_999, frac in 0i64..1_000_000_000, negative: bool) {
            let text = format!("{}{whole}.{frac:09}", if negative { "-" } else { "" });
            let units = whole * SCALE + frac;
            prop_assert_eq!(Amount::parse_plain(text.as_bytes()), Some(Amount(if negative { -units } else { units })));
        }

        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = p(&s);
        }
    }
}
