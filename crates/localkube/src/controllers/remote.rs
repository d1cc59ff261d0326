//! The kubelet stand-in: localkube's simulated Nodes, scheduler, kubelet
//! and network controllers run against any API server as a kube-rs client
//! (`sextant localkube simulate --kubeconfig K`, or [`StandIn::start`]).
//!
//! Beside a real kube-controller-manager it does only what no controller
//! there does ([`Role::KubeletOnly`]): Nodes exist, Pods are bound and move
//! through their lifecycle (or fail as the failure images and annotations
//! say), terminating Pods are removed, LoadBalancer Services and Ingresses
//! get addresses, claims get volumes. It runs on a thread of its own with
//! its own runtime, so it outlives any one test's runtime, and stops when
//! the handle is dropped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use serde_json::{Value, json};

use super::api::{Res, SimApi};
use super::{Role, Sim, SimulationConfig, network, s};

/// Errors starting the stand-in.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The thread or its runtime could not be started.
    #[error("could not start the kubelet stand-in's runtime")]
    Runtime(#[source] std::io::Error),
    /// The kubeconfig could not be read or used.
    #[error("could not build a client from the kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The API server did not answer.
    #[error("the API server of {path} did not answer: {message}")]
    Unreachable {
        /// The kubeconfig.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A running kubelet stand-in; dropping it stops it.
pub struct StandIn {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StandIn {
    /// Start against the API server of `kubeconfig` (its current context).
    /// Returns once the server answered and the Nodes exist.
    pub fn start(kubeconfig: &Path, cfg: SimulationConfig) -> Result<Self, RemoteError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let path = kubeconfig.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("kubelet-stand-in".into())
            .spawn(move || run(&path, cfg, &ready_tx, &stop_rx))
            .map_err(RemoteError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(StandIn {
                stop: Some(stop_tx),
                thread: Some(thread),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(RemoteError::Runtime(std::io::Error::other(
                "the stand-in's thread ended before it started",
            ))),
        }
    }

    /// Stop and wait for the current pass to finish.
    pub fn stop(self) {}
}

impl Drop for StandIn {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    path: &Path,
    cfg: SimulationConfig,
    ready: &mpsc::Sender<Result<(), RemoteError>>,
    stop: &mpsc::Receiver<()>,
) {
    let api = match RemoteApi::connect(path) {
        Ok(api) => Arc::new(api),
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let sim = Sim::new(api.clone(), Role::KubeletOnly, cfg);
    network::create_nodes(&sim);
    let _ = ready.send(Ok(()));
    let mut passes: u64 = 0;
    loop {
        let started = Instant::now();
        api.begin_pass();
        if passes % 50 == 49 {
            network::create_nodes(&sim);
        }
        sim.pass();
        passes += 1;
        // A pass over a big cluster takes a while: never spend more than
        // half the time listing.
        let wait = sim.cfg.tick.max(started.elapsed());
        match stop.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The API server through kube-rs, blocking on a runtime of its own. Lists
/// are remembered for one pass, so a pass reads each resource once.
struct RemoteApi {
    rt: tokio::runtime::Runtime,
    client: kube::Client,
    lists: Mutex<HashMap<String, Vec<Arc<Value>>>>,
}

impl RemoteApi {
    fn connect(path: &Path) -> Result<Self, RemoteError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RemoteError::Runtime)?;
        let bad = |message: String| RemoteError::Kubeconfig {
            path: path.to_path_buf(),
            message,
        };
        let kubeconfig =
            kube::config::Kubeconfig::read_from(path).map_err(|e| bad(e.to_string()))?;
        let client = rt.block_on(async {
            let config = kube::Config::from_custom_kubeconfig(
                kubeconfig,
                &kube::config::KubeConfigOptions::default(),
            )
            .await
            .map_err(|e| bad(e.to_string()))?;
            let client = kube::Client::try_from(config).map_err(|e| bad(e.to_string()))?;
            client
                .apiserver_version()
                .await
                .map_err(|e| RemoteError::Unreachable {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?;
            Ok::<_, RemoteError>(client)
        })?;
        Ok(RemoteApi {
            rt,
            client,
            lists: Mutex::new(HashMap::new()),
        })
    }

    fn begin_pass(&self) {
        self.lists.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn send(&self, method: http::Method, uri: &str, body: Option<&Value>) -> Result<Value, String> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let req = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(bytes)
            .map_err(|e| format!("{method} {uri}: {e}"))?;
        self.rt
            .block_on(self.client.request::<Value>(req))
            .map_err(|e| format!("{method} {uri}: {e}"))
    }
}

/// The API path of a resource, optionally in a namespace, of one object
/// and of a subresource.
fn path(r: &Res<'_>, ns: &str, name: Option<&str>, sub: Option<&str>) -> String {
    let mut p = if r.group.is_empty() {
        format!("/api/{}", r.version)
    } else {
        format!("/apis/{}/{}", r.group, r.version)
    };
    if !ns.is_empty() {
        p.push_str(&format!("/namespaces/{ns}"));
    }
    p.push('/');
    p.push_str(r.plural);
    for part in [name, sub].into_iter().flatten() {
        p.push('/');
        p.push_str(part);
    }
    p
}

/// The served version of the resources the stand-in reads: every one it
/// touches (core, networking.k8s.io, events.k8s.io) is at v1.
fn version_of(_group: &str) -> &'static str {
    "v1"
}

impl SimApi for RemoteApi {
    fn list(&self, group: &str, plural: &str) -> Vec<Arc<Value>> {
        let key = format!("{group}/{plural}");
        if let Some(items) = self
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return items.clone();
        }
        let r = Res {
            group,
            version: version_of(group),
            plural,
        };
        let list = match self.send(http::Method::GET, &path(&r, "", None, None), None) {
            Ok(l) => l,
            Err(e) => {
                tracing::debug!(error = %e, "kubelet stand-in could not list");
                return Vec::new();
            }
        };
        let api_version = s(&list, "/apiVersion").to_string();
        let kind = s(&list, "/kind").trim_end_matches("List").to_string();
        let items: Vec<Arc<Value>> = list
            .get("items")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        let mut i = i.clone();
                        i["apiVersion"] = json!(api_version);
                        i["kind"] = json!(kind);
                        Arc::new(i)
                    })
                    .collect()
            })
            .unwrap_or_default();
        self.lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, items.clone());
        items
    }

    fn get(&self, group: &str, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let key = format!("{group}/{plural}");
        if let Some(items) = self
            .lists
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return items
                .iter()
                .find(|o| s(o, "/metadata/name") == name && s(o, "/metadata/namespace") == ns)
                .cloned();
        }
        let r = Res {
            group,
            version: version_of(group),
            plural,
        };
        self.send(http::Method::GET, &path(&r, ns, Some(name), None), None)
            .ok()
            .map(Arc::new)
    }

    fn owned(&self, owner_uid: &str, group: &str, plural: &str) -> Vec<Arc<Value>> {
        self.list(group, plural)
            .into_iter()
            .filter(|o| {
                o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| refs.iter().any(|r| s(r, "/uid") == owner_uid))
            })
            .collect()
    }

    fn create(&self, r: &Res<'_>, ns: &str, body: Value, manager: &str) -> Result<Value, String> {
        let uri = format!("{}?fieldManager={manager}", path(r, ns, None, None));
        self.send(http::Method::POST, &uri, Some(&body))
    }

    fn update(
        &self,
        r: &Res<'_>,
        obj: &Value,
        sub: Option<&str>,
        manager: &str,
    ) -> Result<Value, String> {
        let ns = s(obj, "/metadata/namespace");
        let name = s(obj, "/metadata/name");
        let uri = format!("{}?fieldManager={manager}", path(r, ns, Some(name), sub));
        self.send(http::Method::PUT, &uri, Some(obj))
    }

    fn delete(&self, r: &Res<'_>, ns: &str, name: &str, now: bool) -> Result<(), String> {
        let body = if now {
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0})
        } else {
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
        };
        self.send(
            http::Method::DELETE,
            &path(r, ns, Some(name), None),
            Some(&body),
        )
        .map(|_| ())
    }

    fn bind(&self, pod: &Value, node: &str, manager: &str) -> Result<(), String> {
        let ns = s(pod, "/metadata/namespace");
        let name = s(pod, "/metadata/name");
        let body = json!({
            "apiVersion": "v1", "kind": "Binding",
            "metadata": {"name": name, "namespace": ns, "uid": s(pod, "/metadata/uid")},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node},
        });
        let r = Res {
            group: "",
            version: "v1",
            plural: "pods",
        };
        let uri = format!(
            "{}?fieldManager={manager}",
            path(&r, ns, Some(name), Some("binding"))
        );
        self.send(http::Method::POST, &uri, Some(&body)).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_group_namespace_object_and_subresource() {
        let pods = Res {
            group: "",
            version: "v1",
            plural: "pods",
        };
        assert_eq!(path(&pods, "", None, None), "/api/v1/pods");
        assert_eq!(
            path(&pods, "ns", Some("p"), Some("binding")),
            "/api/v1/namespaces/ns/pods/p/binding"
        );
        let ing = Res {
            group: "networking.k8s.io",
            version: "v1",
            plural: "ingresses",
        };
        assert_eq!(
            path(&ing, "a", Some("i"), Some("status")),
            "/apis/networking.k8s.io/v1/namespaces/a/ingresses/i/status"
        );
    }
}
