//! `qwhatif serve --public-url` behind a reverse proxy (issue 19): the
//! page answers requests whose Host is the public name and forms whose
//! Origin is the public URL, with the headers nginx and Caddy send, and
//! still refuses every other Host and Origin. The headers of the README's
//! nginx snippet are read from the README itself, so that the snippet and
//! the server cannot drift apart.

use crate::serve::{form, Answer, Server, Store};

const PUBLIC: &str = "https://plan.example.com";
const SCRIPT: &str = "end 2013-12-13\ndrop MOB-101";

/// A request as a proxy forwards it: `host` as the Host, then `headers`.
fn via(
    server: &Server,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    if method == "POST" {
        raw.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    server.raw(raw.as_bytes())
}

/// The CSRF token in a page.
fn token_of(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a token") + 20;
    page[at..at + 64].to_owned()
}

/// The fields of a what-if form.
fn whatif_form(token: &str) -> String {
    form(&[("token", token), ("script", SCRIPT)])
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const SAME: (&str, &str) = ("Sec-Fetch-Site", "same-origin");

/// The headers the README's nginx snippet sets, with nginx's variables as
/// they are for a browser at https://plan.example.com (client 203.0.113.5).
fn nginx_headers() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let start = readme
        .find("```nginx\n")
        .expect("the README has an nginx snippet");
    let block = &readme[start..];
    let block = &block[..block[9..].find("```").expect("the snippet ends") + 9];
    assert!(
        block.contains("proxy_pass http://127.0.0.1:8080;"),
        "the snippet proxies to the page's default address:\n{block}"
    );
    let set = regex::Regex::new(r"(?m)^\s*proxy_set_header\s+(\S+)\s+(\S+);").unwrap();
    let headers: Vec<(String, String)> = set
        .captures_iter(block)
        .map(|c| {
            let value = match &c[2] {
                "$host" | "$http_host" => "plan.example.com",
                "$scheme" => "https",
                "$remote_addr" | "$proxy_add_x_forwarded_for" => "203.0.113.5",
                "$server_port" => "443",
                v => panic!("a value the test does not know: {v}"),
            };
            (c[1].to_owned(), value.to_owned())
        })
        .collect();
    assert!(!headers.is_empty(), "the snippet sets headers:\n{block}");
    headers
}

#[test]
fn the_public_name_and_origin_are_answered_and_nothing_else() {
    let store = Store::quarter();
    let server = store.serve_with(&["--public-url", PUBLIC]);
    let before = store.refs();
    let forwarded = [
        ("X-Forwarded-For", "203.0.113.5"),
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "plan.example.com"),
        ("X-Real-IP", "203.0.113.5"),
    ];

    // The page, by its public name (as Caddy and nginx with `Host $host`
    // pass it on), with and without the port, and the head it polls.
    for host in [
        "plan.example.com",
        "PLAN.example.com",
        "plan.example.com:443",
    ] {
        let a = via(&server, "GET", "/", host, &forwarded, "");
        assert_eq!(a.status, 200, "{host}: {}", a.body);
        assert!(a.body.contains("<form method=\"post\" action=\"/whatif\""));
        let head = via(&server, "GET", "/head", host, &forwarded, "");
        assert_eq!(head.status, 200, "{host}");
        assert_eq!(head.body.trim(), store.results);
    }
    // Still by its own address (a proxy that does not pass the Host on).
    assert_eq!(server.get("/").status, 200);

    // A what-if posted from the public page: Origin the public URL, the
    // Host either the public name or the address the proxy dialled.
    let token = token_of(&server.get("/").body);
    let local = server.addr().to_string();
    for host in ["plan.example.com", local.as_str()] {
        let mut headers = vec![FORM, SAME, ("Origin", PUBLIC)];
        headers.extend(forwarded);
        let a = via(
            &server,
            "POST",
            "/whatif",
            host,
            &headers,
            &whatif_form(&token),
        );
        assert_eq!(a.status, 200, "{host}: {}", a.body);
        assert!(a.body.contains("MOB-101"), "{host}");
    }

    // Every other Host is refused (421), with or without forwarded headers.
    for host in [
        "evil.example.com",
        "plan.example.com.evil.example",
        "plan.example.com:8443",
        "example.com",
    ] {
        let a = via(&server, "GET", "/", host, &forwarded, "");
        assert_eq!(a.status, 421, "{host}");
        assert!(a.body.contains("plan.example.com"), "{}", a.body);
    }
    // X-Forwarded-Host does not stand in for the Host.
    let a = via(
        &server,
        "GET",
        "/",
        "evil.example.com",
        &[("X-Forwarded-Host", "plan.example.com")],
        "",
    );
    assert_eq!(a.status, 421);

    // Every other Origin is refused (403), whatever the Host.
    for origin in [
        "https://evil.example.com",
        "https://plan.example.com.evil.example",
        "https://plan.example.com:8443",
        "null",
    ] {
        for host in ["plan.example.com", local.as_str()] {
            let a = via(
                &server,
                "POST",
                "/whatif",
                host,
                &[FORM, ("Origin", origin)],
                &whatif_form(&token),
            );
            assert_eq!(a.status, 403, "{host} {origin}");
            assert!(a.body.contains("refused"));
            assert!(a.body.contains(PUBLIC), "{}", a.body);
        }
    }
    // Another site, said by the browser, even with the public origin.
    let a = via(
        &server,
        "POST",
        "/whatif",
        "plan.example.com",
        &[FORM, ("Origin", PUBLIC), ("Sec-Fetch-Site", "cross-site")],
        &whatif_form(&token),
    );
    assert_eq!(a.status, 403);
    // Nothing was stored by any of it.
    assert_eq!(store.refs(), before);
}

