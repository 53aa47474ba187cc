//! Semantic checks of a parsed spec. Every problem is collected, so a maintainer sees all of a
//! file's mistakes in one run.

use crate::diag::{SpecError, SpecErrors};
use crate::load::Loaded;
use crate::names;
use crate::naming::{self, MAX_NAME_CHARS};
use crate::source::{PositionIndex, SourceFile};
use crate::spec::{self, TypeName};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Checks `spec`, returning every problem found.
pub fn validate(spec: &Loaded) -> Result<(), SpecErrors> {
    let mut errors = SpecErrors::default();
    let (service_file, service) = &spec.service;
    let enums = check_service(service_file, service, &mut errors);

    let names = naming::plan(spec);
    let mut by_module: HashMap<String, &str> = HashMap::new();
    // type name -> (operation, shape, file, path) of its first definition
    let mut structs: BTreeMap<String, (String, String, &SourceFile, String)> = BTreeMap::new();
    for (i, (file, op)) in spec.operations.iter().enumerate() {
        let mut cx = Cx::new(file, Some(&op.name), &mut errors);
        check_operation(&mut cx, op, &enums);
        let op_names = &names.operations[i];
        let module = &op_names.file_stem;
        if let Some(other) = by_module.insert(module.to_lowercase(), &file.name) {
            cx.err_key("name", format!("the module name `{module}` is also that of {other}"))
                .help("operation names must differ after conversion to snake_case (and in more than letter case: some file systems ignore it)");
        }
        for problem in names.problems.iter().filter(|p| p.operation == Some(i)) {
            cx.err_key(&problem.path, problem.message.clone()).help(&problem.help);
        }
        let local = naming::named_structs(op).into_iter().map(|st| {
            let kind = if st.request { "request:" } else { "" };
            let name = op_names.structs.get(&st.node).cloned().unwrap_or(st.derived);
            (name, format!("{kind}{}", shape(st.fields)), st.path)
        });
        for (name, shape, path) in local {
            match structs.get(&name) {
                Some((other_op, other_shape, ..)) if *other_op == op.name && *other_shape != shape => {
                    cx.err(&path, format!("type name `{name}` is used for two different structures"))
                        .help("give one of them another `type_name`");
                }
                Some((other_op, other_shape, other_file, _)) if *other_shape != shape => {
                    cx.err(&path, format!(
                        "type name `{name}` is already a different structure in operation `{other_op}` ({})",
                        other_file.name
                    ))
                    .help("the same `type_name` in two operations shares one type, so the fields must be identical; otherwise choose another name");
                }
                Some(_) => {}
                None => {
                    structs.insert(name, (op.name.clone(), shape, file, path));
                }
            }
        }
    }
    {
        let mut cx = Cx::new(service_file, None, &mut errors);
        for problem in names.problems.iter().filter(|p| p.operation.is_none()) {
            cx.err(&problem.path, problem.message.clone()).help(&problem.help);
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// A validation context: one file, the operation it describes, and a lazily built index of
/// positions.
struct Cx<'a> {
    file: &'a SourceFile,
    op: Option<&'a str>,
    index: Option<PositionIndex>,
    errors: &'a mut SpecErrors,
}

impl<'a> Cx<'a> {
    fn new(file: &'a SourceFile, op: Option<&'a str>, errors: &'a mut SpecErrors) -> Self {
        Cx { file, op, index: None, errors }
    }

    fn push(&mut self, path: &str, key: bool, message: String) -> &mut SpecError {
        let index = self.index.get_or_insert_with(|| PositionIndex::build(self.file));
        let span =
            if key { index.key(path) } else { index.value(path) }.unwrap_or_else(|| self.file.span_at(0, 1));
        self.errors.push(SpecError::new(self.file, span, self.op, Some(path), message));
        self.errors.errors.last_mut().expect("just pushed")
    }

    /// A problem with the value at `path`.
    fn err(&mut self, path: &str, message: impl Into<String>) -> &mut SpecError {
        self.push(path, false, message.into())
    }

    /// A problem with the key at `path` (a name, a duplicate).
    fn err_key(&mut self, path: &str, message: impl Into<String>) -> &mut SpecError {
        self.push(path, true, message.into())
    }

    /// The line of the value at `path`, for pointing at an earlier definition.
    fn line_of(&mut self, path: &str) -> usize {
        let index = self.index.get_or_insert_with(|| PositionIndex::build(self.file));
        index.value(path).map_or(1, |s| s.line)
    }
}

trait Help {
    fn help(&mut self, help: &str);
}

impl Help for SpecError {
    fn help(&mut self, help: &str) {
        self.help = Some(help.to_owned());
    }
}

fn check_service(file: &SourceFile, s: &spec::Service, errors: &mut SpecErrors) -> HashSet<String> {
    let mut cx = Cx::new(file, None, errors);
    if !s.code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) || s.code.is_empty() {
        cx.err("code", format!("`{}` is not a product code", s.code))
            .help("lower-case letters and digits, e.g. `onsmqtt`");
    }
    let v = s.api_version.as_bytes();
    let date_like = v.len() == 10
        && v.iter().enumerate().all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !date_like {
        cx.err("api_version", format!("`{}` is not an API version", s.api_version))
            .help("a date, `YYYY-MM-DD`");
    }
    if s.crate_name.is_empty()
        || !s.crate_name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        cx.err("crate_name", format!("`{}` is not a crate name", s.crate_name))
            .help("lower-case letters, digits, `-` and `_`");
    }
    for (key, tpl) in [("endpoints.public", &s.endpoints.public), ("endpoints.vpc", &s.endpoints.vpc)] {
        let host = tpl.replace("{region}", "x");
        if !tpl.contains("{region}")
            || host.is_empty()
            || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            cx.err(key, format!("`{tpl}` is not an endpoint template"))
                .help("a host name containing `{region}`, e.g. `onsmqtt.{region}.aliyuncs.com`");
        }
    }
    let mut seen = HashMap::new();
    for (i, r) in s.regions.iter().enumerate() {
        if r.is_empty() || !r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            cx.err(&format!("regions[{i}]"), format!("`{r}` is not a region ID"))
                .help("lower-case letters, digits and `-`, e.g. `cn-hangzhou`");
        } else if let Some(first) = first_seen(&mut seen, r, i) {
            let line = cx.line_of(&format!("regions[{first}]"));
            cx.err(&format!("regions[{i}]"), format!("region `{r}` is listed twice"))
                .help(&format!("it is first listed on line {line}; list each region once"));
        }
    }
    let mut enums = HashSet::new();
    let mut enum_index = HashMap::new();
    for (i, e) in s.enums.iter().enumerate() {
        let path = format!("enums[{i}]");
        check_description(&mut cx, &format!("{path}.description"), &e.description, "enumeration");
        if too_long(&mut cx, &format!("{path}.name"), "a type name", &e.name) {
        } else if !names::is_type_name(&e.name) {
            cx.err(&format!("{path}.name"), format!("`{}` is not a type name", e.name))
                .help("UpperCamelCase ASCII letters and digits");
        } else if !enums.insert(e.name.clone()) {
            let line = cx.line_of(&format!("enums[{}].name", enum_index[&e.name]));
            cx.err(&format!("{path}.name"), format!("enumeration `{}` is defined twice", e.name))
                .help(&format!("it is first defined on line {line}; merge the two or rename one"));
        }
        enum_index.entry(e.name.clone()).or_insert(i);
        if e.values.is_empty() {
            cx.err_key(&format!("{path}.values"), "an enumeration needs at least one value")
                .help("list the values the API documents, each with `value` and `description`");
        }
        let mut wires = HashMap::new();
        let mut idents: HashMap<String, (&str, usize)> = HashMap::new();
        for (j, v) in e.values.iter().enumerate() {
            let vpath = format!("{path}.values[{j}].value");
            check_description(&mut cx, &format!("{path}.values[{j}].description"), &v.description, "value");
            let ident = naming::enum_variant(&v.value);
            if too_long(&mut cx, &vpath, "an enumeration value", &v.value) {
            } else if v.value.is_empty()
                || !v.value.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
                || !v.value.starts_with(|c: char| c.is_ascii_alphabetic())
            {
                cx.err(&vpath, format!("`{}` cannot be an enumeration value", v.value))
                    .help("ASCII letters, digits, `_`, `-` and `.`, starting with a letter");
            } else if let Some(first) = first_seen(&mut wires, &v.value, j) {
                let line = cx.line_of(&format!("{path}.values[{first}].value"));
                cx.err(&vpath, format!("value `{}` is listed twice in `{}`", v.value, e.name))
                    .help(&format!("it is first listed on line {line}; list each value once"));
            } else if let Some((other, first)) = first_seen(&mut idents, ident.clone(), (&v.value, j)) {
                let line = cx.line_of(&format!("{path}.values[{first}].value"));
                cx.err(&vpath, format!("`{}` and `{other}` both become the variant `{ident}`", v.value))
                    .help(&format!(
                        "`{other}` is on line {line}; values must differ after conversion to UpperCamelCase"
                    ));
            }
        }
    }
    enums
}

