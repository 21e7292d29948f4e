//! qpull against a fake JIRA on 127.0.0.1 (an ephemeral port) that behaves
//! like the two services as Atlassian documents them:
//!
//! - JIRA Cloud: `serverInfo` says `"deploymentType": "Cloud"`; the legacy
//!   `/rest/api/{2,3}/search` answers 410 Gone with Atlassian's message;
//!   `/rest/api/{2,3}/search/jql` pages by `nextPageToken` (omitted on the
//!   last page, as Cloud does, not null), has no `total`, caps
//!   `maxResults` at 100 when fields are asked for and 5,000 for ids only,
//!   may send short pages, sends only ids when no `fields` are asked for,
//!   wants Basic auth (e-mail and API token) and may answer 429 once.
//! - JIRA Server/Data Center: `"deploymentType": "Server"`; the legacy
//!   search with `startAt`, `maxResults` (at most 1,000) and `total`;
//!   `/search/jql` does not exist (404); wants a personal access token as
//!   Bearer.
//!
//! Both answer 401 without the right credentials and 400 with JIRA's
//! `errorMessages` for a JQL they cannot read.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value as Json};
use tiny_http::{Header, Response, Server};

use crate::util::{fixture, fixture_text, shows_bar, Sandbox};

const USER: &str = "ana@acme.example";
const TOKEN: &str = "sekret-token-42";
/// base64("ana@acme.example:sekret-token-42"), worked out with coreutils'
/// `base64`, not with the code under test.
const BASIC: &str = "Basic YW5hQGFjbWUuZXhhbXBsZTpzZWtyZXQtdG9rZW4tNDI=";
const PAT: &str = "pat-0123456789abcdef";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Service {
    Cloud,
    DataCenter,
}

/// How the fake departs from a well-behaved server, for the bad-input
/// tests.
#[derive(Clone, Default)]
struct Quirks {
    /// Cloud: pages shorter than asked for, by (page number mod 3).
    short_pages: bool,
    /// A 429 (Retry-After: 0, X-RateLimit-Reset in the past) on the
    /// second search request, once.
    rate_limit_once: bool,
    /// A 429 on every search request, with these headers.
    rate_limit_always: Option<Vec<(String, String)>>,
    /// Cloud: the first token handed out again on the second page.
    repeat_token: bool,
    /// Cloud: a fresh token and no issue on every page, for ever.
    endless: bool,
    /// The body of every search answer instead of JSON.
    not_json: Option<String>,
    /// Cloud: ids only, whatever `fields` says.
    ignore_fields: bool,
}

/// One request as the fake saw it.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
}

