//! A smart-HTTP git server for the tests: `git http-backend` run as a CGI
//! program behind a small HTTP/1.1 server on 127.0.0.1, port 0, plain or
//! over TLS (rustls, with a self-signed certificate rcgen makes for the
//! test), optionally asking for Basic authentication or failing every
//! request with a given status.
//!
//! One request per connection (`Connection: close`), so the same code
//! serves a TCP stream and a TLS stream; tiny_http cannot serve TLS with
//! the rustls the project already builds.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

/// How the server behaves.
#[derive(Clone, Default)]
pub struct Options {
    /// Serve TLS with this configuration.
    pub tls: Option<Arc<ServerConfig>>,
    /// Ask for Basic authentication as `user:password`.
    pub auth: Option<String>,
    /// Answer every request with this status (503: a server in trouble).
    pub fail_with: Option<u16>,
}

/// A running server; stopped when dropped.
pub struct GitServer {
    /// `http://127.0.0.1:PORT` (or https), without a trailing slash.
    pub base: String,
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl GitServer {
    /// Serves the bare repositories under `root` (`BASE/NAME.git`).
    pub fn start(root: &Path, options: Options) -> GitServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let scheme = if options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let accept = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (root, options) = (root.clone(), options.clone());
                    std::thread::spawn(move || connection(conn, &root, &options));
                }
            })
        };
        GitServer {
            base: format!("{scheme}://{addr}"),
            addr,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop, which then sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost: its PEM (what a
/// client trusts) and a server configuration that presents it.
pub fn self_signed() -> (String, Arc<ServerConfig>) {
    let key = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let pem = key.cert.pem();
    let chain = vec![CertificateDer::from(key.cert.der().to_vec())];
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .expect("server certificate");
    (pem, Arc::new(config))
}

fn connection(tcp: TcpStream, root: &Path, options: &Options) {
    let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)));
    match &options.tls {
        None => {
            let _ = serve(tcp, root, options);
        }
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                return;
            };
            let stream = rustls::StreamOwned::new(conn, tcp);
            if let Some(mut s) = serve(stream, root, options) {
                s.conn.send_close_notify();
                let _ = s.conn.complete_io(&mut s.sock);
            }
        }
    }
}

/// One request and its answer; returns the stream for a clean TLS close.
fn serve<S: Read + Write>(stream: S, root: &Path, options: &Options) -> Option<S> {
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers: HashMap<String, String> = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        r.get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .ok()?;
    }
    let body = read_body(&mut r, &headers)?;
    let (status, head, out) = if let Some(code) = options.fail_with {
        (
            format!("{code} Failing"),
            Vec::new(),
            b"try later\n".to_vec(),
        )
    } else if let Some(want) = &options.auth {
        let expected = format!("Basic {}", base64(want.as_bytes()));
        if headers.get("authorization") == Some(&expected) {
            let user = want.split_once(':').map_or(want.as_str(), |(u, _)| u);
            cgi(root, &method, &target, &headers, &body, Some(user))
        } else {
            (
                "401 Unauthorized".to_owned(),
                vec![(
                    "WWW-Authenticate".to_owned(),
                    "Basic realm=\"qsnap test\"".to_owned(),
                )],
                b"who are you?\n".to_vec(),
            )
        }
    } else {
        cgi(root, &method, &target, &headers, &body, None)
    };
    let w = r.get_mut();
    let mut reply = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in head {
        reply.push_str(&format!("{k}: {v}\r\n"));
    }
    reply.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        out.len()
    ));
    w.write_all(reply.as_bytes()).ok()?;
    w.write_all(&out).ok()?;
    w.flush().ok()?;
    Some(r.into_inner())
}

/// The request body: `Content-Length` bytes, or chunks.
fn read_body<R: BufRead>(r: &mut R, headers: &HashMap<String, String>) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = headers.get("content-length") {
        body.resize(n.parse().ok()?, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some(body)
}

type Reply = (String, Vec<(String, String)>, Vec<u8>);

/// Runs `git http-backend` for one request (RFC 3875).
fn cgi(
    root: &Path,
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
    body: &[u8],
    user: Option<&str>,
) -> Reply {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut cmd = Command::new("git");
    cmd.arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        // Pushes without authentication too.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "true")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("REQUEST_METHOD", method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(u) = user {
        cmd.env("REMOTE_USER", u);
    }
    for (k, v) in headers {
        match k.as_str() {
            "content-type" => {
                cmd.env("CONTENT_TYPE", v);
            }
            "content-length" | "transfer-encoding" | "authorization" => {}
            _ => {
                cmd.env(
                    format!("HTTP_{}", k.to_ascii_uppercase().replace('-', "_")),
                    v,
                );
            }
        }
    }
    let Ok(mut child) = cmd.spawn() else {
        return ("500 No Git".into(), Vec::new(), Vec::new());
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let body = body.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().expect("http-backend");
    let _ = feeder.join();
    let text = out.stdout;
    let split = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            text.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((end, start)) = split else {
        return ("502 Bad Gateway".into(), Vec::new(), text);
    };
    let mut status = "200 OK".to_owned();
    let mut head = Vec::new();
    for l in String::from_utf8_lossy(&text[..end]).lines() {
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("status") {
                status = v.trim().to_owned();
            } else {
                head.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
    }
    (status, head, text[start..].to_vec())
}

pub fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A directory of served repositories.
pub fn root_of(sandbox: &Path) -> PathBuf {
    let root = sandbox.join("served");
    std::fs::create_dir_all(&root).expect("served dir");
    root
}

#[test]
fn base64_is_rfc_4648() {
    assert_eq!(base64(b"bob:s3cret"), "Ym9iOnMzY3JldA==");
    assert_eq!(base64(b"ab"), "YWI=");
    assert_eq!(base64(b"abc"), "YWJj");
    assert_eq!(base64(b""), "");
}
