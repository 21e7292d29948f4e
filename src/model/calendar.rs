//! The plan's calendar: its days, which of them are workdays, and the
//! longest plan supported.

use rustc_hash::FxHashSet;

use chrono::{Datelike, NaiveDate, Weekday};

/// The longest plan supported, in days (ten years), so that a typo in the
/// end date is an error rather than gigabytes of calendar.
pub const MAX_DAYS: i64 = 3660;

/// The calendar of the plan: which days are workdays.
pub struct Calendar {
    pub start: NaiveDate,
    pub workday: Vec<bool>,
}

impl Calendar {
    pub fn new(start: NaiveDate, end: NaiveDate, holidays: &[NaiveDate]) -> Self {
        let holidays: FxHashSet<NaiveDate> = holidays.iter().copied().collect();
        let n = (end - start).num_days() + 1;
        let workday = start
            .iter_days()
            .take(n.max(0) as usize)
            .map(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&d))
            .collect();
        Calendar { start, workday }
    }

    pub fn days(&self) -> usize {
        self.workday.len()
    }

    /// The index of a date, when it lies in the plan.
    pub fn index(&self, d: NaiveDate) -> Option<usize> {
        let i = (d - self.start).num_days();
        (0..self.days() as i64).contains(&i).then_some(i as usize)
    }

    pub fn date(&self, i: usize) -> NaiveDate {
        self.start + chrono::Days::new(i as u64)
    }

    /// A person's vacation days that fall on workdays of the plan, sorted,
    /// each once.
    pub fn vacation_workdays(&self, vacation: &[(NaiveDate, NaiveDate)]) -> Vec<u32> {
        let mut days = Vec::new();
        for &(from, to) in vacation {
            let (Some(a), Some(b)) = (
                self.index(from.max(self.start)),
                self.index(to.min(self.date(self.days().saturating_sub(1)))),
            ) else {
                continue;
            };
            days.extend((a..=b).filter(|&d| self.workday[d]).map(|d| d as u32));
        }
        days.sort_unstable();
        days.dedup();
        days
    }
}
