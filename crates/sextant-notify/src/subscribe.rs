//! Who wants which trigger, where: annotations
//! `notifications.sextant.dev/subscribe.<trigger>.<service>: <recipients>`
//! (Argo CD's `notifications.argoproj.io/...` too; recipients separated by
//! `;` or `,`) on the Application and its AppProject, and the ConfigMap's
//! default subscriptions (`service:recipient`, with an optional label
//! selector).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Config;

/// Our annotation prefix.
pub const PREFIX: &str = "notifications.sextant.dev/subscribe.";
/// Argo CD's, read as well.
pub const ARGOCD_PREFIX: &str = "notifications.argoproj.io/subscribe.";

/// Where a notification goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    /// The trigger.
    pub trigger: String,
    /// The service's name.
    pub service: String,
    /// The recipient (a channel, an address; empty for webhooks).
    pub recipient: String,
}

/// Every destination for an app with these annotations and labels (and its
/// project's annotations).
pub fn destinations(
    config: &Config,
    app_annotations: &BTreeMap<String, String>,
    project_annotations: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
) -> BTreeSet<Destination> {
    let mut out = BTreeSet::new();
    for annotations in [project_annotations, app_annotations] {
        for (key, value) in annotations {
            let Some(rest) = key
                .strip_prefix(PREFIX)
                .or_else(|| key.strip_prefix(ARGOCD_PREFIX))
            else {
                continue;
            };
            // `<trigger>.<service>`; trigger names have no dots.
            let Some((trigger, service)) = rest.split_once('.') else {
                continue;
            };
            for recipient in split(value) {
                out.insert(Destination {
                    trigger: trigger.to_owned(),
                    service: service.to_owned(),
                    recipient,
                });
            }
        }
    }
    for sub in &config.subscriptions {
        // A selector that does not parse selects nothing (the ConfigMap's
        // problems are logged when it is read).
        let selected = sub.selector.as_deref().is_none_or(|s| {
            sextant_model::selector::Selector::parse(s).is_ok_and(|sel| sel.matches(labels))
        });
        if !selected {
            continue;
        }
        for r in &sub.recipients {
            let (service, recipient) = r.split_once(':').unwrap_or((r.as_str(), ""));
            for trigger in &sub.triggers {
                out.insert(Destination {
                    trigger: trigger.clone(),
                    service: service.trim().to_owned(),
                    recipient: recipient.trim().to_owned(),
                });
            }
        }
    }
    out
}

fn split(value: &str) -> Vec<String> {
    let parts: Vec<String> = value
        .split([';', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if parts.is_empty() {
        // A webhook subscription names no recipient.
        vec![String::new()]
    } else {
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn annotations_of_both_spellings_and_default_subscriptions() {
        let config = Config {
            subscriptions: serde_yaml_ng::from_str(
                "- recipients: [slack:ops]\n  triggers: [on-sync-failed]\n  selector: team=web\n- recipients: [slack:all]\n  triggers: [on-deployed]\n  selector: team=db\n",
            )
            .unwrap(),
            ..Config::default()
        };
        let app = map(&[
            (
                "notifications.sextant.dev/subscribe.on-deployed.slack",
                "a; b",
            ),
            (
                "notifications.argoproj.io/subscribe.on-sync-failed.deploys",
                "",
            ),
            ("other", "x"),
        ]);
        let project = map(&[(
            "notifications.argoproj.io/subscribe.on-health-degraded.email",
            "ops@example.com",
        )]);
        let d = destinations(&config, &app, &project, &map(&[("team", "web")]));
        let got: Vec<(String, String, String)> = d
            .into_iter()
            .map(|d| (d.trigger, d.service, d.recipient))
            .collect();
        let want: Vec<(String, String, String)> = [
            ("on-deployed", "slack", "a"),
            ("on-deployed", "slack", "b"),
            ("on-health-degraded", "email", "ops@example.com"),
            ("on-sync-failed", "deploys", ""),
            ("on-sync-failed", "slack", "ops"),
        ]
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
        assert_eq!(got, want);
    }
}
