//! Absolute `http`/`https` URLs (endpoints, proxies, credentials services), parsed with
//! [`http::Uri`].
//!
//! The runtime needs little of a URL: scheme, host, port, user info, path and query. Parsing with
//! `http::Uri` (already a dependency) and checking the host ourselves keeps the `url` crate and its
//! internationalised-domain stack out of every application's build. Hosts are ASCII names or IP
//! literals; an internationalised name must be given in its `xn--` form.

use std::fmt;

use percent_encoding::percent_decode_str;

/// An absolute `http` or `https` URL with a host.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HttpUrl {
    https: bool,
    /// Lower case; an IPv6 literal keeps its brackets.
    host: String,
    /// The port written in the URL, `None` when absent or the scheme's default.
    port: Option<u16>,
    /// `user:password` as written (percent-encoded), if any.
    userinfo: Option<String>,
    /// The URI requests carry: scheme, host, port, path and query, without the user info.
    target: http::Uri,
}

impl HttpUrl {
    /// Parses `text`. The error says why it is not usable and never quotes the input, whose user
    /// info may hold a password.
    pub(crate) fn parse(text: &str) -> Result<HttpUrl, &'static str> {
        let uri: http::Uri = text.parse().map_err(|_| "it is not a URL")?;
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err("the scheme must be http or https"),
        };
        let authority = uri.authority().ok_or("it has no host")?.as_str();
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, rest)) => (Some(userinfo.to_owned()), rest),
            None => (None, authority),
        };
        // The port follows the last colon outside an IPv6 literal's brackets.
        let (host, port) = match host_port.rfind(':') {
            Some(colon) if !host_port[colon..].contains(']') => {
                (&host_port[..colon], Some(&host_port[colon + 1..]))
            }
            _ => (host_port, None),
        };
        if host.is_empty() {
            return Err("it has no host");
        }
        if !valid_host(host) {
            return Err("the host is not a DNS name or IP address");
        }
        let default = if https { 443 } else { 80 };
        let port = match port {
            None | Some("") => None,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p != default => Some(p),
                Ok(_) => None,
                Err(_) => return Err("the port is not a number from 0 to 65535"),
            },
        };
        let host = host.to_ascii_lowercase();
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let target = build_target(https, &host_header(&host, port), path_and_query)?;
        Ok(HttpUrl { https, host, port, userinfo, target })
    }

    /// Whether the scheme is `https`.
    pub(crate) fn is_https(&self) -> bool {
        self.https
    }

    /// `http` or `https`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// The host in lower case; an IPv6 literal keeps its brackets.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The port connections go to.
    pub(crate) fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// `host[:port]`, as the `Host` header carries it.
    pub(crate) fn host_header(&self) -> &str {
        self.target.authority().map_or("", http::uri::Authority::as_str)
    }

    /// The user name and password, percent-decoded, if the URL has user info.
    pub(crate) fn credentials(&self) -> Option<(String, String)> {
        let userinfo = self.userinfo.as_deref()?;
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        Some((decode(user), decode(password)))
    }

    /// The path (`/` when the URL has none).
    pub(crate) fn path(&self) -> &str {
        self.target.path()
    }

    /// The query, without its `?`.
    pub(crate) fn query(&self) -> Option<&str> {
        self.target.query()
    }

    /// This URL with another path and query (`path_and_query` starts with `/`).
    pub(crate) fn with_path_and_query(&self, path_and_query: &str) -> Result<HttpUrl, &'static str> {
        let target = build_target(self.https, self.host_header(), path_and_query)?;
        Ok(HttpUrl { target, ..self.clone() })
    }

    /// The URI a request to this URL carries (no user info).
    pub(crate) fn uri(&self) -> &http::Uri {
        &self.target
    }

    /// `scheme://host[:port]/path`, for messages: no user info, no query.
    pub(crate) fn display(&self) -> String {
        format!("{}://{}{}", self.scheme(), self.host_header(), self.path())
    }
}

/// Debug output never shows the user info or the query, which may hold secrets.
impl fmt::Debug for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// The URL with any `user:password@` replaced by `***@`, for messages.
pub(crate) fn without_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let masked = match rest[..authority_end].rfind('@') {
        Some(at) => format!("***{}", &rest[at..]),
        None => rest.to_owned(),
    };
    match scheme {
        Some(scheme) => format!("{scheme}://{masked}"),
        None => masked,
    }
}

