//! `types.rs` (shared enumerations and structures), `service.rs` (service constants) and
//! `client.rs` (the `Client` type).

use super::{docs, ident, inner_docs, md, operation::struct_def};
use crate::ir;
use proc_macro2::TokenStream;
use quote::quote;

/// `service.rs`: constants describing the service.
pub fn service_consts(s: &ir::Service) -> TokenStream {
    let title = &s.title;
    let version = &s.api_version;
    let code = &s.product_code;
    let public = &s.endpoint_public;
    let vpc = &s.endpoint_vpc;
    let regions = &s.regions;
    let signature = if s.default_signature_v1 { quote!(V1) } else { quote!(V3) };
    let sdk_name = format!("{}-rust", s.crate_name);
    let file_docs = inner_docs(&format!("Facts about the {} API that the runtime needs.", md(title)));
    quote! {
        #file_docs

        use crate::runtime::{ServiceInfo, SignatureVersion};

        /// The API version this crate speaks, sent with every request.
        pub const API_VERSION: &str = #version;

        /// The product code, as it appears in endpoints.
        pub const PRODUCT_CODE: &str = #code;

        /// The regions the service is offered in, as known when this crate was generated.
        pub const REGIONS: &[&str] = &[#(#regions),*];

        /// What the runtime needs to know of this API: version, endpoint templates (`{region}`
        /// stands for the region ID), default signature, and this crate's name and version for
        /// the user agent.
        pub static SERVICE: ServiceInfo = ServiceInfo::new(
            PRODUCT_CODE,
            API_VERSION,
            #public,
            #vpc,
            SignatureVersion::#signature,
            #sdk_name,
            env!("CARGO_PKG_VERSION"),
        );
    }
}

/// `client.rs`: the `Client` type, a thin wrapper of the runtime's core client that the operation
/// files add one method each to.
pub fn client_module(s: &ir::Service) -> TokenStream {
    let title = md(&s.title);
    let file_docs = inner_docs(&format!("The client of the {title} API."));
    let type_docs = docs(&format!(
        "A client for the {title} API.\n\n\
         Each operation is a method that returns a builder; `send()` on the builder makes the \
         call. Cloning is cheap and clones share one connection pool: create one client and \
         reuse it."
    ));
    quote! {
        #file_docs

        use crate::runtime::{ClientCore, Config, ConfigError, SignatureVersion};

        #type_docs
        #[derive(Clone, Debug)]
        pub struct Client {
            pub(crate) core: ClientCore,
        }

        impl Client {
            /// A client with this configuration: its endpoint is the one the configuration
            /// names, or this API's endpoint in the configured region.
            ///
            /// Neither building the HTTP transport nor choosing the endpoint fails in practice;
            /// if one does, every call returns [`Error::Config`](crate::Error::Config) saying why.
            pub fn new(config: Config) -> Client {
                Client { core: ClientCore::new(config, &crate::service::SERVICE) }
            }

            /// A client configured from the environment; see
            /// [`Config::from_env`](crate::Config::from_env).
            pub fn from_env() -> Result<Client, ConfigError> {
                Config::from_env().map(Client::new)
            }

            /// The configuration of this client.
            pub fn config(&self) -> &Config {
                self.core.config()
            }

            /// The endpoint requests go to, as `scheme://host[:port]`.
            pub fn endpoint(&self) -> &str {
                self.core.endpoint()
            }

            /// The signature scheme requests are signed with: the configured one, or this
            /// API's default.
            pub fn signature_version(&self) -> SignatureVersion {
                self.core.signature_version()
            }

            /// The `User-Agent` every request carries.
            pub fn user_agent(&self) -> &str {
                self.core.user_agent()
            }
        }
    }
}

/// `types.rs`: enumerations and structures shared by several operations.
pub fn types_module(s: &ir::Service) -> TokenStream {
    let enums = s.enums.iter().map(enum_def);
    let structs = s.shared_structs.iter().map(struct_def);
    // Response structures and enumerations decode through the runtime.
    let needs_runtime = !s.enums.is_empty() || s.shared_structs.iter().any(|st| !st.request);
    let runtime_import = if needs_runtime {
        quote!(
            use crate::runtime;
        )
    } else {
        quote!()
    };
    quote! {
        //! Enumerations and structures that several operations share.
        //!
        //! Enumerations keep values this crate does not know in an `Unknown` variant, so a value
        //! the service adds later never makes an answer fail to decode.

        #runtime_import
        use std::fmt;

        #(#enums)*
        #(#structs)*
    }
}

fn enum_def(e: &ir::Enum) -> TokenStream {
    let name = ident(&e.name);
    let d = docs(&md(&e.docs));
    let variants = e.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let vd = docs(&format!("{}\n\nWire value `{}`.", md(&v.docs), v.wire));
        quote! { #vd #id, }
    });
    let to_str = e.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let w = &v.wire;
        quote!(Self::#id => #w,)
    });
    let from_str = e.variants.iter().map(|v| {
        let id = ident(&v.ident);
        let w = &v.wire;
        quote!(#w => Self::#id,)
    });
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A value this version of the crate does not know, kept exactly as received.
            Unknown(String),
        }

        impl #name {
            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#to_str)*
                    Self::Unknown(value) => value,
                }
            }
        }

        /// With the `test-util` feature: an empty `Unknown` value, so that structures holding
        /// one can be made with `Default` in tests.
        #[cfg(feature = "test-util")]
        impl Default for #name {
            fn default() -> Self {
                Self::Unknown(String::new())
            }
        }

        impl From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #(#from_str)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for #name {
            fn from(value: String) -> Self {
                match Self::from(value.as_str()) {
                    Self::Unknown(_) => Self::Unknown(value),
                    known => known,
                }
            }
        }

        impl fmt::Display for #name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }

        impl runtime::de::FromJson for #name {
            fn from_json(value: runtime::de::Value) -> Result<Self, runtime::de::Mismatch> {
                <String as runtime::de::FromJson>::from_json(value).map(Self::from)
            }
        }
    }
}
