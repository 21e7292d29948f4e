//! Secrets never leave qpull: header values that came from `${VAR}` or
//! `${file:PATH}` are replaced by `***` wherever a text is shown (errors, the
//! `qpull sources v1` section), and so are a URL's password and the values
//! of query parameters that look like credentials.

/// The secrets of one run.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    values: Vec<String>,
}

/// Query parameters whose values are credentials.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
    "passwd",
    "sig",
    "signature",
    "auth",
    "private_token",
];

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
    let path = match path.split_once('?') {
        Some((p, query)) => {
            let (query, frag) = match query.split_once('#') {
                Some((q, f)) => (q, Some(f)),
                None => (query, None),
            };
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)) => {
                        format!("{k}=***")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            let mut s = format!("{p}?{}", params.join("&"));
            if let Some(f) = frag {
                s.push('#');
                s.push_str(f);
            }
            s
        }
        None => path.to_owned(),
    };
    authority + &path
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
    }
}