#[test]
fn without_public_url_the_public_name_is_refused() {
    let store = Store::quarter();
    let server = store.serve();
    let a = via(&server, "GET", "/", "plan.example.com", &[], "");
    assert_eq!(a.status, 421);
    let token = server.token();
    let a = via(
        &server,
        "POST",
        "/whatif",
        &server.addr().to_string(),
        &[FORM, SAME, ("Origin", PUBLIC)],
        &whatif_form(&token),
    );
    assert_eq!(a.status, 403);
}

#[test]
fn with_public_a_proxy_ending_tls_is_answered() {
    // --public (any Host): a form from https://HOST, as a browser sends it
    // through a proxy that ends TLS and passes the Host on, is the page's
    // own; another origin still is not.
    let store = Store::quarter();
    let server = store.serve_with(&["--public"]);
    let token = server.token();
    let a = via(
        &server,
        "POST",
        "/whatif",
        "plan.example.com",
        &[
            FORM,
            SAME,
            ("Origin", PUBLIC),
            ("X-Forwarded-Proto", "https"),
        ],
        &whatif_form(&token),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let a = via(
        &server,
        "POST",
        "/whatif",
        "plan.example.com",
        &[FORM, ("Origin", "https://evil.example.com")],
        &whatif_form(&token),
    );
    assert_eq!(a.status, 403);
}

#[test]
fn the_readme_nginx_snippet_sends_headers_the_page_accepts() {
    let headers = nginx_headers();
    assert!(
        headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Host")),
        "the snippet passes the Host on: {headers:?}"
    );
    let store = Store::quarter();
    let server = store.serve_with(&["--public-url", PUBLIC]);
    // nginx sends the Host it is told to, the client's other headers
    // (Origin, Sec-Fetch-Site, Content-Type) as they came, and the ones
    // the snippet sets.
    let host = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Host"))
        .map(|(_, v)| v.clone())
        .unwrap();
    let rest: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("Host"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let page = via(&server, "GET", "/", &host, &rest, "");
    assert_eq!(page.status, 200, "{}", page.body);
    let token = token_of(&page.body);
    let mut post = vec![FORM, SAME, ("Origin", PUBLIC)];
    post.extend(rest.iter().copied());
    let a = via(
        &server,
        "POST",
        "/whatif",
        &host,
        &post,
        &whatif_form(&token),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("MOB-101"));
}

#[test]
fn a_public_url_with_a_path_or_no_scheme_is_a_usage_error() {
    let store = Store::quarter();
    for bad in [
        "plan.example.com",
        "https://plan.example.com/qplan/",
        "ftp://plan.example.com",
    ] {
        store
            .tool("qwhatif")
            .args(["serve", "--http", "127.0.0.1:0", "--public-url", bad])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("https://plan.example.com"));
    }
}
