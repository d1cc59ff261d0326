//! The settings of the namespace, watched: the ConfigMaps (`sextant-cm`,
//! `sextant-rbac-cm`) and Secrets (`sextant-secret`, repository and
//! cluster Secrets). Accounts and the RBAC policy are rebuilt when their
//! objects change, so a policy or account edit applies without a restart.
//! Secret values stay in memory, never in a response.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use kube::api::DynamicObject;
use serde_json::Value;
use tokio::sync::Notify;

use super::Change;
use crate::auth::accounts::{Accounts, SECRET_KEY_FIELD, settings_configmap, settings_secret};
use crate::rbac::{Policy, rbac_configmap};

/// A Secret as the server keeps it.
#[derive(Debug, Clone, Default)]
pub struct SecretData {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its values, decoded (`stringData` never reaches a watch).
    pub data: BTreeMap<String, String>,
    /// Its resourceVersion.
    pub resource_version: String,
}

#[derive(Default)]
struct Inner {
    configmaps: BTreeMap<String, BTreeMap<String, String>>,
    secrets: BTreeMap<String, SecretData>,
    accounts: Arc<Accounts>,
    policy: Option<Arc<Policy>>,
    policy_source: Option<BTreeMap<String, String>>,
}

/// The watched settings.
pub struct Settings {
    inner: RwLock<Inner>,
    /// Git credentials from repository Secrets, as the controller reads
    /// them (same labels, same matching).
    pub repo_creds: sextant_controller::repo_creds::RepoCredentials,
    /// Woken when the RBAC ConfigMap changed and the policy must be
    /// rebuilt (casbin builds asynchronously).
    pub policy_changed: Notify,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings").finish_non_exhaustive()
    }
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn secret_of(obj: &DynamicObject) -> SecretData {
    let data = obj
        .data
        .get("data")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(v.as_str()?)
                        .ok()?;
                    Some((k.clone(), String::from_utf8(bytes).ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    SecretData {
        labels: obj.metadata.labels.clone().unwrap_or_default(),
        data,
        resource_version: obj.metadata.resource_version.clone().unwrap_or_default(),
    }
}

impl Settings {
    /// Empty settings of `namespace` (filled by the watches).
    pub fn new(namespace: &str) -> Self {
        Settings {
            inner: RwLock::default(),
            repo_creds: sextant_controller::repo_creds::RepoCredentials::new(namespace),
            policy_changed: Notify::new(),
        }
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A ConfigMap change.
    pub fn apply_configmaps(&self, change: Change) {
        {
            let mut inner = self.write();
            match change {
                Change::Reset(objs) => {
                    inner.configmaps = objs
                        .iter()
                        .map(|o| {
                            (
                                o.metadata.name.clone().unwrap_or_default(),
                                string_map(o.data.get("data")),
                            )
                        })
                        .collect();
                }
                Change::Apply(o) => {
                    inner.configmaps.insert(
                        o.metadata.name.clone().unwrap_or_default(),
                        string_map(o.data.get("data")),
                    );
                }
                Change::Delete(o) => {
                    inner
                        .configmaps
                        .remove(&o.metadata.name.clone().unwrap_or_default());
                }
            }
            rebuild_accounts(&mut inner);
            self.repo_creds
                .set_config_maps(|name| inner.configmaps.get(name));
        }
        self.policy_changed.notify_one();
    }

    /// A Secret change.
    pub fn apply_secrets(&self, change: Change) {
        let as_secret = |o: &DynamicObject| {
            serde_json::to_value(o)
                .and_then(serde_json::from_value::<k8s_openapi::api::core::v1::Secret>)
                .ok()
        };
        match &change {
            Change::Reset(objs) => {
                let names = objs
                    .iter()
                    .filter_map(|o| o.metadata.name.clone())
                    .collect();
                self.repo_creds.retain(&names);
                for s in objs.iter().filter_map(as_secret) {
                    self.repo_creds.upsert(&s);
                }
            }
            Change::Apply(o) => {
                if let Some(s) = as_secret(o) {
                    self.repo_creds.upsert(&s);
                }
            }
            Change::Delete(o) => {
                if let Some(name) = &o.metadata.name {
                    self.repo_creds.remove(name);
                }
            }
        }
        let mut inner = self.write();
        match change {
            Change::Reset(objs) => {
                inner.secrets = objs
                    .iter()
                    .map(|o| (o.metadata.name.clone().unwrap_or_default(), secret_of(o)))
                    .collect();
            }
            Change::Apply(o) => {
                let name = o.metadata.name.clone().unwrap_or_default();
                let fresh = secret_of(&o);
                // The server applies its own writes before the watch
                // delivers them; never go back to an older version.
                let older = inner.secrets.get(&name).is_some_and(|old| {
                    matches!(
                        (old.resource_version.parse::<u64>(), fresh.resource_version.parse::<u64>()),
                        (Ok(a), Ok(b)) if b < a
                    )
                });
                if !older {
                    inner.secrets.insert(name, fresh);
                }
            }
            Change::Delete(o) => {
                inner
                    .secrets
                    .remove(&o.metadata.name.clone().unwrap_or_default());
            }
        }
        rebuild_accounts(&mut inner);
    }

    /// The data of the RBAC ConfigMap if it changed since the policy was
    /// last built (`Some(empty)` when it is absent).
    pub fn policy_source_if_changed(&self) -> Option<BTreeMap<String, String>> {
        let inner = self.read();
        let now = inner
            .configmaps
            .get(rbac_configmap())
            .cloned()
            .unwrap_or_default();
        if inner.policy.is_some() && inner.policy_source.as_ref() == Some(&now) {
            None
        } else {
            Some(now)
        }
    }

    /// Install a policy built from `source`.
    pub fn set_policy(&self, policy: Policy, source: BTreeMap<String, String>) {
        let mut inner = self.write();
        inner.policy = Some(Arc::new(policy));
        inner.policy_source = Some(source);
    }

    /// The accounts.
    pub fn accounts(&self) -> Arc<Accounts> {
        self.read().accounts.clone()
    }

    /// The RBAC policy (none until first built).
    pub fn policy(&self) -> Option<Arc<Policy>> {
        self.read().policy.clone()
    }

    /// The token signing key, once the settings Secret has one.
    pub fn secret_key(&self) -> Option<Vec<u8>> {
        self.read()
            .secrets
            .get(settings_secret())
            .and_then(|s| s.data.get(SECRET_KEY_FIELD))
            .filter(|k| k.len() >= 32)
            .map(|k| k.as_bytes().to_vec())
    }

    /// The general settings (`sextant-cm`).
    pub fn general(&self) -> BTreeMap<String, String> {
        self.read()
            .configmaps
            .get(settings_configmap())
            .cloned()
            .unwrap_or_default()
    }

    /// A ConfigMap's data.
    pub fn configmap(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.read().configmaps.get(name).cloned()
    }

    /// The Secrets whose label `key` (either spelling) has one of `values`.
    pub fn secrets_labelled(&self, values: &[&str]) -> Vec<(String, SecretData)> {
        self.read()
            .secrets
            .iter()
            .filter(|(_, s)| {
                ["sextant.dev/secret-type", "argocd.argoproj.io/secret-type"]
                    .iter()
                    .any(|k| {
                        s.labels
                            .get(*k)
                            .is_some_and(|v| values.contains(&v.as_str()))
                    })
            })
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect()
    }

    /// A Secret by name.
    pub fn secret(&self, name: &str) -> Option<SecretData> {
        self.read().secrets.get(name).cloned()
    }
}

fn rebuild_accounts(inner: &mut Inner) {
    let cm = inner
        .configmaps
        .get(settings_configmap())
        .cloned()
        .unwrap_or_default();
    let secret = inner
        .secrets
        .get(settings_secret())
        .map(|s| s.data.clone())
        .unwrap_or_default();
    inner.accounts = Arc::new(Accounts::from_settings(&cm, &secret));
}
