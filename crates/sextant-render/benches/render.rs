//! Benchmark: a repository of 1,000 plain-YAML apps rendered cold (fetch,
//! checkout, parse) and warm (render cache), plus YAML parse throughput.
//! Run with `cargo bench -p sextant-render`; prints medians.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sextant_render::{RenderOptions, Renderer, RendererConfig, Request, manifest, render_path};

const APPS: usize = 1000;

fn app_files(i: usize) -> [(String, String); 3] {
    let name = format!("app-{i:04}");
    [
        (
            "deployment.yaml".into(),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\n    team: team-{t}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: web\n        image: registry.example.com/{name}:1.{i}.0\n        ports:\n        - containerPort: 8080\n        env:\n        - name: MODE\n          value: production\n        - name: LOG_LEVEL\n          value: info\n        resources:\n          requests: {{cpu: 100m, memory: 128Mi}}\n          limits: {{cpu: 500m, memory: 256Mi}}\n        readinessProbe:\n          httpGet: {{path: /healthz, port: 8080}}\n",
                t = i % 17
            ),
        ),
        (
            "service.yaml".into(),
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
            ),
        ),
        (
            "config.yaml".into(),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}-config\ndata:\n  settings.json: |\n    {{\"name\": \"{name}\", \"replicas\": 2, \"features\": [\"a\", \"b\", \"c\"]}}\n  region: eu-west-1\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: {name}\n"
            ),
        ),
    ]
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "B")
        .env("GIT_AUTHOR_EMAIL", "b@example.invalid")
        .env("GIT_COMMITTER_NAME", "B")
        .env("GIT_COMMITTER_EMAIL", "b@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[(v.len() * 99 / 100).min(v.len() - 1)]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let mut all_yaml = String::new();
    for i in 0..APPS {
        let app = repo.join(format!("apps/app-{i:04}"));
        std::fs::create_dir_all(&app).unwrap();
        for (file, text) in app_files(i) {
            std::fs::write(app.join(file), &text).unwrap();
            all_yaml.push_str("---\n");
            all_yaml.push_str(&text);
        }
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "1000 apps"]);
    let commit = git(&repo, &["rev-parse", "HEAD"]);
    let url = repo.to_str().unwrap();
    let options = RenderOptions {
        namespace: "bench".into(),
        ..RenderOptions::default()
    };

    // Parse throughput: the whole repository's YAML as one stream.
    let mb = all_yaml.len() as f64 / 1e6;
    let mut parse = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let docs = manifest::parse_yaml("all", &all_yaml).unwrap();
        parse.push(t.elapsed());
        assert_eq!(docs.len(), APPS * 4);
    }
    let parse = median(parse);
    println!(
        "parse: {:.2} MB of YAML ({} documents) in {:.1} ms median: {:.1} MB/s",
        mb,
        APPS * 4,
        parse.as_secs_f64() * 1e3,
        mb / parse.as_secs_f64()
    );

    // Whole-tree render of the checkout (read, parse, normalise, sort).
    let t = Instant::now();
    let tools = sextant_render::Tools::new(Default::default()).unwrap();
    let recurse = RenderOptions {
        directory: sextant_render::DirectoryOptions {
            recurse: true,
            ..Default::default()
        },
        ..options.clone()
    };
    let whole = render_path(&repo, "apps", &recurse, &tools).unwrap();
    let elapsed = t.elapsed();
    println!(
        "render of the whole tree from disk (3,000 files, {} objects): {:.1} ms, {:.1} MB/s",
        whole.objects.len(),
        elapsed.as_secs_f64() * 1e3,
        mb / elapsed.as_secs_f64()
    );

    for round in 1..=3 {
        let cache = tempfile::tempdir().unwrap();
        let renderer = Renderer::new(RendererConfig {
            cache_dir: cache.path().to_owned(),
            ..RendererConfig::default()
        })
        .unwrap();
        let options = &options;
        let request = |path: &str, revision: &str| {
            renderer
                .render(&Request {
                    repo: url,
                    revision,
                    path,
                    options,
                    credentials: None,
                    chart: None,
                })
                .unwrap()
        };
        let paths: Vec<String> = (0..APPS).map(|i| format!("apps/app-{i:04}")).collect();
        // Cold: the first app pays for the fetch and the checkout.
        let t = Instant::now();
        let first = request(&paths[0], "main");
        let first_time = t.elapsed();
        assert_eq!(first.rendered.objects.len(), 4);
        let mut cold = Vec::new();
        let total = Instant::now();
        for p in &paths[1..] {
            let t = Instant::now();
            let out = request(p, &commit);
            cold.push(t.elapsed());
            assert!(!out.cache_hit);
        }
        let cold_total = total.elapsed() + first_time;
        let mut warm = Vec::new();
        for p in &paths {
            let t = Instant::now();
            let out = request(p, &commit);
            warm.push(t.elapsed());
            assert!(out.cache_hit);
        }
        let mut branch = Vec::new();
        for p in paths.iter().take(50) {
            let t = Instant::now();
            let out = request(p, "main");
            branch.push(t.elapsed());
            assert!(out.cache_hit);
        }
        println!(
            "round {round}: cold first app (fetch + checkout of 3,000 files) {:.1} ms; cold per app median {:.0} µs, p99 {:.0} µs; cold total {:.2} s ({:.2} ms/app)",
            first_time.as_secs_f64() * 1e3,
            median(cold.clone()).as_secs_f64() * 1e6,
            p99(cold).as_secs_f64() * 1e6,
            cold_total.as_secs_f64(),
            cold_total.as_secs_f64() * 1e3 / APPS as f64,
        );
        println!(
            "round {round}: warm per app (full commit) median {:.1} µs, p99 {:.1} µs; warm by branch (one ref listing) median {:.1} ms",
            median(warm.clone()).as_secs_f64() * 1e6,
            p99(warm).as_secs_f64() * 1e6,
            median(branch).as_secs_f64() * 1e3,
        );
    }
}
