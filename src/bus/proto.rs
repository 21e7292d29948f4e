//! The bus messages of SPEC section 9, as stacked streams: requests and
//! replies on REQ/REP, events and heartbeats on PUB/SUB.
//!
//! Every message is a stream of section 2 (a PUB message is a topic line
//! then a stream), so any language that splits lines can speak it:
//!
//! ```text
//! =====qsnap auth v1                 (only when the service has a token)
//! →<token>
//! =====GET qplan raw                 =====PUT qplan raw
//! →<revision, optional>              →<request id>
//! =====end                           →=====qplan work v1
//!                                    →→...
//! =====HEADS                         →=====end
//! =====end                           =====end
//!
//! =====PUBLISH qplan errors          =====ok            =====error
//! →<text lines>                      →<data, commit>    →<class: an exit code>
//! =====end                           =====end           →<message lines>
//!                                                       =====end
//! ```
//!
//! (`→` is a TAB.)
//!
//! - GET answers `ok` with the nested stream `qsnap get` writes (provenance
//!   first); PUT with `<commit>` and `committed` or `unchanged`; HEADS with
//!   a nested `qsnap heads v1` section (below) that also says where events
//!   are published (`events<TAB>URL`); PUBLISH with an empty `ok`.
//!   `WHATIF <app>` is decoded so that `qsnap serve` can refuse it (class 2)
//!   and `qwhatif serve` can answer it.
//! - An event is the topic line `<app> <stage>` then `qsnap event v1`:
//!   `epoch`, `seq`, `resource`, `commit`, `parent` (the resource's previous
//!   head, empty for its first version) and `time`, one `key<TAB>value`
//!   line each.
//! - A heartbeat is the topic line `qsnap heartbeat` then `qsnap heads v1`:
//!   `epoch`, `seq` (the latest event's, 0 before the first) and one line
//!   `<app> <stage><TAB><commit>` per resource.
//! - A failure report is the topic line `<app> errors` then
//!   `qsnap error v1` whose lines are the text.
//!
//! Decoders return errors, never panic, on any bytes (a property test holds
//! them to it); unknown `key<TAB>value` lines are skipped, so fields can be
//! added later.

use git2::Oid;

use crate::error::{Error, Location, Result};
use crate::snap::history::{parse_time, show_time};
use crate::snap::{Put, Resource};
use crate::stream::{Event as StreamEvent, IoLines, Reader};

/// The section carrying a request's token.
pub const AUTH: &str = "qsnap auth v1";
/// The section of an event.
pub const EVENT: &str = "qsnap event v1";
/// The section of a heartbeat and of the HEADS reply.
pub const HEADS: &str = "qsnap heads v1";
/// The section of a failure report on topic `<app> errors`.
pub const ERROR_TEXT: &str = "qsnap error v1";
/// The topic of heartbeats.
pub const HEARTBEAT_TOPIC: &str = "qsnap heartbeat";
/// The stage name of the failure topic `<app> errors`.
pub const ERRORS: &str = "errors";
/// The longest request id a PUT may carry.
pub const MAX_REQUEST_ID: usize = 200;

/// A request, as the service sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// The version of a resource at a revision (`None`: main).
    Get {
        resource: Resource,
        rev: Option<String>,
    },
    /// Store `stream` (a whole stacked stream, ending with `=====end`) as
    /// the new version of `resource`; a resent request (same id) stores once.
    Put {
        resource: Resource,
        request_id: String,
        stream: Vec<u8>,
    },
    /// Every resource's head, the epoch, the latest sequence number.
    Heads,
    /// A failure report to republish on topic `<app> errors`.
    Publish { app: String, text: String },
    /// A what-if against `app`'s conditioned data (answered by `qwhatif
    /// serve`): the section's content lines as sent.
    Whatif { app: String, lines: Vec<Vec<u8>> },
    /// A verb nobody answers; kept so that the reply can name it after the
    /// token was checked.
    Unknown { verb: String },
}

/// A request with the token it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub token: Option<String>,
    pub request: Request,
}

