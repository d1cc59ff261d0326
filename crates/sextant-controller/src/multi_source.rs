//! Multi-source Applications (`spec.sources`), as Argo CD has them: each
//! source at its own revision; a source with a `ref` lends its files to
//! the others' Helm value files as `$name/path` (and renders nothing
//! itself unless it also has a path or a chart); the objects of all
//! sources together, a later source's copy of an object replacing an
//! earlier one's with a RepeatedResourceWarning.
//!
//! An app's revision stays one string inside the controller: for several
//! sources, their revisions joined with commas (commits and chart
//! versions never hold one), so deciding, history and rollback work as
//! for one source. The status also lists them one per source, in Argo
//! CD's `revisions` fields.

use std::collections::BTreeMap;
use std::sync::Arc;

use sextant_model::Application;
use sextant_model::application::ApplicationSource;
use sextant_render::{
    ChartSpec, Outcome, Rendered, Renderer, Request, ServiceError, SourceKind, SourceRef, identity,
};
use sextant_source::RepoUrl;

use crate::repo_creds::RepoCredentials;
use crate::source::{
    AppRef, Fetched, RenderExtras, SourceProblem, Sources, chart_of, render_options, watched,
};

/// The sources of an app: the one of `spec.source`, or `spec.sources`.
#[derive(Clone, Copy, Debug)]
pub enum AppSources<'a> {
    /// `spec.source`.
    Single(&'a ApplicationSource),
    /// `spec.sources`.
    Multi(&'a [ApplicationSource]),
}

impl<'a> AppSources<'a> {
    /// The sources as a list.
    pub fn list(&self) -> &'a [ApplicationSource] {
        match self {
            AppSources::Single(s) => std::slice::from_ref(*s),
            AppSources::Multi(list) => list,
        }
    }

    /// Whether the app has `spec.sources`.
    pub fn is_multi(&self) -> bool {
        matches!(self, AppSources::Multi(_))
    }
}

/// The app's sources, or why they cannot be used: `spec.sources` when it
/// has any (as Argo CD, which then ignores `spec.source`), else
/// `spec.source`.
pub fn app_sources(app: &Application) -> Result<AppSources<'_>, String> {
    sources_of(app.spec.source.as_ref(), app.spec.sources.as_deref())
}

/// [`app_sources`] of a spec's (or an operation's) `source` and `sources`.
pub fn sources_of<'a>(
    source: Option<&'a ApplicationSource>,
    sources: Option<&'a [ApplicationSource]>,
) -> Result<AppSources<'a>, String> {
    if let Some(list) = sources.filter(|l| !l.is_empty()) {
        check_multi(list)?;
        return Ok(AppSources::Multi(list));
    }
    let source = source.ok_or("spec.source is missing: say which repository and path to deploy")?;
    if source.repo_url.trim().is_empty() {
        return Err("spec.source.repoURL is empty".into());
    }
    Ok(AppSources::Single(source))
}

/// The `ref` name of a source, if it has one.
pub fn ref_name(source: &ApplicationSource) -> Option<&str> {
    source
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
}

/// A source that only lends its files: a ref without path or chart.
pub fn only_lends(source: &ApplicationSource) -> bool {
    ref_name(source).is_some()
        && chart_of(source).is_none()
        && source.path.as_deref().is_none_or(|p| p.trim().is_empty())
}

fn check_multi(list: &[ApplicationSource]) -> Result<(), String> {
    let mut refs = BTreeMap::new();
    for (i, s) in list.iter().enumerate() {
        let at = format!("spec.sources[{i}]");
        if s.repo_url.trim().is_empty() {
            return Err(format!("{at}.repoURL is empty"));
        }
        let Some(name) = ref_name(s) else { continue };
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "{at}.ref `{name}` may hold only letters, digits, `-` and `_`"
            ));
        }
        if chart_of(s).is_some() {
            return Err(format!(
                "{at}.ref `{name}` is on a chart of a chart repository; only Git sources can lend their files"
            ));
        }
        if let Some(first) = refs.insert(name.to_owned(), i) {
            return Err(format!(
                "spec.sources[{first}] and {at} both have ref `{name}`; each ref names one source"
            ));
        }
    }
    Ok(())
}

/// One revision per source from an app revision: the commas of a
/// multi-source revision split, anything else for one source.
pub fn split_revision(revision: &str, sources: usize) -> Option<Vec<String>> {
    let parts: Vec<String> = revision.split(',').map(|p| p.trim().to_owned()).collect();
    (parts.len() == sources).then_some(parts)
}

