//! The words of a sync as they appear in an Application's status and in
//! annotations, typed: phases of a sync, hook types and delete policies,
//! operation phases and per-object result codes. Each `as_str` is the
//! exact spelling Argo CD uses, so status readers and manifests carry over.

use std::fmt;

macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The spelling in status and annotations.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Parse the exact spelling (`None` for anything else).
            pub fn parse(text: &str) -> Option<Self> {
                match text.trim() {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words! {
    /// The phases of a sync, in the order they run (SyncFail only when
    /// another phase failed, PostDelete only when the app is deleted).
    SyncPhase {
        /// Before anything else (a migration Job).
        PreSync = "PreSync",
        /// The app's objects, wave by wave.
        Sync = "Sync",
        /// Once the Sync phase's objects are Healthy (a smoke test).
        PostSync = "PostSync",
        /// When a phase failed.
        SyncFail = "SyncFail",
        /// After the app and its objects were deleted.
        PostDelete = "PostDelete",
    }
}

words! {
    /// The value of the hook annotation (`sextant.dev/hook` or
    /// `argocd.argoproj.io/hook`): a phase, or Skip (never applied).
    HookType {
        /// Runs in PreSync.
        PreSync = "PreSync",
        /// Runs in the Sync phase, beside the app's objects.
        Sync = "Sync",
        /// Runs in PostSync.
        PostSync = "PostSync",
        /// Runs when the sync failed.
        SyncFail = "SyncFail",
        /// Runs after the app was deleted.
        PostDelete = "PostDelete",
        /// Never applied.
        Skip = "Skip",
    }
}

impl HookType {
    /// The phase a hook of this type runs in (`None` for Skip).
    pub fn phase(self) -> Option<SyncPhase> {
        Some(match self {
            HookType::PreSync => SyncPhase::PreSync,
            HookType::Sync => SyncPhase::Sync,
            HookType::PostSync => SyncPhase::PostSync,
            HookType::SyncFail => SyncPhase::SyncFail,
            HookType::PostDelete => SyncPhase::PostDelete,
            HookType::Skip => return None,
        })
    }
}

words! {
    /// When a hook object is deleted (`hook-delete-policy`).
    HookDeletePolicy {
        /// Once it succeeded.
        HookSucceeded = "HookSucceeded",
        /// Once it failed.
        HookFailed = "HookFailed",
        /// Just before a new one is created (the default).
        BeforeHookCreation = "BeforeHookCreation",
    }
}

words! {
    /// `status.operationState.phase`, and a task's `hookPhase`.
    OperationPhase {
        /// Under way.
        Running = "Running",
        /// Being stopped at a safe point.
        Terminating = "Terminating",
        /// Done.
        Succeeded = "Succeeded",
        /// Done, with a failure of the sync.
        Failed = "Failed",
        /// Done, with an error of the controller.
        Error = "Error",
    }
}

impl OperationPhase {
    /// Whether the phase is final.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OperationPhase::Succeeded | OperationPhase::Failed | OperationPhase::Error
        )
    }
}

words! {
    /// `syncResult.resources[].status`: what a sync did to one object.
    ResultCode {
        /// Applied (or unchanged).
        Synced = "Synced",
        /// Could not be applied, or the sync stopped on it.
        SyncFailed = "SyncFailed",
        /// Deleted because Git no longer has it.
        Pruned = "Pruned",
        /// Not deleted although Git no longer has it.
        PruneSkipped = "PruneSkipped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_parses_back_from_its_spelling() {
        for p in SyncPhase::ALL {
            assert_eq!(SyncPhase::parse(p.as_str()), Some(*p));
        }
        for h in HookType::ALL {
            assert_eq!(HookType::parse(h.as_str()), Some(*h));
        }
        for d in HookDeletePolicy::ALL {
            assert_eq!(HookDeletePolicy::parse(d.as_str()), Some(*d));
        }
        for o in OperationPhase::ALL {
            assert_eq!(OperationPhase::parse(o.as_str()), Some(*o));
        }
        for r in ResultCode::ALL {
            assert_eq!(ResultCode::parse(r.as_str()), Some(*r));
        }
        assert_eq!(HookType::parse("presync"), None, "spellings are exact");
        assert_eq!(HookType::Skip.phase(), None);
        assert!(SyncPhase::PreSync < SyncPhase::Sync && SyncPhase::Sync < SyncPhase::PostSync);
    }
}
