//! Lowering a validated spec to the IR: names resolved, types mapped, shared structures found.

use crate::ir;
use crate::load::Loaded;
use crate::naming::{self, Names, OpNames};
use crate::spec::{self, TypeName};
use std::collections::BTreeMap;

/// Lowers a spec that `validate` accepted.
pub fn lower(spec: &Loaded) -> ir::Service {
    lower_named(spec, &naming::plan(spec))
}

/// Lowers a spec that `validate` accepted, with the names [`naming::plan`] gave it.
pub fn lower_named(spec: &Loaded, names: &Names) -> ir::Service {
    let (service_file, s) = &spec.service;
    let enums = s
        .enums
        .iter()
        .zip(&names.enums)
        .map(|(e, n)| ir::Enum {
            name: e.name.clone(),
            docs: e.description.clone(),
            variants: e
                .values
                .iter()
                .zip(&n.variants)
                .map(|(v, ident)| ir::EnumVariant {
                    ident: ident.clone(),
                    wire: v.value.clone(),
                    docs: v.description.clone(),
                })
                .collect(),
        })
        .collect();

    let mut operations: Vec<ir::Operation> = spec
        .operations
        .iter()
        .zip(&names.operations)
        .map(|((file, op), n)| lower_operation(&file.name, op, n))
        .collect();
    operations.sort_by(|a, b| a.action.cmp(&b.action));

    // A structure named alike in several operations is shared (validation made sure the shapes
    // agree): it moves to the service's types.
    let mut users: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, op) in operations.iter().enumerate() {
        for st in &op.structs {
            users.entry(st.name.clone()).or_default().push(i);
        }
    }
    let mut shared_structs = Vec::new();
    for (name, ops) in &users {
        if ops.len() < 2 {
            continue;
        }
        for &i in ops {
            let op = &mut operations[i];
            if let Some(pos) = op.structs.iter().position(|s| &s.name == name) {
                let st = op.structs.remove(pos);
                if i == ops[0] {
                    shared_structs.push(st);
                }
            }
        }
    }

    let shared: Vec<&str> = s
        .enums
        .iter()
        .map(|e| e.name.as_str())
        .chain(shared_structs.iter().map(|st| st.name.as_str()))
        .collect();
    for op in &mut operations {
        let mut named = types_named(op);
        named.retain(|n| shared.contains(&n.as_str()));
        op.imports = named;
    }

    ir::Service {
        spec_file: service_file.name.clone(),
        title: s.title.clone(),
        description: s.description.trim().to_owned(),
        product_code: s.code.clone(),
        api_version: s.api_version.clone(),
        crate_name: s.crate_name.clone(),
        endpoint_public: s.endpoints.public.clone(),
        endpoint_vpc: s.endpoints.vpc.clone(),
        regions: s.regions.clone(),
        default_signature_v1: s.signature == spec::SignatureVersion::V1,
        enums,
        shared_structs,
        operations,
    }
}

fn lower_operation(spec_file: &str, op: &spec::Operation, n: &OpNames) -> ir::Operation {
    let action = op.name.clone();
    let mut structs = Vec::new();
    let params: Vec<ir::Param> = op
        .parameters
        .iter()
        .enumerate()
        .zip(&n.params)
        .map(|((i, p), pn)| lower_param(n, &format!("parameters[{i}]"), p, pn, &mut structs))
        .collect();
    let output_fields = lower_fields(n, "response", &op.response, &mut structs);

    let mut errors: Vec<ir::ErrorVariant> = Vec::new();
    let mut retryable_codes = Vec::new();
    for (e, ident) in op.errors.iter().zip(&n.error_variants) {
        // Validation accepted only 100..=599.
        let status = u16::try_from(e.status).unwrap_or(500);
        let templated = e.code.ends_with("%s");
        let code = e.code.trim_end_matches("%s").to_owned();
        if e.retryable && !templated && !retryable_codes.contains(&code) {
            retryable_codes.push(code.clone());
        }
        if let Some(v) = errors.iter_mut().find(|v| v.code == code && v.templated == templated) {
            if !v.statuses.contains(&status) {
                v.statuses.push(status);
            }
            v.retryable |= e.retryable;
            continue;
        }
        errors.push(ir::ErrorVariant {
            ident: ident.clone(),
            code,
            templated,
            statuses: vec![status],
            message: e.message.as_ref().map(|m| m.trim().to_owned()),
            docs: e.description.trim().to_owned(),
            retryable: e.retryable,
        });
    }

    let paging = op.paging.as_ref().map(|p| lower_paging(op, n, p));

    ir::Operation {
        spec_file: spec_file.to_owned(),
        module: n.module.clone(),
        file_stem: n.file_stem.clone(),
        method: n.method.clone(),
        builder: n.builder.clone(),
        output: n.output.clone(),
        error: n.error.clone(),
        input: n.input.clone(),
        request: n.request.clone(),
        summary: op.summary.trim().to_owned(),
        description: op.description.as_ref().map(|d| d.trim().to_owned()).filter(|d| !d.is_empty()),
        http_method: match op.method {
            spec::HttpMethod::POST => "POST".to_owned(),
            spec::HttpMethod::GET => "GET".to_owned(),
        },
        qps_limit: op.qps_limit,
        idempotent: !op.mutating,
        failure_in_body: op.failure_in_body,
        params,
        output_fields,
        structs,
        imports: Vec::new(),
        errors,
        retryable_codes,
        paging,
        example_json: op.examples.as_ref().and_then(|e| e.json.clone()),
        action,
    }
}

