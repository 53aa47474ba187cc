//! What the broker asks the local service: the lookup trait and an in-memory implementation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, RwLock};

/// A secret (AccessKey secret, device secret, custom-auth secret). `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for computing or checking a signature.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// What a token issued by `ApplyToken` allows, as the service recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Topic patterns the token covers (`ApplyToken`'s `Resources`, split on commas). MQTT
    /// wildcards `+` and `#` are allowed.
    pub resources: Vec<String>,
    /// Whether the token grants reading (subscribing).
    pub read: bool,
    /// Whether the token grants writing (publishing).
    pub write: bool,
    /// When the token stops being valid, in milliseconds since the Unix epoch.
    pub expire_time_ms: i64,
    /// Whether `RevokeToken` revoked it.
    pub revoked: bool,
}

impl TokenInfo {
    /// A token as `ApplyToken` takes it: `resources` comma separated, `actions` `R`, `W` or
    /// `R,W`. `None` when `actions` names anything else.
    pub fn from_apply_token(resources: &str, actions: &str, expire_time_ms: i64) -> Option<Self> {
        let (mut read, mut write) = (false, false);
        for action in actions.split(',').map(str::trim) {
            match action {
                "R" => read = true,
                "W" => write = true,
                _ => return None,
            }
        }
        let resources: Vec<String> =
            resources.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect();
        if resources.is_empty() {
            return None;
        }
        Some(Self { resources, read, write, expire_time_ms, revoked: false })
    }
}

/// A device credential issued by `RegisterDeviceCredential`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredentialInfo {
    /// The client ID the credential is bound to.
    pub client_id: String,
    /// The device AccessKey secret.
    pub secret: Secret,
}

/// How a custom-auth identity's password is formed (`SignMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMode {
    /// `SIGNED`: the password is Base64(HMAC-SHA1(secret, client ID)).
    Signed,
    /// `ORIGIN`: the password is the secret itself.
    Origin,
}

/// What a custom-auth identity is keyed by (`IdentityType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityType {
    /// `USER`: the user name alone; any client ID may use it.
    User,
    /// `CLIENT`: the user name together with one client ID.
    Client,
}

/// A custom-auth identity (`AddCustomAuthIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomIdentity {
    /// `USER` or `CLIENT`.
    pub identity_type: IdentityType,
    /// The MQTT user name.
    pub username: String,
    /// The client ID, for `CLIENT` identities.
    pub client_id: Option<String>,
    /// The secret the password is formed from.
    pub secret: Secret,
    /// How the password is formed from the secret.
    pub sign_mode: SignMode,
}

/// Which MQTT actions a custom-auth permission is about (`PermitAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitAction {
    /// `PUB`: publishing.
    Pub,
    /// `SUB`: subscribing.
    Sub,
    /// `PUB_SUB`: both.
    PubSub,
}

impl PermitAction {
    /// Whether this permission speaks about `action`.
    pub fn covers(self, action: Action) -> bool {
        matches!(
            (self, action),
            (PermitAction::PubSub, _)
                | (PermitAction::Pub, Action::Publish)
                | (PermitAction::Sub, Action::Subscribe)
        )
    }
}

/// A publish or a subscribe, for permission checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Publishing to a topic.
    Publish,
    /// Subscribing to a topic filter.
    Subscribe,
}

/// A custom-auth permission (`AddCustomAuthPermission`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomPermission {
    /// The topic or topic filter (MQTT wildcards allowed).
    pub topic: String,
    /// What it is about.
    pub action: PermitAction,
    /// `ALLOW` (`true`) or `DENY` (`false`).
    pub allow: bool,
}