/// The app revision of per-source revisions.
pub fn join_revisions(revisions: &[String]) -> String {
    revisions.join(",")
}

impl Sources {
    /// Resolve and render the app's sources (at `revision`, an app
    /// revision, default each source's targetRevision) deploying to
    /// `namespace`.
    pub async fn fetch_app(
        &self,
        app: AppRef<'_>,
        sources: AppSources<'_>,
        revision: Option<&str>,
        namespace: &str,
        fresh: bool,
    ) -> Result<Fetched, SourceProblem> {
        let list = match sources {
            AppSources::Single(source) => {
                return self
                    .fetch_source(app, source, revision, namespace, fresh)
                    .await;
            }
            AppSources::Multi(list) => list,
        };
        let mut wanted = wanted_revisions(list, revision)?;
        // Branches and tags to commits, through the shared answers of the
        // poll; charts keep their version or range (the listing has its
        // own freshness).
        for (i, source) in list.iter().enumerate() {
            if chart_of(source).is_some() {
                self.note_chart(source);
                continue;
            }
            let (repo, default_revision) = watched(source);
            let asked = wanted[i].clone().unwrap_or(default_revision);
            let commit = self
                .resolve(&repo, &asked, fresh)
                .await
                .map_err(|p| p.within(&format!("source {}", i + 1)))?;
            if let Some(commit) = commit {
                wanted[i] = Some(commit.to_string());
            }
        }
        let renderer = self.renderer_handle();
        let credentials = self.credentials_handle();
        let (name, project) = (app.name.to_owned(), app.project.to_owned());
        let (ns, list_owned) = (namespace.to_owned(), list.to_vec());
        let apps_ns = credentials.namespace().to_owned();
        let extras = self.render_extras();
        let rendered = tokio::task::spawn_blocking(move || {
            render_sources(
                &renderer,
                &credentials,
                &Target {
                    app: AppRef {
                        name: &name,
                        project: &project,
                    },
                    namespace: &ns,
                    applications_namespace: Some(&apps_ns),
                    fresh,
                    extras: &extras,
                },
                &list_owned,
                &wanted,
            )
        })
        .await
        .map_err(|e| format!("the render task failed: {e}"))?;
        rendered.map_err(|e| match e {
            SourcesError::Spec(message) => SourceProblem::from(message),
            SourcesError::Source {
                index,
                chart,
                error,
            } => {
                let repo = list[index].repo_url.as_str();
                let problem = if chart {
                    self.explain_chart_of(repo, error.as_ref())
                } else {
                    self.explain_of(repo, error.as_ref())
                };
                problem.within(&format!("source {}", index + 1))
            }
        })
    }
}

/// The revision asked of each source: from an app revision (commas
/// between), else none (each source's targetRevision).
pub fn wanted_revisions(
    list: &[ApplicationSource],
    revision: Option<&str>,
) -> Result<Vec<Option<String>>, String> {
    let Some(r) = revision.filter(|r| !r.is_empty()) else {
        return Ok(vec![None; list.len()]);
    };
    let parts = split_revision(r, list.len()).ok_or_else(|| {
        format!(
            "revision `{r}` does not name one revision for each of the app's {} sources (revisions are separated by commas)",
            list.len()
        )
    })?;
    Ok(parts
        .into_iter()
        .map(|p| (!p.is_empty()).then_some(p))
        .collect())
}

/// Whom a render is for.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// The app (Helm release names default to it).
    pub app: AppRef<'a>,
    /// Its destination namespace.
    pub namespace: &'a str,
    /// Where an app-of-apps' children go.
    pub applications_namespace: Option<&'a str>,
    /// Read chart listings again now.
    pub fresh: bool,
    /// What the settings add (kustomize flags, plugins).
    pub extras: &'a RenderExtras,
}

/// Why the sources of an app did not render.
#[derive(Debug)]
pub enum SourcesError {
    /// The spec cannot be used (options, a revision per source).
    Spec(String),
    /// One source failed.
    Source {
        /// Its position in `spec.sources`.
        index: usize,
        /// Whether it is a chart of a chart repository.
        chart: bool,
        /// What failed.
        error: Box<ServiceError>,
    },
}

impl std::fmt::Display for SourcesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourcesError::Spec(m) => f.write_str(m),
            SourcesError::Source { index, error, .. } => {
                write!(
                    f,
                    "source {}: {}",
                    index + 1,
                    crate::source::error_chain(error.as_ref())
                )
            }
        }
    }
}

