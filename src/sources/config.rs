//! Sources: the config file (TOML, `[source.NAME]` tables and `[defaults]`)
//! and `NAME=SPEC` arguments, which add or replace a source.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::redact::{is_credential_name, Secrets};
use super::source::usage;
pub use super::source::{expand, Header, Kind, Sheet, Source};
use crate::error::{Error, Result};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Limits,
    #[serde(default)]
    source: BTreeMap<String, Spanned<SourceConf>>,
}

/// Limits, globally (`[defaults]`) or per source.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Seconds for the whole fetch of one attempt, every page of a JIRA
    /// search together (default 60).
    pub timeout: Option<Spanned<f64>>,
    /// Seconds to connect (default 10).
    pub connect_timeout: Option<Spanned<f64>>,
    /// Attempts after the first, for temporary failures (default 3).
    pub retries: Option<u32>,
    /// Seconds before the first retry, doubled each time (default 1).
    pub backoff: Option<Spanned<f64>>,
    /// Fewer data rows than this is an error (default 1).
    pub min_rows: Option<u64>,
    /// Bytes a source may return, every page of a JIRA search together
    /// (default 64 MiB).
    pub max_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceConf {
    url: Option<String>,
    file: Option<PathBuf>,
    cmd: Option<Vec<String>>,
    /// Run `cmd` (one string) through `sh -c`.
    #[serde(default)]
    shell: bool,
    #[serde(rename = "type")]
    kind: Option<String>,
    jql: Option<String>,
    #[serde(default)]
    fields: Vec<String>,
    page_size: Option<u32>,
    /// JIRA: "cloud" or "server", instead of asking the site.
    api: Option<String>,
    /// JIRA: with `token`, Basic auth (Cloud: the account's e-mail).
    user: Option<String>,
    /// JIRA: an API token (with `user`) or a personal access token.
    token: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    encoding: Option<String>,
    sheet: Option<SheetConf>,
    // The limits, spelled out: serde's `flatten` would let typos through.
    timeout: Option<Spanned<f64>>,
    connect_timeout: Option<Spanned<f64>>,
    retries: Option<u32>,
    backoff: Option<Spanned<f64>>,
    min_rows: Option<u64>,
    max_bytes: Option<u64>,
}

impl SourceConf {
    fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout.clone(),
            connect_timeout: self.connect_timeout.clone(),
            retries: self.retries,
            backoff: self.backoff.clone(),
            min_rows: self.min_rows,
            max_bytes: self.max_bytes,
        }
    }
}

/// `sheet = "Staff"` or `sheet = 2`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SheetConf {
    Name(String),
    Index(i64),
}

/// Where a source came from, for messages: the config file's text and name
/// (a mistake there names its line), or the command line.
#[derive(Clone, Copy)]
struct Origin<'a> {
    config: Option<(&'a str, &'a str)>,
}

impl Origin<'_> {
    /// A usage error at `span` of the config, when there is one.
    fn error(&self, span: Option<Range<usize>>, message: String) -> Error {
        match (self.config, span) {
            (Some((text, path)), Some(span)) => {
                let before = &text.as_bytes()[..span.start.min(text.len())];
                let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let at = crate::error::Location::section(format!("config {path}")).line(line);
                usage(format!("{at}: {message}"))
            }
            _ => usage(message),
        }
    }
}

/// Source names become section headers (`raw NAME`): the resource-name rule.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(usage(format!(
            "source name {name:?} is not allowed (lower-case letters, digits, '_' and '-', at most 64)"
        )))
    }
}

/// The longest timeout or backoff a source may ask for: a day.
const MAX_SECS: f64 = 86_400.0;

fn secs(
    v: Option<&Spanned<f64>>,
    default: f64,
    what: &str,
    name: &str,
    origin: Origin,
) -> Result<Duration> {
    let span = v.map(Spanned::span);
    let v = v.map_or(default, |v| *v.get_ref());
    if !(0.0..=MAX_SECS).contains(&v) {
        return Err(origin.error(
            span,
            format!("source {name}: {what} {v} is not a number of seconds from 0 to {MAX_SECS}"),
        ));
    }
    Duration::try_from_secs_f64(v).map_err(|_| {
        origin.error(
            span,
            format!("source {name}: {what} {v} is not a number of seconds"),
        )
    })
}