/// A reply: `ok` with content lines (their meaning depends on the request),
/// or `error` with a class (an exit code of SPEC section 8) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ok(Vec<Vec<u8>>),
    Error { class: u8, message: String },
}

/// A new version announced on PUB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub epoch: u64,
    pub seq: u64,
    pub resource: Resource,
    pub commit: Oid,
    /// The resource's previous head; `None` for its first version.
    pub parent: Option<Oid>,
    /// The commit time, Unix seconds.
    pub time: i64,
}

/// Every resource's head at a sequence number of an epoch: a heartbeat,
/// and the HEADS reply (which also names the PUB address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heads {
    pub epoch: u64,
    /// The latest event's sequence number; every head here was announced
    /// by an event at or before it.
    pub seq: u64,
    /// Sorted by resource.
    pub heads: Vec<(Resource, Oid)>,
    /// Where the service publishes events (HEADS replies only).
    pub events_url: Option<String>,
}

/// A message received on SUB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Event(Event),
    Heartbeat(Heads),
    /// A failure report on topic `<app> errors`.
    Error {
        app: String,
        text: String,
    },
}

fn bad(message: impl Into<String>) -> Error {
    Error::data(Location::section("bus message"), message)
}

/// Appends `stream` as content lines at `depth + 1`: each line of the
/// stream indented by `depth + 1` TABs (a final newline ends the last line,
/// it does not start another).
pub fn nest(out: &mut Vec<u8>, depth: usize, stream: &[u8]) {
    let stream = stream.strip_suffix(b"\n").unwrap_or(stream);
    if stream.is_empty() {
        return;
    }
    for line in stream.split(|&b| b == b'\n') {
        out.extend(std::iter::repeat_n(b'\t', depth + 1));
        out.extend_from_slice(line);
        out.push(b'\n');
    }
}

/// The content lines of a section as the stream they nest.
pub fn unnest(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

fn header(out: &mut Vec<u8>, depth: usize, h: &str) {
    out.extend(std::iter::repeat_n(b'\t', depth));
    out.extend_from_slice(b"=====");
    out.extend_from_slice(h.as_bytes());
    out.push(b'\n');
}

fn line(out: &mut Vec<u8>, depth: usize, l: &[u8]) {
    out.extend(std::iter::repeat_n(b'\t', depth + 1));
    out.extend_from_slice(l);
    out.push(b'\n');
}

/// Text as content lines: one per line of the text (none for empty text).
fn text_lines(out: &mut Vec<u8>, depth: usize, text: &str) {
    let text = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return;
    }
    for l in text.split('\n') {
        line(out, depth, l.trim_end_matches('\r').as_bytes());
    }
}

fn text_of(lines: &[Vec<u8>]) -> String {
    let parts: Vec<String> = lines
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    parts.join("\n")
}

/// One top-level section of a message, with its line number.
struct Sec {
    header: String,
    line: u64,
    lines: Vec<Vec<u8>>,
}

/// Every top-level section of a message (end markers dropped).
fn sections(bytes: &[u8]) -> Result<Vec<Sec>> {
    let mut reader = Reader::from_source(IoLines::new(bytes));
    let mut out: Vec<Sec> = Vec::new();
    loop {
        let line = reader.line_no() + 1;
        match reader.next_event()? {
            Some(StreamEvent::Header(h)) => out.push(Sec {
                header: h.to_owned(),
                line,
                lines: Vec::new(),
            }),
            Some(StreamEvent::Line(l)) => {
                if let Some(s) = out.last_mut() {
                    s.lines.push(l.to_vec());
                }
            }
            Some(StreamEvent::End) => {}
            None => return Ok(out),
        }
    }
}

