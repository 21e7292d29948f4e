//! One source fetched by its kind (a file, a command, HTTP, a JIRA search),
//! with retries: temporary failures are tried again after an exponential
//! backoff with jitter, or after `Retry-After` when the server says so.

use std::time::Duration;

use rand::Rng;

use super::fetch::{
    body, fail, http, now, read_limited, run, Budget, Failure, Fetched, Prior, Progress, Shown,
};
use super::source::{Kind, Source};

/// The longest pause between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Fetches with retries (no checks, a workbook left as bytes).
pub(super) fn fetch_raw(
    src: &Source,
    prior: Option<&Prior>,
    shown: &Shown,
) -> Result<Fetched, Failure> {
    let mut attempt = 0;
    loop {
        match fetch_once(src, prior, shown) {
            Ok(f) => return Ok(f),
            Err(e) if e.temporary && attempt < src.retries => {
                let jitter: f64 = rand::rng().random_range(0.5..1.5);
                // Computed in f64 and capped: a config may ask for any
                // number of retries without overflowing a Duration.
                let backoff =
                    src.backoff.as_secs_f64() * 2f64.powi(attempt.min(30) as i32) * jitter;
                let wait = e
                    .retry_after
                    .unwrap_or_else(|| Duration::try_from_secs_f64(backoff).unwrap_or(MAX_WAIT))
                    .min(MAX_WAIT);
                std::thread::sleep(wait);
                attempt += 1;
            }
            Err(mut e) => {
                if attempt > 0 {
                    e.message = format!("{} (after {} attempts)", e.message, attempt + 1);
                }
                return Err(e);
            }
        }
    }
}

fn fetch_once(src: &Source, prior: Option<&Prior>, shown: &Shown) -> Result<Fetched, Failure> {
    let progress = Progress::new(&src.name, shown);
    let fetched_at = now();
    let mut budget = Budget::new(src);
    let mut f = match &src.kind {
        Kind::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| fail(false, format!("cannot open {}: {e}", path.display())))?;
            let bytes = read_limited(file, &mut budget, &progress)?;
            Fetched {
                status: "-".into(),
                ..body(src, bytes, "")?
            }
        }
        Kind::Cmd { argv, shell } => run(src, argv, *shell, &mut budget, &progress)?,
        Kind::Http(url) => http(src, url, prior, &mut budget, &progress)?,
        Kind::Jira { .. } => super::jira::search(src, &mut budget, &progress)?,
    };
    f.fetched_at = fetched_at;
    Ok(f)
}
