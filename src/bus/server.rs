//! `qsnap serve`: the store's requests on REP, its new versions on PUB.
//!
//! Two threads:
//! - the REP thread answers one request at a time (GET, PUT, HEADS,
//!   PUBLISH). A PUT goes through [`Store::put`], the same locked put as a
//!   local `qsnap put`, so the two are serialised by the store's lock;
//! - the announcer notices main moving, whoever moved it (a PUT here, a
//!   local `qsnap put`, a `qsnap pull`, plain git): it is woken by the
//!   kernel when the store's refs change (inotify, no polling) and
//!   walks main's first-parent chain from the last commit it announced,
//!   publishing one event per new commit, oldest first, each with the next
//!   sequence number. Bus puts and local puts take the same path, so no put
//!   goes unannounced. A PUT and a HEADS run the announcer before they
//!   answer: a PUT's event is out before its reply, and a HEADS reply's
//!   sequence number covers every head it lists.
//!
//! The epoch is random and new at every start; sequence numbers start
//! at one. A heartbeat every second carries the epoch, the latest sequence
//! number and every resource's head.
//!
//! A request that does not decode, is over `--max-request`, lacks the
//! token or names an unknown verb gets an `error` reply; the service goes
//! on. A PUT's request id is remembered (the last [`REMEMBERED_IDS`], as
//! digests: [`REMEMBERED_BYTES`] at most), so a resent PUT stores
//! once and gets the first answer again.
//!
//! Memory stays bounded however long the service runs (issue 27): libgit2's
//! object cache and pack windows are capped at the start
//! ([`crate::snap::daemon::bound_memory`]), the remembered ids are bounded in
//! bytes, and nothing else is kept per put or per event (the announcer
//! keeps one head per resource).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use git2::{Oid, Repository};
use nng::options::transport::{ipc, tcp};
use nng::options::{Options as _, RecvMaxSize, RecvTimeout, SendTimeout};
use nng::{ListenerBuilder, Protocol, Socket};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::client::nng_error;
use super::proto::{self, Event, Heads, Request};
use crate::error::{exit, Error, Result};
use crate::snap::history::{self, Version};
use crate::snap::refwatch::RefWatch;
use crate::snap::{auto, objects, At, Put, Resource, Store};

/// How many PUT request ids the service remembers.
pub const REMEMBERED_IDS: usize = 10_000;
/// The default `--max-request`: 64 MiB.
pub const DEFAULT_MAX_REQUEST: usize = 64 << 20;
/// Memory freed is given back to the system after this many requests
/// (see [`crate::snap::daemon::give_back`]).
const GIVE_BACK_EVERY: u32 = 100;
/// How often the ref files are looked at when inotify cannot be had.
const POLL: Duration = Duration::from_millis(2);
/// How often the REP thread looks at the stop flag while idle: a signal
/// does not interrupt nng's receive, so this is how long a stop may wait.
/// Each look wakes the thread and two of nng's: at 100 ms an idle service
/// woke ~1,900 times a minute (issue 22's idle budget); at 1 s, ~200.
const IDLE: Duration = Duration::from_secs(1);

/// What `qsnap serve` was asked to do, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub store: PathBuf,
    pub rep: String,
    pub publish: String,
    /// Every request must carry it when set.
    pub token: Option<String>,
    pub max_request: usize,
    /// How long a PUT waits for the store's lock (then 75).
    pub put_wait: Duration,
    pub heartbeat: Duration,
    /// Log every request on stderr.
    pub verbose: bool,
}