impl Seen {
    fn arg(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Fake {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Bytes of response bodies sent.
    bytes: Arc<AtomicUsize>,
    server: Arc<Server>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

impl Fake {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn searches(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.contains("/search"))
            .collect()
    }
}

type Reply = Response<Box<dyn Read + Send>>;

fn reply(status: u16, body: String, headers: &[(&str, &str)]) -> (Reply, usize) {
    let len = body.len();
    let mut r = Response::new(
        status.into(),
        vec![Header::from_bytes("Content-Type", "application/json;charset=UTF-8").unwrap()],
        Box::new(std::io::Cursor::new(body.into_bytes())) as Box<dyn Read + Send>,
        Some(len),
        None,
    );
    for (k, v) in headers {
        r.add_header(Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
    }
    (r, len)
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// An issue as JIRA sends it with every navigable field; `fields` picks
/// some (None: ids only, as the enhanced search without `fields`).
fn shown(issue: &Json, fields: Option<&str>, base: &str) -> Json {
    let id = issue["id"].clone();
    let Some(fields) = fields else {
        return json!({ "id": id });
    };
    let all = issue["fields"].as_object().cloned().unwrap_or_default();
    let picked: serde_json::Map<String, Json> =
        if fields.split(',').any(|f| f == "*navigable" || f == "*all") {
            all
        } else {
            all.into_iter()
                .filter(|(k, _)| fields.split(',').any(|f| f == k))
                .collect()
        };
    json!({
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": id,
        "self": format!("{base}/rest/api/2/issue/{}", issue["id"].as_str().unwrap_or("")),
        "key": issue["key"],
        "fields": picked,
    })
}

/// A fake JIRA serving `issues` (each with `id`, `key` and `fields`).
fn fake(service: Service, issues: Vec<Json>, quirks: Quirks) -> Fake {
    let server = Arc::new(Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0"));
    let port = server.server_addr().to_ip().expect("ip address").port();
    let base = format!("http://127.0.0.1:{port}");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bytes = Arc::new(AtomicUsize::new(0));
    let (s, sn, by, b) = (server.clone(), seen.clone(), bytes.clone(), base.clone());
    std::thread::spawn(move || {
        let searches = AtomicUsize::new(0);
        let limited = std::sync::atomic::AtomicBool::new(false);
        for req in s.incoming_requests() {
            let (path, query) = req.url().split_once('?').unwrap_or((req.url(), ""));
            let got = Seen {
                path: path.to_owned(),
                query: query
                    .split('&')
                    .filter(|kv| !kv.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (percent_decode(k), percent_decode(v))
                    })
                    .collect(),
                authorization: req
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("Authorization"))
                    .map(|h| h.value.to_string()),
            };
            sn.lock().unwrap().push(got.clone());
            let (resp, len) = answer(service, &issues, &quirks, &got, &b, &searches, &limited);
            by.fetch_add(len, Ordering::SeqCst);
            let _ = req.respond(resp);
        }
    });
    Fake {
        base,
        seen,
        bytes,
        server,
    }
}

fn answer(
    service: Service,
    issues: &[Json],
    quirks: &Quirks,
    req: &Seen,
    base: &str,
    searches: &AtomicUsize,
    limited: &std::sync::atomic::AtomicBool,
) -> (Reply, usize) {
    let error = |status: u16, message: &str| {
        reply(
            status,
            json!({"errorMessages": [message], "errors": {}}).to_string(),
            &[],
        )
    };
    let path = req.path.as_str();
    if path == "/rest/api/2/serverInfo" {
        let (deployment, version) = match service {
            Service::Cloud => ("Cloud", "1001.0.0-SNAPSHOT"),
            Service::DataCenter => ("Server", "9.12.4"),
        };
        return reply(
            200,
            json!({"baseUrl": base, "version": version, "deploymentType": deployment, "serverTitle": "Jira"})
                .to_string(),
            &[],
        );
    }
    let enhanced = path == "/rest/api/2/search/jql" || path == "/rest/api/3/search/jql";
    let legacy = path == "/rest/api/2/search" || path == "/rest/api/3/search";
    match (service, enhanced, legacy) {
        (Service::Cloud, _, true) => {
            return error(
                410,
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
            )
        }
        (Service::DataCenter, true, _) | (_, false, false) => return error(404, "Not found"),
        _ => {}
    }
    let want = match service {
        Service::Cloud => BASIC.to_owned(),
        Service::DataCenter => format!("Bearer {PAT}"),
    };
    if req.authorization.as_deref() != Some(want.as_str()) {
        return error(
            401,
            "You are not authenticated. Authentication required to perform this operation.",
        );
    }
    let jql = req.arg("jql").unwrap_or("");
    if jql.contains("bogus") {
        return error(
            400,
            "Field 'bogus' does not exist or you do not have permission to view it.",
        );
    }
    let n = searches.fetch_add(1, Ordering::SeqCst);
    if let Some(headers) = &quirks.rate_limit_always {
        let h: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        return reply(429, "{\"message\":\"Rate limit exceeded.\"}".into(), &h);
    }
    if quirks.rate_limit_once && n == 1 && !limited.swap(true, Ordering::SeqCst) {
        return reply(
            429,
            "{\"message\":\"Rate limit exceeded.\"}".into(),
            &[
                ("Retry-After", "0"),
                ("X-RateLimit-Reset", "2015-10-21T07:28Z"),
            ],
        );
    }
    if let Some(body) = &quirks.not_json {
        return reply(200, body.clone(), &[]);
    }
    let max = req
        .arg("maxResults")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(50);
    let fields = req.arg("fields");
    if service == Service::DataCenter {
        let start = req
            .arg("startAt")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        let max = max.min(1000);
        let end = (start + max).min(issues.len());
        let page: Vec<Json> = issues[start.min(end)..end]
            .iter()
            .map(|i| shown(i, Some(fields.unwrap_or("*navigable")), base))
            .collect();
        return reply(
            200,
            json!({"expand": "schema,names", "startAt": start, "maxResults": max, "total": issues.len(), "issues": page})
                .to_string(),
            &[],
        );
    }
    // Cloud's enhanced search: the token says where the page starts.
    let fields = if quirks.ignore_fields { None } else { fields };
    let ids_only = fields.is_none_or(|f| f.split(',').all(|f| f == "id" || f == "key"));
    let max = max.min(if ids_only { 5000 } else { 100 });
    let start = match req.arg("nextPageToken") {
        None => 0,
        Some(t) => match t
            .strip_prefix("CAEaAggD-")
            .and_then(|v| v.parse::<usize>().ok())
        {
            Some(at) => at,
            None => return error(400, "The provided next page token is invalid or expired."),
        },
    };
    if quirks.endless {
        return reply(
            200,
            json!({"issues": [], "nextPageToken": format!("CAEaAggD-{}", start + 1), "isLast": false}).to_string(),
            &[],
        );
    }
    let page_no = n;
    let size = if quirks.short_pages {
        max.saturating_sub(page_no % 3).max(1)
    } else {
        max
    };
    let end = (start + size).min(issues.len());
    let page: Vec<Json> = issues[start.min(end)..end]
        .iter()
        .map(|i| shown(i, fields, base))
        .collect();
    let mut doc = json!({ "issues": page });
    if end < issues.len() {
        let next = if quirks.repeat_token && start > 0 {
            "CAEaAggD-0".to_owned()
        } else {
            format!("CAEaAggD-{end}")
        };
        doc["nextPageToken"] = next.into();
        doc["isLast"] = false.into();
    }
    reply(200, doc.to_string(), &[])
}

/// `n` issues MOB-1.. with fields as JIRA sends them (objects for priority
/// and status, a number for story points).
fn issues(n: usize) -> Vec<Json> {
    (1..=n)
        .map(|i| {
            json!({
                "id": (10000 + i).to_string(),
                "key": format!("MOB-{i}"),
                "fields": {
                    "summary": format!("Work item {i}: make the thing do what it should"),
                    "priority": {
                        "self": "https://acme.atlassian.net/rest/api/2/priority/3",
                        "iconUrl": "https://acme.atlassian.net/images/icons/priorities/medium.svg",
                        "name": "Medium",
                        "id": "3"
                    },
                    "status": {
                        "self": "https://acme.atlassian.net/rest/api/2/status/10001",
                        "name": "In Progress",
                        "id": "10001",
                        "statusCategory": {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}
                    },
                    "customfield_10016": (i % 8) as f64 + 0.5,
                    "description": "Plain text, as the v2 API sends it.",
                }
            })
        })
        .collect()
}

/// The fixture's three issues (the legacy result qcondition's JIRA map is
/// tested with), with the ids JIRA would add.
fn fixture_issues() -> Vec<Json> {
    let raw = fixture_text("qcondition/jira.raw.txt");
    let start = raw.find("=====raw jira\n").unwrap() + "=====raw jira\n".len();
    let end = start + raw[start..].find("=====").unwrap();
    let text: String = raw[start..end]
        .lines()
        .map(|l| l.strip_prefix('\t').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let doc: Json = serde_json::from_str(&text).unwrap();
    doc["issues"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, issue)| {
            let mut issue = issue.clone();
            issue["id"] = (20001 + i).to_string().into();
            issue
        })
        .collect()
}

/// Runs qpull with a config; returns (exit, stdout, stderr).
fn pull(sb: &Sandbox, config: &str) -> (i32, String, String) {
    let cfg = sb.write("sources.toml", config);
    let out = sb
        .cmd("qpull")
        .arg("--config")
        .arg(cfg)
        .env("JIRA_USER", USER)
        .env("JIRA_TOKEN", TOKEN)
        .env("JIRA_PAT", PAT)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON document of the raw section `name`.
fn raw_doc(stdout: &str, name: &str) -> Json {
    let start = stdout
        .find(&format!("=====raw {name}\n"))
        .unwrap_or_else(|| panic!("no raw {name} in {stdout}"));
    let body = stdout[start..].lines().nth(1).unwrap();
    serde_json::from_str(body.strip_prefix('\t').unwrap()).unwrap()
}

fn keys(doc: &Json) -> Vec<String> {
    doc["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect()
}

fn cloud_config(base: &str, extra: &str) -> String {
    format!(
        "[source.work]\ntype = \"jira\"\nurl = \"{base}\"\njql = \"project = MOB\"\nfields = [\"summary\", \"priority\", \"customfield_10016\"]\nuser = \"${{JIRA_USER}}\"\ntoken = \"${{JIRA_TOKEN}}\"\nretries = 0\n{extra}"
    )
}

fn dc_config(base: &str, extra: &str) -> String {
    format!(
        "[source.work]\ntype = \"jira\"\nurl = \"{base}\"\njql = \"project = MOB\"\nfields = [\"summary\", \"priority\", \"customfield_10016\"]\ntoken = \"${{JIRA_PAT}}\"\nretries = 0\n{extra}"
    )
}

/// The secrets never show, in any output.
fn no_secrets(out: &str) {
    for s in [TOKEN, PAT, &BASIC[6..]] {
        assert!(!out.contains(s), "secret {s} shown: {out}");
    }
}

#[test]
fn cloud_site_url_pulls_every_issue_through_the_enhanced_search() {
    let all = issues(250);
    let srv = fake(
        Service::Cloud,
        all.clone(),
        Quirks {
            short_pages: true,
            rate_limit_once: true,
            ..Quirks::default()
        },
    );
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(
        &sb,
        &cloud_config(&srv.base, "").replace("retries = 0", "retries = 1"),
    );
    assert_eq!(code, 0, "{stderr}");
    no_secrets(&stdout);
    no_secrets(&stderr);
    let doc = raw_doc(&stdout, "work");
    let want: Vec<String> = (1..=250).map(|i| format!("MOB-{i}")).collect();
    assert_eq!(keys(&doc), want);
    assert_eq!(doc["total"], 250);
    assert_eq!(doc["issues"][0]["fields"]["priority"]["id"], "3");
    assert_eq!(doc["issues"][249]["fields"]["customfield_10016"], 2.5);
    assert!(doc["issues"][0]["fields"].get("status").is_none());
    let seen = srv.seen();
    // The site was asked once which JIRA it is, first.
    assert_eq!(seen[0].path, "/rest/api/2/serverInfo");
    assert_eq!(
        seen.iter()
            .filter(|s| s.path == "/rest/api/2/serverInfo")
            .count(),
        1
    );
    let searches = srv.searches();
    assert!(searches.iter().all(|s| s.path == "/rest/api/2/search/jql"));
    assert!(searches
        .iter()
        .all(|s| s.authorization.as_deref() == Some(BASIC)));
    assert!(searches
        .iter()
        .all(|s| s.arg("jql") == Some("project = MOB")
            && s.arg("fields") == Some("summary,priority,customfield_10016")
            && s.arg("maxResults") == Some("100")));
    // The fake's n-th search request (from 0) gives 100 - n % 3 issues:
    // request 0 gives MOB-1..100, request 1 is the 429, request 2 gives
    // 98 (MOB-101..198), request 3 gives 100 but only MOB-199..250 are
    // left, and no token. Four requests; each token handed out is sent
    // for one page (twice for the page the 429 put off).
    assert_eq!(searches.len(), 4, "{searches:?}");
    let tokens: Vec<&str> = searches
        .iter()
        .filter_map(|s| s.arg("nextPageToken"))
        .collect();
    assert_eq!(
        tokens,
        ["CAEaAggD-100", "CAEaAggD-100", "CAEaAggD-198"],
        "the 429'd page is asked again with its token"
    );
    let distinct: HashSet<&&str> = tokens.iter().collect();
    assert_eq!(distinct.len(), 2);
}

#[test]
fn data_center_site_url_pulls_every_issue_through_the_legacy_search() {
    let srv = fake(Service::DataCenter, issues(250), Quirks::default());
    let sb = Sandbox::new();
    let (code, stdout, stderr) = pull(&sb, &dc_config(&srv.base, ""));
    assert_eq!(code, 0, "{stderr}");
    no_secrets(&stdout);
    no_secrets(&stderr);
    let doc = raw_doc(&stdout, "work");
    let want: Vec<String> = (1..=250).map(|i| format!("MOB-{i}")).collect();
    assert_eq!(keys(&doc), want);
    let seen = srv.seen();
    assert_eq!(seen[0].path, "/rest/api/2/serverInfo");
    let searches = srv.searches();
    assert!(searches.iter().all(|s| s.path == "/rest/api/2/search"));
    let expected = format!("Bearer {PAT}");
    assert!(searches
        .iter()
        .all(|s| s.authorization.as_deref() == Some(expected.as_str())));
    let starts: Vec<&str> = searches.iter().filter_map(|s| s.arg("startAt")).collect();
    assert_eq!(starts, ["0", "100", "200"]);
}

/// Done when: what either service gives maps through qcondition exactly
/// as the fixture's legacy search result does.
#[test]
fn both_services_map_through_qcondition_like_the_fixture() {
    let expected = fixture_text("qcondition/jira.expected");
    let raw = fixture_text("qcondition/jira.raw.txt");
    let staff: String = raw
        .split("=====raw staff\n")
        .nth(1)
        .unwrap()
        .split("=====")
        .next()
        .unwrap()
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix('\t').unwrap_or(l)))
        .collect();
    for (service, config) in [
        (Service::Cloud, cloud_config as fn(&str, &str) -> String),
        (Service::DataCenter, dc_config),
    ] {
        let srv = fake(service, fixture_issues(), Quirks::default());
        let sb = Sandbox::new();
        let staff_file = sb.write("staff.tsv", &staff);
        let config = config(&srv.base, "")
            .replace("[source.work]", "[source.jira]")
            .replace(
                "fields = [\"summary\", \"priority\", \"customfield_10016\"]",
                "fields = [\"summary\", \"customfield_10016\", \"priority\", \"customfield_track\", \"rank\"]",
            )
            + &format!("\n[source.staff]\nfile = \"{}\"\n", staff_file.display());
        let (code, stdout, stderr) = pull(&sb, &config);
        assert_eq!(code, 0, "{service:?}: {stderr}");
        let out = sb
            .cmd("qcondition")
            .arg("--map")
            .arg(fixture("qcondition/jira.toml"))
            .write_stdin(stdout)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{service:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            expected,
            "{service:?}"
        );
    }
}

#[test]
fn the_removed_endpoint_explains_itself() {
    let srv = fake(Service::Cloud, issues(5), Quirks::default());
    let sb = Sandbox::new();
    let config = cloud_config(&format!("{}/rest/api/2/search", srv.base), "")
        .replace("retries = 0", "retries = 3");
    let (code, stdout, stderr) = pull(&sb, &config);
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(stderr.contains("source work ("), "{stderr}");
    assert!(stderr.contains("HTTP 410 Gone"), "{stderr}");
    assert!(
        stderr.contains("The requested API has been removed"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("url = \"{}\"", srv.base)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("url = \"{}/rest/api/2/search/jql\"", srv.base)),
        "{stderr}"
    );
    // Permanent: asked once, never again.
    assert_eq!(srv.seen().len(), 1);
}

#[test]
fn refused_credentials_name_the_source() {
    let srv = fake(Service::Cloud, issues(5), Quirks::default());
    let sb = Sandbox::new();
    let wrong = cloud_config(&srv.base, "").replace("${JIRA_TOKEN}", "${JIRA_PAT}");
    let (code, stdout, stderr) = pull(&sb, &wrong);
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(stderr.contains("qpull: source work ("), "{stderr}");
    assert!(
        stderr.contains(
            "JIRA refused the credentials (HTTP 401, JIRA says: You are not authenticated"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("check user and token"), "{stderr}");
    no_secrets(&stderr);
    // None given at all.
    let none = cloud_config(&srv.base, "")
        .replace("user = \"${JIRA_USER}\"\n", "")
        .replace("token = \"${JIRA_TOKEN}\"\n", "");
    let (code, _, stderr) = pull(&sb, &none);
    assert_eq!(code, 69, "{stderr}");
    assert!(
        stderr.contains("none were given: set user and token"),
        "{stderr}"
    );
    // Data Center: the token alone, as Bearer; a Cloud pair is refused.
    let srv = fake(Service::DataCenter, issues(5), Quirks::default());
    let (code, _, stderr) = pull(&sb, &cloud_config(&srv.base, ""));
    assert_eq!(code, 69, "{stderr}");
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    no_secrets(&stderr);
}

#[test]
fn a_jql_error_shows_jiras_message() {
    for service in [Service::Cloud, Service::DataCenter] {
        let srv = fake(service, issues(5), Quirks::default());
        let sb = Sandbox::new();
        let config = match service {
            Service::Cloud => cloud_config(&srv.base, ""),
            Service::DataCenter => dc_config(&srv.base, ""),
        }
        .replace("project = MOB", "bogus = 1");
        let (code, stdout, stderr) = pull(&sb, &config);
        assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
        assert!(
            stderr.contains("JIRA rejected the search (HTTP 400): Field 'bogus' does not exist or you do not have permission to view it."),
            "{service:?}: {stderr}"
        );
    }
}

/// The enhanced search sends only ids unless fields are asked for: with
/// none in the config, qpull asks for what the legacy search sends by
/// default, so the keys and fields are there.
#[test]
fn without_fields_the_navigable_ones_are_asked_for() {
    let srv = fake(Service::Cloud, issues(3), Quirks::default());
    let sb = Sandbox::new();
    let config = cloud_config(&srv.base, "").replace(
        "fields = [\"summary\", \"priority\", \"customfield_10016\"]\n",
        "",
    );
    let (code, stdout, stderr) = pull(&sb, &config);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(srv.searches()[0].arg("fields"), Some("*navigable"));
    let doc = raw_doc(&stdout, "work");
    assert_eq!(keys(&doc), ["MOB-1", "MOB-2", "MOB-3"]);
    assert_eq!(doc["issues"][2]["fields"]["status"]["name"], "In Progress");
    // A server that sends ids only all the same is not taken.
    let srv = fake(
        Service::Cloud,
        issues(3),
        Quirks {
            ignore_fields: true,
            ..Quirks::default()
        },
    );
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&srv.base, ""));
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(
        stderr.contains("page 1: an issue without a \"key\""),
        "{stderr}"
    );
}

#[test]
fn servers_that_loop_repeat_or_send_garbage_fail_closed() {
    let sb = Sandbox::new();
    // A token that leads back to the start.
    let srv = fake(
        Service::Cloud,
        issues(250),
        Quirks {
            repeat_token: true,
            ..Quirks::default()
        },
    );
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&srv.base, ""));
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    // (The fake's token for the first page is the one for startAt 0,
    // never handed out before: the repeated issues give it away.)
    assert!(
        stderr.contains("page 3: issue MOB-1 again: the server repeats itself"),
        "{stderr}"
    );
    // Endless empty pages, each with a new token: the source's timeout
    // ends it (temporary), ...
    let srv = fake(
        Service::Cloud,
        issues(1),
        Quirks {
            endless: true,
            ..Quirks::default()
        },
    );
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&srv.base, "timeout = 0.5\n"));
    assert_eq!((code, stdout.as_str()), (75, ""), "{stderr}");
    assert!(stderr.contains("timed out after 500ms"), "{stderr}");
    // ... or its max_bytes (permanent), over all pages together.
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&srv.base, "max_bytes = 5000\n"));
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(
        stderr.contains("more than 5000 bytes (max_bytes)"),
        "{stderr}"
    );
    // Not JSON.
    for service in [Service::Cloud, Service::DataCenter] {
        let srv = fake(
            service,
            issues(3),
            Quirks {
                not_json: Some("<html>Service Unavailable</html>".into()),
                ..Quirks::default()
            },
        );
        let config = match service {
            Service::Cloud => cloud_config(&srv.base, ""),
            Service::DataCenter => dc_config(&srv.base, ""),
        };
        let (code, stdout, stderr) = pull(&sb, &config);
        assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
        assert!(stderr.contains("not JSON"), "{stderr}");
    }
}

