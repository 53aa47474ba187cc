//! The YAML spec model: exactly what a spec file may say, nothing more.
//!
//! Every struct rejects unknown keys, so a typo is an error at its line and column instead of a
//! silently ignored setting. Semantic rules (names, duplicates, references) live in `validate`.

use serde::Deserialize;

/// `spec/<service>/service.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Product name as Alibaba Cloud spells it, e.g. `OnsMqtt`.
    pub name: String,
    /// Product code used in endpoints, e.g. `onsmqtt`.
    pub code: String,
    /// API version sent with every request, e.g. `2020-04-20`.
    pub api_version: String,
    /// Name of the generated crate (its `Cargo.toml` must agree).
    pub crate_name: String,
    /// Human title of the product.
    pub title: String,
    /// What the service does, for the crate docs.
    pub description: String,
    /// Default signature scheme: `v3` (ACS3-HMAC-SHA256) or `v1` (HMAC-SHA1).
    pub signature: SignatureVersion,
    /// Endpoint host templates; `{region}` is replaced by the region ID.
    pub endpoints: Endpoints,
    /// Region IDs the service is offered in.
    pub regions: Vec<String>,
    /// Enumerations shared by operations.
    #[serde(default)]
    pub enums: Vec<EnumDef>,
}

/// Signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVersion {
    /// ACS3-HMAC-SHA256.
    V3,
    /// RPC HMAC-SHA1.
    V1,
}

/// Endpoint host templates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoints {
    /// Internet endpoint.
    pub public: String,
    /// VPC endpoint.
    pub vpc: String,
}

/// A named enumeration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumDef {
    /// Rust type name (UpperCamelCase).
    pub name: String,
    /// What the enumeration means.
    pub description: String,
    /// The values the API documents; others are kept as unknown values at run time.
    pub values: Vec<EnumValue>,
}

/// One documented enumeration value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// The value on the wire.
    pub value: String,
    /// What it means.
    pub description: String,
}

/// `spec/<service>/operations/<Name>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Operation {
    /// The API action, e.g. `QuerySessionByClientId`; the file must be named after it.
    pub name: String,
    /// One sentence: the first line of the method's docs.
    pub summary: String,
    /// A paragraph or two of detail.
    #[serde(default)]
    pub description: Option<String>,
    /// HTTP method: `POST` or `GET`.
    pub method: HttpMethod,
    /// Documented per-user QPS limit, if any.
    #[serde(default)]
    pub qps_limit: Option<u32>,
    /// Whether the call changes state. Mutating calls are never retried once sent.
    pub mutating: bool,
    /// Whether failures can arrive inside an HTTP 200 as `{"Success": false, "Code", "Message"}`.
    #[serde(default)]
    pub failure_in_body: bool,
    /// Request parameters.
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    /// Top-level fields of the success response.
    pub response: Vec<Field>,
    /// Error table.
    #[serde(default)]
    pub errors: Vec<ErrorDef>,
    /// How the operation pages through results.
    #[serde(default)]
    pub paging: Option<Paging>,
    /// Sample success responses.
    #[serde(default)]
    pub examples: Option<Examples>,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HttpMethod {
    /// `POST`.
    POST,
    /// `GET`.
    GET,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// URL query string.
    Query,
    /// `application/x-www-form-urlencoded` body.
    Form,
}

/// Scalar and composite types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeName {
    /// UTF-8 text.
    String,
    /// `true` / `false`.
    Boolean,
    /// 32-bit signed integer.
    Int32,
    /// 64-bit signed integer.
    Int64,
    /// A list (`items` gives the element type).
    Array,
    /// A structure (`fields` gives its members).
    Object,
}

/// How an integer is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Milliseconds since the Unix epoch.
    EpochMillis,
}

/// How a value is spelled on the wire when that differs from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// A number or boolean carried as a JSON string (or a query string, which is always text).
    String,
}

