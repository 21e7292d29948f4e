//! Generates synthetic planning data for benchmarks (`make bench`).
//!
//! `gen plan ITEMS PEOPLE TRACKS SKILLS DAYS [SEED]` writes conditioned v1
//! input streams; `gen stream MB [SEED]` writes a generic stacked stream of
//! about MB megabytes (nested sections, varied line lengths) for the codec
//! throughput benchmark. Same arguments, same bytes.

use std::io::{self, BufWriter, Write};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn arg(args: &[String], i: usize, name: &str) -> u64 {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("usage: gen plan ITEMS PEOPLE TRACKS SKILLS DAYS [SEED] | gen stream MB [SEED] (bad {name})"))
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, out.lock());
    match args.first().map(String::as_str) {
        Some("plan") => plan(
            &mut out,
            arg(&args, 1, "ITEMS"),
            arg(&args, 2, "PEOPLE"),
            arg(&args, 3, "TRACKS"),
            arg(&args, 4, "SKILLS"),
            arg(&args, 5, "DAYS"),
            args.get(6).and_then(|s| s.parse().ok()).unwrap_or(1),
        )?,
        Some("stream") => stream(
            &mut out,
            arg(&args, 1, "MB"),
            args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1),
        )?,
        _ => {
            panic!("usage: gen plan ITEMS PEOPLE TRACKS SKILLS DAYS [SEED] | gen stream MB [SEED]")
        }
    }
    out.flush()
}

const SKILLS: [&str; 10] = [
    "Apps", "Native", "Web", "QA", "Data", "Infra", "Design", "ML", "Sec", "Docs",
];

fn plan(
    out: &mut dyn Write,
    items: u64,
    people: u64,
    tracks: u64,
    skills: u64,
    days: u64,
    seed: u64,
) -> io::Result<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    let skills = &SKILLS[..(skills as usize).clamp(1, SKILLS.len())];
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid date");
    let date = |d: u64| start + chrono::Days::new(d);
    let end = date(days.saturating_sub(1));
    // Scheduling skills: the first half (at least one).
    let sched = skills[..skills.len().div_ceil(2)].join(":");
    writeln!(out, "=====qplan params v1\n\t{start}\t{end}\t{sched}")?;
    writeln!(out, "=====qplan holidays v1")?;
    for d in (20..days).step_by(45) {
        writeln!(out, "\t{}", date(d))?;
    }
    writeln!(out, "=====qplan staff v1")?;
    for p in 0..people {
        let track = rng.random_range(0..tracks);
        let skill = skills[rng.random_range(0..skills.len())];
        write!(
            out,
            "\tP{p}\tPerson {p}\tTeam {}\tTrack{track:03}\t{skill}\t",
            track % 7
        )?;
        // One person in three takes a week off, some a day too.
        if rng.random_ratio(1, 3) {
            let d = rng.random_range(0..days.max(1));
            write!(out, "{}..{}", date(d), date(d + 4))?;
            if rng.random_ratio(1, 2) {
                write!(out, ":{}", date(rng.random_range(0..days.max(1))))?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "=====qplan work v1")?;
    const SIZES: [&str; 10] = ["S", "M", "L", "2S", "0.5", "1", "1.5", "2", "3", "4"];
    for i in 0..items {
        let track = rng.random_range(0..tracks);
        let rank = rng.random_range(1..=items.max(1));
        write!(out, "\tW{i}\t{rank}\tWork item {i}\t")?;
        if !rng.random_ratio(1, 50) {
            let n = rng.random_range(1..=3.min(skills.len()));
            let first = rng.random_range(0..skills.len());
            for k in 0..n {
                if k > 0 {
                    out.write_all(b",")?;
                }
                let skill = skills[(first + k) % skills.len()];
                write!(out, "{skill}:{}", SIZES[rng.random_range(0..SIZES.len())])?;
            }
        }
        let triage = ["1", "1.5", "2", "2.5", "3", ""][rng.random_range(0..6)];
        writeln!(out, "\t{triage}\tTrack{track:03}")?;
    }
    writeln!(out, "=====end")
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
