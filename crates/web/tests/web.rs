//! The web application in-process (`Router::oneshot`, no TCP), on SQLite and — when
//! `COUNTERPART_TEST_PG` names a server — on PostgreSQL in a schema of its own: pages, the API
//! and its OpenAPI document, sign-in, CSRF, rate limiting, the audit log, streamed CSV, and the
//! authorization matrix (every mutating endpoint × every role × own and other office).

// A scenario reads top to bottom; the 120-line limit on functions is for the product code.
#![allow(clippy::too_many_lines)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use counterpart_app::access::{self, NewUser};
use counterpart_app::{demo, import};
use counterpart_domain::access::AccountRole;
use counterpart_domain::project::{Category, Project, ProjectStatus};
use counterpart_domain::records::Records;
use counterpart_domain::{Fen, Provenance, RecordId, RegionCode, Year};
use counterpart_store::{PgStore, SqliteStore, Store};
use counterpart_web::AppState;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

#[path = "web/security.rs"]
mod security;

/// The published frame of the demo, with one project of Shanghai (in Shache, Kashgar) and one
/// of Beijing (in Hotan County).
fn records() -> Records {
    let mut records = demo::published_bundle().unwrap().records;
    for (id, provider, recipient) in [
        ("p.shanghai", "shanghai", "kashgar.shache-county"),
        ("p.beijing", "beijing", "hotan.hotan-county"),
    ] {
        records.projects.push(project(id, provider, recipient));
    }
    records
}

fn project(id: &str, provider: &str, recipient: &str) -> Project {
    Project {
        id: RecordId::parse(id).unwrap(),
        provider: RegionCode::parse(provider).unwrap(),
        recipient: RegionCode::parse(recipient).unwrap(),
        category: Category::Health,
        status: ProjectStatus::Completed,
        title_en: "Ward".into(),
        title_zh: "病房".into(),
        year: Year::new(2015).unwrap(),
        budget: Fen::new(100_000_000),
        outputs: counterpart_domain::project::Outputs {
            hospital_beds: 40,
            beneficiaries: 2_000,
            ..Default::default()
        },
        provenance: Provenance::Recorded,
    }
}

/// A test database: SQLite in a temporary directory, or a PostgreSQL schema (dropped after).
struct Db {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Db {
    async fn cleanup(self) {
        if let Some((url, schema)) = self.pg {
            sqlx_pool(&url).await.execute_drop(&schema).await.unwrap();
        }
    }
}

struct Admin(sqlx::PgPool);

async fn sqlx_pool(url: &str) -> Admin {
    Admin(sqlx::PgPool::connect(url).await.unwrap())
}

impl Admin {
    async fn execute_drop(&self, schema: &str) -> Result<(), sqlx::Error> {
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&self.0)
            .await
            .map(|_| ())
    }
}

async fn databases(tag: &str) -> Vec<Db> {
    let records = records();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteStore::open(&dir.path().join("web.db")).await.unwrap();
    import::load(&sqlite, &records, &|_| {}).await.unwrap();
    let mut dbs = vec![Db {
        store: Arc::new(sqlite),
        _dir: dir,
        pg: None,
    }];
    match std::env::var("COUNTERPART_TEST_PG") {
        Ok(url) => {
            let schema = format!("web_{tag}_{}", std::process::id());
            sqlx_pool(&url).await.execute_drop(&schema).await.unwrap();
            let pg = PgStore::connect_in_schema(&url, &schema).await.unwrap();
            import::load(&pg, &records, &|_| {}).await.unwrap();
            dbs.push(Db {
                store: Arc::new(pg),
                _dir: tempfile::tempdir().unwrap(),
                pg: Some((url, schema)),
            });
        }
        Err(_) => eprintln!("COUNTERPART_TEST_PG is not set: PostgreSQL skipped"),
    }
    dbs
}

const PASSWORD: &str = "correct horse battery";

/// The accounts of the matrix: one per role; offices Shanghai (provider) and Kashgar
/// (recipient).
async fn add_accounts(store: &dyn Store) {
    let frame = store.frame().await.unwrap();
    for (name, role, office) in [
        ("admin", AccountRole::Admin, None),
        ("shanghai", AccountRole::ProviderOffice, Some("shanghai")),
        ("kashgar", AccountRole::RecipientOffice, Some("kashgar")),
        ("auditor", AccountRole::Auditor, None),
    ] {
        let new = NewUser {
            name,
            role,
            office,
            password: PASSWORD,
        };
        access::add_user(store, &access::operator(), &frame, &new)
            .await
            .unwrap();
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {}", &self.body[..self.body.len().min(300)])
        })
    }

    fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// How a request proves who sends it.