/// A request parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// Name on the wire (UpperCamelCase), e.g. `ClientId`.
    pub name: String,
    /// Where it travels.
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeName,
    /// Whether the caller must give it; a missing required parameter does not compile.
    #[serde(default)]
    pub required: bool,
    /// Whether the value is a secret: `Debug` output shows `***` instead.
    #[serde(default)]
    pub sensitive: bool,
    /// What it means.
    pub description: String,
    /// A sample value.
    #[serde(default)]
    pub example: Option<serde_yaml::Value>,
    /// Shared enumeration the value belongs to (type `string`).
    #[serde(default, rename = "enum")]
    pub enum_ref: Option<String>,
    /// Integer format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Wire spelling.
    #[serde(default)]
    pub wire: Option<Wire>,
    /// Element type (type `array`).
    #[serde(default)]
    pub items: Option<Box<Schema>>,
    /// Smallest allowed value (integers).
    #[serde(default)]
    pub minimum: Option<i64>,
    /// Largest allowed value (integers).
    #[serde(default)]
    pub maximum: Option<i64>,
    /// Shortest allowed length in characters (strings).
    #[serde(default)]
    pub min_length: Option<u64>,
    /// Longest allowed length in characters (strings).
    #[serde(default)]
    pub max_length: Option<u64>,
    /// Most elements allowed (arrays).
    #[serde(default)]
    pub max_items: Option<u64>,
}

/// A response field, or a member of a nested structure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Name on the wire.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeName,
    /// Whether every success response carries it (then it is not an `Option`).
    #[serde(default)]
    pub required: bool,
    /// Whether the value is a secret: `Debug` output shows `***` instead.
    #[serde(default)]
    pub sensitive: bool,
    /// What it means.
    pub description: String,
    /// A sample value.
    #[serde(default)]
    pub example: Option<serde_yaml::Value>,
    /// Shared enumeration (type `string`).
    #[serde(default, rename = "enum")]
    pub enum_ref: Option<String>,
    /// Integer format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Wire spelling.
    #[serde(default)]
    pub wire: Option<Wire>,
    /// Element type (type `array`).
    #[serde(default)]
    pub items: Option<Box<Schema>>,
    /// Members (type `object`).
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
    /// Rust name of the structure (type `object`, or `array` of objects); derived when absent.
    #[serde(default)]
    pub type_name: Option<String>,
}

/// The element type of an array.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Its type.
    #[serde(rename = "type")]
    pub ty: TypeName,
    /// Shared enumeration (type `string`).
    #[serde(default, rename = "enum")]
    pub enum_ref: Option<String>,
    /// Integer format.
    #[serde(default)]
    pub format: Option<Format>,
    /// Wire spelling.
    #[serde(default)]
    pub wire: Option<Wire>,
    /// Members (type `object`).
    #[serde(default)]
    pub fields: Option<Vec<Field>>,
    /// Rust name of the element structure (type `object`).
    #[serde(default)]
    pub type_name: Option<String>,
    /// What one element is.
    #[serde(default)]
    pub description: Option<String>,
}

/// One row of the error table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorDef {
    /// HTTP status the service answers with (checked to be 100 to 599 by validation, so that a
    /// bad one is reported with the file's other problems).
    pub status: i64,
    /// Error code; `%s` stands for a parameter name (`InvalidParameter.%s`).
    pub code: String,
    /// The message the service sends, if documented.
    #[serde(default)]
    pub message: Option<String>,
    /// What it means for the caller.
    pub description: String,
    /// Whether trying again later may succeed.
    #[serde(default)]
    pub retryable: bool,
}

/// Paging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Which of the API's paging styles.
    pub style: PagingStyle,
    /// Request parameter carrying the token or page number.
    pub input: String,
    /// Response path (dot-separated) of the next token (`next_token` style); for the
    /// `page_number` style, of the current page number (informative).
    #[serde(default)]
    pub output: Option<String>,
    /// Response path of the page's items.
    pub items: String,
    /// Request parameter carrying the page size, if any.
    #[serde(default)]
    pub page_size: Option<String>,
    /// Response path of the total item count (page-number styles).
    #[serde(default)]
    pub total: Option<String>,
}

/// Paging style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PagingStyle {
    /// The response carries a token for the next page; absent or repeated means last page.
    NextToken,
    /// A 1-based page number in the request; stops when all `total` items were seen.
    PageNumber,
}

/// Sample responses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// JSON sample.
    #[serde(default)]
    pub json: Option<String>,
    /// XML sample.
    #[serde(default)]
    pub xml: Option<String>,
}
