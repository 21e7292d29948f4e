//! The HTTP side of `qwhatif serve --http` (issue 22): connections,
//! deadlines and limits, and `GET /events`, the stream that pushes each
//! new results head to the open pages. What a request means is the
//! page's business ([`super::web`]): it is handed a read request and
//! answers it on a thread that may block (git, rendering).
//!
//! Why hyper on tokio: the page keeps an event stream open per browser,
//! and slow or hostile clients must not be able to hold the server. With
//! tiny_http (a thread per connection, no read deadline) 3,000 slowloris
//! connections held 3,000 threads and 60 MB for as long as they liked
//! (bench/RESULTS.md). Here a connection is a task of a few KiB on two
//! threads, every connection must send its request headers within
//! [`Limits::header_deadline`] (idle keep-alive included) and its body
//! within [`Limits::body_deadline`], and there are at most
//! [`Limits::max_connections`] (beyond, a new connection is closed at
//! once). A stream whose browser stops reading holds at most a couple of
//! events queued for it, and ends at the next heartbeat write after the
//! browser goes. Only this command starts a runtime.
//!
//! The stream (`text/event-stream`): one event per new head of `qplan
//! results`, `event: results`, `id: <commit>`, `data:` a JSON object with
//! `app`, `stage`, `commit` and `time` (UTC, the commit's); a comment line
//! every [`Limits::heartbeat`] so that proxies keep it open. A client
//! tells what it last saw by `Last-Event-ID` (a reconnecting
//! `EventSource` sends it) or `?since=COMMIT` (the page, from the commit
//! it was rendered with); when that is not the current head, or the
//! client says nothing, the current head is sent at once. Only the newest
//! head is ever sent: a page that was away shows the newest results, not
//! each version in between.

use std::convert::Infallible;
use std::net::TcpListener;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::error::{Error, Result};

/// A request as the page sees it: its body read (up to the limit).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// The body's length as announced (`Content-Length`), or, for a body
    /// that turned out longer than the limit, the limit plus one.
    pub length: Option<usize>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter (`since=…`), percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then(|| {
                percent_encoding::percent_decode_str(v)
                    .decode_utf8_lossy()
                    .into_owned()
            })
        })
    }
}

/// An answer: a whole body, or the event stream.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Answer with the event stream (the headers are kept).
    pub events: bool,
}

/// Answers requests; called on a thread that may block.
pub type Handler = dyn Fn(&Request, &[u8]) -> Response + Send + Sync;

/// The newest head of `qplan results`, as the stream announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub commit: String,
    /// Seconds since the epoch (the commit's time).
    pub time: i64,
}

impl Head {
    /// The event, framed: `event:`, `id:`, one `data:` line, a blank line.
    pub fn event(&self) -> String {
        let data = serde_json::json!({
            "app": "qplan",
            "stage": "results",
            "commit": self.commit,
            "time": crate::snap::history::show_time(self.time),
        });
        format!("event: results\nid: {}\ndata: {data}\n\n", self.commit)
    }
}

/// The server's limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections open at once; a new one beyond is closed at once.
    pub max_connections: usize,
    /// A connection must send a request's headers within this (from the
    /// moment the server waits for them, so an idle keep-alive too).
    pub header_deadline: Duration,
    /// And its body within this.
    pub body_deadline: Duration,
    /// The comment line that keeps an event stream open through proxies.
    pub heartbeat: Duration,
    /// The largest body read; a longer one is not read.
    pub max_body: usize,
    /// Threads answering requests that block (git, rendering).
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 4096,
            header_deadline: Duration::from_secs(10),
            body_deadline: Duration::from_secs(10),
            heartbeat: Duration::from_secs(15),
            max_body: 64 * 1024,
            workers: 4,
        }
    }
}

