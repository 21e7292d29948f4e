//! The client side of the bus: [`Client`] sends requests to `qsnap serve`
//! (REQ), [`Subscriber`] receives its events and heartbeats (SUB).
//!
//! Errors carry the exit codes of SPEC section 8: a service that cannot be
//! reached is 69, one that does not answer within the timeout 75 (worth
//! retrying: a PUT resent with the same request id stores once), a bad URL
//! 2, and a refused request the class the service gave
//! ([`Error::Refused`]).
//!
//! Events are a doorbell (SPEC section 9): NNG's PUB drops messages when a
//! subscriber's queue is full, so a subscriber compares sequence numbers
//! and heartbeats with what it has seen and reads the store
//! ([`Client::heads`]) when they disagree. Subscribe first, then ask for
//! the heads: nothing published in between is lost.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use nng::options::{Options, RecvBufferSize, RecvMaxSize, RecvTimeout, SendTimeout};
use nng::{Protocol, Socket};

use super::proto::{self, Envelope, Heads, Message, Reply, Request};
use crate::error::{Error, Result};
use crate::snap::{Put, Resource};

/// The REQ/REP address `qsnap serve` listens on by default.
pub const DEFAULT_REP: &str = "tcp://127.0.0.1:5000";
/// The PUB address `qsnap serve` publishes on by default.
pub const DEFAULT_PUB: &str = "tcp://127.0.0.1:5100";

/// The error of an nng call on `url`: an address nng does not understand
/// is a usage error, anything else means the service is not there.
pub(crate) fn nng_error(url: &str, doing: &str, e: nng::Error) -> Error {
    match e {
        nng::Error::AddressInvalid | nng::Error::NotSupported | nng::Error::InvalidInput => {
            Error::Usage(format!(
                "{url:?} is not a bus address (tcp://HOST:PORT or ipc:///PATH): {e}"
            ))
        }
        nng::Error::TimedOut => Error::Temporary {
            what: url.to_owned(),
            message: format!("{doing}: no answer in time"),
        },
        _ => {
            let message = match ipc_missing_dir(url) {
                // nng says "Connection refused" or "Entry not found" for
                // both; the missing directory is what the user must fix.
                Some(dir) if doing == "binding" => format!(
                    "{doing}: the directory {} does not exist; create it first (mkdir -p) \
                     or give a socket path in a directory that exists",
                    dir.display()
                ),
                Some(dir) => format!(
                    "{doing}: the directory {} does not exist, so nothing can listen there; \
                     check the address (the --rep that qsnap serve was given)",
                    dir.display()
                ),
                None if doing == "connecting" => {
                    format!("{doing}: {e} (is `qsnap serve` running there?)")
                }
                None => format!("{doing}: {e}"),
            };
            Error::Unavailable {
                what: url.to_owned(),
                message,
            }
        }
    }
}

/// The directory of an `ipc://PATH` socket when it does not exist.
fn ipc_missing_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = std::path::Path::new(url.strip_prefix("ipc://")?);
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => std::path::Path::new("."),
        Some(d) => d,
        None => return None,
    };
    (!dir.is_dir()).then(|| dir.to_path_buf())
}

/// The schemes nng dials and listens on.
const SCHEMES: &[&str] = &[
    "tcp", "tcp4", "tcp6", "ipc", "inproc", "abstract", "tls+tcp", "ws", "ws4", "ws6", "wss",
];

/// A bus address argument (`--rep`, `--bus`, ...), checked before anything
/// starts: a path or a host without a scheme is said to be what it is.
pub fn address_arg(s: &str) -> std::result::Result<String, String> {
    match s.split_once("://") {
        Some((scheme, rest)) if SCHEMES.contains(&scheme) && !rest.is_empty() => Ok(s.to_owned()),
        Some((scheme, _)) if !SCHEMES.contains(&scheme) => Err(format!(
            "{scheme}:// is not an nng transport; give tcp://HOST:PORT or ipc:///PATH/TO/SOCKET"
        )),
        _ => {
            let hint = if std::path::Path::new(s).is_dir() {
                " (a directory: the store is --store DIR)"
            } else {
                ""
            };
            Err(format!(
                "{s:?} is not an nng address{hint}; give tcp://HOST:PORT or ipc:///PATH/TO/SOCKET"
            ))
        }
    }
}

/// A fresh request id for [`Client::put`]: 128 random bits in hex. Resend a
/// request with the id it was first sent with.
pub fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The host of a `tcp://HOST:PORT` address (brackets of IPv6 kept), and
/// the rest.
fn split_host(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let hostport = rest.split('/').next().unwrap_or("");
    let (host, _) = hostport.rsplit_once(':')?;
    Some((scheme, host, &rest[host.len()..]))
}

