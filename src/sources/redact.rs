//! Secrets never leave qpull: header values that came from `${VAR}` or
//! `${file:PATH}` are replaced by `***` wherever a text is shown (errors, the
//! `qpull sources v1` section), and so are a URL's password and the values
//! of query parameters that look like credentials.

/// The secrets of one run.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    values: Vec<String>,
}

/// What a query parameter's name contains when its value is a credential
/// (compared in lower case, `-` read as `_`, after percent-decoding).
/// Matching parts of names, not whole names, hides `client_secret`,
/// `X-Amz-Signature`, `auth_token` and `access-token`; it also hides some
/// harmless values (`assignee` contains `sig`, `monkey` contains `key`),
/// which only makes a shown URL less readable.
const SECRET_PARTS: &[&str] = &[
    "secret",
    "token",
    "key",
    "signature",
    "sig",
    "password",
    "passwd",
    "auth",
    "credential",
];

/// Whether a query parameter or header named `name` carries a credential.
pub fn is_credential_name(name: &str) -> bool {
    let name = percent_decode(name).to_ascii_lowercase().replace('-', "_");
    SECRET_PARTS.iter().any(|p| name.contains(p))
}

/// `%5F` → `_`, `%20` → space; anything that is not a valid escape stays
/// as it is.
pub fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

impl Secrets {
    /// Remembers a secret; very short values are not worth hiding and would
    /// blank out ordinary text.
    pub fn add(&mut self, value: &str) {
        let v = value.trim();
        if v.len() >= 4 && !self.values.iter().any(|s| s == v) {
            self.values.push(v.to_owned());
            // Longest first, so a secret containing another is hidden whole.
            self.values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// The text with every secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = url_redact(text);
        for s in &self.values {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }
}

/// Hides the password of `scheme://user:password@host` and the values of
/// credential-like query parameters, anywhere in a text.
pub fn url_redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '>' | ')'))
            .unwrap_or(tail.len());
        out.push_str(&redact_one(&tail[..end]));
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `user:pw@host/path?token=x&a=b` → `user:***@host/path?token=***&a=b`.
fn redact_one(url: &str) -> String {
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let (authority, path) = url.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("***@{host}"),
        },
        None => authority.to_owned(),
    };
    // The query, and a fragment made of parameters (`#access_token=...`,
    // as OAuth's implicit flow returns it).
    let (path, frag) = match path.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (path, None),
    };
    let mut path = match path.split_once('?') {
        Some((p, query)) => format!("{p}?{}", redact_params(query)),
        None => path.to_owned(),
    };
    if let Some(f) = frag {
        path.push('#');
        path.push_str(&redact_params(f));
    }
    authority + &path
}

/// `a=1&token=x` → `a=1&token=***`.
fn redact_params(query: &str) -> String {
    query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !v.is_empty() && is_credential_name(k) => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            url_redact("GET https://bob:hunter2@jira.example/rest?jql=x&token=abc&b=1 failed"),
            "GET https://bob:***@jira.example/rest?jql=x&token=***&b=1 failed"
        );
        assert_eq!(url_redact("http://tok@h/p"), "http://***@h/p");
        assert_eq!(url_redact("no url here"), "no url here");
        assert_eq!(url_redact("file:relative"), "file:relative");
    }

    /// The names the issue found shown in the clear, and their cousins.
    #[test]
    fn every_credential_like_parameter_is_hidden() {
        assert_eq!(
            url_redact(
                "https://h/p?client_secret=a1&X-Amz-Signature=b2&auth_token=c3&access-token=d4&format=csv"
            ),
            "https://h/p?client_secret=***&X-Amz-Signature=***&auth_token=***&access-token=***&format=csv"
        );
        assert_eq!(
            url_redact("https://h/p?ApiKey=1&PASSWD=2&Credential=3&sig=4&gid=0#access_token=5&x=6"),
            "https://h/p?ApiKey=***&PASSWD=***&Credential=***&sig=***&gid=0#access_token=***&x=6"
        );
        // Escaped names are read as the server reads them.
        assert_eq!(
            url_redact("http://h/?client%5Fsecret=z"),
            "http://h/?client%5Fsecret=***"
        );
        assert!(!is_credential_name("format"));
        assert!(!is_credential_name("%"));
        assert!(is_credential_name("private-TOKEN"));
    }

    #[test]
    fn secrets_are_hidden_everywhere() {
        let mut s = Secrets::default();
        s.add("s3cr3t-token");
        s.add("ab");
        assert_eq!(
            s.redact("Bearer s3cr3t-token rejected, ab"),
            "Bearer *** rejected, ab"
        );
    }

    proptest! {
        #[test]
        fn redaction_never_panics_and_hides_the_secret(text in "\\PC{0,60}", secret in "[a-zA-Z0-9]{4,12}") {
            let mut s = Secrets::default();
            s.add(&secret);
            let out = s.redact(&format!("{text}{secret}{text}"));
            prop_assert!(!out.contains(&secret), "{}", out);
        }

        /// Any parameter whose name holds a credential word, in any case and
        /// with `-` or `_` around it, loses its value; the others keep theirs.
        #[test]
        fn credential_parameters_lose_their_values(
            word in proptest::sample::select(vec!["secret", "token", "key", "signature", "sig", "password", "passwd", "auth", "credential"]),
            upper in proptest::collection::vec(any::<bool>(), 10),
            before in "([a-z]{1,5}[-_])?",
            after in "([-_][a-z]{1,5})?",
            value in "[A-Za-z0-9.~]{1,20}",
            plain in "[0-9]{1,6}",
            host in "[a-z]{1,10}",
        ) {
            let word: String = word
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, &u)| if u { c.to_ascii_uppercase() } else { c })
                .collect();
            let name = format!("{before}{word}{after}");
            let text = format!("see https://{host}/x?n={plain}&{name}={value}&m={plain} now");
            let out = url_redact(&text);
            prop_assert_eq!(
                out,
                format!("see https://{host}/x?n={plain}&{name}=***&m={plain} now")
            );
        }

        #[test]
        fn text_without_urls_is_untouched(text in "[^:]{0,80}") {
            prop_assert_eq!(url_redact(&text), text);
        }
    }
}
