//! Client configuration.

use super::rate_limit::RateLimit;
use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::credentials::{
    Credentials, DefaultCredentialsChain, ProvideCredentials, StaticProvider, is_header_safe,
};
use super::error::ConfigError;
use super::proxy::Proxy;
use super::service::ServiceInfo;
use super::url::HttpUrl;

/// The environment variable [`Config::from_env`] reads the region from.
const REGION_VAR: &str = "ALIBABA_CLOUD_REGION_ID";

/// Which request signature to use. A client uses the one its product's spec names (V3 for most
/// APIs) unless [`ConfigBuilder::signature_version`] says otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureVersion {
    /// ACS3-HMAC-SHA256, the current scheme.
    #[default]
    V3,
    /// The older RPC scheme, HMAC-SHA1 over the sorted parameters.
    V1,
}

/// Which network the default endpoint is on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Network {
    /// The public endpoint, such as `<product>.<region>.aliyuncs.com` (default).
    #[default]
    Public,
    /// The VPC endpoint, such as `<product>-vpc.<region>.aliyuncs.com`, reachable from inside
    /// Alibaba Cloud.
    Vpc,
}

/// How calls are retried. Attempts count the first try: `max_attempts: 1` disables retries.
///
/// ```
/// use std::time::Duration;
/// use alibabacloud_runtime::RetryConfig;
///
/// let retry = RetryConfig { max_attempts: 5, ..RetryConfig::default() };
/// assert_eq!(retry.initial_backoff, Duration::from_millis(100));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts in total, the first one included (default 3; at least 1).
    pub max_attempts: u32,
    /// The upper bound of the first wait (default 100 ms); it doubles with each retry. The actual
    /// wait is drawn at random below the bound ("full jitter").
    pub initial_backoff: Duration,
    /// The largest bound a wait can have (default 10 s). A wait the service asks for with
    /// `x-acs-retry-after` is honoured up to 60 s even beyond this bound.
    pub max_backoff: Duration,
}

impl RetryConfig {
    /// No retries: every call is made once.
    pub fn disabled() -> Self {
        Self { max_attempts: 1, ..Self::default() }
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// A validated client configuration. Build one with [`Config::builder`] or [`Config::from_env`].
///
/// A configuration names no product: the same one can build the clients of several products,
/// each of which derives its endpoint from the region (or takes the explicit one) and its default
/// signature from its own spec.
#[derive(Clone)]
pub struct Config {
    /// The explicit endpoint, parsed.
    endpoint: Option<Endpoint>,
    region: Option<String>,
    network: Network,
    pub(crate) credentials: Arc<dyn ProvideCredentials>,
    signature_version: Option<SignatureVersion>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Duration,
    pub(crate) retry: RetryConfig,
    app_name: Option<String>,
    pub(crate) max_response_bytes: usize,
    pub(crate) rate_limit: RateLimit,
    pub(crate) deadline: Option<Duration>,
    pub(crate) proxy: Proxy,
    #[cfg(feature = "test-util")]
    pub(crate) mocks: Option<super::mock::Mocks>,
}

/// A usable endpoint: the URL (path `/`; its `host_header` is the `Host` header and the
/// authority of every request's URI) and its display form.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: HttpUrl,
    pub(crate) display: String,
}

/// What a configuration becomes for one product: the endpoint, signature and user agent.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) endpoint: Endpoint,
    pub(crate) signature_version: SignatureVersion,
    pub(crate) user_agent: String,
}