impl Request {
    /// The request section: its header and content lines.
    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Request::Get { resource, rev } => {
                header(out, 0, &format!("GET {resource}"));
                if let Some(rev) = rev {
                    line(out, 0, rev.as_bytes());
                }
            }
            Request::Put {
                resource,
                request_id,
                stream,
            } => {
                header(out, 0, &format!("PUT {resource}"));
                line(out, 0, request_id.as_bytes());
                nest(out, 0, stream);
            }
            Request::Heads => header(out, 0, "HEADS"),
            Request::Publish { app, text } => {
                header(out, 0, &format!("PUBLISH {app} {ERRORS}"));
                text_lines(out, 0, text);
            }
            Request::Whatif { app, lines } => {
                header(out, 0, &format!("WHATIF {app}"));
                for l in lines {
                    line(out, 0, l);
                }
            }
            Request::Unknown { verb } => header(out, 0, verb),
        }
    }

    /// What the request is, for logs: `PUT qplan raw`.
    pub fn describe(&self) -> String {
        match self {
            Request::Get { resource, .. } => format!("GET {resource}"),
            Request::Put { resource, .. } => format!("PUT {resource}"),
            Request::Heads => "HEADS".into(),
            Request::Publish { app, .. } => format!("PUBLISH {app} {ERRORS}"),
            Request::Whatif { app, .. } => format!("WHATIF {app}"),
            Request::Unknown { verb } => verb.clone(),
        }
    }
}

/// The bytes of a request, with its token when there is one.
pub fn encode_request(token: Option<&str>, request: &Request) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(token) = token {
        header(&mut out, 0, AUTH);
        line(&mut out, 0, token.as_bytes());
    }
    request.encode_into(&mut out);
    header(&mut out, 0, "end");
    out
}

fn resource_of(args: &[&str], verb: &str, at: u64) -> Result<Resource> {
    match args {
        [app, stage] => Resource::new(app, stage).map_err(|e| {
            Error::data(
                Location::section(format!("{verb} request")).line(at),
                e.to_string(),
            )
        }),
        _ => Err(Error::data(
            Location::section(format!("{verb} request")).line(at),
            format!("{verb} takes a resource, `{verb} <app> <stage>`"),
        )),
    }
}

/// Reads a request. A message that is not a stream, or holds no request
/// or several, or a known verb with bad arguments, is bad data (65); an
/// unknown verb decodes as [`Request::Unknown`] (the service refuses it
/// with class 2 once it has checked the token).
pub fn decode_request(bytes: &[u8]) -> Result<Envelope> {
    let mut token = None;
    let mut request: Option<Request> = None;
    for sec in sections(bytes)? {
        if sec.header == AUTH {
            if token.is_some() {
                return Err(bad(format!("line {}: two {AUTH} sections", sec.line)));
            }
            let [t] = sec.lines.as_slice() else {
                return Err(bad(format!(
                    "line {}: {AUTH} holds one line, the token",
                    sec.line
                )));
            };
            token = Some(String::from_utf8_lossy(t).into_owned());
            continue;
        }
        if request.is_some() {
            return Err(bad(format!(
                "line {}: a message holds one request; a second starts here ({:?})",
                sec.line, sec.header
            )));
        }
        let words: Vec<&str> = sec.header.split(' ').collect();
        let (verb, args) = (words[0], &words[1..]);
        let at = sec.line;
        request = Some(match verb {
            "GET" => {
                let resource = resource_of(args, verb, at)?;
                let rev = match sec.lines.as_slice() {
                    [] => None,
                    [rev] => {
                        let rev = std::str::from_utf8(rev)
                            .map_err(|_| bad(format!("line {}: revision is not UTF-8", at + 1)))?
                            .trim();
                        (!rev.is_empty()).then(|| rev.to_owned())
                    }
                    _ => {
                        return Err(bad(format!(
                            "line {at}: GET holds at most one line, the revision"
                        )))
                    }
                };
                Request::Get { resource, rev }
            }
            "PUT" => {
                let resource = resource_of(args, verb, at)?;
                let Some((id, stream)) = sec.lines.split_first() else {
                    return Err(bad(format!(
                        "line {at}: PUT holds a request id line, then the stream to store"
                    )));
                };
                let id = std::str::from_utf8(id)
                    .ok()
                    .filter(|s| {
                        !s.is_empty()
                            && s.len() <= MAX_REQUEST_ID
                            && !s.bytes().any(|b| b.is_ascii_control())
                    })
                    .ok_or_else(|| {
                        bad(format!(
                            "line {}: a request id is 1 to {MAX_REQUEST_ID} printable UTF-8 bytes",
                            at + 1
                        ))
                    })?;
                Request::Put {
                    resource,
                    request_id: id.to_owned(),
                    stream: unnest(stream),
                }
            }
            "HEADS" if args.is_empty() && sec.lines.is_empty() => Request::Heads,
            "HEADS" => return Err(bad(format!("line {at}: HEADS takes nothing"))),
            "PUBLISH" => {
                let resource = resource_of(args, verb, at)?;
                if resource.stage != ERRORS {
                    return Err(bad(format!(
                        "line {at}: only `PUBLISH <app> {ERRORS}` is published through the service"
                    )));
                }
                Request::Publish {
                    app: resource.app,
                    text: text_of(&sec.lines),
                }
            }
            "WHATIF" => {
                let [app] = args else {
                    return Err(bad(format!(
                        "line {at}: WHATIF takes an app, `WHATIF <app>`"
                    )));
                };
                Resource::new(app, "conditioned").map_err(|e| bad(e.to_string()))?;
                Request::Whatif {
                    app: (*app).to_owned(),
                    lines: sec.lines,
                }
            }
            _ => Request::Unknown {
                verb: sec.header.chars().take(80).collect(),
            },
        });
    }
    let request = request.ok_or_else(|| bad("the message holds no request"))?;
    Ok(Envelope { token, request })
}

