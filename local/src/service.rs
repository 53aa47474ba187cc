//! The behaviour of every operation, on the state of [`crate::state`]: the [`Handler`] the
//! generated dispatcher calls.
//!
//! Where the documentation names no code for a case, the choice is noted at the operation
//! (`Choice:`). Pages: the certificate lists page by `PageNo`/`PageSize` (1-based, `Total` is the
//! count of all), the custom-authentication queries, `ListDeviceCredentialClientId` and
//! `ListTagResources` by next-token (the token names the last key of the page, so a page never
//! repeats or skips an entry that existed before and after), the trace queries by
//! `CurrentPage`/`PageSize`.

use crate::broker::Broker;
use crate::generated::Handler;
use crate::generated::operations as ops;
use crate::generated::types::{
    CaCertificate, DeviceCertificate, DeviceCertificatePage, DeviceCredential, Effect, IdentityType, MqttTag,
    PermitAction, SignMode, TraceMessageEvent,
};
use crate::server::{ApiError, Context, OtherError};
use crate::state::{self, Instance, State, now_ms, random_hex};
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most custom-authentication entries (identities, permissions, blacklist) per instance; more is
/// `Customauth.over.capacity`.
pub const CUSTOM_AUTH_CAPACITY: usize = 10_000;
/// Most CA certificates per instance; more is `CaNumExceed`.
pub const MAX_CA: usize = 10;
/// Most days ahead a token may expire (`InvalidParameter.ExpireTime` beyond).
pub const TOKEN_MAX_DAYS: i64 = 30;
/// Entries per `ListTagResources` page (the call has no page-size parameter).
pub const TAG_PAGE: usize = 50;

/// The local service: state, optional store, and the broker that answers for live clients.
pub struct Local {
    state: Mutex<State>,
    store: Option<Store>,
    broker: Arc<dyn Broker>,
}

/// Why an instance cannot be used.
enum Miss {
    NotFound,
    NotOwner,
}

const OK: &str = "operation success.";

impl Local {
    /// A service over `state`, saving every change to `store` when given.
    pub fn new(state: State, store: Option<Store>, broker: Arc<dyn Broker>) -> Self {
        Self { state: Mutex::new(state), store, broker }
    }

    /// Reads the state (for the broker's lookups).
    pub(crate) fn read_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic never happens while the lock is held (no code here panics), but a poisoned lock
        // still holds consistent data: every change is validated before it is made.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> State {
        self.lock().clone()
    }

    /// Reads the state.
    fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self.lock())
    }

    /// Changes the state; the change is saved before the call is acknowledged.
    fn write<T, E: OtherError>(&self, f: impl FnOnce(&mut State) -> Result<T, E>) -> Result<T, E> {
        let mut st = self.lock();
        let out = f(&mut st)?;
        if let Some(store) = &self.store {
            store.save(&st).map_err(|e| {
                E::other(ApiError::new(500, "InternalError", format!("cannot save the state: {e}")))
            })?;
        }
        Ok(out)
    }

    /// Adds a device certificate signed by a registered CA, as a device connecting with it would
    /// (the API itself has no call that registers device certificates). Returns its serial number.
    pub fn register_device_certificate(&self, instance_id: &str, pem: &str) -> Result<String, ApiError> {
        let dev = crate::certs::parse(pem).map_err(|e| ApiError::new(400, "CertificateContentError", e))?;
        self.write(|st: &mut State| {
            let inst = st
                .instances
                .get_mut(instance_id)
                .ok_or_else(|| ApiError::new(500, "MqttInstanceNotFound", "no such instance"))?;
            let ca_sn = inst
                .ca_certs
                .iter()
                .find(|(_, ca)| crate::certs::signed_by(pem, &ca.content))
                .map(|(sn, _)| sn.clone())
                .ok_or_else(|| {
                    ApiError::new(400, "CertificateContentError", "no registered CA signed the certificate")
                })?;
            inst.device_certs.insert(
                format!("{ca_sn}/{}", dev.sn),
                state::DeviceCert {
                    name: dev.common_name,
                    content: pem.to_owned(),
                    valid_begin: dev.not_before,
                    valid_end: dev.not_after,
                    active: true,
                },
            );
            Ok::<_, ApiError>(dev.sn)
        })
    }

    /// Records a trace step (the broker reports connections, publishes and deliveries here).
    pub fn record_trace(&self, trace: state::Trace) {
        let mut st = self.lock();
        st.traces.push(trace);
        let excess = st.traces.len().saturating_sub(state::MAX_TRACES);
        st.traces.drain(..excess);
    }
}

impl OtherError for ApiError {
    fn other(e: ApiError) -> Self {
        e
    }
}

fn instance<'a>(st: &'a State, ctx: &Context, id: &str) -> Result<&'a Instance, Miss> {
    match st.instances.get(id) {
        Some(i) if i.owner == ctx.account => Ok(i),
        Some(_) => Err(Miss::NotOwner),
        None => Err(Miss::NotFound),
    }
}

fn instance_mut<'a>(st: &'a mut State, ctx: &Context, id: &str) -> Result<&'a mut Instance, Miss> {
    match st.instances.get_mut(id) {
        Some(i) if i.owner == ctx.account => Ok(i),
        Some(_) => Err(Miss::NotOwner),
        None => Err(Miss::NotFound),
    }
}

fn no_instance(id: &str) -> String {
    format!("The instance {id} does not exist or does not belong to the caller.")
}

/// `MqttInstanceNotFound` / `MqttOwnerCheckError`, as the certificate calls answer.
macro_rules! cert_instance {
    ($err:ident, $miss:expr, $id:expr) => {
        match $miss {
            Miss::NotFound => $err::MqttInstanceNotFound(no_instance($id)),
            Miss::NotOwner => $err::MqttOwnerCheckError(no_instance($id)),
        }
    };
}

/// `InstancePermissionCheckFailed` for both (the calls that have no not-found code).
macro_rules! perm_instance {
    ($err:ident, $id:expr) => {
        |_: Miss| $err::InstancePermissionCheckFailed(no_instance($id))
    };
}

fn invalid(parameter: &str, message: impl Into<String>) -> (String, String) {
    (parameter.to_owned(), message.into())
}

macro_rules! invalid_param {
    ($err:ident, $p:expr, $m:expr) => {{
        let (parameter, message) = invalid($p, $m);
        $err::InvalidParameter { parameter, message }
    }};
}

/// `GroupId@@@DeviceId`: the group part.
fn group_of(client_id: &str) -> Option<&str> {
    let (group, device) = client_id.split_once("@@@")?;
    (!group.is_empty() && !device.is_empty() && client_id.len() <= 64).then_some(group)
}

