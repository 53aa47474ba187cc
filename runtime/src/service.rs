//! What the runtime needs to know of a product: its facts come from the generated crate.

use crate::config::SignatureVersion;

/// The facts of one product API that requests depend on, generated from its spec.
///
/// Each generated crate holds one as a `static` and hands it to the core client; this crate never
/// names a product itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServiceInfo {
    /// The product code, e.g. `ecs`; it names the tracing span of each call.
    pub code: &'static str,
    /// The API version every request names (`x-acs-version` / `Version`).
    pub api_version: &'static str,
    /// The Internet endpoint host; `{region}` stands for the region ID.
    pub endpoint_public: &'static str,
    /// The VPC endpoint host; `{region}` stands for the region ID.
    pub endpoint_vpc: &'static str,
    /// The signature a client uses unless its configuration names one.
    pub default_signature: SignatureVersion,
    /// The client library's name in the user agent, e.g. `alibabacloud-ecs-rust`.
    pub sdk_name: &'static str,
    /// The client library's version in the user agent.
    pub sdk_version: &'static str,
}

impl ServiceInfo {
    /// The facts of a product. `const`, so that generated code can keep them in a `static`.
    #[allow(clippy::too_many_arguments, reason = "one argument per fact; called by generated code only")]
    pub const fn new(
        code: &'static str,
        api_version: &'static str,
        endpoint_public: &'static str,
        endpoint_vpc: &'static str,
        default_signature: SignatureVersion,
        sdk_name: &'static str,
        sdk_version: &'static str,
    ) -> Self {
        Self { code, api_version, endpoint_public, endpoint_vpc, default_signature, sdk_name, sdk_version }
    }
}