impl Config {
    /// Starts a configuration; at least a region or an endpoint is needed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use alibabacloud_runtime::{Config, Credentials, Network};
    ///
    /// let config = Config::builder()
    ///     .region("cn-hangzhou")
    ///     .network(Network::Vpc)
    ///     .credentials(Credentials::new("LTAI...", "secret"))
    ///     .read_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// assert_eq!(config.region(), Some("cn-hangzhou"));
    /// assert_eq!(config.endpoint(), None); // each product's client derives its own
    /// # Ok::<(), alibabacloud_runtime::ConfigError>(())
    /// ```
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// A configuration from the environment: the region from `ALIBABA_CLOUD_REGION_ID`, and
    /// credentials from the [`DefaultCredentialsChain`] (the `ALIBABA_CLOUD_ACCESS_KEY_ID` /
    /// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` variables first, then RRSA, the CLI profile, the
    /// credentials file, the ECS RAM role and a credentials URI). Everything else has its
    /// default.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_env_with(|name| std::env::var_os(name))
    }

    pub(crate) fn from_env_with(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
        let region = match lookup(REGION_VAR) {
            Some(v) if !v.is_empty() => {
                v.into_string().map_err(|_| ConfigError::new(format!("{REGION_VAR} is not valid UTF-8")))?
            }
            _ => {
                return Err(ConfigError::new(format!(
                    "{REGION_VAR} is not set; set it to a region such as cn-hangzhou, or build \
                     the configuration with Config::builder()"
                )));
            }
        };
        Config::builder().region(region).build()
    }

    /// The explicit endpoint, as `scheme://host[:port]`, when one was given. Without one, each
    /// client derives its endpoint from the region (see the client's `endpoint()`).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_ref().map(|e| e.display.as_str())
    }

    /// The region, when one was given.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The network the default endpoint was chosen for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The credentials provider.
    pub fn credentials_provider(&self) -> &Arc<dyn ProvideCredentials> {
        &self.credentials
    }

    /// The signature scheme, when one was chosen; clients otherwise use their product's default.
    pub fn signature_version(&self) -> Option<SignatureVersion> {
        self.signature_version
    }

    /// The connect timeout (TCP and TLS).
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The longest wait for any data of the response, headers or body.
    pub fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The retry settings.
    pub fn retry(&self) -> RetryConfig {
        self.retry
    }

    /// The application name appended to the user agent.
    pub fn app_name(&self) -> Option<&str> {
        self.app_name.as_deref()
    }

    /// The largest response body accepted, in bytes.
    pub fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The client-side rate limiting policy.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// The longest a call may take, retries included, when a deadline is set.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether and which HTTP proxy requests go through.
    pub fn proxy(&self) -> &Proxy {
        &self.proxy
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint())
            .field("region", &self.region)
            .field("network", &self.network)
            .field("credentials", &self.credentials)
            .field("signature_version", &self.signature_version)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .field("app_name", &self.app_name)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("deadline", &self.deadline)
            .field("proxy", &self.proxy)
            .finish()
    }
}

/// Builds a [`Config`]; every setting but the region or endpoint has a default.
#[derive(Default)]
pub struct ConfigBuilder {
    region: Option<String>,
    network: Network,
    endpoint: Option<String>,
    credentials: Option<Arc<dyn ProvideCredentials>>,
    signature_version: Option<SignatureVersion>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    retry: Option<RetryConfig>,
    app_name: Option<String>,
    max_response_bytes: Option<usize>,
    rate_limit: RateLimit,
    deadline: Option<Duration>,
    proxy: Proxy,
    #[cfg(feature = "test-util")]
    mocks: Option<super::mock::Mocks>,
}