fn check_operation(cx: &mut Cx<'_>, op: &spec::Operation, enums: &HashSet<String>) {
    let stem = cx.file.name.rsplit('/').next().and_then(|n| n.strip_suffix(".yaml")).unwrap_or("");
    if too_long(cx, "name", "an action name", &op.name) {
    } else if !names::is_wire_name(&op.name) || !op.name.starts_with(|c: char| c.is_ascii_uppercase()) {
        cx.err("name", format!("`{}` is not an action name", op.name))
            .help("UpperCamelCase ASCII letters and digits, as the API spells the action");
    } else if stem != op.name {
        cx.err("name", format!("the file is named `{stem}.yaml` but describes `{}`", op.name))
            .help("name each operation file after its action");
    }
    if op.summary.trim().is_empty() || op.summary.contains('\n') {
        cx.err("summary", "the summary must be one non-empty line")
            .help("one sentence saying what the call does; put more under `description`");
    }
    if op.qps_limit == Some(0) {
        cx.err("qps_limit", "a QPS limit of 0 would forbid every call")
            .help("leave `qps_limit` out when none is documented");
    }
    if op.failure_in_body && !op.response.iter().any(|f| f.name == "Success") {
        cx.err_key("failure_in_body", "`failure_in_body` needs a `Success` field in the response")
            .help("add `Success` (type `boolean`) to `response`, or remove `failure_in_body`");
    }

    let mut wires = HashMap::new();
    let mut idents: HashMap<String, (String, usize)> = HashMap::new();
    for (i, p) in op.parameters.iter().enumerate() {
        let path = format!("parameters[{i}]");
        if too_long(cx, &format!("{path}.name"), "a parameter name", &p.name) {
            continue;
        }
        if !names::is_wire_name(&p.name) {
            cx.err(&format!("{path}.name"), format!("`{}` is not a parameter name", p.name))
                .help("ASCII letters and digits, starting with a letter");
            continue;
        }
        if let Some(first) = first_seen(&mut wires, p.name.clone(), i) {
            let line = cx.line_of(&format!("parameters[{first}].name"));
            cx.err(&format!("{path}.name"), format!("parameter `{}` is listed twice", p.name))
                .help(&format!("it is first listed on line {line}; list each parameter once"));
            continue;
        }
        let ident = naming::field(&p.name);
        if let Some((other, first)) = first_seen(&mut idents, ident.clone(), (p.name.clone(), i)) {
            let line = cx.line_of(&format!("parameters[{first}].name"));
            cx.err(
                &format!("{path}.name"),
                format!("`{}` and `{other}` both become `{ident}` in Rust", p.name),
            )
            .help(&format!(
                "`{other}` is on line {line}; parameter names must differ after conversion to snake_case"
            ));
        }
        check_param(cx, &path, p, enums);
    }

    check_fields(cx, "response", &op.response, enums);
    if !op.response.iter().any(|f| f.name == "RequestId") {
        cx.err_key("response", "the response has no `RequestId` field")
            .help("every answer of the API carries `RequestId`; list it");
    }

    let mut seen = HashMap::new();
    let mut variants: HashMap<String, (String, usize)> = HashMap::new();
    for (i, e) in op.errors.iter().enumerate() {
        let path = format!("errors[{i}]");
        check_description(cx, &format!("{path}.description"), &e.description, "error");
        if !(100..=599).contains(&e.status) {
            cx.err(
                &format!("{path}.status"),
                format!("expected an HTTP status, a number from 100 to 599, found `{}`", e.status),
            )
            .help("e.g. `status: 400`");
        }
        if too_long(cx, &format!("{path}.code"), "an error code", &e.code) {
            continue;
        }
        let base = e.code.strip_suffix("%s").unwrap_or(&e.code);
        let code_ok = !base.is_empty()
            && base.starts_with(|c: char| c.is_ascii_alphabetic())
            && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            && (base.len() == e.code.len() || base.ends_with('.'));
        if !code_ok {
            let message = if base.contains("%s") {
                format!("`{}` is not an error code: `%s` may only end it", e.code)
            } else {
                format!("`{}` is not an error code", e.code)
            };
            cx.err(&format!("{path}.code"), message).help(
                "letters, digits, `.` and `_`; a code ending in a parameter name is written `Prefix.%s`",
            );
            continue;
        }
        if let Some(first) = first_seen(&mut seen, (e.status, e.code.clone()), i) {
            let line = cx.line_of(&format!("errors[{first}].code"));
            cx.err(&format!("{path}.code"), format!("`{}` with HTTP {} is listed twice", e.code, e.status))
                .help(&format!("it is first listed on line {line}; list each status and code once"));
            continue;
        }
        let ident = naming::error_variant(base);
        if let Some((other, first)) = variants.get(&ident) {
            if *other != e.code {
                let line = cx.line_of(&format!("errors[{first}].code"));
                cx.err(
                    &format!("{path}.code"),
                    format!("`{}` and `{other}` both become the variant `{ident}`", e.code),
                )
                .help(&format!(
                    "`{other}` is on line {line}; codes must differ after conversion to UpperCamelCase"
                ));
            }
        } else {
            variants.insert(ident, (e.code.clone(), i));
        }
    }

    if let Some(p) = &op.paging {
        check_paging(cx, op, p);
    }
}

