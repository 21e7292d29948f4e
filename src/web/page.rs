//! `qwhatif serve --http ADDR`: the plan and its what-ifs as a local web
//! page.
//!
//! `GET /` shows the store's latest `qplan results` as the HTML report of
//! `qplan --format html` (the same code, [`crate::report::html`]), with a
//! form for a change script (SPEC section 6) above it. `POST /whatif`
//! runs the script against the store's current `qplan conditioned` with
//! [`crate::whatif::run`], the code path of a plain `qwhatif`, and answers with the
//! scenario under a "what-if" banner: the commit it is based on, the
//! changes, what moved, buttons to discard it, save it as a named scenario
//! (`POST /save`, [`scenario::save`]) or apply it (`POST /apply`: saved,
//! then [`scenario::apply`]), and the scenario's report. A bad script is
//! answered 422 with the command line's located message, the form kept
//! filled. `GET /head` is the commit of the latest results, `GET
//! /events` a stream of Server-Sent Events that announces each new one
//! ([`super::live`], issue 22): the page's small inline script listens
//! and replaces the report in place (the form, its text and the scroll
//! position kept). The page is whole without scripts. The server learns
//! of new results from the kernel (inotify on the store's refs) or, with
//! `--snap-bus`, from `qsnap serve`'s events; nothing polls.
//!
//! What the server never does: write anything but scenario branches
//! (`refs/qsnap/whatif/NAME`), except on an explicit apply; change
//! anything on a GET; take a POST from another site. Every POST must carry
//! the server's CSRF token (random, new at each start) and, when the
//! browser sends them, an `Origin` of this server and a `Sec-Fetch-Site`
//! of `same-origin`; every request must name this server in its `Host`
//! (so that a page of another site resolved to 127.0.0.1 cannot read the
//! token). Bodies are bounded ([`MAX_BODY`]), every string from the data
//! is escaped, and the page's Content-Security-Policy allows only its own
//! style and scripts (by hash). Requests are answered by a few threads,
//! each opening the store for itself; a panic while answering one is
//! answered 500 and the server goes on. Connections, deadlines and limits
//! are [`super::live`]'s.

use std::fmt::Write as _;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use git2::Oid;
use subtle::ConstantTimeEq;

use super::live;
use crate::error::{exit, Error, Result};
use crate::report::html::{self, csp_hash, esc, Extras};
use crate::report::render::View;
use crate::report::trend;
use crate::snap::history::{self, short, show_time};
use crate::snap::Store;
use crate::whatif::{self, lang, scenario, WhatIf};

/// The largest request body taken (a change script, a name, the token).
pub const MAX_BODY: u64 = 64 * 1024;
/// Threads answering requests (the connections need none of their own).
const THREADS: usize = 4;
/// How long a save or an apply waits for the store's lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What the server is asked to do.
pub struct Options {
    pub addr: SocketAddr,
    /// Whether a non-loopback address was asked for with `--public`.
    pub public: bool,
    /// The store's directory.
    pub store: PathBuf,
    /// Where users reach the page through a reverse proxy.
    pub public_url: Option<PublicUrl>,
    /// Learn of new results from `qsnap serve` at this request address
    /// (its events), instead of from the store's files.
    pub snap_bus: Option<SnapBus>,
    pub verbose: bool,
}

/// `qsnap serve`, followed by the page.
#[derive(Debug, Clone)]
pub struct SnapBus {
    pub rep: String,
    pub events: Option<String>,
    pub token: Option<String>,
}

/// The address users reach the page at through a reverse proxy
/// (`--public-url https://plan.example.com`): requests naming it in their
/// `Host`, and forms whose `Origin` it is, are this server's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// As a browser sends it in `Origin`: `https://plan.example.com`, with
    /// `:PORT` when not the scheme's default.
    pub origin: String,
    /// The `Host` values that name it: the name, and with its port.
    pub hosts: Vec<String>,
}

/// Reads `--public-url`: `http://` or `https://`, a host, an optional
/// port, no path (the page's links are from the root), no user or query.
pub fn public_url_arg(s: &str) -> std::result::Result<PublicUrl, String> {
    let wrong = |why: &str| {
        format!("{s:?} {why}; give the address users open, such as https://plan.example.com")
    };
    let uri: http::Uri = s.parse().map_err(|_| wrong("is not a URL"))?;
    let (scheme, default_port) = match uri.scheme_str() {
        Some("https") => ("https", 443),
        Some("http") => ("http", 80),
        _ => return Err(wrong("is not an http:// or https:// URL")),
    };
    let authority = uri.authority().ok_or_else(|| wrong("names no host"))?;
    if authority.as_str().contains('@') {
        return Err(wrong("holds a user name"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(wrong(
            "has a path: the page must be served at the root of its own name",
        ));
    }
    let host = authority.host().to_ascii_lowercase();
    if host.is_empty() {
        return Err(wrong("names no host"));
    }
    let port = authority.port_u16().unwrap_or(default_port);
    Ok(if port == default_port {
        PublicUrl {
            origin: format!("{scheme}://{host}"),
            hosts: vec![host.clone(), format!("{host}:{port}")],
        }
    } else {
        PublicUrl {
            origin: format!("{scheme}://{host}:{port}"),
            hosts: vec![format!("{host}:{port}")],
        }
    })
}

/// Refuses an address off this machine unless `public` (exit 2).
pub fn check_address(addr: &SocketAddr, public: bool) -> Result<()> {
    if addr.ip().is_loopback() || public {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{addr} is not a loopback address: the page can change the plan of record \
         (apply) and has no login; give --public to serve it to other machines anyway"
    )))
}

/// The server's state shared by its threads.
struct App {
    store: PathBuf,
    token: String,
    /// `Host` values this server answers to; empty with `--public` (any).
    hosts: Vec<String>,
    /// An `Origin` a form may come from besides this server's own
    /// (`http://` or `https://` and the request's `Host`): --public-url's.
    public_origin: Option<String>,
    /// The latest results' page, rendered once per new results.
    live: Mutex<Option<Arc<Live>>>,
}

