//! The API server's routes against a cluster: authentication (sessions,
//! cookies with CSRF, API tokens, lockout), RBAC on every route, the
//! application list, writes, and the transport rules (headers, limits,
//! prefix, TLS). Tests with a controller are in `live.rs`.

use crate::support;

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{NS, World};

/// Every route of the OpenAPI document, with `x` for path parameters.
fn routes(doc: &Value) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            out.push((m, concrete));
        }
    }
    out
}

#[tokio::test]
async fn every_route_but_login_refuses_a_caller_without_credentials() {
    let w = World::new().await;
    let (status, doc) = w.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let routes = routes(&doc);
    assert!(
        routes.len() >= 30,
        "the document lists the routes: {routes:?}"
    );
    for (method, path) in routes {
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        let (status, answer) = w.call(method.clone(), &path, None, body).await;
        if method == Method::POST && path == "/api/webhook" {
            // Public: a Git server's push, checked by its signature.
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "webhook without headers: {answer}"
            );
            continue;
        }
        if method == Method::POST && path == "/api/v1/session" {
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "login without fields: {answer}"
            );
            continue;
        }
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} answered {answer}"
        );
        assert_eq!(answer["error"], "unauthenticated", "{method} {path}");
    }
    // A forged token is no credential either.
    let (status, _) = w
        .call(
            Method::GET,
            "/api/v1/applications",
            Some("eyJhbGciOiJIUzI1NiJ9.e30.AAAA"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for public in ["/healthz", "/readyz", "/", "/api/openapi.json"] {
        let resp = w
            .http
            .get(format!("{}{public}", w.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{public} is public");
    }
}

#[tokio::test]
async fn the_first_start_generates_an_admin_password_kept_in_a_secret() {
    let w = World::new().await;
    let secrets: Api<Secret> = Api::namespaced(w.client.clone(), NS);
    let initial = secrets.get("sextant-initial-admin-secret").await.unwrap();
    let stored = String::from_utf8(initial.data.unwrap()["password"].0.clone()).unwrap();
    assert_eq!(stored, w.admin_password);
    let settings = secrets.get("sextant-secret").await.unwrap();
    let hash = String::from_utf8(settings.data.unwrap()["admin.password"].0.clone()).unwrap();
    assert!(
        hash.starts_with("$argon2id$"),
        "hashed with argon2id: {hash}"
    );
    assert!(!hash.contains(&w.admin_password));
    // A second server (a restart, a replica) keeps the password.
    let again = sextant_server::Server::start(
        w.client.clone(),
        sextant_server::ServerConfig::new(NS, w.dir.path().join("again")),
    )
    .await
    .unwrap();
    assert_eq!(again.initial_admin_password(), None);
    again.shutdown().await;
    w.admin().await;
}

#[tokio::test]
async fn a_browser_session_is_an_http_only_strict_cookie_and_writes_need_its_csrf_token() {
    let w = World::new().await;
    let resp = w
        .http
        .post(format!("{}/api/v1/session", w.url))
        .json(&json!({"username": "admin", "password": w.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("sextant.token="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "a browser login keeps the token out of reach of scripts"
    );
    let csrf = body["csrfToken"].as_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();

    let get = w
        .http
        .get(format!("{}/api/v1/session/userinfo", w.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::OK);
    let info: Value = get.json().await.unwrap();
    assert_eq!(info["username"], "admin");
    assert_eq!(info["csrfToken"], csrf);
    assert!(
        info["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("role:admin"))
    );

    let app = w.app("web", "default", "web", "web", false);
    w.create_app(app).await;
    let refresh = |csrf: Option<&str>| {
        let mut req = w
            .http
            .post(format!("{}/api/v1/applications/web/refresh", w.url))
            .header("cookie", &session);
        if let Some(c) = csrf {
            req = req.header("x-sextant-csrf", c);
        }
        req.send()
    };
    w.eventually("the server sees the app", async || {
        refresh(Some(&csrf)).await.unwrap().status() == StatusCode::OK
    })
    .await;
    let no_csrf = refresh(None).await.unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert!(no_csrf.text().await.unwrap().contains("CSRF"));
    let wrong = refresh(Some("0000")).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    // Logging out ends the session.
    let out = w
        .http
        .delete(format!("{}/api/v1/session", w.url))
        .header("cookie", &session)
        .header("x-sextant-csrf", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = w
        .http
        .get(format!("{}/api/v1/session/userinfo", w.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_repeated_ones_lock_the_account_out() {
    let w = World::new().await;
    for _ in 0..5 {
        let (status, body) = w
            .call(
                Method::POST,
                "/api/v1/session",
                None,
                Some(json!({"username": "admin", "password": "wrong"})),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["message"], "invalid username or password");
    }
    let resp = w
        .http
        .post(format!("{}/api/v1/session", w.url))
        .json(&json!({"username": "admin", "password": w.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked even with the right password"
    );
    assert!(resp.headers().contains_key("retry-after"));
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("account admin is locked"),
        "{body}"
    );
    // An unknown account is refused the same way as a wrong password.
    let (status, body) = w
        .call(
            Method::POST,
            "/api/v1/session",
            None,
            Some(json!({"username": "nobody", "password": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "invalid username or password");
}

#[tokio::test]
async fn api_tokens_work_until_revoked_or_expired_and_are_never_shown_again() {
    let w = World::new().await;
    w.accounts(&[("ci", "apiKey")], "", "g, ci, role:readonly", None)
        .await;
    let admin = w.admin().await;
    let (status, made) = w
        .call(
            Method::POST,
            "/api/v1/account/ci/token",
            Some(&admin),
            Some(json!({"id": "deploy-bot"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let token = made["token"].as_str().unwrap().to_owned();
    assert_eq!(made["id"], "deploy-bot");
    let (status, me) = w.get("/api/v1/session/userinfo", &token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["username"], "ci");
    assert_eq!(me["tokenKind"], "apiKey");
    // Listed by id, never the token itself.
    let (_, account) = w.get("/api/v1/account/ci", &admin).await;
    assert_eq!(account["tokens"][0]["id"], "deploy-bot");
    assert!(!account.to_string().contains(&token));
    // A duplicate id is refused; ci itself may not log in.
    let (status, _) = w
        .call(
            Method::POST,
            "/api/v1/account/ci/token",
            Some(&admin),
            Some(json!({"id": "deploy-bot"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = w
        .call(
            Method::POST,
            "/api/v1/account/admin/token",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "admin lacks the apiKey capability"
    );

    let (status, _) = w
        .call(
            Method::DELETE,
            "/api/v1/account/ci/token/deploy-bot",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = w.get("/api/v1/session/userinfo", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );

    let (_, short) = w
        .call(
            Method::POST,
            "/api/v1/account/ci/token",
            Some(&admin),
            Some(json!({"expiresIn": "1s"})),
        )
        .await;
    let short = short["token"].as_str().unwrap().to_owned();
    assert_eq!(
        w.get("/api/v1/session/userinfo", &short).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = w.get("/api/v1/session/userinfo", &short).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["message"].as_str().unwrap().contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn a_password_change_ends_the_sessions_begun_before_it() {
    let w = World::new().await;
    w.accounts(
        &[("alice", "login")],
        "first-password",
        "g, alice, role:readonly",
        None,
    )
    .await;
    let before = w.login("alice", "first-password").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/account/password",
            Some(&before),
            Some(json!({"currentPassword": "wrong", "newPassword": "second-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/account/password",
            Some(&before),
            Some(json!({"currentPassword": "first-password", "newPassword": "second-password"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    w.eventually("the old session is refused", async || {
        w.get("/api/v1/session/userinfo", &before).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    let after = w.login("alice", "second-password").await;
    assert_eq!(
        w.get("/api/v1/session/userinfo", &after).await.0,
        StatusCode::OK
    );
    // Another account's password needs accounts/update.
    let (status, body) = w
        .call(
            Method::PUT,
            "/api/v1/account/password",
            Some(&after),
            Some(json!({"currentPassword": "second-password", "newPassword": "hijacked!", "name": "admin"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

/// Two projects, an admin, a developer of `dev` and a read-only user.
async fn rbac_world() -> (World, String, String, String) {
    let w = World::new().await;
    w.accounts(
        &[("alice", "login"), ("bob", "login")],
        "password-123",
        "p, role:dev, applications, get, dev/*, allow\n\
         p, role:dev, applications, sync, dev/*, allow\n\
         p, role:dev, applications, update, dev/*, allow\n\
         g, alice, role:dev\n\
         g, bob, role:readonly\n",
        None,
    )
    .await;
    w.create_app(w.app("dev-web", "dev", "web", "web", false))
        .await;
    w.create_app(w.app("prod-api", "prod", "api", "api", false))
        .await;
    let admin = w.admin().await;
    w.eventually("the server sees both apps", async || {
        w.get("/api/v1/applications", &admin).await.1["total"] == 2
    })
    .await;
    let alice = w.login("alice", "password-123").await;
    let bob = w.login("bob", "password-123").await;
    (w, admin, alice, bob)
}

#[tokio::test]
async fn rbac_decides_what_each_route_allows_and_names_what_it_refused() {
    let (w, admin, alice, bob) = rbac_world().await;
    let names = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&w.get("/api/v1/applications", &alice).await.1),
        ["dev-web"]
    );
    assert_eq!(
        names(&w.get("/api/v1/applications", &bob).await.1),
        ["dev-web", "prod-api"]
    );
    assert_eq!(
        w.get("/api/v1/applications/prod-api", &alice).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.get("/api/v1/applications/prod-api", &bob).await.0,
        StatusCode::OK
    );

    // Reads every role with get may do.
    for path in [
        "/api/v1/applications/dev-web",
        "/api/v1/applications/dev-web/resource-tree",
        "/api/v1/applications/dev-web/history",
        "/api/v1/applications/dev-web/events",
        "/api/v1/projects",
        "/api/v1/applicationsets",
        "/api/v1/repositories",
        "/api/v1/clusters",
        "/api/v1/version",
        "/api/v1/settings",
        "/api/v1/account",
    ] {
        let (status, body) = w.get(path, &bob).await;
        assert_eq!(status, StatusCode::OK, "bob GET {path}: {body}");
    }
    let (_, accounts) = w.get("/api/v1/account", &alice).await;
    assert_eq!(
        accounts.as_array().unwrap().len(),
        1,
        "alice sees only herself: {accounts}"
    );

    // Writes: (method, path, body, allowed for alice, allowed for bob).
    let sync = json!({"prune": false});
    let cases: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/applications/dev-web/sync",
            Some(sync.clone()),
        ),
        (
            Method::POST,
            "/api/v1/applications/dev-web/rollback",
            Some(json!({"id": 1})),
        ),
        (
            Method::DELETE,
            "/api/v1/applications/dev-web/operation",
            None,
        ),
        (Method::DELETE, "/api/v1/applications/dev-web", None),
        (
            Method::POST,
            "/api/v1/applications",
            Some(w.app("new-app", "dev", "x", "x", false)),
        ),
        (
            Method::POST,
            "/api/v1/repositories",
            Some(json!({"url": "https://git.example/x.git", "password": "p"})),
        ),
        (
            Method::DELETE,
            "/api/v1/repositories/repo-git-example-x",
            None,
        ),
        (
            Method::PUT,
            "/api/v1/account/password",
            Some(
                json!({"currentPassword": "password-123", "newPassword": "abcdefghi", "name": "admin"}),
            ),
        ),
        (Method::POST, "/api/v1/account/admin/token", Some(json!({}))),
    ];
    for (method, path, body) in &cases {
        let (status, answer) = w.call(method.clone(), path, Some(&bob), body.clone()).await;
        assert!(
            status == StatusCode::FORBIDDEN
                || (status == StatusCode::NOT_FOUND && path.contains("repositories/")),
            "bob {method} {path}: {status} {answer}"
        );
        if status == StatusCode::FORBIDDEN {
            let message = answer["message"].as_str().unwrap();
            assert!(
                message.contains("permission denied") && message.contains("bob"),
                "{message}"
            );
        }
    }
    let (status, answer) = w
        .call(
            Method::POST,
            "/api/v1/applications/dev-web/sync",
            Some(&bob),
            Some(sync.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("applications, sync, dev/dev-web"),
        "{answer}"
    );

    // Alice may sync her project's app, and the operation names her.
    let (status, answer) = w
        .call(
            Method::POST,
            "/api/v1/applications/dev-web/sync",
            Some(&alice),
            Some(sync.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let apps: Api<sextant_model::Application> = Api::namespaced(w.client.clone(), NS);
    let written = apps.get("dev-web").await.unwrap();
    let op = written
        .operation
        .expect("the sync is requested as an operation");
    assert_eq!(
        op.initiated_by.and_then(|i| i.username).as_deref(),
        Some("alice")
    );
    // A second sync while one is pending is refused.
    w.eventually("the server sees the operation", async || {
        w.call(
            Method::POST,
            "/api/v1/applications/dev-web/sync",
            Some(&alice),
            Some(sync.clone()),
        )
        .await
        .0 == StatusCode::CONFLICT
    })
    .await;
    let (status, _) = w
        .call(
            Method::POST,
            "/api/v1/applications/prod-api/sync",
            Some(&alice),
            Some(sync.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "alice cannot even see prod-api"
    );
    // Admin may do anything.
    let (status, _) = w.get("/api/v1/applications/prod-api/history", &admin).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_policy_change_applies_without_a_restart() {
    let (w, _admin, alice, _bob) = rbac_world().await;
    assert_eq!(w.get("/api/v1/applications", &alice).await.1["total"], 1);
    w.set_configmap(
        "sextant-rbac-cm",
        json!({"policy.csv": "p, role:dev, applications, get, */*, allow\ng, alice, role:dev\n"}),
    )
    .await;
    w.eventually("alice sees both apps", async || {
        w.get("/api/v1/applications", &alice).await.1["total"] == 2
    })
    .await;
    // A default role applies to every account.
    w.set_configmap(
        "sextant-rbac-cm",
        json!({"policy.csv": "", "policy.default": "role:readonly"}),
    )
    .await;
    w.eventually("the default role is in force", async || {
        w.get("/api/v1/projects", &alice).await.0 == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn the_list_filters_pages_and_counts_on_the_server() {
    let w = World::new().await;
    let apps: Api<sextant_model::Application> = Api::namespaced(w.client.clone(), NS);
    let cases = [
        ("a-pay", "payments", "Synced", "Healthy", "team=pay"),
        ("b-pay", "payments", "OutOfSync", "Healthy", "team=pay"),
        ("c-shop", "shop", "Synced", "Degraded", "team=shop"),
        ("d-shop", "shop", "Synced", "Healthy", "team=shop"),
        (
            "e-infra",
            "default",
            "OutOfSync",
            "Progressing",
            "tier=infra",
        ),
    ];
    for (name, project, sync, health, label) in cases {
        let mut app = w.app(name, project, name, name, false);
        let (k, v) = label.split_once('=').unwrap();
        app["metadata"]["labels"] = json!({k: v});
        w.create_app(app).await;
        let status = json!({"status": {"sync": {"status": sync}, "health": {"status": health}}});
        apps.patch_status(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&status),
        )
        .await
        .unwrap();
    }
    let admin = w.admin().await;
    w.eventually("the server sees every status", async || {
        w.get("/api/v1/applications?health=Degraded", &admin)
            .await
            .1["total"]
            == 1
            && w.get("/api/v1/applications?sync=OutOfSync", &admin).await.1["total"] == 2
    })
    .await;
    let names = |v: &Value| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let q = async |query: &str| {
        w.get(&format!("/api/v1/applications?{query}"), &admin)
            .await
            .1
    };
    assert_eq!(names(&q("project=shop").await), ["c-shop", "d-shop"]);
    assert_eq!(names(&q("sync=OutOfSync").await), ["b-pay", "e-infra"]);
    assert_eq!(
        names(&q("health=Healthy&project=payments,shop").await),
        ["a-pay", "b-pay", "d-shop"]
    );
    assert_eq!(names(&q("selector=team%3Dpay").await), ["a-pay", "b-pay"]);
    assert_eq!(names(&q("selector=!team").await), ["e-infra"]);
    assert_eq!(names(&q("search=SHOP").await), ["c-shop", "d-shop"]);
    assert_eq!(names(&q("namespace=d-shop").await), ["d-shop"]);
    let repo = format!("file://{}", w.repo.display());
    assert_eq!(q(&format!("repo={repo}")).await["total"], 5);
    let all = q("").await;
    assert_eq!(all["counts"]["sync"], json!({"OutOfSync": 2, "Synced": 3}));
    assert_eq!(
        all["counts"]["health"],
        json!({"Degraded": 1, "Healthy": 3, "Progressing": 1})
    );
    // Pages of two, following `continue`.
    let mut seen = Vec::new();
    let mut next = String::new();
    loop {
        let page = q(&format!("limit=2&continue={next}")).await;
        assert_eq!(page["total"], 5);
        seen.extend(names(&page));
        match page["continue"].as_str() {
            Some(c) => next = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["a-pay", "b-pay", "c-shop", "d-shop", "e-infra"]);
    let (status, body) = w.get("/api/v1/applications?selector=%3Dx", &admin).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn apps_are_created_updated_and_deleted_through_the_api() {
    let w = World::new().await;
    let admin = w.admin().await;
    let mut app = w.app("web", "default", "web", "web", false);
    // Checked before anything is written.
    let mut bad = app.clone();
    bad["spec"]["project"] = json!("nope");
    let (status, body) = w
        .call(
            Method::POST,
            "/api/v1/applications",
            Some(&admin),
            Some(bad.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("project nope"),
        "{body}"
    );
    let (status, _) = w
        .call(
            Method::POST,
            "/api/v1/applications?validate=false",
            Some(&admin),
            Some(json!({"metadata": {"name": "Bad Name"}, "spec": app["spec"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    bad = app.clone();
    bad["spec"]["syncPolicy"]["syncOptions"] = json!(["NoSuchOption=true"]);
    let (status, body) = w
        .call(
            Method::POST,
            "/api/v1/applications",
            Some(&admin),
            Some(bad),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let (status, created) = w
        .call(
            Method::POST,
            "/api/v1/applications",
            Some(&admin),
            Some(app.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["metadata"]["name"], "web");
    // The same spec again is fine; another spec needs upsert.
    assert_eq!(
        w.call(
            Method::POST,
            "/api/v1/applications",
            Some(&admin),
            Some(app.clone())
        )
        .await
        .0,
        StatusCode::OK
    );
    app["spec"]["source"]["path"] = json!("web2");
    assert_eq!(
        w.call(
            Method::POST,
            "/api/v1/applications",
            Some(&admin),
            Some(app.clone())
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let (status, upserted) = w
        .call(
            Method::POST,
            "/api/v1/applications?upsert=true",
            Some(&admin),
            Some(app.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{upserted}");
    assert_eq!(upserted["spec"]["source"]["path"], "web2");

    w.eventually("the server sees web", async || {
        w.get("/api/v1/applications/web", &admin).await.0 == StatusCode::OK
    })
    .await;
    let mut update = app.clone();
    update["spec"]["source"]["path"] = json!("web3");
    update["spec"]["syncPolicy"] = json!(null);
    let (status, updated) = w
        .call(
            Method::PUT,
            "/api/v1/applications/web",
            Some(&admin),
            Some(update),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["spec"]["source"]["path"], "web3");
    assert!(
        updated["spec"].get("syncPolicy").is_none(),
        "a replaced spec drops what it omits: {updated}"
    );
    let mut stale = app.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    assert_eq!(
        w.call(
            Method::PUT,
            "/api/v1/applications/web",
            Some(&admin),
            Some(stale)
        )
        .await
        .0,
        StatusCode::CONFLICT
    );

    // Cascading delete goes through the resources finalizer (the
    // controller deletes the objects, then the app); without cascade the
    // app goes at once.
    let (status, _) = w
        .call(
            Method::DELETE,
            "/api/v1/applications/web",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let apps: Api<sextant_model::Application> = Api::namespaced(w.client.clone(), NS);
    let pending = apps.get("web").await.unwrap();
    assert!(pending.metadata.deletion_timestamp.is_some());
    assert_eq!(
        pending.metadata.finalizers.unwrap(),
        ["resources-finalizer.sextant.dev"]
    );
    w.create_app(w.app("kept", "default", "kept", "kept", false))
        .await;
    w.eventually("the server sees kept", async || {
        w.get("/api/v1/applications/kept", &admin).await.0 == StatusCode::OK
    })
    .await;
    let (status, _) = w
        .call(
            Method::DELETE,
            "/api/v1/applications/kept?cascade=false",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(apps.get_opt("kept").await.unwrap().is_none());
}

#[tokio::test]
async fn responses_carry_security_headers_and_bodies_are_bounded() {
    let w = World::new().await;
    for path in [
        "/",
        "/healthz",
        "/api/v1/applications",
        "/api/v1/nothing-here",
    ] {
        let resp = w.http.get(format!("{}{path}", w.url)).send().await.unwrap();
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
    }
    let admin = w.admin().await;
    let big = "x".repeat(3 * 1024 * 1024);
    let resp = w
        .http
        .post(format!("{}/api/v1/applications", w.url))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(format!("{{\"metadata\":{{\"name\":\"{big}\"}}}}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = w.get("/api/v1/nothing-here", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
}

#[tokio::test]
async fn the_server_answers_under_a_path_prefix() {
    let w = World::with_config(|c| c.base_href = "/sextant/".into()).await;
    assert!(w.url.ends_with("/sextant"), "{}", w.url);
    let token = w.admin().await;
    assert_eq!(
        w.get("/api/v1/applications", &token).await.0,
        StatusCode::OK
    );
    let root = w.url.trim_end_matches("/sextant");
    let outside = w
        .http
        .get(format!("{root}/api/v1/applications"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::NOT_FOUND);
    let login = w
        .http
        .post(format!("{}/api/v1/session", w.url))
        .json(&json!({"username": "admin", "password": w.admin_password}))
        .send()
        .await
        .unwrap();
    assert!(
        login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Path=/sextant")
    );
}

#[tokio::test]
async fn tls_with_a_generated_certificate_and_secure_cookies() {
    let w = World::with_config(|c| c.tls = sextant_server::TlsMode::SelfSigned).await;
    assert!(w.url.starts_with("https://"), "{}", w.url);
    let pem = w.server().certificate_pem().unwrap();
    let strict = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = w.url.replace("127.0.0.1", "localhost");
    let resp = strict
        .post(format!("{url}/api/v1/session"))
        .json(&json!({"username": "admin", "password": w.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
    let plain = w.url.replace("https://", "http://");
    assert!(
        w.http.get(format!("{plain}/healthz")).send().await.is_err(),
        "no plain HTTP on a TLS port"
    );
}
