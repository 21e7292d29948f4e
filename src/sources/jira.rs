//! JIRA sources: a JQL search paged into one document, the same whatever
//! the service behind it.
//!
//! - JIRA Cloud: the enhanced search, `GET /rest/api/2/search/jql`, paged
//!   by `nextPageToken`, with no `total`. The v2 path is used so that text
//!   fields (`/fields/description`) are plain text, not Atlassian Document
//!   Format.
//! - JIRA Server and Data Center: the legacy search, `GET
//!   /rest/api/2/search`, paged by `startAt` and checked against `total`.
//!
//! A site URL alone is enough: the site's `/rest/api/2/serverInfo` says
//! which it is (`deploymentType` `Cloud`), unless `api` says so. Both
//! searches give the same document, `{"issues": [...], "maxResults": n,
//! "startAt": 0, "total": n}`, so a map reading `/issues` works with either.
//! Credentials (`user`, `token`), rate limits (429 with `Retry-After` or
//! `X-RateLimit-Reset`) and JIRA's own error messages are handled here.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value as Json;

use super::fetch::{
    decode, fail, read_body, retry_after, send, Budget, Failure, Fetched, Progress,
};
use super::redact::Secrets;
use super::source::{expand, Api, Header, Kind, Source};

/// Where a search goes, from the configured URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    /// `.../search`: `startAt` and `total` (Server, Data Center).
    Legacy(String),
    /// `.../search/jql`: `nextPageToken` (Cloud).
    Enhanced(String),
    /// A site (`https://acme.atlassian.net`, `https://host/jira`): the
    /// search is chosen by `api` or by the site's serverInfo.
    Site(String),
}

/// What the configured URL is: a search endpoint (used as written) or a
/// site.
fn endpoint(url: &str) -> Result<Endpoint, String> {
    let Some(scheme_end) = url
        .find("://")
        .filter(|_| url.starts_with("http://") || url.starts_with("https://"))
    else {
        return Err("url must start with http:// or https://".into());
    };
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let before_query = url[..end].trim_end_matches('/');
    let rest = &before_query[(scheme_end + 3).min(before_query.len())..];
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("url {url:?} has no host"));
    }
    if path.ends_with("/search/jql") {
        Ok(Endpoint::Enhanced(url.to_owned()))
    } else if path.ends_with("/search") {
        Ok(Endpoint::Legacy(url.to_owned()))
    } else if end < url.len() {
        Err(format!(
            "url {url:?} is neither a search endpoint (.../rest/api/2/search/jql, .../rest/api/2/search) nor a site URL, which has no query"
        ))
    } else {
        Ok(Endpoint::Site(before_query.to_owned()))
    }
}

/// Checks a JIRA source's `url` and `api` when the config is read.
pub fn check(url: &str, api: Option<&str>) -> Result<Option<Api>, String> {
    let api = match api {
        None => None,
        Some("cloud") => Some(Api::Cloud),
        Some("server") => Some(Api::Server),
        Some(other) => {
            return Err(format!(
                "unknown api {other:?} (\"cloud\" for JIRA Cloud, \"server\" for Server and Data Center)"
            ))
        }
    };
    match (endpoint(url)?, api) {
        (Endpoint::Legacy(_), Some(Api::Cloud)) => Err(
            "api = \"cloud\", but url is the legacy search (.../search), which JIRA Cloud has removed: give the site URL alone, or .../rest/api/2/search/jql".into(),
        ),
        (Endpoint::Enhanced(_), Some(Api::Server)) => Err(
            "api = \"server\", but url is JIRA Cloud's enhanced search (.../search/jql): give the site URL alone, or .../rest/api/2/search".into(),
        ),
        _ => Ok(api),
    }
}

