//! Every Rust name the generated code declares, decided in one place, below validation and
//! lowering.
//!
//! Each scope of the generated code has a set of names that are already taken: Rust's keywords
//! (2024 edition, with the reserved ones such as `gen`), the prelude and std names the generated
//! code writes unqualified, the runtime's public names, and the generator's own families
//! (`send`, `into_pages`, `maybe_*`, `new`, `<Action>Builder`, `<Action>Output`, the server
//! side's `<Action>Request`, ...). A name taken from the wire (an action, a parameter, a field,
//! an error code, an enumeration value) that lands on a taken name is renamed by one rule: **a
//! trailing `_`** (see spec/README.md, "Rust names"). A name the maintainer chose (`type_name`, an enumeration's `name`) is never
//! renamed: a clash is a [`NameProblem`] that validation reports at the key.
//!
//! [`plan`] decides every name of a spec. `validate` turns its problems into diagnostics and
//! `lower` reads its names, so validation refuses exactly what lowering could not name.

use crate::load::Loaded;
use crate::names;
use crate::spec::{self, TypeName};
use std::collections::{BTreeMap, BTreeSet};

/// Longest wire name (action, parameter, field, enumeration value, error code, type name), in
/// characters. File and module names derive from actions, and must stay well inside the 255
/// bytes file systems allow.
pub const MAX_NAME_CHARS: usize = 100;

/// Type names the generated files use unqualified, or that the crate root exports: the prelude
/// (2015 to 2024 editions), the std items the emitters import, the runtime's public types and
/// the items an operation file imports from it. No spec type may take one.
pub const RESERVED_TYPES: &[&str] = &[
    // prelude, std
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Debug",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Future",
    "Hash",
    "IntoFuture",
    "IntoIterator",
    "Into",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "PhantomData",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
    "Display",
    "Formatter",
    "Output",
    // runtime: public API and what generated code imports from it
    "Client",
    "ClientCore",
    "Config",
    "ConfigBuilder",
    "ConfigError",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "Cursor",
    "DecodeError",
    "DefaultCredentialsChain",
    "DefaultCredentialsChainBuilder",
    "Error",
    "InvalidInput",
    "IsSet",
    "Items",
    "Location",
    "Network",
    "Operation",
    "PageSpec",
    "Pages",
    "Params",
    "RateLimit",
    "Redacted",
    "Response",
    "RetryConfig",
    "ServiceError",
    "ServiceInfo",
    "Set",
    "SignatureVersion",
    "StaticProvider",
    "TimeoutError",
    "TimeoutPhase",
    "TransportError",
    "Unset",
];

/// Methods of `Client` that are not operations, and trait methods a `Client` method must not
/// shadow (`self.clone()` in generated code would call the operation).
const CLIENT_METHODS: &[&str] = &[
    "new",
    "from_env",
    "from_config",
    "builder",
    "config",
    "endpoint",
    "signature_version",
    "execute",
    "core",
    "inner",
    "into_inner",
    "service_info",
    "credentials",
    "with_config",
    "with_credentials",
    "clone",
    "clone_from",
    "fmt",
    "eq",
    "ne",
    "default",
    "hash",
    "into",
    "from",
    "try_into",
    "try_from",
    "to_owned",
    "borrow",
    "borrow_mut",
    "as_ref",
    "as_mut",
    "type_id",
    "drop",
    "deref",
    "to_string",
    "cmp",
    "partial_cmp",
];

/// Methods a request builder has besides the parameter setters, and trait methods it must not
/// shadow.
const BUILDER_METHODS: &[&str] = &[
    "send",
    "into_pages",
    "into_items",
    "into_future",
    "fmt",
    "into",
    "from",
    "try_into",
    "try_from",
    "type_id",
    "borrow",
    "borrow_mut",
    "clone",
    "to_owned",
    "eq",
    "ne",
    "default",
    "drop",
];

/// Methods of a request structure (an element of a list parameter) besides the member setters.
const REQUEST_STRUCT_METHODS: &[&str] = &[
    "new",
    "default",
    "clone",
    "clone_from",
    "fmt",
    "eq",
    "ne",
    "into",
    "from",
    "try_into",
    "try_from",
    "type_id",
    "borrow",
    "borrow_mut",
    "to_owned",
    "drop",
];

/// File stems `operations/` already has.
const RESERVED_MODULES: &[&str] = &["mod"];

/// A name that cannot be given: validation reports it at `path` of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameProblem {
    /// `None` for service.yaml, else the index of the operation in [`Loaded::operations`].
    pub operation: Option<usize>,
    /// The spec path of the offending key or value.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: String,
}