impl ConfigBuilder {
    /// The region, e.g. `cn-hangzhou`; it picks the endpoint unless one is given.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The network of the endpoint derived from the region (default [`Network::Public`]).
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// An explicit endpoint, overriding the one derived from the region: `https://host[:port]`,
    /// `http://host[:port]` (for local tests), or a bare `host[:port]` meaning HTTPS.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Fixed credentials.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(Arc::new(StaticProvider::new(credentials)));
        self
    }

    /// A credentials provider, asked before every attempt. Without one (and without
    /// [`credentials`](Self::credentials)), the [`DefaultCredentialsChain`] is used. See
    /// [`ProvideCredentials`] for an example of a provider of your own.
    pub fn credentials_provider(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.credentials = Some(Arc::new(provider));
        self
    }

    /// The signature scheme (default: the one the product's spec names, V3 for most APIs).
    pub fn signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = Some(version);
        self
    }

    /// The connect timeout, TCP and TLS together (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest wait for any data of the response, headers or body (default 10 s). It applies
    /// to each read, so a slow but steady body does not time out.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// The retry settings (default: 3 attempts, backoff from 100 ms doubling up to 10 s).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// A name for your application, appended to the user agent (e.g. `myapp/1.0`).
    pub fn app_name(mut self, app_name: impl Into<String>) -> Self {
        self.app_name = Some(app_name.into());
        self
    }

    /// The largest response body accepted, in bytes (default 10 MiB).
    pub fn max_response_bytes(mut self, max: usize) -> Self {
        self.max_response_bytes = Some(max);
        self
    }

    /// Paces calls on the client side (default [`RateLimit::Off`]):
    /// [`RateLimit::Documented`] keeps each operation under the QPS limit Alibaba Cloud
    /// documents for it, so that throttling is avoided rather than retried.
    pub fn rate_limit(mut self, policy: RateLimit) -> Self {
        self.rate_limit = policy;
        self
    }

    /// The longest a call may take in all: every attempt, and the waits between them (default:
    /// none, so a call with retries may take up to about `attempts × (connect + read timeouts)`
    /// plus the backoff). When it passes during an attempt, the call fails with
    /// [`Error::Timeout`](crate::Error::Timeout) of phase
    /// [`Deadline`](crate::TimeoutPhase::Deadline); when the next wait would pass it, the call
    /// returns the last attempt's error without waiting. One call can set its own with
    /// [`CallOptions::deadline`](crate::CallOptions::deadline).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Whether requests go through an HTTP proxy (default [`Proxy::FromEnv`]: `HTTPS_PROXY`,
    /// `HTTP_PROXY` and `NO_PROXY`, as the official SDKs read them). [`Proxy::Disabled`] turns
    /// proxies off.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// Answers every call from these mock rules instead of the network (see
    /// [`mock`](crate::mock)); neither a region nor an endpoint nor credentials are needed then.
    #[cfg(feature = "test-util")]
    pub fn mocks(mut self, mocks: super::mock::Mocks) -> Self {
        self.mocks = Some(mocks);
        self
    }

    /// Checks the settings and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        if let Some(region) = &self.region {
            validate_region(region)?;
        }
        #[cfg(feature = "test-util")]
        let mocked = self.mocks.is_some();
        #[cfg(not(feature = "test-util"))]
        let mocked = false;
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(endpoint), _) => Some(parse_endpoint(endpoint.trim())?),
            (None, Some(_)) => None,
            (None, None) if mocked => Some(parse_endpoint("http://mock.invalid")?),
            (None, None) => {
                return Err(ConfigError::new(
                    "neither a region nor an endpoint is set; call .region(\"cn-hangzhou\") or \
                     .endpoint(\"https://...\")",
                ));
            }
        };

        let connect_timeout = self.connect_timeout.unwrap_or(Duration::from_secs(5));
        let read_timeout = self.read_timeout.unwrap_or(Duration::from_secs(10));
        if connect_timeout.is_zero() {
            return Err(ConfigError::new("the connect timeout must be greater than zero"));
        }
        if read_timeout.is_zero() {
            return Err(ConfigError::new("the read timeout must be greater than zero"));
        }
        let retry = self.retry.unwrap_or_default();
        if retry.max_attempts == 0 {
            return Err(ConfigError::new(
                "retry.max_attempts must be at least 1 (it counts the first attempt)",
            ));
        }
        let max_response_bytes = self.max_response_bytes.unwrap_or(10 * 1024 * 1024);
        if max_response_bytes == 0 {
            return Err(ConfigError::new("max_response_bytes must be greater than zero"));
        }
        let app_name = match self.app_name {
            Some(name) if name.trim().is_empty() => None,
            Some(name) => {
                let name = name.trim().to_owned();
                if !is_header_safe(&name) {
                    return Err(ConfigError::new(
                        "app_name may only hold visible ASCII characters and spaces",
                    ));
                }
                Some(name)
            }
            None => None,
        };
        super::call::check_deadline(self.deadline)?;
        if let Proxy::Url(url) = &self.proxy {
            super::proxy::parse_proxy_url(url, "Config")?;
        }
        let credentials = match self.credentials {
            Some(credentials) => credentials,
            // Mocked calls never ask for credentials; the default chain is not consulted.
            None if mocked => {
                Arc::new(StaticProvider::new(Credentials::new("mock-access-key-id", "mock-secret")))
            }
            None => Arc::new(DefaultCredentialsChain::new()),
        };
        Ok(Config {
            endpoint,
            region: self.region,
            network: self.network,
            credentials,
            signature_version: self.signature_version,
            connect_timeout,
            read_timeout,
            retry,
            app_name,
            max_response_bytes,
            rate_limit: self.rate_limit,
            deadline: self.deadline,
            proxy: self.proxy,
            #[cfg(feature = "test-util")]
            mocks: self.mocks,
        })
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("region", &self.region)
            .field("network", &self.network)
            .field("endpoint", &self.endpoint)
            .field("credentials", &self.credentials)
            .field("signature_version", &self.signature_version)
            .finish_non_exhaustive()
    }
}