fn check_param(cx: &mut Cx<'_>, path: &str, p: &spec::Parameter, enums: &HashSet<String>) {
    check_description(cx, &format!("{path}.description"), &p.description, "parameter");
    let ty = p.ty;
    let is_int = matches!(ty, TypeName::Int32 | TypeName::Int64);
    if ty == TypeName::Object {
        cx.err(&format!("{path}.type"), "a parameter cannot be an object")
            .help("send structures as an `array` whose `items` are objects (`Tag.1.Key=...`)");
    }
    if (p.minimum.is_some() || p.maximum.is_some()) && !is_int {
        cx.err_key(
            &format!("{path}.{}", if p.minimum.is_some() { "minimum" } else { "maximum" }),
            "`minimum` and `maximum` apply to integers only",
        )
        .help("use `min_length`/`max_length` for strings, `max_items` for arrays");
    }
    if let (Some(lo), Some(hi)) = (p.minimum, p.maximum)
        && lo > hi
    {
        cx.err(&format!("{path}.minimum"), format!("minimum {lo} is above maximum {hi}"))
            .help("no value could pass; swap the bounds or correct one of them");
    }
    if ty == TypeName::Int32 {
        for (k, v) in [("minimum", p.minimum), ("maximum", p.maximum)] {
            if let Some(v) = v
                && i32::try_from(v).is_err()
            {
                cx.err(&format!("{path}.{k}"), format!("{v} does not fit in an int32"))
                    .help("an int32 is from -2147483648 to 2147483647; use `type: int64` for more");
            }
        }
    }
    if (p.min_length.is_some() || p.max_length.is_some()) && ty != TypeName::String {
        cx.err_key(
            &format!("{path}.{}", if p.min_length.is_some() { "min_length" } else { "max_length" }),
            "`min_length` and `max_length` apply to strings only",
        )
        .help("use `minimum`/`maximum` for integers, `max_items` for arrays");
    }
    if let (Some(lo), Some(hi)) = (p.min_length, p.max_length)
        && lo > hi
    {
        cx.err(&format!("{path}.min_length"), format!("min_length {lo} is above max_length {hi}"))
            .help("no value could pass; swap the bounds or correct one of them");
    }
    if p.max_items.is_some() && ty != TypeName::Array {
        cx.err_key(&format!("{path}.max_items"), "`max_items` applies to arrays only")
            .help("use `max_length` to bound a string's length, `maximum` for an integer");
    }
    check_scalar_extras(cx, path, ty, p.enum_ref.as_deref(), p.format, p.wire, enums);
    match (ty, &p.items) {
        (TypeName::Array, None) => {
            cx.err(&format!("{path}.type"), "an array needs `items`, the type of its elements")
                .help("add e.g. `items: {type: string}`");
        }
        (TypeName::Array, Some(items)) => {
            let ipath = format!("{path}.items");
            match items.ty {
                TypeName::Array => {
                    cx.err(&format!("{ipath}.type"), "a parameter list cannot hold lists")
                        .help("the elements are `string`, a number, `boolean` or an `object` of scalars");
                }
                TypeName::Object => match &items.fields {
                    None => {
                        cx.err(&format!("{ipath}.type"), "object items need `fields`").help(
                            "list the members under `fields`, each with `name`, `type` and `description`",
                        );
                    }
                    Some(fields) => {
                        if items.type_name.is_none() {
                            cx.err_key(&ipath, "object items of a parameter need a `type_name`").help(
                                "callers build these values, so the type needs a clear name, e.g. `Tag`",
                            );
                        }
                        check_fields(cx, &format!("{ipath}.fields"), fields, enums);
                        for (j, f) in fields.iter().enumerate() {
                            if f.ty == TypeName::Array || f.ty == TypeName::Object {
                                cx.err(
                                    &format!("{ipath}.fields[{j}].type"),
                                    "members of a parameter structure must be scalars",
                                )
                                .help("the API takes `Name.1.Member=value`; nesting goes no deeper");
                            }
                        }
                    }
                },
                _ => check_scalar_extras(
                    cx,
                    &ipath,
                    items.ty,
                    items.enum_ref.as_deref(),
                    items.format,
                    items.wire,
                    enums,
                ),
            }
            if let Some(n) = &items.type_name
                && !too_long(cx, &format!("{ipath}.type_name"), "a type name", n)
                && !names::is_type_name(n)
            {
                cx.err(&format!("{ipath}.type_name"), format!("`{n}` is not a type name"))
                    .help("UpperCamelCase ASCII letters and digits");
            }
        }
        (_, Some(_)) => {
            cx.err_key(&format!("{path}.items"), "only arrays have `items`")
                .help("remove `items`, or make the type `array`");
        }
        _ => {}
    }
}