fn resolve(
    name: &str,
    (span, conf): (Option<Range<usize>>, SourceConf),
    defaults: &Limits,
    secrets: &mut Secrets,
    env: &dyn Fn(&str) -> Option<String>,
    origin: Origin,
) -> Result<Source> {
    // Mistakes of a source name the line its table starts on.
    let usage = |message: String| origin.error(span.clone(), message);
    check_name(name).map_err(|e| usage(e.to_string()))?;
    let limits = conf.limits();
    let (jira, typed_workbook) = match conf.kind.as_deref() {
        None | Some("http") | Some("csv") | Some("text") => (false, false),
        Some("jira") => (true, false),
        Some(t) if super::source::TYPES.contains(&t) => (false, true),
        Some(other) => {
            return Err(usage(format!(
                "source {name}: unknown type {other:?} (jira, xlsx, xlsm, xlsb, xls, ods, or none)"
            )))
        }
    };
    let sheet = match conf.sheet {
        None => None,
        Some(SheetConf::Name(n)) => Some(Sheet::Name(n)),
        Some(SheetConf::Index(i)) => match usize::try_from(i) {
            Ok(i) if i >= 1 => Some(Sheet::Index(i)),
            _ => {
                return Err(usage(format!(
                    "source {name}: sheet = {i}: a sheet is a name or a number from 1 (the first)"
                )))
            }
        },
    };
    if jira && sheet.is_some() {
        return Err(usage(format!("source {name}: a JIRA source has no sheet")));
    }
    let kind = match (conf.url, conf.file, conf.cmd) {
        (Some(url), None, None) if jira => Kind::Jira {
            jql: conf
                .jql
                .ok_or_else(|| usage(format!("source {name}: a JIRA source needs `jql`")))?,
            fields: conf.fields,
            page_size: match conf.page_size {
                Some(0) => {
                    return Err(usage(format!(
                        "source {name}: page_size must be at least 1"
                    )))
                }
                p => p.unwrap_or(100),
            },
            api: super::jira::check(&url, conf.api.as_deref())
                .map_err(|e| usage(format!("source {name}: {e}")))?,
            url,
        },
        (Some(url), None, None) => {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(usage(format!(
                    "source {name}: url must start with http:// or https://"
                )));
            }
            Kind::Http(url)
        }
        (None, Some(f), None) if !jira => Kind::File(f),
        (None, None, Some(argv)) if !jira => {
            if argv.is_empty() || (conf.shell && argv.len() != 1) {
                return Err(usage(format!(
                    "source {name}: cmd is an argv array (or, with shell = true, one string)"
                )));
            }
            Kind::Cmd {
                argv,
                shell: conf.shell,
            }
        }
        _ => {
            return Err(usage(format!(
                "source {name}: give exactly one of url, file or cmd (a JIRA source needs url)"
            )))
        }
    };
    let mut headers = Vec::new();
    if !jira && (conf.api.is_some() || conf.user.is_some() || conf.token.is_some()) {
        return Err(usage(format!(
            "source {name}: api, user and token are for type = \"jira\""
        )));
    }
    if let Some(h) = super::jira::auth(&conf.user, &conf.token, &conf.headers, secrets, env)
        .map_err(|e| usage(format!("source {name}: {e}")))?
    {
        headers.push(h);
    }
    for (k, v) in conf.headers {
        let value = expand(&v, secrets, env).map_err(|e| usage(e.to_string()))?;
        let secret = value != v
            || is_credential_name(&k)
            || k.eq_ignore_ascii_case("cookie")
            || k.eq_ignore_ascii_case("proxy-authorization");
        headers.push(Header {
            name: k,
            value,
            secret,
        });
    }
    let encoding = match conf.encoding.as_deref() {
        None => None,
        Some(label) => Some(super::encoding::for_label(label).ok_or_else(|| {
            usage(format!(
                "source {name}: unknown encoding {label:?} (a WHATWG label: utf-8, windows-1252, latin1, utf-16le, utf-16be, shift_jis, ...)"
            ))
        })?),
    };
    let workbook = typed_workbook
        || sheet.is_some()
        || match &kind {
            Kind::File(p) => super::source::by_extension(&p.to_string_lossy()),
            Kind::Http(u) => super::source::by_extension(u),
            _ => false,
        };
    if workbook && encoding.is_some() {
        return Err(usage(format!(
            "source {name}: a workbook has no text encoding (leave out `encoding`)"
        )));
    }
    let l = &limits;
    let d = defaults;
    Ok(Source {
        name: name.to_owned(),
        kind,
        headers,
        encoding,
        workbook,
        sheet,
        timeout: secs(
            l.timeout.as_ref().or(d.timeout.as_ref()),
            60.0,
            "timeout",
            name,
            origin,
        )?,
        connect_timeout: secs(
            l.connect_timeout.as_ref().or(d.connect_timeout.as_ref()),
            10.0,
            "connect_timeout",
            name,
            origin,
        )?,
        retries: l.retries.or(d.retries).unwrap_or(3),
        backoff: secs(
            l.backoff.as_ref().or(d.backoff.as_ref()),
            1.0,
            "backoff",
            name,
            origin,
        )?,
        min_rows: l.min_rows.or(d.min_rows).unwrap_or(1),
        max_bytes: l.max_bytes.or(d.max_bytes).unwrap_or(64 << 20),
    })
}

