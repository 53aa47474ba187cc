//! The server side of every operation, written into the local service crate: a typed request
//! parsed from what a client sends (constraints checked), a typed output serialised the way the
//! service answers, a typed error with the codes of the spec's table, and one `Handler` trait
//! with a method per operation plus the dispatcher that ties them together.
//!
//! Reads only the IR. The shared logic (parameter reading, checks, reply encoding) is
//! hand-written in the local crate's `server` module, named here as `rt`.

use super::{GeneratedFile, docs, file, ident, md};
use crate::ir::{self, FieldType, ParamType, Scalar};
use proc_macro2::TokenStream;
use quote::quote;

/// Where the local service crate expects the files: `local/src/generated/`.
pub fn emit_server(service: &ir::Service) -> Result<Vec<GeneratedFile>, super::EmitError> {
    let mut files = Vec::with_capacity(service.operations.len() + 3);
    files.push(file("mod.rs", &service.spec_file, mod_file(service))?);
    files.push(file("types.rs", &service.spec_file, types_file(service))?);
    files.push(file("operations/mod.rs", &service.spec_file, operations_mod(service))?);
    for op in &service.operations {
        files.push(file(&format!("operations/{}.rs", op.module), &op.spec_file, operation(service, op))?);
    }
    Ok(files)
}