/// Every name of a spec.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Per shared enumeration of service.yaml, in order.
    pub enums: Vec<EnumNames>,
    /// Per operation file, in [`Loaded::operations`] order.
    pub operations: Vec<OpNames>,
    /// Names that cannot be given.
    pub problems: Vec<NameProblem>,
}

/// The names of one enumeration.
#[derive(Debug, Clone, Default)]
pub struct EnumNames {
    /// Variant per value, in order.
    pub variants: Vec<String>,
}

/// The names of one operation.
#[derive(Debug, Clone, Default)]
pub struct OpNames {
    /// Module (may be raw, `r#type`).
    pub module: String,
    /// The module's file name without `.rs`: the module name without `r#`.
    pub file_stem: String,
    /// `Client` method.
    pub method: String,
    /// Builder type.
    pub builder: String,
    /// Output type.
    pub output: String,
    /// Error enum.
    pub error: String,
    /// Private input struct.
    pub input: String,
    /// The server side's request struct (`onsmqtt-local`).
    pub request: String,
    /// Per parameter, in order.
    pub params: Vec<ParamNames>,
    /// Structure names, by the spec path of the node that declares the structure
    /// (`parameters[0].items`, `response[1]`, `response[1].items`, ...).
    pub structs: BTreeMap<String, String>,
    /// Error variant per row of the error table.
    pub error_variants: Vec<String>,
}

/// The names of one parameter.
#[derive(Debug, Clone, Default)]
pub struct ParamNames {
    /// Field of the input struct.
    pub field: String,
    /// Setter on the builder.
    pub setter: String,
    /// `maybe_*` setter (optional scalars).
    pub maybe: Option<String>,
    /// Typestate parameter (required parameters).
    pub state: Option<String>,
}

/// The snake_case field name of a wire name (`r#type`, `self_`).
pub fn field(wire: &str) -> String {
    names::snake(wire)
}

/// The setter of a member of a request structure: its field name, unless the structure already
/// has a method of that name.
pub fn member_setter(wire: &str) -> String {
    avoid(field(wire), REQUEST_STRUCT_METHODS)
}

/// The variant of an enumeration value; `Unknown` is the enum's own.
pub fn enum_variant(value: &str) -> String {
    avoid(names::camel(value), &["Unknown"])
}

/// The variant of an error code (without `%s` and the dot before it); `Unhandled` is the enum's
/// own.
pub fn error_variant(code: &str) -> String {
    avoid(names::camel(code.trim_end_matches('.')), &["Unhandled"])
}

/// `name`, with a trailing `_` while it is in `taken`.
fn avoid(mut name: String, taken: &[&str]) -> String {
    while taken.contains(&names::unraw(&name)) {
        name = format!("{}_", names::unraw(&name));
    }
    name
}

/// The name a structure gets when the spec gives none: `<Action><Field>`, with `Item` for the
/// elements of a list.
pub fn default_struct_name(op: &str, field: &str, list_item: bool) -> String {
    format!("{op}{}{}", names::camel_bare(field), if list_item { "Item" } else { "" })
}

/// A structure an operation's spec declares.
pub struct NamedStruct<'a> {
    /// The spec path of the node (`response[0]`, `response[0].items`, `parameters[1].items`).
    pub node: String,
    /// The `type_name` the spec gives, if any.
    pub explicit: Option<&'a str>,
    /// The name derived from the field when none is given.
    pub derived: String,
    /// Its members.
    pub fields: &'a [spec::Field],
    /// Whether callers build it (the element of a list parameter).
    pub request: bool,
    /// The spec path of the key that names it, for diagnostics.
    pub path: String,
}

/// Every structure `op` declares, request elements first, then the response's, outermost first.
pub fn named_structs(op: &spec::Operation) -> Vec<NamedStruct<'_>> {
    let mut out = Vec::new();
    for (i, p) in op.parameters.iter().enumerate() {
        if let Some(items) = &p.items
            && let Some(fields) = &items.fields
        {
            out.push(NamedStruct {
                node: format!("parameters[{i}].items"),
                explicit: items.type_name.as_deref(),
                derived: default_struct_name(&op.name, &p.name, true),
                fields,
                request: true,
                path: format!("parameters[{i}].items.type_name"),
            });
        }
    }
    response_structs(&op.name, "response", &op.response, &mut out);
    out
}

