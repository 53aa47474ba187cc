//! The hand-written runtime behind the generated operations: configuration, credentials, request
//! signing (ACS3-HMAC-SHA256 and the older RPC HMAC-SHA1), the HTTP transport with bounded bodies and
//! retries, and the error types every call returns.
//!
//! Everything `pub` here is re-exported at the crate root. Items the generated code relies on are
//! `pub(crate)`; their names and signatures form the contract between the generator and this runtime.

#[doc(hidden)]
pub mod __bench; // Not API: hooks for the benchmarks in benches/, exempt from semver.
mod client;
mod config;
mod credentials;
// Helpers for the generated response types; not every spec uses every helper.
#[allow(dead_code, reason = "used by generated code; not every operation needs every helper")]
pub(crate) mod de;
mod encode;
mod error;
mod error_body;
mod paginate;
mod params;
mod rate_limit;
mod redact;
mod retry;
mod sign;
mod time;
mod typestate;

pub use client::Client;
pub use config::{Config, ConfigBuilder, Network, RetryConfig, SignatureVersion};
pub use credentials::{
    CliProfileProvider, CliProfileProviderBuilder, Credentials, CredentialsError, CredentialsUriProvider,
    CredentialsUriProviderBuilder, DefaultCredentialsChain, DefaultCredentialsChainBuilder,
    EcsRamRoleProvider, EcsRamRoleProviderBuilder, EnvironmentProvider, OidcRoleArnProvider,
    OidcRoleArnProviderBuilder, ProfileProvider, ProfileProviderBuilder, ProvideCredentials,
    RamRoleArnProvider, RamRoleArnProviderBuilder, StaticProvider,
};
pub use error::{
    ConfigError, DecodeError, Error, InvalidInput, ServiceError, TimeoutError, TimeoutPhase, TransportError,
};
pub use paginate::{Items, Pages};
pub use rate_limit::RateLimit;
pub use typestate::{IsSet, Set, Unset};

#[allow(unused_imports, reason = "used by generated code")]
pub(crate) use client::Response;
#[allow(unused_imports, reason = "used by the generated paging operations")]
pub(crate) use paginate::{Cursor, PageSpec};
#[allow(unused_imports, reason = "used by generated code")]
pub(crate) use params::{Location, Operation, Params, check_length, check_max_items, check_range};
#[allow(unused_imports, reason = "used by generated code for sensitive fields")]
pub(crate) use redact::Redacted;

/// The API version every request names (`x-acs-version` / `Version`).
pub(crate) use crate::service::API_VERSION;