/// `NAME=SPEC`: `file:PATH`, `cmd:COMMAND ARGS` (split like a shell would,
/// but run without one), or an `http://` / `https://` URL.
fn parse_spec(arg: &str) -> Result<(String, SourceConf)> {
    let Some((name, spec)) = arg.split_once('=') else {
        return Err(usage(format!("{arg:?} is not NAME=SPEC")));
    };
    check_name(name)?;
    let mut conf = SourceConf::default();
    if let Some(path) = spec.strip_prefix("file:") {
        conf.file = Some(PathBuf::from(path));
    } else if let Some(cmd) = spec.strip_prefix("cmd:") {
        let argv = shlex::split(cmd)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| usage(format!("source {name}: cannot split the command {cmd:?}")))?;
        conf.cmd = Some(argv);
    } else if spec.starts_with("http://") || spec.starts_with("https://") {
        conf.url = Some(spec.to_owned());
    } else {
        return Err(usage(format!(
            "source {name}: {:?} is not file:PATH, cmd:COMMAND or an http(s) URL",
            super::redact::url_redact(spec)
        )));
    }
    Ok((name.to_owned(), conf))
}

/// The sources of a run: the config file's, then the command line's (which
/// replace sources of the same name), in name order, filtered by `only`.
pub fn sources(
    config: Option<(&str, &str)>,
    args: &[String],
    only: &[String],
    secrets: &mut Secrets,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Source>> {
    // A config that cannot be read as one is a usage error (2), naming the
    // line: syntax, unknown keys, wrong types, negative counts.
    let file: File = match config {
        Some((text, path)) => crate::error::parse_toml(text, format!("config {path}"))
            .map_err(|e| usage(e.to_string()))?,
        None => File::default(),
    };
    let origin = Origin { config };
    let mut confs: BTreeMap<String, (Option<Range<usize>>, SourceConf)> = file
        .source
        .into_iter()
        .map(|(k, v)| (k, (Some(v.span()), v.into_inner())))
        .collect();
    for a in args {
        let (name, conf) = parse_spec(a)?;
        confs.insert(name, (None, conf));
    }
    for o in only {
        if !confs.contains_key(o) {
            return Err(usage(format!("--only {o}: no such source")));
        }
    }
    let mut out = Vec::new();
    for (name, conf) in confs {
        if only.is_empty() || only.contains(&name) {
            out.push(resolve(&name, conf, &file.defaults, secrets, env, origin)?);
        }
    }
    if out.is_empty() {
        return Err(usage(
            "no sources: give --config FILE or NAME=SPEC arguments".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn env(k: &str) -> Option<String> {
        (k == "JIRA_TOKEN").then(|| "tok-123456".to_owned())
    }

    const CONFIG: &str = r#"
[defaults]
retries = 1

[source.work]
url = "https://sheets.example/export?format=csv"
min_rows = 5

[source.jira]
type = "jira"
url = "https://jira.example/rest/api/2/search"
jql = "project = MOB"
fields = ["summary"]
headers = { Authorization = "Bearer ${JIRA_TOKEN}" }

[source.local]
cmd = ["cat", "staff.csv"]
"#;

    #[test]
    fn config_and_arguments() {
        let mut s = Secrets::default();
        let got = sources(
            Some((CONFIG, "c.toml")),
            &["extra=file:x.csv".into()],
            &[],
            &mut s,
            &env,
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["extra", "jira", "local", "work"]);
        assert_eq!(
            got[1].headers,
            [Header {
                name: "Authorization".to_owned(),
                value: "Bearer tok-123456".to_owned(),
                secret: true
            }]
        );
        assert_eq!(s.redact("Bearer tok-123456"), "Bearer ***");
        assert_eq!(got[3].min_rows, 5);
        assert_eq!(got[3].retries, 1);
        assert_eq!(got[2].spec(), "cmd:cat staff.csv");
        let only = sources(
            Some((CONFIG, "c.toml")),
            &[],
            &["work".into()],
            &mut s,
            &env,
        )
        .unwrap();
        assert_eq!(only.len(), 1);
    }

    #[test]
    fn mistakes_are_named() {
        let mut s = Secrets::default();
        let e = |cfg: &str, args: &[&str]| {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            sources(Some((cfg, "c.toml")), &args, &[], &mut s.clone(), &env)
                .unwrap_err()
                .to_string()
        };
        assert!(e("[source.a]\nurl = \"x\"\nretires = 2\n", &[])
            .starts_with("line 3, section 'config c.toml': unknown field `retires`"));
        assert!(e("[source.a]\nurl = \"ftp://x\"\n", &[]).contains("http:// or https://"));
        assert!(e("[source.a]\nfile = \"x\"\nurl = \"http://x\"\n", &[]).contains("exactly one of"));
        assert!(e(
            "[source.a]\nurl = \"http://x\"\nheaders = { A = \"${NOPE}\" }\n",
            &[]
        )
        .contains("NOPE is not set"));
        assert!(e("", &["Bad=file:x"]).contains("not allowed"));
        assert!(e("", &["a=gopher://x"]).contains("is not file:PATH"));
        assert!(e("", &[]).contains("no sources"));
        s.add("x");
    }

    /// `${file:~/...}` is read from HOME (issue 19: the README's cron
    /// entry names its token file so, and cron sets no other variable).
    #[test]
    fn a_secret_file_under_home() {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("jira"), "  tok-from-file\n").unwrap();
        let h = home.path().to_string_lossy().into_owned();
        let env = |k: &str| (k == "HOME").then(|| h.clone());
        let mut s = Secrets::default();
        let got = expand("Bearer ${file:~/jira}", &mut s, &env).unwrap();
        assert_eq!(got, "Bearer tok-from-file");
        assert_eq!(s.redact("x tok-from-file"), "x ***");
        let missing = expand("${file:~/nope}", &mut s, &env).unwrap_err();
        assert!(
            missing.to_string().contains(&format!("{h}/nope")),
            "{missing}"
        );
    }

    proptest! {
        #[test]
        fn specs_and_configs_never_panic(arg in "\\PC{0,40}", cfg in "\\PC{0,80}") {
            let mut s = Secrets::default();
            let _ = parse_spec(&arg);
            let _ = sources(Some((&cfg, "c")), &[], &[], &mut s, &env);
            let _ = expand(&arg, &mut s, &env);
        }
    }
}