fn mod_file(s: &ir::Service) -> TokenStream {
    let version = &s.api_version;
    let methods = s.operations.iter().map(|op| {
        let m = ident(&op.method);
        let req = ident(&op.request);
        let out = ident(&op.output);
        let err = ident(&op.error);
        let module = ident(&op.module);
        let d = docs(&format!("`{}`: {}", op.action, md(&op.summary)));
        quote! {
            #d
            fn #m(
                &self,
                ctx: &rt::Context,
                request: operations::#module::#req,
            ) -> impl Future<Output = Result<operations::#module::#out, operations::#module::#err>> + Send;
        }
    });
    let arms = s.operations.iter().map(|op| {
        let action = &op.action;
        let module = ident(&op.module);
        quote!(#action => operations::#module::serve(handler, ctx, params).await,)
    });
    let trip_arms = s.operations.iter().map(|op| {
        let action = &op.action;
        let module = ident(&op.module);
        quote!(#action => operations::#module::round_trip(client, canned, u).await,)
    });
    let parse_arms = s.operations.iter().map(|op| {
        let action = &op.action;
        let module = ident(&op.module);
        let req = ident(&op.request);
        quote!(#action => operations::#module::#req::parse(params).map(|r| format!("{r:?}")),)
    });
    let actions = s.operations.iter().map(|op| &op.action);
    let mutating = s.operations.iter().filter(|op| !op.idempotent).map(|op| &op.action);
    let enum_values = s.enums.iter().flat_map(|e| e.variants.iter().map(|v| &v.wire));
    quote! {
        //! The server side of the API, generated from the same spec as the client: typed requests
        //! parsed and checked, typed outputs and errors encoded as the service sends them, one
        //! [`Handler`] method per operation and [`dispatch`] to route a request to it.

        #![allow(clippy::too_many_lines)]

        pub mod operations;
        pub mod types;

        use crate::server as rt;
        use std::future::Future;

        /// The API version requests must name.
        pub const API_VERSION: &str = #version;

        /// Every action of the API, sorted.
        pub const ACTIONS: &[&str] = &[#(#actions),*];

        /// The actions that change state.
        pub const MUTATING: &[&str] = &[#(#mutating),*];

        /// Every wire value of every shared enumeration.
        pub const ENUM_VALUES: &[&str] = &[#(#enum_values),*];

        /// What serves the API: one method per operation, typed request in, typed output or
        /// typed error out. The dispatcher parses and checks the request before calling it, and
        /// sets the output's `RequestId`.
        pub trait Handler: Send + Sync + 'static {
            #(#methods)*
        }

        /// Parses the parameters of `action`, calls `handler` and encodes its answer. `None`
        /// when the action is not part of the API.
        pub async fn dispatch<H: Handler>(
            handler: &H,
            ctx: &rt::Context,
            action: &str,
            params: &rt::Params,
        ) -> Option<rt::Reply> {
            Some(match action {
                #(#arms)*
                _ => return None,
            })
        }

        /// Parses the parameters of `action` and prints the request with `Debug`; for the round
        /// trip tests.
        #[cfg(feature = "roundtrip")]
        pub fn parse_debug(action: &str, params: &rt::Params) -> Option<Result<String, rt::ApiError>> {
            Some(match action {
                #(#parse_arms)*
                _ => return None,
            })
        }

        /// One round trip of `action` with random values: see [`rt::roundtrip`].
        #[cfg(feature = "roundtrip")]
        pub async fn round_trip(
            action: &str,
            client: &alibabacloud_onsmqtt::Client,
            canned: &rt::roundtrip::Canned,
            u: &mut arbitrary::Unstructured<'_>,
        ) -> Option<arbitrary::Result<rt::roundtrip::Trip>> {
            Some(match action {
                #(#trip_arms)*
                _ => return None,
            })
        }
    }
}

fn types_file(s: &ir::Service) -> TokenStream {
    let enums: Vec<_> = s.enums.iter().map(|e| ident(&e.name)).collect();
    let structs = s.shared_structs.iter().map(|st| struct_def(s, st));
    quote! {
        //! Structures several operations share, server flavour. Enumerations are the client's
        //! (they keep unknown values), read from the wire through [`rt::Wire`].

        #[allow(unused_imports)]
        use crate::server as rt;

        pub use alibabacloud_onsmqtt::types::{#(#enums),*};

        #(
            impl rt::Wire for #enums {
                fn from_wire(value: &str) -> Option<Self> {
                    Some(Self::from(value))
                }
            }
        )*

        #(#structs)*
    }
}

fn operations_mod(s: &ir::Service) -> TokenStream {
    let mods = s.operations.iter().map(|op| ident(&op.module));
    quote! {
        //! One module per operation: request, output, error and how they travel.
        #(pub mod #mods;)*
    }
}

fn scalar_type(s: &Scalar) -> TokenStream {
    match s {
        Scalar::String => quote!(String),
        Scalar::Bool => quote!(bool),
        Scalar::I32 => quote!(i32),
        Scalar::I64 { .. } => quote!(i64),
        Scalar::Enum(name) => {
            let n = ident(name);
            quote!(#n)
        }
    }
}

fn checks_const(c: &ir::Checks) -> TokenStream {
    let mut out = quote!(rt::Checks::NONE);
    if let Some(v) = c.minimum {
        out = quote!(#out.minimum(#v));
    }
    if let Some(v) = c.maximum {
        out = quote!(#out.maximum(#v));
    }
    if let Some(v) = c.min_length {
        out = quote!(#out.min_length(#v));
    }
    if let Some(v) = c.max_length {
        out = quote!(#out.max_length(#v));
    }
    if let Some(v) = c.max_items {
        out = quote!(#out.max_items(#v));
    }
    quote!(&#out)
}

/// The codes a rejected parameter is answered with, chosen from the operation's table: see
/// `rt::Codes`.
fn codes_const(op: &ir::Operation) -> TokenStream {
    let templated = op.errors.iter().find(|e| e.templated && e.code == "InvalidParameter.");
    let fixed = ["ParameterCheckFailed", "ParameterFieldCheckFailed", "InvalidParameter"]
        .iter()
        .find_map(|c| op.errors.iter().find(|e| !e.templated && e.code == *c));
    let t = match templated {
        Some(e) => {
            let c = &e.code;
            let st = e.statuses.first().copied().unwrap_or(400);
            quote!(Some((#c, #st)))
        }
        None => quote!(None),
    };
    let f = match fixed {
        Some(e) => {
            let c = &e.code;
            let st = e.statuses.first().copied().unwrap_or(400);
            quote!(Some((#c, #st)))
        }
        None => quote!(None),
    };
    quote!(rt::Codes { templated: #t, fixed: #f })
}

fn param_field(p: &ir::Param) -> TokenStream {
    let f = ident(&p.ident);
    let d = docs(&format!("{} Wire name `{}`.", md(&p.docs), p.wire));
    let t = match &p.ty {
        ParamType::Scalar(s) => scalar_type(s),
        ParamType::List(s) => {
            let s = scalar_type(s);
            quote!(Vec<#s>)
        }
        ParamType::StructList { name, .. } => {
            let n = ident(name);
            quote!(Vec<#n>)
        }
    };
    let t = if p.state.is_some() || !matches!(p.ty, ParamType::Scalar(_)) { t } else { quote!(Option<#t>) };
    quote!(#d pub #f: #t,)
}

fn param_parse(p: &ir::Param) -> TokenStream {
    let f = ident(&p.ident);
    let wire = &p.wire;
    let checks = checks_const(&p.checks);
    let required = p.state.is_some();
    match &p.ty {
        ParamType::Scalar(_) if required => quote!(#f: r.required(#wire, #checks)?,),
        ParamType::Scalar(_) => quote!(#f: r.optional(#wire, #checks)?,),
        ParamType::List(_) => quote!(#f: r.list(#wire, #required, #checks)?,),
        ParamType::StructList { name, members } => {
            let n = ident(name);
            let ms = members.iter().map(|m| {
                let mf = ident(&m.ident);
                let mw = &m.wire;
                quote!(#mf: e.optional(#mw, &rt::Checks::NONE)?,)
            });
            quote!(#f: r.struct_list(#wire, #required, #checks, |e| Ok(#n { #(#ms)* }))?,)
        }
    }
}

fn client_setter(p: &ir::Param, shared: &[String], op: &ir::Operation) -> (bool, TokenStream) {
    let f = ident(&p.ident);
    let required = p.state.is_some();
    let value = match &p.ty {
        ParamType::Scalar(_) => quote!(value.clone()),
        ParamType::List(_) => quote!(value.iter().cloned()),
        ParamType::StructList { name, members } => {
            let n = ident(name);
            let path = if shared.contains(name) {
                quote!(alibabacloud_onsmqtt::types::#n)
            } else {
                let _ = op;
                quote!(alibabacloud_onsmqtt::operations::#n)
            };
            let sets = members.iter().map(|m| {
                let mf = ident(&m.ident);
                quote!(if let Some(v) = &e.#mf { c = c.#mf(v.clone()); })
            });
            quote!(value.iter().map(|e| { let mut c = #path::new(); #(#sets)* c }))
        }
    };
    let body = match (&p.ty, required) {
        (_, true) => quote!(let value = &request.#f; let b = b.#f(#value);),
        (ParamType::Scalar(_), false) => {
            quote!(let b = match &request.#f { Some(value) => b.#f(#value), None => b };)
        }
        (_, false) => {
            quote!(let value = &request.#f; let b = if value.is_empty() { b } else { b.#f(#value) };)
        }
    };
    (required, body)
}

fn operation(s: &ir::Service, op: &ir::Operation) -> TokenStream {
    let action = &op.action;
    let req = ident(&op.request);
    let out = ident(&op.output);
    let err = ident(&op.error);
    let method = ident(&op.method);
    let failure_in_body = op.failure_in_body;
    let codes = codes_const(op);
    let fields = op.params.iter().map(param_field);
    let parses = op.params.iter().map(param_parse);
    let arbs = op.params.iter().map(param_arbitrary_tokens);
    let shared: Vec<String> = s.shared_structs.iter().map(|st| st.name.clone()).collect();
    let mut required_sets = Vec::new();
    let mut optional_sets = Vec::new();
    for p in &op.params {
        let (required, body) = client_setter(p, &shared, op);
        if required { required_sets.push(body) } else { optional_sets.push(body) }
    }
    let req_debug = redacted_debug(
        &op.request,
        &op.params.iter().map(|p| (p.ident.clone(), p.sensitive)).collect::<Vec<_>>(),
    );
    let imports: Vec<_> = op.imports.iter().map(|i| ident(i)).collect();
    let use_types = if imports.is_empty() {
        quote!()
    } else {
        quote!(#[allow(unused_imports)] use crate::generated::types::{#(#imports),*};)
    };
    let output =
        output_struct(&op.output, &format!("What a successful `{action}` call returns."), &op.output_fields);
    let structs = op.structs.iter().map(|st| struct_def(s, st));
    let request_id = op.output_fields.iter().find(|f| f.wire == "RequestId").map(|f| {
        let id = ident(&f.ident);
        if f.required {
            quote!(out.#id = ctx.request_id.clone();)
        } else {
            quote!(out.#id = Some(ctx.request_id.clone());)
        }
    });
    let variants = op.errors.iter().map(|e| {
        let v = ident(&e.ident);
        let statuses = e.statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let code_text = if e.templated { format!("{}<parameter>", e.code) } else { e.code.clone() };
        let d = docs(&format!("`{code_text}` (HTTP {statuses}): {} Carries the message.", md(&e.docs)));
        if e.templated {
            quote!(#d #v { /** The parameter the code names. */ parameter: String, /** The message. */ message: String },)
        } else {
            quote!(#d #v(String),)
        }
    });
    let into_arms = op.errors.iter().map(|e| {
        let v = ident(&e.ident);
        let code = &e.code;
        let st = e.statuses.first().copied().unwrap_or(400);
        if e.templated {
            quote!(#err::#v { parameter, message } => rt::ApiError::new(#st, format!("{}{}", #code, parameter), message),)
        } else {
            quote!(#err::#v(message) => rt::ApiError::new(#st, #code, message),)
        }
    });
    // A success answer of a failure-in-body operation says so: a random `Success: false` would be
    // a failure.
    let force_success =
        op.output_fields.iter().find(|f| op.failure_in_body && f.wire == "Success").map(|f| {
            let id = ident(&f.ident);
            let v = if f.required { quote!(true) } else { quote!(Some(true)) };
            quote!(let answer = answer.map(|mut o| { o.#id = #v; o });)
        });
    let file_doc = format!(" `{action}`, server side: {}", md(&op.summary));
    let req_doc = docs(&format!("A parsed and checked `{action}` request."));
    let err_doc = docs(&format!(
        "The errors `{action}` answers with, one variant per code of the spec's table; `Other` for any other."
    ));
    quote! {
        #![doc = #file_doc]

        use crate::server as rt;
        #use_types

        const CODES: rt::Codes = #codes;

        /// Whether failures travel inside an HTTP 200 with `Success: false`.
        pub const FAILURE_IN_BODY: bool = #failure_in_body;

        #req_doc
        #[derive(Clone, PartialEq)]
        pub struct #req {
            #(#fields)*
        }

        #req_debug

        impl #req {
            /// Reads the request from its parameters, checking presence, types and the declared
            /// constraints; the error is the answer the service gives.
            pub fn parse(params: &rt::Params) -> Result<Self, rt::ApiError> {
                let r = rt::Reader::new(params, &CODES);
                Ok(Self { #(#parses)* })
            }

            /// A random request within the declared constraints.
            #[cfg(feature = "roundtrip")]
            pub fn arbitrary(u: &mut arbitrary::Unstructured<'_>) -> arbitrary::Result<Self> {
                Ok(Self { #(#arbs)* })
            }
        }

        #output
        #(#structs)*

        #err_doc
        #[derive(Debug, Clone, PartialEq)]
        #[cfg_attr(feature = "roundtrip", derive(arbitrary::Arbitrary))]
        pub enum #err {
            #(#variants)*
            /// Any other answer, such as a code of the gateway.
            Other(rt::ApiError),
        }

        impl rt::OtherError for #err {
            fn other(e: rt::ApiError) -> Self {
                Self::Other(e)
            }
        }

        impl From<#err> for rt::ApiError {
            fn from(e: #err) -> Self {
                match e {
                    #(#into_arms)*
                    #err::Other(e) => e,
                }
            }
        }

        pub(crate) async fn serve<H: super::super::Handler>(
            handler: &H,
            ctx: &rt::Context,
            params: &rt::Params,
        ) -> rt::Reply {
            let request = match #req::parse(params) {
                Ok(r) => r,
                Err(e) => return rt::error_reply(ctx, e, false),
            };
            match handler.#method(ctx, request).await {
                Ok(mut out) => {
                    #request_id
                    rt::ok_reply(&out)
                }
                Err(e) => rt::error_reply(ctx, e.into(), FAILURE_IN_BODY),
            }
        }

        /// Sends a random request through the client and answers it with a random output or
        /// error through the server encoders.
        #[cfg(feature = "roundtrip")]
        pub(crate) async fn round_trip(
            client: &alibabacloud_onsmqtt::Client,
            canned: &rt::roundtrip::Canned,
            u: &mut arbitrary::Unstructured<'_>,
        ) -> arbitrary::Result<rt::roundtrip::Trip> {
            let request = #req::arbitrary(u)?;
            let answer: Result<#out, #err> = u.arbitrary()?;
            #force_success
            let reply = match answer.clone() {
                Ok(out) => rt::ok_reply(&out),
                Err(e) => rt::error_reply(&rt::Context::for_tests(), e.into(), FAILURE_IN_BODY),
            };
            canned.set(#action, reply);
            let b = client.#method();
            #(#required_sets)*
            #(#optional_sets)*
            let got = b.send().await;
            Ok(rt::roundtrip::Trip::new(
                FAILURE_IN_BODY,
                format!("{request:?}"),
                canned,
                answer.map(|o| format!("{o:?}")).map_err(|e| rt::ApiError::from(e)),
                got.map(|o| format!("{o:?}")).map_err(|e| match e {
                    alibabacloud_onsmqtt::Error::Service(e) => rt::roundtrip::Got::Service(e.service_error().clone()),
                    other => rt::roundtrip::Got::Other(other.to_string()),
                }),
            ))
        }
    }
}

fn param_arbitrary_tokens(p: &ir::Param) -> TokenStream {
    let f = ident(&p.ident);
    let checks = checks_const(&p.checks);
    let required = p.state.is_some();
    match &p.ty {
        ParamType::Scalar(_) if required => quote!(#f: rt::roundtrip::value(u, #checks)?,),
        ParamType::Scalar(_) => quote!(#f: rt::roundtrip::optional(u, #checks)?,),
        ParamType::List(_) => {
            quote!(#f: rt::roundtrip::list(u, #required, #checks, |u| rt::roundtrip::value(u, &rt::Checks::NONE))?,)
        }
        ParamType::StructList { name, members } => {
            let n = ident(name);
            let ms = members.iter().map(|m| {
                let mf = ident(&m.ident);
                quote!(#mf: rt::roundtrip::optional(u, &rt::Checks::NONE)?,)
            });
            // An element with no member set does not reach the wire: the first member is always
            // present.
            let first = members.first().map(|m| {
                let mf = ident(&m.ident);
                quote!(e.#mf = Some(e.#mf.take().unwrap_or_default());)
            });
            quote!(#f: rt::roundtrip::list(u, #required, #checks, |u| {
                let mut e = #n { #(#ms)* };
                #first
                Ok(e)
            })?,)
        }
    }
}

/// Output structure: `Serialize` with the wire names, `Debug` printed as the client prints its own.
fn output_struct(name: &str, doc: &str, fields: &[ir::StructField]) -> TokenStream {
    let n = ident(name);
    let d = docs(doc);
    let members = fields.iter().map(|f| {
        let fd = docs(&format!("{} Wire name `{}`.", md(&f.docs), f.wire));
        let id = ident(&f.ident);
        let ty = field_type(&f.ty, f.required);
        let attr = serde_attr(f);
        let arb = arbitrary_attr(f);
        quote!(#fd #attr #arb pub #id: #ty,)
    });
    let sensitive = fields.iter().any(|f| f.sensitive);
    let derives = if sensitive {
        quote!(Clone, Default, PartialEq, serde::Serialize)
    } else {
        quote!(Debug, Clone, Default, PartialEq, serde::Serialize)
    };
    let debug = if sensitive {
        redacted_debug(name, &fields.iter().map(|f| (f.ident.clone(), f.sensitive)).collect::<Vec<_>>())
    } else {
        quote!()
    };
    quote! {
        #d
        #[derive(#derives)]
        #[cfg_attr(feature = "roundtrip", derive(arbitrary::Arbitrary))]
        pub struct #n {
            #(#members)*
        }
        #debug
    }
}

fn struct_def(_s: &ir::Service, st: &ir::Struct) -> TokenStream {
    if !st.request {
        return output_struct(&st.name, &md(&st.docs), &st.fields);
    }
    let n = ident(&st.name);
    let d = docs(&md(&st.docs));
    let members = st.fields.iter().map(|f| {
        let fd = docs(&format!("{} Wire name `<parameter>.<n>.{}`.", md(&f.docs), f.wire));
        let id = ident(&f.ident);
        let ty = match &f.ty {
            FieldType::Scalar(sc) => scalar_type(sc),
            _ => quote!(String),
        };
        quote!(#fd pub #id: Option<#ty>,)
    });
    quote! {
        #d
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct #n {
            #(#members)*
        }
    }
}

fn field_type(t: &FieldType, required: bool) -> TokenStream {
    fn inner(t: &FieldType) -> TokenStream {
        match t {
            FieldType::Scalar(s) => scalar_type(s),
            FieldType::Struct(n) => {
                let n = ident(n);
                quote!(#n)
            }
            FieldType::List(i) => {
                let i = inner(i);
                quote!(Vec<#i>)
            }
        }
    }
    let t2 = inner(t);
    if required || matches!(t, FieldType::List(_)) { t2 } else { quote!(Option<#t2>) }
}

fn serde_attr(f: &ir::StructField) -> TokenStream {
    let wire = &f.wire;
    let is_enum = matches!(f.ty, FieldType::Scalar(Scalar::Enum(_)));
    let enum_list = matches!(&f.ty, FieldType::List(i) if matches!(**i, FieldType::Scalar(Scalar::Enum(_))));
    let scalar_text = matches!(f.ty, FieldType::Scalar(_)) && (f.wire_string || is_enum);
    match &f.ty {
        FieldType::List(_) if enum_list => {
            quote!(#[serde(rename = #wire, serialize_with = "rt::ser::display_list")])
        }
        FieldType::List(_) => quote!(#[serde(rename = #wire)]),
        _ if scalar_text && f.required => {
            quote!(#[serde(rename = #wire, serialize_with = "rt::ser::display")])
        }
        _ if scalar_text => {
            quote!(#[serde(rename = #wire, serialize_with = "rt::ser::opt_display", skip_serializing_if = "Option::is_none")])
        }
        _ if f.required => quote!(#[serde(rename = #wire)]),
        _ => quote!(#[serde(rename = #wire, skip_serializing_if = "Option::is_none")]),
    }
}

fn arbitrary_attr(f: &ir::StructField) -> TokenStream {
    let path = match &f.ty {
        FieldType::Scalar(Scalar::Enum(_)) if f.required => "rt::roundtrip::enum_value",
        FieldType::Scalar(Scalar::Enum(_)) => "rt::roundtrip::opt_enum_value",
        FieldType::List(i) if matches!(**i, FieldType::Scalar(Scalar::Enum(_))) => "rt::roundtrip::enum_list",
        _ => return quote!(),
    };
    let path: TokenStream = path.parse().unwrap_or_default();
    quote!(#[cfg_attr(feature = "roundtrip", arbitrary(with = #path))])
}

/// `Debug` printing `***` for sensitive fields, exactly as the client's.
fn redacted_debug(name: &str, fields: &[(String, bool)]) -> TokenStream {
    let n = ident(name);
    let entries = fields.iter().map(|(f, sensitive)| {
        let label = f.trim_start_matches("r#");
        let id = ident(f);
        if *sensitive {
            quote!(.field(#label, &rt::Redacted(&self.#id)))
        } else {
            quote!(.field(#label, &self.#id))
        }
    });
    quote! {
        impl std::fmt::Debug for #n {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#name) #(#entries)* .finish()
            }
        }
    }
}
