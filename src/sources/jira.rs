//! JIRA sources: a REST search paged into one document.

use std::collections::HashSet;

use serde_json::Value as Json;

use super::config::Source;
use super::fetch::{fail, http, Budget, Failure, Fetched, Progress};

/// A JIRA REST search, paged through `startAt`/`maxResults` until every
/// issue is fetched; the pages are combined into one search result (the
/// same document a server would send with every issue on one page).
///
/// The time and bytes of the source bound all pages together, and the
/// pages must agree: each has a `total`, the same on every page; an
/// answered `startAt` is the one asked for; no issue key comes twice (a
/// server that ignores `startAt`); no page is empty before the total is
/// reached. Anything else fails the source: a search that cannot be shown
/// complete is not taken. Issues are written out page by page, so memory
/// is about the size of the result, not of its parsed form.
pub(super) fn jira(
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
    let last = loop {
        let at = keys.len();
        let mut query = vec![
            ("jql", jql.to_owned()),
            ("startAt", at.to_string()),
            ("maxResults", page_size.to_string()),
        ];
        if !fields.is_empty() {
            query.push(("fields", fields.join(",")));
        }
        let page = http(src, url, None, &query, budget, progress)?;
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
        for issue in got {
            let Some(key) = issue.get("key").and_then(Json::as_str) else {
                return Err(bad("an issue without a \"key\"".into()));
            };
            if !keys.insert(key.to_owned()) {
                return Err(bad(format!(
                    "issue {key} again: the server does not page (startAt ignored?)"
                )));
            }
            if keys.len() > 1 {
                out.push(',');
            }
            out.push_str(&issue.to_string());
        }
        let have = keys.len() as u64;
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
    let n = keys.len();
    out.push_str(&format!(
        "],\"maxResults\":{n},\"startAt\":0,\"total\":{n}}}\n"
    ));
    Ok(Fetched {
        text: out,
        ..Fetched {
            text: String::new(),
            ..last
        }
    })
}
