//! What every route shares: the cluster client, the watched stores, the
//! renderer, the login limiter, and the checks every route makes (who is
//! asking, may they).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, Method};
use sextant_render::Renderer;
use tokio::sync::Semaphore;

use crate::auth::ratelimit::LoginLimiter;
use crate::auth::{self, Principal};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::watch::Readiness;
use crate::watch::apps::AppStore;
use crate::watch::objects::ObjectStore;
use crate::watch::settings::Settings;
use crate::watch::tree::TreeCache;

/// The shared state.
pub struct AppState {
    /// How the server was started.
    pub config: ServerConfig,
    /// The cluster.
    pub client: kube::Client,
    /// Applications.
    pub apps: Arc<AppStore>,
    /// ConfigMaps and Secrets of the namespace.
    pub settings: Arc<Settings>,
    /// AppProjects.
    pub projects: Arc<ObjectStore>,
    /// ApplicationSets.
    pub appsets: Arc<ObjectStore>,
    /// Objects for resource trees and live state.
    pub tree: Arc<TreeCache>,
    /// Git + render cache, for diffs and manifests.
    pub renderer: Arc<Renderer>,
    /// Failed logins.
    pub limiter: LoginLimiter,
    /// Sessions logged out, until they would have expired (id -> exp).
    pub revoked: Mutex<HashMap<String, i64>>,
    /// At most a few password hashes at once (argon2 is expensive by
    /// design; unbounded, it would be a way to exhaust the CPU).
    pub hashing: Semaphore,
    /// The watches /readyz waits for.
    pub readiness: Vec<Readiness>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("namespace", &self.config.namespace)
            .finish_non_exhaustive()
    }
}

/// Now, Unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl AppState {
    /// Who is asking (401/403 as [`auth::authenticate`] says).
    pub fn principal(&self, method: &Method, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let now = now();
        let revoked = |id: &str| {
            self.revoked
                .lock()
                .map(|r| r.contains_key(id))
                .unwrap_or(true)
        };
        auth::authenticate(&self.settings, &revoked, method, headers, now)
    }

    /// Forget a session (logout).
    pub fn revoke(&self, id: &str, exp: Option<i64>) {
        if let Ok(mut r) = self.revoked.lock() {
            let now = now();
            r.retain(|_, e| *e > now);
            r.insert(id.to_owned(), exp.unwrap_or(now + 7 * 24 * 3600));
        }
    }

    /// May `who` do `action` on `resource` `object`? 403 naming all of it
    /// when not.
    pub fn authorize(
        &self,
        who: &Principal,
        resource: &str,
        action: &str,
        object: &str,
    ) -> Result<(), ApiError> {
        if self.can(who, resource, action, object) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "permission denied: {resource}, {action}, {object} (account {}); an admin can grant it in ConfigMap {}/{} (policy.csv)",
                who.name,
                self.config.namespace,
                crate::rbac::rbac_configmap()
            )))
        }
    }

    /// The same check as a boolean (for filtering lists).
    pub fn can(&self, who: &Principal, resource: &str, action: &str, object: &str) -> bool {
        self.settings
            .policy()
            .is_some_and(|p| p.allows(&who.name, resource, action, object))
    }

    /// [`AppState::can`] for many objects of one resource and action (a
    /// list): the policy's rules for `who` resolved once.
    pub fn scope(&self, who: &Principal, resource: &str, action: &str) -> crate::rbac::Scope {
        self.settings
            .policy()
            .map_or_else(crate::rbac::Scope::none, |p| {
                p.scope(&who.name, resource, action)
            })
    }

    /// True once every watch has listed.
    pub fn ready(&self) -> bool {
        self.readiness.iter().all(crate::watch::is_listed) && self.settings.policy().is_some()
    }
}

/// The shared state as routes hold it.
pub type Shared = Arc<AppState>;
