//! Sync options, as `syncPolicy.syncOptions` lists them for an app and the
//! `sync-options` annotation for one object (`Key=value`, Argo CD's
//! words). Every option is known or refused: an unknown one is an error
//! that lists the known ones, never silently ignored.

use std::collections::BTreeSet;
use std::fmt;

/// One option that is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyncOption {
    /// `CreateNamespace=true`: create the destination namespace first.
    CreateNamespace,
    /// `PruneLast=true`: prune after every phase and wave.
    PruneLast,
    /// `ApplyOutOfSyncOnly=true`: apply only objects that differ.
    ApplyOutOfSyncOnly,
    /// `Replace=true`: replace (create or PUT) instead of apply.
    Replace,
    /// `Force=true`: delete and re-create when the API server refuses a
    /// change of an immutable field.
    Force,
    /// `ServerSideApply=false`: client-side apply with the
    /// last-applied-configuration annotation, as kubectl does.
    ClientSideApply,
    /// `Validate=false`: skip schema validation on the API server.
    ValidateFalse,
    /// `SkipDryRunOnMissingResource=true`: do not dry-run an object whose
    /// kind is not served yet.
    SkipDryRunOnMissingResource,
    /// `RespectIgnoreDifferences=true`: keep live values of ignored fields
    /// when applying.
    RespectIgnoreDifferences,
    /// `FailOnSharedResource=true`: fail when an object belongs to another app.
    FailOnSharedResource,
    /// `Prune=false`: never prune this object.
    PruneFalse,
    /// `Delete=false`: never delete this object (not with its app either).
    DeleteFalse,
}

/// How pruned objects' dependents are deleted (`PrunePropagationPolicy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted first.
    Foreground,
    /// Dependents are deleted after (the default).
    #[default]
    Background,
    /// Dependents are kept.
    Orphan,
}

impl Propagation {
    /// The API server's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Foreground => "Foreground",
            Propagation::Background => "Background",
            Propagation::Orphan => "Orphan",
        }
    }
}

/// Where an option is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    App,
    Object,
    Both,
}

/// Key, what it means when true, when false, and where it may be written.
type Entry = (&'static str, Option<SyncOption>, Option<SyncOption>, Scope);

const KNOWN: &[Entry] = &[
    (
        "CreateNamespace",
        Some(SyncOption::CreateNamespace),
        None,
        Scope::App,
    ),
    ("PruneLast", Some(SyncOption::PruneLast), None, Scope::Both),
    (
        "ApplyOutOfSyncOnly",
        Some(SyncOption::ApplyOutOfSyncOnly),
        None,
        Scope::App,
    ),
    ("Replace", Some(SyncOption::Replace), None, Scope::Both),
    ("Force", Some(SyncOption::Force), None, Scope::Both),
    (
        "ServerSideApply",
        None,
        Some(SyncOption::ClientSideApply),
        Scope::Both,
    ),
    (
        "Validate",
        None,
        Some(SyncOption::ValidateFalse),
        Scope::Both,
    ),
    (
        "SkipDryRunOnMissingResource",
        Some(SyncOption::SkipDryRunOnMissingResource),
        None,
        Scope::Both,
    ),
    (
        "RespectIgnoreDifferences",
        Some(SyncOption::RespectIgnoreDifferences),
        None,
        Scope::App,
    ),
    (
        "FailOnSharedResource",
        Some(SyncOption::FailOnSharedResource),
        None,
        Scope::App,
    ),
    ("Prune", None, Some(SyncOption::PruneFalse), Scope::Object),
    ("Delete", None, Some(SyncOption::DeleteFalse), Scope::Object),
];

const PROPAGATION_KEY: &str = "PrunePropagationPolicy";

/// A sync option that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    /// Not an option Sextant knows.
    #[error("unknown sync option `{option}` (known: {known})")]
    Unknown {
        /// As written.
        option: String,
        /// The known keys.
        known: String,
    },
    /// A known key with a value it does not take.
    #[error("sync option `{option}` takes {allowed}")]
    Value {
        /// As written.
        option: String,
        /// What it takes.
        allowed: &'static str,
    },
    /// An option of the other place (an app's option on an object, or
    /// the reverse).
    #[error("sync option `{option}` is set {place}")]
    Place {
        /// As written.
        option: String,
        /// Where it belongs.
        place: &'static str,
    },
}

/// A set of sync options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncOptions {
    on: BTreeSet<SyncOption>,
    /// `PrunePropagationPolicy`, when set.
    pub propagation: Option<Propagation>,
}