/// `ok` with content lines nesting `payload` (a stream or plain lines).
pub fn encode_ok(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 32 + 16);
    header(&mut out, 0, "ok");
    nest(&mut out, 0, payload);
    header(&mut out, 0, "end");
    out
}

/// `error` with its class and message.
pub fn encode_error(class: u8, message: &str) -> Vec<u8> {
    let mut out = Vec::new();
    header(&mut out, 0, "error");
    line(&mut out, 0, class.to_string().as_bytes());
    text_lines(&mut out, 0, message);
    header(&mut out, 0, "end");
    out
}

/// Reads a reply.
pub fn decode_reply(bytes: &[u8]) -> Result<Reply> {
    let mut secs = sections(bytes)?.into_iter();
    let (Some(sec), None) = (secs.next(), secs.next()) else {
        return Err(bad("a reply holds exactly one section, `ok` or `error`"));
    };
    match sec.header.as_str() {
        "ok" => Ok(Reply::Ok(sec.lines)),
        "error" => {
            let Some((class, message)) = sec.lines.split_first() else {
                return Err(bad("an error reply starts with its class"));
            };
            let class = std::str::from_utf8(class)
                .ok()
                .and_then(|c| c.trim().parse::<u8>().ok())
                .ok_or_else(|| bad("an error reply's class is an exit code (0 to 255)"))?;
            Ok(Reply::Error {
                class,
                message: text_of(message),
            })
        }
        other => Err(bad(format!("a reply is `ok` or `error`, not {other:?}"))),
    }
}

/// The payload of a PUT's `ok`: the commit, then `committed` or `unchanged`.
pub fn encode_put(put: Put) -> Vec<u8> {
    match put {
        Put::Committed(oid) => format!("{oid}\ncommitted\n"),
        Put::Unchanged(oid) => format!("{oid}\nunchanged\n"),
    }
    .into_bytes()
}

/// Reads the payload of a PUT's `ok`.
pub fn decode_put(lines: &[Vec<u8>]) -> Result<Put> {
    let oid = |l: &[u8]| {
        std::str::from_utf8(l)
            .ok()
            .and_then(|s| Oid::from_str(s.trim()).ok())
    };
    match lines {
        [commit, how] => match (oid(commit), how.as_slice()) {
            (Some(c), b"committed") => Ok(Put::Committed(c)),
            (Some(c), b"unchanged") => Ok(Put::Unchanged(c)),
            _ => Err(bad(
                "a PUT reply is a commit, then `committed` or `unchanged`",
            )),
        },
        _ => Err(bad(
            "a PUT reply is a commit, then `committed` or `unchanged`",
        )),
    }
}