fn check_scalar_extras(
    cx: &mut Cx<'_>,
    path: &str,
    ty: TypeName,
    enum_ref: Option<&str>,
    format: Option<spec::Format>,
    wire: Option<spec::Wire>,
    enums: &HashSet<String>,
) {
    if let Some(e) = enum_ref {
        if ty != TypeName::String {
            cx.err_key(&format!("{path}.enum"), "only strings can belong to an enumeration")
                .help("enumeration values are text; make the type `string`");
        } else if !enums.contains(e) {
            let mut known: Vec<_> = enums.iter().map(String::as_str).collect();
            known.sort_unstable();
            cx.err(&format!("{path}.enum"), format!("there is no enumeration `{e}`"))
                .help(&format!("enumerations are defined in service.yaml; known: {}", known.join(", ")));
        }
    }
    if format.is_some() && ty != TypeName::Int64 {
        cx.err_key(&format!("{path}.format"), "`format: epoch_millis` applies to int64 only")
            .help("milliseconds since the epoch are an `int64`; change the type or remove `format`");
    }
    if wire.is_some() && !matches!(ty, TypeName::Int32 | TypeName::Int64 | TypeName::Boolean) {
        cx.err_key(&format!("{path}.wire"), "`wire: string` applies to numbers and booleans only")
            .help("a string is always sent as a string; remove `wire`");
    }
}