/// The `Authorization` header made of `user` and `token`: Basic with both
/// (JIRA Cloud: the account's e-mail and an API token), Bearer with the
/// token alone (Server and Data Center: a personal access token). Each may
/// be `${VAR}` or `${file:PATH}`; the token, and the encoded pair, are
/// secrets whatever they came from.
pub fn auth(
    user: &Option<String>,
    token: &Option<String>,
    headers: &BTreeMap<String, String>,
    secrets: &mut Secrets,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Header>, String> {
    let Some(token) = token else {
        if user.is_some() {
            return Err("user needs token (JIRA Cloud: an API token)".into());
        }
        return Ok(None);
    };
    if headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        return Err("give token or an Authorization header, not both".into());
    }
    let token = expand(token, secrets, env).map_err(|e| e.to_string())?;
    if token.trim().is_empty() {
        return Err("token is empty".into());
    }
    secrets.add(&token);
    let value = match user {
        Some(user) => {
            let user = expand(user, secrets, env).map_err(|e| e.to_string())?;
            if user.trim().is_empty() {
                return Err("user is empty".into());
            }
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
            secrets.add(&pair);
            format!("Basic {pair}")
        }
        None => format!("Bearer {token}"),
    };
    Ok(Some(Header {
        name: "Authorization".into(),
        value,
        secret: true,
    }))
}

/// Runs the search of a JIRA source.
pub(super) fn search(
    src: &Source,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let Kind::Jira {
        url,
        jql,
        fields,
        page_size,
        api,
    } = &src.kind
    else {
        return Err(fail(false, "not a JIRA source"));
    };
    let endpoint = match endpoint(url).map_err(|e| fail(false, e))? {
        Endpoint::Site(base) => {
            let cloud = match api {
                Some(api) => *api == Api::Cloud,
                None => is_cloud(src, &base, budget, progress)?,
            };
            if cloud {
                Endpoint::Enhanced(format!("{base}/rest/api/2/search/jql"))
            } else {
                Endpoint::Legacy(format!("{base}/rest/api/2/search"))
            }
        }
        e => e,
    };
    match endpoint {
        Endpoint::Enhanced(u) => enhanced(src, &u, jql, fields, *page_size, budget, progress),
        Endpoint::Legacy(u) => legacy(src, &u, jql, fields, *page_size, budget, progress),
        Endpoint::Site(_) => Err(fail(false, "no search endpoint")),
    }
}

/// An answer of the server, whatever its status, with its body read.
struct Answer {
    status: u16,
    text: String,
    content_type: String,
    /// `Retry-After`, or else the time until `X-RateLimit-Reset`.
    wait: Option<Duration>,
}