/// The report of the latest results, as of a commit of main.
struct Live {
    /// The commit main pointed at when this was made.
    main: Option<Oid>,
    /// The commit that put the results shown; `None` when the store has
    /// none.
    results: Option<Oid>,
    /// When they were put.
    time: Option<i64>,
    /// The report (`qplan --format html`), or why there is none.
    report: std::result::Result<String, String>,
}

/// Serves until SIGINT or SIGTERM; `ready` is told the bound address
/// first.
pub fn serve(opts: Options, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    check_address(&opts.addr, opts.public)?;
    // The store must open now: a wrong --store is said at once, not on the
    // first request.
    Store::open(&opts.store)?;
    let listening = |e: std::io::Error| Error::Unavailable {
        what: format!("listening on {}", opts.addr),
        message: e.to_string(),
    };
    let listener = std::net::TcpListener::bind(opts.addr).map_err(listening)?;
    let bound = listener.local_addr().map_err(listening)?;
    let hosts = if opts.public {
        Vec::new()
    } else {
        let port = bound.port();
        let mut h = vec![bound.to_string(), format!("localhost:{port}")];
        if bound.ip().is_ipv4() {
            h.push(format!("127.0.0.1:{port}"));
        } else {
            h.push(format!("[::1]:{port}"));
        }
        if let Some(p) = &opts.public_url {
            h.extend(p.hosts.iter().cloned());
        }
        h
    };
    let app = Arc::new(App {
        store: opts.store,
        token: new_token(),
        hosts,
        public_origin: opts.public_url.map(|p| p.origin),
        live: Mutex::new(None),
    });
    // What rings when results may be new: qsnap serve's events, or the
    // kernel watching the store's refs.
    let source: Box<dyn crate::watch::Source + Send> = match opts.snap_bus {
        Some(bus) => Box::new(crate::watch::BusSource::new(
            &bus.rep,
            bus.events,
            bus.token,
            opts.verbose,
        )),
        None => Box::new(crate::watch::RepoSource::new(
            &app.store,
            vec![trend::results_resource()],
        )?),
    };
    let (tx, heads) = tokio::sync::watch::channel(None);
    let following = Arc::clone(&app);
    live::follow(source, move || following.newest(), tx)?;
    ready(bound);
    let answering = Arc::clone(&app);
    let limits = live::Limits {
        workers: THREADS,
        max_body: MAX_BODY as usize,
        ..live::Limits::default()
    };
    live::serve(
        listener,
        Arc::new(move |r: &live::Request, body: &[u8]| answering.answer(r, body)),
        heads,
        limits,
        opts.verbose,
    )
}

/// 32 random bytes, hex.
fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    let mut s = String::with_capacity(64);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// An answer to a request.
struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
    /// Extra headers (`Allow`, `Location`).
    headers: Vec<(&'static str, String)>,
    /// The page's Content-Security-Policy (HTML answers).
    csp: Option<String>,
    /// Answer with the event stream instead of `body`.
    events: bool,
}

impl Reply {
    fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            headers: Vec::new(),
            csp: None,
            events: false,
        }
    }

    fn page(status: u16, page: Page) -> Reply {
        Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: page.html,
            headers: Vec::new(),
            csp: Some(page.csp),
            events: false,
        }
    }

    /// `GET /events`: the stream ([`live`] writes it).
    fn events() -> Reply {
        Reply {
            status: 200,
            content_type: "text/event-stream",
            body: String::new(),
            headers: vec![("X-Accel-Buffering", "no".to_owned())],
            csp: None,
            events: true,
        }
    }
}

