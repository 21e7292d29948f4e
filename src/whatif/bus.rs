//! `qwhatif serve --bus URL`: what-ifs asked over the bus (SPEC section 9).
//!
//! A request is `=====WHATIF qplan` whose first content line is the base,
//! a revision of the store (a commit, a tag, `HEAD~2`; empty for the
//! current `qplan conditioned`), and whose other content lines are the
//! change script. The reply is `=====ok` nesting exactly what `qwhatif
//! --format stream` writes for that input and script (the scenario's
//! results, `qwhatif changes v1`, `qwhatif diff v1`), or `=====error` with
//! a class of SPEC section 8 and the message the command line would give:
//! a broken script is 65 with its line and column (line 1 is the script's
//! first line, the content's second) and the closest names.
//!
//! Requests are answered independently: a raw REP socket hands each
//! request to a pool of workers (one a core, at least two), each with its
//! own handle on the store, and each reply carries its request's routing
//! header, so replies find their requester in any order and a long
//! what-if does not hold up a short one while a worker is free. Nothing is
//! written to the store. A request that does not decode, is too big, lacks
//! the token or is not a WHATIF gets an error reply; the service goes on.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use nng::options::{Options as _, RecvMaxSize, RecvTimeout, SendTimeout};
use nng::{Message, Protocol, RawSocket};

use super::{lang, render, scenario};
use crate::bus::client::nng_error;
use crate::bus::proto::{self, Request};
use crate::bus::server;
use crate::error::{exit, Error, Location, Result};
use crate::snap::{history, Store};

/// The largest request answered: a script of a mebibyte is far more than
/// any planning meeting writes.
pub const MAX_REQUEST: usize = 1 << 20;
/// How often the receiving thread looks at the stop flag while idle.
const IDLE: Duration = Duration::from_millis(100);

/// What `qwhatif serve --bus` was asked to do, checked.
#[derive(Debug, Clone)]
pub struct Options {
    pub store: PathBuf,
    pub url: String,
    pub token: Option<String>,
    pub workers: usize,
    pub verbose: bool,
}

fn data(message: impl Into<String>) -> Error {
    Error::data(Location::default(), message)
}

/// The reply to one request; never fails.
fn answer(store: &Store, opts: &Options, bytes: &[u8]) -> Vec<u8> {
    let refuse = |what: &str, e: &Error| {
        let class = match e.exit_code() {
            exit::SUCCESS => exit::IOERR,
            c => c,
        };
        if opts.verbose {
            eprintln!("qwhatif: serve: {what}: refused ({class}): {e}");
        }
        proto::encode_error(class, &e.to_string())
    };
    if bytes.len() > MAX_REQUEST {
        return refuse(
            "request",
            &data(format!(
                "the request is {} bytes, over the limit of {MAX_REQUEST}",
                bytes.len()
            )),
        );
    }
    let envelope = match proto::decode_request(bytes) {
        Ok(e) => e,
        Err(e) => return refuse("request", &e),
    };
    let what = envelope.request.describe();
    if let Some(expected) = &opts.token {
        if !server::token_ok(expected, envelope.token.as_deref()) {
            let why = if envelope.token.is_none() {
                "this service needs a token in every request (a `qsnap auth v1` section)"
            } else {
                "the token is wrong"
            };
            return refuse(&what, &Error::Usage(why.into()));
        }
    }
    let Request::Whatif { app, lines } = envelope.request else {
        return refuse(
            &what,
            &Error::Usage(format!(
                "unknown request {what}: qwhatif serve answers WHATIF; GET, PUT and HEADS go to qsnap serve"
            )),
        );
    };
    match whatif(store, &app, &lines) {
        Ok(payload) => {
            if opts.verbose {
                eprintln!("qwhatif: serve: {what}: ok");
            }
            proto::encode_ok(&payload)
        }
        Err(e) => refuse(&what, &e),
    }
}

/// Computes one what-if: the base read from the store, the script applied,
/// the scenario written as `qwhatif --format stream` writes it.
fn whatif(store: &Store, app: &str, lines: &[Vec<u8>]) -> Result<Vec<u8>> {
    if app != "qplan" {
        return Err(data(format!(
            "WHATIF {app}: qwhatif plans qplan's data only (`WHATIF qplan`)"
        )));
    }
    let Some((base, script)) = lines.split_first() else {
        return Err(data(
            "a WHATIF starts with its base: a revision of the store, or an empty line for the current qplan conditioned",
        ));
    };
    let base = std::str::from_utf8(base)
        .map_err(|_| data("the WHATIF's base line is not UTF-8"))?
        .trim();
    let mut text = String::new();
    for (n, line) in script.iter().enumerate() {
        let line = std::str::from_utf8(line)
            .map_err(|_| data(format!("the script's line {} is not UTF-8", n + 1)))?;
        text.push_str(line);
        text.push('\n');
    }
    let changes = lang::parse("the WHATIF script", &text)?;
    let at = if base.is_empty() {
        scenario::current_base(store)?.id()
    } else {
        history::resolve_rev(&store.repo, base)?.id()
    };
    let base = scenario::read_base(store, at)?;
    let w = super::run(base.input, changes)?;
    let mut out = Vec::new();
    render::stream(&w, &mut out).map_err(|e| Error::io("writing the what-if", e))?;
    Ok(out)
}

