//! The hand-written runtime under generated Alibaba Cloud API clients (such as
//! the ApsaraMQ for MQTT client): configuration, credentials, request signing (ACS3-HMAC-SHA256 and the
//! older RPC HMAC-SHA1) and its verification, the HTTP transport with bounded bodies and retries,
//! paging, client-side rate limiting, and the error types every call returns.
//!
//! Application code does not depend on this crate directly: every product crate re-exports what
//! its users name ([`Config`], [`Credentials`], [`Error`], ...) at its root. This crate knows no
//! product: the API version, endpoints and default signature of a product arrive as a
//! [`ServiceInfo`] from the generated crate.
//!
//! # The contract with generated code
//!
//! Generated crates use the items of [`__private`] (hidden from the docs): the core client and its
//! `execute`, operation descriptions, parameter lists, constraint checks, decoding helpers and
//! paging drivers. Those names and signatures are the contract between the generator and this
//! runtime; they are not API for applications and may change with any release of the generator.
//! Everything else that is public here is documented API.
//!
//! # Servers
//!
//! [`verify`] checks the signature of a received request, V3 or V1, the way Alibaba Cloud's API
//! gateway does; local stand-ins of a service use it.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[doc(hidden)]
pub mod __bench; // Not API: hooks for the benchmarks in benches/, exempt from semver.
mod call;
mod client;
mod config;
mod credentials;
#[doc(hidden)]
pub mod de; // Part of the contract with generated code; see `__private`.
mod derived;
mod encode;
mod error;
mod error_body;
#[cfg(feature = "test-util")]
pub mod mock;
mod paginate;
mod params;
mod proxy;
mod rate_limit;
mod redact;
mod retry;
mod service;
mod sign;
mod time;
mod transport;
mod typestate;
mod url;
pub mod verify;

pub use call::CallOptions;
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
pub use proxy::Proxy;
pub use rate_limit::RateLimit;
pub use service::ServiceInfo;
pub use typestate::{IsSet, Set, Unset};

/// **Not API.** What generated code uses of the runtime: the contract between the generator and
/// this crate. Hidden from the docs and exempt from semver; applications never name these items.
///
/// Generated crates alias this module as `crate::runtime` and call, per operation: the builder's
/// typestate markers, [`Params`](__private::Params) with [`Location`](__private::Location) to
/// encode the input, the `check_*` functions for declared constraints, a static
/// [`Operation`](__private::Operation), [`ClientCore::call`](__private::ClientCore::call) to send
/// it and get a [`Call`](__private::Call) future that decodes the answer with the output's
/// [`de::FromJson`](__private::de::FromJson) impl, and [`Pages`] with
/// [`PageSpec`](__private::PageSpec) for paging.
#[doc(hidden)]
pub mod __private {
    pub use crate::call::Call;
    pub use crate::client::{ClientCore, Response};
    pub use crate::de;
    #[cfg(feature = "test-util")]
    pub use crate::mock::{MockOperation, Mocks};
    pub use crate::paginate::{Cursor, PageSpec};
    pub use crate::params::{Location, Operation, Params, check_length, check_max_items, check_range};
    pub use crate::redact::{Redact, Redacted};
    pub use crate::{
        CallOptions, Config, ConfigError, Error, InvalidInput, IsSet, Items, Pages, ServiceError,
        ServiceInfo, Set, SignatureVersion, Unset,
    };
}