#[derive(Clone)]
enum Credential {
    Public,
    Token(String),
    /// A session cookie and its CSRF token.
    Cookie(String, String),
}

impl Credential {
    fn apply(&self, mut builder: axum::http::request::Builder) -> axum::http::request::Builder {
        match self {
            Credential::Public => {}
            Credential::Token(t) => {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {t}"))
            }
            Credential::Cookie(cookie, csrf) => {
                builder = builder
                    .header(header::COOKIE, format!("cp_session={cookie}"))
                    .header("x-csrf-token", csrf);
            }
        }
        builder
    }

    fn csrf(&self) -> &str {
        match self {
            Credential::Cookie(_, csrf) => csrf,
            _ => "",
        }
    }
}

fn post_json(path: &str, who: &Credential, body: &Value) -> Request<Body> {
    who.apply(Request::post(path))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn post_form(path: &str, who: &Credential, fields: &[(&str, &str)]) -> Request<Body> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect();
    let builder = match who {
        // A browser sends the cookie; the CSRF token travels in the form.
        Credential::Cookie(cookie, _) => {
            Request::post(path).header(header::COOKIE, format!("cp_session={cookie}"))
        }
        other => other.apply(Request::post(path)),
    };
    builder
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.join("&")))
        .unwrap()
}

async fn token(store: &dyn Store, name: &str) -> String {
    let frame = store.frame().await.unwrap();
    access::issue_token(store, &access::operator(), &frame, name, "test")
        .await
        .unwrap()
}

async fn session(store: &dyn Store, name: &str) -> Credential {
    let signed = access::sign_in(store, name, PASSWORD, jiff::Timestamp::now().as_second())
        .await
        .unwrap()
        .expect("signs in");
    Credential::Cookie(signed.token, signed.session.csrf)
}

