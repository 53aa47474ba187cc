//! The hand-written runtime behind the generated operations: configuration, credentials, request
//! signing (ACS3-HMAC-SHA256 and the older RPC HMAC-SHA1), the HTTP transport with bounded bodies and
//! retries, and the error types every call returns.
//!
//! Everything `pub` here is re-exported at the crate root. Items the generated code relies on are
//! `pub(crate)`; their names and signatures form the contract between the generator and this runtime.

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
mod retry;
mod sign;
mod time;
mod typestate;

pub use client::Client;
pub use config::{Config, ConfigBuilder, Network, RetryConfig, SignatureVersion};
pub use credentials::{
    Credentials, CredentialsError, EnvironmentProvider, ProvideCredentials, StaticProvider,
};
pub use error::{
    ConfigError, DecodeError, Error, InvalidInput, ServiceError, TimeoutError, TimeoutPhase, TransportError,
};
pub use paginate::{Items, Pages};
pub use typestate::{IsSet, Set, Unset};

#[allow(unused_imports, reason = "used by generated code")]
pub(crate) use client::Response;
#[allow(unused_imports, reason = "used by the generated paging operations")]
pub(crate) use paginate::{Cursor, PageSpec};
#[allow(unused_imports, reason = "used by generated code")]
pub(crate) use params::{Location, Operation, Params, check_length, check_max_items, check_range};

/// The API version every request names (`x-acs-version` / `Version`).
pub(crate) use crate::service::API_VERSION;