/// Whether an address stays on this machine: ipc (and inproc), or TCP or
/// WebSocket on a loopback address or `localhost`.
pub fn is_local(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    match scheme {
        "ipc" | "inproc" | "abstract" => true,
        "tcp" | "tcp4" | "tcp6" | "tls+tcp" | "ws" | "ws4" | "ws6" | "wss" => {
            let hostport = rest.split('/').next().unwrap_or("");
            let host = if let Some(v6) = hostport.strip_prefix('[') {
                v6.split(']').next().unwrap_or("")
            } else {
                hostport.rsplit_once(':').map_or(hostport, |(h, _)| h)
            };
            host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// Refuses (2) an address off this machine without `--public`, and
/// `--public` without a token.
pub fn check_addresses(urls: &[&str], public: bool, token: bool) -> Result<()> {
    for url in urls {
        if !is_local(url) && !public {
            return Err(Error::Usage(format!(
                "{url} is not a loopback or ipc address: binding it needs --public \
                 (and --token-file; nng here has no encryption)"
            )));
        }
    }
    if public && !token {
        return Err(Error::Usage(
            "--public needs --token-file: every request must then carry the token".into(),
        ));
    }
    Ok(())
}

/// Reads the token file: its first line, without blanks around it.
pub fn read_token(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("reading the token file {}", path.display()), e))?;
    let token = text.lines().next().unwrap_or("").trim();
    if token.is_empty() {
        return Err(Error::Usage(format!(
            "the token file {} is empty",
            path.display()
        )));
    }
    Ok(token.to_owned())
}

/// Compares tokens in constant time: both are hashed (SHA-256) first, so
/// neither the content nor the length of the expected token shows in the
/// time a refusal takes, and the digests are compared with `subtle`, whose
/// comparison the optimiser cannot turn into an early exit.
pub(crate) fn token_ok(expected: &str, given: Option<&str>) -> bool {
    let given = given.unwrap_or("");
    let a = Sha256::digest(expected.as_bytes());
    let b = Sha256::digest(given.as_bytes());
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

/// Where the service listens, as bound (a TCP port 0 replaced by the port
/// the system chose).
#[derive(Debug, Clone)]
pub struct Bound {
    pub rep: String,
    pub publish: String,
    pub epoch: u64,
}

/// Listens on `url`: an ipc socket file gets mode 0600 (nng applies no
/// umask); a TCP port 0 is replaced by the chosen port in the returned URL.
pub(crate) fn listen(socket: &Socket, url: &str) -> Result<String> {
    let builder = ListenerBuilder::new(socket, url).map_err(|e| nng_error(url, "binding", e))?;
    if url.starts_with("ipc://") {
        builder
            .set_opt::<ipc::Permissions>(0o600)
            .map_err(|e| nng_error(url, "setting the socket file's mode", e))?;
    }
    let listener = builder.start().map_err(|(_, e)| match e {
        nng::Error::AddressInUse => Error::Unavailable {
            what: url.to_owned(),
            message: "the address is in use (another qsnap serve?)".into(),
        },
        e => nng_error(url, "binding", e),
    })?;
    let port = url.rsplit_once(':').map(|(_, p)| p);
    if url.starts_with("tcp") && port == Some("0") {
        if let Ok(p) = listener.get_opt::<tcp::BoundPort>() {
            let base = &url[..url.len() - 1];
            return Ok(format!("{base}{p}"));
        }
    }
    Ok(url.to_owned())
}

/// What identifies a version of a file cheaply: inode, size, mtime.
type Stamp = Option<(u64, u64, i64, i64)>;

fn stamp(path: &Path) -> Stamp {
    std::fs::metadata(path)
        .ok()
        .map(|m| (m.ino(), m.size(), m.mtime(), m.mtime_nsec()))
}

/// The announcer: what was announced, and the PUB socket.
struct Announcer {
    repo: Repository,
    publisher: Socket,
    epoch: u64,
    seq: u64,
    /// The main commit announced last.
    last: Option<Oid>,
    heads: BTreeMap<Resource, Oid>,
    /// The last problem reported, so that a lasting one is said once.
    problem: Option<String>,
}

impl Announcer {
    fn new(dir: &Path, publisher: Socket, epoch: u64) -> Result<Announcer> {
        let repo = Store::open(dir)?.repo;
        let last = main_id(&repo)?;
        let heads = match last {
            Some(m) => history::heads(&repo, m)?.into_iter().collect(),
            None => BTreeMap::new(),
        };
        Ok(Announcer {
            repo,
            publisher,
            epoch,
            seq: 0,
            last,
            heads,
            problem: None,
        })
    }

    fn publish(&self, msg: Vec<u8>) {
        // PUB never blocks: a subscriber whose queue is full misses it,
        // and finds out from the sequence numbers.
        let _ = self.publisher.send(msg.as_slice());
    }

    fn heads(&self, events_url: Option<String>) -> Heads {
        Heads {
            epoch: self.epoch,
            seq: self.seq,
            heads: self.heads.iter().map(|(r, o)| (r.clone(), *o)).collect(),
            events_url,
        }
    }

    fn heartbeat(&self) {
        self.publish(proto::encode_heartbeat(&self.heads(None)));
    }

    fn announce(&mut self, resource: Resource, commit: Oid, time: i64) {
        let parent = self.heads.insert(resource.clone(), commit);
        self.seq += 1;
        self.publish(proto::encode_event(&Event {
            epoch: self.epoch,
            seq: self.seq,
            resource,
            commit,
            parent,
            time,
        }));
    }

    /// Announces every commit main gained since the last look, oldest
    /// first. When main was moved to a history that does not contain the
    /// last announced commit (rewritten by hand), every resource whose head
    /// changed is announced instead.
    fn catch_up(&mut self) -> Result<u64> {
        let Some(now) = main_id(&self.repo)? else {
            return Ok(0);
        };
        if Some(now) == self.last {
            return Ok(0);
        }
        let before = self.seq;
        // One pass back to the last announced commit, reading each commit
        // once; then the events, oldest first.
        let mut chain: Vec<(Oid, Vec<Resource>, i64)> = Vec::new();
        let mut found = self.last.is_none();
        let mut next = Some(now);
        while let Some(oid) = next {
            if Some(oid) == self.last {
                found = true;
                break;
            }
            let commit = objects::commit(&self.repo, oid)?;
            let version = Version::of(&commit);
            let touched = match &version.resource {
                Some(r) => vec![r.clone()],
                None => {
                    let mut t = Vec::new();
                    for r in history::resources(&self.repo, &commit)? {
                        if history::touches(&self.repo, &commit, &version, &r)? {
                            t.push(r);
                        }
                    }
                    t
                }
            };
            chain.push((oid, touched, commit.time().seconds()));
            next = commit.parent_ids().next();
        }
        if found {
            for (oid, touched, time) in chain.into_iter().rev() {
                for r in touched {
                    self.announce(r, oid, time);
                }
            }
        } else {
            for (r, oid) in history::heads(&self.repo, now)? {
                if self.heads.get(&r) != Some(&oid) {
                    let time = objects::commit(&self.repo, oid)?.time().seconds();
                    self.announce(r, oid, time);
                }
            }
        }
        self.last = Some(now);
        Ok(self.seq - before)
    }

    /// Catches up, reporting a failure on stderr once while it lasts.
    fn catch_up_logged(&mut self) {
        match self.catch_up() {
            Ok(_) => self.problem = None,
            Err(e) => {
                let said = e.to_string();
                if self.problem.as_deref() != Some(&said) {
                    eprintln!("qsnap: serve: announcing new versions: {said}");
                    self.problem = Some(said);
                }
            }
        }
    }
}

fn main_id(repo: &Repository) -> Result<Option<Oid>> {
    match repo.refname_to_id(objects::MAIN) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(objects::git("reading the main branch")(e)),
    }
}

fn lock(a: &Mutex<Announcer>) -> std::sync::MutexGuard<'_, Announcer> {
    a.lock().unwrap_or_else(|p| p.into_inner())
}