/// `X-RateLimit-Reset`: when the limit resets, in ISO 8601
/// (`2025-01-31T10:30Z` as JIRA Cloud sends it, or with seconds and an
/// offset); the time from now, zero when it is past.
pub fn reset_in(value: &str) -> Option<Duration> {
    let v = value.trim();
    let when = chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(v, f).ok())
                .map(|t| t.and_utc())
        })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    let secs = when
        .timestamp()
        .saturating_sub(i64::try_from(now).ok()?)
        .max(0);
    Some(Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The pause after the n-th 429 that said nothing of when to come back.
fn backoff(src: &Source, n: u32) -> Duration {
    Duration::try_from_secs_f64(src.backoff.as_secs_f64() * 2f64.powi(n.min(30) as i32))
        .unwrap_or(Duration::from_secs(300))
        .min(Duration::from_secs(300))
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// One GET. A 429 is waited out and asked again, when the wait fits in
/// what is left of the source's timeout, at most `retries` times; beyond
/// that it is a temporary failure.
fn call(
    src: &Source,
    url: &str,
    query: &[(&str, String)],
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Answer, Failure> {
    let mut waits = 0;
    loop {
        let mut resp = send(src, url, None, query, budget)?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let wait =
            retry_after(&header("retry-after")).or_else(|| reset_in(&header("x-ratelimit-reset")));
        let content_type = header("content-type");
        let bytes = read_body(&mut resp, budget, progress)?;
        if status == 429 {
            let pause = wait.unwrap_or_else(|| backoff(src, waits));
            let left = budget.time_left()?;
            let fits = left.is_none_or(|l| pause < l);
            if waits < src.retries && fits {
                std::thread::sleep(pause);
                waits += 1;
                continue;
            }
            let why = match left {
                Some(l) if !fits => format!(
                    ": JIRA asks to wait {}, more than the {} left of the timeout",
                    seconds(pause),
                    seconds(l)
                ),
                _ => format!(" {} times in a row", waits + 1),
            };
            let mut f = fail(true, format!("rate limited (HTTP 429){why}"));
            f.retry_after = wait;
            return Err(f);
        }
        let text = if (200..300).contains(&status) {
            decode(bytes, src.encoding)?
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        return Ok(Answer {
            status,
            text,
            content_type,
            wait,
        });
    }
}

/// What JIRA says in an error's body: `errorMessages`, `errors` and
/// `message`, joined; cut to 500 bytes.
fn jira_says(text: &str) -> String {
    let Ok(doc) = serde_json::from_str::<Json>(text) else {
        return String::new();
    };
    let mut said: Vec<String> = Vec::new();
    if let Some(a) = doc.get("errorMessages").and_then(Json::as_array) {
        said.extend(a.iter().filter_map(Json::as_str).map(str::to_owned));
    }
    if let Some(o) = doc.get("errors").and_then(Json::as_object) {
        said.extend(
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}: {v}"))),
        );
    }
    if let Some(m) = doc.get("message").and_then(Json::as_str) {
        said.push(m.to_owned());
    }
    let mut s = said
        .iter()
        .map(|s| s.trim().replace(['\n', '\r', '\t'], " "))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    if s.len() > 500 {
        let mut cut = 500;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// The site part of a search endpoint's URL: what comes before `/rest/`.
fn site_of(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    url.find("/rest/").map_or(url, |i| &url[..i])
}

/// A failure for an answer that is not a success, or None.
fn refusal(src: &Source, ans: &Answer, url: &str, legacy: bool) -> Option<Failure> {
    let status = ans.status;
    if (200..300).contains(&status) {
        return None;
    }
    let said = jira_says(&ans.text);
    let says = if said.is_empty() {
        String::new()
    } else {
        format!(", JIRA says: {said}")
    };
    let f = match status {
        401 | 403 => {
            let has_auth = src
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("authorization"));
            let hint = if has_auth {
                "check user and token"
            } else {
                "none were given: set user and token"
            };
            fail(
                false,
                format!(
                    "JIRA refused the credentials (HTTP {status}{says}): {hint} (JIRA Cloud: the account's e-mail as user and an API token as token; Server and Data Center: a personal access token as token, without user)"
                ),
            )
        }
        410 if legacy => {
            let site = site_of(url);
            fail(
                false,
                format!(
                    "HTTP 410 Gone{says}: JIRA Cloud has removed this search (.../rest/api/2/search); use its enhanced search, /rest/api/2/search/jql: in the config, url = \"{site}\" (the site alone, qpull then chooses) or url = \"{site}/rest/api/2/search/jql\""
                ),
            )
        }
        400 => fail(
            false,
            format!(
                "JIRA rejected the search (HTTP 400): {}",
                if said.is_empty() {
                    "no reason given"
                } else {
                    &said
                }
            ),
        ),
        408 | 500..=599 => {
            let mut f = fail(true, format!("HTTP {status}{says}"));
            f.retry_after = ans.wait;
            f
        }
        _ => fail(false, format!("HTTP {status}{says}")),
    };
    Some(f)
}

/// Whether a site is JIRA Cloud, from its serverInfo.
fn is_cloud(
    src: &Source,
    base: &str,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<bool, Failure> {
    let url = format!("{base}/rest/api/2/serverInfo");
    let ans = call(src, &url, &[], budget, progress)?;
    let choose = "; or set api = \"cloud\" or \"server\", or give the search endpoint as url";
    if ans.status == 404 {
        return Err(fail(
            false,
            format!(
                "{url} answered 404: is {base} a JIRA site? (a Data Center site under a path takes it: https://host/jira){choose}"
            ),
        ));
    }
    if let Some(mut f) = refusal(src, &ans, &url, false) {
        f.message = format!("asking the site which JIRA it is: {}", f.message);
        return Err(f);
    }
    let doc: Json = serde_json::from_str(&ans.text).map_err(|e| {
        fail(
            false,
            format!("{url}: not JSON ({e}): is {base} a JIRA site?{choose}"),
        )
    })?;
    Ok(doc
        .get("deploymentType")
        .and_then(Json::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("cloud")))
}

/// Appends one page's issues, checking that none comes twice.
fn take(
    got: &[Json],
    keys: &mut HashSet<String>,
    out: &mut String,
    bad: &dyn Fn(String) -> Failure,
    again: &str,
) -> Result<(), Failure> {
    for issue in got {
        let Some(key) = issue.get("key").and_then(Json::as_str) else {
            return Err(bad(
                "an issue without a \"key\" (a search asked for no fields sends only ids)".into(),
            ));
        };
        if !keys.insert(key.to_owned()) {
            return Err(bad(format!("issue {key} again: {again}")));
        }
        if keys.len() > 1 {
            out.push(',');
        }
        out.push_str(&issue.to_string());
    }
    Ok(())
}

/// The document of a whole search: every issue, as if on one page.
fn whole(mut out: String, n: usize, last: &Answer) -> Fetched {
    out.push_str(&format!(
        "],\"maxResults\":{n},\"startAt\":0,\"total\":{n}}}\n"
    ));
    Fetched {
        text: out,
        status: last.status.to_string(),
        content_type: last.content_type.clone(),
        ..Fetched::default()
    }
}

/// The enhanced search (JIRA Cloud), paged by `nextPageToken` until a page
/// has none. There is no `total`, so the guarantees come from elsewhere:
/// no issue key twice, no token given twice (each is used once: a server
/// that hands out a token again loops), `isLast` never contradicting the
/// token, and the source's time and bytes bounding all pages together. A
/// page may hold fewer issues than asked for, or none, without being the
/// last. Without `fields` the search would send only ids; `*navigable`
/// (what the legacy search sends by default) is asked for then.
fn enhanced(
    src: &Source,
    url: &str,
    jql: &str,
    fields: &[String],
    page_size: u32,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut out = String::from("{\"issues\":[");
    let mut keys: HashSet<String> = HashSet::new();
    let mut tokens: HashSet<String> = HashSet::new();
    let mut token: Option<String> = None;
    let fields = if fields.is_empty() {
        "*navigable".to_owned()
    } else {
        fields.join(",")
    };
    let mut page = 0u64;
    let last = loop {
        page += 1;
        let mut query = vec![
            ("jql", jql.to_owned()),
            ("maxResults", page_size.to_string()),
            ("fields", fields.clone()),
        ];
        if let Some(t) = &token {
            query.push(("nextPageToken", t.clone()));
        }
        let bad = |message: String| fail(false, format!("page {page}: {message}"));
        let ans = call(src, url, &query, budget, progress).map_err(|mut f| {
            if page > 1 {
                f.message = format!("page {page}: {}", f.message);
            }
            f
        })?;
        if let Some(mut f) = refusal(src, &ans, url, false) {
            if page > 1 {
                f.message = format!("page {page}: {}", f.message);
            }
            return Err(f);
        }
        let doc: Json =
            serde_json::from_str(&ans.text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Some(got) = doc.get("issues").and_then(Json::as_array) else {
            return Err(bad("no \"issues\" array".into()));
        };
        take(
            got,
            &mut keys,
            &mut out,
            &bad,
            "the server repeats itself (nextPageToken ignored?)",
        )?;
        let next = match doc.get("nextPageToken") {
            None | Some(Json::Null) => None,
            Some(Json::String(t)) if !t.is_empty() => Some(t.clone()),
            Some(other) => return Err(bad(format!("nextPageToken {other} is not a token"))),
        };
        match (&next, doc.get("isLast").and_then(Json::as_bool)) {
            (None, Some(false)) => {
                return Err(bad(
                    "isLast is false, but there is no nextPageToken: the rest cannot be asked for"
                        .into(),
                ))
            }
            (Some(_), Some(true)) => {
                return Err(bad(
                    "isLast is true, but there is a nextPageToken: cannot tell whether the search is complete".into(),
                ))
            }
            _ => {}
        }
        progress.issues(page, keys.len() as u64, None, next.is_some());
        let Some(next) = next else { break ans };
        if !tokens.insert(next.clone()) {
            return Err(bad("a nextPageToken given before: the server loops".into()));
        }
        token = Some(next);
    };
    Ok(whole(out, keys.len(), &last))
}

/// The legacy search (JIRA Server and Data Center), paged through
/// `startAt`/`maxResults` until every issue is fetched.
///
/// The pages must agree: each has a `total`, the same on every page; an
/// answered `startAt` is the one asked for; no issue key comes twice (a
/// server that ignores `startAt`); no page is empty before the total is
/// reached. Anything else fails the source: a search that cannot be shown
/// complete is not taken. Issues are written out page by page, so memory
/// is about the size of the result, not of its parsed form.
fn legacy(
    src: &Source,
    url: &str,
    jql: &str,
    fields: &[String],
    page_size: u32,
    budget: &mut Budget,
    progress: &Progress,
) -> Result<Fetched, Failure> {
    let mut out = String::from("{\"issues\":[");
    let mut keys: HashSet<String> = HashSet::new();
    let mut total: Option<u64> = None;
    let mut pages = 0u64;
    let last = loop {
        pages += 1;
        let at = keys.len();
        let mut query = vec![
            ("jql", jql.to_owned()),
            ("startAt", at.to_string()),
            ("maxResults", page_size.to_string()),
        ];
        if !fields.is_empty() {
            query.push(("fields", fields.join(",")));
        }
        let page = call(src, url, &query, budget, progress)?;
        if let Some(f) = refusal(src, &page, url, true) {
            return Err(f);
        }
        let bad = |message: String| fail(false, format!("page at startAt={at}: {message}"));
        let doc: Json =
            serde_json::from_str(&page.text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Some(got) = doc.get("issues").and_then(Json::as_array) else {
            return Err(bad("no \"issues\" array".into()));
        };
        let Some(this_total) = doc.get("total").and_then(Json::as_u64) else {
            return Err(bad(
                "no \"total\": cannot tell when the search is complete".into()
            ));
        };
        match total {
            None => total = Some(this_total),
            Some(t) if t != this_total => {
                // The search changed while it was read: the next run may
                // see it whole.
                return Err(fail(
                    true,
                    format!("the total changed from {t} to {this_total} at startAt={at}: the search changed while it was read"),
                ));
            }
            Some(_) => {}
        }
        if let Some(start) = doc.get("startAt") {
            if start.as_u64() != Some(at as u64) {
                return Err(bad(format!("the server answered startAt={start}")));
            }
        }
        take(
            got,
            &mut keys,
            &mut out,
            &bad,
            "the server does not page (startAt ignored?)",
        )?;
        let have = keys.len() as u64;
        progress.issues(pages, have, Some(this_total), have < this_total);
        if have > this_total {
            return Err(bad(format!(
                "{have} issues, more than the total {this_total}"
            )));
        }
        if have == this_total {
            break page;
        }
        if got.is_empty() {
            return Err(bad(format!(
                "no issues, but only {have} of {this_total} were read"
            )));
        }
    };
    Ok(whole(out, keys.len(), &last))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "JIRA_USER" => Some("ana@acme.example".into()),
            "JIRA_TOKEN" => Some("tok-123456".into()),
            _ => None,
        }
    }

    #[test]
    fn a_url_is_a_site_or_a_search() {
        use Endpoint::*;
        let e = |u: &str| endpoint(u).unwrap();
        assert_eq!(
            e("https://acme.atlassian.net"),
            Site("https://acme.atlassian.net".into())
        );
        assert_eq!(
            e("https://acme.atlassian.net/"),
            Site("https://acme.atlassian.net".into())
        );
        assert_eq!(
            e("https://jira.corp.example/jira/"),
            Site("https://jira.corp.example/jira".into())
        );
        assert_eq!(
            e("https://h/rest/api/2/search"),
            Legacy("https://h/rest/api/2/search".into())
        );
        assert_eq!(
            e("https://h/rest/api/3/search/jql?x=1"),
            Enhanced("https://h/rest/api/3/search/jql?x=1".into())
        );
        assert!(endpoint("ftp://h").unwrap_err().contains("http://"));
        assert!(endpoint("https://h/x?y=1")
            .unwrap_err()
            .contains("no query"));
        assert!(endpoint("https:///x").unwrap_err().contains("no host"));
    }

    #[test]
    fn api_agrees_with_the_url() {
        assert_eq!(check("https://h", Some("cloud")), Ok(Some(Api::Cloud)));
        assert_eq!(check("https://h", Some("server")), Ok(Some(Api::Server)));
        assert_eq!(check("https://h", None), Ok(None));
        assert!(check("https://h", Some("dc"))
            .unwrap_err()
            .contains("unknown api \"dc\""));
        assert!(check("https://h/rest/api/2/search", Some("cloud"))
            .unwrap_err()
            .contains("JIRA Cloud has removed"));
        assert!(check("https://h/rest/api/2/search/jql", Some("server")).is_err());
    }

    #[test]
    fn user_and_token_make_basic_or_bearer() {
        let mut s = Secrets::default();
        let none = BTreeMap::new();
        // base64("ana@acme.example:tok-123456"), worked out by hand (and
        // by `base64` of coreutils).
        let h = auth(
            &Some("${JIRA_USER}".into()),
            &Some("${JIRA_TOKEN}".into()),
            &none,
            &mut s,
            &env,
        )
        .unwrap()
        .unwrap();
        assert_eq!(h.value, "Basic YW5hQGFjbWUuZXhhbXBsZTp0b2stMTIzNDU2");
        assert!(h.secret);
        assert_eq!(s.redact(&h.value), "Basic ***");
        let h = auth(&None, &Some("pat-abcdef".into()), &none, &mut s, &env)
            .unwrap()
            .unwrap();
        assert_eq!(h.value, "Bearer pat-abcdef");
        // A token written in the config is a secret all the same.
        assert_eq!(s.redact("pat-abcdef"), "***");
        assert_eq!(auth(&None, &None, &none, &mut s, &env), Ok(None));
        assert!(auth(&Some("a".into()), &None, &none, &mut s, &env)
            .unwrap_err()
            .contains("user needs token"));
        let mut h = BTreeMap::new();
        h.insert("authorization".to_owned(), "x".to_owned());
        assert!(auth(&None, &Some("t".into()), &h, &mut s, &env)
            .unwrap_err()
            .contains("not both"));
        assert!(auth(&None, &Some("${NOPE}".into()), &none, &mut s, &env)
            .unwrap_err()
            .contains("NOPE is not set"));
    }

    #[test]
    fn jira_says_what_went_wrong() {
        assert_eq!(
            jira_says(r#"{"errorMessages":["Field 'x' does not exist."],"errors":{"jql":"bad"}}"#),
            "Field 'x' does not exist.; jql: bad"
        );
        assert_eq!(jira_says("<html>nope</html>"), "");
        assert_eq!(
            jira_says(r#"{"message":"Client must be authenticated"}"#),
            "Client must be authenticated"
        );
        assert!(jira_says(&format!(r#"{{"message":"{}"}}"#, "é".repeat(400))).ends_with("..."));
    }

    #[test]
    fn rate_limit_reset_is_a_time() {
        assert_eq!(reset_in("2015-10-21T07:28Z"), Some(Duration::ZERO));
        assert_eq!(reset_in("2015-10-21T07:28:00+02:00"), Some(Duration::ZERO));
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let later = chrono::DateTime::from_timestamp(now + 7200, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%MZ")
            .to_string();
        let d = reset_in(&later).unwrap();
        assert!(
            d > Duration::from_secs(3600) && d <= Duration::from_secs(7200),
            "{d:?}"
        );
        assert_eq!(reset_in("soon"), None);
        assert_eq!(reset_in("30"), None);
    }

    #[test]
    fn the_site_of_an_endpoint() {
        assert_eq!(
            site_of("https://acme.atlassian.net/rest/api/2/search?x"),
            "https://acme.atlassian.net"
        );
        assert_eq!(
            site_of("http://h:8080/jira/rest/api/2/search"),
            "http://h:8080/jira"
        );
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,60}", api in proptest::option::of("\\PC{0,8}")) {
            let _ = endpoint(&s);
            let _ = check(&s, api.as_deref());
            let _ = reset_in(&s);
            let _ = jira_says(&s);
            let _ = site_of(&s);
        }

        #[test]
        fn urls_with_a_scheme_never_panic(rest in "[a-z/?#:.@]{0,30}") {
            let _ = endpoint(&format!("https://{rest}"));
            let _ = endpoint(&format!("http://{rest}"));
        }
    }
}
