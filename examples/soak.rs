//! The soak benchmark of `bench/soak.sh` (issue 27): a year of puts, and
//! whether puts and the daemons stay flat as the store grows.
//!
//! - `soak bus BIN WORK N [STEP]`: N PUTs over the bus into a fresh store
//!   (one client, one PUT at a time, each a commit of `qplan raw`), with
//!   `qsnap serve`, `qwatch --bus` (running `true` on every new head),
//!   `qwhatif serve` (the page) and `qwhatif serve --bus` running; every
//!   100 puts one WHATIF over the bus and one page load. Every STEP puts a
//!   row: the puts so far, the median and p90 latency of the last STEP
//!   PUTs (ms), and each daemon's resident memory (VmRSS, KiB); on
//!   stderr, `rss-detail` lines say how much of each is anonymous (heap,
//!   stacks, malloc arenas) and how much file-backed (mapped packs).
//! - `soak local BIN WORK N [STEP]`: the same with N local `qsnap put`s
//!   (a process each, as cron runs them) and `qwatch --repo` running.
//! - `soak build STORE N`: a store of N commits through `git fast-import`
//!   (the fastest way): `qplan raw`, `conditioned` and `results` in turn,
//!   15 minutes apart, with the trailers a put writes.
//! - `soak compare BIN FRESH BIG RUNS`: RUNS local puts into each of two
//!   stores, in turn (fresh, big, fresh, ...: a drift of the machine's
//!   speed hits both), and the medians and their ratio.
//!
//! BIN is the directory of the release binaries. Rows are `key value`
//! lines or whitespace-separated tables, read by `bench/soak.sh`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qplan::bus::Client;
use qplan::snap::check::DataDigest;
use qplan::snap::history;
use qplan::snap::{Resource, Store};
use qplan::stream::Reader;

const WAIT: Duration = Duration::from_secs(60);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, default: u64| -> u64 {
        args.get(i)
            .map(|s| s.parse().expect("a number"))
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("bus") if args.len() >= 4 => bus(
            Path::new(&args[1]),
            Path::new(&args[2]),
            num(3, 10_000),
            num(4, 1_000),
        ),
        Some("local") if args.len() >= 4 => local(
            Path::new(&args[1]),
            Path::new(&args[2]),
            num(3, 3_000),
            num(4, 500),
        ),
        Some("build") if args.len() >= 3 => build(Path::new(&args[1]), num(2, 100_000)),
        Some("compare") if args.len() >= 5 => compare(
            Path::new(&args[1]),
            Path::new(&args[2]),
            Path::new(&args[3]),
            num(4, 200),
        ),
        _ => {
            eprintln!(
                "usage: soak bus BIN WORK N [STEP] | soak local BIN WORK N [STEP] | \
                 soak build STORE N | soak compare BIN FRESH BIG RUNS"
            );
            std::process::exit(2);
        }
    }
}

/// A daemon started for the run, stopped (SIGTERM) when dropped.
struct Daemon {
    name: &'static str,
    child: Child,
}

impl Daemon {
    fn start(name: &'static str, cmd: &mut Command) -> Daemon {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Daemon { name, child }
    }

    /// Resident memory in KiB, from /proc.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{} is not running", self.name))
    }

    /// What the resident memory is made of, in KiB, from
    /// `/proc/PID/smaps_rollup`: anonymous (the heap, thread stacks,
    /// malloc arenas) and file-backed (mapped pack windows and indexes,
    /// the binary and its libraries).
    fn rss_parts(&self) -> (u64, u64) {
        let rollup = std::fs::read_to_string(format!("/proc/{}/smaps_rollup", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| -> u64 {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        let rss = field("Rss:");
        let anon = field("Anonymous:");
        (anon, rss.saturating_sub(anon))
    }

    /// The `rss-detail` line on stderr: puts so far, then the daemon's
    /// anonymous and file-backed resident KiB.
    fn detail(&self, puts: u64) {
        let (anon, file) = self.rss_parts();
        eprintln!(
            "rss-detail {puts} {} anon_kib {anon} file_kib {file}",
            self.name.replace(' ', "_")
        );
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a child of ours that has not been reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

fn stream(i: u64) -> String {
    format!("=====soak data v1\n\tput\t{i}\n=====end\n")
}

/// The median and the 90th percentile, in milliseconds.
fn quantiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() - 1) as f64 * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.9))
}

fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come up");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn connect(url: &str) -> Client {
    let mut client = None;
    wait_for(url, || {
        client = Client::connect(url, None, WAIT)
            .and_then(|c| c.heads().map(|_| c))
            .ok();
        client.is_some()
    });
    client.expect("connected")
}

fn fresh(work: &Path) -> PathBuf {
    let _ = std::fs::remove_dir_all(work);
    std::fs::create_dir_all(work).expect("work dir");
    work.join("store")
}

fn bus(bin: &Path, work: &Path, n: u64, step: u64) {
    let store = fresh(work);
    let ipc = |name: &str| format!("ipc://{}", work.join(name).display());
    let (rep, publish, whatif_url) = (ipc("rep.sock"), ipc("pub.sock"), ipc("whatif.sock"));
    let serve = Daemon::start(
        "qsnap serve",
        Command::new(bin.join("qsnap"))
            .arg("--repo")
            .arg(&store)
            .args(["-q", "serve", "--rep", &rep, "--pub", &publish]),
    );
    let client = connect(&rep);
    // What the page and the what-ifs read: the fixture quarter.
    let quarter = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/quarter");
    let conditioned = std::fs::read(quarter.join("conditioned.txt")).expect("fixture");
    let results = Command::new(bin.join("qplan"))
        .stdin(std::fs::File::open(quarter.join("conditioned.txt")).expect("fixture"))
        .output()
        .expect("qplan");
    assert!(results.status.success(), "qplan failed");
    let res = |stage: &str| Resource::new("qplan", stage).expect("name");
    client
        .put(&res("conditioned"), "soak-conditioned", &conditioned)
        .expect("put conditioned");
    client
        .put(&res("results"), "soak-results", &results.stdout)
        .expect("put results");
    let watch = Daemon::start(
        "qwatch --bus",
        Command::new(bin.join("qwatch"))
            .args(["-q", "--bus", &rep, "--state"])
            .arg(work.join("watch.checkpoint"))
            .args(["qplan", "raw", "--", "true"]),
    );
    let page_file = work.join("page.addr");
    let page = Daemon::start(
        "qwhatif serve",
        Command::new(bin.join("qwhatif"))
            .args(["serve", "-q", "--http", "127.0.0.1:0", "--repo"])
            .arg(&store)
            .arg("--ready-file")
            .arg(&page_file),
    );
    let whatif = Daemon::start(
        "qwhatif serve --bus",
        Command::new(bin.join("qwhatif"))
            .args(["serve", "-q", "--bus", &whatif_url, "--repo"])
            .arg(&store),
    );
    wait_for("the page", || page_file.exists());
    let page_url = std::fs::read_to_string(&page_file).expect("page address");
    let page_url = page_url.trim().to_owned();
    wait_for("the what-if bus", || work.join("whatif.sock").exists());
    let whatif_client = Client::connect(&whatif_url, None, WAIT).expect("whatif bus");
    let script = "end 2014-01-31\nadd staff \"New hire\" track=Tenor skill=Apps count=2";
    let daemons = [&serve, &watch, &page, &whatif];
    print!("puts median_ms p90_ms");
    for d in daemons {
        let words: Vec<&str> = d.name.split([' ', '-']).filter(|w| !w.is_empty()).collect();
        print!(" {}_kib", words.join("_"));
    }
    println!();
    let raw = res("raw");
    let mut window = Vec::with_capacity(step as usize);
    let (mut whatifs, mut pages) = (0u64, 0u64);
    for i in 1..=n {
        let body = stream(i);
        let t = Instant::now();
        client
            .put(&raw, &format!("soak-{i}"), body.as_bytes())
            .unwrap_or_else(|e| panic!("put {i}: {e}"));
        window.push(t.elapsed());
        if i % 100 == 0 {
            let answer = whatif_client.whatif("qplan", None, script);
            whatifs += u64::from(answer.is_ok());
            let got = ureq::get(&page_url).call();
            pages += u64::from(got.is_ok_and(|r| r.status() == 200));
        }
        if i % step == 0 {
            let (p50, p90) = quantiles(&mut window);
            window.clear();
            print!("{i} {p50:.2} {p90:.2}");
            for d in daemons {
                print!(" {}", d.rss_kib());
            }
            println!();
            for d in daemons {
                d.detail(i);
            }
            let _ = std::io::stdout().flush();
        }
    }
    println!("whatifs_answered {whatifs}");
    println!("pages_loaded {pages}");
}

