//! The intermediate representation the emitters read: every Rust name is resolved here, once,
//! and nothing in it refers back to YAML.

/// The whole service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Spec file of the service, for `@generated` headers.
    pub spec_file: String,
    /// Product title, e.g. `ApsaraMQ for MQTT`.
    pub title: String,
    /// Crate docs.
    pub description: String,
    /// Product code, e.g. `onsmqtt`.
    pub product_code: String,
    /// API version, e.g. `2020-04-20`.
    pub api_version: String,
    /// Crate name, e.g. `alibabacloud-onsmqtt`.
    pub crate_name: String,
    /// Public endpoint template with `{region}`.
    pub endpoint_public: String,
    /// VPC endpoint template with `{region}`.
    pub endpoint_vpc: String,
    /// Region IDs.
    pub regions: Vec<String>,
    /// Whether V1 (HMAC-SHA1) rather than V3 is the default signature.
    pub default_signature_v1: bool,
    /// Shared enumerations.
    pub enums: Vec<Enum>,
    /// Structures used by more than one operation.
    pub shared_structs: Vec<Struct>,
    /// Operations, sorted by action.
    pub operations: Vec<Operation>,
}

/// An enumeration that keeps values it does not know.
#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    /// Type name.
    pub name: String,
    /// Docs.
    pub docs: String,
    /// Known values.
    pub variants: Vec<EnumVariant>,
}

/// A known enumeration value.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumVariant {
    /// Variant name.
    pub ident: String,
    /// Wire value.
    pub wire: String,
    /// Docs.
    pub docs: String,
}

/// One API operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// Spec file, relative to the workspace root.
    pub spec_file: String,
    /// API action, e.g. `QuerySessionByClientId`.
    pub action: String,
    /// Module, e.g. `query_session_by_client_id` (`r#type` for a keyword).
    pub module: String,
    /// The module's file name without `.rs` (no `r#`).
    pub file_stem: String,
    /// `Client` method, e.g. `query_session_by_client_id`.
    pub method: String,
    /// Builder type.
    pub builder: String,
    /// Output type.
    pub output: String,
    /// Error enum.
    pub error: String,
    /// Private input struct.
    pub input: String,
    /// The server side's parsed request struct.
    pub request: String,
    /// One-line summary.
    pub summary: String,
    /// Longer description, if any.
    pub description: Option<String>,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Documented QPS limit per user.
    pub qps_limit: Option<u32>,
    /// Whether a retry after sending is safe.
    pub idempotent: bool,
    /// Whether HTTP 200 may carry a failure.
    pub failure_in_body: bool,
    /// Parameters in spec order.
    pub params: Vec<Param>,
    /// Fields of the output.
    pub output_fields: Vec<StructField>,
    /// Structures only this operation uses, outermost first.
    pub structs: Vec<Struct>,
    /// Shared types (enumerations and structures from `types.rs`) the operation's file names,
    /// sorted.
    pub imports: Vec<String>,
    /// Error variants, one per code, in spec order.
    pub errors: Vec<ErrorVariant>,
    /// Codes the spec marks as retryable.
    pub retryable_codes: Vec<String>,
    /// Paging, if the operation pages.
    pub paging: Option<Paging>,
    /// Sample JSON success body.
    pub example_json: Option<String>,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// URL query.
    Query,
    /// Form body.
    Form,
}

/// A request parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Wire name.
    pub wire: String,
    /// Field and setter name.
    pub ident: String,
    /// Builder setter, usually `ident` (renamed when the builder has a method of that name).
    pub setter: String,
    /// `maybe_*` setter of an optional scalar.
    pub maybe: Option<String>,
    /// Typestate parameter name (required parameters only), e.g. `ClientId`.
    pub state: Option<String>,
    /// Where it travels.
    pub location: Location,
    /// Its type.
    pub ty: ParamType,
    /// Docs.
    pub docs: String,
    /// Sample value as text.
    pub example: Option<String>,
    /// Whether `Debug` hides the value.
    pub sensitive: bool,
    /// Checks made before sending.
    pub checks: Checks,
}

/// Declared constraints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checks {
    /// Integer bounds.
    pub minimum: Option<i64>,
    /// Integer bounds.
    pub maximum: Option<i64>,
    /// String length bounds, in characters.
    pub min_length: Option<u64>,
    /// String length bounds, in characters.
    pub max_length: Option<u64>,
    /// List length bound.
    pub max_items: Option<u64>,
}

/// The Rust type of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    /// A scalar.
    Scalar(Scalar),
    /// A list of scalars, sent as `Name.1`, `Name.2`, ...
    List(Scalar),
    /// A list of structures, sent as `Name.1.Member`, ...
    StructList {
        /// Type name of one element.
        name: String,
        /// Its members, all optional scalars.
        members: Vec<Member>,
    },
}

/// A member of a request structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// Wire name.
    pub wire: String,
    /// Field name.
    pub ident: String,
    /// Its type.
    pub ty: Scalar,
}

/// Scalar types.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i32`.
    I32,
    /// `i64`; `epoch_millis` documents it as a time.
    I64 {
        /// Milliseconds since the Unix epoch.
        epoch_millis: bool,
    },
    /// A shared enumeration.
    Enum(String),
}

/// A structure.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// Type name.
    pub name: String,
    /// Docs.
    pub docs: String,
    /// Members.
    pub fields: Vec<StructField>,
    /// Whether callers build it (request element) rather than receive it.
    pub request: bool,
}

/// A member of a response or request structure.
#[derive(Debug, Clone, PartialEq)]
pub struct StructField {
    /// Wire name.
    pub wire: String,
    /// Field name.
    pub ident: String,
    /// Setter of a member of a request structure, usually `ident` (renamed when the structure
    /// has a method of that name).
    pub setter: String,
    /// Docs.
    pub docs: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether it is always present (else `Option`, or an empty `Vec` for lists).
    pub required: bool,
    /// Whether the wire spells the number or boolean as a string.
    pub wire_string: bool,
    /// Whether `Debug` hides the value.
    pub sensitive: bool,
}

/// The Rust type of a response member.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// A scalar.
    Scalar(Scalar),
    /// A structure, by type name.
    Struct(String),
    /// A list.
    List(Box<FieldType>),
}

/// An error code of the operation's table.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorVariant {
    /// Variant name.
    pub ident: String,
    /// The code; for templated codes the part before `%s`, e.g. `InvalidParameter.`.
    pub code: String,
    /// Whether the code ends in a parameter name (`InvalidParameter.%s`).
    pub templated: bool,
    /// HTTP statuses it arrives with.
    pub statuses: Vec<u16>,
    /// Message the service sends.
    pub message: Option<String>,
    /// Docs.
    pub docs: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
}

/// Paging.
#[derive(Debug, Clone, PartialEq)]
pub struct Paging {
    /// Style.
    pub style: PagingStyle,
    /// Parameter (field ident) that carries the token or page number.
    pub input: String,
    /// Path to the next token (next-token style) in the output.
    pub output: Vec<PathStep>,
    /// Path to the page's items in the output; the last step is a list.
    pub items: Vec<PathStep>,
    /// Rust type of one item.
    pub item_type: FieldType,
    /// Path to the total item count (page-number style); empty when not given.
    pub total: Vec<PathStep>,
    /// Whether the total is an `i64` already (else an `i32`).
    pub total_is_i64: bool,
}

/// One step of a path through the output's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct PathStep {
    /// Field name.
    pub ident: String,
    /// Whether the field is an `Option`.
    pub optional: bool,
}

/// Paging style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingStyle {
    /// Next-token.
    NextToken,
    /// Page number.
    PageNumber,
}
