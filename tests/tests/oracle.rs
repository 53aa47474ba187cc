//! The independent oracle: requests made by this crate's client, captured by the recording server,
//! are re-signed by the official Alibaba Cloud Python SDK (`tests/oracle/verify.py`, run with the
//! venv `cargo xtask oracle` creates) and every signature must match.
//!
//! These tests fail, never skip, when the venv is missing.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use alibabacloud_onsmqtt::types::Tag;
use alibabacloud_onsmqtt::{Client, SignatureVersion};
use onsmqtt_codegen::spec::{HttpMethod, Operation, ParamLocation, Parameter, TypeName};
use onsmqtt_tests::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Recorded, Reply, Server, oracle_verify, parse_urlencoded,
    spec_enum_values, spec_operations,
};

/// The parameters the signature schemes add to the V1 query; never operation parameters.
const V1_COMMON: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// Every signing setup the client supports: V3 and V1, each with plain and STS credentials.
fn setups(server: &Server) -> Vec<(SignatureVersion, bool, Client)> {
    vec![
        (SignatureVersion::V3, false, server.client_with(SignatureVersion::V3)),
        (SignatureVersion::V1, false, server.client_with(SignatureVersion::V1)),
        (SignatureVersion::V3, true, server.sts_client(SignatureVersion::V3)),
        (SignatureVersion::V1, true, server.sts_client(SignatureVersion::V1)),
    ]
}

