//! The trailers of the store's commits: their names, what a commit says
//! about itself ([`Version`]), and the message of a put.

use git2::{Commit, Oid};

use super::name::Resource;

/// The trailer of a version: the SHA-256 of its data (see [`super::check`]).
pub const DATA_TRAILER: &str = "Qsnap-Data-Sha256";
/// The trailer of a check commit: the version whose data it found again.
pub const CHECKED_TRAILER: &str = "Qsnap-Checked";
pub const RESOURCE_TRAILER: &str = "Qsnap-Resource";
pub const PROVENANCE_TRAILER: &str = "Qsnap-Provenance";

/// One line of a `qsnap provenance v1` section: a resource and the commit of
/// the version it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub resource: Resource,
    pub commit: String,
}

impl Provenance {
    /// Parses `app stage<TAB>commit` (the content of a provenance line).
    pub fn parse(line: &[u8]) -> Option<Self> {
        let line = std::str::from_utf8(line).ok()?;
        let (resource, commit) = line.split_once('\t')?;
        Provenance::new(resource, commit)
    }

    /// Parses `app stage commit` (a trailer value).
    pub(super) fn parse_trailer(value: &str) -> Option<Self> {
        let (resource, commit) = value.trim().rsplit_once(' ')?;
        Provenance::new(resource, commit)
    }

    fn new(resource: &str, commit: &str) -> Option<Self> {
        let ok = !commit.is_empty()
            && commit.len() <= 64
            && commit.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| {
            Some(Provenance {
                resource: Resource::parse(resource)?,
                commit: commit.to_ascii_lowercase(),
            })
        })?
    }

    /// The content of the provenance line.
    pub fn line(&self) -> String {
        format!("{}\t{}", self.resource, self.commit)
    }
}

/// What a commit says about itself.
#[derive(Debug, Clone)]
pub struct Version {
    pub commit: Oid,
    pub time: i64,
    pub resource: Option<Resource>,
    pub summary: String,
    pub provenance: Vec<Provenance>,
    /// The SHA-256 of the version's data (`Qsnap-Data-Sha256`, see
    /// [`super::check`]); absent on older and hand-made commits.
    pub data: Option<String>,
    /// On a check commit: the version whose data a put found again.
    pub checked: Option<Oid>,
}

impl Version {
    pub fn of(commit: &Commit) -> Version {
        let message = String::from_utf8_lossy(commit.message_bytes());
        let mut resource = None;
        let mut provenance = Vec::new();
        let (mut data, mut checked) = (None, None);
        if let Ok(trailers) = git2::message_trailers_strs(&message) {
            for (key, value) in trailers.iter() {
                if key.eq_ignore_ascii_case(RESOURCE_TRAILER) {
                    resource = Resource::parse(value.trim());
                } else if key.eq_ignore_ascii_case(PROVENANCE_TRAILER) {
                    provenance.extend(Provenance::parse_trailer(value));
                } else if key.eq_ignore_ascii_case(DATA_TRAILER) {
                    let v = value.trim();
                    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                        data = Some(v.to_ascii_lowercase());
                    }
                } else if key.eq_ignore_ascii_case(CHECKED_TRAILER) {
                    checked = Oid::from_str(value.trim()).ok();
                }
            }
        }
        Version {
            commit: commit.id(),
            time: commit.time().seconds(),
            resource,
            summary: message.lines().next().unwrap_or("").to_owned(),
            provenance,
            data,
            checked,
        }
    }
}

/// The message of a put: the user's message (or `put <resource>`), then the
/// trailers: the resource, its provenance, the SHA-256 of its data.
pub fn commit_message(
    res: &Resource,
    message: Option<&str>,
    provenance: &[Provenance],
    data: &str,
) -> String {
    commit_message_with(res, message, provenance, data, &[])
}

/// [`commit_message`] with more trailers after the store's own. A value is
/// kept to its first line (a trailer is one line); a key that is not a
/// trailer key (letters, digits and `-`) is left out.
pub fn commit_message_with(
    res: &Resource,
    message: Option<&str>,
    provenance: &[Provenance],
    data: &str,
    extra: &[(String, String)],
) -> String {
    let subject = match message.map(str::trim) {
        Some(m) if !m.is_empty() => m.to_owned(),
        _ => format!("put {res}"),
    };
    let mut text = format!("{subject}\n\n{RESOURCE_TRAILER}: {res}\n");
    for p in provenance {
        text.push_str(&format!(
            "{PROVENANCE_TRAILER}: {} {}\n",
            p.resource, p.commit
        ));
    }
    text.push_str(&format!("{DATA_TRAILER}: {data}\n"));
    for (key, value) in extra {
        let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if key_ok {
            let value = value.lines().next().unwrap_or("").trim();
            text.push_str(&format!("{key}: {value}\n"));
        }
    }
    text
}

/// The 12-digit abbreviation used in tables.
pub fn short(oid: Oid) -> String {
    oid.to_string()[..12].to_owned()
}
