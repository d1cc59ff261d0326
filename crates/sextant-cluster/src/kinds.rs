//! Kinds as the API server serves them: `apiVersion` + `kind` to the
//! resource path and scope, through discovery, remembered once found.
//! A kind that is not served (its CRD not installed yet) is asked about
//! again next time, so it is picked up as soon as it appears.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::Client;
use kube::api::{ApiResource, DynamicObject};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};

use crate::words;

/// How a served kind is reached.
#[derive(Clone, Debug)]
pub struct KindInfo {
    /// Group, version, plural.
    pub resource: ApiResource,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
}

/// Discovery with memory.
pub struct Kinds {
    client: Client,
    known: Mutex<HashMap<(String, String), KindInfo>>,
}

impl std::fmt::Debug for Kinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kinds").finish_non_exhaustive()
    }
}

impl Kinds {
    /// Discovery through `client`.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The client in use.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How `kind` in `api_version` is served, `Ok(None)` when it is not
    /// (yet), or why discovery failed.
    pub async fn lookup(&self, api_version: &str, kind: &str) -> Result<Option<KindInfo>, String> {
        let key = (api_version.to_owned(), kind.to_owned());
        if let Some(info) = self.known.lock().ok().and_then(|k| k.get(&key).cloned()) {
            return Ok(Some(info));
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let gvk = GroupVersionKind::gvk(group, version, kind);
        match discovery::pinned_kind(&self.client, &gvk).await {
            Ok((resource, caps)) => {
                let info = KindInfo {
                    resource,
                    namespaced: caps.scope == Scope::Namespaced,
                };
                if let Ok(mut known) = self.known.lock() {
                    known.insert(key, info.clone());
                }
                Ok(Some(info))
            }
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(e) => Err(format!(
                "could not look up kind {kind} in {api_version}: {}",
                words(&e)
            )),
        }
    }

    /// A dynamic API for objects of a served kind (`namespace` is ignored
    /// for cluster-scoped kinds).
    pub fn api(&self, info: &KindInfo, namespace: &str) -> kube::Api<DynamicObject> {
        if info.namespaced {
            kube::Api::namespaced_with(self.client.clone(), namespace, &info.resource)
        } else {
            kube::Api::all_with(self.client.clone(), &info.resource)
        }
    }
}
