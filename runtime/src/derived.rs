//! What the client derives from one set of credentials, computed on first use and kept with them:
//! the outcome of validating them, the HMAC keys of the two signers (the key's inner and outer
//! pad blocks already hashed), and the forms of the secrets an answer is searched for.
//!
//! A [`Credentials`](crate::Credentials) value shares these between its clones, so a provider
//! that hands out clones of cached credentials (every provider of this crate) pays for them once,
//! not once per request. A provider that builds new credentials for every request pays what it
//! always paid, and no more: each item is made only when a request needs it.

use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use super::credentials::{Credentials, CredentialsError};
use super::encode;

/// The cached items; empty until used. Cloning credentials with a changed value starts afresh.
#[derive(Clone, Default)]
pub(crate) struct Derived {
    valid: OnceLock<Result<(), CredentialsError>>,
    v3_key: OnceLock<Hmac<Sha256>>,
    v1_key: OnceLock<Hmac<Sha1>>,
    secret_forms: OnceLock<Vec<String>>,
}

impl std::fmt::Debug for Derived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Derived(***)")
    }
}

impl Derived {
    /// [`Credentials::validate`]: the expiration checked every time, the values once.
    pub(crate) fn valid(&self, creds: &Credentials) -> Result<(), CredentialsError> {
        creds.check_expiry()?;
        self.valid.get_or_init(|| creds.validate_values()).clone()
    }

    /// The ACS3-HMAC-SHA256 key: HMAC-SHA256 keyed with the AccessKey secret, nothing hashed yet.
    pub(crate) fn v3_key(&self, creds: &Credentials) -> Hmac<Sha256> {
        self.v3_key
            .get_or_init(|| {
                <Hmac<Sha256> as Mac>::new_from_slice(creds.access_key_secret().as_bytes())
                    .expect("HMAC accepts keys of any length")
            })
            .clone()
    }

    /// The V1 key: HMAC-SHA1 keyed with `secret + "&"`, nothing hashed yet.
    pub(crate) fn v1_key(&self, creds: &Credentials) -> Hmac<Sha1> {
        self.v1_key
            .get_or_init(|| {
                let mut key = Vec::with_capacity(creds.access_key_secret().len() + 1);
                key.extend_from_slice(creds.access_key_secret().as_bytes());
                key.push(b'&');
                <Hmac<Sha1> as Mac>::new_from_slice(&key).expect("HMAC accepts keys of any length")
            })
            .clone()
    }

    /// The forms in which a server could echo the AccessKey secret or the security token: as
    /// they are, percent-encoded (as in the V1 query) and with `/` JSON-escaped; longest first,
    /// so that a form containing another is masked whole. Values shorter than [`MIN_SECRET_LEN`]
    /// are left out: real ones are far longer, and masking a toy value would mangle ordinary
    /// messages.
    pub(crate) fn secret_forms(&self, creds: &Credentials) -> &[String] {
        self.secret_forms.get_or_init(|| {
            let mut forms: Vec<String> = Vec::new();
            for value in [Some(creds.access_key_secret()), creds.security_token()].into_iter().flatten() {
                if value.len() < MIN_SECRET_LEN {
                    continue;
                }
                for form in [value.to_owned(), encode::pct(value), value.replace('/', "\\/")] {
                    if !forms.contains(&form) {
                        forms.push(form);
                    }
                }
            }
            forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
            forms
        })
    }
}

/// Secrets shorter than this are not masked (see [`Derived::secret_forms`]).
pub(crate) const MIN_SECRET_LEN: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_keying_afresh() {
        let creds = Credentials::new("id", "testsecret");
        let d = Derived::default();
        let mut v3 = d.v3_key(&creds);
        v3.update(b"abc");
        let mut fresh = <Hmac<Sha256> as Mac>::new_from_slice(b"testsecret").unwrap();
        fresh.update(b"abc");
        assert_eq!(v3.finalize().into_bytes(), fresh.finalize().into_bytes());
        // A second use starts from the bare key again, not from the first use's data.
        let mut again = d.v3_key(&creds);
        again.update(b"abc");
        let mut fresh = <Hmac<Sha256> as Mac>::new_from_slice(b"testsecret").unwrap();
        fresh.update(b"abc");
        assert_eq!(again.finalize().into_bytes(), fresh.finalize().into_bytes());

        let mut v1 = d.v1_key(&creds);
        v1.update(b"abc");
        let mut fresh = <Hmac<Sha1> as Mac>::new_from_slice(b"testsecret&").unwrap();
        fresh.update(b"abc");
        assert_eq!(v1.finalize().into_bytes(), fresh.finalize().into_bytes());
    }

    #[test]
    fn validity_caches_the_values_but_checks_expiry_every_time() {
        use std::time::{Duration, SystemTime};
        let bad = Credentials::new("", "secret");
        assert!(bad.derived().valid(&bad).is_err());
        assert!(bad.derived().valid(&bad).is_err());
        // Valid at first use, expired a moment later: the cached outcome does not hide it.
        let soon =
            Credentials::new("id", "secret").with_expiration(SystemTime::now() + Duration::from_millis(50));
        assert!(soon.derived().valid(&soon).is_ok());
        std::thread::sleep(Duration::from_millis(80));
        let err = soon.derived().valid(&soon).unwrap_err();
        assert!(err.message().contains("expired"), "{err}");
    }

    #[test]
    fn secret_forms_longest_first_and_toy_values_skipped() {
        let creds = Credentials::new("id", "sec/ret+value").with_security_token("tok");
        let forms = Derived::default().secret_forms(&creds).to_vec();
        assert_eq!(forms, ["sec%2Fret%2Bvalue", "sec\\/ret+value", "sec/ret+value"]);
        assert!(format!("{:?}", Derived::default()).contains("***"));
    }
}
