//! Benchmark: a chart of a Helm chart repository (the chart `helm create`
//! makes, packaged and served over HTTP on loopback) rendered cold (index,
//! archive, digest, unpack, `helm template`), with the chart already in
//! the store (a restart: `helm template` only), and warm (render cache),
//! against the same chart in a Git checkout rendered in the same run as
//! the baseline. Run with `cargo bench -p sextant-render --bench charts`
//! (helm on PATH); prints medians of 9 runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark code: a panic is a failure report"
)]

use std::path::Path;
use std::time::{Duration, Instant};

use sextant_render::{
    ChartAccess, ChartSpec, RenderOptions, Renderer, RendererConfig, Request, ToolConfig, Tools,
    render_path,
};
use sextant_testkit::{StaticHttpServer, helm, index_repo};

const RUNS: usize = 9;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn renderer(cache: &Path) -> Renderer {
    Renderer::new(RendererConfig {
        cache_dir: cache.to_owned(),
        tools: ToolConfig::default(),
        ..RendererConfig::default()
    })
    .unwrap()
}

fn render(r: &Renderer, url: &str, revision: &str, options: &RenderOptions) -> usize {
    let access = ChartAccess::default();
    let o = r
        .render(&Request {
            repo: url,
            revision,
            path: "",
            options,
            credentials: None,
            chart: Some(ChartSpec {
                name: "web",
                access: &access,
                fresh: false,
            }),
        })
        .unwrap();
    o.rendered.objects.len()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    helm(&["create", src.join("web").to_str().unwrap()]);
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    helm(&[
        "package",
        src.join("web").to_str().unwrap(),
        "--version",
        "1.0.0",
        "-d",
        repo.to_str().unwrap(),
    ]);
    index_repo(&repo);
    let server = StaticHttpServer::start(&repo, None);
    let url = server.url("");
    let options = RenderOptions {
        namespace: "web".into(),
        ..RenderOptions::default()
    };

    // Baseline: the same chart in a checkout, helm template only.
    let tools = Tools::new(ToolConfig::default()).unwrap();
    let mut baseline = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        render_path(&src, "web", &options, &tools).unwrap();
        baseline.push(t.elapsed());
    }

    let (mut cold, mut stored, mut warm, mut range) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut objects = 0;
    for i in 0..RUNS {
        let cache = tmp.path().join(format!("cache-{i}"));
        let r = renderer(&cache);
        let t = Instant::now();
        objects = render(&r, &url, "1.0.0", &options);
        cold.push(t.elapsed());
        let t = Instant::now();
        render(&r, &url, "1.0.0", &options);
        warm.push(t.elapsed());
        let t = Instant::now();
        render(&r, &url, "1.*", &options);
        range.push(t.elapsed());
        drop(r);
        let restarted = renderer(&cache);
        let t = Instant::now();
        render(&restarted, &url, "1.0.0", &options);
        stored.push(t.elapsed());
    }
    println!(
        "chart of a chart repository (helm create's chart, {objects} objects), median of {RUNS}:"
    );
    println!(
        "  baseline, same chart in a checkout (helm template):   {}",
        ms(median(baseline.clone()))
    );
    println!(
        "  cold (index + archive + digest + unpack + template):   {}",
        ms(median(cold.clone()))
    );
    println!(
        "  chart in the store, new process (template only):      {}",
        ms(median(stored))
    );
    println!(
        "  warm (render cache), exact version:                   {}",
        ms(median(warm))
    );
    println!(
        "  warm, range 1.* (listing kept, render cache):         {}",
        ms(median(range))
    );
    println!(
        "  cold / baseline: {:.2}x; requests to the repository: {}",
        median(cold).as_secs_f64() / median(baseline).as_secs_f64(),
        server.requests()
    );
}
