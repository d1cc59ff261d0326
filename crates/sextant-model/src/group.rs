//! The API group a process serves: Sextant's own (`sextant.dev`) or Argo
//! CD's (`argoproj.io`), so a team can run Sextant on the Applications,
//! ApplicationSets and AppProjects Argo CD left behind, unchanged.
//!
//! The group is chosen once, at start-up (`--api-group`), and holds for the
//! whole process: the same Rust types then read and write either group,
//! and the names Sextant writes on managed objects (the tracking
//! annotation) follow it. It is process-wide rather than threaded through
//! every call because a controller never serves two groups at once, and
//! every `Api<Application>` in the code base must agree on it.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// An API group Sextant can serve its resources under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ApiGroup {
    /// `sextant.dev/v1alpha1`.
    #[default]
    Sextant,
    /// Argo CD's `argoproj.io/v1alpha1`.
    ArgoCd,
}

impl ApiGroup {
    /// The group's name.
    pub fn name(self) -> &'static str {
        match self {
            ApiGroup::Sextant => crate::SEXTANT_GROUP,
            ApiGroup::ArgoCd => "argoproj.io",
        }
    }

    /// `group/version`.
    pub fn api_version(self) -> &'static str {
        match self {
            ApiGroup::Sextant => crate::SEXTANT_API_VERSION,
            ApiGroup::ArgoCd => "argoproj.io/v1alpha1",
        }
    }

    /// The namespace the controller and server use when none is given:
    /// where each product installs itself.
    pub fn default_namespace(self) -> &'static str {
        match self {
            ApiGroup::Sextant => "sextant",
            ApiGroup::ArgoCd => "argocd",
        }
    }

    /// The annotation that marks a managed object as an app's (Argo CD's own
    /// name under its group, so objects it deployed are recognized).
    pub fn tracking_annotation(self) -> &'static str {
        match self {
            ApiGroup::Sextant => crate::annotations::TRACKING_ID,
            ApiGroup::ArgoCd => crate::annotations::ARGOCD_TRACKING_ID,
        }
    }

    /// The ConfigMap of settings (accounts, resource customizations, ...).
    pub fn settings_config_map(self) -> &'static str {
        match self {
            ApiGroup::Sextant => "sextant-cm",
            ApiGroup::ArgoCd => "argocd-cm",
        }
    }

    /// The Secret of password hashes, tokens and the signing key.
    pub fn settings_secret(self) -> &'static str {
        match self {
            ApiGroup::Sextant => "sextant-secret",
            ApiGroup::ArgoCd => "argocd-secret",
        }
    }

    /// The Secret holding the generated first admin password.
    pub fn initial_admin_secret(self) -> &'static str {
        match self {
            ApiGroup::Sextant => "sextant-initial-admin-secret",
            ApiGroup::ArgoCd => "argocd-initial-admin-secret",
        }
    }

    /// The ConfigMap of the API server's RBAC policy.
    pub fn rbac_config_map(self) -> &'static str {
        match self {
            ApiGroup::Sextant => "sextant-rbac-cm",
            ApiGroup::ArgoCd => "argocd-rbac-cm",
        }
    }

    /// The finalizer Sextant adds when an Application's deletion must delete
    /// its resources first (both spellings are always honoured).
    pub fn resources_finalizer(self) -> &'static str {
        match self {
            ApiGroup::Sextant => crate::annotations::RESOURCES_FINALIZER,
            ApiGroup::ArgoCd => crate::annotations::ARGOCD_RESOURCES_FINALIZER,
        }
    }

    /// Whether `api_version` (`group/version`) is an Application of either
    /// group Sextant knows.
    pub fn is_known_api_version(api_version: &str) -> bool {
        [ApiGroup::Sextant, ApiGroup::ArgoCd]
            .iter()
            .any(|g| g.api_version() == api_version)
    }
}

impl fmt::Display for ApiGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An `--api-group` value that is neither group.
#[derive(Debug, thiserror::Error)]
#[error("unknown API group `{0}`: use sextant.dev (Sextant's own) or argoproj.io (Argo CD's)")]
pub struct UnknownGroup(String);

impl FromStr for ApiGroup {
    type Err = UnknownGroup;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sextant.dev" => Ok(ApiGroup::Sextant),
            "argoproj.io" => Ok(ApiGroup::ArgoCd),
            other => Err(UnknownGroup(other.to_owned())),
        }
    }
}

static SELECTED: OnceLock<ApiGroup> = OnceLock::new();

/// A second, different choice of group in one process.
#[derive(Debug, thiserror::Error)]
#[error("this process already serves API group {current}; it cannot switch to {wanted}")]
pub struct AlreadySelected {
    /// The group in force.
    pub current: ApiGroup,
    /// The group asked for.
    pub wanted: ApiGroup,
}

/// Choose the process's group. Choosing the group already in force is fine;
/// a different one is refused (objects already read would disagree).
pub fn select(group: ApiGroup) -> Result<(), AlreadySelected> {
    let current = *SELECTED.get_or_init(|| group);
    if current == group {
        Ok(())
    } else {
        Err(AlreadySelected {
            current,
            wanted: group,
        })
    }
}

/// The process's group: the one chosen by [`select`], else `sextant.dev`.
pub fn selected() -> ApiGroup {
    SELECTED.get().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_parse_from_their_names_and_name_their_versions() {
        assert_eq!(
            "argoproj.io".parse::<ApiGroup>().ok(),
            Some(ApiGroup::ArgoCd)
        );
        assert_eq!(
            "sextant.dev".parse::<ApiGroup>().ok(),
            Some(ApiGroup::Sextant)
        );
        let e = "argoproj".parse::<ApiGroup>().err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("argoproj.io")));
        assert_eq!(ApiGroup::ArgoCd.api_version(), "argoproj.io/v1alpha1");
        assert_eq!(ApiGroup::ArgoCd.default_namespace(), "argocd");
        assert_eq!(
            ApiGroup::ArgoCd.tracking_annotation(),
            "argocd.argoproj.io/tracking-id"
        );
        assert!(ApiGroup::is_known_api_version("argoproj.io/v1alpha1"));
        assert!(!ApiGroup::is_known_api_version("argoproj.io/v1"));
    }

    // The unit tests of this crate never select a group, so the default is
    // what every other test here sees.
    #[test]
    fn the_default_group_is_sextants_own() {
        assert_eq!(selected(), ApiGroup::Sextant);
        assert!(select(ApiGroup::Sextant).is_ok());
        let refused = select(ApiGroup::ArgoCd).err().map(|e| e.to_string());
        assert!(refused.is_some_and(|e| e.contains("cannot switch to argoproj.io")));
    }
}