/// Raises the soft limit of open files to the hard one (a few thousand
/// browsers need a few thousand descriptors; the usual soft limit is
/// 1024); returns the limit now in force.
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit and setrlimit only read and write the struct
    // given.
    unsafe {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
        r.rlim_cur
    }
}

type BoxBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// The event stream's body: what its task queues.
struct Stream(mpsc::Receiver<Bytes>);

impl Body for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

struct Shared {
    handler: Arc<Handler>,
    heads: watch::Receiver<Option<Head>>,
    limits: Limits,
    verbose: bool,
}

/// Serves on `listener` until SIGINT or SIGTERM. `heads` is the newest
/// results head, sent by whoever follows the store.
pub fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    heads: watch::Receiver<Option<Head>>,
    mut limits: Limits,
    verbose: bool,
) -> Result<()> {
    let nofile = raise_nofile();
    // Room for the store's files, the bus and the log.
    let fit = usize::try_from(nofile.saturating_sub(64)).unwrap_or(usize::MAX);
    limits.max_connections = limits.max_connections.min(fit.max(16));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(limits.workers.max(1))
        .thread_name("qwhatif-http")
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the HTTP server", e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("listening", e))?;
    let shared = Arc::new(Shared {
        handler,
        heads,
        limits,
        verbose,
    });
    let result = runtime.block_on(accept(listener, shared));
    // Streams and slow clients are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(200));
    result
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| Error::io("listening", e))?;
    let sig = |k| signal(k).map_err(|e| Error::io("setting up signal handling", e));
    let (mut int, mut term) = (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?);
    let open = Arc::new(Semaphore::new(shared.limits.max_connections));
    let mut said_full = false;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = int.recv() => return Ok(()),
            _ = term.recv() => return Ok(()),
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of descriptors or memory: give the others time to
                // close rather than spin.
                if shared.verbose {
                    eprintln!("qwhatif: accepting a connection: {e}");
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            if !said_full {
                eprintln!(
                    "qwhatif: {} connections are open: new ones are closed until some end",
                    shared.limits.max_connections
                );
                said_full = true;
            }
            drop(stream);
            continue;
        };
        said_full = false;
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = {
                let shared = Arc::clone(&shared);
                hyper::service::service_fn(move |req| {
                    let shared = Arc::clone(&shared);
                    async move { Ok::<_, Infallible>(answer(req, shared).await) }
                })
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(shared.limits.header_deadline)
                .max_buf_size(64 * 1024)
                .serve_connection(TokioIo::new(stream), service);
            // A client that went, broke the protocol or missed a deadline:
            // its connection ends, nothing else.
            let _ = conn.await;
            drop(permit);
        });
    }
}

fn plain(status: u16, text: &str) -> hyper::Response<BoxBody> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(text.to_owned())).boxed());
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn answer(req: hyper::Request<Incoming>, shared: Arc<Shared>) -> hyper::Response<BoxBody> {
    let (parts, body) = req.into_parts();
    let announced = parts
        .headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let mut request = Request {
        method: parts.method.as_str().to_ascii_uppercase(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        length: announced,
    };
    let limit = shared.limits.max_body;
    let mut close = false;
    let bytes = if announced.is_some_and(|n| n > limit) {
        // Refused unread (the page says 413); the rest of it is not
        // read either, so the connection cannot go on.
        close = true;
        Bytes::new()
    } else {
        let read = tokio::time::timeout(
            shared.limits.body_deadline,
            Limited::new(body, limit).collect(),
        )
        .await;
        match read {
            Ok(Ok(b)) => b.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                close = true;
                request.length = Some(limit + 1);
                Bytes::new()
            }
            Ok(Err(_)) => return plain(400, "the request body could not be read\n"),
            Err(_) => {
                let mut r = plain(408, "the request body did not come in time\n");
                r.headers_mut().insert(
                    hyper::header::CONNECTION,
                    hyper::header::HeaderValue::from_static("close"),
                );
                return r;
            }
        }
    };
    let handler = Arc::clone(&shared.handler);
    let asked = request.clone();
    let reply = tokio::task::spawn_blocking(move || handler(&asked, &bytes)).await;
    let reply = match reply {
        Ok(r) => r,
        // A panic while answering: 500, and the server goes on.
        Err(_) => {
            return plain(
                500,
                "qwhatif serve: an internal error answering this request\n",
            )
        }
    };
    if shared.verbose {
        eprintln!(
            "qwhatif: {} {} {}",
            request.method, request.path, reply.status
        );
    }
    let status = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let body = if reply.events && status == hyper::StatusCode::OK {
        let since = request
            .header("Last-Event-ID")
            .map(|s| s.trim().to_owned())
            .or_else(|| request.query_param("since"));
        events(&shared, since)
    } else if request.method == "HEAD" {
        Full::new(Bytes::new()).boxed()
    } else {
        Full::new(Bytes::from(reply.body)).boxed()
    };
    let mut r = hyper::Response::new(body);
    *r.status_mut() = status;
    for (k, v) in reply.headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(&v) {
            r.headers_mut().append(k, v);
        }
    }
    if close {
        r.headers_mut().insert(
            hyper::header::CONNECTION,
            hyper::header::HeaderValue::from_static("close"),
        );
    }
    r
}