/// Every mutating endpoint × every role × own and other office: allowed or denied as the
/// policy says, and a denied write leaves nothing behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    for db in databases("matrix").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let mut who: Vec<(&str, Credential, Credential)> =
            vec![("public", Credential::Public, Credential::Public)];
        for name in ["admin", "shanghai", "kashgar", "auditor"] {
            who.push((
                name,
                Credential::Token(token(store, name).await),
                session(store, name).await,
            ));
        }
        // Targets per cell: a fresh project of the own office (Shanghai, in Kashgar) and of the
        // other (Beijing, in Hotan), recorded by the operator.
        let frame = store.frame().await.unwrap();
        let mut cell = 0;
        for (role, api, browser) in &who {
            for own in [true, false] {
                for (via, credential) in [("api", api), ("form", browser)] {
                    cell += 1;
                    let (provider, recipient) = if own {
                        ("shanghai", "kashgar.bachu-county")
                    } else {
                        ("beijing", "hotan.lop-county")
                    };
                    let target = format!("m{cell}");
                    let new = counterpart_app::write::NewProject {
                        id: target.clone(),
                        provider: provider.into(),
                        recipient: recipient.into(),
                        category: "health".into(),
                        status: "completed".into(),
                        title_en: "Clinic".into(),
                        title_zh: "诊所".into(),
                        year: "2016".into(),
                        budget_yuan: "1000000".into(),
                    };
                    counterpart_app::write::record_project(
                        store,
                        &access::operator(),
                        &frame,
                        &new,
                    )
                    .await
                    .unwrap();
                    let may_write = *role == "admin" || (*role == "shanghai" && own);
                    let may_sign = *role == "admin" || (*role == "kashgar" && own);
                    let expect = |allowed: bool| -> &[StatusCode] {
                        match (allowed, *role, via) {
                            (true, _, "api") => &[StatusCode::CREATED],
                            (true, _, _) => &[StatusCode::OK, StatusCode::SEE_OTHER],
                            (false, "public", "api") => &[StatusCode::UNAUTHORIZED],
                            (false, "public", _) => &[StatusCode::SEE_OTHER],
                            (false, _, _) => &[StatusCode::FORBIDDEN],
                        }
                    };
                    // 1. Record a project.
                    let new_id = format!("{target}.new");
                    let reply = match via {
                        "api" => send(&app, post_json("/api/v1/projects", credential, &json!({
                            "id": new_id, "provider": provider, "recipient": recipient, "category": "education",
                            "title_en": "School", "title_zh": "学校", "year": 2016, "budget_yuan": "2000000"
                        }))).await,
                        _ => send(&app, post_form("/projects/new", credential, &[
                            ("csrf", credential.csrf()), ("id", &new_id), ("provider", provider), ("recipient", recipient),
                            ("category", "education"), ("status", "approved"), ("title_en", "School"), ("title_zh", "学校"),
                            ("year", "2016"), ("budget_yuan", "2000000"),
                        ])).await,
                    };
                    assert!(
                        expect(may_write).contains(&reply.status),
                        "record project: {role} own={own} via {via}: {} {}",
                        reply.status,
                        &reply.body[..reply.body.len().min(200)]
                    );
                    let exists = store
                        .project(&RecordId::parse(&new_id).unwrap())
                        .await
                        .unwrap()
                        .is_some();
                    assert_eq!(
                        exists, may_write,
                        "record project: {role} own={own} via {via}: written = {exists}"
                    );
                    // 2. Post a transfer of the target project.
                    let transfer_id = format!("{target}.c");
                    let reply = match via {
                        "api" => send(&app, post_json("/api/v1/transfers", credential, &json!({
                            "id": transfer_id, "project": target, "kind": "commit", "amount_yuan": "500000", "value_date": "2016-05-01"
                        }))).await,
                        _ => send(&app, post_form(&format!("/projects/{target}/transfers"), credential, &[
                            ("csrf", credential.csrf()), ("id", &transfer_id), ("kind", "commit"), ("amount_yuan", "500000"), ("value_date", "2016-05-01"),
                        ])).await,
                    };
                    assert!(
                        expect(may_write).contains(&reply.status),
                        "post transfer: {role} own={own} via {via}: {} {}",
                        reply.status,
                        &reply.body[..reply.body.len().min(200)]
                    );
                    let posted = store
                        .transfer(&RecordId::parse(&transfer_id).unwrap())
                        .await
                        .unwrap()
                        .is_some();
                    assert_eq!(
                        posted, may_write,
                        "post transfer: {role} own={own} via {via}: written = {posted}"
                    );
                    // 3. Sign off the target project.
                    let reply = match via {
                        "api" => {
                            send(
                                &app,
                                post_json(
                                    &format!("/api/v1/projects/{target}/signoff"),
                                    credential,
                                    &json!({}),
                                ),
                            )
                            .await
                        }
                        _ => {
                            send(
                                &app,
                                post_form(
                                    &format!("/projects/{target}/signoff"),
                                    credential,
                                    &[("csrf", credential.csrf())],
                                ),
                            )
                            .await
                        }
                    };
                    assert!(
                        expect(may_sign).contains(&reply.status),
                        "sign off: {role} own={own} via {via}: {} {}",
                        reply.status,
                        &reply.body[..reply.body.len().min(200)]
                    );
                    let signed = store
                        .signoff(&RecordId::parse(&target).unwrap())
                        .await
                        .unwrap()
                        .is_some();
                    assert_eq!(
                        signed, may_sign,
                        "sign off: {role} own={own} via {via}: written = {signed}"
                    );
                    // 4. Record the target project's next step (completed → handed over).
                    let reply = match via {
                        "api" => {
                            send(
                                &app,
                                post_json(
                                    &format!("/api/v1/projects/{target}/steps"),
                                    credential,
                                    &json!({"status": "handed_over", "date": "2017-01-15"}),
                                ),
                            )
                            .await
                        }
                        _ => {
                            send(
                                &app,
                                post_form(
                                    &format!("/projects/{target}/steps"),
                                    credential,
                                    &[
                                        ("csrf", credential.csrf()),
                                        ("status", "handed_over"),
                                        ("date", "2017-01-15"),
                                    ],
                                ),
                            )
                            .await
                        }
                    };
                    assert!(
                        expect(may_write).contains(&reply.status),
                        "record step: {role} own={own} via {via}: {} {}",
                        reply.status,
                        &reply.body[..reply.body.len().min(200)]
                    );
                    let moved = store
                        .project(&RecordId::parse(&target).unwrap())
                        .await
                        .unwrap()
                        .unwrap()
                        .status
                        == counterpart_domain::project::ProjectStatus::HandedOver;
                    let stepped = !store
                        .project_steps(&RecordId::parse(&target).unwrap())
                        .await
                        .unwrap()
                        .is_empty();
                    assert_eq!(
                        (moved, stepped),
                        (may_write, may_write),
                        "record step: {role} own={own} via {via}"
                    );
                }
            }
        }
        // Every allowed write left one audit line naming its actor; denied ones none.
        let audit = store.audit_log(None, 500).await.unwrap();
        let by = |actor: &str, action: &str| {
            audit
                .iter()
                .filter(|r| r.entry.actor == actor && r.entry.action == action)
                .count()
        };
        assert_eq!(
            by("shanghai", "project.record"),
            2,
            "own provider, api and form"
        );
        assert_eq!(by("shanghai", "transfer.post"), 2);
        assert_eq!(by("shanghai", "project.step"), 2);
        assert_eq!(by("kashgar", "project.step"), 0);
        assert_eq!(by("kashgar", "project.sign_off"), 2);
        assert_eq!(by("admin", "project.record"), 4);
        assert_eq!(
            by("auditor", "project.record")
                + by("auditor", "transfer.post")
                + by("auditor", "project.sign_off"),
            0
        );
        db.cleanup().await;
    }
}