fn check_fields(cx: &mut Cx<'_>, path: &str, fields: &[spec::Field], enums: &HashSet<String>) {
    let mut wires = HashMap::new();
    let mut idents: HashMap<String, (&str, usize)> = HashMap::new();
    for (i, f) in fields.iter().enumerate() {
        let fpath = format!("{path}[{i}]");
        check_description(cx, &format!("{fpath}.description"), &f.description, "field");
        if too_long(cx, &format!("{fpath}.name"), "a field name", &f.name) {
            continue;
        }
        if !names::is_wire_name(&f.name) {
            cx.err(&format!("{fpath}.name"), format!("`{}` is not a field name", f.name))
                .help("ASCII letters and digits, starting with a letter");
            continue;
        }
        if let Some(first) = first_seen(&mut wires, &f.name, i) {
            let line = cx.line_of(&format!("{path}[{first}].name"));
            cx.err(&format!("{fpath}.name"), format!("field `{}` is listed twice", f.name))
                .help(&format!("it is first listed on line {line}; list each field once"));
            continue;
        }
        let ident = naming::field(&f.name);
        if let Some((other, first)) = first_seen(&mut idents, ident.clone(), (&f.name, i)) {
            let line = cx.line_of(&format!("{path}[{first}].name"));
            cx.err(
                &format!("{fpath}.name"),
                format!("`{}` and `{other}` both become `{ident}` in Rust", f.name),
            )
            .help(&format!(
                "`{other}` is on line {line}; field names must differ after conversion to snake_case"
            ));
        }
        check_scalar_extras(cx, &fpath, f.ty, f.enum_ref.as_deref(), f.format, f.wire, enums);
        if let Some(n) = &f.type_name {
            if !too_long(cx, &format!("{fpath}.type_name"), "a type name", n) && !names::is_type_name(n) {
                cx.err(&format!("{fpath}.type_name"), format!("`{n}` is not a type name"))
                    .help("UpperCamelCase ASCII letters and digits");
            }
            if f.ty != TypeName::Object {
                cx.err_key(
                    &format!("{fpath}.type_name"),
                    "only objects have a `type_name`; for a list of objects put it under `items`",
                );
            }
        }
        match (f.ty, &f.fields, &f.items) {
            (TypeName::Object, Some(sub), None) => {
                if sub.is_empty() {
                    cx.err_key(&format!("{fpath}.fields"), "an object needs at least one field")
                        .help("list its members, each with `name`, `type` and `description`");
                }
                check_fields(cx, &format!("{fpath}.fields"), sub, enums);
            }
            (TypeName::Object, None, _) => {
                cx.err(&format!("{fpath}.type"), "an object needs `fields`, its members")
                    .help("list the members under `fields`, each with `name`, `type` and `description`");
            }
            (TypeName::Array, None, Some(items)) => check_items(cx, &format!("{fpath}.items"), items, enums),
            (TypeName::Array, _, None) => {
                cx.err(&format!("{fpath}.type"), "an array needs `items`, the type of its elements")
                    .help("add e.g. `items: {type: string}`");
            }
            (_, Some(_), _) => {
                cx.err_key(&format!("{fpath}.fields"), "only objects have `fields`")
                    .help("remove `fields`, or make the type `object` (for a list of objects, put them under `items`)");
            }
            (_, _, Some(_)) => {
                cx.err_key(&format!("{fpath}.items"), "only arrays have `items`")
                    .help("remove `items`, or make the type `array`");
            }
            _ => {}
        }
    }
}

