//! Generates synthetic planning data for benchmarks (`make bench`).
//!
//! - `gen plan ITEMS PEOPLE TRACKS SKILLS DAYS [SEED] [OPTIONS]` writes
//!   conditioned v1 input streams;
//! - `gen raw ITEMS PEOPLE TRACKS SKILLS DAYS [SEED] [OPTIONS]` writes the
//!   same plan as raw sheets (`raw holidays`, `raw staff`, `raw work`, CSV),
//!   and `gen map …` (same arguments) the `qcondition --map` file that turns
//!   them into exactly what `gen plan … --dates text` writes;
//! - `gen stream MB [SEED]` writes a generic stacked stream of about MB
//!   megabytes (nested sections, varied line lengths) for the codec
//!   throughput benchmark.
//!
//! Options: `--sched N`, the number of scheduling skills (the first N; by
//! default half, at least one); `--dates text` writes holidays and
//! vacations as `Oct 7, 2013` (the default is ISO). Up to ten skills have
//! names (`Apps`, `Native`, …); more are `S000`, `S001`, …
//!
//! Same arguments, same bytes.

use std::io::{self, BufWriter, Write};

use chrono::{Datelike, NaiveDate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const USAGE: &str = "usage: gen plan|raw|map ITEMS PEOPLE TRACKS SKILLS DAYS [SEED] [--sched N] [--dates iso|text] | gen stream MB [SEED]";

fn main() -> io::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = Options::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--sched" => {
                let n = args.get(i + 1).and_then(|a| a.parse().ok());
                opts.sched = Some(n.unwrap_or_else(|| panic!("{USAGE} (bad --sched)")));
                args.drain(i..i + 2);
            }
            "--dates" => {
                opts.text_dates = match args.get(i + 1).map(String::as_str) {
                    Some("text") => true,
                    Some("iso") => false,
                    _ => panic!("{USAGE} (bad --dates)"),
                };
                args.drain(i..i + 2);
            }
            _ => i += 1,
        }
    }
    let arg = |i: usize, name: &str| -> u64 {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{USAGE} (bad {name})"))
    };
    let seed = |i: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(1);
    let out = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    let shape = |opts: Options| Shape {
        items: arg(1, "ITEMS"),
        people: arg(2, "PEOPLE"),
        tracks: arg(3, "TRACKS"),
        skills: arg(4, "SKILLS"),
        days: arg(5, "DAYS"),
        seed: seed(6),
        opts,
    };
    match args.first().map(String::as_str) {
        Some("plan") => shape(opts).write(&mut out, Form::Conditioned)?,
        Some("raw") => shape(opts).write(&mut out, Form::Raw)?,
        Some("map") => shape(opts).map(&mut out)?,
        Some("stream") => stream(&mut out, arg(1, "MB"), seed(2))?,
        _ => panic!("{USAGE}"),
    }
    out.flush()
}

#[derive(Default, Clone, Copy)]
struct Options {
    sched: Option<u64>,
    text_dates: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    /// `qplan … v1` sections, TAB-separated.
    Conditioned,
    /// `raw …` sections of CSV, as qpull would fetch spreadsheets.
    Raw,
}

struct Shape {
    items: u64,
    people: u64,
    tracks: u64,
    skills: u64,
    days: u64,
    seed: u64,
    opts: Options,
}