/// Render every source of a multi-source app at `wanted` (one entry per
/// source: a commit, branch, tag, chart version or range; none for its
/// targetRevision), blocking: the lenders' checkouts first (held until
/// the end), then each source that renders, then the objects together.
/// The controller passes commits it resolved; the API server what the
/// request asks.
pub fn render_sources(
    renderer: &Renderer,
    credentials: &RepoCredentials,
    target: &Target<'_>,
    list: &[ApplicationSource],
    wanted: &[Option<String>],
) -> Result<Fetched, SourcesError> {
    let failed = |index: usize, chart: bool| {
        move |error: ServiceError| SourcesError::Source {
            index,
            chart,
            error: Box::new(error),
        }
    };
    let mut revisions = vec![String::new(); list.len()];
    let mut refs = BTreeMap::new();
    let mut held = Vec::new();
    for (i, source) in list.iter().enumerate() {
        let Some(name) = ref_name(source) else {
            continue;
        };
        let (repo, default_revision) = watched(source);
        let asked = wanted.get(i).cloned().flatten().unwrap_or(default_revision);
        let creds = credentials.lookup(&repo).map(|f| f.credentials);
        let url = RepoUrl::parse(&repo).map_err(|e| failed(i, false)(e.into()))?;
        let git = renderer.git();
        let commit = git
            .resolve(&url, &asked, creds.as_ref())
            .map_err(|e| failed(i, false)(e.into()))?;
        let snapshot = git
            .snapshot(&url, &commit, creds.as_ref())
            .map_err(|e| failed(i, false)(e.into()))?;
        refs.insert(
            name.to_owned(),
            SourceRef {
                identity: format!("{}@{commit}", url.as_str()),
                dir: snapshot.dir().to_owned(),
            },
        );
        revisions[i] = commit.to_string();
        held.push(snapshot);
    }
    let mut parts = Vec::new();
    for (i, source) in list.iter().enumerate() {
        if only_lends(source) {
            continue;
        }
        let mut options = render_options(target.app, source, target.namespace, target.extras)
            .map_err(|e| SourcesError::Spec(format!("source {}: {e}", i + 1)))?;
        options.applications_namespace = target.applications_namespace.map(str::to_owned);
        options.refs = refs.clone();
        let (repo, default_revision) = watched(source);
        let asked = wanted.get(i).cloned().flatten();
        let chart = chart_of(source);
        let outcome = match chart {
            Some(chart) => {
                let (_, access) = credentials.chart_access(&repo);
                let revision = asked
                    .or_else(|| source.target_revision.clone())
                    .unwrap_or_default();
                renderer.render(&Request {
                    repo: &repo,
                    revision: revision.trim(),
                    path: "",
                    options: &options,
                    credentials: None,
                    chart: Some(ChartSpec {
                        name: chart,
                        access: &access,
                        fresh: target.fresh,
                    }),
                })
            }
            None => {
                let creds = credentials.lookup(&repo).map(|f| f.credentials);
                let path = source.path.clone().unwrap_or_else(|| ".".to_owned());
                renderer.render(&Request {
                    repo: &repo,
                    revision: &asked.unwrap_or(default_revision),
                    path: &path,
                    options: &options,
                    credentials: creds.as_ref(),
                    chart: None,
                })
            }
        }
        .map_err(failed(i, chart.is_some()))?;
        revisions[i] = outcome.revision();
        parts.push((i, outcome));
    }
    drop(held);
    let mut kinds = vec![SourceKind::Directory; list.len()];
    for (i, outcome) in &parts {
        kinds[*i] = outcome.rendered.kind;
    }
    let (outcome, repeated) = combine(parts);
    Ok(Fetched {
        commit: None,
        outcome,
        revisions: Some(revisions),
        repeated,
        kinds: Some(kinds),
    })
}

