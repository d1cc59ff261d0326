//! AppProject rules, as Argo CD documents them: which repositories,
//! destinations and kinds an app may use (`rules.rs`), and when it may
//! sync (`windows.rs`). Pure: the project and the app come in as data.

mod rules;
mod windows;

pub use rules::{
    Destination, app_violations, destination_permitted, kind_denial, repo_permitted,
    source_namespace_permitted,
};
pub use windows::{SyncWindowState, WindowVerdict, window_states, window_verdict};
