//! Prometheus metrics for the controller and the API server.
//!
//! Libraries record through the `metrics` facade (`metrics::counter!` with
//! the names in [`names`]); the binaries call [`install`] once, which sets
//! the process-wide recorder, and serve [`render`] at `/metrics`
//! ([`serve`], `--metrics-listen ADDR`). Series whose values live
//! elsewhere (one info gauge per Application, the live cache's size) are
//! produced at scrape time by a [`Collector`] registered with
//! [`add_collector`], so a deleted app's series goes away with it.
//!
//! Every name and label is documented in `docs/metrics.md`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub mod names;

/// Produces text-format lines at scrape time (see [`Family`]).
pub type Collector = Arc<dyn Fn() -> String + Send + Sync>;

struct Registry {
    handle: Option<PrometheusHandle>,
    collectors: Vec<(String, Collector)>,
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        Mutex::new(Registry {
            handle: None,
            collectors: Vec::new(),
        })
    })
}

/// Durations from a millisecond to ten minutes (renders, syncs, Git).
const SECONDS_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
    600.0,
];

/// Set the process-wide recorder (once; later calls do nothing). Without
/// it the `metrics` macros record nothing, which is what tests that do not
/// look at metrics want.
pub fn install() {
    let Ok(mut reg) = registry().lock() else {
        return;
    };
    if reg.handle.is_some() {
        return;
    }
    let built = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .and_then(PrometheusBuilder::install_recorder);
    match built {
        Ok(handle) => {
            names::describe();
            reg.handle = Some(handle);
        }
        // Another recorder is installed already (a test harness): keep it.
        Err(e) => tracing::debug!(error = %e, "metrics recorder not installed"),
    }
}

/// Add (or replace, by `key`) a collector whose lines are appended to
/// every scrape.
pub fn add_collector(key: &str, collector: Collector) {
    if let Ok(mut reg) = registry().lock() {
        reg.collectors.retain(|(k, _)| k != key);
        reg.collectors.push((key.to_owned(), collector));
    }
}

/// Remove the collector `key` (a controller that stops).
pub fn remove_collector(key: &str) {
    if let Ok(mut reg) = registry().lock() {
        reg.collectors.retain(|(k, _)| k != key);
    }
}

/// Every series, in the Prometheus text format.
pub fn render() -> String {
    let (handle, collectors) = match registry().lock() {
        Ok(reg) => (
            reg.handle.clone(),
            reg.collectors
                .iter()
                .map(|(_, c)| c.clone())
                .collect::<Vec<_>>(),
        ),
        Err(_) => (None, Vec::new()),
    };
    let mut out = String::new();
    if let Some(h) = handle {
        h.run_upkeep();
        out.push_str(&h.render());
    }
    for c in collectors {
        let text = c();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&text);
    }
    out
}

/// The `/metrics` route.
pub fn router() -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                render(),
            )
        }),
    )
}

/// Serve `/metrics` on `listen` (port 0 picks one) until the task is
/// dropped; returns the address bound.
pub async fn serve(
    listen: SocketAddr,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    install();
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router()).await {
            tracing::warn!(error = %e, "the metrics endpoint stopped");
        }
    });
    Ok((addr, task))
}

/// One metric family written by hand at scrape time: `# HELP`, `# TYPE`
/// and one line per series, label values escaped as the format wants.
pub struct Family {
    text: String,
    name: &'static str,
}

impl Family {
    /// A gauge family.
    pub fn gauge(name: &'static str, help: &str) -> Self {
        Self {
            text: format!("# HELP {name} {help}\n# TYPE {name} gauge\n"),
            name,
        }
    }