/// The events address as a client can dial it: a service bound to every
/// interface (`tcp://0.0.0.0:5100`, `tcp://*:5100`, `tcp://[::]:5100`)
/// is reached at the host the client reached it by.
fn reachable(events: &str, rep: &str) -> String {
    match (split_host(events), split_host(rep)) {
        (Some((scheme, "0.0.0.0" | "*" | "" | "[::]", rest)), Some((_, host, _))) => {
            format!("{scheme}://{host}{rest}")
        }
        _ => events.to_owned(),
    }
}

/// Requests to `qsnap serve`, one at a time.
pub struct Client {
    socket: Socket,
    url: String,
    token: Option<String>,
    timeout: Duration,
    /// One request in flight per REQ socket.
    busy: Mutex<()>,
}

impl Client {
    /// Dials the service's REQ/REP address. The service must be listening
    /// (else 69); nng redials on its own when it restarts later.
    /// `timeout` bounds each request, sending and answering (else 75).
    pub fn connect(url: &str, token: Option<String>, timeout: Duration) -> Result<Client> {
        let socket =
            Socket::new(Protocol::Req0).map_err(|e| nng_error(url, "opening a socket", e))?;
        let set = |r: nng::Result<()>| r.map_err(|e| nng_error(url, "setting up the socket", e));
        set(socket.set_opt::<SendTimeout>(Some(timeout)))?;
        set(socket.set_opt::<RecvTimeout>(Some(timeout)))?;
        // Replies (a GET of a big version) are not limited here: the
        // service is the one the user chose to trust.
        set(socket.set_opt::<RecvMaxSize>(0))?;
        socket
            .dial(url)
            .map_err(|e| nng_error(url, "connecting", e))?;
        Ok(Client {
            socket,
            url: url.to_owned(),
            token,
            timeout,
            busy: Mutex::new(()),
        })
    }

    /// The address this client talks to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends raw bytes and returns the decoded reply: for tests and tools
    /// that speak the protocol themselves.
    pub fn request_raw(&self, bytes: &[u8]) -> Result<Reply> {
        let _one = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        let timed_out = |doing: &str| {
            Error::Temporary {
            what: self.url.clone(),
            message: format!(
                "{doing}: no answer within {:.1} s (retry; a PUT resent with its request id stores once)",
                self.timeout.as_secs_f64()
            ),
        }
        };
        match self.socket.send(bytes) {
            Ok(()) => {}
            Err((_, nng::Error::TimedOut)) => return Err(timed_out("sending the request")),
            Err((_, e)) => return Err(nng_error(&self.url, "sending the request", e)),
        }
        let reply = match self.socket.recv() {
            Ok(m) => m,
            Err(nng::Error::TimedOut) => return Err(timed_out("waiting for the reply")),
            Err(e) => return Err(nng_error(&self.url, "waiting for the reply", e)),
        };
        proto::decode_reply(reply.as_slice()).map_err(|e| Error::Unavailable {
            what: self.url.clone(),
            message: format!("the reply is not a bus reply: {e}"),
        })
    }

    /// Sends a request; `ok`'s content lines, or the refusal as an error.
    fn request(&self, request: &Request) -> Result<Vec<Vec<u8>>> {
        let bytes = proto::encode_request(self.token.as_deref(), request);
        match self.request_raw(&bytes)? {
            Reply::Ok(lines) => Ok(lines),
            Reply::Error { class, message } => Err(Error::Refused {
                service: self.url.clone(),
                class,
                message,
            }),
        }
    }

    /// Every resource's head, the epoch and latest sequence number, and
    /// where events are published.
    pub fn heads(&self) -> Result<Heads> {
        let lines = self.request(&Request::Heads)?;
        let mut heads = Heads::decode_payload(&lines).map_err(|e| self.bad_reply("HEADS", e))?;
        heads.events_url = heads.events_url.map(|u| reachable(&u, &self.url));
        Ok(heads)
    }

    /// A version as `qsnap get` writes it (provenance first, `=====end`
    /// last), at a revision or at main.
    pub fn get(&self, resource: &Resource, rev: Option<&str>) -> Result<Vec<u8>> {
        let lines = self.request(&Request::Get {
            resource: resource.clone(),
            rev: rev.map(str::to_owned),
        })?;
        Ok(proto::unnest(&lines))
    }

    /// Stores `stream` (a stacked stream ending with `=====end`) as the new
    /// version of `resource`. Resending with the same `request_id` after a
    /// timeout stores once and answers as the first time.
    pub fn put(&self, resource: &Resource, request_id: &str, stream: &[u8]) -> Result<Put> {
        let lines = self.request(&Request::Put {
            resource: resource.clone(),
            request_id: request_id.to_owned(),
            stream: stream.to_vec(),
        })?;
        proto::decode_put(&lines).map_err(|e| self.bad_reply("PUT", e))
    }