fn check_items(cx: &mut Cx<'_>, path: &str, items: &spec::Schema, enums: &HashSet<String>) {
    check_scalar_extras(cx, path, items.ty, items.enum_ref.as_deref(), items.format, items.wire, enums);
    if let Some(n) = &items.type_name
        && !too_long(cx, &format!("{path}.type_name"), "a type name", n)
        && !names::is_type_name(n)
    {
        cx.err(&format!("{path}.type_name"), format!("`{n}` is not a type name"))
            .help("UpperCamelCase ASCII letters and digits");
    }
    match (items.ty, &items.fields) {
        (TypeName::Object, Some(sub)) if !sub.is_empty() => {
            check_fields(cx, &format!("{path}.fields"), sub, enums)
        }
        (TypeName::Object, _) => {
            cx.err(&format!("{path}.type"), "object items need `fields`")
                .help("list the members under `fields`, each with `name`, `type` and `description`");
        }
        (TypeName::Array, _) => {
            cx.err(&format!("{path}.type"), "lists of lists are not supported")
                .help("make the elements objects with a list field");
        }
        (_, Some(_)) => {
            cx.err_key(&format!("{path}.fields"), "only objects have `fields`")
                .help("remove `fields`, or make the element type `object`");
        }
        _ => {}
    }
}