/// The PUT request ids seen last, with their answers. An entry holds no
/// memory of its own: the id and the resource are kept as digests
/// (SHA-256, the first 16 bytes), so a long id or name costs no more than
/// a short one, and the table and the queue are sized once, at the start.
/// Names kept per PUT (two small strings each) also pinned malloc's heap
/// between the bigger blocks a put frees, so it could not shrink.
struct Remembered {
    answers: HashMap<Digest16, ([u8; 8], Put)>,
    order: VecDeque<Digest16>,
}

type Digest16 = [u8; 16];

/// What [`Remembered`] may hold at most: [`REMEMBERED_IDS`] entries, the
/// hash table's spare room included.
pub const REMEMBERED_BYTES: usize = 2 << 20;

impl Remembered {
    fn new() -> Remembered {
        // Sized once: neither grows past its first size. The table has
        // room for twice as many: an id forgotten leaves a tombstone, and
        // a table more than half full of live entries would grow (double)
        // to clear them instead of cleaning itself in place.
        Remembered {
            answers: HashMap::with_capacity(2 * REMEMBERED_IDS),
            order: VecDeque::with_capacity(REMEMBERED_IDS),
        }
    }

    fn digest(text: &str) -> Digest16 {
        let d = Sha256::digest(text.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&d[..16]);
        out
    }

    fn resource(res: &Resource) -> [u8; 8] {
        let d = Self::digest(&res.to_string());
        let mut out = [0u8; 8];
        out.copy_from_slice(&d[..8]);
        out
    }