#[test]
fn a_token_given_twice_is_a_loop() {
    // Each page has new issues but the token of the first page comes
    // back: without the check, qpull would read page 2 and 3 for ever.
    let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
    let port = server.server_addr().to_ip().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    let (s, nn) = (server.clone(), n.clone());
    std::thread::spawn(move || {
        for req in s.incoming_requests() {
            let i = nn.fetch_add(1, Ordering::SeqCst);
            let body = json!({
                "issues": [{"id": i.to_string(), "key": format!("L-{i}")}],
                "nextPageToken": if i % 2 == 0 { "A" } else { "B" },
            });
            let _ = req.respond(reply(200, body.to_string(), &[]).0);
        }
    });
    let sb = Sandbox::new();
    let base = format!("http://127.0.0.1:{port}/rest/api/2/search/jql");
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&base, ""));
    server.unblock();
    assert_eq!((code, stdout.as_str()), (69, ""), "{stderr}");
    assert!(
        stderr.contains("page 3: a nextPageToken given before: the server loops"),
        "{stderr}"
    );
    assert_eq!(n.load(Ordering::SeqCst), 3);
}

#[test]
fn rate_limits_are_honoured_within_the_timeout() {
    let sb = Sandbox::new();
    // JIRA asks for an hour; the source has 5 s: fail at once (the
    // message is written before any pause), temporary.
    let srv = fake(
        Service::Cloud,
        issues(3),
        Quirks {
            rate_limit_always: Some(vec![("Retry-After".into(), "3600".into())]),
            ..Quirks::default()
        },
    );
    let (code, stdout, stderr) = pull(&sb, &cloud_config(&srv.base, "timeout = 5\n"));
    assert_eq!((code, stdout.as_str()), (75, ""), "{stderr}");
    assert!(
        stderr.contains("rate limited (HTTP 429): JIRA asks to wait 3600.0 s, more than the"),
        "{stderr}"
    );
    assert_eq!(srv.searches().len(), 1);
    // X-RateLimit-Reset alone, already past: asked again at once, until
    // the retries are used up.
    let srv = fake(
        Service::Cloud,
        issues(3),
        Quirks {
            rate_limit_always: Some(vec![(
                "X-RateLimit-Reset".into(),
                "2015-10-21T07:28Z".into(),
            )]),
            ..Quirks::default()
        },
    );
    let config = cloud_config(&srv.base, "").replace("retries = 0", "retries = 2");
    let (code, stdout, stderr) = pull(&sb, &config);
    assert_eq!((code, stdout.as_str()), (75, ""), "{stderr}");
    assert!(
        stderr.contains("rate limited (HTTP 429) 3 times in a row"),
        "{stderr}"
    );
}