fn response_structs<'a>(op: &str, path: &str, fields: &'a [spec::Field], out: &mut Vec<NamedStruct<'a>>) {
    for (i, f) in fields.iter().enumerate() {
        let fpath = format!("{path}[{i}]");
        let (node, type_name, sub, list, at, sub_path) = match (&f.fields, &f.items) {
            (Some(sub), _) => {
                (fpath.clone(), &f.type_name, sub, false, "type_name", format!("{fpath}.fields"))
            }
            (None, Some(items)) => match &items.fields {
                Some(sub) => (
                    format!("{fpath}.items"),
                    &items.type_name,
                    sub,
                    true,
                    "items.type_name",
                    format!("{fpath}.items.fields"),
                ),
                None => continue,
            },
            _ => continue,
        };
        out.push(NamedStruct {
            node,
            explicit: type_name.as_deref(),
            derived: default_struct_name(op, &f.name, list),
            fields: sub,
            request: false,
            path: format!("{fpath}.{}", if type_name.is_some() { at } else { "name" }),
        });
        response_structs(op, &sub_path, sub, out);
    }
}

/// The response field at a dot-separated path.
pub fn resolve<'a>(fields: &'a [spec::Field], path: &str) -> Option<&'a spec::Field> {
    resolve_path(fields, path).map(|(_, f)| f)
}

/// The response field at a dot-separated path, with its spec path (`response[2].fields[0]`).
pub fn resolve_path<'a>(fields: &'a [spec::Field], path: &str) -> Option<(String, &'a spec::Field)> {
    let mut fields = fields;
    let mut found = None;
    let mut spec_path = "response".to_owned();
    for (step, part) in path.split('.').enumerate() {
        if step > 0 {
            spec_path.push_str(".fields");
        }
        let (i, f) = fields.iter().enumerate().find(|(_, f)| f.name == part)?;
        spec_path.push_str(&format!("[{i}]"));
        fields = f.fields.as_deref().unwrap_or(&[]);
        found = Some(f);
    }
    found.map(|f| (spec_path, f))
}