fn kv(out: &mut Vec<u8>, depth: usize, key: &str, value: &str) {
    out.extend(std::iter::repeat_n(b'\t', depth + 1));
    out.extend_from_slice(key.as_bytes());
    out.push(b'\t');
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

fn oid_text(oid: Option<Oid>) -> String {
    oid.map_or(String::new(), |o| o.to_string())
}

impl Heads {
    /// The `qsnap heads v1` section at `depth`.
    pub fn encode_into(&self, out: &mut Vec<u8>, depth: usize) {
        header(out, depth, HEADS);
        kv(out, depth, "epoch", &self.epoch.to_string());
        kv(out, depth, "seq", &self.seq.to_string());
        if let Some(url) = &self.events_url {
            kv(out, depth, "events", url);
        }
        for (res, oid) in &self.heads {
            kv(out, depth, &res.to_string(), &oid.to_string());
        }
    }

    /// The payload of the HEADS reply: the heads section and `=====end`.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out, 0);
        header(&mut out, 0, "end");
        out
    }

    /// Reads the content lines of a `qsnap heads v1` section.
    pub fn decode_lines(lines: &[Vec<u8>]) -> Result<Heads> {
        let (mut epoch, mut seq, mut events_url) = (None, None, None);
        let mut heads = Vec::new();
        for l in lines {
            let (key, value) = split_kv(l)?;
            match key {
                "epoch" => epoch = Some(number(key, value)?),
                "seq" => seq = Some(number(key, value)?),
                "events" => events_url = Some(value.to_owned()),
                _ if key.contains(' ') => {
                    let res = Resource::parse(key)
                        .ok_or_else(|| bad(format!("{key:?} is not a resource")))?;
                    heads.push((res, parse_oid(key, value)?));
                }
                _ => {}
            }
        }
        heads.sort();
        Ok(Heads {
            epoch: epoch.ok_or_else(|| bad(format!("{HEADS} lacks its epoch")))?,
            seq: seq.ok_or_else(|| bad(format!("{HEADS} lacks its seq")))?,
            heads,
            events_url,
        })
    }

    /// Reads the payload of a HEADS reply (the `ok` lines).
    pub fn decode_payload(lines: &[Vec<u8>]) -> Result<Heads> {
        let nested = unnest(lines);
        let secs = sections(&nested)?;
        let sec = secs
            .iter()
            .find(|s| s.header == HEADS)
            .ok_or_else(|| bad(format!("the HEADS reply holds no {HEADS} section")))?;
        Heads::decode_lines(&sec.lines)
    }

    /// The head of one resource.
    pub fn head(&self, res: &Resource) -> Option<Oid> {
        self.heads.iter().find(|(r, _)| r == res).map(|(_, o)| *o)
    }
}

fn split_kv(l: &[u8]) -> Result<(&str, &str)> {
    let s = std::str::from_utf8(l).map_err(|_| bad("a field line is not UTF-8"))?;
    s.split_once('\t')
        .ok_or_else(|| bad(format!("{s:?} is not `key<TAB>value`")))
}

fn number(key: &str, value: &str) -> Result<u64> {
    value
        .parse()
        .map_err(|_| bad(format!("{key} {value:?} is not a number")))
}

fn parse_oid(key: &str, value: &str) -> Result<Oid> {
    let ok = value.len() == 40 && value.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| Oid::from_str(value).ok())
        .flatten()
        .ok_or_else(|| bad(format!("{key} {value:?} is not a commit id")))
}

/// A PUB message: the topic line, then the stream.
fn published(topic: &str, body: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(topic.as_bytes());
    out.push(b'\n');
    body(&mut out);
    header(&mut out, 0, "end");
    out
}

/// The PUB message of an event.
pub fn encode_event(e: &Event) -> Vec<u8> {
    published(&e.resource.to_string(), |out| {
        header(out, 0, EVENT);
        kv(out, 0, "epoch", &e.epoch.to_string());
        kv(out, 0, "seq", &e.seq.to_string());
        kv(out, 0, "resource", &e.resource.to_string());
        kv(out, 0, "commit", &e.commit.to_string());
        kv(out, 0, "parent", &oid_text(e.parent));
        kv(out, 0, "time", &show_time(e.time));
    })
}