/// Everything the broker needs to know from the service. The local service implements it
/// over its own state; [`InMemoryAuthSource`] is a ready implementation.
///
/// Calls happen on the broker's tasks for every CONNECT, SUBSCRIBE and PUBLISH: keep them
/// quick (memory or a local database), and never block on the network.
pub trait AuthSource: Send + Sync + 'static {
    /// The secret of an account AccessKey, `None` when the AccessKey ID is unknown.
    fn access_key_secret(&self, access_key_id: &str) -> Option<Secret>;
    /// Whether the instance exists.
    fn instance_exists(&self, instance_id: &str) -> bool;
    /// Whether the group ID exists on the instance.
    fn group_exists(&self, instance_id: &str, group_id: &str) -> bool;
    /// A token issued on the instance (revoked and expired ones included), `None` when the
    /// instance never issued it.
    fn token(&self, instance_id: &str, token: &str) -> Option<TokenInfo>;
    /// The device credential with this device AccessKey ID on the instance.
    fn device_credential(
        &self,
        instance_id: &str,
        device_access_key_id: &str,
    ) -> Option<DeviceCredentialInfo>;
    /// The custom-auth identity of this user name: the `CLIENT` identity for
    /// (`username`, `client_id`) when there is one, else the `USER` identity.
    fn custom_identity(&self, instance_id: &str, username: &str, client_id: &str) -> Option<CustomIdentity>;
    /// The custom-auth permissions recorded for an identity (`identity` is the user name for
    /// `USER`, the client ID for `CLIENT`).
    fn custom_permissions(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        identity: &str,
    ) -> Vec<CustomPermission>;
    /// Whether the client ID is on the instance's connect blacklist.
    fn is_blacklisted(&self, instance_id: &str, client_id: &str) -> bool;
}

#[derive(Default)]
struct Store {
    access_keys: HashMap<String, Secret>,
    groups: HashMap<String, HashSet<String>>,
    tokens: HashMap<(String, String), TokenInfo>,
    device_credentials: HashMap<(String, String), DeviceCredentialInfo>,
    identities: HashMap<(String, IdentityType, String, String), CustomIdentity>,
    permissions: HashMap<(String, IdentityType, String), Vec<CustomPermission>>,
    blacklist: HashSet<(String, String)>,
}

/// An [`AuthSource`] kept in memory, shareable (`Clone` shares the state): for tests and as the
/// store the local service can write into from its API handlers.
#[derive(Clone, Default)]
pub struct InMemoryAuthSource {
    store: Arc<RwLock<Store>>,
}

impl fmt::Debug for InMemoryAuthSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryAuthSource").finish_non_exhaustive()
    }
}

impl InMemoryAuthSource {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds (or replaces) an account AccessKey.
    pub fn add_access_key(&self, access_key_id: &str, secret: impl Into<Secret>) {
        self.write().access_keys.insert(access_key_id.to_owned(), secret.into());
    }

    /// Adds an instance (with no groups).
    pub fn add_instance(&self, instance_id: &str) {
        self.write().groups.entry(instance_id.to_owned()).or_default();
    }

    /// Adds a group ID to an instance, creating the instance when needed.
    pub fn add_group(&self, instance_id: &str, group_id: &str) {
        self.write().groups.entry(instance_id.to_owned()).or_default().insert(group_id.to_owned());
    }

    /// Removes a group ID.
    pub fn remove_group(&self, instance_id: &str, group_id: &str) {
        if let Some(groups) = self.write().groups.get_mut(instance_id) {
            groups.remove(group_id);
        }
    }

    /// Records a token issued on the instance.
    pub fn add_token(&self, instance_id: &str, token: &str, info: TokenInfo) {
        self.write().tokens.insert((instance_id.to_owned(), token.to_owned()), info);
    }

