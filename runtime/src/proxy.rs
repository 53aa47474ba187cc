//! Which HTTP proxy, if any, the client's requests go through.

use std::fmt;

use super::error::ConfigError;
use super::url::{HttpUrl, unbracketed, without_userinfo};

/// Whether requests go through an HTTP proxy (set with
/// [`ConfigBuilder::proxy`](crate::ConfigBuilder::proxy)).
///
/// The default, [`Proxy::FromEnv`], follows the official Alibaba Cloud SDKs: an `https://`
/// endpoint uses `HTTPS_PROXY` (or `https_proxy`), an `http://` endpoint uses `HTTP_PROXY` (or
/// `http_proxy`), and no proxy is used for a host listed in `NO_PROXY` (or `no_proxy`). `ALL_PROXY`
/// is not read, as the official SDKs do not read it.
///
/// ```
/// use alibabacloud_runtime::{Config, Proxy};
///
/// let through_proxy = Config::builder()
///     .region("cn-hangzhou")
///     .proxy(Proxy::url("http://proxy.internal:3128"))
///     .build()?;
/// let direct = Config::builder().region("cn-hangzhou").proxy(Proxy::Disabled).build()?;
/// assert_eq!(direct.proxy(), &Proxy::Disabled);
/// # Ok::<(), alibabacloud_runtime::ConfigError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Proxy {
    /// The proxy the environment names for the endpoint's scheme, unless `NO_PROXY` lists the
    /// endpoint's host (default).
    #[default]
    FromEnv,
    /// Never a proxy, whatever the environment says.
    Disabled,
    /// This proxy for every request, whatever the environment says: `http://host:port`
    /// (`https://` for a TLS proxy), or a bare `host:port` meaning `http://`. A user name and
    /// password in the URL (`http://user:pass@host:port`) are sent to the proxy as basic
    /// authentication; they never appear in `Debug` output or errors.
    Url(String),
}

impl Proxy {
    /// [`Proxy::Url`] with this URL (checked when the configuration is built).
    pub fn url(url: impl Into<String>) -> Proxy {
        Proxy::Url(url.into())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::FromEnv => f.write_str("FromEnv"),
            Proxy::Disabled => f.write_str("Disabled"),
            Proxy::Url(url) => f.debug_tuple("Url").field(&without_userinfo(url)).finish(),
        }
    }
}

/// Parses a proxy URL: a bare `host:port` means `http://`; only `http` and `https` proxies are
/// supported. `what` names where the value came from, for the error.
pub(crate) fn parse_proxy_url(value: &str, what: &str) -> Result<HttpUrl, ConfigError> {
    let value = value.trim();
    let shown = without_userinfo(value);
    let bad = |why: &str| ConfigError::new(format!("the proxy {shown:?} ({what}) is not usable: {why}"));
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    let with_scheme = if value.contains("://") { value.to_owned() } else { format!("http://{value}") };
    HttpUrl::parse(&with_scheme).map_err(bad)
}

/// The proxy for requests to `target`, per `proxy`; `lookup` reads the environment. `None` means
/// a direct connection.
pub(crate) fn resolve(
    proxy: &Proxy,
    target: &HttpUrl,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<HttpUrl>, ConfigError> {
    match proxy {
        Proxy::Disabled => Ok(None),
        Proxy::Url(url) => parse_proxy_url(url, "Config").map(Some),
        Proxy::FromEnv => {
            let first = |names: [&'static str; 2]| {
                names.into_iter().find_map(|n| lookup(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)))
            };
            let Some((name, value)) = (if target.is_https() {
                first(["HTTPS_PROXY", "https_proxy"])
            } else {
                first(["HTTP_PROXY", "http_proxy"])
            }) else {
                return Ok(None);
            };
            if let Some((_, no_proxy)) = first(["NO_PROXY", "no_proxy"])
                && bypasses(&no_proxy, target.host(), target.port_or_default())
            {
                return Ok(None);
            }
            parse_proxy_url(&value, name).map(Some)
        }
    }
}