/// The PUB message of a heartbeat.
pub fn encode_heartbeat(h: &Heads) -> Vec<u8> {
    published(HEARTBEAT_TOPIC, |out| h.encode_into(out, 0))
}

/// The PUB message of a failure report of `app`.
pub fn encode_error_report(app: &str, text: &str) -> Vec<u8> {
    published(&format!("{app} {ERRORS}"), |out| {
        header(out, 0, ERROR_TEXT);
        text_lines(out, 0, text);
    })
}

/// The subscription prefix of a topic: the topic and its newline, so that
/// `qplan raw` does not also match `qplan rawx`.
pub fn topic_prefix(topic: &str) -> Vec<u8> {
    let mut p = topic.as_bytes().to_vec();
    p.push(b'\n');
    p
}

/// Reads a PUB message.
pub fn decode_message(bytes: &[u8]) -> Result<Message> {
    let nl =
        memchr::memchr(b'\n', bytes).ok_or_else(|| bad("a published message has no topic line"))?;
    let topic = std::str::from_utf8(&bytes[..nl]).map_err(|_| bad("the topic is not UTF-8"))?;
    let secs = sections(&bytes[nl + 1..])?;
    let [sec] = secs.as_slice() else {
        return Err(bad("a published message holds one section"));
    };
    match sec.header.as_str() {
        EVENT => {
            let mut f: [Option<&str>; 6] = [None; 6];
            const KEYS: [&str; 6] = ["epoch", "seq", "resource", "commit", "parent", "time"];
            for l in &sec.lines {
                let (key, value) = split_kv(l)?;
                if let Some(i) = KEYS.iter().position(|k| *k == key) {
                    f[i] = Some(value);
                }
            }
            let get = |i: usize| f[i].ok_or_else(|| bad(format!("{EVENT} lacks its {}", KEYS[i])));
            let resource = Resource::parse(get(2)?)
                .ok_or_else(|| bad(format!("{:?} is not a resource", f[2])))?;
            if resource.to_string() != topic {
                return Err(bad(format!(
                    "an event of {resource} published on topic {topic:?}"
                )));
            }
            let parent = match get(4)? {
                "" => None,
                p => Some(parse_oid("parent", p)?),
            };
            let time = parse_time(get(5)?)
                .ok_or_else(|| bad(format!("time {:?} is not a date-time", f[5])))?
                .timestamp();
            Ok(Message::Event(Event {
                epoch: number("epoch", get(0)?)?,
                seq: number("seq", get(1)?)?,
                commit: parse_oid("commit", get(3)?)?,
                resource,
                parent,
                time,
            }))
        }
        HEADS if topic == HEARTBEAT_TOPIC => {
            Ok(Message::Heartbeat(Heads::decode_lines(&sec.lines)?))
        }
        ERROR_TEXT => {
            let app = topic
                .strip_suffix(" errors")
                .filter(|app| Resource::new(app, ERRORS).is_ok())
                .ok_or_else(|| bad(format!("a failure report on topic {topic:?}")))?;
            Ok(Message::Error {
                app: app.to_owned(),
                text: text_of(&sec.lines),
            })
        }
        other => Err(bad(format!(
            "unknown published section {other:?} on topic {topic:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn res(s: &str) -> Resource {
        Resource::parse(s).unwrap()
    }

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).unwrap()
    }

    #[test]
    fn a_put_request_is_the_stream_nested_under_its_id() {
        let stream = b"=====qplan work v1\n\tA\t1\n\t\n=====end\n";
        let req = Request::Put {
            resource: res("qplan raw"),
            request_id: "r-1".into(),
            stream: stream.to_vec(),
        };
        let bytes = encode_request(Some("s3cret"), &req);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "=====qsnap auth v1\n\ts3cret\n=====PUT qplan raw\n\tr-1\n\t=====qplan work v1\n\t\tA\t1\n\t\t\n\t=====end\n=====end\n"
        );
        let env = decode_request(&bytes).unwrap();
        assert_eq!(env.token.as_deref(), Some("s3cret"));
        assert_eq!(env.request, req);
    }

    #[test]
    fn requests_decode_as_written_by_hand() {
        let env = decode_request(b"=====GET qplan raw\n\tmain~2\n").unwrap();
        assert_eq!(
            env.request,
            Request::Get {
                resource: res("qplan raw"),
                rev: Some("main~2".into())
            }
        );
        assert_eq!(env.token, None);
        assert_eq!(
            decode_request(b"=====HEADS\n=====end\n").unwrap().request,
            Request::Heads
        );
        assert_eq!(
            decode_request(b"=====FROB x\n").unwrap().request,
            Request::Unknown {
                verb: "FROB x".into()
            }
        );
        assert_eq!(
            decode_request(b"=====PUBLISH qplan errors\n\tline 1\n\tline 2\n")
                .unwrap()
                .request,
            Request::Publish {
                app: "qplan".into(),
                text: "line 1\nline 2".into()
            }
        );
    }

    #[test]
    fn bad_requests_are_bad_data() {
        for bad in [
            &b""[..],
            b"garbage\n",
            b"=====GET qplan\n",
            b"=====GET Qplan raw\n",
            b"=====PUT qplan raw\n",
            b"=====PUT qplan raw\n\t\n",
            b"=====HEADS\n=====HEADS\n",
            b"=====HEADS x\n",
            b"=====PUBLISH qplan raw\n\tx\n",
            b"=====qsnap auth v1\n=====HEADS\n",
        ] {
            let e = decode_request(bad).unwrap_err();
            assert_eq!(e.exit_code(), 65, "{:?}: {e}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn replies_round_trip() {
        let ok = encode_ok(b"=====qsnap provenance v1\n\tqplan raw\tabc\n=====end\n");
        assert_eq!(
            decode_reply(&ok).unwrap(),
            Reply::Ok(vec![
                b"=====qsnap provenance v1".to_vec(),
                b"\tqplan raw\tabc".to_vec(),
                b"=====end".to_vec()
            ])
        );
        let err = encode_error(75, "store locked\nretry");
        assert_eq!(
            decode_reply(&err).unwrap(),
            Reply::Error {
                class: 75,
                message: "store locked\nretry".into()
            }
        );
        let Reply::Ok(lines) =
            decode_reply(&encode_ok(&encode_put(Put::Unchanged(oid(3))))).unwrap()
        else {
            panic!()
        };
        assert_eq!(decode_put(&lines).unwrap(), Put::Unchanged(oid(3)));
    }

    #[test]
    fn events_carry_their_topic_line_first() {
        let e = Event {
            epoch: 7,
            seq: 42,
            resource: res("qplan raw"),
            commit: oid(1),
            parent: None,
            time: 1_700_000_000,
        };
        let bytes = encode_event(&e);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("qplan raw\n=====qsnap event v1\n\tepoch\t7\n\tseq\t42\n"),
            "{text}"
        );
        assert!(text.contains("\tparent\t\n"), "{text}");
        assert!(
            text.ends_with("\ttime\t2023-11-14T22:13:20Z\n=====end\n"),
            "{text}"
        );
        assert_eq!(decode_message(&bytes).unwrap(), Message::Event(e));
    }

    #[test]
    fn heartbeats_and_reports_round_trip() {
        let h = Heads {
            epoch: 1,
            seq: 0,
            heads: vec![
                (res("qplan conditioned"), oid(2)),
                (res("qplan raw"), oid(1)),
            ],
            events_url: None,
        };
        assert_eq!(
            decode_message(&encode_heartbeat(&h)).unwrap(),
            Message::Heartbeat(h.clone())
        );
        let mut with_url = h.clone();
        with_url.events_url = Some("ipc:///tmp/x".into());
        let Reply::Ok(lines) = decode_reply(&encode_ok(&with_url.encode_payload())).unwrap() else {
            panic!()
        };
        assert_eq!(Heads::decode_payload(&lines).unwrap(), with_url);
        let report = encode_error_report("qplan", "exit 3\nstderr tail");
        assert!(report.starts_with(b"qplan errors\n"));
        assert_eq!(
            decode_message(&report).unwrap(),
            Message::Error {
                app: "qplan".into(),
                text: "exit 3\nstderr tail".into()
            }
        );
    }

    fn resource() -> impl Strategy<Value = Resource> {
        ("[a-z0-9][a-z0-9_-]{0,8}", "[a-z0-9][a-z0-9_-]{0,8}")
            .prop_map(|(a, s)| Resource::new(&a, &s).unwrap())
    }

    fn an_oid() -> impl Strategy<Value = Oid> {
        any::<[u8; 20]>().prop_map(|b| Oid::from_bytes(&b).unwrap())
    }

    /// A valid stacked stream made of arbitrary text lines.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let section = (
            "[a-z][a-z ]{0,9}",
            proptest::collection::vec("[^\n\r]{0,12}", 0..4),
        );
        proptest::collection::vec(section, 1..4).prop_map(|secs| {
            let mut out = Vec::new();
            for (h, lines) in secs {
                out.extend_from_slice(format!("====={}\n", h.trim_end()).as_bytes());
                for l in lines {
                    out.extend_from_slice(format!("\t{l}\n").as_bytes());
                }
            }
            out.extend_from_slice(b"=====end\n");
            out
        })
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode_request(&bytes);
            let _ = decode_reply(&bytes);
            let _ = decode_message(&bytes);
            if let Ok(Reply::Ok(lines)) = decode_reply(&bytes) {
                let _ = decode_put(&lines);
                let _ = Heads::decode_payload(&lines);
            }
        }

        #[test]
        fn decoders_never_panic_on_near_valid_text(
            lines in proptest::collection::vec(prop_oneof![
                Just("=====PUT qplan raw".to_owned()),
                Just("=====GET qplan raw".to_owned()),
                Just("=====qsnap auth v1".to_owned()),
                Just("=====qsnap event v1".to_owned()),
                Just("=====qsnap heads v1".to_owned()),
                Just("=====ok".to_owned()),
                Just("=====error".to_owned()),
                Just("=====end".to_owned()),
                "\t[a-z0-9 \t]{0,20}",
                "\t(epoch|seq|parent|commit|time|resource)\t[0-9a-f]{0,40}",
            ], 0..12)
        ) {
            let text = lines.join("\n");
            let _ = decode_request(text.as_bytes());
            let _ = decode_reply(text.as_bytes());
            let _ = decode_message(format!("qplan raw\n{text}").as_bytes());
            let _ = decode_message(format!("qsnap heartbeat\n{text}").as_bytes());
        }

        #[test]
        fn requests_round_trip(
            r in resource(),
            id in "[!-~]{1,40}",
            s in stream(),
            rev in proptest::option::of("[!-~]{1,20}"),
            token in proptest::option::of("[!-~]{1,40}"),
        ) {
            for req in [
                Request::Put { resource: r.clone(), request_id: id.clone(), stream: s.clone() },
                Request::Get { resource: r.clone(), rev: rev.clone() },
                Request::Heads,
                Request::Publish { app: r.app.clone(), text: id.clone() },
            ] {
                let env = decode_request(&encode_request(token.as_deref(), &req)).unwrap();
                prop_assert_eq!(env.token.as_deref(), token.as_deref());
                prop_assert_eq!(env.request, req);
            }
        }

        #[test]
        fn events_and_heads_round_trip(
            r in resource(), c in an_oid(), p in proptest::option::of(an_oid()),
            epoch in any::<u64>(), seq in any::<u64>(), time in 0i64..4_000_000_000,
            heads in proptest::collection::btree_map(resource(), an_oid(), 0..5),
        ) {
            let e = Event { epoch, seq, resource: r, commit: c, parent: p, time };
            prop_assert_eq!(decode_message(&encode_event(&e)).unwrap(), Message::Event(e));
            let h = Heads { epoch, seq, heads: heads.into_iter().collect(), events_url: None };
            prop_assert_eq!(decode_message(&encode_heartbeat(&h)).unwrap(), Message::Heartbeat(h));
        }

        #[test]
        fn get_replies_carry_the_stream_unchanged(s in stream()) {
            let Reply::Ok(lines) = decode_reply(&encode_ok(&s)).unwrap() else {
                return Err(TestCaseError::fail("not ok"));
            };
            prop_assert_eq!(unnest(&lines), s);
        }
    }
}