const SKILLS: [&str; 10] = [
    "Apps", "Native", "Web", "QA", "Data", "Infra", "Design", "ML", "Sec", "Docs",
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Shape {
    fn start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date")
    }

    fn date(&self, d: u64) -> NaiveDate {
        self.start() + chrono::Days::new(d)
    }

    fn end(&self) -> NaiveDate {
        self.date(self.days.saturating_sub(1))
    }

    /// A holiday or vacation date in the form asked for.
    fn day_text(&self, d: u64) -> String {
        let d = self.date(d);
        if self.opts.text_dates {
            format!("{} {}, {}", MONTHS[d.month0() as usize], d.day(), d.year())
        } else {
            d.to_string()
        }
    }

    fn skill_names(&self) -> Vec<String> {
        let n = self.skills.max(1) as usize;
        if n <= SKILLS.len() {
            SKILLS[..n].iter().map(|s| s.to_string()).collect()
        } else {
            (0..n).map(|i| format!("S{i:03}")).collect()
        }
    }

    /// The scheduling skills joined by `:`.
    fn sched(&self, skills: &[String]) -> String {
        let n = match self.opts.sched {
            Some(n) => (n as usize).clamp(1, skills.len()),
            None => skills.len().div_ceil(2),
        };
        skills[..n].join(":")
    }

    fn map(&self, out: &mut dyn Write) -> io::Result<()> {
        let skills = self.skill_names();
        let sched = self.sched(&skills);
        writeln!(
            out,
            "# The raw sheets of `gen raw`, conditioned into what `gen plan` writes.\n\
             [params]\nstart = \"{}\"\nend = \"{}\"\nskills = \"{sched}\"\n\n\
             [holidays]\nsource = \"holidays\"\ncolumn = \"Date\"\n\n\
             [staff]\nsource = \"staff\"\nlayout = \"table\"\nid = \"Id\"\nname = \"Name\"\n\
             team = \"Team\"\ntrack = \"Track\"\nskill = \"Role\"\nvacation = \"Vacation\"\n\n\
             [work]\nsource = \"work\"\nid = \"Key\"\nrank = \"Rank\"\nname = \"Summary\"\n\
             estimate = \"Estimate\"\ntriage = \"Triage\"\ntrack = \"Track\"",
            self.start(),
            self.end()
        )
    }

    fn write(&self, out: &mut dyn Write, form: Form) -> io::Result<()> {
        let raw = form == Form::Raw;
        // A CSV cell: quoted when it holds a comma (`Oct 7, 2013`).
        let cell = |s: &str| {
            if raw && s.contains(',') {
                format!("\"{s}\"")
            } else {
                s.to_owned()
            }
        };
        let sep = if raw { "," } else { "\t" };
        let mut rng = StdRng::seed_from_u64(self.seed);
        let skills = self.skill_names();
        let days = self.days;
        if !raw {
            let (start, end) = (self.start(), self.end());
            let sched = self.sched(&skills);
            writeln!(out, "=====qplan params v1\n\t{start}\t{end}\t{sched}")?;
        }
        if raw {
            writeln!(out, "=====raw holidays\n\tDate,Why")?;
        } else {
            writeln!(out, "=====qplan holidays v1")?;
        }
        for d in (20..days).step_by(45) {
            let why = if raw { ",office closed" } else { "" };
            writeln!(out, "\t{}{why}", cell(&self.day_text(d)))?;
        }
        if raw {
            writeln!(out, "=====raw staff\n\tId,Name,Team,Track,Role,Vacation")?;
        } else {
            writeln!(out, "=====qplan staff v1")?;
        }
        for p in 0..self.people {
            let track = rng.random_range(0..self.tracks);
            let skill = &skills[rng.random_range(0..skills.len())];
            write!(
                out,
                "\tP{p}{sep}Person {p}{sep}Team {}{sep}Track{track:03}{sep}{skill}{sep}",
                track % 7
            )?;
            // One person in three takes a week off, some a day too.
            if rng.random_ratio(1, 3) {
                let d = rng.random_range(0..days.max(1));
                let mut vac = format!("{}..{}", self.day_text(d), self.day_text(d + 4));
                if rng.random_ratio(1, 2) {
                    vac.push(':');
                    vac.push_str(&self.day_text(rng.random_range(0..days.max(1))));
                }
                out.write_all(cell(&vac).as_bytes())?;
            }
            writeln!(out)?;
        }
        if raw {
            writeln!(
                out,
                "=====raw work\n\tKey,Rank,Summary,Estimate,Triage,Track"
            )?;
        } else {
            writeln!(out, "=====qplan work v1")?;
        }
        const SIZES: [&str; 10] = ["S", "M", "L", "2S", "0.5", "1", "1.5", "2", "3", "4"];
        let mut estimate = String::new();
        for i in 0..self.items {
            let track = rng.random_range(0..self.tracks);
            let rank = rng.random_range(1..=self.items.max(1));
            write!(out, "\tW{i}{sep}{rank}{sep}Work item {i}{sep}")?;
            estimate.clear();
            if !rng.random_ratio(1, 50) {
                let n = rng.random_range(1..=3.min(skills.len()));
                let first = rng.random_range(0..skills.len());
                for k in 0..n {
                    if k > 0 {
                        estimate.push(',');
                    }
                    let skill = &skills[(first + k) % skills.len()];
                    estimate.push_str(skill);
                    estimate.push(':');
                    estimate.push_str(SIZES[rng.random_range(0..SIZES.len())]);
                }
            }
            let triage = ["1", "1.5", "2", "2.5", "3", ""][rng.random_range(0..6)];
            writeln!(out, "{}{sep}{triage}{sep}Track{track:03}", cell(&estimate))?;
        }
        writeln!(out, "=====end")
    }
}

fn stream(out: &mut dyn Write, mb: u64, seed: u64) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let target = mb * 1_000_000;
    let mut written = 0u64;
    let filler =
        "abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ\tfield\t".repeat(4);
    let mut section = 0;
    while written < target {
        let h = format!("=====bench section v1 {section}\n");
        out.write_all(h.as_bytes())?;
        written += h.len() as u64;
        for _ in 0..1000 {
            let nested = rng.random_ratio(1, 20);
            let len = rng.random_range(10..filler.len());
            let line = if nested {
                format!("\t=====nested {section}\n\t\t{}\n", &filler[..len])
            } else {
                format!("\t{}\n", &filler[..len])
            };
            out.write_all(line.as_bytes())?;
            written += line.len() as u64;
        }
        section += 1;
    }
    out.write_all(b"=====end\n")
}
