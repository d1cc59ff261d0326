//! Notifications, configured as Argo CD's notifications are, so existing
//! `argocd-notifications-cm` ConfigMaps work unchanged:
//!
//! - `config.rs`: the ConfigMap (`service.<type>[.<name>]`, `template.<name>`,
//!   `trigger.<name>`, `subscriptions`, `context`) with `$secret` references
//!   resolved from the notifications Secret; built-in triggers and
//!   templates (`builtin.rs`) fill in what the ConfigMap does not define.
//! - `trigger.rs`: trigger conditions in expr (the language Argo CD's are
//!   written in) over `app`, with `oncePer`.
//! - `subscribe.rs`: who wants what: `notifications.sextant.dev/subscribe.<trigger>.<service>`
//!   (and Argo CD's `notifications.argoproj.io/...`) on Applications and
//!   AppProjects, and the ConfigMap's default subscriptions.
//! - `state.rs`: what was sent already (an annotation on the app), so a
//!   condition that stays true, or a flapping app, does not flood a channel.
//! - `render.rs`: a template rendered for an app (Go templates, the
//!   ApplicationSet engine).
//! - `send.rs`: delivery to Slack, Microsoft Teams, webhooks, e-mail (SMTP)
//!   and GitHub commit statuses.
//!
//! No cluster IO: the controller feeds it Applications and configuration.

pub mod builtin;
pub mod config;
pub mod render;
pub mod send;
pub mod state;
pub mod subscribe;
pub mod trigger;

pub use config::{Config, ServiceConfig};
pub use render::Notification;
pub use subscribe::Destination;