    /// Marks a token revoked; `false` when the instance never issued it.
    pub fn revoke_token(&self, instance_id: &str, token: &str) -> bool {
        match self.write().tokens.get_mut(&(instance_id.to_owned(), token.to_owned())) {
            Some(info) => {
                info.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Records a device credential.
    pub fn add_device_credential(
        &self,
        instance_id: &str,
        device_access_key_id: &str,
        client_id: &str,
        secret: impl Into<Secret>,
    ) {
        self.write().device_credentials.insert(
            (instance_id.to_owned(), device_access_key_id.to_owned()),
            DeviceCredentialInfo { client_id: client_id.to_owned(), secret: secret.into() },
        );
    }

    /// Removes the device credentials of a client ID (`UnRegisterDeviceCredential`).
    pub fn remove_device_credentials_of(&self, instance_id: &str, client_id: &str) {
        self.write()
            .device_credentials
            .retain(|(instance, _), cred| !(instance == instance_id && cred.client_id == client_id));
    }

    /// Adds or replaces a custom-auth identity.
    pub fn add_custom_identity(&self, instance_id: &str, identity: CustomIdentity) {
        let key = (
            instance_id.to_owned(),
            identity.identity_type,
            identity.username.clone(),
            identity.client_id.clone().unwrap_or_default(),
        );
        self.write().identities.insert(key, identity);
    }

    /// Removes a custom-auth identity.
    pub fn remove_custom_identity(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        username: &str,
        client_id: Option<&str>,
    ) {
        let key = (
            instance_id.to_owned(),
            identity_type,
            username.to_owned(),
            client_id.unwrap_or_default().to_owned(),
        );
        self.write().identities.remove(&key);
    }

    /// Adds or replaces (same topic) a custom-auth permission of an identity.
    pub fn set_custom_permission(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        identity: &str,
        permission: CustomPermission,
    ) {
        let mut store = self.write();
        let list = store
            .permissions
            .entry((instance_id.to_owned(), identity_type, identity.to_owned()))
            .or_default();
        list.retain(|p| p.topic != permission.topic);
        list.push(permission);
    }

    /// Removes a custom-auth permission.
    pub fn remove_custom_permission(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        identity: &str,
        topic: &str,
    ) {
        if let Some(list) =
            self.write().permissions.get_mut(&(instance_id.to_owned(), identity_type, identity.to_owned()))
        {
            list.retain(|p| p.topic != topic);
        }
    }

    /// Puts a client ID on the connect blacklist.
    pub fn add_blacklist(&self, instance_id: &str, client_id: &str) {
        self.write().blacklist.insert((instance_id.to_owned(), client_id.to_owned()));
    }

    /// Takes a client ID off the connect blacklist.
    pub fn remove_blacklist(&self, instance_id: &str, client_id: &str) {
        self.write().blacklist.remove(&(instance_id.to_owned(), client_id.to_owned()));
    }
}

impl AuthSource for InMemoryAuthSource {
    fn access_key_secret(&self, access_key_id: &str) -> Option<Secret> {
        self.read().access_keys.get(access_key_id).cloned()
    }

    fn instance_exists(&self, instance_id: &str) -> bool {
        self.read().groups.contains_key(instance_id)
    }

    fn group_exists(&self, instance_id: &str, group_id: &str) -> bool {
        self.read().groups.get(instance_id).is_some_and(|groups| groups.contains(group_id))
    }

    fn token(&self, instance_id: &str, token: &str) -> Option<TokenInfo> {
        self.read().tokens.get(&(instance_id.to_owned(), token.to_owned())).cloned()
    }

    fn device_credential(
        &self,
        instance_id: &str,
        device_access_key_id: &str,
    ) -> Option<DeviceCredentialInfo> {
        self.read()
            .device_credentials
            .get(&(instance_id.to_owned(), device_access_key_id.to_owned()))
            .cloned()
    }

    fn custom_identity(&self, instance_id: &str, username: &str, client_id: &str) -> Option<CustomIdentity> {
        let store = self.read();
        let client_key =
            (instance_id.to_owned(), IdentityType::Client, username.to_owned(), client_id.to_owned());
        if let Some(identity) = store.identities.get(&client_key) {
            return Some(identity.clone());
        }
        let user_key = (instance_id.to_owned(), IdentityType::User, username.to_owned(), String::new());
        store.identities.get(&user_key).cloned()
    }

    fn custom_permissions(
        &self,
        instance_id: &str,
        identity_type: IdentityType,
        identity: &str,
    ) -> Vec<CustomPermission> {
        self.read()
            .permissions
            .get(&(instance_id.to_owned(), identity_type, identity.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn is_blacklisted(&self, instance_id: &str, client_id: &str) -> bool {
        self.read().blacklist.contains(&(instance_id.to_owned(), client_id.to_owned()))
    }
}