/// The request as the handler needs it.
struct Req {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl App {
    /// Answers one request (its body read); nothing it does can stop
    /// the server.
    fn answer(&self, request: &live::Request, mut body: &[u8]) -> live::Response {
        let req = Req {
            method: request.method.clone(),
            path: request.path.clone(),
            headers: request.headers.clone(),
        };
        let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.route(&req, request.length, &mut body)
        }))
        .unwrap_or_else(|_| {
            Reply::text(
                500,
                "qwhatif serve: an internal error answering this request\n",
            )
        });
        let mut headers = vec![
            ("Content-Type", reply.content_type.to_owned()),
            ("Cache-Control", "no-store".to_owned()),
            ("X-Content-Type-Options", "nosniff".to_owned()),
            ("X-Frame-Options", "DENY".to_owned()),
            // Not no-referrer: with it the browser sends `Origin: null` on
            // the page's own form posts, which are then refused.
            ("Referrer-Policy", "same-origin".to_owned()),
        ];
        if let Some(csp) = reply.csp {
            headers.push(("Content-Security-Policy", csp));
        }
        headers.extend(reply.headers);
        live::Response {
            status: reply.status,
            headers,
            body: reply.body.into_bytes(),
            events: reply.events,
        }
    }

    fn route(&self, req: &Req, length: Option<usize>, body: &mut dyn Read) -> Reply {
        if let Some(refused) = self.check_host(req) {
            return refused;
        }
        let mut post = |f: &dyn Fn(&Form) -> Reply| -> Reply {
            match self.check_post(req, length, body) {
                Ok(form) => f(&form),
                Err(refused) => refused,
            }
        };
        match (req.path.as_str(), req.method.as_str()) {
            ("/", "GET" | "HEAD") => self.home(),
            ("/head", "GET" | "HEAD") => self.head(),
            ("/events", "GET") => Reply::events(),
            ("/whatif", "POST") => post(&|f| self.whatif(f)),
            ("/save", "POST") => post(&|f| self.save(f, false)),
            ("/apply", "POST") => post(&|f| self.save(f, true)),
            ("/solve", "POST") => post(&|f| self.solve(f)),
            ("/" | "/head", _) => not_allowed("GET, HEAD"),
            ("/events", _) => not_allowed("GET"),
            ("/whatif" | "/save" | "/apply" | "/solve", _) => not_allowed("POST"),
            _ => Reply::page(
                404,
                shell(
                    "Not found",
                    &format!(
                        "<p>Nothing is at {}. <a href=\"/\">The plan</a>.</p>",
                        escaped(&req.path)
                    ),
                ),
            ),
        }
    }

    /// The `Host` must be this server (DNS rebinding), unless public.
    fn check_host(&self, req: &Req) -> Option<Reply> {
        let Some(host) = req.header("Host") else {
            return Some(Reply::text(400, "a request must say its Host\n"));
        };
        if self.hosts.is_empty() || self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return None;
        }
        Some(Reply::text(
            421,
            format!(
                "this server answers to {}, not {host:?}\n",
                self.hosts.join(", ")
            ),
        ))
    }

    /// A POST from this server's own page: same origin, a form, the token,
    /// a bounded body. Returns the form's fields.
    fn check_post(
        &self,
        req: &Req,
        length: Option<usize>,
        body: &mut dyn Read,
    ) -> std::result::Result<Form, Reply> {
        let refuse =
            |why: &str| Reply::page(403, shell("Refused", &format!("<p>{}</p>", escaped(why))));
        if let Some(site) = req.header("Sec-Fetch-Site") {
            if !matches!(site.to_ascii_lowercase().as_str(), "same-origin" | "none") {
                return Err(refuse(&format!(
                    "a form sent from another site ({site}) is refused: use this server's own page"
                )));
            }
        }
        if let Some(origin) = req.header("Origin") {
            // The request's Host was checked: this server's page, read
            // directly (http) or through a proxy ending TLS that passes the
            // Host on (https), or the page at --public-url.
            let host = req.header("Host").unwrap_or("");
            let own = [format!("http://{host}"), format!("https://{host}")];
            let allowed = own
                .iter()
                .chain(self.public_origin.as_ref())
                .any(|o| o.eq_ignore_ascii_case(origin));
            if !allowed {
                let shown = self
                    .public_origin
                    .clone()
                    .unwrap_or_else(|| format!("http://{host}"));
                return Err(refuse(&format!(
                    "a form sent from {origin} is refused: only this server's own page ({shown}) may send one"
                )));
            }
        }
        let form_type = req
            .header("Content-Type")
            .and_then(|t| t.split(';').next())
            .is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(Reply::text(
                415,
                "a POST here is a form: Content-Type application/x-www-form-urlencoded\n",
            ));
        }
        let too_large = || {
            Reply::text(
                413,
                format!("the request body is larger than {MAX_BODY} bytes\n"),
            )
        };
        if length.is_some_and(|n| n as u64 > MAX_BODY) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        if body.take(MAX_BODY + 1).read_to_end(&mut bytes).is_err() {
            return Err(Reply::text(400, "the request body could not be read\n"));
        }
        if bytes.len() as u64 > MAX_BODY {
            return Err(too_large());
        }
        let form = Form::parse(&bytes)
            .map_err(|why| Reply::text(400, format!("the form cannot be read: {why}\n")))?;
        let token = form.get("token").unwrap_or("");
        if !bool::from(token.as_bytes().ct_eq(self.token.as_bytes())) {
            return Err(refuse(
                "the form's token is missing or not this server's (was the server restarted? reload the page)",
            ));
        }
        Ok(form)
    }

    fn open(&self) -> Result<Store> {
        Store::open(&self.store)
    }

    /// The latest results' page, rendered again only when main moved to
    /// new results.
    fn live(&self, store: &Store) -> Result<Arc<Live>> {
        let main = store.main_commit()?.map(|c| c.id());
        let cached = self.live.lock().ok().and_then(|l| l.clone());
        if let Some(c) = &cached {
            if c.main == main {
                return Ok(Arc::clone(c));
            }
        }
        let res = trend::results_resource();
        let put = match main {
            Some(m) => history::last_put(&store.repo, m, &res)?,
            None => None,
        };
        let results = put.as_ref().map(|c| c.id());
        let live = match &cached {
            Some(c) if c.results == results => Arc::new(Live {
                main,
                results,
                time: c.time,
                report: c.report.clone(),
            }),
            _ => Arc::new(Live {
                main,
                results,
                time: put.as_ref().map(|c| c.time().seconds()),
                report: match results {
                    None => Err(format!("The store has no {res} yet.")),
                    Some(_) => render_latest(store).map_err(|e| format!("{e:#}")),
                },
            }),
        };
        if let Ok(mut l) = self.live.lock() {
            *l = Some(Arc::clone(&live));
        }
        Ok(live)
    }

    /// The newest results head, for the event stream (the page for it
    /// rendered on the way, so that the browsers' GET finds it ready).
    fn newest(&self) -> Result<Option<live::Head>> {
        let live = self.open().and_then(|s| self.live(&s))?;
        Ok(live.results.map(|r| live::Head {
            commit: r.to_string(),
            time: live.time.unwrap_or(0),
        }))
    }

    fn head(&self) -> Reply {
        match self.open().and_then(|s| self.live(&s)) {
            Ok(live) => Reply::text(
                200,
                format!(
                    "{}\n",
                    live.results.map_or("none".to_owned(), |o| o.to_string())
                ),
            ),
            Err(e) => failed(&e),
        }
    }

    fn home(&self) -> Reply {
        let live = match self.open().and_then(|s| self.live(&s)) {
            Ok(live) => live,
            Err(e) => return failed(&e),
        };
        let mut top = String::new();
        top.push_str("<header class=\"qw-bar\" id=\"qw-top\"");
        let head = live.results.map_or("none".to_owned(), |o| o.to_string());
        let _ = write!(
            top,
            " data-head=\"{head}\">\n<p><strong>qwhatif serve</strong> · <span id=\"qw-latest\">"
        );
        match (live.results, live.time) {
            (Some(r), Some(t)) => {
                let _ = write!(
                    top,
                    "the store's latest <code>qplan results</code>, <code>{}</code> of {}",
                    short(r),
                    escaped(&show_time(t))
                );
            }
            _ => top.push_str("the store has no <code>qplan results</code> yet"),
        }
        top.push_str(
            "</span> <span id=\"qw-updated\" class=\"note\" role=\"status\" hidden></span></p>\n\
             <noscript><p class=\"note\">Reload the page to see results stored since it was loaded.</p></noscript>\n",
        );
        self.form(&mut top, "", None);
        super::solve::form(&mut top, &self.token, "", None);
        top.push_str("</header>\n");
        match &live.report {
            Ok(report) => Reply::page(200, splice(report, &top)),
            Err(why) => Reply::page(
                200,
                shell(
                    "Plan",
                    &format!("{top}<p id=\"qw-none\">{}</p>", escaped(why)),
                ),
            ),
        }
    }

    /// The what-if form, filled with `script`; `error` above it.
    fn form(&self, b: &mut String, script: &str, error: Option<&str>) {
        b.push_str(
            "<form method=\"post\" action=\"/whatif\" id=\"qw-form\" class=\"qw-form\">\n\
             <input type=\"hidden\" name=\"token\" value=\"",
        );
        b.push_str(&self.token);
        b.push_str("\">\n<label for=\"qw-script\"><strong>What if…</strong> a change script, one change a line or separated by <code>;</code></label><br>\n");
        if let Some(e) = error {
            b.push_str("<div class=\"qw-error\" id=\"qw-error\" role=\"alert\"><strong>The what-if was not computed</strong><pre>");
            esc_lines(b, e, "\n");
            b.push_str("</pre></div>\n");
        }
        b.push_str("<textarea name=\"script\" id=\"qw-script\" rows=\"4\" cols=\"80\" spellcheck=\"false\" placeholder=\"end 2014-02-28; add staff &quot;New hire&quot; track=Tenor skill=Apps\">");
        esc_lines(b, script, "\n");
        b.push_str(
            "</textarea><br>\n<button type=\"submit\" id=\"qw-run\">Compute the what-if</button> \
             <span class=\"note\">Nothing is stored: the scenario is computed against the store's current \
             <code>qplan conditioned</code>.</span>\n</form>\n\
             <details class=\"note\"><summary>The change language</summary><pre>",
        );
        b.push_str(LANGUAGE);
        b.push_str("</pre></details>\n");
    }

    /// Reads and parses the script field (errors: 400 empty, 422 bad).
    fn script(&self, form: &Form) -> std::result::Result<(String, Vec<lang::Located>), Reply> {
        let script = form.get("script").unwrap_or("").replace("\r\n", "\n");
        if script.trim().is_empty() {
            return Err(self.form_error(
                400,
                &script,
                "the script is empty: write at least one change",
            ));
        }
        match lang::parse("changes", &script) {
            Ok(changes) => Ok((script, changes)),
            Err(e) => Err(self.form_error(status_of(&e), &script, &e.to_string())),
        }
    }

    fn form_error(&self, status: u16, script: &str, error: &str) -> Reply {
        let mut b = String::from("<p><a href=\"/\">Back to the plan</a></p>\n");
        self.form(&mut b, script, Some(error));
        Reply::page(status, shell("What-if: not computed", &b))
    }

    fn whatif(&self, form: &Form) -> Reply {
        let (script, changes) = match self.script(form) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let store = match self.open() {
            Ok(s) => s,
            Err(e) => return failed(&e),
        };
        let computed = scenario::current_base(&store)
            .map(|c| c.id())
            .and_then(|at| scenario::read_base(&store, at))
            .and_then(|base| {
                let (id, time) = (base.commit.id(), base.commit.time().seconds());
                whatif::run(base.input, changes).map(|w| (id, time, w))
            });
        let (base, time, w) = match computed {
            Ok(x) => x,
            Err(e) if e.exit_code() == exit::DATAERR => {
                return self.form_error(422, &script, &e.to_string())
            }
            Err(e) => return failed(&e),
        };
        let mut top = String::new();
        self.banner(&mut top, &script, base, time, &w);
        let mut report = Vec::new();
        let extras = Extras {
            trend: None,
            provenance: trend::provenance_rows(&w.scenario, Some(&store)),
            store: true,
        };
        if let Err(e) = html::html(&w.scenario, View::default(), &extras, &mut report) {
            return failed(&Error::io("rendering the scenario", e));
        }
        Reply::page(200, splice(&String::from_utf8_lossy(&report), &top))
    }

    /// The Solve panel's answer ([`super::solve`]), on the store's current
    /// `qplan conditioned`; a bad ask is 422 with the form kept.
    fn solve(&self, form: &Form) -> Reply {
        let ask = form.get("ask").unwrap_or("").replace("\r\n", "\n");
        let store = match self.open() {
            Ok(s) => s,
            Err(e) => return failed(&e),
        };
        let base = match scenario::current_base(&store)
            .map(|c| c.id())
            .and_then(|at| scenario::read_base(&store, at))
        {
            Ok(b) => b,
            Err(e) => return failed(&e),
        };
        let mut b = String::from("<p><a href=\"/\">Back to the plan</a></p>\n");
        match super::solve::run(&base.input, &ask) {
            Ok(a) => {
                super::solve::answer(&mut b, &self.token, &ask, &a);
                Reply::page(200, shell("Solve", &b))
            }
            Err(e) if matches!(e.exit_code(), exit::USAGE | exit::DATAERR) => {
                super::solve::form(&mut b, &self.token, &ask, Some(&e.to_string()));
                Reply::page(422, shell("Solve: not answered", &b))
            }
            Err(e) => failed(&e),
        }
    }

    /// The what-if banner: base, changes, what moved, the buttons.
    fn banner(&self, b: &mut String, script: &str, base: Oid, time: i64, w: &WhatIf) {
        let _ = write!(
            b,
            "<header class=\"qw-whatif\" id=\"qw-whatif\" data-base=\"{base}\">\n\
             <p class=\"qw-flag\">WHAT-IF · a scenario, not the plan of record</p>\n\
             <p>Based on <code>qplan conditioned</code> <code id=\"qw-base\">{}</code> of {}; \
             the report below is the scenario's. Nothing is stored until you save or apply it.</p>\n",
            short(base),
            escaped(&show_time(time))
        );
        b.push_str("<h2>Changes</h2>\n<ol id=\"qw-changes\">");
        for c in &w.changes {
            b.push_str("<li><code>");
            esc(b, &c.change.to_string());
            b.push_str("</code></li>");
        }
        b.push_str("</ol>\n<h2>What moves</h2>\n");
        // Each item once: the moves in All, the first list.
        let all: Vec<_> = match w.scenario.tracks.first() {
            Some(all) => w.diff.iter().filter(|m| &m.list == all).collect(),
            None => Vec::new(),
        };
        if all.is_empty() {
            b.push_str(
                "<p id=\"qw-nothing\">Nothing: every item keeps its date and shortage.</p>\n",
            );
        } else {
            let _ = write!(
                b,
                "<table id=\"qw-diff\"><caption>{} whose date or shortage moves</caption>\n<thead><tr><th>id</th><th>name</th><th>track</th><th>before</th><th>after</th><th class=\"n\">days</th><th>shortage before</th><th>shortage after</th></tr></thead>\n<tbody>\n",
                if all.len() == 1 { "1 item".to_owned() } else { format!("{} items", all.len()) }
            );
            // An item's track: the list besides All it is in (in the
            // baseline for an item dropped).
            let mut tracks: std::collections::HashMap<&str, &str> = Default::default();
            for r in [&w.baseline, &w.scenario] {
                for (t, list) in r.work.iter().enumerate().skip(1) {
                    for row in list {
                        tracks.insert(r.id(r.item(row)), &r.tracks[t]);
                    }
                }
            }
            for m in &all {
                let f = whatif::render::diff_fields(m);
                let track = tracks.get(m.id.as_str()).copied().unwrap_or("").to_owned();
                b.push_str("<tr>");
                for (i, v) in [&f[0], &f[1], &track, &f[3], &f[4]].into_iter().enumerate() {
                    b.push_str(if i == 0 { "<td><code>" } else { "<td>" });
                    esc(b, v);
                    b.push_str(if i == 0 { "</code></td>" } else { "</td>" });
                }
                let _ = write!(
                    b,
                    "<td class=\"n\">{}</td>",
                    m.days().map_or(String::new(), |d| format!("{d:+}"))
                );
                for v in [&f[5], &f[6]] {
                    b.push_str("<td>");
                    esc(b, v);
                    b.push_str("</td>");
                }
                b.push_str("</tr>\n");
            }
            b.push_str("</tbody></table>\n");
        }
        // Keep: a name, then save or apply. Discard: back to the plan.
        b.push_str("<form method=\"post\" action=\"/save\" id=\"qw-keep\" class=\"qw-form\">\n");
        let _ = write!(
            b,
            "<input type=\"hidden\" name=\"token\" value=\"{}\">\n\
             <input type=\"hidden\" name=\"base\" value=\"{base}\">\n\
             <input type=\"hidden\" name=\"script\" value=\"",
            self.token
        );
        esc_lines(b, script, "&#10;");
        b.push_str(
            "\">\n<label>Scenario name <input name=\"name\" id=\"qw-name\" pattern=\"[a-z0-9][a-z0-9_-]{0,63}\" \
             maxlength=\"64\" placeholder=\"hire-q4\"></label>\n\
             <button type=\"submit\" id=\"qw-save\">Save as a named scenario</button>\n\
             <button type=\"submit\" id=\"qw-apply\" formaction=\"/apply\">Apply: make it the plan's conditioned data</button>\n\
             </form>\n<form method=\"get\" action=\"/\" class=\"qw-form\"><button type=\"submit\" id=\"qw-discard\">Discard</button></form>\n",
        );
        b.push_str("<h2>Try another</h2>\n");
        self.form(b, script, None);
        b.push_str("</header>\n");
    }

    /// `POST /save` (and `/apply`: saved, then applied).
    fn save(&self, form: &Form, apply: bool) -> Reply {
        let (_, changes) = match self.script(form) {
            Ok(s) => s,
            Err(r) => return r,
        };
        let name = form.get("name").unwrap_or("").trim().to_owned();
        let name = if name.is_empty() && apply {
            format!(
                "web-{}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            )
        } else {
            name
        };
        if name.is_empty() {
            return self.kept_error(400, "give the scenario a name to save it");
        }
        if let Err(e) = scenario::check_name(&name) {
            return self.kept_error(400, &e.to_string());
        }
        let base = match form.get("base").and_then(|b| Oid::from_str(b).ok()) {
            Some(b) if form.get("base").is_some_and(|s| s.len() == 40) => b,
            _ => return self.kept_error(400, "the form does not say which version it is based on"),
        };
        let store = match self.open() {
            Ok(s) => s,
            Err(e) => return failed(&e),
        };
        let saved = scenario::read_base(&store, base)
            .and_then(|b| scenario::save(&store, &name, b, &changes, false, LOCK_WAIT));
        let saved = match saved {
            Ok(s) => s,
            Err(e) => return self.kept_error(status_of(&e), &e.to_string()),
        };
        let mut b = String::new();
        let _ = writeln!(
            b,
            "<p id=\"qw-saved\">Saved scenario <code>{}</code> as commit <code>{}</code>, based on \
             <code>qplan conditioned</code> <code>{}</code>.</p>",
            escaped(&name),
            saved.commit,
            short(saved.base)
        );
        if !apply {
            let _ = write!(
                b,
                "<p class=\"note\">The plan of record is unchanged. From a shell: \
                 <code>qwhatif show {0}</code>, <code>qwhatif apply {0}</code>, <code>qwhatif drop {0}</code>.</p>\n\
                 <p><a href=\"/\">Back to the plan</a></p>\n",
                escaped(&name)
            );
            return Reply::page(200, shell("Scenario saved", &b));
        }
        match scenario::apply(&store, &name, false, LOCK_WAIT) {
            Ok(applied) => {
                let (oid, what) = match applied.put {
                    crate::snap::Put::Committed(o) => (o, "is now"),
                    crate::snap::Put::Unchanged(o) => (o, "was already the same data:"),
                };
                let _ = write!(
                    b,
                    "<p id=\"qw-applied\">Applied: main's <code>qplan conditioned</code> {what} commit <code>{oid}</code>.</p>\n\
                     <p class=\"note\">This page shows <code>qplan results</code>: they change when the plan is computed \
                     again from the new conditioned data (by your pipeline or <code>qwatch</code>).</p>\n\
                     <p><a href=\"/\">Back to the plan</a></p>\n"
                );
                Reply::page(200, shell("Scenario applied", &b))
            }
            Err(e) => {
                let _ = write!(
                    b,
                    "<div class=\"qw-error\" id=\"qw-error\" role=\"alert\"><strong>Not applied</strong><pre>{}</pre></div>\n\
                     <p><a href=\"/\">Back to the plan</a></p>\n",
                    escaped(&e.to_string())
                );
                Reply::page(status_of(&e), shell("Scenario not applied", &b))
            }
        }
    }

    /// A save or apply refused before anything was written.
    fn kept_error(&self, status: u16, why: &str) -> Reply {
        let b = format!(
            "<div class=\"qw-error\" id=\"qw-error\" role=\"alert\"><strong>Nothing was saved</strong><pre>{}</pre></div>\n\
             <p>Go back to keep the what-if and fix it, or <a href=\"/\">back to the plan</a>.</p>\n",
            escaped(why)
        );
        Reply::page(status, shell("Not saved", &b))
    }
}