fn valid_group_id(g: &str) -> bool {
    (g.starts_with("GID_") || g.starts_with("GID-"))
        && (7..=64).contains(&g.len())
        && g.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn tags_out(tags: &BTreeMap<String, String>) -> Vec<MqttTag> {
    tags.iter().map(|(k, v)| MqttTag { tag_key: Some(k.clone()), tag_value: Some(v.clone()) }).collect()
}

/// One next-token page of `items` (sorted by key), after the key the token names.
fn token_page<T: Clone>(
    items: impl Iterator<Item = (String, T)>,
    token: Option<&str>,
    size: usize,
) -> Result<(Vec<T>, Option<String>), ()> {
    let after = match token {
        Some(t) if !t.is_empty() => Some(state::decode_token(t).ok_or(())?),
        _ => None,
    };
    let mut page = Vec::new();
    let mut last = None;
    let mut more = false;
    for (k, v) in items.filter(|(k, _)| after.as_ref().is_none_or(|a| k > a)) {
        if page.len() == size {
            more = true;
            break;
        }
        last = Some(k);
        page.push(v);
    }
    Ok((page, if more { last.map(|k| state::encode_token(&k)) } else { None }))
}

/// Page `no` (1-based) of `size` items.
fn number_page<T: Clone>(items: &[T], no: i32, size: i32) -> Vec<T> {
    let (no, size) = (usize::try_from(no.max(1)).unwrap_or(1), usize::try_from(size.max(1)).unwrap_or(1));
    items.iter().skip((no - 1).saturating_mul(size)).take(size).cloned().collect()
}

fn ca_out(sn: &str, ca: &state::CaCert) -> CaCertificate {
    CaCertificate {
        registration_code: Some(ca.registration_code.clone()),
        ca_name: Some(ca.name.clone()),
        sn: Some(sn.to_owned()),
        ca_content: Some(ca.content.clone()),
        verification_content: Some(ca.verification.clone()),
        valid_begin: Some(ca.valid_begin),
        valid_end: Some(ca.valid_end),
        status: Some(if ca.active { "1" } else { "0" }.to_owned()),
    }
}

fn device_cert_out(key: &str, d: &state::DeviceCert) -> DeviceCertificate {
    let (ca_sn, sn) = key.split_once('/').unwrap_or(("", key));
    DeviceCertificate {
        valid_begin: Some(d.valid_begin),
        valid_end: Some(d.valid_end),
        device_sn: Some(sn.to_owned()),
        device_name: Some(d.name.clone()),
        device_content: Some(d.content.clone()),
        ca_sn: Some(ca_sn.to_owned()),
        status: Some(if d.active { "1" } else { "0" }.to_owned()),
    }
}

fn credential_out(instance_id: &str, client_id: &str, c: &state::DeviceCredential) -> DeviceCredential {
    DeviceCredential {
        update_time: Some(c.update_time),
        device_access_key_id: Some(c.access_key_id.clone()),
        create_time: Some(c.create_time),
        instance_id: Some(instance_id.to_owned()),
        device_access_key_secret: Some(c.access_key_secret.clone()),
        client_id: Some(client_id.to_owned()),
    }
}

fn trace_time(ms: i64) -> String {
    // Local date-time text with milliseconds, as the service shows it; the local service uses UTC.
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn trace_event(t: &state::Trace) -> TraceMessageEvent {
    TraceMessageEvent {
        time: Some(trace_time(t.time)),
        action: Some(t.action.clone()),
        action_code: Some(t.action_code.clone()),
        action_info: Some(t.action_info.clone()),
        msg_id: Some(t.msg_id.clone()),
        client_id: Some(t.client_id.clone()),
    }
}

fn identity_key(t: &str, name: &str) -> String {
    format!("{t}/{name}")
}

fn permission_key(t: &str, identity: &str, topic: &str) -> String {
    format!("{t}/{identity}/{topic}")
}

fn custom_auth_count(i: &Instance) -> usize {
    i.identities.len() + i.permissions.len() + i.blacklist.len()
}

/// Only `USER` and `CLIENT` are identity types.
fn known_identity_type(t: &IdentityType) -> bool {
    matches!(t, IdentityType::User | IdentityType::Client)
}

impl Handler for Local {
    async fn active_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::active_ca_certificate::ActiveCaCertificateRequest,
    ) -> Result<
        ops::active_ca_certificate::ActiveCaCertificateOutput,
        ops::active_ca_certificate::ActiveCaCertificateError,
    > {
        use ops::active_ca_certificate::{ActiveCaCertificateError as E, ActiveCaCertificateOutput as O};
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let ca = inst.ca_certs.get_mut(&r.sn).ok_or_else(|| {
                E::FindCaBySnError(format!("No CA certificate has the serial number {}.", r.sn))
            })?;
            ca.active = true;
            Ok(O { sn: r.sn.clone(), ..O::default() })
        })
    }

    async fn active_device_certificate(
        &self,
        ctx: &Context,
        r: ops::active_device_certificate::ActiveDeviceCertificateRequest,
    ) -> Result<
        ops::active_device_certificate::ActiveDeviceCertificateOutput,
        ops::active_device_certificate::ActiveDeviceCertificateError,
    > {
        use ops::active_device_certificate::{
            ActiveDeviceCertificateError as E, ActiveDeviceCertificateOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let d = inst.device_certs.get_mut(&format!("{}/{}", r.ca_sn, r.device_sn)).ok_or_else(|| {
                E::FindDeviceBySnError(format!("No device certificate {} under CA {}.", r.device_sn, r.ca_sn))
            })?;
            d.active = true;
            Ok(O { device_sn: r.device_sn.clone(), ..O::default() })
        })
    }

    async fn add_custom_auth_connect_black(
        &self,
        ctx: &Context,
        r: ops::add_custom_auth_connect_black::AddCustomAuthConnectBlackRequest,
    ) -> Result<
        ops::add_custom_auth_connect_black::AddCustomAuthConnectBlackOutput,
        ops::add_custom_auth_connect_black::AddCustomAuthConnectBlackError,
    > {
        use ops::add_custom_auth_connect_black::{
            AddCustomAuthConnectBlackError as E, AddCustomAuthConnectBlackOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            if r.client_id.is_empty() {
                return Err(invalid_param!(E, "ClientId", "The client ID is empty."));
            }
            // Choice: adding a client ID that is already refused is a duplicate, InvalidParameter.ClientId.
            if inst.blacklist.contains_key(&r.client_id) {
                return Err(invalid_param!(E, "ClientId", "The client ID is already refused."));
            }
            if custom_auth_count(inst) >= CUSTOM_AUTH_CAPACITY {
                return Err(E::CustomauthOverCapacity(
                    "The instance holds as many custom-authentication entries as it may.".into(),
                ));
            }
            inst.blacklist.insert(r.client_id.clone(), ());
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn add_custom_auth_identity(
        &self,
        ctx: &Context,
        r: ops::add_custom_auth_identity::AddCustomAuthIdentityRequest,
    ) -> Result<
        ops::add_custom_auth_identity::AddCustomAuthIdentityOutput,
        ops::add_custom_auth_identity::AddCustomAuthIdentityError,
    > {
        use ops::add_custom_auth_identity::{
            AddCustomAuthIdentityError as E, AddCustomAuthIdentityOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let (key, ident) =
                new_identity(&r.identity_type, &r.username, r.client_id.as_deref(), &r.secret, &r.sign_mode)
                    .map_err(|(p, m)| invalid_param!(E, &p, m))?;
            if inst.identities.contains_key(&key) {
                return Err(invalid_param!(
                    E,
                    if r.identity_type == IdentityType::Client { "ClientId" } else { "Username" },
                    "The identity exists already."
                ));
            }
            if custom_auth_count(inst) >= CUSTOM_AUTH_CAPACITY {
                return Err(E::CustomauthOverCapacity(
                    "The instance holds as many custom-authentication entries as it may.".into(),
                ));
            }
            inst.identities.insert(key, ident);
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn add_custom_auth_permission(
        &self,
        ctx: &Context,
        r: ops::add_custom_auth_permission::AddCustomAuthPermissionRequest,
    ) -> Result<
        ops::add_custom_auth_permission::AddCustomAuthPermissionOutput,
        ops::add_custom_auth_permission::AddCustomAuthPermissionError,
    > {
        use ops::add_custom_auth_permission::{
            AddCustomAuthPermissionError as E, AddCustomAuthPermissionOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let p = new_permission(&r.identity_type, &r.identity, &r.topic, &r.permit_action, &r.effect)
                .map_err(|(p, m)| invalid_param!(E, &p, m))?;
            let key = permission_key(&p.identity_type, &p.identity, &p.topic);
            if inst.permissions.contains_key(&key) {
                return Err(invalid_param!(
                    E,
                    "Topic",
                    "A permission for this identity and topic exists already."
                ));
            }
            if custom_auth_count(inst) >= CUSTOM_AUTH_CAPACITY {
                return Err(E::CustomauthOverCapacity(
                    "The instance holds as many custom-authentication entries as it may.".into(),
                ));
            }
            inst.permissions.insert(key, p);
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn apply_token(
        &self,
        ctx: &Context,
        r: ops::apply_token::ApplyTokenRequest,
    ) -> Result<ops::apply_token::ApplyTokenOutput, ops::apply_token::ApplyTokenError> {
        use ops::apply_token::{ApplyTokenError as E, ApplyTokenOutput as O};
        let now = now_ms();
        if r.expire_time <= now || r.expire_time > now + TOKEN_MAX_DAYS * 86_400_000 {
            return Err(invalid_param!(
                E,
                "ExpireTime",
                format!("The expiry time must lie in the next {TOKEN_MAX_DAYS} days.")
            ));
        }
        let actions: Vec<String> = r.actions.split(',').map(|a| a.trim().to_owned()).collect();
        if actions.is_empty() || actions.iter().any(|a| a != "R" && a != "W") {
            return Err(invalid_param!(E, "Actions", "Actions are R, W or R,W."));
        }
        let resources: Vec<String> =
            r.resources.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
        if resources.is_empty() {
            return Err(invalid_param!(E, "Resources", "At least one topic is needed."));
        }
        self.write(|st| {
            instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            use base64::Engine;
            let token = base64::engine::general_purpose::STANDARD.encode(random_hex(48));
            st.tokens.insert(
                token.clone(),
                state::Token {
                    instance_id: r.instance_id.clone(),
                    resources,
                    actions,
                    expire_time: r.expire_time,
                    revoked: false,
                },
            );
            Ok(O { token, ..O::default() })
        })
    }

    async fn batch_query_session_by_client_ids(
        &self,
        ctx: &Context,
        r: ops::batch_query_session_by_client_ids::BatchQuerySessionByClientIdsRequest,
    ) -> Result<
        ops::batch_query_session_by_client_ids::BatchQuerySessionByClientIdsOutput,
        ops::batch_query_session_by_client_ids::BatchQuerySessionByClientIdsError,
    > {
        use ops::batch_query_session_by_client_ids::{
            BatchQuerySessionByClientIdsError as E, BatchQuerySessionByClientIdsOutput as O,
            ClientOnlineStatus,
        };
        self.read(|st| {
            instance(st, ctx, &r.instance_id).map(|_| ()).map_err(perm_instance!(E, &r.instance_id))
        })?;
        let online_status_list = r
            .client_id_list
            .iter()
            .map(|c| ClientOnlineStatus {
                online_status: Some(self.broker.is_online(&r.instance_id, c)),
                client_id: Some(c.clone()),
            })
            .collect();
        Ok(O { online_status_list, ..O::default() })
    }

    async fn close_connection(
        &self,
        ctx: &Context,
        r: ops::close_connection::CloseConnectionRequest,
    ) -> Result<ops::close_connection::CloseConnectionOutput, ops::close_connection::CloseConnectionError>
    {
        use ops::close_connection::{CloseConnectionError as E, CloseConnectionOutput as O};
        self.read(|st| {
            instance(st, ctx, &r.instance_id).map(|_| ()).map_err(perm_instance!(E, &r.instance_id))
        })?;
        // Closing a client that is not connected succeeds: afterwards it is not connected.
        self.broker.close_connection(&r.instance_id, &r.client_id).await;
        Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
    }

    async fn create_group_id(
        &self,
        ctx: &Context,
        r: ops::create_group_id::CreateGroupIdRequest,
    ) -> Result<ops::create_group_id::CreateGroupIdOutput, ops::create_group_id::CreateGroupIdError> {
        use ops::create_group_id::{CreateGroupIdError as E, CreateGroupIdOutput as O};
        if !valid_group_id(&r.group_id) {
            return Err(E::ParameterFieldCheckFailed(
                "A group ID starts with GID_ or GID-, has 7 to 64 characters: letters, digits, _ and -."
                    .into(),
            ));
        }
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(|m| match m {
                Miss::NotFound => E::InstanceNotFound(no_instance(&r.instance_id)),
                Miss::NotOwner => E::InstancePermissionCheckFailed(no_instance(&r.instance_id)),
            })?;
            if inst.groups.contains_key(&r.group_id) {
                return Err(E::GroupIdAlreadyExsited(format!("The group ID {} exists already.", r.group_id)));
            }
            let now = now_ms();
            let tags = r
                .tag
                .iter()
                .filter_map(|t| Some((t.key.clone()?, t.value.clone().unwrap_or_default())))
                .collect();
            inst.groups.insert(r.group_id.clone(), state::Group { create_time: now, update_time: now, tags });
            Ok(O::default())
        })
    }

    async fn delete_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::delete_ca_certificate::DeleteCaCertificateRequest,
    ) -> Result<
        ops::delete_ca_certificate::DeleteCaCertificateOutput,
        ops::delete_ca_certificate::DeleteCaCertificateError,
    > {
        use ops::delete_ca_certificate::{DeleteCaCertificateError as E, DeleteCaCertificateOutput as O};
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            inst.ca_certs.remove(&r.sn).ok_or_else(|| {
                E::FindCaBySnError(format!("No CA certificate has the serial number {}.", r.sn))
            })?;
            let prefix = format!("{}/", r.sn);
            inst.device_certs.retain(|k, _| !k.starts_with(&prefix));
            Ok(O { sn: r.sn.clone(), ..O::default() })
        })
    }

    async fn delete_custom_auth_connect_black(
        &self,
        ctx: &Context,
        r: ops::delete_custom_auth_connect_black::DeleteCustomAuthConnectBlackRequest,
    ) -> Result<
        ops::delete_custom_auth_connect_black::DeleteCustomAuthConnectBlackOutput,
        ops::delete_custom_auth_connect_black::DeleteCustomAuthConnectBlackError,
    > {
        use ops::delete_custom_auth_connect_black::{
            DeleteCustomAuthConnectBlackError as E, DeleteCustomAuthConnectBlackOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            inst.blacklist
                .remove(&r.client_id)
                .ok_or_else(|| invalid_param!(E, "ClientId", "The client ID is not refused."))?;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn delete_custom_auth_identity(
        &self,
        ctx: &Context,
        r: ops::delete_custom_auth_identity::DeleteCustomAuthIdentityRequest,
    ) -> Result<
        ops::delete_custom_auth_identity::DeleteCustomAuthIdentityOutput,
        ops::delete_custom_auth_identity::DeleteCustomAuthIdentityError,
    > {
        use ops::delete_custom_auth_identity::{
            DeleteCustomAuthIdentityError as E, DeleteCustomAuthIdentityOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let (param, name) = match (&r.identity_type, &r.client_id) {
                (IdentityType::Client, Some(c)) => ("ClientId", c.as_str()),
                (IdentityType::Client, None) => {
                    return Err(invalid_param!(E, "ClientId", "A CLIENT identity needs its client ID."));
                }
                _ => ("Username", r.username.as_str()),
            };
            inst.identities
                .remove(&identity_key(r.identity_type.as_str(), name))
                .ok_or_else(|| invalid_param!(E, param, "No such identity."))?;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn delete_custom_auth_permission(
        &self,
        ctx: &Context,
        r: ops::delete_custom_auth_permission::DeleteCustomAuthPermissionRequest,
    ) -> Result<
        ops::delete_custom_auth_permission::DeleteCustomAuthPermissionOutput,
        ops::delete_custom_auth_permission::DeleteCustomAuthPermissionError,
    > {
        use ops::delete_custom_auth_permission::{
            DeleteCustomAuthPermissionError as E, DeleteCustomAuthPermissionOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            inst.permissions
                .remove(&permission_key(r.identity_type.as_str(), &r.identity, &r.topic))
                .ok_or_else(|| invalid_param!(E, "Topic", "No permission for this identity and topic."))?;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn delete_device_certificate(
        &self,
        ctx: &Context,
        r: ops::delete_device_certificate::DeleteDeviceCertificateRequest,
    ) -> Result<
        ops::delete_device_certificate::DeleteDeviceCertificateOutput,
        ops::delete_device_certificate::DeleteDeviceCertificateError,
    > {
        use ops::delete_device_certificate::{
            DeleteDeviceCertificateError as E, DeleteDeviceCertificateOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            inst.device_certs.remove(&format!("{}/{}", r.ca_sn, r.device_sn)).ok_or_else(|| {
                E::FindDeviceBySnError(format!("No device certificate {} under CA {}.", r.device_sn, r.ca_sn))
            })?;
            Ok(O { device_sn: r.device_sn.clone(), ..O::default() })
        })
    }

    async fn delete_group_id(
        &self,
        ctx: &Context,
        r: ops::delete_group_id::DeleteGroupIdRequest,
    ) -> Result<ops::delete_group_id::DeleteGroupIdOutput, ops::delete_group_id::DeleteGroupIdError> {
        use ops::delete_group_id::{DeleteGroupIdError as E, DeleteGroupIdOutput as O};
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(|m| match m {
                Miss::NotFound => E::InstanceNotFound(no_instance(&r.instance_id)),
                Miss::NotOwner => E::InstancePermissionCheckFailed(no_instance(&r.instance_id)),
            })?;
            // Choice: deleting a group ID that does not exist is ParameterFieldCheckFailed.
            inst.groups.remove(&r.group_id).ok_or_else(|| {
                E::ParameterFieldCheckFailed(format!("The group ID {} does not exist.", r.group_id))
            })?;
            Ok(O::default())
        })
    }

    async fn disaster_downgrade(
        &self,
        ctx: &Context,
        r: ops::disaster_downgrade::DisasterDowngradeRequest,
    ) -> Result<
        ops::disaster_downgrade::DisasterDowngradeOutput,
        ops::disaster_downgrade::DisasterDowngradeError,
    > {
        use ops::disaster_downgrade::{DisasterDowngradeError as E, DisasterDowngradeOutput as O};
        self.write(|st| {
            instance(st, ctx, &r.downgrade_instance_id).map_err(|_| {
                invalid_param!(E, "DowngradeInstanceId", no_instance(&r.downgrade_instance_id))
            })?;
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            // Switching back: traffic returns to the instance itself.
            inst.recovery = None;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn disaster_recovery(
        &self,
        ctx: &Context,
        r: ops::disaster_recovery::DisasterRecoveryRequest,
    ) -> Result<ops::disaster_recovery::DisasterRecoveryOutput, ops::disaster_recovery::DisasterRecoveryError>
    {
        use ops::disaster_recovery::{DisasterRecoveryError as E, DisasterRecoveryOutput as O};
        self.write(|st| {
            instance(st, ctx, &r.recovery_instance_id)
                .map_err(|_| invalid_param!(E, "RecoveryInstanceId", no_instance(&r.recovery_instance_id)))?;
            if r.recovery_instance_id == r.instance_id {
                return Err(invalid_param!(E, "RecoveryInstanceId", "An instance cannot recover to itself."));
            }
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            inst.recovery = Some(r.recovery_instance_id.clone());
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn get_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::get_ca_certificate::GetCaCertificateRequest,
    ) -> Result<ops::get_ca_certificate::GetCaCertificateOutput, ops::get_ca_certificate::GetCaCertificateError>
    {
        use ops::get_ca_certificate::{GetCaCertificateError as E, GetCaCertificateOutput as O};
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let ca = inst.ca_certs.get(&r.sn).ok_or_else(|| {
                E::FindCaBySnError(format!("No CA certificate has the serial number {}.", r.sn))
            })?;
            Ok(O { data: ca_out(&r.sn, ca), ..O::default() })
        })
    }

    async fn get_device_certificate(
        &self,
        ctx: &Context,
        r: ops::get_device_certificate::GetDeviceCertificateRequest,
    ) -> Result<
        ops::get_device_certificate::GetDeviceCertificateOutput,
        ops::get_device_certificate::GetDeviceCertificateError,
    > {
        use ops::get_device_certificate::{GetDeviceCertificateError as E, GetDeviceCertificateOutput as O};
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let key = format!("{}/{}", r.ca_sn, r.device_sn);
            let d = inst.device_certs.get(&key).ok_or_else(|| {
                E::FindDeviceBySnError(format!("No device certificate {} under CA {}.", r.device_sn, r.ca_sn))
            })?;
            Ok(O { data: device_cert_out(&key, d), ..O::default() })
        })
    }

    async fn get_device_credential(
        &self,
        ctx: &Context,
        r: ops::get_device_credential::GetDeviceCredentialRequest,
    ) -> Result<
        ops::get_device_credential::GetDeviceCredentialOutput,
        ops::get_device_credential::GetDeviceCredentialError,
    > {
        use ops::get_device_credential::{GetDeviceCredentialError as E, GetDeviceCredentialOutput as O};
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let c = inst.credentials.get(&r.client_id).ok_or_else(|| {
                E::DeviceCredentialNotFound(format!("The client {} has no credential.", r.client_id))
            })?;
            Ok(O { device_credential: credential_out(&r.instance_id, &r.client_id, c), ..O::default() })
        })
    }

    async fn get_register_code(
        &self,
        ctx: &Context,
        r: ops::get_register_code::GetRegisterCodeRequest,
    ) -> Result<ops::get_register_code::GetRegisterCodeOutput, ops::get_register_code::GetRegisterCodeError>
    {
        use ops::get_register_code::{GetRegisterCodeError as E, GetRegisterCodeOutput as O};
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            Ok(O { register_code: inst.register_code.clone(), ..O::default() })
        })
    }

    async fn inactivate_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::inactivate_ca_certificate::InactivateCaCertificateRequest,
    ) -> Result<
        ops::inactivate_ca_certificate::InactivateCaCertificateOutput,
        ops::inactivate_ca_certificate::InactivateCaCertificateError,
    > {
        use ops::inactivate_ca_certificate::{
            InactivateCaCertificateError as E, InactivateCaCertificateOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let ca = inst.ca_certs.get_mut(&r.sn).ok_or_else(|| {
                E::FindCaBySnError(format!("No CA certificate has the serial number {}.", r.sn))
            })?;
            ca.active = false;
            Ok(O { sn: r.sn.clone(), ..O::default() })
        })
    }

    async fn inactivate_device_certificate(
        &self,
        ctx: &Context,
        r: ops::inactivate_device_certificate::InactivateDeviceCertificateRequest,
    ) -> Result<
        ops::inactivate_device_certificate::InactivateDeviceCertificateOutput,
        ops::inactivate_device_certificate::InactivateDeviceCertificateError,
    > {
        use ops::inactivate_device_certificate::{
            InactivateDeviceCertificateError as E, InactivateDeviceCertificateOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let d = inst.device_certs.get_mut(&format!("{}/{}", r.ca_sn, r.device_sn)).ok_or_else(|| {
                E::FindDeviceBySnError(format!("No device certificate {} under CA {}.", r.device_sn, r.ca_sn))
            })?;
            d.active = false;
            Ok(O { device_sn: r.device_sn.clone(), ..O::default() })
        })
    }

    async fn list_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::list_ca_certificate::ListCaCertificateRequest,
    ) -> Result<
        ops::list_ca_certificate::ListCaCertificateOutput,
        ops::list_ca_certificate::ListCaCertificateError,
    > {
        use ops::list_ca_certificate::{
            CaCertificatePage, ListCaCertificateError as E, ListCaCertificateOutput as O,
        };
        check_page::<E>(r.page_no, r.page_size, E::ParameterFieldCheckFailed)?;
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let all: Vec<_> = inst.ca_certs.iter().map(|(sn, ca)| ca_out(sn, ca)).collect();
            Ok(O {
                data: Some(CaCertificatePage {
                    total: Some(i32::try_from(all.len()).unwrap_or(i32::MAX)),
                    page_no: Some(r.page_no),
                    page_size: Some(r.page_size),
                    ca_certificate_vos: number_page(&all, r.page_no, r.page_size),
                }),
                ..O::default()
            })
        })
    }

    async fn list_device_certificate(
        &self,
        ctx: &Context,
        r: ops::list_device_certificate::ListDeviceCertificateRequest,
    ) -> Result<
        ops::list_device_certificate::ListDeviceCertificateOutput,
        ops::list_device_certificate::ListDeviceCertificateError,
    > {
        use ops::list_device_certificate::{
            ListDeviceCertificateError as E, ListDeviceCertificateOutput as O,
        };
        check_page::<E>(r.page_no, r.page_size, E::ParameterFieldCheckFailed)?;
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let all: Vec<_> = inst.device_certs.iter().map(|(k, d)| device_cert_out(k, d)).collect();
            Ok(O { data: Some(device_page(&all, r.page_no, r.page_size)), ..O::default() })
        })
    }

    async fn list_device_certificate_by_ca_sn(
        &self,
        ctx: &Context,
        r: ops::list_device_certificate_by_ca_sn::ListDeviceCertificateByCaSnRequest,
    ) -> Result<
        ops::list_device_certificate_by_ca_sn::ListDeviceCertificateByCaSnOutput,
        ops::list_device_certificate_by_ca_sn::ListDeviceCertificateByCaSnError,
    > {
        use ops::list_device_certificate_by_ca_sn::{
            ListDeviceCertificateByCaSnError as E, ListDeviceCertificateByCaSnOutput as O,
        };
        check_page::<E>(r.page_no, r.page_size, E::ParameterFieldCheckFailed)?;
        self.read(|st| {
            let inst = instance(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            let prefix = format!("{}/", r.ca_sn);
            let all: Vec<_> = inst
                .device_certs
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, d)| device_cert_out(k, d))
                .collect();
            Ok(O { data: Some(device_page(&all, r.page_no, r.page_size)), ..O::default() })
        })
    }

    async fn list_device_credential_client_id(
        &self,
        ctx: &Context,
        r: ops::list_device_credential_client_id::ListDeviceCredentialClientIdRequest,
    ) -> Result<
        ops::list_device_credential_client_id::ListDeviceCredentialClientIdOutput,
        ops::list_device_credential_client_id::ListDeviceCredentialClientIdError,
    > {
        use ops::list_device_credential_client_id::{
            DeviceCredentialClientIdPage, ListDeviceCredentialClientIdError as E,
            ListDeviceCredentialClientIdOutput as O,
        };
        if !(1..=100).contains(&r.page_size) {
            return Err(invalid_param!(E, "PageSize", "The page size is 1 to 100."));
        }
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let prefix = format!("{}@@@", r.group_id);
            let ids =
                || inst.credentials.keys().filter(|k| k.starts_with(&prefix)).map(|k| (k.clone(), k.clone()));
            let total = ids().count();
            let size = usize::try_from(r.page_size).unwrap_or(1);
            let (page, next) = token_page(ids(), r.next_token.as_deref(), size)
                .map_err(|()| invalid_param!(E, "NextToken", "The token is not one this service issued."))?;
            Ok(O {
                device_credential_client_id_list: Some(DeviceCredentialClientIdPage {
                    total: Some(i32::try_from(total).unwrap_or(i32::MAX)),
                    client_id_list: page,
                    page_no: Some(r.page_no.unwrap_or(1)),
                    page_size: Some(r.page_size),
                    next_token: next,
                }),
                ..O::default()
            })
        })
    }

    async fn list_group_id(
        &self,
        ctx: &Context,
        r: ops::list_group_id::ListGroupIdRequest,
    ) -> Result<ops::list_group_id::ListGroupIdOutput, ops::list_group_id::ListGroupIdError> {
        use ops::list_group_id::{GroupInfo, ListGroupIdError as E, ListGroupIdOutput as O};
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(|m| match m {
                Miss::NotFound => E::InstanceNotFound(no_instance(&r.instance_id)),
                Miss::NotOwner => E::InstancePermissionCheckFailed(no_instance(&r.instance_id)),
            })?;
            let data = inst
                .groups
                .iter()
                .filter(|(_, g)| {
                    r.tag.iter().all(|t| {
                        t.key.as_ref().is_none_or(|k| g.tags.get(k) == t.value.as_ref().or(g.tags.get(k)))
                    })
                })
                .map(|(id, g)| GroupInfo {
                    update_time: Some(g.update_time),
                    instance_id: Some(r.instance_id.clone()),
                    independent_naming: Some(true),
                    group_id: Some(id.clone()),
                    create_time: Some(g.create_time),
                    tags: tags_out(&g.tags),
                })
                .collect();
            Ok(O { data, ..O::default() })
        })
    }

    async fn list_instances(
        &self,
        ctx: &Context,
        r: ops::list_instances::ListInstancesRequest,
    ) -> Result<ops::list_instances::ListInstancesOutput, ops::list_instances::ListInstancesError> {
        use ops::list_instances::{InstanceInfo, ListInstancesError as E, ListInstancesOutput as O};
        let filter: Vec<(String, Option<String>)> = match &r.tags {
            None => Vec::new(),
            Some(text) => {
                #[derive(serde::Deserialize)]
                struct T {
                    key: String,
                    value: Option<String>,
                }
                // Choice: tags that are not the documented JSON array answer ServiceUnable, the
                // only parameter-level code of the table.
                let tags: Vec<T> = serde_json::from_str(text).map_err(|e| {
                    E::ServiceUnable(format!("Tags is not a JSON array of key and value objects: {e}."))
                })?;
                tags.into_iter().map(|t| (t.key, t.value)).collect()
            }
        };
        self.read(|st| {
            let instances = st
                .instances
                .values()
                .filter(|i| i.owner == ctx.account)
                .filter(|i| {
                    filter
                        .iter()
                        .all(|(k, v)| i.tags.get(k).is_some_and(|have| v.as_ref().is_none_or(|v| v == have)))
                })
                .map(|i| InstanceInfo {
                    instance_id: Some(i.id.clone()),
                    instance_name: Some(i.name.clone()),
                    instance_status: Some(i.status),
                    instance_type: Some(i.instance_type),
                    specific: Some("local".into()),
                    region_id: Some(i.region.clone()),
                    create_time: Some(i.create_time),
                    expire_time: Some(i.expire_time),
                    kernel_version: Some("local".into()),
                    mqtt_tags: tags_out(&i.tags),
                    order_id: Some(format!("order-{}", i.id)),
                })
                .collect();
            Ok(O {
                code: Some("200".into()),
                success: Some(true),
                message: Some(OK.into()),
                instances,
                ..O::default()
            })
        })
    }

    async fn list_tag_resources(
        &self,
        ctx: &Context,
        r: ops::list_tag_resources::ListTagResourcesRequest,
    ) -> Result<ops::list_tag_resources::ListTagResourcesOutput, ops::list_tag_resources::ListTagResourcesError>
    {
        use ops::list_tag_resources::{ListTagResourcesError as E, ListTagResourcesOutput as O, TagResource};
        self.read(|st| {
            for id in &r.resource_id {
                instance(st, ctx, id)
                    .map_err(|_| E::ResourceIdNotFound(format!("The resource {id} does not exist.")))?;
            }
            let entries = st
                .instances
                .values()
                .filter(|i| {
                    i.owner == ctx.account && (r.resource_id.is_empty() || r.resource_id.contains(&i.id))
                })
                .filter(|i| {
                    r.tag.iter().all(|t| {
                        t.key.as_ref().is_none_or(|k| {
                            i.tags.get(k).is_some_and(|v| t.value.as_ref().is_none_or(|w| w == v))
                        })
                    })
                })
                .flat_map(|i| {
                    i.tags.iter().map(|(k, v)| {
                        (
                            format!("{}\u{0}{k}", i.id),
                            TagResource {
                                resource_type: Some(r.resource_type.clone()),
                                tag_value: Some(v.clone()),
                                resource_id: Some(i.id.clone()),
                                tag_key: Some(k.clone()),
                            },
                        )
                    })
                })
                .collect::<Vec<_>>();
            let (tag_resources, next_token) =
                token_page(entries.into_iter(), r.next_token.as_deref(), TAG_PAGE).map_err(|()| {
                    E::Other(ApiError::new(
                        400,
                        "InvalidParameter",
                        "The NextToken is not one this service issued.",
                    ))
                })?;
            Ok(O {
                code: Some("200".into()),
                success: Some(true),
                message: Some(OK.into()),
                next_token,
                tag_resources,
                ..O::default()
            })
        })
    }

    async fn query_custom_auth_connect_black(
        &self,
        ctx: &Context,
        r: ops::query_custom_auth_connect_black::QueryCustomAuthConnectBlackRequest,
    ) -> Result<
        ops::query_custom_auth_connect_black::QueryCustomAuthConnectBlackOutput,
        ops::query_custom_auth_connect_black::QueryCustomAuthConnectBlackError,
    > {
        use ops::query_custom_auth_connect_black::{
            CustomAuthConnectBlackEntry, CustomAuthConnectBlackPage, QueryCustomAuthConnectBlackError as E,
            QueryCustomAuthConnectBlackOutput as O,
        };
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let items =
                inst.blacklist.keys().filter(|c| r.client_id.as_ref().is_none_or(|want| want == *c)).map(
                    |c| {
                        (
                            c.clone(),
                            CustomAuthConnectBlackEntry {
                                client_id: Some(c.clone()),
                                effect: Some(Effect::Deny),
                                permit_action: Some("CONNECT".into()),
                            },
                        )
                    },
                );
            let (results, next_token) =
                token_page(items, r.next_token.as_deref(), usize::try_from(r.size).unwrap_or(1)).map_err(
                    |()| invalid_param!(E, "NextToken", "The token is not one this service issued."),
                )?;
            Ok(O {
                code: Some(200),
                success: Some(true),
                message: Some(OK.into()),
                data: Some(CustomAuthConnectBlackPage { results, next_token }),
                ..O::default()
            })
        })
    }

    async fn query_custom_auth_identity(
        &self,
        ctx: &Context,
        r: ops::query_custom_auth_identity::QueryCustomAuthIdentityRequest,
    ) -> Result<
        ops::query_custom_auth_identity::QueryCustomAuthIdentityOutput,
        ops::query_custom_auth_identity::QueryCustomAuthIdentityError,
    > {
        use ops::query_custom_auth_identity::{
            CustomAuthIdentity, CustomAuthIdentityPage, QueryCustomAuthIdentityError as E,
            QueryCustomAuthIdentityOutput as O,
        };
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let items = inst
                .identities
                .iter()
                .filter(|(_, i)| {
                    r.username.as_ref().is_none_or(|u| *u == i.username)
                        && r.client_id.as_ref().is_none_or(|c| i.client_id.as_ref() == Some(c))
                        && r.identity_type.as_ref().is_none_or(|t| t.as_str() == i.identity_type)
                })
                .map(|(k, i)| {
                    (
                        k.clone(),
                        CustomAuthIdentity {
                            username: Some(i.username.clone()),
                            secret: Some(i.secret.clone()),
                            identity_type: Some(IdentityType::from(i.identity_type.as_str())),
                            client_id: i.client_id.clone(),
                            sign_mode: Some(SignMode::from(i.sign_mode.as_str())),
                        },
                    )
                });
            let (results, next_token) =
                token_page(items, r.next_token.as_deref(), usize::try_from(r.size).unwrap_or(1)).map_err(
                    |()| invalid_param!(E, "NextToken", "The token is not one this service issued."),
                )?;
            Ok(O {
                code: Some(200),
                success: Some(true),
                message: Some(OK.into()),
                data: Some(CustomAuthIdentityPage { results, next_token }),
                ..O::default()
            })
        })
    }

    async fn query_custom_auth_permission(
        &self,
        ctx: &Context,
        r: ops::query_custom_auth_permission::QueryCustomAuthPermissionRequest,
    ) -> Result<
        ops::query_custom_auth_permission::QueryCustomAuthPermissionOutput,
        ops::query_custom_auth_permission::QueryCustomAuthPermissionError,
    > {
        use ops::query_custom_auth_permission::{
            CustomAuthPermission, CustomAuthPermissionPage, QueryCustomAuthPermissionError as E,
            QueryCustomAuthPermissionOutput as O,
        };
        self.read(|st| {
            let inst = instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let items = inst
                .permissions
                .iter()
                .filter(|(_, p)| {
                    r.identity.as_ref().is_none_or(|i| *i == p.identity)
                        && r.topic.as_ref().is_none_or(|t| *t == p.topic)
                        && r.identity_type.as_ref().is_none_or(|t| t.as_str() == p.identity_type)
                })
                .map(|(k, p)| {
                    (
                        k.clone(),
                        CustomAuthPermission {
                            identity: Some(p.identity.clone()),
                            permit_action: Some(PermitAction::from(p.permit_action.as_str())),
                            effect: Some(Effect::from(p.effect.as_str())),
                            identity_type: Some(IdentityType::from(p.identity_type.as_str())),
                            topic: Some(p.topic.clone()),
                        },
                    )
                });
            let (results, next_token) =
                token_page(items, r.next_token.as_deref(), usize::try_from(r.size).unwrap_or(1)).map_err(
                    |()| invalid_param!(E, "NextToken", "The token is not one this service issued."),
                )?;
            Ok(O {
                code: Some(200),
                success: Some(true),
                message: Some(OK.into()),
                data: Some(CustomAuthPermissionPage { results, next_token }),
                ..O::default()
            })
        })
    }

    async fn query_mqtt_trace_device(
        &self,
        ctx: &Context,
        r: ops::query_mqtt_trace_device::QueryMqttTraceDeviceRequest,
    ) -> Result<
        ops::query_mqtt_trace_device::QueryMqttTraceDeviceOutput,
        ops::query_mqtt_trace_device::QueryMqttTraceDeviceError,
    > {
        use ops::query_mqtt_trace_device::{
            QueryMqttTraceDeviceError as E, QueryMqttTraceDeviceOutput as O, TraceDeviceEvent,
        };
        let hits = self.traces(ctx, &r.instance_id, r.begin_time, r.end_time, r.reverse, |t| {
            t.msg_id.is_empty() && t.client_id == r.client_id
        });
        let hits = hits.map_err(|()| E::MqttOwnerCheckError(no_instance(&r.instance_id)))?;
        let page: Vec<_> = number_page(&hits, r.current_page, r.page_size)
            .iter()
            .map(|t| TraceDeviceEvent {
                channel_id: Some(format!("channel-{}", t.client_id)),
                time: Some(trace_time(t.time)),
                action_code: Some(t.action_code.clone()),
                action: Some(t.action.clone()),
                action_info: Some(t.action_info.clone()),
            })
            .collect();
        Ok(O {
            current_page: Some(r.current_page),
            page_size: Some(r.page_size),
            total: Some(hits.len() as i64),
            device_info_list: page,
            ..O::default()
        })
    }

    async fn query_mqtt_trace_message_of_client(
        &self,
        ctx: &Context,
        r: ops::query_mqtt_trace_message_of_client::QueryMqttTraceMessageOfClientRequest,
    ) -> Result<
        ops::query_mqtt_trace_message_of_client::QueryMqttTraceMessageOfClientOutput,
        ops::query_mqtt_trace_message_of_client::QueryMqttTraceMessageOfClientError,
    > {
        use ops::query_mqtt_trace_message_of_client::{
            QueryMqttTraceMessageOfClientError as E, QueryMqttTraceMessageOfClientOutput as O,
        };
        let hits = self.traces(ctx, &r.instance_id, r.begin_time, r.end_time, r.reverse, |t| {
            !t.msg_id.is_empty() && t.client_id == r.client_id
        });
        let hits = hits.map_err(|()| E::MqttOwnerCheckError(no_instance(&r.instance_id)))?;
        let page = number_page(&hits, r.current_page, r.page_size).iter().map(trace_event).collect();
        Ok(O {
            current_page: Some(r.current_page),
            page_size: Some(r.page_size),
            total: Some(hits.len() as i64),
            message_of_client_list: page,
            ..O::default()
        })
    }

    async fn query_mqtt_trace_message_publish(
        &self,
        ctx: &Context,
        r: ops::query_mqtt_trace_message_publish::QueryMqttTraceMessagePublishRequest,
    ) -> Result<
        ops::query_mqtt_trace_message_publish::QueryMqttTraceMessagePublishOutput,
        ops::query_mqtt_trace_message_publish::QueryMqttTraceMessagePublishError,
    > {
        use ops::query_mqtt_trace_message_publish::{
            QueryMqttTraceMessagePublishError as E, QueryMqttTraceMessagePublishOutput as O,
        };
        let hits = self.traces(ctx, &r.instance_id, r.begin_time, r.end_time, None, |t| {
            t.msg_id == r.msg_id && t.action.starts_with("pub")
        });
        let hits = hits.map_err(|()| E::MqttOwnerCheckError(no_instance(&r.instance_id)))?;
        Ok(O { message_trace_lists: hits.iter().map(trace_event).collect(), ..O::default() })
    }

    async fn query_mqtt_trace_message_subscribe(
        &self,
        ctx: &Context,
        r: ops::query_mqtt_trace_message_subscribe::QueryMqttTraceMessageSubscribeRequest,
    ) -> Result<
        ops::query_mqtt_trace_message_subscribe::QueryMqttTraceMessageSubscribeOutput,
        ops::query_mqtt_trace_message_subscribe::QueryMqttTraceMessageSubscribeError,
    > {
        use ops::query_mqtt_trace_message_subscribe::{
            QueryMqttTraceMessageSubscribeError as E, QueryMqttTraceMessageSubscribeOutput as O,
        };
        let hits = self.traces(ctx, &r.instance_id, r.begin_time, r.end_time, r.reverse, |t| {
            t.msg_id == r.msg_id
                && t.action.starts_with("sub")
                && r.client_id.as_ref().is_none_or(|c| *c == t.client_id)
        });
        let hits = hits.map_err(|()| E::MqttOwnerCheckError(no_instance(&r.instance_id)))?;
        let page = number_page(&hits, r.current_page, r.page_size).iter().map(trace_event).collect();
        Ok(O {
            current_page: Some(r.current_page),
            page_size: Some(r.page_size),
            total: Some(hits.len() as i64),
            message_trace_lists: page,
            ..O::default()
        })
    }

    async fn query_session_by_client_id(
        &self,
        ctx: &Context,
        r: ops::query_session_by_client_id::QuerySessionByClientIdRequest,
    ) -> Result<
        ops::query_session_by_client_id::QuerySessionByClientIdOutput,
        ops::query_session_by_client_id::QuerySessionByClientIdError,
    > {
        use ops::query_session_by_client_id::{
            QuerySessionByClientIdError as E, QuerySessionByClientIdOutput as O,
        };
        self.read(|st| {
            instance(st, ctx, &r.instance_id).map(|_| ()).map_err(perm_instance!(E, &r.instance_id))
        })?;
        Ok(O { online_status: self.broker.is_online(&r.instance_id, &r.client_id), ..O::default() })
    }

    async fn query_token(
        &self,
        ctx: &Context,
        r: ops::query_token::QueryTokenRequest,
    ) -> Result<ops::query_token::QueryTokenOutput, ops::query_token::QueryTokenError> {
        use ops::query_token::{QueryTokenError as E, QueryTokenOutput as O};
        self.read(|st| {
            instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let valid = st
                .tokens
                .get(&r.token)
                .is_some_and(|t| t.instance_id == r.instance_id && !t.revoked && t.expire_time > now_ms());
            Ok(O { token_status: valid, ..O::default() })
        })
    }

    async fn refresh_device_credential(
        &self,
        ctx: &Context,
        r: ops::refresh_device_credential::RefreshDeviceCredentialRequest,
    ) -> Result<
        ops::refresh_device_credential::RefreshDeviceCredentialOutput,
        ops::refresh_device_credential::RefreshDeviceCredentialError,
    > {
        use ops::refresh_device_credential::{
            RefreshDeviceCredentialError as E, RefreshDeviceCredentialOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            // Choice: the table has no not-found code; a client without a credential is InvalidParameter.ClientId.
            let c = inst
                .credentials
                .get_mut(&r.client_id)
                .ok_or_else(|| invalid_param!(E, "ClientId", "The client has no credential."))?;
            c.access_key_secret = random_hex(16);
            c.update_time = now_ms();
            Ok(O { device_credential: Some(credential_out(&r.instance_id, &r.client_id, c)), ..O::default() })
        })
    }

    async fn register_ca_certificate(
        &self,
        ctx: &Context,
        r: ops::register_ca_certificate::RegisterCaCertificateRequest,
    ) -> Result<
        ops::register_ca_certificate::RegisterCaCertificateOutput,
        ops::register_ca_certificate::RegisterCaCertificateError,
    > {
        use ops::register_ca_certificate::{
            RegisterCaCertificateError as E, RegisterCaCertificateOutput as O,
        };
        let ca = crate::certs::parse(&r.ca_content)
            .map_err(|e| E::CertificateContentError(format!("The CA certificate is not usable: {e}.")))?;
        if !ca.is_ca {
            return Err(E::CertificateContentError("The certificate is not a CA certificate.".into()));
        }
        let verification = crate::certs::parse(&r.verification_content).map_err(|e| {
            E::CertificateContentError(format!("The verification certificate is not usable: {e}."))
        })?;
        if !crate::certs::signed_by(&r.verification_content, &r.ca_content) {
            return Err(E::CertificateContentError(
                "The verification certificate is not signed by the CA.".into(),
            ));
        }
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id)
                .map_err(|m| cert_instance!(E, m, &r.mqtt_instance_id))?;
            if verification.common_name != inst.register_code {
                return Err(E::RegisterCodeError(
                    "The verification certificate's common name is not the instance's registration code."
                        .into(),
                ));
            }
            if inst.ca_certs.contains_key(&ca.sn) {
                return Err(E::SnNotUnique(format!(
                    "A CA certificate with the serial number {} is registered already.",
                    ca.sn
                )));
            }
            if inst.ca_certs.len() >= MAX_CA {
                return Err(E::CaNumExceed(format!("An instance holds at most {MAX_CA} CA certificates.")));
            }
            inst.ca_certs.insert(
                ca.sn.clone(),
                state::CaCert {
                    name: r.ca_name.clone(),
                    content: r.ca_content.clone(),
                    verification: r.verification_content.clone(),
                    registration_code: inst.register_code.clone(),
                    valid_begin: ca.not_before,
                    valid_end: ca.not_after,
                    active: true,
                },
            );
            Ok(O { sn: ca.sn.clone(), ..O::default() })
        })
    }

    async fn register_device_credential(
        &self,
        ctx: &Context,
        r: ops::register_device_credential::RegisterDeviceCredentialRequest,
    ) -> Result<
        ops::register_device_credential::RegisterDeviceCredentialOutput,
        ops::register_device_credential::RegisterDeviceCredentialError,
    > {
        use ops::register_device_credential::{
            RegisterDeviceCredentialError as E, RegisterDeviceCredentialOutput as O,
        };
        if group_of(&r.client_id).is_none() {
            return Err(invalid_param!(
                E,
                "ClientId",
                "A client ID is GroupId@@@DeviceId, at most 64 characters."
            ));
        }
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            if inst.credentials.contains_key(&r.client_id) {
                return Err(E::DeviceCredentialExsit(format!(
                    "The client {} has a credential already.",
                    r.client_id
                )));
            }
            let now = now_ms();
            let c = state::DeviceCredential {
                access_key_id: format!("DC.{}", random_hex(12)),
                access_key_secret: random_hex(16),
                create_time: now,
                update_time: now,
            };
            let out = credential_out(&r.instance_id, &r.client_id, &c);
            inst.credentials.insert(r.client_id.clone(), c);
            Ok(O { device_credential: Some(out), ..O::default() })
        })
    }

    async fn revoke_token(
        &self,
        ctx: &Context,
        r: ops::revoke_token::RevokeTokenRequest,
    ) -> Result<ops::revoke_token::RevokeTokenOutput, ops::revoke_token::RevokeTokenError> {
        use ops::revoke_token::{RevokeTokenError as E, RevokeTokenOutput as O};
        self.write(|st| {
            instance(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            match st.tokens.get_mut(&r.token) {
                Some(t) if t.instance_id == r.instance_id => {
                    t.revoked = true;
                    Ok(O::default())
                }
                // Choice: a token this instance never issued is InvalidParameter.Token.
                _ => Err(invalid_param!(E, "Token", "The instance issued no such token.")),
            }
        })
    }

    async fn send_message(
        &self,
        ctx: &Context,
        r: ops::send_message::SendMessageRequest,
    ) -> Result<ops::send_message::SendMessageOutput, ops::send_message::SendMessageError> {
        use ops::send_message::{SendMessageError as E, SendMessageOutput as O};
        if r.mqtt_topic.is_empty() || r.mqtt_topic.contains(['+', '#']) {
            return Err(invalid_param!(E, "MqttTopic", "A message goes to one topic, without wildcards."));
        }
        self.read(|st| {
            instance(st, ctx, &r.instance_id).map(|_| ()).map_err(perm_instance!(E, &r.instance_id))
        })?;
        let sent = self
            .broker
            .publish(&r.instance_id, &r.mqtt_topic, r.payload.as_bytes())
            .await
            .map_err(|e| E::SendMessageFailed(format!("The message could not be delivered: {e}.")))?;
        let msg_id = match sent {
            Some(id) => id,
            None => {
                let msg_id = random_hex(16).to_uppercase();
                self.record_trace(state::Trace {
                    instance_id: r.instance_id.clone(),
                    time: now_ms(),
                    msg_id: msg_id.clone(),
                    client_id: String::new(),
                    topic: r.mqtt_topic.clone(),
                    action: "pub_openapi".into(),
                    action_code: "mqtt.trace.action.msg.pub.openapi".into(),
                    action_info: "Pub From OpenAPI".into(),
                });
                msg_id
            }
        };
        Ok(O { msg_id, ..O::default() })
    }

    async fn set_sni_config(
        &self,
        ctx: &Context,
        r: ops::set_sni_config::SetSniConfigRequest,
    ) -> Result<ops::set_sni_config::SetSniConfigOutput, ops::set_sni_config::SetSniConfigError> {
        use ops::set_sni_config::{SetSniConfigError as E, SetSniConfigOutput as O};
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.mqtt_instance_id).map_err(|m| match m {
                Miss::NotFound => E::MqttInstanceNotFound(no_instance(&r.mqtt_instance_id)),
                Miss::NotOwner => E::MqttOwnerCheckError(no_instance(&r.mqtt_instance_id)),
            })?;
            inst.sni = Some((r.default_certificate.clone(), r.sni_config.clone()));
            Ok(O { success: Some(true), ..O::default() })
        })
    }

    async fn tag_resources(
        &self,
        ctx: &Context,
        r: ops::tag_resources::TagResourcesRequest,
    ) -> Result<ops::tag_resources::TagResourcesOutput, ops::tag_resources::TagResourcesError> {
        use ops::tag_resources::{TagResourcesError as E, TagResourcesOutput as O};
        self.write(|st| {
            for id in &r.resource_id {
                instance(st, ctx, id)
                    .map_err(|_| E::ResourceIdNotFound(format!("The resource {id} does not exist.")))?;
            }
            for id in &r.resource_id {
                if let Ok(inst) = instance_mut(st, ctx, id) {
                    for t in &r.tag {
                        if let Some(k) = &t.key {
                            inst.tags.insert(k.clone(), t.value.clone().unwrap_or_default());
                        }
                    }
                }
            }
            Ok(O { code: Some("200".into()), data: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn un_register_device_credential(
        &self,
        ctx: &Context,
        r: ops::un_register_device_credential::UnRegisterDeviceCredentialRequest,
    ) -> Result<
        ops::un_register_device_credential::UnRegisterDeviceCredentialOutput,
        ops::un_register_device_credential::UnRegisterDeviceCredentialError,
    > {
        use ops::un_register_device_credential::{
            UnRegisterDeviceCredentialError as E, UnRegisterDeviceCredentialOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            inst.credentials.remove(&r.client_id).ok_or_else(|| {
                E::DeviceCredentialNotFound(format!("The client {} has no credential.", r.client_id))
            })?;
            Ok(O::default())
        })
    }

    async fn untag_resources(
        &self,
        ctx: &Context,
        r: ops::untag_resources::UntagResourcesRequest,
    ) -> Result<ops::untag_resources::UntagResourcesOutput, ops::untag_resources::UntagResourcesError> {
        use ops::untag_resources::{UntagResourcesError as E, UntagResourcesOutput as O};
        self.write(|st| {
            for id in &r.resource_id {
                instance(st, ctx, id)
                    .map_err(|_| E::ResourceIdNotFound(format!("The resource {id} does not exist.")))?;
            }
            for id in &r.resource_id {
                if let Ok(inst) = instance_mut(st, ctx, id) {
                    if r.all == Some(true) {
                        inst.tags.clear();
                    } else {
                        for k in &r.tag_key {
                            inst.tags.remove(k);
                        }
                    }
                }
            }
            Ok(O { code: Some("200".into()), data: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn update_custom_auth_identity(
        &self,
        ctx: &Context,
        r: ops::update_custom_auth_identity::UpdateCustomAuthIdentityRequest,
    ) -> Result<
        ops::update_custom_auth_identity::UpdateCustomAuthIdentityOutput,
        ops::update_custom_auth_identity::UpdateCustomAuthIdentityError,
    > {
        use ops::update_custom_auth_identity::{
            UpdateCustomAuthIdentityError as E, UpdateCustomAuthIdentityOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let (key, ident) =
                new_identity(&r.identity_type, &r.username, r.client_id.as_deref(), &r.secret, &r.sign_mode)
                    .map_err(|(p, m)| invalid_param!(E, &p, m))?;
            let slot = inst.identities.get_mut(&key).ok_or_else(|| {
                invalid_param!(
                    E,
                    if r.identity_type == IdentityType::Client { "ClientId" } else { "Username" },
                    "No such identity."
                )
            })?;
            *slot = ident;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }

    async fn update_custom_auth_permission(
        &self,
        ctx: &Context,
        r: ops::update_custom_auth_permission::UpdateCustomAuthPermissionRequest,
    ) -> Result<
        ops::update_custom_auth_permission::UpdateCustomAuthPermissionOutput,
        ops::update_custom_auth_permission::UpdateCustomAuthPermissionError,
    > {
        use ops::update_custom_auth_permission::{
            UpdateCustomAuthPermissionError as E, UpdateCustomAuthPermissionOutput as O,
        };
        self.write(|st| {
            let inst = instance_mut(st, ctx, &r.instance_id).map_err(perm_instance!(E, &r.instance_id))?;
            let p = new_permission(&r.identity_type, &r.identity, &r.topic, &r.permit_action, &r.effect)
                .map_err(|(p, m)| invalid_param!(E, &p, m))?;
            let slot = inst
                .permissions
                .get_mut(&permission_key(&p.identity_type, &p.identity, &p.topic))
                .ok_or_else(|| invalid_param!(E, "Topic", "No permission for this identity and topic."))?;
            *slot = p;
            Ok(O { code: Some(200), success: Some(true), message: Some(OK.into()), ..O::default() })
        })
    }
}

impl Local {
    /// The traces of `instance_id` in `[begin, end]` matching `keep`, oldest first unless `reverse`;
    /// `Err` when the instance is not the caller's.
    fn traces(
        &self,
        ctx: &Context,
        instance_id: &str,
        begin: i64,
        end: i64,
        reverse: Option<bool>,
        keep: impl Fn(&state::Trace) -> bool,
    ) -> Result<Vec<state::Trace>, ()> {
        let mut hits: Vec<_> = self.read(|st| {
            instance(st, ctx, instance_id).map_err(|_| ())?;
            Ok(st
                .traces
                .iter()
                .filter(|t| t.instance_id == instance_id && (begin..=end).contains(&t.time) && keep(t))
                .cloned()
                .collect())
        })?;
        let from_broker = self.broker.traces(instance_id);
        if !from_broker.is_empty() {
            hits.extend(
                from_broker
                    .into_iter()
                    .filter(|t| t.instance_id == instance_id && (begin..=end).contains(&t.time) && keep(t)),
            );
            // Stable: steps with the same millisecond keep their order.
            hits.sort_by_key(|t| t.time);
        }
        if reverse == Some(true) {
            hits.reverse();
        }
        Ok(hits)
    }
}

fn check_page<E>(no: i32, size: i32, err: fn(String) -> E) -> Result<(), E> {
    if no < 1 || !(1..=100).contains(&size) {
        return Err(err("PageNo counts from 1 and PageSize is 1 to 100.".into()));
    }
    Ok(())
}

fn device_page(all: &[DeviceCertificate], no: i32, size: i32) -> DeviceCertificatePage {
    DeviceCertificatePage {
        total: Some(i32::try_from(all.len()).unwrap_or(i32::MAX)),
        page_no: Some(no),
        page_size: Some(size),
        device_certificate_vos: number_page(all, no, size),
    }
}

/// Checks an identity's fields; the key and the record, or the parameter at fault and why.
fn new_identity(
    t: &IdentityType,
    username: &str,
    client_id: Option<&str>,
    secret: &str,
    sign_mode: &SignMode,
) -> Result<(String, state::Identity), (String, String)> {
    if !known_identity_type(t) {
        return Err(invalid("IdentityType", "The identity type is USER or CLIENT."));
    }
    if !matches!(sign_mode, SignMode::Origin | SignMode::Signed) {
        return Err(invalid("SignMode", "The sign mode is ORIGIN or SIGNED."));
    }
    if username.is_empty() {
        return Err(invalid("Username", "The user name is empty."));
    }
    if secret.is_empty() {
        return Err(invalid("Secret", "The secret is empty."));
    }
    let name = match (t, client_id) {
        (IdentityType::Client, Some(c)) if !c.is_empty() => c,
        (IdentityType::Client, _) => {
            return Err(invalid("ClientId", "A CLIENT identity needs its client ID."));
        }
        _ => username,
    };
    Ok((
        identity_key(t.as_str(), name),
        state::Identity {
            identity_type: t.as_str().to_owned(),
            username: username.to_owned(),
            client_id: client_id.map(str::to_owned),
            secret: secret.to_owned(),
            sign_mode: sign_mode.as_str().to_owned(),
        },
    ))
}

fn new_permission(
    t: &IdentityType,
    identity: &str,
    topic: &str,
    action: &PermitAction,
    effect: &Effect,
) -> Result<state::Permission, (String, String)> {
    if !known_identity_type(t) {
        return Err(invalid("IdentityType", "The identity type is USER or CLIENT."));
    }
    if !matches!(action, PermitAction::Pub | PermitAction::Sub | PermitAction::PubSub) {
        return Err(invalid("PermitAction", "The action is PUB, SUB or PUB_SUB."));
    }
    if !matches!(effect, Effect::Allow | Effect::Deny) {
        return Err(invalid("Effect", "The effect is ALLOW or DENY."));
    }
    if identity.is_empty() {
        return Err(invalid("Identity", "The identity is empty."));
    }
    if topic.is_empty() {
        return Err(invalid("Topic", "The topic is empty."));
    }
    Ok(state::Permission {
        identity_type: t.as_str().to_owned(),
        identity: identity.to_owned(),
        topic: topic.to_owned(),
        permit_action: action.as_str().to_owned(),
        effect: effect.as_str().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_token_pages_cover_everything_once() {
        let items: Vec<(String, u32)> = (0..7).map(|i| (format!("k{i}"), i)).collect();
        let mut token = None;
        let mut seen = Vec::new();
        for _ in 0..10 {
            let (page, next) = token_page(items.clone().into_iter(), token.as_deref(), 3).unwrap();
            seen.extend(page);
            match next {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
        assert!(token_page(items.into_iter(), Some("%%%"), 3).is_err());
    }

    #[test]
    fn page_numbers_and_times() {
        let v: Vec<u32> = (1..=5).collect();
        assert_eq!(number_page(&v, 2, 2), [3, 4]);
        assert_eq!(number_page(&v, 3, 2), [5]);
        assert!(number_page(&v, 4, 2).is_empty());
        assert_eq!(trace_time(1_621_580_899_234), "2021-05-21 07:08:19.234");
        assert!(valid_group_id("GID_test1") && !valid_group_id("GID_") && !valid_group_id("test_1234"));
        assert_eq!(group_of("GID_a@@@dev"), Some("GID_a"));
        assert_eq!(group_of("nodevice"), None);
    }
}