/// The objects of several sources' renders in one outcome: in source
/// order, an object a later source renders again replacing the earlier
/// copy (each such object listed), skipped files and warnings together.
pub fn combine(parts: Vec<(usize, Outcome)>) -> (Outcome, Vec<String>) {
    let mut objects: Vec<serde_json::Value> = Vec::new();
    let mut from: BTreeMap<(String, String, String, String), (usize, usize)> = BTreeMap::new();
    let mut repeated = Vec::new();
    let mut skipped = Vec::new();
    let mut warnings = Vec::new();
    let kind = parts
        .first()
        .map_or(SourceKind::Directory, |(_, o)| o.rendered.kind);
    let cache_hit = parts.iter().all(|(_, o)| o.cache_hit);
    for (source, outcome) in parts {
        for obj in &outcome.rendered.objects {
            let key = identity(obj);
            match from.get(&key) {
                Some(&(earlier, index)) => {
                    let (group, kind, ns, name) = &key;
                    let kind = if group.is_empty() {
                        kind.clone()
                    } else {
                        format!("{kind}.{group}")
                    };
                    let object = if ns.is_empty() {
                        format!("{kind} {name}")
                    } else {
                        format!("{kind} {ns}/{name}")
                    };
                    repeated.push(format!(
                        "{object} is rendered by sources {} and {}; the later one is used",
                        earlier + 1,
                        source + 1
                    ));
                    objects[index] = obj.clone();
                    from.insert(key, (source, index));
                }
                None => {
                    from.insert(key, (source, objects.len()));
                    objects.push(obj.clone());
                }
            }
        }
        skipped.extend(outcome.rendered.skipped.iter().cloned());
        warnings.extend(outcome.rendered.warnings.iter().cloned());
    }
    objects.sort_by_cached_key(identity);
    let outcome = Outcome {
        commit: None,
        rendered: Arc::new(Rendered {
            kind,
            objects,
            skipped,
            warnings,
        }),
        cache_hit,
        version: None,
    };
    (outcome, repeated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn source(value: serde_json::Value) -> ApplicationSource {
        serde_json::from_value(value).unwrap()
    }

    fn outcome(objects: Vec<serde_json::Value>) -> Outcome {
        Outcome {
            commit: None,
            rendered: Arc::new(Rendered {
                kind: SourceKind::Helm,
                objects,
                skipped: Vec::new(),
                warnings: Vec::new(),
            }),
            cache_hit: false,
            version: None,
        }
    }

    fn cm(name: &str, value: &str) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "a"}, "data": {"v": value}})
    }

    #[test]
    fn a_later_source_replaces_an_object_an_earlier_one_renders_and_says_so() {
        let (out, repeated) = combine(vec![
            (0, outcome(vec![cm("x", "first"), cm("y", "only")])),
            (2, outcome(vec![cm("x", "third")])),
        ]);
        let objects = &out.rendered.objects;
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0]["data"]["v"], "third");
        assert_eq!(
            repeated,
            ["ConfigMap a/x is rendered by sources 1 and 3; the later one is used"]
        );
        assert_eq!(out.rendered.kind, SourceKind::Helm);
    }

    #[test]
    fn revisions_split_one_per_source_and_join_back() {
        let revs = split_revision("abc, 1.2.3,def", 3).unwrap();
        assert_eq!(revs, ["abc", "1.2.3", "def"]);
        assert_eq!(join_revisions(&revs), "abc,1.2.3,def");
        assert!(split_revision("abc", 2).is_none());
    }

    #[test]
    fn sources_are_checked_for_repos_refs_and_lenders() {
        let ok = [
            source(
                json!({"repoURL": "https://charts.example", "chart": "web", "targetRevision": "1.*",
                          "helm": {"valueFiles": ["$values/web.yaml"]}}),
            ),
            source(json!({"repoURL": "https://git.example/ops.git", "ref": "values"})),
        ];
        assert!(check_multi(&ok).is_ok());
        assert!(only_lends(&ok[1]) && !only_lends(&ok[0]));
        let twice = [ok[1].clone(), ok[1].clone()];
        assert!(
            check_multi(&twice)
                .unwrap_err()
                .contains("both have ref `values`")
        );
        let chart_ref = [source(
            json!({"repoURL": "https://c", "chart": "x", "ref": "v"}),
        )];
        assert!(
            check_multi(&chart_ref)
                .unwrap_err()
                .contains("only Git sources")
        );
        let empty = [source(json!({"repoURL": " "}))];
        assert!(
            check_multi(&empty)
                .unwrap_err()
                .contains("spec.sources[0].repoURL")
        );
        let app: Application = serde_json::from_value(json!({
            "apiVersion": "sextant.dev/v1alpha1", "kind": "Application",
            "metadata": {"name": "a"},
            "spec": {"project": "default", "destination": {},
                     "source": {"repoURL": "ignored"}, "sources": ok}
        }))
        .unwrap();
        assert!(app_sources(&app).unwrap().is_multi());
        assert_eq!(app_sources(&app).unwrap().list().len(), 2);
    }
}