#[test]
fn api_overrides_the_site_and_an_endpoint_is_used_as_written() {
    let sb = Sandbox::new();
    // api = "server": no serverInfo, the legacy search.
    let srv = fake(Service::DataCenter, issues(3), Quirks::default());
    let (code, _, stderr) = pull(&sb, &dc_config(&srv.base, "api = \"server\"\n"));
    assert_eq!(code, 0, "{stderr}");
    let seen = srv.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/rest/api/2/search");
    // api = "cloud" on a Data Center: its /search/jql does not exist.
    let (code, _, stderr) = pull(&sb, &dc_config(&srv.base, "api = \"cloud\"\n"));
    assert_eq!(code, 69, "{stderr}");
    assert!(stderr.contains("HTTP 404"), "{stderr}");
    // An explicit v3 endpoint is used as written.
    let srv = fake(Service::Cloud, issues(3), Quirks::default());
    let (code, _, stderr) = pull(
        &sb,
        &cloud_config(&format!("{}/rest/api/3/search/jql", srv.base), ""),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(srv.seen()[0].path, "/rest/api/3/search/jql");
    // A contradiction is a usage error naming the line.
    let (code, _, stderr) = pull(
        &sb,
        &cloud_config(
            &format!("{}/rest/api/2/search", srv.base),
            "api = \"cloud\"\n",
        ),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("line 1"), "{stderr}");
    assert!(stderr.contains("JIRA Cloud has removed"), "{stderr}");
}

/// The Cloud and Data Center configs of the README work as written: only
/// the site's address is the fake's.
#[test]
fn the_readme_configs_work_as_written() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let help = String::from_utf8(
        Sandbox::new()
            .cmd("qpull")
            .arg("--help")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let block = |marker: &str| -> String {
        let at = readme
            .find(marker)
            .unwrap_or_else(|| panic!("no {marker} in the README"));
        let start = readme[..at].rfind("```toml\n").unwrap() + "```toml\n".len();
        let end = start + readme[start..].find("```").unwrap();
        readme[start..end].to_owned()
    };
    for (marker, site, service) in [
        ("# JIRA Cloud", "https://acme.atlassian.net", Service::Cloud),
        (
            "# JIRA Data Center",
            "https://jira.corp.example",
            Service::DataCenter,
        ),
    ] {
        let config = block(marker);
        // The man page shows the same lines.
        for line in config.lines().filter(|l| !l.trim().is_empty()) {
            assert!(help.contains(line.trim()), "--help lacks {line:?}");
        }
        let srv = fake(service, issues(120), Quirks::default());
        let sb = Sandbox::new();
        let (code, stdout, stderr) = pull(&sb, &config.replace(site, &srv.base));
        assert_eq!(code, 0, "{marker}: {stderr}");
        assert_eq!(keys(&raw_doc(&stdout, "work")).len(), 120, "{marker}");
    }
}

/// The figures of the README: requests and bytes to pull 1,000 issues
/// with four fields, on each service, at the default page size (100) and,
/// on Data Center, at its largest (1,000). Cloud caps a page at 100 when
/// fields are asked for, whatever page_size says.
#[test]
fn pulling_1000_issues_takes_eleven_requests() {
    for (service, extra, requests) in [
        (Service::Cloud, "", 11),
        (Service::Cloud, "page_size = 1000\n", 11),
        (Service::DataCenter, "", 11),
        (Service::DataCenter, "page_size = 1000\n", 2),
    ] {
        let srv = fake(service, issues(1000), Quirks::default());
        let sb = Sandbox::new();
        let config = match service {
            Service::Cloud => cloud_config(&srv.base, extra),
            Service::DataCenter => dc_config(&srv.base, extra),
        }
        .replace("[\"summary\"", "[\"summary\", \"status\"");
        let (code, stdout, stderr) = pull(&sb, &config);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(keys(&raw_doc(&stdout, "work")).len(), 1000);
        assert_eq!(srv.seen().len(), requests, "{service:?} {extra}");
        eprintln!(
            "{service:?} {}: {} requests, {} bytes received, raw section {} bytes",
            if extra.is_empty() {
                "page_size 100"
            } else {
                extra.trim()
            },
            srv.seen().len(),
            srv.bytes.load(Ordering::SeqCst),
            raw_doc(&stdout, "work").to_string().len()
        );
    }
}

#[test]
fn config_mistakes_are_usage_errors() {
    let sb = Sandbox::new();
    let cases = [
        (
            "[source.s]\nurl = \"http://127.0.0.1:9/x.csv\"\ntoken = \"abcd\"\n",
            "api, user and token are for type = \"jira\"",
        ),
        (
            "[source.w]\ntype = \"jira\"\nurl = \"https://h\"\njql = \"a\"\nuser = \"me@x\"\n",
            "user needs token",
        ),
        (
            "[source.w]\ntype = \"jira\"\nurl = \"https://h\"\njql = \"a\"\ntoken = \"abcd\"\nheaders = { Authorization = \"Bearer x\" }\n",
            "not both",
        ),
        (
            "[source.w]\ntype = \"jira\"\nurl = \"https://h\"\njql = \"a\"\napi = \"dc\"\n",
            "unknown api \"dc\"",
        ),
        (
            "[source.w]\ntype = \"jira\"\nurl = \"ftp://h\"\njql = \"a\"\n",
            "http:// or https://",
        ),
        (
            "[source.w]\ntype = \"jira\"\nurl = \"https://h\"\njql = \"a\"\ntoken = \"${NOPE}\"\n",
            "environment variable NOPE is not set (used in a header, user or token)",
        ),
    ];
    for (config, message) in cases {
        let (code, stdout, stderr) = pull(&sb, config);
        assert_eq!((code, stdout.as_str()), (2, ""), "{config}: {stderr}");
        assert!(stderr.contains("line 1"), "{stderr}");
        assert!(stderr.contains(message), "{config}: {stderr}");
    }
}

/// A search of several pages shows its progress on a terminal: issues of
/// the total on Data Center (which says the total), pages and issues on
/// Cloud (which does not); through a pipe nothing, and the same stdout.
#[test]
fn a_search_of_several_pages_shows_its_progress_on_a_terminal() {
    let envs = [
        ("JIRA_USER", USER),
        ("JIRA_TOKEN", TOKEN),
        ("JIRA_PAT", PAT),
    ];
    for service in [Service::DataCenter, Service::Cloud] {
        let srv = fake(service, issues(250), Quirks::default());
        let sb = Sandbox::new();
        let config = match service {
            Service::DataCenter => dc_config(&srv.base, ""),
            Service::Cloud => cloud_config(&srv.base, ""),
        };
        sb.write("sources.toml", &config);
        let tty = sb.on_terminal("qpull", &["--config", "sources.toml"], &envs);
        assert_eq!(tty.code, 0, "{}", tty.screen);
        no_secrets(&tty.screen);
        match service {
            // The first page's frame: later ones may be merged by the
            // bar's limit of 20 frames a second.
            Service::DataCenter => assert!(
                shows_bar(&tty.screen, "100/250 issues") && tty.screen.contains("work: page 1"),
                "{:?}",
                tty.screen
            ),
            Service::Cloud => assert!(
                tty.screen.contains("work: page 1, 100 issues"),
                "{:?}",
                tty.screen
            ),
        }
        let (code, stdout, stderr) = pull(&sb, &config);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stderr, "");
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("\twork\t20"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&String::from_utf8_lossy(&tty.stdout)), strip(&stdout));
        assert_eq!(keys(&raw_doc(&stdout, "work")).len(), 250);
    }
}