/// The latest results of the store as the HTML report, with its trend.
fn render_latest(store: &Store) -> anyhow::Result<String> {
    let results = trend::newest(store)?;
    let versions = trend::read(store)?;
    let extras = Extras {
        trend: Some(&versions),
        provenance: trend::provenance_rows(&results, Some(store)),
        store: true,
    };
    let mut out = Vec::new();
    html::html(&results, View::default(), &extras, &mut out)?;
    Ok(String::from_utf8(out)?)
}

/// The HTTP status of an error: bad data 422, usage 400, a busy store
/// 503, the rest 500.
fn status_of(e: &Error) -> u16 {
    match e.exit_code() {
        exit::DATAERR => 422,
        exit::USAGE => 400,
        exit::TEMPFAIL | exit::UNAVAILABLE => 503,
        _ => 500,
    }
}

/// An error that is not the user's script: said plainly, status by kind.
fn failed(e: &Error) -> Reply {
    let status = status_of(e);
    Reply::page(
        status,
        shell(
            "Error",
            &format!(
                "<div class=\"qw-error\" id=\"qw-error\" role=\"alert\"><pre>{}</pre></div>\n<p><a href=\"/\">Back to the plan</a></p>",
                escaped(&format!("{e:#}"))
            ),
        ),
    )
}

