//! The render cache: rendered output keyed by (commit, path, options, tool
//! fingerprint, Sextant version), in memory (least recently used evicted
//! past a byte budget) and optionally on disk (oldest files evicted past an
//! entry count), so a second render of a commit does no Git or tool work.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::options::RenderOptions;
use crate::render::Rendered;

/// Bump when the cached format or the rendering semantics change.
const FORMAT: u32 = 1;

/// Bounds of a [`RenderCache`].
#[derive(Clone, Copy, Debug)]
pub struct CacheLimits {
    /// Memory budget (approximate bytes of cached objects).
    pub max_memory_bytes: usize,
    /// Most files kept on disk.
    pub max_disk_entries: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_memory_bytes: 256 << 20,
            max_disk_entries: 4096,
        }
    }
}

/// A cache key: a hex digest of everything that decides the output.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key for rendering `path` of `commit` of `repo` with `options`
    /// and tools identified by `tools`. The repository is part of the key
    /// so that naming a commit never reveals another repository's content.
    pub fn new(repo: &str, commit: &str, path: &str, options: &RenderOptions, tools: &str) -> Self {
        let path = path.trim().trim_matches('/');
        let path = if path == "." { "" } else { path };
        let material = json!({
            "format": FORMAT,
            "sextant": env!("CARGO_PKG_VERSION"),
            "repo": repo,
            "commit": commit,
            "path": path,
            "options": options,
            "tools": tools,
        });
        let digest = Sha256::digest(material.to_string().as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Default)]
struct Memory {
    entries: HashMap<CacheKey, (Arc<Rendered>, usize, u64)>,
    order: BTreeMap<u64, CacheKey>,
    tick: u64,
    bytes: usize,
}

/// Rendered output by key.
#[derive(Debug)]
pub struct RenderCache {
    memory: Mutex<Memory>,
    disk: Option<PathBuf>,
    disk_entries: AtomicUsize,
    limits: CacheLimits,
}

impl RenderCache {
    /// A cache in memory, and on disk under `disk` if given.
    pub fn new(disk: Option<PathBuf>, limits: CacheLimits) -> Self {
        let mut count = 0;
        if let Some(dir) = &disk {
            let _ = std::fs::create_dir_all(dir);
            count = std::fs::read_dir(dir).map_or(0, Iterator::count);
        }
        Self {
            memory: Mutex::new(Memory::default()),
            disk,
            disk_entries: AtomicUsize::new(count),
            limits,
        }
    }

    /// The cached output for `key`, if any.
    pub fn get(&self, key: &CacheKey) -> Option<Arc<Rendered>> {
        if let Ok(mut mem) = self.memory.lock() {
            mem.tick += 1;
            let tick = mem.tick;
            if let Some((value, _, old)) = mem.entries.get_mut(key) {
                let value = value.clone();
                let old = std::mem::replace(old, tick);
                mem.order.remove(&old);
                mem.order.insert(tick, key.clone());
                return Some(value);
            }
        }
        let path = self.disk.as_ref()?.join(format!("{}.json", key.as_str()));
        let bytes = std::fs::read(&path).ok()?;
        let rendered: Rendered = serde_json::from_slice(&bytes).ok()?;
        let rendered = Arc::new(rendered);
        self.remember(key, rendered.clone(), bytes.len());
        Some(rendered)
    }

    /// Store `rendered` under `key`.
    pub fn put(&self, key: &CacheKey, rendered: Arc<Rendered>) {
        let size = rendered.objects.iter().map(approx_size).sum::<usize>() + 256;
        if let Some(dir) = &self.disk
            && let Ok(bytes) = serde_json::to_vec(rendered.as_ref())
        {
            let path = dir.join(format!("{}.json", key.as_str()));
            let tmp = dir.join(format!(".{}.tmp", key.as_str()));
            let existed = path.exists();
            if std::fs::write(&tmp, bytes).is_ok()
                && std::fs::rename(&tmp, &path).is_ok()
                && !existed
            {
                let count = self.disk_entries.fetch_add(1, Ordering::SeqCst) + 1;
                if count > self.limits.max_disk_entries {
                    self.evict_disk();
                }
            }
        }
        self.remember(key, rendered, size);
    }