fn validate_region(region: &str) -> Result<(), ConfigError> {
    if region.is_empty() {
        return Err(ConfigError::new("the region is empty"));
    }
    if let Some(c) = region.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')) {
        return Err(ConfigError::new(format!(
            "the region {region:?} contains {c:?}; a region id has only lowercase letters, digits \
             and '-', such as cn-hangzhou"
        )));
    }
    Ok(())
}

impl Config {
    /// What this configuration means for one product: the explicit endpoint or the product's
    /// template filled with the region, the signature, and the user agent.
    pub(crate) fn resolve(&self, service: &ServiceInfo) -> Result<Resolved, ConfigError> {
        let endpoint = match (&self.endpoint, &self.region) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, Some(region)) => {
                let pattern = match self.network {
                    Network::Public => service.endpoint_public,
                    Network::Vpc => service.endpoint_vpc,
                };
                parse_endpoint(&format!("https://{}", pattern.replace("{region}", region)))?
            }
            // `build` refuses a configuration with neither.
            (None, None) => return Err(ConfigError::new("neither a region nor an endpoint is set")),
        };
        Ok(Resolved {
            endpoint,
            signature_version: self.signature_version.unwrap_or(service.default_signature),
            user_agent: user_agent(service, self.app_name.as_deref()),
        })
    }
}

/// Parses an endpoint into its URL (path `/`), display form and `Host` header value.
fn parse_endpoint(input: &str) -> Result<Endpoint, ConfigError> {
    if input.is_empty() {
        return Err(ConfigError::new("the endpoint is empty"));
    }
    let with_scheme = if input.contains("://") { input.to_owned() } else { format!("https://{input}") };
    let bad = |why: &str| ConfigError::new(format!("the endpoint {input:?} is not usable: {why}"));
    let url = HttpUrl::parse(&with_scheme).map_err(bad)?;
    if url.credentials().is_some() {
        return Err(bad("it must not contain credentials"));
    }
    if url.path() != "/" {
        return Err(bad("it must not have a path; requests always go to /"));
    }
    if url.query().is_some() || with_scheme.contains('#') {
        return Err(bad("it must not have a query or fragment"));
    }
    // The host header leaves out the scheme's default port, exactly as the transport sends it.
    let display = format!("{}://{}", url.scheme(), url.host_header());
    Ok(Endpoint { url, display })
}