fn not_allowed(allow: &str) -> Reply {
    let mut r = Reply::text(405, format!("only {allow} here\n"));
    r.headers.push(("Allow", allow.to_owned()));
    r
}

/// [`esc`] line by line, the line feeds written as `nl` (`esc` makes
/// them U+FFFD): a script keeps its lines in a textarea (`\n`) or an
/// attribute (`&#10;`).
fn esc_lines(b: &mut String, s: &str, nl: &str) {
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            b.push_str(nl);
        }
        esc(b, line);
    }
}

fn escaped(s: &str) -> String {
    let mut b = String::with_capacity(s.len());
    esc(&mut b, s);
    b
}

/// A form's fields (`application/x-www-form-urlencoded`).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> std::result::Result<Form, String> {
        let mut fields = Vec::new();
        for pair in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|&b| b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let decode = |s: &[u8]| -> std::result::Result<String, String> {
                let plus: Vec<u8> = s
                    .iter()
                    .map(|&b| if b == b'+' { b' ' } else { b })
                    .collect();
                let bytes: Vec<u8> = percent_encoding::percent_decode(&plus).collect();
                String::from_utf8(bytes).map_err(|_| "a field is not UTF-8".to_owned())
            };
            fields.push((decode(k)?, decode(v)?));
        }
        Ok(Form(fields))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A page to send and its Content-Security-Policy.
