//! One file per operation: the `Client` method, its builder, output and error types.

use super::{docs, ident, inner_docs, md};
use crate::ir::{self, FieldType, Location, ParamType, Scalar};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// `operations/mod.rs`: the modules and what each exports.
pub fn mod_file(service: &ir::Service) -> TokenStream {
    let items = service.operations.iter().map(|op| {
        let module = ident(&op.module);
        let mut exports = vec![ident(&op.builder), ident(&op.error), ident(&op.input), ident(&op.output)];
        exports.extend(op.structs.iter().map(|s| ident(&s.name)));
        exports.sort_by_key(ToString::to_string);
        quote! {
            mod #module;
            pub use #module::{ #(#exports),* };
        }
    });
    let module_docs = inner_docs(&format!(
        "Every operation of the {} API, one module each.\n\nEach operation is a method of \
         [`Client`](crate::Client) that returns a builder; `send()` on the builder makes the call.",
        md(&service.title)
    ));
    quote! {
        #module_docs
        #(#items)*
    }
}

/// The file of one operation. `lib_name` is the generated crate's library name, which the
/// example in the method's docs imports from.
///
/// Its functions that are not generic are `#[inline]` (see ARCHITECTURE.md): rustc then
/// generates their machine code in the crate that calls them, so an application pays code
/// generation only for the operations it uses.
pub fn operation(op: &ir::Operation, lib_name: &str) -> TokenStream {
    let builder = ident(&op.builder);
    let output = ident(&op.output);
    let error = ident(&op.error);
    let input = ident(&op.input);
    let method = ident(&op.method);
    let action = &op.action;
    let http_method = format_ident!("{}", op.http_method);
    let idempotent = op.idempotent;
    let failure_in_body = op.failure_in_body;
    let retryable = &op.retryable_codes;
    let qps_limit = match op.qps_limit {
        Some(q) => {
            let q = proc_macro2::Literal::u32_unsuffixed(q);
            quote!(Some(#q))
        }
        None => quote!(None),
    };

    let file_docs = inner_docs(&format!("`{}`: {}", op.action, md(&op.summary)));
    let method_docs = docs(&method_doc(op));
    let example_docs = example_docs(op, lib_name);

    let required: Vec<&ir::Param> = op.params.iter().filter(|p| p.state.is_some()).collect();
    let states: Vec<_> = required.iter().filter_map(|p| p.state.as_deref()).map(ident).collect();
    let unset = required.iter().map(|_| quote!(Unset));
    let builder_generics_decl = if states.is_empty() { quote!() } else { quote!(<#(#states = Unset),*>) };
    let builder_generics = if states.is_empty() { quote!() } else { quote!(<#(#states),*>) };
    let phantom =
        if states.is_empty() { quote!(PhantomData<fn()>) } else { quote!(PhantomData<(#(#states,)*)>) };
    let entry_type = if states.is_empty() { quote!(#builder) } else { quote!(#builder<#(#unset),*>) };

    let input_fields = op.params.iter().map(|p| {
        let f = ident(&p.ident);
        let ty = param_rust_type(&p.ty);
        quote!(#f: Option<#ty>)
    });

    let setters = op.params.iter().map(|p| setter(op, p, &states));
    let encode = op.params.iter().map(encode_param);
    let has_params = !op.params.is_empty();
    let input_arg = if has_params { quote!(input) } else { quote!(_input) };
    let params_decl = if has_params {
        quote!(let mut params = Params::new();)
    } else {
        quote!(let params = Params::new();)
    };

    // The bounds sit on each method rather than on the impl: then a missing parameter is
    // "the trait bound `Unset: IsSet` is not satisfied" with IsSet's own message (E0277), not
    // "no method named `send`" (E0599).
    let where_set = if states.is_empty() { quote!() } else { quote!(where #(#states: IsSet),*) };
    let send_docs = docs(&format!(
        "Sends the `{action}` request and waits for the answer.\n\nParameters are checked against \
         the spec's constraints before anything is sent. {}",
        if op.idempotent {
            "Transient failures (throttling, server errors, broken connections) are retried as the client's retry settings allow."
        } else {
            "This call changes state, so it is retried only when the request certainly never reached the service."
        }
    ));
    let builder_docs = docs(&format!(
        "Builds the `{action}` call; made by {}.{}",
        // rustdoc cannot resolve links to raw identifiers.
        match op.method.strip_prefix("r#") {
            Some(bare) => format!("`Client::{bare}`"),
            None => format!("[`Client::{0}`](crate::Client::{0})", op.method),
        },
        if states.is_empty() {
            String::new()
        } else {
            "\n\nThe type parameters track the required parameters: each starts as [`Unset`] and \
             becomes [`Set`] when its setter is called. `send()` exists only once all are set, so \
             leaving one out is a compile-time error."
                .to_owned()
        }
    ));
    let redacted: Vec<(String, bool)> = op.params.iter().map(|p| (p.ident.clone(), p.sensitive)).collect();
    let (input_derives, input_debug) = if op.params.iter().any(|p| p.sensitive) {
        (quote!(Default, Clone), redacted_debug(&op.input, &redacted))
    } else {
        (quote!(Debug, Default, Clone), quote!())
    };
    let input_docs = docs(&format!(
        "The parameters of a `{action}` call, as given so far; a mock rule reads them with the \
         getters (one per parameter, `None` or empty when not set)."
    ));
    let getters = op.params.iter().map(getter);
    let (paging_methods, paging_fns) = match &op.paging {
        Some(p) => paging(op, p, &where_set),
        None => (quote!(), quote!()),
    };
    let output_type =
        output_struct(&op.output, &format!("What a successful `{action}` call returns."), &op.output_fields);
    let structs = op.structs.iter().map(struct_def);
    let error_enum = error_enum(op);
    let shared_imports = if op.imports.is_empty() {
        quote!()
    } else {
        let names = op.imports.iter().map(|n| ident(n));
        quote!(use crate::types::{#(#names),*};)
    };
    let mut imports = vec!["Error", "Operation", "Params", "ServiceError"];
    if !states.is_empty() {
        imports.extend(["IsSet", "Set", "Unset"]);
    }
    if has_params {
        imports.push("Location");
    }
    if op.paging.is_some() {
        imports.extend(["Cursor", "Items", "PageSpec", "Pages"]);
    }
    imports.sort_unstable();
    let imports = imports.into_iter().map(ident);
    quote! {
        #file_docs

        use crate::Client;
        use crate::runtime::{self, #(#imports),*};
        #shared_imports
        use std::future::Future;
        use std::marker::PhantomData;

        static OPERATION: Operation = Operation {
            action: #action,
            method: http::Method::#http_method,
            idempotent: #idempotent,
            retryable_codes: &[#(#retryable),*],
            failure_in_body: #failure_in_body,
            qps_limit: #qps_limit,
        };

        impl Client {
            #method_docs
            #example_docs
            #[inline]
            pub fn #method(&self) -> #entry_type {
                #builder {
                    client: self.clone(),
                    input: #input::default(),
                    state: PhantomData,
                }
            }
        }

        #builder_docs
        #[must_use = "a builder does nothing until `send()` is awaited"]
        pub struct #builder #builder_generics_decl {
            client: Client,
            input: #input,
            state: #phantom,
        }

        #input_docs
        #[derive(#input_derives)]
        pub struct #input {
            #(#input_fields,)*
        }
        #input_debug

        impl #input {
            #(#getters)*
        }

        impl #builder_generics #builder #builder_generics {
            #(#setters)*

            /// Overrides the client's timeouts, retry policy or deadline for this call only.
            pub fn with_options(mut self, options: runtime::CallOptions) -> Self {
                self.client.core.set_call_options(options);
                self
            }

            #send_docs
            pub fn send(self) -> impl Future<Output = Result<#output, Error<#error>>> + Send + 'static
            #where_set
            {
                send(self.client, self.input)
            }
            #paging_methods
        }

        impl #builder_generics std::fmt::Debug for #builder #builder_generics {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!(#builder)).field("input", &self.input).finish_non_exhaustive()
            }
        }

        #[cfg(feature = "test-util")]
        impl #builder_generics runtime::MockOperation for #builder #builder_generics {
            type Input = #input;
            type Output = #output;
            type Error = #error;
            const ACTION: &'static str = #action;
        }

        #[inline]
        fn send(client: Client, input: #input) -> runtime::Call<#output, #error> {
            client.core.call(&OPERATION, input, encode, #error::service_error)
        }

        #[inline]
        fn encode(#input_arg: #input) -> Result<Params, runtime::InvalidInput> {
            #params_decl
            #(#encode)*
            Ok(params)
        }

        #paging_fns
        #output_type
        #(#structs)*
        #error_enum
    }
}

fn method_doc(op: &ir::Operation) -> String {
    let mut s = md(&op.summary);
    if let Some(d) = &op.description {
        s.push_str("\n\n");
        s.push_str(&md(d));
    }
    let required: Vec<String> =
        op.params.iter().filter(|p| p.state.is_some()).map(|p| method_link(&p.setter, &op.builder)).collect();
    let optional: Vec<String> =
        op.params.iter().filter(|p| p.state.is_none()).map(|p| method_link(&p.setter, &op.builder)).collect();
    s.push_str("\n\n");
    if required.is_empty() {
        s.push_str("No parameter is required.");
    } else {
        s.push_str(&format!("Required: {}.", required.join(", ")));
    }
    if !optional.is_empty() {
        s.push_str(&format!(" Optional: {}.", optional.join(", ")));
    }
    s.push_str(&format!(
        "\n\nAction `{}`, sent as HTTP {}. {}",
        op.action,
        op.http_method,
        if op.idempotent {
            "Read-only."
        } else {
            "Changes state: not retried once it may have reached the service."
        }
    ));
    if let Some(q) = op.qps_limit {
        s.push_str(&format!(" Alibaba Cloud allows at most {q} calls per second per account."));
    }
    s
}

/// A doc link to method `ident` of `owner`; rustdoc cannot resolve links to raw identifiers, so
/// those are named without a link.
fn method_link(ident: &str, owner: &str) -> String {
    match ident.strip_prefix("r#") {
        Some(bare) => format!("`{bare}`"),
        None => format!("[`{ident}`]({owner}::{ident})"),
    }
}

/// The getter of one parameter on the input: borrowed, `None` (or empty, for lists) when unset.
fn getter(p: &ir::Param) -> TokenStream {
    let f = ident(&p.ident);
    // Named like the setter: the names the input type already has (`default`, `clone`, ...)
    // are taken for it too.
    let name = ident(&p.setter);
    let d = docs(&format!("The `{}` parameter, as set on the builder.", p.wire));
    let (ty, body) = match &p.ty {
        ParamType::Scalar(Scalar::String) => (quote!(Option<&str>), quote!(self.#f.as_deref())),
        ParamType::Scalar(s @ Scalar::Enum(_)) => {
            let t = scalar_type(s);
            (quote!(Option<&#t>), quote!(self.#f.as_ref()))
        }
        ParamType::Scalar(s) => {
            let t = scalar_type(s);
            (quote!(Option<#t>), quote!(self.#f))
        }
        ParamType::List(s) => {
            let t = scalar_type(s);
            (quote!(&[#t]), quote!(self.#f.as_deref().unwrap_or_default()))
        }
        ParamType::StructList { name, .. } => {
            let t = ident(name);
            (quote!(&[#t]), quote!(self.#f.as_deref().unwrap_or_default()))
        }
    };
    quote! {
        #d
        #[inline]
        pub fn #name(&self) -> #ty {
            #body
        }
    }
}

/// The `# Example` section of a method's docs: the call with every required parameter set from
/// the spec's example values. The code is built as tokens (spec values become escaped string
/// literals, never code) and formatted; the doc attributes carry it as text.
fn example_docs(op: &ir::Operation, lib_name: &str) -> TokenStream {
    // A library name that is not an identifier (a crate name may start with a digit) gets no
    // example rather than a panic.
    let Ok(lib) = syn::parse_str::<syn::Ident>(lib_name) else { return quote!() };
    let method = ident(&op.method);
    let setters = op.params.iter().filter(|p| p.state.is_some()).map(|p| {
        let f = ident(&p.setter);
        let value = example_value(op, p, &lib);
        quote!(.#f(#value))
    });
    let code = quote! {
        async fn example(client: #lib::Client) -> Result<(), Box<dyn std::error::Error>> {
            let answer = client.#method() #(#setters)* .send().await?;
            println!("{answer:?}");
            Ok(())
        }
    };
    let Ok(file) = syn::parse2::<syn::File>(code) else { return quote!() };
    let text = prettyplease::unparse(&file);
    let mut lines = vec![" # Example".to_owned(), String::new(), " ```no_run".to_owned()];
    let body: Vec<&str> = text.lines().collect();
    // The signature (however it was wrapped), the final `Ok(())` and `}` are hidden.
    let signature_end = body.iter().position(|l| l.ends_with('{')).unwrap_or(0);
    for (i, line) in body.iter().enumerate() {
        let hidden = i <= signature_end || i + 1 == body.len() || line.trim() == "Ok(())";
        let line = line.strip_prefix("    ").unwrap_or(line);
        lines.push(if hidden { format!(" # {line}") } else { format!(" {line}") });
    }
    lines.push(" ```".to_owned());
    quote! {
        ///
        #( #[doc = #lines] )*
    }
}

/// A literal for a required parameter: the spec's example when it fits the type, else a
/// placeholder of the type.
fn example_value(op: &ir::Operation, p: &ir::Param, lib: &syn::Ident) -> TokenStream {
    let text = p.example.as_deref().unwrap_or_default().trim();
    let string = |fallback: &str| {
        let v = if text.is_empty() { fallback } else { text };
        let lit = proc_macro2::Literal::string(v);
        quote!(#lit)
    };
    let number = |s: &Scalar| {
        let min = p.checks.minimum.unwrap_or(1);
        match s {
            Scalar::I32 => {
                let v = text.parse::<i32>().unwrap_or_else(|_| i32::try_from(min).unwrap_or(1));
                let lit = proc_macro2::Literal::i32_unsuffixed(v);
                quote!(#lit)
            }
            _ => {
                let v = text.parse::<i64>().unwrap_or(min);
                let lit = proc_macro2::Literal::i64_unsuffixed(v);
                quote!(#lit)
            }
        }
    };
    match &p.ty {
        ParamType::Scalar(Scalar::String | Scalar::Enum(_)) => string("value"),
        ParamType::Scalar(Scalar::Bool) => {
            if text.eq_ignore_ascii_case("false") {
                quote!(false)
            } else {
                quote!(true)
            }
        }
        ParamType::Scalar(s) => number(s),
        ParamType::List(Scalar::String | Scalar::Enum(_)) => {
            let v = string("value");
            quote!([#v])
        }
        ParamType::List(Scalar::Bool) => quote!([true]),
        ParamType::List(s) => {
            let v = number(s);
            quote!([#v])
        }
        ParamType::StructList { name, .. } => {
            let module =
                if op.structs.iter().any(|s| &s.name == name) { quote!(operations) } else { quote!(types) };
            let n = ident(name);
            quote!([#lib::#module::#n::new()])
        }
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

fn param_rust_type(t: &ParamType) -> TokenStream {
    match t {
        ParamType::Scalar(s) => scalar_type(s),
        ParamType::List(s) => {
            let s = scalar_type(s);
            quote!(Vec<#s>)
        }
        ParamType::StructList { name, .. } => {
            let n = ident(name);
            quote!(Vec<#n>)
        }
    }
}

fn param_docs(p: &ir::Param) -> String {
    let mut s = md(&p.docs);
    if let ParamType::Scalar(Scalar::I64 { epoch_millis: true }) = p.ty {
        s.push_str(" In milliseconds since the Unix epoch.");
    }
    let c = &p.checks;
    let mut limits = Vec::new();
    match (c.minimum, c.maximum) {
        (Some(lo), Some(hi)) => limits.push(format!("from {lo} to {hi}")),
        (Some(lo), None) => limits.push(format!("at least {lo}")),
        (None, Some(hi)) => limits.push(format!("at most {hi}")),
        _ => {}
    }
    match (c.min_length, c.max_length) {
        (Some(lo), Some(hi)) => limits.push(format!("{lo} to {hi} characters")),
        (Some(lo), None) => limits.push(format!("at least {lo} characters")),
        (None, Some(hi)) => limits.push(format!("at most {hi} characters")),
        _ => {}
    }
    if let Some(n) = c.max_items {
        limits.push(format!("at most {n} elements"));
    }
    if !limits.is_empty() {
        s.push_str(&format!(" Allowed: {}; checked before sending.", limits.join(", ")));
    }
    s.push_str(&format!(
        "\n\n{} `{}`{}.",
        if p.state.is_some() { "Required; sent as" } else { "Optional; sent as" },
        p.wire,
        match (&p.ty, p.location) {
            (ParamType::List(_), Location::Query) =>
                format!(", as `{0}.1`, `{0}.2`, ... in the query", p.wire),
            (ParamType::StructList { .. }, Location::Query) =>
                format!(", as `{0}.1.<member>`, ... in the query", p.wire),
            (_, Location::Query) => " in the query".to_owned(),
            (_, Location::Form) => " in the form body".to_owned(),
        }
    ));
    if let Some(e) = &p.example {
        s.push_str(&format!(" Example: `{}`.", e.replace('`', "'")));
    }
    s
}

fn setter(op: &ir::Operation, p: &ir::Param, states: &[proc_macro2::Ident]) -> TokenStream {
    let f = ident(&p.ident);
    let setter = ident(&p.setter);
    let builder = ident(&op.builder);
    let into = |t: TokenStream| quote!(impl Into<#t>);
    // (argument name, its type, how it becomes the stored value, whether it is a list)
    let (arg, arg_ty, conv, list) = match &p.ty {
        ParamType::Scalar(Scalar::String) => {
            (quote!(value), into(quote!(String)), quote!(value.into()), false)
        }
        ParamType::Scalar(Scalar::Enum(_)) => {
            (quote!(value), into(param_rust_type(&p.ty)), quote!(value.into()), false)
        }
        ParamType::Scalar(s) => (quote!(value), scalar_type(s), quote!(value), false),
        ParamType::List(s @ (Scalar::String | Scalar::Enum(_))) => {
            let item = into(scalar_type(s));
            let conv = quote!(values.into_iter().map(Into::into).collect());
            (quote!(values), quote!(impl IntoIterator<Item = #item>), conv, true)
        }
        ParamType::List(s) => {
            let t = scalar_type(s);
            (quote!(values), quote!(impl IntoIterator<Item = #t>), quote!(values.into_iter().collect()), true)
        }
        ParamType::StructList { name, .. } => {
            let t = ident(name);
            (quote!(values), quote!(impl IntoIterator<Item = #t>), quote!(values.into_iter().collect()), true)
        }
    };
    let d = if list {
        docs(&format!("{} Replaces any elements given before.", param_docs(p)))
    } else {
        docs(&param_docs(p))
    };
    match &p.state {
        Some(state) => {
            let me = ident(state);
            let out_states = states.iter().map(|s| if *s == me { quote!(Set) } else { quote!(#s) });
            quote! {
                #d
                pub fn #setter(mut self, #arg: #arg_ty) -> #builder<#(#out_states),*> {
                    self.input.#f = Some(#conv);
                    #builder { client: self.client, input: self.input, state: PhantomData }
                }
            }
        }
        None => {
            // Scalars also get `maybe_<name>(Option<_>)`; an empty list already means "none".
            let maybe = p.maybe.as_deref().map(|maybe| {
                let maybe = ident(maybe);
                let maybe_docs = docs(&format!("Sets or clears {}.", method_link(&p.setter, "Self")));
                let maybe_ty = param_rust_type(&p.ty);
                quote! {
                    #maybe_docs
                    pub fn #maybe(mut self, value: Option<#maybe_ty>) -> Self {
                        self.input.#f = value;
                        self
                    }
                }
            });
            quote! {
                #d
                pub fn #setter(mut self, #arg: #arg_ty) -> Self {
                    self.input.#f = Some(#conv);
                    self
                }
                #maybe
            }
        }
    }
}

fn to_wire(s: &Scalar, v: TokenStream) -> TokenStream {
    match s {
        Scalar::String => v,
        Scalar::Enum(_) => quote!(#v.as_str().to_owned()),
        Scalar::Bool | Scalar::I32 | Scalar::I64 { .. } => quote!(#v.to_string()),
    }
}

fn encode_param(p: &ir::Param) -> TokenStream {
    let f = ident(&p.ident);
    let wire = &p.wire;
    let loc = match p.location {
        Location::Query => quote!(Location::Query),
        Location::Form => quote!(Location::Form),
    };
    let c = &p.checks;
    let opt_i64 = |v: Option<i64>| match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    };
    let opt_usize = |v: Option<u64>| match v {
        Some(v) => {
            let v = usize::try_from(v).unwrap_or(usize::MAX);
            quote!(Some(#v))
        }
        None => quote!(None),
    };
    match &p.ty {
        ParamType::Scalar(s) => {
            let mut checks = quote!();
            if c.minimum.is_some() || c.maximum.is_some() {
                let (lo, hi) = (opt_i64(c.minimum), opt_i64(c.maximum));
                let wide =
                    if matches!(s, Scalar::I64 { .. }) { quote!(value) } else { quote!(i64::from(value)) };
                checks = quote!(runtime::check_range(#wire, #wide, #lo, #hi)?;);
            }
            if c.min_length.is_some() || c.max_length.is_some() {
                let (lo, hi) = (opt_usize(c.min_length), opt_usize(c.max_length));
                checks = quote!(#checks runtime::check_length(#wire, &value, #lo, #hi)?;);
            }
            let v = to_wire(s, quote!(value));
            quote! {
                if let Some(value) = input.#f {
                    #checks
                    params.push(#loc, #wire, #v);
                }
            }
        }
        ParamType::List(s) => {
            let max = c.max_items.map(|n| {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                quote!(runtime::check_max_items(#wire, values.len(), #n)?;)
            });
            let v = to_wire(s, quote!(value));
            let pattern = format!("{wire}.{{}}");
            quote! {
                if let Some(values) = input.#f {
                    #max
                    for (i, value) in values.into_iter().enumerate() {
                        params.push(#loc, format!(#pattern, i + 1), #v);
                    }
                }
            }
        }
        ParamType::StructList { members, .. } => {
            let max = c.max_items.map(|n| {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                quote!(runtime::check_max_items(#wire, values.len(), #n)?;)
            });
            let pushes = members.iter().map(|m| {
                let member_wire = &m.wire;
                let pattern = format!("{wire}.{{}}.{member_wire}");
                let v = to_wire(&m.ty, quote!(value));
                let m = ident(&m.ident);
                quote! {
                    if let Some(value) = item.#m {
                        params.push(#loc, format!(#pattern, i + 1), #v);
                    }
                }
            });
            quote! {
                if let Some(values) = input.#f {
                    #max
                    for (i, item) in values.into_iter().enumerate() {
                        #(#pushes)*
                    }
                }
            }
        }
    }
}

fn field_type(f: &ir::StructField) -> TokenStream {
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
    let t = inner(&f.ty);
    if f.required || matches!(f.ty, FieldType::List(_)) { t } else { quote!(Option<#t>) }
}

fn field_docs(f: &ir::StructField) -> String {
    let mut s = md(&f.docs);
    if let FieldType::Scalar(Scalar::I64 { epoch_millis: true }) = f.ty {
        s.push_str(" In milliseconds since the Unix epoch.");
    }
    if matches!(f.ty, FieldType::List(_)) && !f.required {
        s.push_str(" Empty when the answer has none.");
    } else if !f.required {
        s.push_str(" `None` when the answer leaves it out.");
    }
    s.push_str(&format!("\n\nWire name `{}`.", f.wire));
    s
}

/// How the generated `FromJson` impl reads one response member (see `runtime::de::Object`).
fn member_read(f: &ir::StructField) -> TokenStream {
    let wire = &f.wire;
    let lenient = |s: &Scalar| matches!(s, Scalar::Bool | Scalar::I32 | Scalar::I64 { .. });
    match &f.ty {
        FieldType::List(_) => quote!(o.list(#wire)?),
        FieldType::Scalar(s) if f.wire_string && lenient(s) => {
            if f.required {
                quote!(o.req_lenient(#wire)?)
            } else {
                quote!(o.opt_lenient(#wire)?)
            }
        }
        _ if f.required => quote!(o.req(#wire)?),
        _ => quote!(o.opt(#wire)?),
    }
}

/// `FromJson` for a response structure: one function taking the members out by wire name (no
/// serde derive: its visitors per type were most of the crate's compile time), and
/// `serde::Deserialize` through it, for code that decodes these types with serde.
fn from_json_impls(n: &proc_macro2::Ident, fields: &[ir::StructField]) -> TokenStream {
    let body = if fields.is_empty() {
        quote! {
            runtime::de::Object::new(value)?;
            Ok(Self {})
        }
    } else {
        let members = fields.iter().map(|f| {
            let id = ident(&f.ident);
            let read = member_read(f);
            quote!(#id: #read)
        });
        quote! {
            let mut o = runtime::de::Object::new(value)?;
            Ok(Self { #(#members,)* })
        }
    };
    quote! {
        impl runtime::de::FromJson for #n {
            #[inline]
            fn from_json(value: runtime::de::Value) -> Result<Self, runtime::de::Mismatch> {
                #body
            }
        }

        impl<'de> serde::Deserialize<'de> for #n {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                runtime::de::deserialize(deserializer)
            }
        }
    }
}

/// `doc` is generator text; spec prose in it has been escaped.
fn output_struct(name: &str, doc: &str, fields: &[ir::StructField]) -> TokenStream {
    let n = ident(name);
    let d = docs(&format!(
        "{doc}\n\nWith the `test-util` feature, `Default` makes one for tests: set the public \
         fields on it."
    ));
    let members = fields.iter().map(|f| {
        let fd = docs(&field_docs(f));
        let id = ident(&f.ident);
        let ty = field_type(f);
        quote! {
            #fd
            pub #id: #ty,
        }
    });
    let (derives, debug) = if fields.iter().any(|f| f.sensitive) {
        let redacted: Vec<(String, bool)> = fields.iter().map(|f| (f.ident.clone(), f.sensitive)).collect();
        (quote!(Clone, PartialEq), redacted_debug(name, &redacted))
    } else {
        (quote!(Debug, Clone, PartialEq), quote!())
    };
    let decode = from_json_impls(&n, fields);
    quote! {
        #d
        #[derive(#derives)]
        #[cfg_attr(feature = "test-util", derive(Default))]
        #[non_exhaustive]
        pub struct #n {
            #(#members)*
        }
        #debug
        #decode
    }
}

/// A `Debug` impl that prints `***` for the sensitive fields (those flagged `true`).
fn redacted_debug(name: &str, fields: &[(String, bool)]) -> TokenStream {
    let n = ident(name);
    let entries = fields.iter().map(|(f, sensitive)| {
        let label = f.trim_start_matches("r#");
        let id = ident(f);
        if *sensitive {
            quote!(.field(#label, &runtime::Redacted(&self.#id)))
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

/// A response structure, or a request element with its constructor and setters.
pub(crate) fn struct_def(s: &ir::Struct) -> TokenStream {
    if !s.request {
        return output_struct(&s.name, &md(&s.docs), &s.fields);
    }
    let n = ident(&s.name);
    let d = docs(&md(&s.docs));
    let members = s.fields.iter().map(|f| {
        let fd = docs(&format!("{}\n\nSent as `<parameter>.<n>.{}`.", md(&f.docs), f.wire));
        let id = ident(&f.ident);
        let ty = match &f.ty {
            FieldType::Scalar(sc) => scalar_type(sc),
            _ => quote!(String),
        };
        quote! { #fd pub #id: Option<#ty>, }
    });
    let setters = s.fields.iter().map(|f| {
        let id = ident(&f.ident);
        let setter = ident(&f.setter);
        let fd = if f.setter == f.ident {
            docs(&format!("Sets {}.", method_link(&f.ident, "Self")))
        } else {
            docs(&format!("Sets the field `{}`.", f.ident.trim_start_matches("r#")))
        };
        let (arg, conv) = match &f.ty {
            FieldType::Scalar(Scalar::String) => (quote!(impl Into<String>), quote!(value.into())),
            FieldType::Scalar(sc) => (scalar_type(sc), quote!(value)),
            _ => (quote!(impl Into<String>), quote!(value.into())),
        };
        quote! {
            #fd
            pub fn #setter(mut self, value: #arg) -> Self {
                self.#id = Some(#conv);
                self
            }
        }
    });
    quote! {
        #d
        #[derive(Debug, Clone, Default, PartialEq)]
        #[non_exhaustive]
        pub struct #n {
            #(#members)*
        }
        impl #n {
            /// An element with no member set yet.
            pub fn new() -> Self {
                Self::default()
            }
            #(#setters)*
        }
    }
}

fn error_enum(op: &ir::Operation) -> TokenStream {
    let name = ident(&op.error);
    let action = &op.action;
    let d = docs(&format!(
        "The errors the service documents for `{action}`, one variant per code.\n\nEvery variant \
         carries the [`ServiceError`] with the HTTP status, code, message and request ID; \
         [`Unhandled`]({}::Unhandled) holds codes the spec does not list.",
        op.error
    ));
    let variants = op.errors.iter().map(|e| {
        let v = ident(&e.ident);
        let statuses = e.statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let code_text = if e.templated { format!("{}<parameter>", e.code) } else { e.code.clone() };
        let mut text = format!("`{code_text}` (HTTP {statuses}): {}", md(&e.docs));
        if let Some(m) = &e.message {
            text.push_str(&format!("\n\nThe service's message: \"{}\"", md(m)));
        }
        if e.retryable {
            text.push_str("\n\nRetried automatically for read-only calls.");
        }
        let vd = docs(&text);
        if e.templated {
            quote! {
                #vd
                #v {
                    /// The parameter the code names, e.g. `ClientId` in `InvalidParameter.ClientId`.
                    parameter: String,
                    /// The service's answer.
                    error: ServiceError,
                },
            }
        } else {
            quote! { #vd #v(ServiceError), }
        }
    });
    let plain: Vec<_> = op.errors.iter().filter(|e| !e.templated).map(|e| ident(&e.ident)).collect();
    let templated: Vec<_> = op.errors.iter().filter(|e| e.templated).map(|e| ident(&e.ident)).collect();
    let plain_codes: Vec<_> = op.errors.iter().filter(|e| !e.templated).map(|e| e.code.clone()).collect();
    let templated_prefixes: Vec<_> =
        op.errors.iter().filter(|e| e.templated).map(|e| e.code.clone()).collect();
    let plain_arms = plain.iter().zip(&plain_codes).map(|(v, c)| quote!(#c => Self::#v(error),));
    let by_code = if plain.is_empty() {
        quote!(Self::Unhandled(error))
    } else {
        quote! {
            match error.code() {
                #(#plain_arms)*
                _ => Self::Unhandled(error),
            }
        }
    };
    let templated_arms = templated.iter().zip(&templated_prefixes).map(|(v, prefix)| {
        quote! {
            if let Some(parameter) = error.code().strip_prefix(#prefix).map(str::to_owned) {
                return Self::#v { parameter, error };
            }
        }
    });
    let accessor_plain = if plain.is_empty() {
        quote!(Self::Unhandled(error) => error,)
    } else {
        quote!(#(Self::#plain(error))|* | Self::Unhandled(error) => error,)
    };
    let accessor_templated = templated.iter().map(|v| quote!(Self::#v { error, .. } => error,));
    quote! {
        #d
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum #name {
            #(#variants)*
            /// A code the spec does not list for this operation.
            Unhandled(ServiceError),
        }

        impl #name {
            /// The service's answer: HTTP status, code, message, request ID and more.
            #[inline]
            pub fn service_error(&self) -> &ServiceError {
                match self {
                    #accessor_plain
                    #(#accessor_templated)*
                }
            }
        }

        impl From<ServiceError> for #name {
            #[inline]
            fn from(error: ServiceError) -> Self {
                #(#templated_arms)*
                #by_code
            }
        }

        impl std::fmt::Display for #name {
            #[inline]
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(self.service_error(), f)
            }
        }

        impl std::error::Error for #name {}
    }
}

/// `into_pages` / `into_items` on the builder, and the functions that drive them.
fn paging(op: &ir::Operation, p: &ir::Paging, where_set: &TokenStream) -> (TokenStream, TokenStream) {
    let output = ident(&op.output);
    let error = ident(&op.error);
    let input = ident(&op.input);
    let cursor_field = ident(&p.input);
    let item = match &p.item_type {
        FieldType::Scalar(s) => scalar_type(s),
        FieldType::Struct(n) => {
            let n = ident(n);
            quote!(#n)
        }
        FieldType::List(_) => quote!(Vec<String>),
    };
    let page_param = op.params.iter().find(|q| q.ident == p.input);
    let by_token = p.style == ir::PagingStyle::NextToken;
    let (how, set) = if by_token {
        (
            "following the `NextToken` of each answer until the service returns none (or one it already gave)",
            quote! {
                |input, cursor| {
                    if let Cursor::Token(token) = cursor {
                        input.#cursor_field = Some(token);
                    }
                }
            },
        )
    } else {
        let convert = match page_param.map(|q| &q.ty) {
            Some(ParamType::Scalar(Scalar::I64 { .. })) => quote!(page),
            _ => quote!(i32::try_from(page).unwrap_or(i32::MAX)),
        };
        (
            "asking for one page number after another, from the one set on the builder (or 1), until the reported total is reached or a page is empty",
            quote! {
                |input, cursor| {
                    if let Cursor::Page(page) = cursor {
                        input.#cursor_field = Some(#convert);
                    }
                }
            },
        )
    };
    let next_token_fn = if by_token {
        let body = path_access(&p.output, true, Missing::None, |last, optional| {
            if optional { quote!(#last.clone()) } else { quote!(Some(#last.clone())) }
        });
        quote!(|output| { #body })
    } else {
        quote!(|_| None)
    };
    let total_fn = if p.total.is_empty() {
        quote!(|_| None)
    } else {
        let wide = p.total_is_i64;
        let body = path_access(&p.total, true, Missing::None, |last, optional| match (optional, wide) {
            (true, true) => quote!(#last),
            (true, false) => quote!(#last.map(i64::from)),
            (false, true) => quote!(Some(#last)),
            (false, false) => quote!(Some(i64::from(#last))),
        });
        quote!(|output| { #body })
    };
    let len_body = path_access(&p.items, true, Missing::Zero, |last, _| quote!(#last.len()));
    let items_body = path_access(&p.items, false, Missing::Empty, |last, _| quote!(#last));
    let start = if by_token {
        quote!(Pages::by_token(client, input, spec))
    } else {
        let first = match page_param.map(|q| &q.ty) {
            Some(ParamType::Scalar(Scalar::I32)) => quote!(input.#cursor_field.map(i64::from).unwrap_or(1)),
            Some(ParamType::Scalar(Scalar::I64 { .. })) => quote!(input.#cursor_field.unwrap_or(1)),
            _ => quote!(1),
        };
        quote! {
            let first = #first;
            Pages::by_number(client, input, first, spec)
        }
    };
    let pages_docs = docs(&format!(
        "Sends the call once per page, {how}, and streams the answers.\n\nThe stream ends after \
         the last page or with the first error. Use it with `futures::StreamExt`."
    ));
    let items_docs =
        docs("Like [`into_pages`](Self::into_pages), but streams the items of every page one by one.");
    let methods = quote! {
        #pages_docs
        pub fn into_pages(self) -> Pages<#output, #error> #where_set {
            pages(self.client, self.input)
        }
        #items_docs
        pub fn into_items(self) -> Items<#item, #error> #where_set {
            pages(self.client, self.input).items(page_items)
        }
    };
    let fns = quote! {
        #[inline]
        fn pages(client: Client, input: #input) -> Pages<#output, #error> {
            let spec = PageSpec {
                send: |client, input| Box::pin(send(client, input)),
                set: #set,
                next_token: #next_token_fn,
                total: #total_fn,
                len: |output| { #len_body },
            };
            #start
        }

        #[inline]
        fn page_items(output: #output) -> Vec<#item> {
            #items_body
        }
    };
    (methods, fns)
}

/// What a path accessor returns when an optional step on the way is absent.
#[derive(Clone, Copy)]
enum Missing {
    /// `None` (the accessor returns an `Option`, so `?` serves).
    None,
    /// `0` (a length).
    Zero,
    /// `Vec::new()` (the items).
    Empty,
}

/// Statements that walk `output` along `steps` (by reference or by value), returning `missing`
/// where an optional step is absent, and finishing with `last(<expr of the last field>, optional)`.
fn path_access(
    steps: &[ir::PathStep],
    by_ref: bool,
    missing: Missing,
    last: impl Fn(TokenStream, bool) -> TokenStream,
) -> TokenStream {
    let mut stmts = Vec::new();
    let mut current = quote!(output);
    let option = matches!(missing, Missing::None);
    let default = match missing {
        Missing::None => quote!(None),
        Missing::Zero => quote!(0),
        Missing::Empty => quote!(Vec::new()),
    };
    let Some((final_step, inner)) = steps.split_last() else { return default };
    for step in inner {
        // The binding is named after the field it holds.
        let f = ident(&step.ident);
        let var = &f;
        let stmt = match (step.optional, by_ref, option) {
            (true, true, true) => quote!(let #var = #current.#f.as_ref()?;),
            (true, false, true) => quote!(let #var = #current.#f?;),
            (true, true, false) => quote!(let Some(#var) = #current.#f.as_ref() else { return #default; };),
            (true, false, false) => quote!(let Some(#var) = #current.#f else { return #default; };),
            (false, true, _) => quote!(let #var = &#current.#f;),
            (false, false, _) => quote!(let #var = #current.#f;),
        };
        stmts.push(stmt);
        current = quote!(#var);
    }
    let f = ident(&final_step.ident);
    let tail = last(quote!(#current.#f), final_step.optional);
    quote! { #(#stmts)* #tail }
}
