//! The dev-complete schedule (SPEC section 4, step 4): items laid out day by
//! day on the availability of one scheduling skill, with limited parallelism.
//!
//! A [`Pool`] is the per-day count of available people of one skill in one
//! track. Placing an item walks the days from the start and takes on each day
//! `min(people left that day, people at once, work left)`. Days that are used
//! up are skipped with a union-find "next day with people left" pointer, so a
//! walk costs the days it takes from, not the days already exhausted; once a
//! pool is empty every further item is `DNF` at once.
//!
//! Availability and work are counted in [`Amount`] units, so 5 × 2.2
//! person-weeks is exactly 11 person-days and no tolerance is needed.

use crate::model::amount::{Amount, DAY};

#[derive(Clone)]
pub struct Pool {
    /// People left per day, in units of [`Amount`] (a person-day is
    /// [`DAY`] of them), so that taking work off a day is exact.
    avail: Vec<i64>,
    /// `next[d]` leads to the first day ≥ d with people left; `next[n] = n`.
    next: Vec<u32>,
}

impl Pool {
    /// A pool from the per-day count of available people.
    pub fn new(people: impl IntoIterator<Item = u32>) -> Self {
        let avail: Vec<i64> = people.into_iter().map(|p| i64::from(p) * DAY).collect();
        let n = avail.len();
        let next = (0..=n)
            .map(|d| {
                if d < n && avail[d] <= 0 {
                    d as u32 + 1
                } else {
                    d as u32
                }
            })
            .collect();
        Pool { avail, next }
    }

    /// The first day ≥ `d` with people left (`len` when none), halving the
    /// path on the way.
    fn find(&mut self, mut d: usize) -> usize {
        loop {
            let p = self.next[d] as usize;
            if p == d {
                return d;
            }
            let pp = self.next[p];
            self.next[d] = pp;
            d = p;
        }
    }

    /// The number of people who can work at once on an amount `e`: 1 up
    /// to 2 person-weeks, else ⌊e/2⌋.
    pub fn people_at_once(e: Amount) -> i64 {
        let two_weeks = 2 * crate::model::amount::SCALE;
        if e.units() <= two_weeks {
            1
        } else {
            e.units() / two_weeks
        }
    }

    /// Places `e` person-weeks (5·e person-days); returns the day (index
    /// from the start) on which the work reaches zero, or `None` when the
    /// days run out — the availability taken stays taken.
    pub fn place(&mut self, e: Amount) -> Option<usize> {
        // 5·e person-days is e person-weeks: the same count of units.
        let mut left = e.units();
        if left <= 0 {
            return Some(0);
        }
        // At most e / 10 units, so this cannot overflow.
        let at_once = Self::people_at_once(e) * DAY;
        let n = self.avail.len();
        let mut d = self.find(0);
        while d < n {
            let take = self.avail[d].min(at_once).min(left);
            self.avail[d] -= take;
            left -= take;
            if self.avail[d] == 0 {
                self.next[d] = d as u32 + 1;
            }
            if left == 0 {
                return Some(d);
            }
            d = self.find(d + 1);
        }
        None
    }

    /// What is left on day `d`, in person-weeks (for tests and reports).
    pub fn left(&self, d: usize) -> Amount {
        Amount::from_units(self.avail[d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Person-weeks.
    fn w(s: &str) -> Amount {
        Amount::parse_signed(s).unwrap()
    }

    /// Person-days, in the person-weeks [`Pool::left`] gives.
    fn days(s: &str) -> Amount {
        Amount::from_units(w(s).units() / 5)
    }

    #[test]
    fn one_person_item_takes_one_person_a_day() {
        // Two people every day; an item of 1 person-week takes 5 days at one
        // person a day, leaving one person each of those days.
        let mut p = Pool::new(vec![2; 10]);
        assert_eq!(p.place(w("1.0")), Some(4));
        assert_eq!(p.left(0), days("1.0"));
        assert_eq!(p.left(5), days("2.0"));
        // The next item runs beside it on the spare person.
        assert_eq!(p.place(w("1.0")), Some(4));
        assert_eq!(p.place(w("1.0")), Some(9));
    }

    #[test]
    fn large_item_uses_several_people_at_once() {
        // 6 person-weeks: 3 people at once, 30 person-days → 10 days with 3.
        assert_eq!(Pool::people_at_once(w("6.0")), 3);
        assert_eq!(Pool::people_at_once(w("2.0")), 1);
        assert_eq!(Pool::people_at_once(w("3.9")), 1);
        let mut p = Pool::new(vec![4; 20]);
        assert_eq!(p.place(w("6.0")), Some(9));
        assert_eq!(p.left(9), days("1.0"));
    }

    #[test]
    fn limited_by_people_left_that_day() {
        // 3 people at once wanted, only 1 on the first two days.
        let mut p = Pool::new(vec![1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
        // 30 person-days: 1 + 1 + 3·9 = 29 after day 10, 30 on day 11.
        assert_eq!(p.place(w("6.0")), Some(11));
    }

    #[test]
    fn skips_days_without_people() {
        let mut p = Pool::new(vec![0, 0, 1, 0, 1]);
        assert_eq!(p.place(w("0.2")), Some(2));
        assert_eq!(p.place(w("0.2")), Some(4));
        assert_eq!(p.place(w("0.2")), None);
    }

    #[test]
    fn running_out_of_days_is_dnf_and_keeps_what_it_took() {
        let mut p = Pool::new(vec![1; 3]);
        assert_eq!(p.place(w("1.0")), None);
        assert_eq!(p.left(0), days("0.0"));
        assert_eq!(p.left(2), days("0.0"));
        assert_eq!(p.place(w("0.1")), None);
    }

    #[test]
    fn fractional_estimates_are_exact() {
        // 5 × 2.2 is 11.000000000000002 in binary floating point; here it is
        // exactly 11 days.
        let mut p = Pool::new(vec![1; 11]);
        assert_eq!(p.place(w("2.2")), Some(10));
    }

    #[test]
    fn zero_work_is_done_on_the_first_day() {
        let mut p = Pool::new(vec![0; 3]);
        assert_eq!(p.place(w("0.0")), Some(0));
    }

    #[test]
    fn fractional_leftovers_are_shared() {
        // Half a person-day left on day 0 after the first item.
        let mut p = Pool::new(vec![1, 1]);
        assert_eq!(p.place(w("0.1")), Some(0));
        assert_eq!(p.left(0), days("0.5"));
        assert_eq!(p.place(w("0.2")), Some(1));
        assert_eq!(p.left(1), days("0.5"));
    }
}
