//! Temporary credentials from an HTTP endpoint of your own (`ALIBABA_CLOUD_CREDENTIALS_URI`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;

use super::cache::CredentialsCache;
use super::ecs::parse_metadata_credentials;
use super::env::Env;
use super::http::{HttpClient, HttpRequest};
use super::{Credentials, CredentialsError, CredentialsFuture, ProvideCredentials};
use crate::url::HttpUrl;

pub(crate) const CREDENTIALS_URI: &str = "ALIBABA_CLOUD_CREDENTIALS_URI";

/// Gets temporary credentials with a `GET` of a URI, which answers
/// `{"Code": "Success", "AccessKeyId": ..., "AccessKeySecret": ..., "SecurityToken": ...,
/// "Expiration": "2026-11-25T16:33:53Z"}` (default URI: `ALIBABA_CLOUD_CREDENTIALS_URI`).
///
/// The credentials are cached and refreshed from ten minutes before they expire; they are never
/// used with less than three minutes left. Errors name the
/// URI without its query, which may hold a secret.
#[derive(Clone)]
pub struct CredentialsUriProvider {
    inner: Arc<Inner>,
}

struct Inner {
    uri: HttpUrl,
    http: HttpClient,
    cache: CredentialsCache,
}

/// Builds a [`CredentialsUriProvider`].
#[derive(Default)]
pub struct CredentialsUriProviderBuilder {
    uri: Option<String>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl CredentialsUriProvider {
    /// Starts a provider.
    pub fn builder() -> CredentialsUriProviderBuilder {
        CredentialsUriProviderBuilder::default()
    }

    async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let inner = &*self.inner;
        let shown = inner.uri.display();
        let request = HttpRequest {
            method: Method::GET,
            url: inner.uri.clone(),
            headers: vec![("accept", "application/json".to_owned(), false)],
            form: None,
        };
        let response = inner.http.send(request).await.map_err(|e| e.error)?;
        if response.status != 200 {
            return Err(CredentialsError::new(format!(
                "the credentials URI {shown} answered HTTP {}: {}",
                response.status,
                response.snippet(200)
            )));
        }
        parse_metadata_credentials(&response.body, &format!("the credentials URI {shown}"))
    }
}

impl ProvideCredentials for CredentialsUriProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        Box::pin(async move { self.inner.cache.get_or_refresh(|| self.fetch()).await })
    }
}

impl fmt::Debug for CredentialsUriProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsUriProvider")
            .field("uri", &self.inner.uri.display())
            .field("cache", &self.inner.cache)
            .finish()
    }
}

impl CredentialsUriProviderBuilder {
    /// The `http(s)` URI to get credentials from (default: `ALIBABA_CLOUD_CREDENTIALS_URI`).
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    /// The connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The read timeout (default 10 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// Checks the URI.
    pub fn build(self) -> Result<CredentialsUriProvider, CredentialsError> {
        self.build_with(&Env::process())
    }

    pub(crate) fn build_with(self, env: &Env) -> Result<CredentialsUriProvider, CredentialsError> {
        let text = self
            .uri
            .filter(|u| !u.trim().is_empty())
            .or_else(|| env.get(CREDENTIALS_URI))
            .ok_or_else(|| CredentialsError::not_found(format!("{CREDENTIALS_URI} is not set")))?;
        let uri = HttpUrl::parse(text.trim())
            .map_err(|why| CredentialsError::new(format!("the credentials URI is not usable: {why}")))?;
        Ok(CredentialsUriProvider {
            inner: Arc::new(Inner {
                cache: CredentialsCache::new(format!("the credentials URI {}", uri.display())),
                uri,
                http: HttpClient::new(
                    self.connect_timeout.unwrap_or(super::sts::CONNECT_TIMEOUT),
                    self.read_timeout.unwrap_or(super::sts::READ_TIMEOUT),
                    false,
                ),
            }),
        })
    }
}

impl fmt::Debug for CredentialsUriProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let uri =
            self.uri.as_deref().map(|u| HttpUrl::parse(u.trim()).map(|u| u.display()).unwrap_or_default());
        f.debug_struct("CredentialsUriProviderBuilder").field("uri", &uri).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_settings() {
        let err = CredentialsUriProvider::builder().build_with(&Env::from_pairs(&[])).unwrap_err();
        assert!(err.is_not_found() && err.message().contains(CREDENTIALS_URI), "{err}");
        let err = CredentialsUriProvider::builder()
            .uri("file:///etc/passwd")
            .build_with(&Env::from_pairs(&[]))
            .unwrap_err();
        assert!(!err.is_not_found());
        let env = Env::from_pairs(&[(CREDENTIALS_URI, "http://127.0.0.1:8080/creds?token=hidden")]);
        let p = CredentialsUriProvider::builder().build_with(&env).unwrap();
        let dbg = format!("{p:?}");
        assert!(dbg.contains("http://127.0.0.1:8080/creds") && !dbg.contains("hidden"), "{dbg}");
        let b = CredentialsUriProvider::builder().uri("https://x/?k=hidden");
        assert!(!format!("{b:?}").contains("hidden"));
    }
}