    /// Add a series.
    pub fn series(&mut self, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(self.name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                self.text.push_str(k);
                self.text.push_str("=\"");
                for c in v.chars() {
                    match c {
                        '\\' => self.text.push_str("\\\\"),
                        '"' => self.text.push_str("\\\""),
                        '\n' => self.text.push_str("\\n"),
                        c => self.text.push(c),
                    }
                }
                self.text.push('"');
            }
            self.text.push('}');
        }
        self.text.push(' ');
        self.text.push_str(&value.to_string());
        self.text.push('\n');
    }

    /// The text.
    pub fn finish(self) -> String {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_families_escape_label_values() {
        let mut f = Family::gauge("sextant_x", "An example.");
        f.series(&[("name", "a\"b\\c\nd"), ("k", "v")], 1.0);
        f.series(&[], 2.5);
        assert_eq!(
            f.finish(),
            "# HELP sextant_x An example.\n# TYPE sextant_x gauge\nsextant_x{name=\"a\\\"b\\\\c\\nd\",k=\"v\"} 1\nsextant_x 2.5\n"
        );
    }

    #[test]
    fn the_dashboard_and_the_docs_name_only_metrics_that_exist() {
        let known = [
            names::APP_INFO,
            names::APP_SYNC,
            names::APP_SYNC_DURATION,
            names::APP_RECONCILE,
            names::GIT_REQUESTS,
            names::GIT_REQUEST_DURATION,
            names::RENDER_DURATION,
            names::KUBE_REQUESTS,
            names::WORKQUEUE_DEPTH,
            names::WORKQUEUE_WAIT,
            names::CLUSTER_CACHE_OBJECTS,
            names::NOTIFICATIONS,
            names::WEBHOOK_REQUESTS,
        ];
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let dashboard =
            std::fs::read_to_string(format!("{root}/deploy/grafana-dashboard.json")).unwrap();
        let parsed: serde_json::Value = serde_json::from_str(&dashboard).unwrap();
        assert!(parsed["panels"].as_array().unwrap().len() >= 10);
        let docs = std::fs::read_to_string(format!("{root}/docs/metrics.md")).unwrap();
        for (what, text) in [("dashboard", &dashboard), ("docs/metrics.md", &docs)] {
            for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                // Crate names are log targets (`sextant_controller=debug`).
                let crate_name = ["sextant_controller", "sextant_server", "sextant_cli"];
                if !word.starts_with("sextant_")
                    || word.ends_with('_')
                    || crate_name.contains(&word)
                {
                    continue;
                }
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|s| word.strip_suffix(s))
                    .unwrap_or(word);
                assert!(
                    known.contains(&base),
                    "{what} names {word}, which is not a metric"
                );
            }
        }
        for name in known {
            if name != names::NOTIFICATIONS {
                assert!(
                    docs.contains(name),
                    "docs/metrics.md does not document {name}"
                );
            }
        }
    }

    #[tokio::test]
    async fn the_endpoint_serves_recorded_series_and_collectors() {
        serve_and_check().await;
    }

    /// GET /metrics over a plain HTTP/1.0 connection.
    pub(crate) async fn scrape(addr: SocketAddr) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).await.unwrap();
        assert!(
            text.starts_with("HTTP/1.0 200") || text.starts_with("HTTP/1.1 200"),
            "{text}"
        );
        text
    }

    async fn serve_and_check() {
        let (addr, _task) = serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        metrics::counter!(names::WEBHOOK_REQUESTS, "provider" => "github", "result" => "accepted")
            .increment(2);
        add_collector(
            "test",
            Arc::new(|| {
                let mut f = Family::gauge(names::APP_INFO, "x");
                f.series(&[("name", "web")], 1.0);
                f.finish()
            }),
        );
        let body = scrape(addr).await;
        assert!(
            body.contains(
                "sextant_webhook_requests_total{provider=\"github\",result=\"accepted\"} 2"
            ),
            "{body}"
        );
        assert!(body.contains("sextant_app_info{name=\"web\"} 1"), "{body}");
        remove_collector("test");
        assert!(!render().contains("sextant_app_info{"));
    }
}