/// Whether a `NO_PROXY` list (comma-separated) names `host`: `*` names every host; an entry names
/// the host itself and, like curl and the Python and Java SDKs, its subdomains (`example.com` and
/// `.example.com` both cover `api.example.com`); an entry with a port names only that port.
/// Compared without regard to case.
fn bypasses(list: &str, host: &str, port: u16) -> bool {
    let host = unbracketed(host).to_ascii_lowercase();
    list.split(',').map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        let (name, entry_port) = match entry.rsplit_once(':') {
            // An IPv6 address without a port has colons too.
            Some((name, p)) if !name.contains(':') || name.ends_with(']') => match p.parse::<u16>() {
                Ok(p) => (name.to_owned(), Some(p)),
                Err(_) => (entry.clone(), None),
            },
            _ => (entry.clone(), None),
        };
        if entry_port.is_some_and(|p| p != port) {
            return false;
        }
        let name = unbracketed(&name);
        let name = name.strip_prefix("*.").or_else(|| name.strip_prefix('.')).unwrap_or(name);
        host == name || host.strip_suffix(name).is_some_and(|rest| rest.ends_with('.'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    /// A request target: `scheme://host[:port]`.
    fn target(scheme: &str, host: &str, port: Option<u16>) -> HttpUrl {
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        HttpUrl::parse(&format!("{scheme}://{host}{port}")).unwrap()
    }

    fn resolved(proxy: &Proxy, scheme: &str, host: &str, vars: &[(&str, &str)]) -> Option<String> {
        resolve(proxy, &target(scheme, host, None), env(vars)).unwrap().map(|u| u.display())
    }

    #[test]
    fn scheme_picks_the_variable_as_the_official_sdks_do() {
        let vars = [("HTTPS_PROXY", "http://secure:3128"), ("HTTP_PROXY", "http://plain:3128")];
        let host = "widgets.cn-hangzhou.aliyuncs.com";
        assert_eq!(resolved(&Proxy::FromEnv, "https", host, &vars).as_deref(), Some("http://secure:3128/"));
        assert_eq!(resolved(&Proxy::FromEnv, "http", host, &vars).as_deref(), Some("http://plain:3128/"));
        // Lower case is read when upper case is absent; ALL_PROXY never.
        let lower = [("https_proxy", "lower:8080"), ("ALL_PROXY", "http://all:1")];
        assert_eq!(resolved(&Proxy::FromEnv, "https", host, &lower).as_deref(), Some("http://lower:8080/"));
        assert_eq!(resolved(&Proxy::FromEnv, "http", host, &lower), None);
        assert_eq!(resolved(&Proxy::FromEnv, "https", host, &[("HTTPS_PROXY", "  ")]), None);
    }

    #[test]
    fn no_proxy_entries() {
        let vars = |no: &str| [("HTTPS_PROXY", "http://p:1".to_owned()), ("NO_PROXY", no.to_owned())];
        let check = |no: &str, host: &str, port: Option<u16>| {
            let v = vars(no);
            let pairs: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
            resolve(&Proxy::FromEnv, &target("https", host, port), env(&pairs)).unwrap().is_none()
        };
        assert!(check("*", "anything.example", None));
        assert!(check("localhost, aliyuncs.com", "widgets.cn-hangzhou.aliyuncs.com", None));
        assert!(check(".aliyuncs.com", "widgets.cn-hangzhou.aliyuncs.com", None));
        assert!(check("WIDGETS.cn-hangzhou.aliyuncs.com", "widgets.cn-hangzhou.aliyuncs.com", None));
        assert!(!check("cs.com", "widgets.cn-hangzhou.aliyuncs.com", None));
        assert!(!check("other.example", "widgets.cn-hangzhou.aliyuncs.com", None));
        assert!(check("127.0.0.1:8080", "127.0.0.1", Some(8080)));
        assert!(!check("127.0.0.1:8080", "127.0.0.1", Some(9090)));
        assert!(check("::1", "[::1]", None));
        assert!(!check("", "host", None));
        // Lower-case no_proxy is read too.
        let pairs = [("HTTPS_PROXY", "http://p:1"), ("no_proxy", "host")];
        assert!(resolve(&Proxy::FromEnv, &target("https", "host", None), env(&pairs)).unwrap().is_none());
    }

    #[test]
    fn explicit_and_disabled_ignore_the_environment() {
        let vars = [("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")];
        assert_eq!(resolved(&Proxy::Disabled, "https", "h", &vars), None);
        assert_eq!(
            resolved(&Proxy::url("http://explicit:2"), "https", "h", &vars).as_deref(),
            Some("http://explicit:2/")
        );
    }

    #[test]
    fn bad_proxies_are_reported_without_their_password() {
        let h = target("https", "h", None);
        let err = resolve(&Proxy::url("ftp://u:hunter22@p:1"), &h, env(&[])).unwrap_err();
        assert!(err.message().contains("scheme must be http or https"), "{err}");
        assert!(!err.to_string().contains("hunter22"), "{err}");
        let err = resolve(&Proxy::FromEnv, &h, env(&[("HTTPS_PROXY", "http://u:hunter22@[zz")])).unwrap_err();
        assert!(err.message().contains("HTTPS_PROXY"), "{err}");
        assert!(!err.to_string().contains("hunter22"), "{err}");
        assert_eq!(
            format!("{:?}", Proxy::url("http://user:hunter22@proxy:3128/")),
            "Url(\"http://***@proxy:3128/\")"
        );
        assert_eq!(without_userinfo("proxy:3128"), "proxy:3128");
    }
}