fn check_paging(cx: &mut Cx<'_>, op: &spec::Operation, p: &spec::Paging) {
    use spec::PagingStyle::{NextToken, PageNumber};
    let param = |name: &str| op.parameters.iter().find(|q| q.name == name);
    let integer = |ty: TypeName| matches!(ty, TypeName::Int32 | TypeName::Int64);
    match param(&p.input) {
        None => {
            cx.err("paging.input", format!("there is no parameter `{}`", p.input)).help(&param_list(op));
        }
        Some(q) if p.style == NextToken && (q.ty != TypeName::String || q.enum_ref.is_some()) => {
            cx.err("paging.input", format!("the token parameter `{}` must be a plain `string`", q.name))
                .help("the next-token style copies the token the answer gives into this parameter");
        }
        Some(q) if p.style == NextToken && q.required => {
            cx.err("paging.input", "the token parameter must be optional: the first page has none")
                .help("remove `required: true` from the token parameter");
        }
        Some(q) if p.style == PageNumber && !integer(q.ty) => {
            cx.err(
                "paging.input",
                format!("the page-number parameter `{}` must be an `int32` or `int64`", q.name),
            )
            .help("the page-number style sets this parameter to 1, 2, 3, ...");
        }
        Some(_) => {}
    }
    if let Some(size) = &p.page_size {
        match param(size) {
            None => {
                cx.err("paging.page_size", format!("there is no parameter `{size}`")).help(&param_list(op));
            }
            Some(q) if !integer(q.ty) => {
                cx.err(
                    "paging.page_size",
                    format!("the page-size parameter `{size}` must be an `int32` or `int64`"),
                )
                .help("name the parameter that says how many items one page holds");
            }
            Some(_) => {}
        }
    }
    for (key, path) in [
        ("paging.output", p.output.as_ref()),
        ("paging.items", Some(&p.items)),
        ("paging.total", p.total.as_ref()),
    ] {
        let Some(path) = path else { continue };
        let Some(f) = naming::resolve(&op.response, path) else {
            cx.err(key, format!("the response has no field `{path}`"))
                .help("a dot-separated path of response field names, e.g. `Data.NextToken`");
            continue;
        };
        let scalar = f.fields.is_none() && f.items.is_none();
        match key {
            "paging.items" if f.ty != TypeName::Array => {
                cx.err(key, format!("`{path}` is not an array"))
                    .help("`items` names the response list that holds one page");
            }
            "paging.output" if p.style == NextToken && (f.ty != TypeName::String || f.enum_ref.is_some()) => {
                cx.err(key, format!("`{path}` is not a plain `string`, so it cannot be the next token"))
                    .help("`output` names the response field that holds the next page's token");
            }
            "paging.output" if p.style == PageNumber && !(integer(f.ty) && scalar) => {
                cx.err(key, format!("`{path}` is not an integer, so it cannot be the page number"))
                    .help("`output` names the response field that holds the current page number");
            }
            "paging.total" if !(integer(f.ty) && scalar) => {
                cx.err(key, format!("`{path}` is not an integer, so it cannot be the total"))
                    .help("`total` names the response field that holds the number of items in all pages");
            }
            _ => {}
        }
    }
    if p.style == NextToken && p.output.is_none() {
        cx.err_key("paging", "next-token paging needs `output`, the path of the next token in the response");
    }
    if p.style == PageNumber && p.total.is_none() {
        cx.err_key("paging", "page-number paging needs `total` to know when to stop")
            .help("add `total:`, the dot path of the response's total item count");
    }
}