    /// A what-if asked of `qwhatif serve --bus`: `script` applied to `app`'s
    /// conditioned data at `base` (a revision of the store; `None`: the
    /// current version). The answer is what `qwhatif --format stream`
    /// writes; a broken script is refused with class 65.
    pub fn whatif(&self, app: &str, base: Option<&str>, script: &str) -> Result<Vec<u8>> {
        let mut lines = vec![base.unwrap_or("").as_bytes().to_vec()];
        lines.extend(script.lines().map(|l| l.as_bytes().to_vec()));
        let lines = self.request(&Request::Whatif {
            app: app.to_owned(),
            lines,
        })?;
        Ok(proto::unnest(&lines))
    }

    /// Publishes `text` on topic `<app> errors` through the service (how a
    /// watcher reports a failing command).
    pub fn publish_error(&self, app: &str, text: &str) -> Result<()> {
        self.request(&Request::Publish {
            app: app.to_owned(),
            text: text.to_owned(),
        })?;
        Ok(())
    }

    /// Sends an [`Envelope`] as it is, token included (tests of refusals).
    pub fn send_envelope(&self, envelope: &Envelope) -> Result<Reply> {
        self.request_raw(&proto::encode_request(
            envelope.token.as_deref(),
            &envelope.request,
        ))
    }

    fn bad_reply(&self, what: &str, e: Error) -> Error {
        Error::Unavailable {
            what: self.url.clone(),
            message: format!("the {what} reply is not understood: {e}"),
        }
    }
}

/// Events, heartbeats and failure reports from `qsnap serve`.
pub struct Subscriber {
    socket: Socket,
    url: String,
    skipped: u64,
}

impl Subscriber {
    /// Dials the service's PUB address and subscribes to `topics` (`<app>
    /// <stage>` or `<app> errors`; none means everything). Heartbeats are
    /// always received. The service must be listening (else 69); nng
    /// redials on its own when it restarts later.
    pub fn connect<I, S>(url: &str, topics: I) -> Result<Subscriber>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let socket =
            Socket::new(Protocol::Sub0).map_err(|e| nng_error(url, "opening a socket", e))?;
        let set = |r: nng::Result<()>| r.map_err(|e| nng_error(url, "subscribing", e));
        // The most nng keeps: fewer drops in a burst (gaps are still
        // possible, and detected).
        set(socket.set_opt::<RecvBufferSize>(8192))?;
        let mut any = false;
        for t in topics {
            any = true;
            set(
                socket.set_opt::<nng::options::protocol::pubsub::Subscribe>(proto::topic_prefix(
                    t.as_ref(),
                )),
            )?;
        }
        let all = if any {
            proto::topic_prefix(proto::HEARTBEAT_TOPIC)
        } else {
            Vec::new()
        };
        set(socket.set_opt::<nng::options::protocol::pubsub::Subscribe>(all))?;
        socket
            .dial(url)
            .map_err(|e| nng_error(url, "connecting", e))?;
        Ok(Subscriber {
            socket,
            url: url.to_owned(),
            skipped: 0,
        })
    }

    /// The next message, or `None` when none came within `timeout`.
    /// Messages that do not decode are skipped (and counted, see
    /// [`Subscriber::skipped`]).
    pub fn recv(&mut self, timeout: Duration) -> Result<Option<Message>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.socket
                .set_opt::<RecvTimeout>(Some(left))
                .map_err(|e| nng_error(&self.url, "receiving", e))?;
            match self.socket.recv() {
                Ok(m) => match proto::decode_message(m.as_slice()) {
                    Ok(msg) => return Ok(Some(msg)),
                    Err(_) => self.skipped += 1,
                },
                Err(nng::Error::TimedOut) => return Ok(None),
                Err(e) => return Err(nng_error(&self.url, "receiving", e)),
            }
        }
    }

    /// How many messages did not decode and were skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_events_address_is_reached_by_the_service_host() {
        let r = |e, rep| reachable(e, rep);
        assert_eq!(
            r("tcp://0.0.0.0:5100", "tcp://10.1.2.3:5000"),
            "tcp://10.1.2.3:5100"
        );
        assert_eq!(
            r("tcp://*:5100", "tcp://plan.example:5000"),
            "tcp://plan.example:5100"
        );
        assert_eq!(
            r("tcp://[::]:5100", "tcp://[fe80::1]:5000"),
            "tcp://[fe80::1]:5100"
        );
        assert_eq!(
            r("tcp://127.0.0.1:5100", "tcp://10.1.2.3:5000"),
            "tcp://127.0.0.1:5100"
        );
        assert_eq!(r("ipc:///tmp/p", "ipc:///tmp/r"), "ipc:///tmp/p");
    }
}
