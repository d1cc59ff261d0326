//! How a controller runs: which namespace it serves, where it caches Git
//! and renders, how often it polls Git, how long self-heal waits.

use std::path::PathBuf;
use std::time::Duration;

use sextant_engine::diff::IgnoreRule;
use sextant_engine::health::HealthCustomizations;
use sextant_render::ToolConfig;

/// Settings of a [`crate::Controller`].
#[derive(Clone, Debug)]
pub struct ControllerConfig {
    /// The namespace whose Applications are reconciled (`sextant`).
    pub namespace: String,
    /// Where Git mirrors, snapshots and renders are cached.
    pub cache_dir: PathBuf,
    /// helm / kustomize locations and limits.
    pub tools: ToolConfig,
    /// How often each app's revision is re-resolved in Git (default 3
    /// minutes); the `sextant.dev/refresh` annotation asks for it at once.
    pub repo_poll_interval: Duration,
    /// Every app is re-evaluated this often even when nothing it follows
    /// changed (default 10 minutes); a safety net, and how often
    /// `reconciledAt` advances on a quiet app.
    pub resync_interval: Duration,
    /// Self-heal waits this long after the app's last sync before it
    /// re-syncs drift (default 5 s), so a fight with another writer cannot
    /// spin.
    pub self_heal_delay: Duration,
    /// How long one step of a sync (a wave, a hook) may wait for its
    /// objects to be Healthy or its hooks to finish before the sync fails
    /// (default 10 minutes).
    pub sync_wait_timeout: Duration,
    /// How many apps are reconciled at once.
    pub workers: usize,
    /// Lua health checks (Argo CD's resource-customizations layout).
    pub health: HealthCustomizations,
    /// ignoreDifferences rules for every app, on top of each app's own.
    pub system_ignore: Vec<IgnoreRule>,
    /// Take a Lease before reconciling, so only one controller of the
    /// namespace acts (`None`: act at once, alone by assumption).
    pub leader_election: Option<crate::leader::LeaseConfig>,
}

impl ControllerConfig {
    /// Defaults for the given namespace and cache folder.
    pub fn new(namespace: impl Into<String>, cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            namespace: namespace.into(),
            cache_dir: cache_dir.into(),
            tools: ToolConfig::default(),
            repo_poll_interval: Duration::from_secs(180),
            resync_interval: Duration::from_secs(600),
            self_heal_delay: Duration::from_secs(5),
            sync_wait_timeout: Duration::from_secs(600),
            workers: 8,
            health: HealthCustomizations::new(),
            system_ignore: Vec::new(),
            leader_election: None,
        }
    }
}