/// The event stream of one client that last saw `since`.
fn events(shared: &Shared, since: Option<String>) -> BoxBody {
    // Two events at most wait for a client that does not read: the task
    // then waits too, and holds nothing more.
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    let mut heads = shared.heads.clone();
    let heartbeat = shared.limits.heartbeat;
    tokio::spawn(async move {
        // How long an EventSource waits before reconnecting (ms).
        if tx
            .send(Bytes::from_static(b"retry: 1000\n\n"))
            .await
            .is_err()
        {
            return;
        }
        let mut sent = since.filter(|s| !s.is_empty());
        loop {
            let now = heads.borrow_and_update().clone();
            if let Some(head) = now {
                if sent.as_deref() != Some(head.commit.as_str()) {
                    if tx.send(Bytes::from(head.event())).await.is_err() {
                        return;
                    }
                    sent = Some(head.commit);
                }
            }
            tokio::select! {
                changed = heads.changed() => {
                    if changed.is_err() {
                        // Nobody follows the store any more (shutting down).
                        return;
                    }
                }
                _ = tokio::time::sleep(heartbeat) => {
                    if tx.send(Bytes::from_static(b": heartbeat\n\n")).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    Stream(rx).boxed()
}

/// Follows the store on a thread of its own: reads the newest head with
/// `refresh` (the store is the truth) at the start and whenever `source`
/// rings (inotify on the refs, or `qsnap serve`'s events), and hands it to
/// the streams. Ends when the server is gone.
pub fn follow(
    mut source: Box<dyn crate::watch::Source + Send>,
    refresh: impl Fn() -> Result<Option<Head>> + Send + 'static,
    tx: watch::Sender<Option<Head>>,
) -> Result<()> {
    let body = move || {
        let mut said = String::new();
        let mut say = |e: &Error| {
            let e = format!("{e:#}");
            if e != said {
                eprintln!("qwhatif: following the store: {e}");
                said = e;
            }
        };
        loop {
            if let Err(e) = source.heads() {
                say(&e);
            }
            match refresh() {
                Ok(head) => {
                    tx.send_if_modified(|h| {
                        let moved = *h != head;
                        *h = head.clone();
                        moved
                    });
                }
                Err(e) => say(&e),
            }
            if tx.is_closed() {
                return;
            }
            // No deadline that matters: only news ends the wait.
            let far = std::time::Instant::now() + Duration::from_secs(24 * 3600);
            if let Err(e) = source.wait(far) {
                say(&e);
                // Not a busy loop on a lasting failure.
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    };
    std::thread::Builder::new()
        .name("qwhatif-follow".into())
        .spawn(body)
        .map_err(|e| Error::io("starting the thread that follows the store", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_framed_with_its_id_and_one_data_line() {
        let h = Head {
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            time: 1_386_000_000,
        };
        assert_eq!(
            h.event(),
            "event: results\nid: 0123456789abcdef0123456789abcdef01234567\n\
             data: {\"app\":\"qplan\",\"commit\":\"0123456789abcdef0123456789abcdef01234567\",\
             \"stage\":\"results\",\"time\":\"2013-12-02T16:00:00Z\"}\n\n"
        );
    }

    /// The next frame of a stream, as text (a guard of 30 s against a hang).
    async fn next(b: &mut BoxBody) -> String {
        let f = tokio::time::timeout(Duration::from_secs(30), b.frame())
            .await
            .expect("a frame in time")
            .expect("the stream goes on")
            .unwrap();
        String::from_utf8(f.into_data().unwrap().to_vec()).unwrap()
    }

    /// The stream's frames as a client reads them: the retry hint, the
    /// head the client has not seen (none when it has), a heartbeat when
    /// nothing happens, then each new head.
    #[test]
    fn a_stream_sends_what_the_client_missed_then_heartbeats_and_news() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let head = |c: &str| Head {
            commit: c.repeat(40),
            time: 0,
        };
        let (tx, rx) = watch::channel(Some(head("a")));
        let shared = Shared {
            handler: Arc::new(|_: &Request, _: &[u8]| Response {
                status: 200,
                headers: vec![],
                body: vec![],
                events: false,
            }),
            heads: rx,
            limits: Limits {
                heartbeat: Duration::from_millis(20),
                ..Limits::default()
            },
            verbose: false,
        };
        rt.block_on(async {
            // A client that says nothing gets the head at once.
            let mut b = events(&shared, None);
            assert_eq!(next(&mut b).await, "retry: 1000\n\n");
            assert_eq!(next(&mut b).await, head("a").event());
            assert_eq!(next(&mut b).await, ": heartbeat\n\n");
            tx.send_replace(Some(head("b")));
            assert_eq!(next(&mut b).await, head("b").event());
            // One that saw b gets nothing but heartbeats until c.
            let mut seen = events(&shared, Some("b".repeat(40)));
            assert_eq!(next(&mut seen).await, "retry: 1000\n\n");
            assert_eq!(next(&mut seen).await, ": heartbeat\n\n");
            tx.send_replace(Some(head("c")));
            assert_eq!(next(&mut seen).await, head("c").event());
            // One that saw a (away during b) gets c at once, not b.
            let mut away = events(&shared, Some("a".repeat(40)));
            assert_eq!(next(&mut away).await, "retry: 1000\n\n");
            assert_eq!(next(&mut away).await, head("c").event());
        });
    }

    proptest::proptest! {
        /// A query from a client never panics and never loses a value it
        /// was given percent-encoded.
        #[test]
        fn query_parameters_never_panic_and_round_trip(q in "\\PC*", v in "[a-f0-9]{0,40}") {
            let mut r = Request {
                method: "GET".into(),
                path: "/events".into(),
                query: q.clone(),
                headers: vec![],
                length: None,
            };
            let _ = r.query_param("since");
            r.query = format!("x={q}&since={v}");
            if !q.contains("since=") && !q.contains('&') {
                proptest::prop_assert_eq!(r.query_param("since"), Some(v));
            }
        }
    }

    #[test]
    fn query_parameters_are_decoded() {
        let r = Request {
            method: "GET".into(),
            path: "/events".into(),
            query: "a=1&since=ab%20c&b".into(),
            headers: vec![],
            length: None,
        };
        assert_eq!(r.query_param("since").as_deref(), Some("ab c"));
        assert_eq!(r.query_param("b").as_deref(), Some(""));
        assert_eq!(r.query_param("c"), None);
    }
}