/// One worker: takes requests from the queue until it closes, answers each
/// on `socket` with the request's routing header.
fn work(
    opts: &Options,
    socket: &nng::Socket,
    queue: &Mutex<mpsc::Receiver<Message>>,
) -> Result<()> {
    let store = Store::open(&opts.store)?;
    loop {
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(request) = next else {
            return Ok(());
        };
        let reply = catch_unwind(AssertUnwindSafe(|| {
            answer(&store, opts, request.as_slice())
        }))
        .unwrap_or_else(|_| {
            proto::encode_error(
                exit::IOERR,
                "internal error while answering (a bug in qwhatif: please report it)",
            )
        });
        let mut message = Message::from(reply.as_slice());
        message
            .as_mut_header()
            .push_back(request.as_header().as_slice());
        // A requester that went away is its problem, not the service's.
        let _ = socket.send(message);
        // A what-if allocates its whole scenario (megabytes) and frees it:
        // given back now, or this worker's malloc arena keeps it.
        crate::snap::daemon::give_back();
    }
}

/// Answers WHATIF requests on `opts.url` until `stop` is set. `ready` is
/// told the address once it listens.
pub fn serve(opts: Options, stop: Arc<AtomicBool>, ready: impl FnOnce(&str)) -> Result<()> {
    // Each worker keeps its handle on the store for the service's life:
    // libgit2's cache is capped first (issue 27; `qwhatif serve` sets it
    // too, this is for callers of the library).
    crate::snap::daemon::bound_memory()?;
    // Fail before listening when the store cannot be read.
    Store::open(&opts.store)?;
    let raw = RawSocket::new(Protocol::Rep0).map_err(|e| nng_error(&opts.url, "opening", e))?;
    let socket = raw.socket;
    let set = |r: nng::Result<()>| r.map_err(|e| nng_error(&opts.url, "setting up", e));
    // Requests up to twice the limit are read and refused with a reply;
    // bigger ones make nng drop the connection before reading them.
    set(socket.set_opt::<RecvMaxSize>(2 * MAX_REQUEST))?;
    set(socket.set_opt::<RecvTimeout>(Some(IDLE)))?;
    set(socket.set_opt::<SendTimeout>(Some(Duration::from_secs(10))))?;
    let url = server::listen(&socket, &opts.url)?;
    let workers = opts.workers.max(1);
    let (tx, rx) = mpsc::sync_channel::<Message>(workers * 4);
    let rx = Arc::new(Mutex::new(rx));
    let mut pool = Vec::with_capacity(workers);
    for n in 0..workers {
        let (opts, socket, rx) = (opts.clone(), socket.clone(), Arc::clone(&rx));
        let worker = std::thread::Builder::new()
            .name(format!("qwhatif-worker-{n}"))
            .spawn(move || work(&opts, &socket, &rx))
            .map_err(|e| Error::io("starting a worker thread", e))?;
        pool.push(worker);
    }
    ready(&url);
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        match socket.recv() {
            Ok(m) => {
                if tx.send(m).is_err() {
                    break Err(Error::io(
                        "answering",
                        std::io::Error::other("every worker stopped"),
                    ));
                }
            }
            Err(nng::Error::TimedOut) | Err(nng::Error::Interrupted) => {}
            Err(e) => break Err(nng_error(&url, "receiving", e)),
        }
    };
    drop(tx);
    for worker in pool {
        match worker.join() {
            Ok(Err(e)) if result.is_ok() => return Err(e),
            _ => {}
        }
    }
    socket.close();
    result
}

/// `qwhatif serve --bus URL`: checks the address and token, then answers
/// until SIGINT or SIGTERM.
/// `token_file` holds the token every request must carry; `public` allows
/// an address off this machine; `repo` is the store (its default when
/// `None`).
pub fn run(
    url: &str,
    token_file: Option<&std::path::Path>,
    public: bool,
    repo: Option<PathBuf>,
    quiet: bool,
    verbose: bool,
) -> anyhow::Result<()> {
    let token = token_file.map(server::read_token).transpose()?;
    server::check_addresses(&[url], public, token.is_some())?;
    let opts = Options {
        store: crate::snap::store::locate(repo)?,
        url: url.to_owned(),
        token,
        workers: std::thread::available_parallelism().map_or(2, |n| n.get().max(2)),
        verbose,
    };
    let stop = crate::cli::stop_on_signals()?;
    let shown = opts.store.display().to_string();
    serve(opts, stop, |bound| {
        if !quiet {
            eprintln!("qwhatif: answering WHATIF for {shown} on {bound}");
        }
    })?;
    Ok(())
}