/// A host without the brackets of an IPv6 literal (`[::1]` -> `::1`), as sockets and TLS
/// server names take it.
pub(crate) fn unbracketed(host: &str) -> &str {
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host)
}

fn host_header(host: &str, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

fn build_target(https: bool, authority: &str, path_and_query: &str) -> Result<http::Uri, &'static str> {
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{authority}{path_and_query}")
        .parse()
        .map_err(|_| "the path or query is not valid in a URI")
}

/// A DNS name (letters, digits, `-`, `_`, dots) or an IP literal (`[` IPv6 `]`, or IPv4, which is
/// a DNS name by these rules).
fn valid_host(host: &str) -> bool {
    match host.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']').is_some_and(|ip| ip.parse::<std::net::Ipv6Addr>().is_ok()),
        None => host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_a_url() {
        let url = HttpUrl::parse("HTTP://u%40x:p%3Aw@Proxy.Example:3128/a/b?c=d#frag").unwrap();
        assert!(!url.is_https());
        assert_eq!(url.scheme(), "http");
        assert_eq!(url.host(), "proxy.example");
        assert_eq!(url.port_or_default(), 3128);
        assert_eq!(url.host_header(), "proxy.example:3128");
        assert_eq!(url.credentials(), Some(("u@x".to_owned(), "p:w".to_owned())));
        assert_eq!(url.path(), "/a/b");
        assert_eq!(url.query(), Some("c=d"));
        assert_eq!(url.uri().to_string(), "http://proxy.example:3128/a/b?c=d");
        assert_eq!(url.display(), "http://proxy.example:3128/a/b");
        assert_eq!(format!("{url:?}"), "http://proxy.example:3128/a/b");

        let url = HttpUrl::parse("https://h:443").unwrap();
        assert_eq!((url.host_header(), url.port_or_default(), url.path()), ("h", 443, "/"));
        assert_eq!(url.credentials(), None);
        let url = HttpUrl::parse("http://[::1]:8080/x").unwrap();
        assert_eq!((url.host(), url.host_header()), ("[::1]", "[::1]:8080"));
        assert_eq!(HttpUrl::parse("http://[::1]").unwrap().port_or_default(), 80);
        assert_eq!(
            (unbracketed(url.host()), unbracketed("h.example"), unbracketed("[x")),
            ("::1", "h.example", "[x")
        );
        assert_eq!(HttpUrl::parse("http://user@h").unwrap().credentials(), Some(("user".into(), "".into())));
        // An unencoded `@` in the password: the last `@` ends the user info, as curl reads it.
        let proxy = HttpUrl::parse("http://user:p@ss@proxy:3128").unwrap();
        assert_eq!((proxy.credentials(), proxy.host()), (Some(("user".into(), "p@ss".into())), "proxy"));

        let moved = url.with_path_and_query("/?Action=A&X=%20").unwrap();
        assert_eq!(moved.uri().to_string(), "http://[::1]:8080/?Action=A&X=%20");
        assert_eq!(moved.display(), "http://[::1]:8080/");
        assert!(url.with_path_and_query("/a b").is_err());
    }

    #[test]
    fn unusable_urls_say_why_without_quoting_the_input() {
        for (text, why) in [
            ("", "it is not a URL"),
            ("http://a b", "it is not a URL"),
            ("http://u:hunter22@[zz", "it is not a URL"),
            ("ftp://h", "the scheme must be http or https"),
            ("h:80", "the scheme must be http or https"),
            ("http://:80", "it has no host"),
            ("http://u:p@", "it is not a URL"),
            ("http://u:p@:1", "it has no host"),
            ("http://h:99999", "the port is not a number from 0 to 65535"),
            ("http://h:abc", "the port is not a number from 0 to 65535"),
            ("http://[zz]", "the host is not a DNS name or IP address"),
            ("http://h!x", "the host is not a DNS name or IP address"),
            ("http://ü.example", "it is not a URL"),
        ] {
            assert_eq!(HttpUrl::parse(text).err(), Some(why), "{text}");
        }
    }
}
