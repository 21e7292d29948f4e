//! The bus benchmark of `bench/bus.sh` (issue 11): runs `qsnap serve` (the
//! release binary) on ipc sockets over a fresh store and measures
//!
//! 1. **PUTs over the bus**: puts per second through REQ/REP, and the
//!    same puts made locally, for the cost of the bus.
//! 2. **local put → event**: puts made in this process (the library's
//!    locked put, as `qsnap put` does) and the time until the subscriber
//!    receives each one's event, p50 and p99.
//! 3. **events through the service**: N commits are made beside main (no
//!    ref moves), then main jumps to the last in one move, as a pull would
//!    do; the service announces one event per commit. A subscriber counts
//!    what it receives, detects every gap by sequence number and resyncs
//!    with HEADS as a watcher would; the time runs from the move until the
//!    subscriber has accounted for all N sequence numbers (received or
//!    covered by a resync). It then checks that the final HEADS is the
//!    store's head at sequence N. Events still queued for the subscriber
//!    after that are counted as received.
//!
//! Usage: `bus_bench QSNAP WORKDIR [N]`; prints `key value` lines.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use git2::{Oid, Repository, Signature};
use qplan::bus::{Client, Message, Subscriber};
use qplan::snap::{Put, Resource, Store};

const WAIT: Duration = Duration::from_secs(60);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, qsnap, work, rest @ ..] = args.as_slice() else {
        eprintln!("usage: bus_bench QSNAP WORKDIR [N]");
        std::process::exit(2);
    };
    let n: u64 = rest.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let work = PathBuf::from(work);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");
    let store_dir = work.join("store");
    let raw = Resource::new("qplan", "raw").expect("name");
    let store = Store::init(&store_dir).expect("store").0;
    put(&store, &raw, 0);

    let rep = format!("ipc://{}", work.join("rep.sock").display());
    let publish = format!("ipc://{}", work.join("pub.sock").display());
    let mut service = Service(start(qsnap, &store_dir, &rep, &publish));
    let client = connect(&rep);
    let mut sub = Subscriber::connect(&publish, ["qplan raw"]).expect("subscribe");
    wait_heartbeat(&mut sub);

    // 1. PUTs over the bus, and the same puts made locally, in a fresh store.
    let m = 300u64;
    let t = Instant::now();
    for i in 0..m {
        let body = format!("=====bench data v1\n\tbus put\t{i}\n=====end\n");
        client
            .put(&raw, &format!("bench-{i}"), body.as_bytes())
            .expect("put");
    }
    println!(
        "bus_puts_per_second {:.0}",
        m as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for i in 0..m {
        put(&store, &raw, 1_000_000 + i);
    }
    println!(
        "local_puts_per_second {:.0}",
        m as f64 / t.elapsed().as_secs_f64()
    );
    while let Ok(Some(_)) = sub.recv(Duration::from_millis(200)) {}

    // 2. Local put -> event latency.
    let mut lat = Vec::new();
    for i in 1..=200u64 {
        let done = match put(&store, &raw, 2_000_000 + i) {
            Put::Committed(oid) => (oid, Instant::now()),
            Put::Unchanged(_) => continue,
        };
        loop {
            match sub.recv(WAIT).expect("recv") {
                Some(Message::Event(e)) if e.commit == done.0 => {
                    lat.push(done.1.elapsed().as_secs_f64() * 1000.0);
                    break;
                }
                Some(_) => {}
                None => panic!("no event for a local put"),
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!("local_put_to_event_p50_ms {:.2}", pct(0.5));
    println!("local_put_to_event_p99_ms {:.2}", pct(0.99));

    // 3. A burst of n events.
    let base = store.main_commit().expect("main").expect("a commit").id();
    let made = Instant::now();
    let tip = commits_beside_main(&store.repo, base, n);
    eprintln!(
        "bus_bench: {n} commits made in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    let start_seq = client.heads().expect("heads").seq;
    let cpu0 = cpu_seconds(service.0.id());
    let t0 = Instant::now();
    move_main(&store, base, tip);
    let (mut last, mut received, mut gaps, mut resyncs) = (start_seq, 0u64, 0u64, 0u64);
    let target = start_seq + n;
    while last < target {
        assert!(t0.elapsed() < WAIT * 5, "stuck at {last} of {target}");
        match sub.recv(Duration::from_secs(5)).expect("recv") {
            Some(Message::Event(e)) => {
                received += 1;
                if e.seq > last + 1 {
                    gaps += 1;
                    resyncs += 1;
                    last = last.max(client.heads().expect("heads").seq);
                }
                last = last.max(e.seq);
            }
            Some(Message::Heartbeat(h)) if h.seq > last => {
                gaps += 1;
                resyncs += 1;
                last = last.max(client.heads().expect("heads").seq);
            }
            Some(_) => {}
            None => {
                resyncs += 1;
                last = last.max(client.heads().expect("heads").seq);
            }
        }
    }
    let took = t0.elapsed().as_secs_f64();
    // The service's own CPU time for the burst: a figure the machine's
    // load does not inflate as much as the wall clock.
    let cpu = cpu_seconds(service.0.id()) - cpu0;
    println!("burst_service_cpu_seconds {cpu:.2}");
    println!(
        "burst_events_per_cpu_second {:.0}",
        n as f64 / cpu.max(0.01)
    );
    println!("burst_gaps_detected {gaps}");
    println!("burst_resyncs {resyncs}");
    let heads = client.heads().expect("heads");
    assert_eq!(heads.seq, target, "one event per commit");
    assert_eq!(heads.head(&raw), Some(tip), "HEADS is the store's head");
    println!("burst_events {n}");
    println!("burst_seconds {took:.3}");
    println!("burst_events_per_second {:.0}", n as f64 / took);
    // Events still queued were delivered too, read after the count.
    while let Ok(Some(m)) = sub.recv(Duration::from_millis(500)) {
        if matches!(m, Message::Event(_)) {
            received += 1;
        }
    }

    println!("burst_received {received}");
    service.stop();
}

/// User + system CPU seconds of a process, from /proc (Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 here.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / hz
}

struct Service(Child);

impl Service {
    fn stop(&mut self) {
        let pid = i32::try_from(self.0.id()).expect("pid");
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(qsnap: &str, store: &Path, rep: &str, publish: &str) -> Child {
    Command::new(qsnap)
        .arg("--store")
        .arg(store)
        .args(["-q", "serve", "--rep", rep, "--pub", publish])
        .stdin(Stdio::null())
        .spawn()
        .expect("start qsnap serve")
}

fn connect(rep: &str) -> Client {
    let deadline = Instant::now() + WAIT;
    loop {
        match Client::connect(rep, None, WAIT).and_then(|c| c.heads().map(|_| c)) {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("service not up: {e}"),
            // Polling for the socket file the service is about to make.
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn wait_heartbeat(sub: &mut Subscriber) {
    loop {
        match sub.recv(WAIT).expect("recv") {
            Some(Message::Heartbeat(_)) => return,
            Some(_) => {}
            None => panic!("no heartbeat"),
        }
    }
}

fn put(store: &Store, res: &Resource, i: u64) -> Put {
    let body = format!("=====bench data v1\n\tversion\t{i}\n=====end\n");
    store
        .put(res, body.as_bytes(), false, None, WAIT)
        .expect("put")
}

/// `n` commits of `qplan raw` chained on `base`, main left where it is.
fn commits_beside_main(repo: &Repository, base: Oid, n: u64) -> Oid {
    let sig = Signature::now("bench", "bench@localhost").expect("signature");
    let tree = repo
        .find_commit(base)
        .and_then(|c| c.tree())
        .expect("tree")
        .id();
    let tree = repo.find_tree(tree).expect("tree");
    let mut parent = repo.find_commit(base).expect("base");
    for i in 0..n {
        let msg = format!("put qplan raw {i}\n\nQsnap-Resource: qplan raw\n");
        let oid = repo
            .commit(None, &sig, &sig, &msg, &tree, &[&parent])
            .expect("commit");
        parent = repo.find_commit(oid).expect("commit");
    }
    parent.id()
}

/// Moves main from `from` to `to` under the store's lock, as a pull does.
fn move_main(store: &Store, from: Oid, to: Oid) {
    let _lock = store.lock(WAIT).expect("lock");
    store
        .repo
        .reference_matching("refs/heads/main", to, true, from, "bench: burst")
        .expect("move main");
}