fn scalar(ty: TypeName, enum_ref: Option<&str>, format: Option<spec::Format>) -> ir::Scalar {
    match (ty, enum_ref) {
        (TypeName::String, Some(e)) => ir::Scalar::Enum(e.to_owned()),
        (TypeName::Boolean, _) => ir::Scalar::Bool,
        (TypeName::Int32, _) => ir::Scalar::I32,
        (TypeName::Int64, _) => ir::Scalar::I64 { epoch_millis: format == Some(spec::Format::EpochMillis) },
        _ => ir::Scalar::String,
    }
}

fn example_text(v: &Option<serde_yaml::Value>) -> Option<String> {
    match v.as_ref()? {
        serde_yaml::Value::String(s) => Some(s.clone()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The name [`naming::plan`] gave the structure declared at `node`.
fn struct_name(n: &OpNames, node: &str) -> String {
    // Every node `named_structs` lists has a name; a miss would be a generator bug, and the
    // emitted code would then fail to parse, which `emit` reports.
    n.structs.get(node).cloned().unwrap_or_default()
}

fn lower_param(
    n: &OpNames,
    path: &str,
    p: &spec::Parameter,
    pn: &naming::ParamNames,
    structs: &mut Vec<ir::Struct>,
) -> ir::Param {
    let ty = match (p.ty, &p.items) {
        (TypeName::Array, Some(items)) => match &items.fields {
            Some(fields) => {
                let node = format!("{path}.items");
                let name = struct_name(n, &node);
                let fields = lower_fields(n, &format!("{node}.fields"), fields, structs);
                let members = fields
                    .iter()
                    .filter_map(|f| match &f.ty {
                        ir::FieldType::Scalar(ty) => {
                            Some(ir::Member { wire: f.wire.clone(), ident: f.ident.clone(), ty: ty.clone() })
                        }
                        _ => None,
                    })
                    .collect();
                if !structs.iter().any(|s| s.name == name) {
                    structs.push(ir::Struct {
                        name: name.clone(),
                        docs: items
                            .description
                            .clone()
                            .unwrap_or_else(|| format!("One element of `{}`.", p.name)),
                        fields,
                        request: true,
                    });
                }
                ir::ParamType::StructList { name, members }
            }
            None => ir::ParamType::List(scalar(items.ty, items.enum_ref.as_deref(), items.format)),
        },
        _ => ir::ParamType::Scalar(scalar(p.ty, p.enum_ref.as_deref(), p.format)),
    };
    ir::Param {
        wire: p.name.clone(),
        ident: pn.field.clone(),
        setter: pn.setter.clone(),
        maybe: pn.maybe.clone(),
        state: pn.state.clone(),
        location: match p.location {
            spec::ParamLocation::Query => ir::Location::Query,
            spec::ParamLocation::Form => ir::Location::Form,
        },
        ty,
        docs: p.description.trim().to_owned(),
        example: example_text(&p.example),
        sensitive: p.sensitive,
        checks: ir::Checks {
            minimum: p.minimum,
            maximum: p.maximum,
            min_length: p.min_length,
            max_length: p.max_length,
            max_items: p.max_items,
        },
    }
}

/// Lowers the fields listed at spec path `path` (`response`, `response[0].fields`, ...).
fn lower_fields(
    n: &OpNames,
    path: &str,
    fields: &[spec::Field],
    structs: &mut Vec<ir::Struct>,
) -> Vec<ir::StructField> {
    fields.iter().enumerate().map(|(i, f)| lower_field(n, &format!("{path}[{i}]"), f, structs)).collect()
}

/// Lowers the field at spec path `fpath`.
fn lower_field(n: &OpNames, fpath: &str, f: &spec::Field, structs: &mut Vec<ir::Struct>) -> ir::StructField {
    let ty = match (f.ty, &f.fields, &f.items) {
        (TypeName::Object, Some(sub), _) => {
            let name = struct_name(n, fpath);
            push_struct(n, structs, name.clone(), f.description.trim(), &format!("{fpath}.fields"), sub);
            ir::FieldType::Struct(name)
        }
        (TypeName::Array, _, Some(items)) => ir::FieldType::List(Box::new(match &items.fields {
            Some(sub) => {
                let node = format!("{fpath}.items");
                let name = struct_name(n, &node);
                let docs =
                    items.description.clone().unwrap_or_else(|| format!("One element of `{}`.", f.name));
                push_struct(n, structs, name.clone(), docs.trim(), &format!("{node}.fields"), sub);
                ir::FieldType::Struct(name)
            }
            None => ir::FieldType::Scalar(scalar(items.ty, items.enum_ref.as_deref(), items.format)),
        })),
        _ => ir::FieldType::Scalar(scalar(f.ty, f.enum_ref.as_deref(), f.format)),
    };
    ir::StructField {
        wire: f.name.clone(),
        ident: naming::field(&f.name),
        setter: naming::member_setter(&f.name),
        docs: f.description.trim().to_owned(),
        ty,
        required: f.required,
        wire_string: f.wire == Some(spec::Wire::String),
        sensitive: f.sensitive,
    }
}

fn push_struct(
    n: &OpNames,
    structs: &mut Vec<ir::Struct>,
    name: String,
    docs: &str,
    fields_path: &str,
    fields: &[spec::Field],
) {
    // Reserve the slot first so that outer structures come before inner ones.
    let at = structs.len();
    if structs.iter().any(|s| s.name == name) {
        return;
    }
    structs.push(ir::Struct {
        name: name.clone(),
        docs: docs.to_owned(),
        fields: Vec::new(),
        request: false,
    });
    let lowered = lower_fields(n, fields_path, fields, structs);
    structs[at].fields = lowered;
}

fn path_steps(fields: &[spec::Field], path: &str) -> Vec<ir::PathStep> {
    let mut out = Vec::new();
    let mut fields = fields;
    for part in path.split('.') {
        let Some(f) = fields.iter().find(|f| f.name == part) else { break };
        out.push(ir::PathStep {
            ident: naming::field(&f.name),
            optional: !f.required && f.ty != TypeName::Array,
        });
        fields = f.fields.as_deref().unwrap_or(&[]);
    }
    out
}

fn lower_paging(op: &spec::Operation, n: &OpNames, p: &spec::Paging) -> ir::Paging {
    // The item type is that of the response field the path ends at, lowered where it stands.
    let mut scratch = Vec::new();
    let item_type = naming::resolve_path(&op.response, &p.items)
        .map(|(path, f)| lower_field(n, &path, f, &mut scratch))
        .map(|f| match f.ty {
            ir::FieldType::List(inner) => *inner,
            other => other,
        })
        .unwrap_or(ir::FieldType::Scalar(ir::Scalar::String));
    ir::Paging {
        style: match p.style {
            spec::PagingStyle::NextToken => ir::PagingStyle::NextToken,
            spec::PagingStyle::PageNumber => ir::PagingStyle::PageNumber,
        },
        input: naming::field(&p.input),
        output: p.output.as_deref().map(|o| path_steps(&op.response, o)).unwrap_or_default(),
        items: path_steps(&op.response, &p.items),
        item_type,
        total: p.total.as_deref().map(|t| path_steps(&op.response, t)).unwrap_or_default(),
        total_is_i64: p
            .total
            .as_deref()
            .and_then(|t| naming::resolve(&op.response, t))
            .is_some_and(|f| f.ty == TypeName::Int64),
    }
}

/// The type names an operation's file mentions: in its parameters, output and own structures.
fn types_named(op: &ir::Operation) -> Vec<String> {
    fn from_scalar(t: &ir::Scalar, out: &mut Vec<String>) {
        if let ir::Scalar::Enum(e) = t {
            out.push(e.clone());
        }
    }
    fn from_field(t: &ir::FieldType, out: &mut Vec<String>) {
        match t {
            ir::FieldType::Scalar(s) => from_scalar(s, out),
            ir::FieldType::Struct(n) => out.push(n.clone()),
            ir::FieldType::List(inner) => from_field(inner, out),
        }
    }
    let mut out = Vec::new();
    for p in &op.params {
        match &p.ty {
            ir::ParamType::Scalar(s) | ir::ParamType::List(s) => from_scalar(s, &mut out),
            ir::ParamType::StructList { name, members } => {
                out.push(name.clone());
                for m in members {
                    from_scalar(&m.ty, &mut out);
                }
            }
        }
    }
    for f in op.output_fields.iter().chain(op.structs.iter().flat_map(|s| &s.fields)) {
        from_field(&f.ty, &mut out);
    }
    if let Some(p) = &op.paging {
        from_field(&p.item_type, &mut out);
    }
    out.sort();
    out.dedup();
    out
}