/// Refuses a name longer than [`MAX_NAME_CHARS`]; true when it did.
fn too_long(cx: &mut Cx<'_>, path: &str, what: &str, name: &str) -> bool {
    let chars = name.chars().count();
    if chars <= MAX_NAME_CHARS {
        return false;
    }
    cx.err(path, format!("{what} of {chars} characters is too long")).help(&format!(
        "names have at most {MAX_NAME_CHARS} characters: they become Rust names and file names"
    ));
    true
}

/// A description is required and becomes rustdoc: `description:` with nothing after it reads as
/// an empty string, so it is caught here.
fn check_description(cx: &mut Cx<'_>, path: &str, text: &str, what: &str) {
    if text.trim().is_empty() {
        cx.err(path, "the description is empty")
            .help(&format!("say in your own words what this {what} means; it becomes the rustdoc"));
    }
}

/// Inserts `key` unless present; returns what was there first. A name listed three times is
/// then reported twice, each time against its first listing.
fn first_seen<K: std::hash::Hash + Eq, V: Clone>(map: &mut HashMap<K, V>, key: K, value: V) -> Option<V> {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(e) => Some(e.get().clone()),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(value);
            None
        }
    }
}

/// Help naming the parameters a paging key may refer to.
fn param_list(op: &spec::Operation) -> String {
    if op.parameters.is_empty() {
        return "the operation has no parameters; paging needs one that carries the token or page number"
            .to_owned();
    }
    let names: Vec<&str> = op.parameters.iter().map(|p| p.name.as_str()).collect();
    format!("name one of the parameters: `{}`", names.join("`, `"))
}

/// A textual key that is equal for two structures exactly when they generate the same type.
fn shape(fields: &[spec::Field]) -> String {
    fields
        .iter()
        .map(|f| {
            let inner = match (&f.fields, &f.items) {
                (Some(sub), _) => format!("{{{}}}", shape(sub)),
                (None, Some(items)) => format!(
                    "[{:?}{:?}{:?}{:?}{}]",
                    items.ty,
                    items.enum_ref,
                    items.format,
                    items.wire,
                    items.fields.as_deref().map(shape).unwrap_or_default()
                ),
                _ => String::new(),
            };
            format!(
                "{}:{:?}:{}:{}:{:?}:{:?}:{:?}:{:?}:{}:{};",
                f.name,
                f.ty,
                f.required,
                f.sensitive,
                f.enum_ref,
                f.format,
                f.wire,
                f.type_name,
                inner,
                f.description
            )
        })
        .collect()
}