/// `<sdk name>/<version> (<os>; <arch>)`, then the application name if any.
fn user_agent(service: &ServiceInfo, app_name: Option<&str>) -> String {
    let mut ua = format!(
        "{}/{} ({}; {})",
        service.sdk_name,
        service.sdk_version,
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if let Some(app) = app_name {
        ua.push(' ');
        ua.push_str(app);
    }
    ua
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up product: the runtime knows none.
    static WIDGETS: ServiceInfo = ServiceInfo::new(
        "widgets",
        "2000-01-01",
        "widgets.{region}.example.com",
        "widgets-vpc.{region}.example.com",
        SignatureVersion::V3,
        "widgets-sdk",
        "9.9.9",
    );

    fn resolved(c: &Config) -> Resolved {
        c.resolve(&WIDGETS).unwrap()
    }

    #[test]
    fn defaults() {
        let c = Config::builder().region("cn-hangzhou").build().unwrap();
        let r = resolved(&c);
        assert_eq!(c.endpoint(), None);
        assert_eq!(r.endpoint.display, "https://widgets.cn-hangzhou.example.com");
        assert_eq!(r.endpoint.url.host_header(), "widgets.cn-hangzhou.example.com");
        assert_eq!(c.region(), Some("cn-hangzhou"));
        assert_eq!(c.signature_version(), None);
        assert_eq!(r.signature_version, SignatureVersion::V3);
        assert_eq!(c.connect_timeout(), Duration::from_secs(5));
        assert_eq!(c.read_timeout(), Duration::from_secs(10));
        assert_eq!(
            c.retry(),
            RetryConfig {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(10)
            }
        );
        assert_eq!(c.max_response_bytes(), 10 * 1024 * 1024);
        assert_eq!(
            r.user_agent,
            format!("widgets-sdk/9.9.9 ({}; {})", std::env::consts::OS, std::env::consts::ARCH)
        );
        assert!(format!("{:?}", c.credentials_provider()).contains("DefaultCredentialsChain"));
        assert_eq!(RetryConfig::disabled().max_attempts, 1);
    }

    #[test]
    fn vpc_endpoint_and_settings() {
        let c = Config::builder()
            .region("cn-shanghai-finance-1")
            .network(Network::Vpc)
            .signature_version(SignatureVersion::V1)
            .connect_timeout(Duration::from_secs(1))
            .read_timeout(Duration::from_secs(2))
            .retry(RetryConfig { max_attempts: 5, ..RetryConfig::default() })
            .app_name("myapp/1.0")
            .max_response_bytes(1024)
            .build()
            .unwrap();
        let r = resolved(&c);
        assert_eq!(r.endpoint.display, "https://widgets-vpc.cn-shanghai-finance-1.example.com");
        assert_eq!(c.network(), Network::Vpc);
        assert_eq!(c.signature_version(), Some(SignatureVersion::V1));
        assert_eq!(r.signature_version, SignatureVersion::V1);
        assert_eq!(c.retry().max_attempts, 5);
        assert_eq!(c.app_name(), Some("myapp/1.0"));
        assert!(r.user_agent.ends_with(") myapp/1.0"), "{}", r.user_agent);
        assert_eq!(c.max_response_bytes(), 1024);
    }

    #[test]
    fn explicit_endpoints() {
        let host = |c: &Config| resolved(c).endpoint.url.host_header().to_owned();
        let c = Config::builder().endpoint("http://127.0.0.1:8080").build().unwrap();
        assert_eq!(c.endpoint(), Some("http://127.0.0.1:8080"));
        assert_eq!(host(&c), "127.0.0.1:8080");
        assert_eq!(c.region(), None);

        let c = Config::builder().endpoint("widgets.cn-beijing.example.com").build().unwrap();
        assert_eq!(c.endpoint(), Some("https://widgets.cn-beijing.example.com"));

        let c = Config::builder().endpoint("localhost:8443").build().unwrap();
        assert_eq!(c.endpoint(), Some("https://localhost:8443"));
        assert_eq!(host(&c), "localhost:8443");

        // Default ports are not part of the Host header.
        let c = Config::builder().endpoint("https://example.com:443/").build().unwrap();
        assert_eq!(host(&c), "example.com");
        let c = Config::builder().endpoint("http://example.com:80").build().unwrap();
        assert_eq!(host(&c), "example.com");
        let c = Config::builder().endpoint("http://[::1]:9000").build().unwrap();
        assert_eq!(host(&c), "[::1]:9000");

        // The endpoint wins over the region.
        let c = Config::builder().region("cn-hangzhou").endpoint("http://127.0.0.1:1").build().unwrap();
        assert_eq!(resolved(&c).endpoint.display, "http://127.0.0.1:1");
        assert_eq!(c.region(), Some("cn-hangzhou"));
    }

    fn build_err(b: ConfigBuilder) -> String {
        b.build().unwrap_err().to_string()
    }

    #[test]
    fn invalid_configurations() {
        let e = build_err(Config::builder());
        assert!(e.starts_with("invalid configuration: neither a region nor an endpoint"), "{e}");
        for region in
            ["CN-HANGZHOU", "cn_hangzhou", "cn-hangzhou.evil.com", "cn hangzhou", "", "cn-hangzhou/"]
        {
            let e = build_err(Config::builder().region(region));
            assert!(e.contains("region"), "{region}: {e}");
        }
        for endpoint in [
            "ftp://example.com",
            "http://",
            "https://user:pw@example.com",
            "https://example.com/path",
            "https://example.com/?a=b",
            "http://exa mple.com",
            "",
            "https://example.com:99999",
        ] {
            let e = build_err(Config::builder().endpoint(endpoint));
            assert!(e.contains("endpoint"), "{endpoint}: {e}");
        }
        let e = build_err(Config::builder().region("cn-hangzhou").connect_timeout(Duration::ZERO));
        assert!(e.contains("connect timeout"), "{e}");
        let e = build_err(Config::builder().region("cn-hangzhou").read_timeout(Duration::ZERO));
        assert!(e.contains("read timeout"), "{e}");
        let e = build_err(
            Config::builder()
                .region("cn-hangzhou")
                .retry(RetryConfig { max_attempts: 0, ..RetryConfig::default() }),
        );
        assert!(e.contains("max_attempts"), "{e}");
        let e = build_err(Config::builder().region("cn-hangzhou").app_name("bad\napp"));
        assert!(e.contains("app_name"), "{e}");
        let e = build_err(Config::builder().region("cn-hangzhou").max_response_bytes(0));
        assert!(e.contains("max_response_bytes"), "{e}");
    }

    #[test]
    fn from_env() {
        let c = Config::from_env_with(|name| {
            (name == "ALIBABA_CLOUD_REGION_ID").then(|| OsString::from("cn-qingdao"))
        })
        .unwrap();
        assert_eq!(resolved(&c).endpoint.display, "https://widgets.cn-qingdao.example.com");
        let e = Config::from_env_with(|_| None).unwrap_err();
        assert!(e.message().contains("ALIBABA_CLOUD_REGION_ID is not set"), "{e}");
        let e = Config::from_env_with(|_| Some(OsString::from("Bad Region"))).unwrap_err();
        assert!(e.message().contains("region"), "{e}");
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Config::builder()
            .region("cn-hangzhou")
            .credentials(Credentials::new("AKID", "TopSecret").with_security_token("TokenValue"))
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        assert!(dbg.contains("AKID"));
        assert!(!dbg.contains("TopSecret") && !dbg.contains("TokenValue"), "{dbg}");
        let b = Config::builder().credentials(Credentials::new("AKID", "TopSecret"));
        assert!(!format!("{b:?}").contains("TopSecret"));
    }
}