struct Page {
    html: String,
    csp: String,
}

/// The server's own style, added to the report's.
const STYLE: &str = "
.qw-bar,.qw-whatif{margin:0 0 1.5em;padding:.6em 1em;border-radius:6px}
.qw-bar{background:#eef3f8;border:1px solid #c6d4e3}
.qw-whatif{background:#fff4e0;border:3px solid #e08a00}
.qw-flag{font-weight:bold;font-size:1.3em;letter-spacing:.05em;color:#8a4b00;margin:.2em 0}
.qw-form{margin:.6em 0}.qw-form textarea{width:100%;max-width:60em;font:13px/1.4 ui-monospace,monospace}
.qw-error{border:2px solid #b00020;background:#fdecee;padding:.4em .8em;margin:.5em 0;border-radius:4px}
.qw-error pre{white-space:pre-wrap;margin:.3em 0;color:#7a0015}
#qw-diff td,#qw-diff th{font-size:.95em}
";

/// Listens to `/events` and, on new results, fetches the page and puts
/// its report in place of the old one: the bar with the form (and what is
/// typed in it), the scripts, anything marked `data-qw-keep` and the
/// scroll position stay; the bar says "updated hh:mm:ss (commit)". The
/// report's track filter is set up again on the new report, with the
/// track that was chosen. Other scripts of the page run their own update
/// after it by listening to the document's `qw-updated` event.
const SCRIPT: &str = "
(function(){var top=document.getElementById('qw-top');
if(!top||!window.EventSource||!window.fetch||!window.DOMParser)return;
var head=top.getAttribute('data-head'),want=null,busy=false;
function pad(n){return(n<10?'0':'')+n;}
function keep(n){return n===top||n.nodeName==='SCRIPT'||(n.nodeType===1&&n.hasAttribute('data-qw-keep'));}
function filter(v){var f=document.getElementById('filter'),s=document.getElementById('track-filter');
if(!f||!s)return;f.hidden=false;
s.onchange=function(){var v=s.value,a=document.querySelectorAll('section.track');
for(var i=0;i<a.length;i++){a[i].hidden=v!=='*'&&a[i].getAttribute('data-index')!==v;}};
if(v!==null&&v!==undefined){for(var i=0;i<s.options.length;i++){if(s.options[i].value===v){s.value=v;s.onchange();break;}}}}
function swap(text){var doc=new DOMParser().parseFromString(text,'text/html'),ntop=doc.getElementById('qw-top');
if(!ntop)return false;
var x=window.scrollX,y=window.scrollY,sel=document.getElementById('track-filter'),v=sel?sel.value:null,b=document.body;
Array.prototype.slice.call(b.childNodes).forEach(function(n){if(!keep(n))b.removeChild(n);});
var at=top.nextSibling;
Array.prototype.slice.call(doc.body.childNodes).forEach(function(n){
if(n.nodeType===1&&(n.id==='qw-top'||n.nodeName==='SCRIPT'||n.hasAttribute('data-qw-keep')))return;
b.insertBefore(document.adoptNode(n),at);});
var l=document.getElementById('qw-latest'),nl=doc.getElementById('qw-latest');
if(l&&nl)l.parentNode.replaceChild(document.adoptNode(nl),l);
head=ntop.getAttribute('data-head');top.setAttribute('data-head',head);
filter(v);window.scrollTo(x,y);
var d=new Date(),u=document.getElementById('qw-updated');
u.textContent='updated '+pad(d.getHours())+':'+pad(d.getMinutes())+':'+pad(d.getSeconds())+' ('+head.slice(0,12)+')';
u.hidden=false;document.dispatchEvent(new CustomEvent('qw-updated',{detail:{commit:head}}));return true;}
function load(){busy=true;want=null;
fetch('/',{cache:'no-store'}).then(function(r){return r.ok?r.text():null;}).then(function(t){
if(t!==null)swap(t);busy=false;if(want&&want!==head)load();}).catch(function(){busy=false;});}
var es=new EventSource('/events?since='+encodeURIComponent(head));
es.onopen=function(){top.setAttribute('data-live','open');};
es.addEventListener('results',function(e){var c;try{c=JSON.parse(e.data).commit;}catch(x){return;}
if(c===head)return;want=c;if(!busy)load();});})();
";

/// The directives every page adds: forms only to this server, fetches
/// only from it, never framed, no `<base>`.
const CSP_MORE: &str =
    "form-action 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The report's page with `top` at the start of its body, the server's
/// style and script added, and its Content-Security-Policy (a `<meta>` in
/// the report) moved to the header with their hashes added.
fn splice(report: &str, top: &str) -> Page {
    const META: &str = "<meta http-equiv=\"Content-Security-Policy\" content=\"";
    let script = SCRIPT;
    let (mine_style, mine_script) = (csp_hash(STYLE), csp_hash(script));
    let mut html = report.to_owned();
    let mut policy = None;
    if let Some(start) = html.find(META) {
        if let Some(len) = html[start + META.len()..].find("\">") {
            let content = html[start + META.len()..start + META.len() + len].to_owned();
            let mut end = start + META.len() + len + 2;
            if html[end..].starts_with('\n') {
                end += 1;
            }
            html.replace_range(start..end, "");
            policy = Some(content);
        }
    }
    let mut directives: Vec<String> = policy
        .as_deref()
        .unwrap_or("default-src 'none'")
        .split(';')
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    for (name, hash) in [("style-src", &mine_style), ("script-src", &mine_script)] {
        match directives
            .iter_mut()
            .find(|d| d.split(' ').next() == Some(name))
        {
            Some(d) => {
                d.push(' ');
                d.push_str(hash);
            }
            None => directives.push(format!("{name} {hash}")),
        }
    }
    directives.push(CSP_MORE.to_owned());
    if let Some(at) = html.find("</head>") {
        html.insert_str(at, &format!("<style>{STYLE}</style>\n"));
    }
    if let Some(at) = html.find("<body>") {
        let at = at + "<body>".len();
        let at = at + usize::from(html[at..].starts_with('\n'));
        html.insert_str(at, top);
    }
    if let Some(at) = html.rfind("</body>") {
        html.insert_str(at, &format!("<script>{script}</script>\n"));
    }
    Page {
        html,
        csp: directives.join("; "),
    }
}

/// A page of the server's own (errors, confirmations, no results yet).
fn shell(title: &str, body: &str) -> Page {
    let mut html =
        String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    esc(&mut html, title);
    html.push_str(" · qwhatif serve</title>\n</head>\n<body>\n<h1>");
    esc(&mut html, title);
    html.push_str("</h1>\n");
    html.push_str(body);
    html.push_str("\n</body>\n</html>\n");
    splice(&html, "")
}

/// The change language, for the page's help.
const LANGUAGE: &str = "start 2013-10-14            end 2014-02-28            skills Apps:Native
holiday 2013-12-24          unholiday 2013-12-26
add staff &quot;New hire&quot; track=Tenor skill=Apps [team=Mobile] [count=2]
remove staff &quot;Bob&quot;          move staff &quot;Bob&quot; track=Money      reskill staff &quot;Bob&quot; skill=Web
vacation &quot;Bob&quot; 2013-12-01..2013-12-10
rank &quot;Item X&quot; 3             estimate &quot;Item X&quot; Apps:4,Web:1    triage &quot;Item X&quot; 1
drop &quot;Item X&quot;               add work &quot;New item&quot; track=Tenor estimate=Apps:2 triage=1.5 rank=4";

/// Runs `qwhatif serve --http` until SIGINT or SIGTERM (exit 0; a second
/// signal while stopping ends it at once, 130), writing the bound address
/// to `ready_file` once it listens.
pub fn run(opts: Options, ready_file: Option<PathBuf>, quiet: bool) -> anyhow::Result<()> {
    let public_url = opts.public_url.clone();
    check_address(&opts.addr, opts.public)?;
    // A second signal while stopping ends it at once (130); the first one
    // stops the server (it listens for them itself).
    let _stop = crate::cli::stop_on_signals()?;
    let shown = opts.store.display().to_string();
    let mut wrote = Ok(());
    serve(opts, |bound| {
        if let Some(p) = &ready_file {
            wrote = write_ready(p, bound);
        }
        if !quiet {
            eprintln!("qwhatif: serving {shown} on http://{bound}/");
            if let Some(p) = &public_url {
                eprintln!(
                    "qwhatif: also answering as {}/ (Host {})",
                    p.origin,
                    p.hosts.join(" or ")
                );
            }
        }
    })?;
    wrote?;
    Ok(())
}

/// Writes the bound address to `path` whole (a temporary file renamed).
fn write_ready(path: &Path, bound: SocketAddr) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io = |e| Error::io(format!("writing {}", path.display()), e);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, format!("http://{bound}/\n").as_bytes()).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_plus_and_percent() {
        let f = Form::parse(b"script=end+2014-02-28%3B+drop+%22A%26B%22&token=x&empty").unwrap();
        assert_eq!(f.get("script"), Some("end 2014-02-28; drop \"A&B\""));
        assert_eq!(f.get("token"), Some("x"));
        assert_eq!(f.get("empty"), Some(""));
        assert_eq!(f.get("none"), None);
        assert!(Form::parse(b"a=%ff").is_err());
    }

    #[test]
    fn the_reports_policy_moves_to_the_header_with_the_servers_hashes() {
        let report = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n\
            <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-A'; script-src 'sha256-B'\">\n\
            <style>x</style>\n</head>\n<body>\n<h1>Plan</h1>\n<script>y</script>\n</body>\n</html>\n";
        let page = splice(report, "<header>TOP</header>\n");
        assert!(!page.html.contains("http-equiv"), "{}", page.html);
        assert!(page
            .html
            .contains("<body>\n<header>TOP</header>\n<h1>Plan</h1>"));
        assert!(page
            .html
            .contains(&format!("<style>{STYLE}</style>\n</head>")));
        assert!(page
            .html
            .contains(&format!("<script>{SCRIPT}</script>\n</body>")));
        assert_eq!(
            page.csp,
            format!(
                "default-src 'none'; style-src 'sha256-A' {}; script-src 'sha256-B' {}; {CSP_MORE}",
                csp_hash(STYLE),
                csp_hash(SCRIPT)
            )
        );
    }

    #[test]
    fn the_real_report_is_spliced() {
        // The report of qplan --format html has the markers splice needs:
        // a CSP meta, a head, a body.
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/quarter/conditioned.txt"
        ))
        .unwrap();
        let input =
            match crate::rules::read_plan(&mut crate::stream::Reader::new(&bytes[..])).unwrap() {
                crate::rules::Loaded::Input(i) => *i,
                crate::rules::Loaded::Results(_) => unreachable!(),
            };
        let r = crate::plan::compute(input).unwrap();
        let mut out = Vec::new();
        html::html(&r, View::default(), &Extras::default(), &mut out).unwrap();
        let page = splice(
            &String::from_utf8(out).unwrap(),
            "<header id=\"t\"></header>",
        );
        assert!(!page.html.contains("http-equiv=\"Content-Security-Policy\""));
        assert!(page.html.contains("<body>\n<header id=\"t\"></header>"));
        let style = page
            .csp
            .split("; ")
            .find(|d| d.starts_with("style-src"))
            .unwrap();
        let script_src = page
            .csp
            .split("; ")
            .find(|d| d.starts_with("script-src"))
            .unwrap();
        assert_eq!(style.matches("'sha256-").count(), 2, "{}", page.csp);
        assert_eq!(script_src.matches("'sha256-").count(), 2, "{}", page.csp);
    }

    #[test]
    fn a_known_sha256_in_base64() {
        // sha256("") = e3b0c442…b855, base64 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn only_loopback_without_public() {
        let ok: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let v6: SocketAddr = "[::1]:8080".parse().unwrap();
        let off: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(check_address(&ok, false).is_ok());
        assert!(check_address(&v6, false).is_ok());
        assert_eq!(check_address(&off, false).unwrap_err().exit_code(), 2);
        assert!(check_address(&off, true).is_ok());
    }

    #[test]
    fn public_urls_give_the_origin_and_hosts_a_browser_sends() {
        let p = public_url_arg("https://Plan.Example.com").unwrap();
        assert_eq!(p.origin, "https://plan.example.com");
        assert_eq!(p.hosts, ["plan.example.com", "plan.example.com:443"]);
        let p = public_url_arg("https://plan.example.com/").unwrap();
        assert_eq!(p.origin, "https://plan.example.com");
        let p = public_url_arg("http://plan.example.com:8080").unwrap();
        assert_eq!(p.origin, "http://plan.example.com:8080");
        assert_eq!(p.hosts, ["plan.example.com:8080"]);
        let p = public_url_arg("https://plan.example.com:443").unwrap();
        assert_eq!(p.origin, "https://plan.example.com");
        let p = public_url_arg("https://[2001:db8::1]:8443").unwrap();
        assert_eq!(p.origin, "https://[2001:db8::1]:8443");
        for bad in [
            "plan.example.com",
            "ftp://plan.example.com",
            "https://plan.example.com/qplan",
            "https://plan.example.com/?x=1",
            "https://user@plan.example.com",
            "https://",
            "",
            "https://plan example",
        ] {
            let e = public_url_arg(bad).unwrap_err();
            assert!(e.contains("https://plan.example.com"), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn public_url_arg_never_panics(s in "\\PC*") {
            let _ = public_url_arg(&s);
        }

        #[test]
        fn public_url_origins_read_back(host in "[a-z][a-z0-9-]{0,20}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
                                        https in proptest::bool::ANY,
                                        port in proptest::option::of(1u16..)) {
            let scheme = if https { "https" } else { "http" };
            let url = match port {
                Some(p) => format!("{scheme}://{host}:{p}"),
                None => format!("{scheme}://{host}"),
            };
            let p = public_url_arg(&url).unwrap();
            let default = if https { 443 } else { 80 };
            match port {
                Some(n) if n != default => {
                    proptest::prop_assert_eq!(&p.origin, &url);
                    proptest::prop_assert_eq!(p.hosts, vec![format!("{host}:{n}")]);
                }
                _ => {
                    proptest::prop_assert_eq!(p.origin, format!("{scheme}://{host}"));
                    proptest::prop_assert_eq!(p.hosts, vec![host.clone(), format!("{host}:{default}")]);
                }
            }
        }
    }
}