/// Sends the captured requests through the oracle in one batch and fails listing every mismatch.
fn assert_signatures_match(captured: &[(SignatureVersion, Recorded)]) {
    let inputs: Vec<_> =
        captured.iter().map(|(v, r)| r.to_oracle_json(*v, ACCESS_KEY_ID, ACCESS_KEY_SECRET)).collect();
    let verdicts = oracle_verify(&inputs);
    let failures: Vec<String> = verdicts
        .iter()
        .zip(captured)
        .filter(|(v, _)| !v.ok)
        .map(|(v, (version, r))| {
            format!(
                "{version:?} {} {}\n  error:    {:?}\n  expected: {:?}\n  got:      {:?}",
                r.header("x-acs-action").unwrap_or("?"),
                r.target,
                v.error,
                v.expected,
                v.got
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} signatures differ:\n{}",
        failures.len(),
        captured.len(),
        failures.join("\n")
    );
    assert!(verdicts.iter().all(|v| v.expected.is_some() && v.expected == v.got));
}

// ---------------------------------------------------------------------------------------------
// The oracle itself
// ---------------------------------------------------------------------------------------------

/// Requests the official Python SDK (tea-openapi 0.4.6) sent to a local server, as captured in
/// the reference material: the oracle must accept them, and reject them once altered.
fn official_captures() -> Vec<(SignatureVersion, Recorded)> {
    const UA: &str = "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2";
    let v3 = |action: &str,
              query: &str,
              date: &str,
              nonce: &str,
              form: bool,
              sha: &str,
              sts: bool,
              signed: &str,
              sig: &str,
              body: &str| {
        let mut headers: Vec<(&str, String)> = vec![
            ("Accept-Encoding", "identity".into()),
            ("host", "127.0.0.1:35781".into()),
            ("x-acs-version", "2020-04-20".into()),
            ("x-acs-action", action.into()),
            ("user-agent", UA.into()),
            ("x-acs-date", date.into()),
            ("x-acs-signature-nonce", nonce.into()),
            ("accept", "application/json".into()),
        ];
        if form {
            headers.push(("content-type", "application/x-www-form-urlencoded".into()));
        }
        headers.push(("x-acs-content-sha256", sha.into()));
        headers.push(("x-acs-credentials-provider", if sts { "static_sts" } else { "static_ak" }.into()));
        if sts {
            headers.push(("x-acs-accesskey-id", "testid".into()));
            headers.push(("x-acs-security-token", "sts-token-xyz".into()));
        }
        headers.push((
            "Authorization",
            format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={signed},Signature={sig}"),
        ));
        headers.push(("Content-Length", body.len().to_string()));
        (SignatureVersion::V3, recorded("POST", query, headers, body))
    };
    let v1 = |action: &str, query: &str, form: bool, body: &str| {
        let mut headers: Vec<(&str, String)> = vec![
            ("Accept-Encoding", "identity".into()),
            ("host", "127.0.0.1:35781".into()),
            ("x-acs-version", "2020-04-20".into()),
            ("x-acs-action", action.into()),
            ("user-agent", UA.into()),
        ];
        if form {
            headers.push(("content-type", "application/x-www-form-urlencoded".into()));
        }
        headers.push(("x-acs-credentials-provider", "static_ak".into()));
        headers.push(("Content-Length", body.len().to_string()));
        (SignatureVersion::V1, recorded("POST", query, headers, body))
    };
    const SIGNED: &str = "accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version";
    const EMPTY: &str = onsmqtt_tests::EMPTY_SHA256;
    vec![
        v3(
            "QuerySessionByClientId",
            "ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A",
            "2026-11-25T16:33:53Z",
            "5bada90d77ab75779895acb5101c5bb6",
            false,
            EMPTY,
            false,
            SIGNED,
            "97508021cb3b5124d07de7f86d4ebee99ae5a29b4f4df41ac3fdcbaf25821309",
            "",
        ),
        v3(
            "AddCustomAuthConnectBlack",
            "",
            "2026-11-25T16:33:53Z",
            "7c78a6dcab671f0a7018c132984935a2",
            true,
            "b97d75b476a4bc50ac7d50df0d0c7fd2bab99ae6a1eeb74095e2afa951e2c7f6",
            false,
            "accept;content-type;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version",
            "250109eef808c745479467512e5a2ec5deb7d2883748b92025dd0bbe48bcd937",
            "ClientId=GID+a%2Ab~c%2Fd%2B%C3%A9&InstanceId=mqtt-cn-xx",
        ),
        v3(
            "TagResources",
            "ResourceId.1=GID_a&ResourceId.2=GID_b&ResourceType=GROUP&Tag.1.Key=k1&Tag.1.Value=v+1&Tag.2.Key=k2&Tag.2.Value=v2",
            "2026-11-25T16:33:53Z",
            "630713b9df1291e3469ba1a3cbc58670",
            false,
            EMPTY,
            false,
            SIGNED,
            "1ca1cd17c3e415ed740bc2a666a55fe1e8032a205dbf7c985dce2429c298bc2c",
            "",
        ),
        v3(
            "QuerySessionByClientId",
            "ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A",
            "2026-11-25T16:33:54Z",
            "70ffbbc1bb70163e543b5f1006cd3d3f",
            false,
            EMPTY,
            true,
            "accept;host;user-agent;x-acs-accesskey-id;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version",
            "146fcabceb5b14dcd8bb3567ea7969859a3ebecd79c5308c1dfaadf21e90ae89",
            "",
        ),
        v1(
            "QuerySessionByClientId",
            "Action=QuerySessionByClientId&Format=json&Version=2020-04-20&Timestamp=2026-11-25T16%3A33%3A53Z&SignatureNonce=332459e17d04460b89576c2958e335f9&ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testid&Signature=dXC0YPPl5M5VYUYK6gstV4mKpXo%3D",
            false,
            "",
        ),
        v1(
            "AddCustomAuthConnectBlack",
            "Action=AddCustomAuthConnectBlack&Format=json&Version=2020-04-20&Timestamp=2026-11-25T16%3A33%3A53Z&SignatureNonce=8ac1343be3df9ca9b29dd8bf3c8af14c&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testid&Signature=wlpYxHIAXJHrh7PuOGyOHxmYBXw%3D",
            true,
            "ClientId=GID+a%2Ab~c%2Fd%2B%C3%A9&InstanceId=mqtt-cn-xx",
        ),
        v1(
            "QuerySessionByClientId",
            "Action=QuerySessionByClientId&Format=json&Version=2020-04-20&Timestamp=2026-11-25T16%3A33%3A54Z&SignatureNonce=444b3f664d38fbe7eb431e84e4ce6ff0&ClientId=GID_test%40%40%40test&InstanceId=post-cn-0pp12gl%2A%2A%2A%2A&SecurityToken=sts-token-xyz&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testid&Signature=q3VUfcU%2BqoQc8GXp%2BWI7O6kPnSY%3D",
            false,
            "",
        ),
    ]
}

fn recorded(method: &str, query: &str, headers: Vec<(&str, String)>, body: &str) -> Recorded {
    Recorded {
        index: 0,
        connection: 0,
        received_at: std::time::Instant::now(),
        method: method.to_owned(),
        target: if query.is_empty() { "/".to_owned() } else { format!("/?{query}") },
        path: "/".to_owned(),
        raw_query: query.to_owned(),
        query: parse_urlencoded(query),
        headers: headers.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn oracle_accepts_the_official_sdk_and_rejects_alterations() {
    let captures = official_captures();
    assert_signatures_match(&captures);

    // Any change to what is signed must be caught.
    let mut inputs = Vec::new();
    for (version, r) in &captures {
        // A parameter value changed (the first query parameter, else the form body).
        let mut a = r.clone();
        if let Some((_, v)) = a.query.first_mut() {
            v.push('x');
            a.raw_query = a
                .query
                .iter()
                .map(|(k, v)| {
                    format!("{}={}", onsmqtt_tests::rfc3986_encode(k), onsmqtt_tests::rfc3986_encode(v))
                })
                .collect::<Vec<_>>()
                .join("&");
        } else {
            a.body.extend_from_slice(b"&Extra=1");
        }
        inputs.push(a.to_oracle_json(*version, ACCESS_KEY_ID, ACCESS_KEY_SECRET));
        // Checked with another secret.
        inputs.push(r.to_oracle_json(*version, ACCESS_KEY_ID, "not-the-secret"));
        // Another AccessKey ID.
        inputs.push(r.to_oracle_json(*version, "otherid", ACCESS_KEY_SECRET));
        if *version == SignatureVersion::V3 {
            // A header sent without being signed.
            let mut b = r.clone();
            b.headers.insert(2, ("x-acs-unsigned".to_owned(), "1".to_owned()));
            inputs.push(b.to_oracle_json(*version, ACCESS_KEY_ID, ACCESS_KEY_SECRET));
            // A body that does not match x-acs-content-sha256.
            let mut c = r.clone();
            c.body.push(b' ');
            inputs.push(c.to_oracle_json(*version, ACCESS_KEY_ID, ACCESS_KEY_SECRET));
        }
    }
    let verdicts = oracle_verify(&inputs);
    for (verdict, input) in verdicts.iter().zip(&inputs) {
        assert!(!verdict.ok, "the oracle accepted an altered request: {input}\n{verdict:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// (a) QuerySessionByClientId with awkward values
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn query_session_signatures_match_for_awkward_values() {
    let server = Server::always(Reply::json(
        200,
        r#"{"OnlineStatus": true, "RequestId": "E4581CCF-62AF-44D9-B5B4-D1DBBC0E0000"}"#,
    ))
    .await;
    let values = [
        "GID_test@@@test",
        "with space",
        "star*",
        "tilde~",
        "amp&InstanceId=evil",
        "equals=",
        "plus+",
        "percent%20%",
        "slash/",
        "new\nline",
        "é",
        "阿里云",
        "GID_x@@@ *~&=+%/\n é 阿里云",
        "-_.",
        "",
    ];
    let mut captured = Vec::new();
    for (version, _sts, client) in setups(&server) {
        for value in values {
            let instance = format!("post-cn-{value}");
            client.query_session_by_client_id().client_id(value).instance_id(&instance).send().await.unwrap();
            let req = server.requests().pop().unwrap();
            let params: Vec<_> =
                req.all_params().into_iter().filter(|(k, _)| !V1_COMMON.contains(&k.as_str())).collect();
            assert_eq!(
                params,
                vec![("ClientId".to_owned(), value.to_owned()), ("InstanceId".to_owned(), instance.clone())],
                "{version:?}: {}",
                req.target
            );
            captured.push((version, req));
        }
    }
    assert_eq!(captured.len(), 4 * values.len());
    assert_signatures_match(&captured);
}

// ---------------------------------------------------------------------------------------------
// (b) every operation, every parameter
// ---------------------------------------------------------------------------------------------

/// A value for one parameter of the spec.
#[derive(Clone, Debug)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<String>),
    Objects(Vec<Vec<(String, String)>>),
}

fn awkward(seed: &str) -> String {
    format!("{seed} é/阿里云*~&=+%\n?#")
}

fn value_for(action: &str, p: &Parameter) -> Val {
    match p.ty {
        TypeName::String => {
            if let Some(e) = &p.enum_ref {
                let values = spec_enum_values(e);
                return Val::Str(values.last().expect("an enumeration has values").clone());
            }
            let mut s = awkward(&format!("{}.{action}", p.name));
            if let Some(max) = p.max_length {
                s = s.chars().take(usize::try_from(max).unwrap()).collect();
            }
            Val::Str(s)
        }
        TypeName::Int32 | TypeName::Int64 => {
            let v = match (p.minimum, p.maximum) {
                (Some(min), Some(max)) => (min + max) / 2,
                (Some(min), None) => min + 3,
                (None, Some(max)) => max - 3,
                (None, None) if matches!(p.ty, TypeName::Int64) => 1_650_000_000_123,
                (None, None) => 37,
            };
            Val::Int(v)
        }
        TypeName::Boolean => Val::Bool(true),
        TypeName::Array => {
            let items = p.items.as_ref().expect("arrays have items");
            match items.ty {
                TypeName::Object => {
                    let fields = items.fields.as_ref().expect("object items have fields");
                    Val::Objects(
                        (1..=2)
                            .map(|i| {
                                fields
                                    .iter()
                                    .map(|f| (f.name.clone(), awkward(&format!("{}{i}", f.name))))
                                    .collect()
                            })
                            .collect(),
                    )
                }
                _ => Val::List((1..=2).map(|i| awkward(&format!("{}{i}", p.name))).collect()),
            }
        }
        TypeName::Object => panic!("{action}.{}: object parameters are not sent", p.name),
    }
}

/// What the service must decode from the request: `(wire name, value)` per flattened parameter.
fn flatten(name: &str, v: &Val) -> Vec<(String, String)> {
    match v {
        Val::Str(s) => vec![(name.to_owned(), s.clone())],
        Val::Int(i) => vec![(name.to_owned(), i.to_string())],
        Val::Bool(b) => vec![(name.to_owned(), b.to_string())],
        Val::List(items) => {
            items.iter().enumerate().map(|(i, s)| (format!("{name}.{}", i + 1), s.clone())).collect()
        }
        Val::Objects(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, fields)| {
                fields.iter().map(move |(f, s)| (format!("{name}.{}.{f}", i + 1), s.clone()))
            })
            .collect(),
    }
}

/// The values of one call, handed to the builders by wire name; remembers which were used.
struct Values {
    action: String,
    values: HashMap<String, Val>,
    used: RefCell<BTreeSet<String>>,
}

impl Values {
    fn new(op: &Operation) -> Values {
        let values = op.parameters.iter().map(|p| (p.name.clone(), value_for(&op.name, p))).collect();
        Values { action: op.name.clone(), values, used: RefCell::new(BTreeSet::new()) }
    }

    fn get(&self, name: &str) -> &Val {
        self.used.borrow_mut().insert(name.to_owned());
        self.values.get(name).unwrap_or_else(|| panic!("{} has no parameter {name} in the spec", self.action))
    }

    fn s(&self, name: &str) -> String {
        match self.get(name) {
            Val::Str(s) => s.clone(),
            other => panic!("{}.{name} is {other:?}", self.action),
        }
    }

    fn i64(&self, name: &str) -> i64 {
        match self.get(name) {
            Val::Int(i) => *i,
            other => panic!("{}.{name} is {other:?}", self.action),
        }
    }

    fn i32(&self, name: &str) -> i32 {
        i32::try_from(self.i64(name)).unwrap()
    }

    fn b(&self, name: &str) -> bool {
        match self.get(name) {
            Val::Bool(b) => *b,
            other => panic!("{}.{name} is {other:?}", self.action),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Val::List(l) => l.clone(),
            other => panic!("{}.{name} is {other:?}", self.action),
        }
    }

    fn tags(&self, name: &str) -> Vec<Tag> {
        match self.get(name) {
            Val::Objects(items) => items
                .iter()
                .map(|fields| {
                    let field =
                        |f: &str| fields.iter().find(|(n, _)| n == f).map(|(_, v)| v.clone()).unwrap();
                    Tag::new().key(field("Key")).value(field("Value"))
                })
                .collect(),
            other => panic!("{}.{name} is {other:?}", self.action),
        }
    }
}

/// Makes one call of `action` with every parameter set from `v`.
async fn call(c: &Client, action: &str, v: &Values) -> Result<(), String> {
    macro_rules! run {
        ($builder:expr) => {
            $builder.send().await.map(|_| ()).map_err(|e| format!("{e} / {e:?}"))
        };
    }
    match action {
        "ActiveCaCertificate" => {
            run!(c.active_ca_certificate().mqtt_instance_id(v.s("MqttInstanceId")).sn(v.s("Sn")))
        }
        "ActiveDeviceCertificate" => run!(
            c.active_device_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .device_sn(v.s("DeviceSn"))
                .ca_sn(v.s("CaSn"))
        ),
        "AddCustomAuthConnectBlack" => {
            run!(c.add_custom_auth_connect_black().instance_id(v.s("InstanceId")).client_id(v.s("ClientId")))
        }
        "AddCustomAuthIdentity" => run!(
            c.add_custom_auth_identity()
                .instance_id(v.s("InstanceId"))
                .username(v.s("Username"))
                .secret(v.s("Secret"))
                .identity_type(v.s("IdentityType"))
                .client_id(v.s("ClientId"))
                .sign_mode(v.s("SignMode"))
        ),
        "AddCustomAuthPermission" => run!(
            c.add_custom_auth_permission()
                .instance_id(v.s("InstanceId"))
                .identity_type(v.s("IdentityType"))
                .identity(v.s("Identity"))
                .permit_action(v.s("PermitAction"))
                .effect(v.s("Effect"))
                .topic(v.s("Topic"))
        ),
        "ApplyToken" => run!(
            c.apply_token()
                .resources(v.s("Resources"))
                .instance_id(v.s("InstanceId"))
                .expire_time(v.i64("ExpireTime"))
                .actions(v.s("Actions"))
        ),
        "BatchQuerySessionByClientIds" => run!(
            c.batch_query_session_by_client_ids()
                .instance_id(v.s("InstanceId"))
                .client_id_list(v.list("ClientIdList"))
        ),
        "CloseConnection" => {
            run!(c.close_connection().instance_id(v.s("InstanceId")).client_id(v.s("ClientId")))
        }
        "CreateGroupId" => run!(
            c.create_group_id().group_id(v.s("GroupId")).instance_id(v.s("InstanceId")).tag(v.tags("Tag"))
        ),
        "DeleteCaCertificate" => {
            run!(c.delete_ca_certificate().mqtt_instance_id(v.s("MqttInstanceId")).sn(v.s("Sn")))
        }
        "DeleteCustomAuthConnectBlack" => {
            run!(
                c.delete_custom_auth_connect_black()
                    .instance_id(v.s("InstanceId"))
                    .client_id(v.s("ClientId"))
            )
        }
        "DeleteCustomAuthIdentity" => run!(
            c.delete_custom_auth_identity()
                .instance_id(v.s("InstanceId"))
                .username(v.s("Username"))
                .identity_type(v.s("IdentityType"))
                .client_id(v.s("ClientId"))
        ),
        "DeleteCustomAuthPermission" => run!(
            c.delete_custom_auth_permission()
                .instance_id(v.s("InstanceId"))
                .identity_type(v.s("IdentityType"))
                .identity(v.s("Identity"))
                .topic(v.s("Topic"))
        ),
        "DeleteDeviceCertificate" => run!(
            c.delete_device_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .device_sn(v.s("DeviceSn"))
                .ca_sn(v.s("CaSn"))
        ),
        "DeleteGroupId" => run!(c.delete_group_id().group_id(v.s("GroupId")).instance_id(v.s("InstanceId"))),
        "DisasterDowngrade" => run!(
            c.disaster_downgrade()
                .instance_id(v.s("InstanceId"))
                .downgrade_instance_id(v.s("DowngradeInstanceId"))
        ),
        "DisasterRecovery" => run!(
            c.disaster_recovery()
                .instance_id(v.s("InstanceId"))
                .recovery_instance_id(v.s("RecoveryInstanceId"))
        ),
        "GetCaCertificate" => {
            run!(c.get_ca_certificate().mqtt_instance_id(v.s("MqttInstanceId")).sn(v.s("Sn")))
        }
        "GetDeviceCertificate" => run!(
            c.get_device_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .device_sn(v.s("DeviceSn"))
                .ca_sn(v.s("CaSn"))
        ),
        "GetDeviceCredential" => {
            run!(c.get_device_credential().client_id(v.s("ClientId")).instance_id(v.s("InstanceId")))
        }
        "GetRegisterCode" => run!(c.get_register_code().mqtt_instance_id(v.s("MqttInstanceId"))),
        "InactivateCaCertificate" => {
            run!(c.inactivate_ca_certificate().mqtt_instance_id(v.s("MqttInstanceId")).sn(v.s("Sn")))
        }
        "InactivateDeviceCertificate" => run!(
            c.inactivate_device_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .device_sn(v.s("DeviceSn"))
                .ca_sn(v.s("CaSn"))
        ),
        "ListCaCertificate" => run!(
            c.list_ca_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .page_no(v.i32("PageNo"))
                .page_size(v.i32("PageSize"))
        ),
        "ListDeviceCertificate" => run!(
            c.list_device_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .page_no(v.i32("PageNo"))
                .page_size(v.i32("PageSize"))
        ),
        "ListDeviceCertificateByCaSn" => run!(
            c.list_device_certificate_by_ca_sn()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .page_no(v.i32("PageNo"))
                .page_size(v.i32("PageSize"))
                .ca_sn(v.s("CaSn"))
        ),
        "ListDeviceCredentialClientId" => run!(
            c.list_device_credential_client_id()
                .instance_id(v.s("InstanceId"))
                .group_id(v.s("GroupId"))
                .page_no(v.i32("PageNo"))
                .page_size(v.i32("PageSize"))
                .next_token(v.s("NextToken"))
        ),
        "ListGroupId" => run!(c.list_group_id().instance_id(v.s("InstanceId")).tag(v.tags("Tag"))),
        "ListInstances" => run!(c.list_instances().tags(v.s("Tags"))),
        "ListTagResources" => run!(
            c.list_tag_resources()
                .resource_type(v.s("ResourceType"))
                .resource_id(v.list("ResourceId"))
                .tag(v.tags("Tag"))
                .next_token(v.s("NextToken"))
        ),
        "QueryCustomAuthConnectBlack" => run!(
            c.query_custom_auth_connect_black()
                .instance_id(v.s("InstanceId"))
                .client_id(v.s("ClientId"))
                .next_token(v.s("NextToken"))
                .size(v.i32("Size"))
        ),
        "QueryCustomAuthIdentity" => run!(
            c.query_custom_auth_identity()
                .instance_id(v.s("InstanceId"))
                .username(v.s("Username"))
                .identity_type(v.s("IdentityType"))
                .client_id(v.s("ClientId"))
                .next_token(v.s("NextToken"))
                .size(v.i32("Size"))
        ),
        "QueryCustomAuthPermission" => run!(
            c.query_custom_auth_permission()
                .instance_id(v.s("InstanceId"))
                .identity_type(v.s("IdentityType"))
                .identity(v.s("Identity"))
                .topic(v.s("Topic"))
                .next_token(v.s("NextToken"))
                .size(v.i32("Size"))
        ),
        "QueryMqttTraceDevice" => run!(
            c.query_mqtt_trace_device()
                .mqtt_region_id(v.s("MqttRegionId"))
                .instance_id(v.s("InstanceId"))
                .reverse(v.b("Reverse"))
                .client_id(v.s("ClientId"))
                .begin_time(v.i64("BeginTime"))
                .end_time(v.i64("EndTime"))
                .current_page(v.i32("CurrentPage"))
                .page_size(v.i32("PageSize"))
        ),
        "QueryMqttTraceMessageOfClient" => run!(
            c.query_mqtt_trace_message_of_client()
                .mqtt_region_id(v.s("MqttRegionId"))
                .instance_id(v.s("InstanceId"))
                .client_id(v.s("ClientId"))
                .begin_time(v.i64("BeginTime"))
                .end_time(v.i64("EndTime"))
                .current_page(v.i32("CurrentPage"))
                .page_size(v.i32("PageSize"))
                .reverse(v.b("Reverse"))
        ),
        "QueryMqttTraceMessagePublish" => run!(
            c.query_mqtt_trace_message_publish()
                .mqtt_region_id(v.s("MqttRegionId"))
                .instance_id(v.s("InstanceId"))
                .msg_id(v.s("MsgId"))
                .begin_time(v.i64("BeginTime"))
                .end_time(v.i64("EndTime"))
        ),
        "QueryMqttTraceMessageSubscribe" => run!(
            c.query_mqtt_trace_message_subscribe()
                .mqtt_region_id(v.s("MqttRegionId"))
                .instance_id(v.s("InstanceId"))
                .reverse(v.b("Reverse"))
                .client_id(v.s("ClientId"))
                .begin_time(v.i64("BeginTime"))
                .end_time(v.i64("EndTime"))
                .current_page(v.i32("CurrentPage"))
                .page_size(v.i32("PageSize"))
                .msg_id(v.s("MsgId"))
        ),
        "QuerySessionByClientId" => {
            run!(c.query_session_by_client_id().client_id(v.s("ClientId")).instance_id(v.s("InstanceId")))
        }
        "QueryToken" => run!(c.query_token().token(v.s("Token")).instance_id(v.s("InstanceId"))),
        "RefreshDeviceCredential" => {
            run!(c.refresh_device_credential().client_id(v.s("ClientId")).instance_id(v.s("InstanceId")))
        }
        "RegisterCaCertificate" => run!(
            c.register_ca_certificate()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .ca_name(v.s("CaName"))
                .ca_content(v.s("CaContent"))
                .verification_content(v.s("VerificationContent"))
        ),
        "RegisterDeviceCredential" => {
            run!(c.register_device_credential().client_id(v.s("ClientId")).instance_id(v.s("InstanceId")))
        }
        "RevokeToken" => run!(c.revoke_token().token(v.s("Token")).instance_id(v.s("InstanceId"))),
        "SendMessage" => run!(
            c.send_message()
                .mqtt_topic(v.s("MqttTopic"))
                .instance_id(v.s("InstanceId"))
                .payload(v.s("Payload"))
        ),
        "SetSniConfig" => run!(
            c.set_sni_config()
                .mqtt_instance_id(v.s("MqttInstanceId"))
                .default_certificate(v.s("DefaultCertificate"))
                .sni_config(v.s("SniConfig"))
        ),
        "TagResources" => run!(
            c.tag_resources()
                .resource_type(v.s("ResourceType"))
                .resource_id(v.list("ResourceId"))
                .tag(v.tags("Tag"))
        ),
        "UnRegisterDeviceCredential" => {
            run!(c.un_register_device_credential().client_id(v.s("ClientId")).instance_id(v.s("InstanceId")))
        }
        "UntagResources" => run!(
            c.untag_resources()
                .tag_key(v.list("TagKey"))
                .resource_id(v.list("ResourceId"))
                .resource_type(v.s("ResourceType"))
                .all(v.b("All"))
        ),
        "UpdateCustomAuthIdentity" => run!(
            c.update_custom_auth_identity()
                .instance_id(v.s("InstanceId"))
                .username(v.s("Username"))
                .secret(v.s("Secret"))
                .identity_type(v.s("IdentityType"))
                .client_id(v.s("ClientId"))
                .sign_mode(v.s("SignMode"))
        ),
        "UpdateCustomAuthPermission" => run!(
            c.update_custom_auth_permission()
                .instance_id(v.s("InstanceId"))
                .identity_type(v.s("IdentityType"))
                .identity(v.s("Identity"))
                .permit_action(v.s("PermitAction"))
                .effect(v.s("Effect"))
                .topic(v.s("Topic"))
        ),
        other => panic!("this test has no call for {other}: add it to `call`"),
    }
}

/// The action a request names (`x-acs-action`, or the V1 `Action` parameter).
fn action_of(req: &Recorded) -> String {
    req.header("x-acs-action").or_else(|| req.query_param("Action")).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_operation_signs_like_the_official_sdk_and_sends_every_parameter_intact() {
    let ops = spec_operations();
    assert_eq!(ops.len(), 50, "the API has 50 operations");

    // Each operation is answered with the JSON example of its spec: that all 50 decode is checked
    // on the way.
    let examples: HashMap<String, String> = ops
        .iter()
        .map(|op| {
            let json = op.examples.as_ref().and_then(|e| e.json.clone());
            let json = json.filter(|j| serde_json::from_str::<serde_json::Value>(j).is_ok());
            (op.name.clone(), json.unwrap_or_else(|| r#"{"RequestId":"x"}"#.to_owned()))
        })
        .collect();
    // Operations without a usable JSON example (absent or not JSON) get `{"RequestId":"x"}` and
    // are reported at the end.
    let missing: Vec<_> = ops
        .iter()
        .filter(|op| {
            let json = op.examples.as_ref().and_then(|e| e.json.as_ref());
            json.is_none_or(|j| serde_json::from_str::<serde_json::Value>(j).is_err())
        })
        .map(|op| op.name.as_str())
        .collect();
    let server = Server::with_handler(move |req| match examples.get(&action_of(req)) {
        Some(body) => Reply::json(200, body.clone()),
        None => Reply::error(404, "InvalidAction.NotFound", "no such action", "R-404"),
    })
    .await;

    let mut captured = Vec::new();
    let mut problems = Vec::new();
    for (version, sts, client) in setups(&server) {
        for op in &ops {
            let values = Values::new(op);
            let before = server.request_count();
            if let Err(e) = call(&client, &op.name, &values).await {
                problems.push(format!("{} ({version:?}, sts {sts}): the call failed: {e}", op.name));
            }
            // Every parameter of the spec was given.
            let unused: Vec<_> =
                values.values.keys().filter(|k| !values.used.borrow().contains(*k)).collect();
            assert!(unused.is_empty(), "{}: the test's call leaves out {unused:?}", op.name);

            let seen = server.requests();
            assert_eq!(seen.len(), before + 1, "{}: one request per call", op.name);
            let req = seen[before].clone();
            problems.extend(check_wire(op, &values, version, &req));
            captured.push((version, req));
        }
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert!(missing.is_empty(), "operations without a valid JSON example in the spec: {missing:?}");
    assert_eq!(captured.len(), 200);
    assert_signatures_match(&captured);
}

/// What the server saw must be exactly what was given: method, action, each parameter in its
/// place (query or form body), decoded to the same value, and nothing else.
fn check_wire(op: &Operation, values: &Values, version: SignatureVersion, req: &Recorded) -> Vec<String> {
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{} ({version:?}): {what}", op.name));
    let method = match op.method {
        HttpMethod::GET => "GET",
        HttpMethod::POST => "POST",
    };
    if req.method != method {
        problem(format!("sent as {} instead of {method}", req.method));
    }
    if req.path != "/" {
        problem(format!("path {}", req.path));
    }
    if action_of(req) != op.name {
        problem(format!("names the action {:?}", action_of(req)));
    }
    if version == SignatureVersion::V1 && req.query_param("Action") != Some(op.name.as_str()) {
        problem("V1 without the Action parameter".to_owned());
    }

    let mut want_query = Vec::new();
    let mut want_form = Vec::new();
    for p in &op.parameters {
        let flat = flatten(&p.name, &values.values[&p.name]);
        // A GET has no body: its form parameters (there are none today) would travel in the query.
        if p.location == ParamLocation::Form && op.method == HttpMethod::POST {
            want_form.extend(flat);
        } else {
            want_query.extend(flat);
        }
    }
    want_query.sort();
    want_form.sort();
    let mut got_query: Vec<_> = req
        .query
        .iter()
        .filter(|(k, _)| version == SignatureVersion::V3 || !V1_COMMON.contains(&k.as_str()))
        .cloned()
        .collect();
    got_query.sort();
    let mut got_form = if req.body.is_empty() { Vec::new() } else { req.form() };
    got_form.sort();
    if got_query != want_query {
        problem(format!("query {got_query:?}\n    expected {want_query:?}"));
    }
    if got_form != want_form {
        problem(format!("form body {got_form:?}\n    expected {want_form:?}"));
    }
    if !want_form.is_empty() && !req.is_form() {
        problem(format!("a form body with content-type {:?}", req.header("content-type")));
    }
    problems
}

/// The STS `AssumeRole` calls the RAM-role credential provider makes are signed by our own V1
/// signer; the official SDK must agree with them too, for a plain source key and for a chained
/// source that carries a security token, with awkward values in the role parameters and a
/// policy document with spaces, newlines and non-ASCII text (sent in the POST form body, where
/// the official library sends a GET query: both are signed over the same parameters).
#[tokio::test]
async fn sts_assume_role_signs_like_the_official_sdk() {
    use alibabacloud_onsmqtt::{Credentials, ProvideCredentials, RamRoleArnProvider};

    let server = Server::with_handler(|_| {
        Reply::json(
            200,
            r#"{"RequestId":"r","Credentials":{"AccessKeyId":"STS.id","AccessKeySecret":"sts-secret",
               "SecurityToken":"sts-token","Expiration":"2099-01-01T00:00:00Z"},
               "AssumedRoleUser":{"Arn":"acs:ram::1:role/r/s","AssumedRoleId":"1:s"}}"#,
        )
    })
    .await;
    const COMPACT: &str =
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"mq:*","Resource":"*"}]}"#;
    const SPACED: &str = "{\n  \"Version\": \"1\",\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"mq:Pub\", \
                          \"mq:Sub\"], \"Resource\": \"acs:mq:*:*:équipe données/消息 主题 ✓\"}]\n}";
    let sources = [
        (Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET), COMPACT),
        (Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET).with_security_token("chained-token/+="), COMPACT),
        (Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET), SPACED),
    ];
    for (source, policy) in sources {
        let provider = RamRoleArnProvider::builder()
            .source_credentials(source)
            .role_arn("acs:ram::123456:role/mqtt admin")
            .role_session_name("session-é*~&=")
            .policy(policy)
            .external_id("ext id+1")
            .sts_endpoint(server.endpoint())
            .build()
            .unwrap();
        let creds = provider.provide_credentials().await.unwrap();
        assert_eq!(creds.access_key_id(), "STS.id");
    }
    let captured: Vec<_> = server.requests().into_iter().map(|r| (SignatureVersion::V1, r)).collect();
    assert_eq!(captured.len(), 3);
    for ((_, r), policy) in captured.iter().zip([COMPACT, COMPACT, SPACED]) {
        let params: HashMap<String, String> = r.all_params().into_iter().collect();
        assert_eq!(params.get("Action").map(String::as_str), Some("AssumeRole"));
        assert_eq!(params.get("RoleSessionName").map(String::as_str), Some("session-é*~&="));
        // The policy travels intact, in the form body only.
        assert_eq!(params.get("Policy").map(String::as_str), Some(policy));
        assert_eq!(r.query_param("Policy"), None);
        assert_eq!(r.method, "POST");
    }
    assert_eq!(
        captured[1].1.all_params().iter().find(|(k, _)| k == "SecurityToken").map(|(_, v)| v.as_str()),
        Some("chained-token/+=")
    );
    assert_signatures_match(&captured);
}