impl SyncOptions {
    /// The options of an app (`syncPolicy.syncOptions`, plus those of an
    /// operation).
    pub fn parse_app<'a>(
        options: impl IntoIterator<Item = &'a str>,
    ) -> Result<SyncOptions, OptionError> {
        let mut set = SyncOptions::default();
        for o in options {
            set.add(o, false)?;
        }
        Ok(set)
    }

    /// The options of one object (its annotation: comma-separated).
    pub fn parse_object(annotation: &str) -> Result<SyncOptions, OptionError> {
        let mut set = SyncOptions::default();
        for o in annotation
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
        {
            set.add(o, true)?;
        }
        Ok(set)
    }

    fn add(&mut self, option: &str, on_object: bool) -> Result<(), OptionError> {
        let text = option.trim();
        let (key, value) = text.split_once('=').unwrap_or((text, ""));
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case(PROPAGATION_KEY) {
            if on_object {
                return Err(OptionError::Place {
                    option: text.to_owned(),
                    place: "in an app's syncPolicy.syncOptions, not on an object",
                });
            }
            self.propagation = Some(match value.to_ascii_lowercase().as_str() {
                "foreground" => Propagation::Foreground,
                "background" => Propagation::Background,
                "orphan" => Propagation::Orphan,
                _ => {
                    return Err(OptionError::Value {
                        option: text.to_owned(),
                        allowed: "foreground, background or orphan",
                    });
                }
            });
            return Ok(());
        }
        let Some((_, when_true, when_false, scope)) =
            KNOWN.iter().find(|(k, ..)| k.eq_ignore_ascii_case(key))
        else {
            let mut known: Vec<&str> = KNOWN.iter().map(|(k, ..)| *k).collect();
            known.push(PROPAGATION_KEY);
            return Err(OptionError::Unknown {
                option: text.to_owned(),
                known: known.join(", "),
            });
        };
        match (scope, on_object) {
            (Scope::App, true) => {
                return Err(OptionError::Place {
                    option: text.to_owned(),
                    place: "in an app's syncPolicy.syncOptions, not on an object",
                });
            }
            (Scope::Object, false) => {
                return Err(OptionError::Place {
                    option: text.to_owned(),
                    place: "on an object (annotation sextant.dev/sync-options), not on an app",
                });
            }
            _ => {}
        }
        let flag = match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(OptionError::Value {
                    option: text.to_owned(),
                    allowed: "true or false",
                });
            }
        };
        if let Some(o) = if flag { when_true } else { when_false } {
            self.on.insert(*o);
        }
        Ok(())
    }

    /// Whether `option` is on.
    pub fn has(&self, option: SyncOption) -> bool {
        self.on.contains(&option)
    }

    /// Turn `option` on.
    pub fn insert(&mut self, option: SyncOption) {
        self.on.insert(option);
    }

    /// These options with `object`'s on top (an object's own options add
    /// to its app's; its propagation policy is the app's).
    pub fn with(&self, object: &SyncOptions) -> SyncOptions {
        let mut merged = self.clone();
        merged.on.extend(object.on.iter().copied());
        merged
    }
}

impl fmt::Display for SyncOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            SyncOption::CreateNamespace => "CreateNamespace=true",
            SyncOption::PruneLast => "PruneLast=true",
            SyncOption::ApplyOutOfSyncOnly => "ApplyOutOfSyncOnly=true",
            SyncOption::Replace => "Replace=true",
            SyncOption::Force => "Force=true",
            SyncOption::ClientSideApply => "ServerSideApply=false",
            SyncOption::ValidateFalse => "Validate=false",
            SyncOption::SkipDryRunOnMissingResource => "SkipDryRunOnMissingResource=true",
            SyncOption::RespectIgnoreDifferences => "RespectIgnoreDifferences=true",
            SyncOption::FailOnSharedResource => "FailOnSharedResource=true",
            SyncOption::PruneFalse => "Prune=false",
            SyncOption::DeleteFalse => "Delete=false",
        };
        f.write_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_argo_cd_documents_for_an_app_is_read() {
        let o = SyncOptions::parse_app([
            "CreateNamespace=true",
            "PruneLast=true",
            "ApplyOutOfSyncOnly=true",
            "Replace=true",
            "ServerSideApply=false",
            "Validate=false",
            "SkipDryRunOnMissingResource=true",
            "RespectIgnoreDifferences=true",
            "FailOnSharedResource=true",
            "PrunePropagationPolicy=foreground",
        ])
        .unwrap();
        for want in [
            SyncOption::CreateNamespace,
            SyncOption::PruneLast,
            SyncOption::ApplyOutOfSyncOnly,
            SyncOption::Replace,
            SyncOption::ClientSideApply,
            SyncOption::ValidateFalse,
            SyncOption::SkipDryRunOnMissingResource,
            SyncOption::RespectIgnoreDifferences,
            SyncOption::FailOnSharedResource,
        ] {
            assert!(o.has(want), "{want}");
        }
        assert_eq!(o.propagation, Some(Propagation::Foreground));
        // Explicit defaults are accepted and change nothing.
        let o = SyncOptions::parse_app(["ServerSideApply=true", "CreateNamespace=false"]).unwrap();
        assert_eq!(o, SyncOptions::default());
    }

    #[test]
    fn unknown_options_bad_values_and_misplaced_ones_are_refused() {
        let e = SyncOptions::parse_app(["CreateNamespaces=true"]).unwrap_err();
        assert!(matches!(e, OptionError::Unknown { .. }), "{e}");
        assert!(
            e.to_string().contains("CreateNamespace,"),
            "lists the known: {e}"
        );
        let e = SyncOptions::parse_app(["PruneLast=yes"]).unwrap_err();
        assert!(e.to_string().contains("true or false"), "{e}");
        let e = SyncOptions::parse_app(["Prune=false"]).unwrap_err();
        assert!(matches!(e, OptionError::Place { .. }), "{e}");
        let e = SyncOptions::parse_object("CreateNamespace=true").unwrap_err();
        assert!(matches!(e, OptionError::Place { .. }), "{e}");
        let e = SyncOptions::parse_app(["PrunePropagationPolicy=sideways"]).unwrap_err();
        assert!(e.to_string().contains("orphan"), "{e}");
    }

    #[test]
    fn an_objects_options_add_to_its_apps() {
        let app = SyncOptions::parse_app(["ApplyOutOfSyncOnly=true"]).unwrap();
        let obj = SyncOptions::parse_object("Prune=false, Replace=true").unwrap();
        let merged = app.with(&obj);
        assert!(merged.has(SyncOption::ApplyOutOfSyncOnly));
        assert!(merged.has(SyncOption::PruneFalse) && merged.has(SyncOption::Replace));
        assert!(!app.has(SyncOption::Replace));
    }
}