    /// The answer to an id seen before, and whether it was for `res`.
    fn get(&self, id: &str, res: &Resource) -> Option<(bool, Put)> {
        self.answers
            .get(&Self::digest(id))
            .map(|(r, put)| (*r == Self::resource(res), *put))
    }

    fn insert(&mut self, id: &str, res: &Resource, put: Put) {
        let key = Self::digest(id);
        if self.answers.contains_key(&key) {
            return;
        }
        while self.order.len() >= REMEMBERED_IDS {
            match self.order.pop_front() {
                Some(old) => self.answers.remove(&old),
                None => break,
            };
        }
        self.order.push_back(key);
        self.answers.insert(key, (Self::resource(res), put));
    }

    /// The bytes held: the table's slots (its buckets, a power of two at
    /// least 8/7 of its capacity, each an entry and a control byte) and
    /// the queue's. Entries own nothing more (see the test).
    #[cfg(test)]
    fn bytes(&self) -> usize {
        use std::mem::size_of;
        let buckets = (self.answers.capacity() * 8 / 7).next_power_of_two();
        let slot = size_of::<(Digest16, ([u8; 8], Put))>() + 1;
        buckets * slot + self.order.capacity() * size_of::<Digest16>()
    }
}

/// The REP side: the store and what it needs to answer.
struct Answerer {
    store: Store,
    opts: Options,
    bound: Bound,
    announcer: Arc<Mutex<Announcer>>,
    remembered: Remembered,
    /// Automatic maintenance running beside the service, if any.
    maintenance: Option<std::thread::JoinHandle<()>>,
}

impl Answerer {
    /// The reply to one message; never fails.
    fn answer(&mut self, bytes: &[u8]) -> Vec<u8> {
        let max = self.opts.max_request;
        if bytes.len() > max {
            return self.refuse(
                "request",
                &Error::data(
                    Default::default(),
                    format!(
                        "the request is {} bytes, over the limit of {max} (--max-request)",
                        bytes.len()
                    ),
                ),
            );
        }
        let envelope = match proto::decode_request(bytes) {
            Ok(e) => e,
            Err(e) => return self.refuse("request", &e),
        };
        let what = envelope.request.describe();
        if let Some(expected) = &self.opts.token {
            if !token_ok(expected, envelope.token.as_deref()) {
                let why = if envelope.token.is_none() {
                    "this service needs a token in every request (a `qsnap auth v1` section)"
                } else {
                    "the token is wrong"
                };
                return self.refuse(&what, &Error::Usage(why.into()));
            }
        }
        match self.handle(envelope.request) {
            Ok(payload) => {
                if self.opts.verbose {
                    eprintln!("qsnap: serve: {what}: ok");
                }
                proto::encode_ok(&payload)
            }
            Err(e) => self.refuse(&what, &e),
        }
    }

    /// Joins a maintenance thread that has finished; returns whether one
    /// had.
    fn reap_maintenance(&mut self) -> bool {
        if self.maintenance.as_ref().is_some_and(|t| t.is_finished()) {
            if let Some(done) = self.maintenance.take() {
                let _ = done.join();
            }
            true
        } else {
            false
        }
    }