/// Sign-in by form: the cookie's attributes, a wrong password, the rate limit, CSRF on writes,
/// signing out, and a disabled account's sessions ending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_and_out() {
    for db in databases("login").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        // A sign-in form's CSRF token travels in its cookie and in the form (double submit).
        let form = send(&app, get("/login")).await;
        let login_cookie = form.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert!(login_cookie.starts_with("cp_login="));
        let form_token = form
            .body
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let login = |name: &str, password: &str, tls: bool| {
            let mut builder = Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &login_cookie);
            if tls {
                builder = builder.header("x-forwarded-proto", "https");
            }
            builder
                .body(Body::from(format!(
                    "csrf={form_token}&name={name}&password={}&next=/projects",
                    password.replace(' ', "+")
                )))
                .unwrap()
        };
        let forged = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrf={form_token}&name=shanghai&password={}",
                PASSWORD.replace(' ', "+")
            )))
            .unwrap();
        let refused = send(&app, forged).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "a sign-in without the form's cookie"
        );
        assert!(
            refused.body.contains("(csrf)") && refused.headers.get(header::SET_COOKIE).is_some()
        );
        let reply = send(&app, login("shanghai", PASSWORD, true)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.headers[header::LOCATION], "/projects");
        let session_cookie = |reply: &Reply| {
            reply
                .headers
                .get_all(header::SET_COOKIE)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .find(|c| c.starts_with("cp_session=") || c.starts_with("__Host-cp_session="))
                .expect("a session cookie")
        };
        let cookie = session_cookie(&reply);
        // Over TLS the name has the __Host- prefix: Secure, this host, path / (no Domain).
        assert!(!cookie.contains("Domain"), "{cookie}");
        for attribute in [
            "__Host-cp_session=",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
        ] {
            assert!(
                cookie.contains(attribute),
                "{attribute} missing in {cookie}"
            );
        }
        let plain = send(&app, login("shanghai", PASSWORD, false)).await;
        let plain = session_cookie(&plain);
        assert!(
            plain.starts_with("cp_session=") && !plain.contains("Secure"),
            "no TLS, no Secure and no prefix: {plain}"
        );
        let secret = cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("__Host-cp_session=")
            .to_owned();
        // The session's page shows who is signed in, and its forms carry the CSRF token.
        let page = send(
            &app,
            Request::get("/projects/new")
                .header(header::COOKIE, format!("cp_session={secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(r#"id="me" translate="no">shanghai"#),
            "{}",
            &page.body[..500]
        );
        let csrf = page
            .body
            .split(r#"name="csrf" value=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        assert_eq!(csrf.len(), 64);
        // A write without the CSRF token is refused and writes nothing.
        let forged = Credential::Cookie(secret.clone(), String::new());
        let reply = send(&app, post_json("/api/v1/transfers", &forged, &json!({
            "id": "forged.c", "project": "p.shanghai", "kind": "commit", "amount_yuan": "1", "value_date": "2016-05-01"
        }))).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (StatusCode::FORBIDDEN, "csrf")
        );
        assert!(
            store
                .transfer(&RecordId::parse("forged.c").unwrap())
                .await
                .unwrap()
                .is_none()
        );
        let good = Credential::Cookie(secret.clone(), csrf.clone());
        let reply = send(&app, post_json("/api/v1/transfers", &good, &json!({
            "id": "real.c", "project": "p.shanghai", "kind": "commit", "amount_yuan": "1", "value_date": "2016-05-01"
        }))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        // Wrong passwords: the same answer as an unknown account, then the limit.
        let wrong = send(&app, login("kashgar", "not the password", false)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.body.contains("bad_credentials"));
        let unknown = send(&app, login("nobody", "not the password", false)).await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        for _ in 1..counterpart_web::MAX_FAILURES {
            send(&app, login("kashgar", "still wrong", false)).await;
        }
        let limited = send(&app, login("kashgar", PASSWORD, false)).await;
        assert_eq!(
            limited.status,
            StatusCode::TOO_MANY_REQUESTS,
            "even the right password waits"
        );
        assert!(limited.body.contains("rate_limited"));
        // Signing out ends the session.
        let out = send(&app, post_form("/logout", &good, &[("csrf", &csrf)])).await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        let after = send(
            &app,
            Request::get("/api/v1/projects")
                .header(header::COOKIE, format!("cp_session={secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED);
        // Disabling an account ends its sessions and its tokens stop working.
        let api = token(store, "auditor").await;
        let Credential::Cookie(auditor_cookie, _) = session(store, "auditor").await else {
            unreachable!()
        };
        let frame = store.frame().await.unwrap();
        access::set_disabled(store, &access::operator(), &frame, "auditor", true)
            .await
            .unwrap();
        let by_cookie = send(
            &app,
            Request::get("/api/v1/projects")
                .header(header::COOKIE, format!("cp_session={auditor_cookie}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(by_cookie.status, StatusCode::UNAUTHORIZED);
        let by_token = send(
            &app,
            Credential::Token(api)
                .apply(Request::get("/api/v1/projects"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (by_token.status, by_token.error_code().as_str()),
            (StatusCode::UNAUTHORIZED, "bad_token")
        );
        assert!(
            access::sign_in(store, "auditor", PASSWORD, 0)
                .await
                .unwrap()
                .is_none()
        );
        db.cleanup().await;
    }
}

/// The API: its OpenAPI document, one error shape, paging and filters, invalid records named
/// field by field with nothing written, the audit log, and CSV streamed equal to the export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api() {
    for db in databases("api").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let doc = send(&app, get("/api/v1/openapi.json")).await.json();
        assert_eq!(doc["openapi"], "3.1.0");
        for path in [
            "/api/v1/projects",
            "/api/v1/transfers",
            "/api/v1/projects/{id}/signoff",
            "/api/v1/tables/{file}",
            "/api/v1/audit",
            "/api/v1/summary",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} is not documented");
        }
        assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
        assert_eq!(
            doc,
            serde_json::to_value(counterpart_web::api::document()).unwrap()
        );
        // Public: the published aggregates; not the records.
        let summary = send(&app, get("/api/v1/summary")).await;
        assert_eq!(summary.status, StatusCode::OK);
        assert!(summary.json()["sections"].is_array());
        let missing = send(&app, get("/api/v1/nothing-here")).await;
        assert_eq!(
            (missing.status, missing.error_code().as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        let admin = Credential::Token(token(store, "admin").await);
        let read = |path: &str| admin.apply(Request::get(path)).body(Body::empty()).unwrap();
        // Paging and filters.
        for n in 0..7 {
            let new = counterpart_app::write::NewProject {
                id: format!("page.{n}"),
                provider: "shanghai".into(),
                recipient: "kashgar.zepu-county".into(),
                category: if n % 2 == 0 {
                    "education".into()
                } else {
                    "housing".into()
                },
                status: String::new(),
                title_en: "House".into(),
                title_zh: "住房".into(),
                year: "2017".into(),
                budget_yuan: "10,000.50".into(),
            };
            counterpart_app::write::record_project(
                store,
                &access::operator(),
                &store.frame().await.unwrap(),
                &new,
            )
            .await
            .unwrap();
        }
        let page = send(
            &app,
            read(
                "/api/v1/projects?provider=shanghai&year=2017&category=education&per_page=3&page=2",
            ),
        )
        .await
        .json();
        assert_eq!(page["total"], 4, "{page}");
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        assert_eq!(page["items"][0]["budget_fen"], 1_000_050);
        let area = send(
            &app,
            read("/api/v1/projects?recipient=Kashgar&per_page=500"),
        )
        .await
        .json();
        assert_eq!(
            area["total"], 8,
            "7 in Zepu and p.shanghai in Shache, all within Kashgar"
        );
        let bad = send(&app, read("/api/v1/projects?category=castles")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("castles")
        );
        let bad = send(&app, read("/api/v1/projects?per_page=100000")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        // An invalid project: every wrong field named, nothing written.
        let before = store.projects_count(&Default::default()).await.unwrap();
        let reply = send(&app, post_json("/api/v1/projects", &admin, &json!({
            "id": "bad.1", "provider": "shanghai", "recipient": "hotan.lop-county", "category": "castles",
            "title_en": "X", "title_zh": "X", "year": 2016, "budget_yuan": "-5"
        }))).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        let fields: Vec<String> = reply.json()["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            fields,
            ["budget_yuan"],
            "the amount is checked first: {}",
            reply.body
        );
        let reply = send(&app, post_json("/api/v1/projects", &admin, &json!({
            "id": "bad.1", "provider": "shanghai", "recipient": "hotan.lop-county", "category": "castles",
            "title_en": "X", "title_zh": "X", "year": 2016, "budget_yuan": "5"
        }))).await;
        let fields: Vec<String> = reply.json()["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap().to_owned())
            .collect();
        assert!(fields.contains(&"category".to_owned()), "{}", reply.body);
        let reply = send(&app, post_json("/api/v1/projects", &admin, &json!({
            "id": "bad.1", "provider": "shanghai", "recipient": "hotan.lop-county", "category": "health",
            "title_en": "X", "title_zh": "X", "year": 2016, "budget_yuan": "5"
        }))).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(reply.body.contains("no pair covering"), "{}", reply.body);
        let malformed = send(
            &app,
            admin
                .apply(Request::post("/api/v1/projects"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
        assert_eq!(
            (
                malformed.status.is_client_error(),
                malformed.error_code().as_str()
            ),
            (true, "bad_body")
        );
        assert_eq!(
            store.projects_count(&Default::default()).await.unwrap(),
            before
        );
        // Ledger rules answer with their stable codes; a retry has one effect.
        let commit = json!({"id": "page.0.c", "project": "page.0", "kind": "commit", "amount_yuan": "10000.50", "value_date": "2017-03-01"});
        let first = send(&app, post_json("/api/v1/transfers", &admin, &commit)).await;
        assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
        let again = send(&app, post_json("/api/v1/transfers", &admin, &commit)).await;
        assert_eq!(
            (again.status, again.json()["created"].clone()),
            (StatusCode::OK, json!(false))
        );
        let overdraft = send(&app, post_json("/api/v1/transfers", &admin, &json!({"id": "page.0.d", "project": "page.0", "kind": "disburse", "amount_yuan": "20000", "value_date": "2017-04-01"}))).await;
        assert_eq!(overdraft.status, StatusCode::CONFLICT, "{}", overdraft.body);
        assert!(!overdraft.error_code().is_empty() && overdraft.error_code() != "internal");
        let transfers = send(&app, read("/api/v1/transfers?project=page.0"))
            .await
            .json();
        assert_eq!(transfers["total"], 1);
        assert_eq!(transfers["items"][0]["amount_fen"], 1_000_050);
        // A project's life, step by step, by its provider's office: in order, dated in order,
        // not in the future; the recipient's office may not move it; the status follows.
        let shanghai = Credential::Token(token(store, "shanghai").await);
        let kashgar = Credential::Token(token(store, "kashgar").await);
        let step = |who: &Credential, status: &str, date: &str| {
            post_json(
                "/api/v1/projects/page.1/steps",
                who,
                &json!({"status": status, "date": date}),
            )
        };
        let skip = send(&app, step(&shanghai, "completed", "2017-05-01")).await;
        assert_eq!(
            skip.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            skip.body
        );
        assert!(skip.body.contains("under_construction"), "{}", skip.body);
        let wrong_office = send(&app, step(&kashgar, "under_construction", "2017-05-01")).await;
        assert_eq!(
            wrong_office.status,
            StatusCode::FORBIDDEN,
            "{}",
            wrong_office.body
        );
        let built = send(&app, step(&shanghai, "under_construction", "2017-05-01")).await;
        assert_eq!(built.status, StatusCode::CREATED, "{}", built.body);
        assert_eq!(built.json()["provenance"], "recorded");
        let earlier = send(&app, step(&shanghai, "completed", "2017-04-30")).await;
        assert_eq!(earlier.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            earlier.json()["error"]["fields"][0]["field"],
            "date",
            "{}",
            earlier.body
        );
        let future = send(&app, step(&shanghai, "completed", "2999-01-01")).await;
        assert!(future.body.contains("in the future"), "{}", future.body);
        let done = send(&app, step(&shanghai, "completed", "2018-06-30")).await;
        assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
        let late_cancel = send(&app, step(&shanghai, "cancelled", "2018-07-01")).await;
        assert_eq!(late_cancel.status, StatusCode::UNPROCESSABLE_ENTITY);
        let detail = send(&app, read("/api/v1/projects/page.1")).await.json();
        assert_eq!(detail["project"]["status"], "completed");
        assert!(doc["paths"]["/api/v1/projects/{id}/steps"].is_object());
        let steps: Vec<(String, String)> = detail["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["status"].as_str().unwrap().into(),
                    s["date"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            [
                ("under_construction".to_owned(), "2017-05-01".to_owned()),
                ("completed".to_owned(), "2018-06-30".to_owned())
            ]
        );
        let audit = send(&app, read("/api/v1/audit?limit=1")).await.json();
        assert_eq!(audit[0]["action"], "project.step");
        assert_eq!(audit[0]["before"]["status"], "under_construction");
        assert_eq!(audit[0]["after"]["status"], "completed");
        // The page shows the steps and offers the provider the next one.
        let browser = session(store, "shanghai").await;
        let page = send(
            &app,
            browser
                .apply(Request::get("/projects/page.1"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(page.body.contains(r#"id="steps""#) && page.body.contains("2018-06-30"));
        assert!(page.body.contains(r#"id="record-step""#) && page.body.contains("handed_over"));
        let form = post_form(
            "/projects/page.1/steps",
            &browser,
            &[
                ("csrf", browser.csrf()),
                ("status", "handed_over"),
                ("date", "2018-07-15"),
            ],
        );
        let sent = send(&app, form).await;
        assert!(
            sent.body.contains("Step recorded: handed_over 2018-07-15"),
            "{}",
            sent.body
        );
        // Money again, for the audit line below.
        let commit = json!({"id": "page.0.c2", "project": "page.0", "kind": "commit", "amount_yuan": "10000.50", "value_date": "2017-03-02"});
        assert_eq!(
            send(&app, post_json("/api/v1/transfers", &admin, &commit))
                .await
                .status,
            StatusCode::CREATED
        );
        // The audit log: reads for admin and auditor only, before and after as JSON.
        let audit = send(&app, read("/api/v1/audit?limit=5")).await.json();
        assert_eq!(audit[0]["action"], "transfer.post");
        assert_eq!(audit[0]["after"]["amount_fen"], 1_000_050);
        let denied = send(
            &app,
            shanghai
                .apply(Request::get("/api/v1/audit"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(
            (denied.status, denied.error_code().as_str()),
            (StatusCode::FORBIDDEN, "role_forbidden")
        );
        // CSV, streamed: the same bytes as the export.
        let csv = send(&app, read("/api/v1/tables/projects.csv")).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert!(
            csv.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let mut expected = Vec::new();
        let table = counterpart_app::export::table("projects").unwrap();
        counterpart_app::export::table_csv(store, table, &mut expected)
            .await
            .unwrap();
        assert_eq!(csv.body.as_bytes(), expected.as_slice());
        assert_eq!(
            send(&app, read("/api/v1/tables/nothing.csv")).await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            send(&app, get("/api/v1/tables/projects.csv")).await.status,
            StatusCode::UNAUTHORIZED
        );
        db.cleanup().await;
    }
}

/// The pages: readable without an account where public, in English and Chinese, records behind
/// sign-in, a provider office's view of its scorecard and projects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages() {
    for db in databases("pages").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let home = send(&app, get("/")).await;
        assert_eq!(
            home.status,
            StatusCode::OK,
            "{}",
            &home.body[..home.body.len().min(400)]
        );
        assert!(home.body.contains("<svg"), "the funds chart is inline SVG");
        assert!(home.body.contains(r#"id="pairs-map""#));
        assert!(home.body.contains("Kashgar"));
        // The annual assessment by pair, for everyone; one provider's pairs; a bad year refused.
        let assessment = send(&app, get("/assessment?year=2019")).await;
        assert_eq!(assessment.status, StatusCode::OK);
        assert!(assessment.body.contains("Annual assessment 2019"));
        assert!(assessment.body.contains("Shache County") && assessment.body.contains("Hotan"));
        let shanghai = send(&app, get("/assessment?year=2019&provider=shanghai")).await;
        assert!(shanghai.body.contains("Shache County") && !shanghai.body.contains("Hotan County"));
        let bad = send(&app, get("/assessment?year=1900")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        let zh = send(&app, get("/?lang=zh")).await;
        assert!(zh.body.contains(r#"<html lang="zh-Hans">"#));
        assert!(zh.body.contains("项目") && zh.body.contains("喀什"));
        assert!(
            zh.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .starts_with("lang=zh")
        );
        let remembered = send(
            &app,
            Request::get("/")
                .header(header::COOKIE, "lang=zh")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(remembered.body.contains(r#"<html lang="zh-Hans">"#));
        let provider = send(&app, get("/providers/shanghai")).await;
        assert_eq!(provider.status, StatusCode::OK);
        // The scorecard says what it is once.
        assert!(
            provider
                .body
                .contains("<h1>Provider scorecard: Shanghai 上海市</h1>"),
            "{}",
            provider.body
        );
        // No money recorded here, so no chart of it (the browser test sees one on the demo).
        assert!(!provider.body.contains("years-chart"));
        let recipient = send(&app, get("/recipients/kashgar")).await;
        assert_eq!(recipient.status, StatusCode::OK);
        assert_eq!(
            send(&app, get("/providers/atlantis")).await.status,
            StatusCode::NOT_FOUND
        );
        // Records need an account: the public is sent to sign in.
        let projects = send(&app, get("/projects?provider=shanghai")).await;
        assert_eq!(projects.status, StatusCode::SEE_OTHER);
        assert_eq!(
            projects.headers[header::LOCATION],
            "/login?next=%2Fprojects%3Fprovider%3Dshanghai"
        );
        let Credential::Cookie(cookie, _) = session(store, "shanghai").await else {
            unreachable!()
        };
        let as_shanghai = |path: &str| {
            Request::get(path)
                .header(header::COOKIE, format!("cp_session={cookie}"))
                .body(Body::empty())
                .unwrap()
        };
        let list = send(&app, as_shanghai("/projects?provider=shanghai")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("p.shanghai") && !list.body.contains("p.beijing"));
        let own = send(&app, as_shanghai("/projects/p.shanghai")).await;
        assert!(
            own.body.contains(r#"id="post-transfer""#),
            "its own project has the transfer form"
        );
        let other = send(&app, as_shanghai("/projects/p.beijing")).await;
        assert_eq!(other.status, StatusCode::OK);
        assert!(
            !other.body.contains(r#"id="post-transfer""#),
            "another provider's project has none"
        );
        let Credential::Cookie(kashgar, _) = session(store, "kashgar").await else {
            unreachable!()
        };
        let waiting = send(
            &app,
            Request::get("/projects")
                .header(header::COOKIE, format!("cp_session={kashgar}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert!(
            waiting.body.contains(r#"id="awaiting""#) && waiting.body.contains("p.shanghai"),
            "Kashgar sees what awaits its sign-off"
        );
        // A project's page shows its outputs and the people it serves.
        let ward = send(&app, as_shanghai("/projects/p.shanghai")).await;
        assert!(
            ward.body.contains(r#"id="output-hospital_beds">40<"#),
            "{}",
            ward.body
        );
        assert!(ward.body.contains(r#"id="output-beneficiaries">2000<"#));
        assert!(
            !ward.body.contains("output-jobs"),
            "no row for what it does not deliver"
        );
        // Shanghai sees the same project waiting on the other side; Beijing's is not in its list.
        let theirs = send(&app, as_shanghai("/projects")).await;
        assert!(
            theirs
                .body
                .contains("Awaiting the recipient&#39;s sign-off")
                || theirs.body.contains("Awaiting the recipient's sign-off"),
            "{}",
            &theirs.body[..theirs.body.len().min(600)]
        );
        let list = &theirs.body[theirs.body.find(r#"id="awaiting""#).unwrap()..];
        let list = &list[..list.find("</ul>").unwrap()];
        assert!(
            list.contains("p.shanghai") && !list.contains("p.beijing"),
            "{list}"
        );
        let ledger = send(&app, as_shanghai("/ledger")).await;
        assert_eq!(ledger.status, StatusCode::OK);
        let audit = send(&app, as_shanghai("/audit")).await;
        assert_eq!(audit.status, StatusCode::FORBIDDEN);
        db.cleanup().await;
    }
}

/// A provider office in a real browser (`tests/browser/browser.mjs`: Debian's Chromium driven by
/// playwright-core) against the demo served on a free port. Screenshots go to
/// `target/screenshots/`. Skipped when node, its modules or Chromium are missing, unless
/// `COUNTERPART_REQUIRE_CHROMIUM=1` (CI).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_office_in_a_browser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("tests/browser/browser.mjs");
    let chromium =
        std::env::var("COUNTERPART_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = root
        .join("tests/browser/node_modules/playwright-core")
        .exists()
        && std::path::Path::new(&chromium).exists()
        && std::process::Command::new("node")
            .arg("--version")
            .output()
            .is_ok();
    if !ready {
        assert!(
            std::env::var("COUNTERPART_REQUIRE_CHROMIUM").is_err(),
            "the browser test needs node, `npm ci --prefix tests/browser` and {chromium}"
        );
        eprintln!("node, tests/browser/node_modules or {chromium} missing: browser test skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("demo.db"))
        .await
        .unwrap();
    import::load(&store, &demo::demo_records().unwrap(), &|_| {})
        .await
        .unwrap();
    demo::ensure_accounts(&store).await.unwrap();
    let state = AppState::new(Arc::new(store), false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server =
        tokio::spawn(async move { axum::serve(listener, counterpart_web::router(state)).await });
    let out = root.join("target/screenshots");
    let _ = std::fs::remove_dir_all(&out);
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(&script)
            .arg(&base)
            .arg(&out)
            .env("CHROMIUM", &chromium)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    server.abort();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "browser test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("browser test passed"), "{stdout}");
    // Every page in English and in Chinese, and the steps of the office's day.
    let pages = [
        "overview",
        "projects",
        "project",
        "new-project",
        "ledger",
        "people",
        "pairing",
        "assessment",
        "scorecard",
        "recipient",
        "account",
    ];
    let tour = pages
        .iter()
        .flat_map(|p| [format!("{p}-en"), format!("{p}-zh")]);
    for page in [
        "overview",
        "projects",
        "project",
        "scorecard",
        "ledger-zh",
        "refused",
    ]
    .map(String::from)
    .into_iter()
    .chain(tour)
    {
        let png = root.join(format!("target/screenshots/{page}.png"));
        assert!(
            std::fs::metadata(&png)
                .map(|m| m.len() > 10_000)
                .unwrap_or(false),
            "{} missing",
            png.display()
        );
    }
}