    fn remember(&self, key: &CacheKey, rendered: Arc<Rendered>, size: usize) {
        let Ok(mut mem) = self.memory.lock() else {
            return;
        };
        if size > self.limits.max_memory_bytes {
            return;
        }
        mem.tick += 1;
        let tick = mem.tick;
        if let Some((_, old_size, old_tick)) =
            mem.entries.insert(key.clone(), (rendered, size, tick))
        {
            mem.bytes -= old_size;
            mem.order.remove(&old_tick);
        }
        mem.order.insert(tick, key.clone());
        mem.bytes += size;
        while mem.bytes > self.limits.max_memory_bytes {
            let Some((_, oldest)) = mem.order.pop_first() else {
                break;
            };
            if let Some((_, s, _)) = mem.entries.remove(&oldest) {
                mem.bytes -= s;
            }
        }
    }

    /// Keep at most `max_disk_entries` files, removing the oldest.
    fn evict_disk(&self) {
        let Some(dir) = &self.disk else { return };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        files.sort();
        // Evict down to 90% so the scan is not repeated on every write.
        let keep = self.limits.max_disk_entries - self.limits.max_disk_entries / 10;
        let excess = files.len().saturating_sub(keep);
        for (_, path) in files.iter().take(excess) {
            let _ = std::fs::remove_file(path);
        }
        self.disk_entries
            .store(files.len() - excess, Ordering::SeqCst);
    }

    /// How many outputs are held in memory.
    pub fn len(&self) -> usize {
        self.memory.lock().map_or(0, |m| m.entries.len())
    }

    /// Whether nothing is held in memory.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn approx_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 8,
        Value::String(s) => s.len() + 24,
        Value::Array(a) => 24 + a.iter().map(approx_size).sum::<usize>(),
        Value::Object(o) => {
            48 + o
                .iter()
                .map(|(k, v)| k.len() + 24 + approx_size(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::SourceKind;

    fn rendered(n: usize) -> Arc<Rendered> {
        Arc::new(Rendered {
            kind: SourceKind::Directory,
            objects: (0..n)
                .map(|i| json!({"kind": "ConfigMap", "i": i}))
                .collect(),
            skipped: Vec::new(),
            warnings: Vec::new(),
        })
    }

    #[test]
    fn keys_differ_by_commit_path_options_and_tools() {
        let o = RenderOptions::default();
        let base = CacheKey::new("r", "c1", "app", &o, "t");
        assert_eq!(base, CacheKey::new("r", "c1", "app/", &o, "t"));
        assert_ne!(base, CacheKey::new("r", "c2", "app", &o, "t"));
        assert_ne!(base, CacheKey::new("other-repo", "c1", "app", &o, "t"));
        assert_ne!(base, CacheKey::new("r", "c1", "other", &o, "t"));
        assert_ne!(base, CacheKey::new("r", "c1", "app", &o, "t2"));
        let mut o2 = o.clone();
        o2.namespace = "x".into();
        assert_ne!(base, CacheKey::new("r", "c1", "app", &o2, "t"));
    }

    #[test]
    fn memory_is_bounded_and_the_least_recently_used_goes_first() {
        let one = approx_size(&json!({"kind": "ConfigMap", "i": 0})) + 256;
        let cache = RenderCache::new(
            None,
            CacheLimits {
                max_memory_bytes: one * 2,
                max_disk_entries: 1,
            },
        );
        let key = |s: &str| CacheKey::new("r", s, "", &RenderOptions::default(), "");
        cache.put(&key("a"), rendered(1));
        cache.put(&key("b"), rendered(1));
        assert!(cache.get(&key("a")).is_some());
        cache.put(&key("c"), rendered(1));
        assert!(cache.get(&key("b")).is_none(), "b was least recently used");
        assert!(cache.get(&key("a")).is_some() && cache.get(&key("c")).is_some());
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_disk_cache_survives_a_new_cache_and_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let limits = CacheLimits {
            max_memory_bytes: 1 << 20,
            max_disk_entries: 2,
        };
        let key = |s: &str| CacheKey::new("r", s, "", &RenderOptions::default(), "");
        let first = RenderCache::new(Some(dir.path().to_owned()), limits);
        for k in ["a", "b", "c"] {
            first.put(&key(k), rendered(2));
        }
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert!(files <= 2, "{files} files kept");
        let second = RenderCache::new(Some(dir.path().to_owned()), limits);
        let found = ["a", "b", "c"]
            .iter()
            .filter_map(|k| second.get(&key(k)))
            .count();
        assert_eq!(found, files);
    }
}