    /// Starts automatic maintenance ([`auto`]) in a thread of its own when
    /// the store is due and none runs: requests go on being answered, and
    /// PUTs wait for the store's lock meanwhile, as beside a local put.
    fn maintain_if_due(&mut self) {
        if self.maintenance.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        self.reap_maintenance();
        // The maintenance thread's memory, freed, goes back now.
        crate::snap::daemon::give_back();
        let Some((estimate, threshold)) = auto::due(&self.store) else {
            return;
        };
        let dir = self.store.dir.clone();
        let verbose = self.opts.verbose;
        let thread = std::thread::Builder::new()
            .name("qsnap-maintenance".into())
            .spawn(move || {
                let ran = Store::open(&dir).and_then(|s| auto::run(&s, estimate, threshold));
                match ran {
                    Ok(a) if verbose => {
                        for line in auto::describe(&a) {
                            eprintln!("qsnap: serve: {line}");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("qsnap: serve: automatic maintenance: {e}"),
                }
            });
        match thread {
            Ok(t) => self.maintenance = Some(t),
            Err(e) => eprintln!("qsnap: serve: starting automatic maintenance: {e}"),
        }
    }

    fn refuse(&self, what: &str, e: &Error) -> Vec<u8> {
        let class = match e.exit_code() {
            exit::SUCCESS => exit::IOERR,
            c => c,
        };
        if self.opts.verbose {
            eprintln!("qsnap: serve: {what}: refused ({class}): {e}");
        }
        proto::encode_error(class, &e.to_string())
    }

    fn handle(&mut self, request: Request) -> Result<Vec<u8>> {
        match request {
            Request::Get { resource, rev } => {
                let at = rev.map_or(At::Main, At::Rev);
                let mut out = Vec::new();
                crate::snap::get::get(&self.store, &resource, &at, false, &mut out)
                    .map_err(anyhow_to_error)?;
                Ok(out)
            }
            Request::Put {
                resource,
                request_id,
                stream,
            } => {
                if let Some((same, put)) = self.remembered.get(&request_id, &resource) {
                    if !same {
                        return Err(Error::data(
                            Default::default(),
                            format!(
                                "request id {request_id:?} was used for another resource already"
                            ),
                        ));
                    }
                    return Ok(proto::encode_put(put));
                }
                let put = |wait| {
                    self.store
                        .put(&resource, stream.as_slice(), false, None, wait)
                };
                let maintaining = self.maintenance.as_ref().is_some_and(|t| !t.is_finished());
                let put = match put(self.opts.put_wait) {
                    // The service's own maintenance holds the lock (a
                    // store of a year, a loaded machine: it took over 10 s
                    // at 47,000 puts): the PUT waits for it to end, then
                    // takes the lock as any put would.
                    Err(Error::Temporary { .. }) if maintaining => {
                        if let Some(m) = self.maintenance.take() {
                            let _ = m.join();
                        }
                        put(self.opts.put_wait)?
                    }
                    other => other?,
                };
                self.remembered.insert(&request_id, &resource, put);
                // The event goes out before the reply.
                lock(&self.announcer).catch_up_logged();
                if matches!(put, Put::Committed(_)) {
                    self.maintain_if_due();
                }
                Ok(proto::encode_put(put))
            }
            Request::Heads => {
                let mut a = lock(&self.announcer);
                a.catch_up()?;
                Ok(a.heads(Some(self.bound.publish.clone())).encode_payload())
            }
            Request::Publish { app, text } => {
                lock(&self.announcer).publish(proto::encode_error_report(&app, &text));
                Ok(Vec::new())
            }
            Request::Whatif { app, .. } => Err(Error::Usage(format!(
                "unknown request: WHATIF {app} is answered by `qwhatif serve`, not `qsnap serve`"
            ))),
            Request::Unknown { verb } => Err(Error::Usage(format!(
                "unknown request {verb:?}: the requests are GET, PUT, HEADS and PUBLISH"
            ))),
        }
    }
}

/// The library error of a command-layer failure, keeping its exit code.
fn anyhow_to_error(e: anyhow::Error) -> Error {
    let code = crate::cli::exit_code(&e);
    let message = format!("{e:#}");
    match code {
        exit::DATAERR => Error::data(Default::default(), message),
        exit::USAGE => Error::Usage(message),
        exit::UNAVAILABLE => Error::Unavailable {
            what: "store".into(),
            message,
        },
        exit::TEMPFAIL => Error::Temporary {
            what: "store".into(),
            message,
        },
        _ => Error::io(message, std::io::Error::other("failed")),
    }
}

/// Runs the service until `stop` is set. `ready` is told where it listens
/// once both sockets are bound.
pub fn serve(opts: Options, stop: Arc<AtomicBool>, ready: impl FnOnce(&Bound)) -> Result<()> {
    // Before the store is opened: libgit2 reads its limits as it goes.
    let bounds = crate::snap::daemon::bound_memory()?;
    if opts.verbose {
        eprintln!(
            "qsnap: serve: {}; at most {REMEMBERED_IDS} PUT ids remembered ({})",
            bounds.describe(),
            crate::snap::daemon::mib(REMEMBERED_BYTES)
        );
    }
    let store = Store::init(&opts.store)?.0;
    let epoch = rand::random::<u64>() >> 1;
    let publisher =
        Socket::new(Protocol::Pub0).map_err(|e| nng_error(&opts.publish, "opening", e))?;
    let publish = listen(&publisher, &opts.publish)?;
    let rep = Socket::new(Protocol::Rep0).map_err(|e| nng_error(&opts.rep, "opening", e))?;
    let limit = opts
        .max_request
        .saturating_add(opts.max_request.max(1 << 20));
    let set = |r: nng::Result<()>| r.map_err(|e| nng_error(&opts.rep, "setting up", e));
    // Requests up to twice the limit are read and refused with a reply;
    // bigger ones make nng drop the connection before reading them.
    set(rep.set_opt::<RecvMaxSize>(limit))?;
    set(rep.set_opt::<RecvTimeout>(Some(IDLE)))?;
    set(rep.set_opt::<SendTimeout>(Some(Duration::from_secs(10))))?;
    let rep_url = listen(&rep, &opts.rep)?;
    let bound = Bound {
        rep: rep_url,
        publish,
        epoch,
    };
    let announcer = Arc::new(Mutex::new(Announcer::new(&opts.store, publisher, epoch)?));
    ready(&bound);

    // Dropping `waker` ends the announcer's wait when the service stops.
    let (waker, woken) =
        UnixStream::pair().map_err(|e| Error::io("starting the announcer thread", e))?;
    let watcher = {
        let announcer = Arc::clone(&announcer);
        let stop = Arc::clone(&stop);
        let git_dir = store.repo.path().to_path_buf();
        let beat = opts.heartbeat;
        std::thread::Builder::new()
            .name("qsnap-announcer".into())
            .spawn(move || watch(&announcer, &git_dir, &stop, beat, &woken))
            .map_err(|e| Error::io("starting the announcer thread", e))?
    };

    let mut answerer = Answerer {
        store,
        opts,
        bound,
        announcer,
        remembered: Remembered::new(),
        maintenance: None,
    };
    // What requests freed goes back to the system every GIVE_BACK_EVERY
    // requests, and when the service is idle or a maintenance has ended.
    let mut give_back = crate::snap::daemon::GiveBack::every(GIVE_BACK_EVERY);
    let mut owed = false;
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        let msg = match rep.recv() {
            Ok(m) => m,
            Err(nng::Error::TimedOut) => {
                if answerer.reap_maintenance() || owed {
                    crate::snap::daemon::give_back();
                    owed = false;
                }
                continue;
            }
            Err(nng::Error::Interrupted) => continue,
            Err(e) => break Err(nng_error(&answerer.bound.rep, "receiving", e)),
        };
        let reply = answerer.answer(msg.as_slice());
        drop(msg);
        // A requester that went away is its problem, not the service's.
        let _ = rep.send(reply.as_slice());
        drop(reply);
        owed = !give_back.done();
    };
    stop.store(true, Ordering::Relaxed);
    drop(waker);
    let _ = watcher.join();
    // Maintenance holds the store's lock while git works: it ends first.
    if let Some(m) = answerer.maintenance.take() {
        let _ = m.join();
    }
    rep.close();
    result
}

/// The announcer thread: sleeps in the kernel until the store's refs
/// change ([`RefWatch`], inotify), catches up then, and at every heartbeat
/// (a change the watch missed is found then), then publishes the
/// heartbeat. An idle service wakes once a heartbeat. Where inotify cannot
/// be had (the per-user limit of instances reached), it says so and looks
/// at the ref files every [`POLL`] instead. `wake`'s other end is dropped
/// to end a wait at once when the service stops.
fn watch(
    announcer: &Mutex<Announcer>,
    git_dir: &Path,
    stop: &AtomicBool,
    beat: Duration,
    wake: &UnixStream,
) {
    let mut refs = match RefWatch::new(git_dir) {
        Ok(mut w) => {
            w.also_wake_on(wake.as_raw_fd());
            Some(w)
        }
        Err(e) => {
            eprintln!("qsnap: serve: {e}; looking at the refs every 2 ms instead");
            None
        }
    };
    let files = [git_dir.join("refs/heads/main"), git_dir.join("packed-refs")];
    let stamps = || files.iter().map(|f| stamp(f)).collect::<Vec<_>>();
    let mut seen = stamps();
    let mut next_beat = Instant::now();
    let mut changed = false;
    while !stop.load(Ordering::Relaxed) {
        let due = Instant::now() >= next_beat;
        if changed || due {
            let mut a = lock(announcer);
            a.catch_up_logged();
            if due {
                a.heartbeat();
                next_beat = Instant::now() + beat;
            }
        }
        changed = match refs.as_mut().map(|w| w.wait(Some(next_beat))) {
            Some(Ok(news)) => news,
            Some(Err(e)) => {
                eprintln!("qsnap: serve: {e}; looking at the refs every 2 ms instead");
                refs = None;
                true
            }
            None => {
                std::thread::sleep(POLL);
                let now = stamps();
                let news = now != seen;
                seen = now;
                news
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_and_ipc_are_local() {
        for url in [
            "ipc:///tmp/x.sock",
            "inproc://x",
            "tcp://127.0.0.1:5000",
            "tcp://127.1.2.3:0",
            "tcp://localhost:5000",
            "tcp://[::1]:5000",
            "ws://127.0.0.1:80/path",
            "tls+tcp://127.0.0.1:5000",
        ] {
            assert!(is_local(url), "{url}");
        }
        for url in [
            "tcp://0.0.0.0:5000",
            "tcp://*:5000",
            "tcp://:5000",
            "tcp://10.0.0.1:5000",
            "tcp://[::]:5000",
            "tcp://example.com:5000",
            "udp://127.0.0.1:5000",
            "127.0.0.1:5000",
            "",
        ] {
            assert!(!is_local(url), "{url}");
        }
    }

    #[test]
    fn public_addresses_need_the_flag_and_a_token() {
        assert!(check_addresses(&["tcp://127.0.0.1:1"], false, false).is_ok());
        let e = check_addresses(&["tcp://0.0.0.0:1"], false, true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("--public"), "{e}");
        let e = check_addresses(&["tcp://0.0.0.0:1"], true, false).unwrap_err();
        assert!(e.to_string().contains("--token-file"), "{e}");
        assert!(check_addresses(&["tcp://0.0.0.0:1"], true, true).is_ok());
    }

    /// Issue 27: the remembered ids were bounded by count only. However
    /// many PUTs, with the longest ids and names, they hold at most
    /// REMEMBERED_BYTES, allocated once; the newest are found, the oldest
    /// forgotten.
    #[test]
    fn remembered_ids_stay_within_their_bytes() {
        // An entry owns no memory (a `Copy` type cannot): nothing is
        // allocated per PUT, and the bytes below are all there is.
        fn owns_nothing<T: Copy>() {}
        owns_nothing::<(Digest16, ([u8; 8], Put))>();
        let mut r = Remembered::new();
        let (table, queue) = (r.answers.capacity(), r.order.capacity());
        assert!(r.bytes() <= REMEMBERED_BYTES, "{} bytes", r.bytes());
        let long = "a".repeat(crate::snap::name::MAX_LEN);
        let res = Resource::new(&long, &long).unwrap();
        let other = Resource::new("qplan", "raw").unwrap();
        let id = |i: usize| format!("{i:0>200}");
        let put = Put::Committed(Oid::ZERO_SHA1);
        for i in 0..10 * REMEMBERED_IDS {
            r.insert(&id(i), &res, put);
            // Never more room than at the start: the table was not
            // reallocated (tombstones make its capacity drop, then it
            // cleans itself in place and it is back to the start's).
            assert!(
                r.answers.capacity() <= table && r.order.capacity() == queue,
                "the table grew at {i}: {} for {table}",
                r.answers.capacity()
            );
        }
        assert_eq!(r.answers.len(), REMEMBERED_IDS);
        assert_eq!(r.order.len(), REMEMBERED_IDS);
        let newest = id(10 * REMEMBERED_IDS - 1);
        assert_eq!(r.get(&newest, &res), Some((true, put)));
        assert_eq!(r.get(&newest, &other), Some((false, put)));
        assert!(r.get(&id(9 * REMEMBERED_IDS), &res).is_some());
        assert!(r.get(&id(9 * REMEMBERED_IDS - 1), &res).is_none());
        // A resent id keeps its first answer and its place.
        r.insert(&newest, &res, Put::Unchanged(Oid::ZERO_SHA1));
        assert_eq!(r.get(&newest, &res), Some((true, put)));
        assert_eq!(r.order.len(), REMEMBERED_IDS);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(token_ok("s3cret", Some("s3cret")));
        assert!(!token_ok("s3cret", Some("s3cre")));
        assert!(!token_ok("s3cret", Some("s3cret ")));
        assert!(!token_ok("s3cret", None));
        assert!(!token_ok("s3cret", Some("")));
    }
}
