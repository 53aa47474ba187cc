//! Credentials given explicitly.

use super::{Credentials, CredentialsFuture, ProvideCredentials};

/// Always provides the same credentials.
#[derive(Clone, Debug)]
pub struct StaticProvider {
    credentials: Credentials,
}

impl StaticProvider {
    /// A provider of these credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self { credentials }
    }
}

impl From<Credentials> for StaticProvider {
    fn from(credentials: Credentials) -> Self {
        Self::new(credentials)
    }
}

impl ProvideCredentials for StaticProvider {
    fn provide_credentials(&self) -> CredentialsFuture<'_> {
        let creds = self.credentials.clone();
        Box::pin(async move { Ok(creds) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn provides_what_it_was_given() {
        let p = StaticProvider::new(Credentials::new("id", "secret"));
        let c = p.provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "id");
        assert!(!format!("{p:?}").contains("secret\""));
    }
}