fn local(bin: &Path, work: &Path, n: u64, step: u64) {
    let store = fresh(work);
    put_local(bin, &store, 0);
    let watch = Daemon::start(
        "qwatch --repo",
        Command::new(bin.join("qwatch"))
            .args(["-q", "--repo"])
            .arg(&store)
            .args(["qplan", "raw", "--", "true"]),
    );
    println!("puts median_ms p90_ms qwatch_repo_kib");
    let mut window = Vec::with_capacity(step as usize);
    for i in 1..=n {
        window.push(put_local(bin, &store, i));
        if i % step == 0 {
            let (p50, p90) = quantiles(&mut window);
            window.clear();
            println!("{i} {p50:.2} {p90:.2} {}", watch.rss_kib());
            watch.detail(i);
            let _ = std::io::stdout().flush();
        }
    }
}

/// One `qsnap put qplan raw` process; its wall time.
fn put_local(bin: &Path, store: &Path, i: u64) -> Duration {
    let t = Instant::now();
    let mut child = Command::new(bin.join("qsnap"))
        .arg("--repo")
        .arg(store)
        .args(["-q", "put", "qplan", "raw"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("qsnap put");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream(i).as_bytes())
        .expect("writing the put");
    let status = child.wait().expect("qsnap put");
    assert!(status.success(), "put {i} failed: {status}");
    t.elapsed()
}

/// The SHA-256 of a stream's data, as a put records it.
fn digest(stream: &str) -> String {
    let mut reader = Reader::new(stream.as_bytes());
    let mut d = DataDigest::default();
    while let Some(e) = reader.next_event().expect("stream") {
        d.event(&e);
    }
    d.finish().0
}

fn build(dir: &Path, n: u64) {
    let _ = std::fs::remove_dir_all(dir);
    Store::init(dir).expect("store");
    let mut fi = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import (is git installed?)");
    let mut input = std::io::BufWriter::new(fi.stdin.take().expect("stdin"));
    let stages = ["raw", "conditioned", "results"];
    let start: u64 = 1_700_000_000;
    for i in 0..n {
        let stage = stages[(i % 3) as usize];
        let res = Resource::new("qplan", stage).expect("name");
        let content = format!("=====soak data v1\n\t{stage}\t{i}\n=====end\n");
        let message = history::commit_message(&res, None, &[], &digest(&content));
        write!(
            input,
            "commit refs/heads/main\ncommitter qsnap <qsnap@localhost> {} +0000\ndata {}\n{}\n\
             M 100644 inline {}\ndata {}\n{}\n",
            start + 900 * i,
            message.len(),
            message,
            res.path(),
            content.len(),
            content
        )
        .expect("feeding fast-import");
    }
    drop(input);
    let status = fi.wait().expect("git fast-import");
    assert!(status.success(), "git fast-import failed: {status}");
    println!("commits {n}");
}

fn compare(bin: &Path, a: &Path, b: &Path, runs: u64) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    // Numbered past anything a store holds: every put is a new version.
    let base = 1_000_000_000 + u64::from(std::process::id()) * 1_000_000;
    for i in 0..runs {
        ta.push(put_local(bin, a, base + i));
        tb.push(put_local(bin, b, base + i));
    }
    let (a50, a90) = quantiles(&mut ta);
    let (b50, b90) = quantiles(&mut tb);
    println!("a_median_ms {a50:.2}");
    println!("a_p90_ms {a90:.2}");
    println!("b_median_ms {b50:.2}");
    println!("b_p90_ms {b90:.2}");
    println!("ratio {:.2}", b50 / a50);
}
