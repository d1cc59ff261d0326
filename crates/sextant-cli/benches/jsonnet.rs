//! Benchmark: a Jsonnet app (20 services, each a Deployment, a Service
//! and a ConfigMap built by a library, 60 objects) rendered from a Git
//! commit cold (snapshot, evaluate, normalise) and warm (render cache),
//! evaluated in a child of the `sextant` binary (what the product does)
//! and on a thread (the library's mode), against the same 60 objects as
//! plain YAML in the same commit as the baseline. Run with
//! `cargo bench -p sextant-cli --bench jsonnet`; prints medians of 9 runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sextant_render::{RenderOptions, Renderer, RendererConfig, Request, ToolConfig};

const RUNS: usize = 9;
const SERVICES: usize = 20;

const LIB: &str = r#"
{
  service(name, image, replicas):: [
    {
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: name, labels: { app: name } },
      spec: {
        replicas: replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'main', image: image, ports: [{ containerPort: 8080 }] }] },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: name },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: name + '-settings' },
      data: { LOG_LEVEL: 'info', SERVICE: name },
    },
  ],
}
"#;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn renderer(cache: &Path, jsonnet_exe: Option<PathBuf>) -> Renderer {
    Renderer::new(RendererConfig {
        cache_dir: cache.to_owned(),
        tools: ToolConfig {
            jsonnet_exe,
            ..ToolConfig::default()
        },
        ..RendererConfig::default()
    })
    .unwrap()
}

fn render(r: &Renderer, repo: &str, path: &str) -> usize {
    let options = RenderOptions {
        namespace: "shop".into(),
        ..RenderOptions::default()
    };
    r.render(&Request {
        repo,
        revision: "main",
        path,
        options: &options,
        credentials: None,
        chart: None,
    })
    .unwrap()
    .rendered
    .objects
    .len()
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo, "lib/service.libsonnet", LIB);
    let services: Vec<String> = (0..SERVICES)
        .map(|i| format!("svc.service('svc-{i}', 'nginx:1.{i}', {})", 1 + i % 3))
        .collect();
    write(
        &repo,
        "jsonnet/main.jsonnet",
        &format!(
            "local svc = import '../lib/service.libsonnet';\nstd.flattenArrays([{}])\n",
            services.join(",\n")
        ),
    );
    // The baseline: the same objects as YAML, written from a render.
    let plain = renderer(&tmp.path().join("plain-cache"), None);
    let url = repo.display().to_string();
    sextant_testkit::git(&repo, &["init", "-q", "-b", "main"]);
    sextant_testkit::git(&repo, &["add", "-A"]);
    sextant_testkit::git(&repo, &["commit", "-q", "-m", "jsonnet"]);
    let options = RenderOptions::default();
    let rendered = plain
        .render(&Request {
            repo: &url,
            revision: "main",
            path: "jsonnet",
            options: &options,
            credentials: None,
            chart: None,
        })
        .unwrap();
    for (i, obj) in rendered.rendered.objects.iter().enumerate() {
        write(
            &repo,
            &format!("plain/{i:03}.yaml"),
            &serde_yaml_ng::to_string(obj).unwrap(),
        );
    }
    sextant_testkit::git(&repo, &["add", "-A"]);
    sextant_testkit::git(&repo, &["commit", "-q", "-m", "plain"]);

    let sextant = PathBuf::from(env!("CARGO_BIN_EXE_sextant"));
    let mut rows: Vec<(&str, Vec<Duration>, Vec<Duration>)> = Vec::new();
    let mut objects = 0;
    for (label, path, exe) in [
        ("plain YAML (baseline)", "plain", None),
        (
            "Jsonnet, child of `sextant`",
            "jsonnet",
            Some(sextant.clone()),
        ),
        ("Jsonnet, on a thread", "jsonnet", None),
    ] {
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for i in 0..RUNS {
            let r = renderer(
                &tmp.path()
                    .join(format!("cache-{path}-{i}-{}", exe.is_some())),
                exe.clone(),
            );
            let t = Instant::now();
            objects = render(&r, &url, path);
            cold.push(t.elapsed());
            let t = Instant::now();
            render(&r, &url, path);
            warm.push(t.elapsed());
        }
        rows.push((label, cold, warm));
    }
    println!(
        "Jsonnet app, {SERVICES} services ({objects} objects) from a Git commit, median of {RUNS}:"
    );
    let baseline = median(rows[0].1.clone());
    for (label, cold, warm) in rows {
        let cold = median(cold);
        println!(
            "  {label:<30} cold {:>9}  ({:.2}x baseline)   warm {:>8}",
            ms(cold),
            cold.as_secs_f64() / baseline.as_secs_f64(),
            ms(median(warm))
        );
    }
}