/// Decides every name of `spec`. Names that cannot be given are listed in
/// [`Names::problems`]; the rest is still filled in, so that validation can go on.
pub fn plan(spec: &Loaded) -> Names {
    let mut out = Names::default();
    let service = &spec.service.1;
    let reserved: BTreeSet<&str> = RESERVED_TYPES.iter().copied().collect();

    // The families of every operation: the operation's name is the API's, so a family name that
    // lands on a reserved one is renamed.
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (_, op)) in spec.operations.iter().enumerate() {
        let module = avoid(names::snake(&op.name), RESERVED_MODULES);
        let family = |suffix: &str| avoid(format!("{}{suffix}", op.name), RESERVED_TYPES);
        let names = OpNames {
            file_stem: names::unraw(&module).to_owned(),
            module,
            method: avoid(names::snake(&op.name), CLIENT_METHODS),
            builder: family("Builder"),
            output: family("Output"),
            error: family("Error"),
            input: family("Input"),
            request: family("Request"),
            ..OpNames::default()
        };
        for n in [&names.builder, &names.output, &names.error, &names.input, &names.request] {
            families.insert(n.clone(), i);
        }
        out.operations.push(names);
    }

    // Enumerations: named by the maintainer, so a clash is an error.
    let mut enum_names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, e) in service.enums.iter().enumerate() {
        out.enums.push(EnumNames { variants: e.values.iter().map(|v| enum_variant(&v.value)).collect() });
        // Names that are not type names at all are validation's to report.
        let valid = names::is_type_name(&e.name) && e.name.chars().count() <= MAX_NAME_CHARS;
        let taken = if !valid {
            None
        } else if reserved.contains(e.name.as_str()) {
            Some(format!("the generated code already uses `{}`", e.name))
        } else {
            families.get(&e.name).map(|&o| {
                format!("`{}` is a type generated for operation `{}`", e.name, spec.operations[o].1.name)
            })
        };
        if let Some(why) = taken {
            out.problems.push(NameProblem {
                operation: None,
                path: format!("enums[{i}].name"),
                message: format!("the enumeration cannot be named `{}`: {why}", e.name),
                help: "choose another name; spec/README.md (\"Rust names\") lists the names taken".to_owned(),
            });
        }
        enum_names.entry(&e.name).or_insert(i);
    }

    // Structures: explicit names are checked, derived ones renamed.
    for (i, (_, op)) in spec.operations.iter().enumerate() {
        for st in named_structs(op) {
            let name = match st.explicit {
                Some(n) => {
                    let why = if !names::is_type_name(n) || n.chars().count() > MAX_NAME_CHARS {
                        None
                    } else if reserved.contains(n) {
                        Some("the generated code already uses it".to_owned())
                    } else if let Some(&o) = families.get(n) {
                        Some(format!("it is a type generated for operation `{}`", spec.operations[o].1.name))
                    } else {
                        enum_names.contains_key(n).then(|| "it is an enumeration of service.yaml".to_owned())
                    };
                    if let Some(why) = why {
                        out.problems.push(NameProblem {
                            operation: Some(i),
                            path: st.path.clone(),
                            message: format!("a structure cannot be named `{n}`: {why}"),
                            help: "choose another `type_name`; spec/README.md (\"Rust names\") lists the names taken"
                                .to_owned(),
                        });
                    }
                    n.to_owned()
                }
                None => {
                    let mut n = st.derived.clone();
                    while reserved.contains(n.as_str())
                        || families.contains_key(&n)
                        || enum_names.contains_key(n.as_str())
                    {
                        n.push('_');
                    }
                    n
                }
            };
            out.operations[i].structs.insert(st.node, name);
        }
    }

    // Every type name a file may mention, for the typestate parameters.
    let mut all_types: BTreeSet<String> = reserved.iter().map(|s| (*s).to_owned()).collect();
    all_types.extend(families.keys().cloned());
    all_types.extend(service.enums.iter().map(|e| e.name.clone()));
    for o in &out.operations {
        all_types.extend(o.structs.values().cloned());
    }

    for (i, (_, op)) in spec.operations.iter().enumerate() {
        let names = &mut out.operations[i];
        let mut builder_methods: Vec<String> = Vec::new();
        let mut params = Vec::new();
        for p in &op.parameters {
            let field = field(&p.name);
            let setter = avoid(field.clone(), BUILDER_METHODS);
            builder_methods.push(setter.clone());
            params.push(ParamNames { field, setter, maybe: None, state: None });
        }
        // `maybe_*` after all plain setters, which keep their names.
        let mut states: Vec<String> = Vec::new();
        for (p, n) in op.parameters.iter().zip(&mut params) {
            let scalar = p.ty != TypeName::Array;
            if !p.required && scalar {
                let mut maybe = format!("maybe_{}", names::unraw(&n.setter));
                while builder_methods.contains(&maybe) || BUILDER_METHODS.contains(&maybe.as_str()) {
                    maybe.push('_');
                }
                builder_methods.push(maybe.clone());
                n.maybe = Some(maybe);
            }
            if p.required {
                // Named after the parameter, unless that would shadow a type the file names.
                let mut state = names::camel_bare(&p.name);
                while all_types.contains(&state) || states.contains(&state) {
                    state.push_str("Param");
                }
                states.push(state.clone());
                n.state = Some(state);
            }
        }
        names.params = params;
        names.error_variants =
            op.errors.iter().map(|e| error_variant(e.code.trim_end_matches("%s"))).collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_renamed_off_taken_ones() {
        assert_eq!(member_setter("New"), "new_");
        assert_eq!(member_setter("Default"), "default_");
        assert_eq!(member_setter("Key"), "key");
        assert_eq!(member_setter("Type"), "r#type");
        assert_eq!(enum_variant("Unknown"), "Unknown_");
        assert_eq!(enum_variant("Self"), "Self_");
        assert_eq!(error_variant("Unhandled"), "Unhandled_");
        assert_eq!(error_variant("InvalidParameter."), "InvalidParameter");
        assert_eq!(avoid("r#mod".to_owned(), RESERVED_MODULES), "mod_");
        assert_eq!(avoid("send".to_owned(), BUILDER_METHODS), "send_");
        // Built on the bare camel case, so no `_` lands inside the name.
        assert_eq!(default_struct_name("Get", "Self", true), "GetSelfItem");
    }

    #[test]
    fn resolves_paths_with_their_spec_paths() {
        let field = |name: &str, fields: Option<Vec<spec::Field>>| spec::Field {
            name: name.to_owned(),
            ty: if fields.is_some() { TypeName::Object } else { TypeName::String },
            required: false,
            sensitive: false,
            description: "x".to_owned(),
            example: None,
            enum_ref: None,
            format: None,
            wire: None,
            items: None,
            fields,
            type_name: None,
        };
        let response =
            vec![field("RequestId", None), field("Data", Some(vec![field("A", None), field("Next", None)]))];
        let (path, f) = resolve_path(&response, "Data.Next").unwrap();
        assert_eq!((path.as_str(), f.name.as_str()), ("response[1].fields[1]", "Next"));
        assert!(resolve(&response, "Data.Missing").is_none());
    }
}
