//! Security, item by item (SECURITY.md names the test of each): every route gated before it
//! reads the request, the security headers, the body limit, time limits on slow and idle
//! connections, sessions renewed at sign-in and ended at sign-out, and stored XSS through every
//! text field on the pages, the published site and the annual report.

use super::*;
use axum::http::Method;
use counterpart_domain::access::{Actor, may_attempt};
use counterpart_web::guard::{self, Access, RouteInfo, Surface};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A route's path with its parameters filled: an existing record's, or one that does not exist.
fn filled(path: &str, existing: bool) -> String {
    let pick = |yes: &str, no: &str| if existing { yes } else { no }.to_owned();
    let code = if path.contains("/recipients/") {
        "kashgar"
    } else {
        "shanghai"
    };
    path.replace("{code}", &pick(code, "atlantis"))
        .replace("{id}", &pick("p.shanghai", "no.such.project"))
        .replace("{file}", &pick("transfers.csv", "no_such_table.csv"))
}

/// A plausible record for every write route at once (each reads the fields it knows).
const PLAUSIBLE_JSON: &str = r#"{"id":"gate.1","project":"p.shanghai","kind":"commit","amount_yuan":"1","value_date":"2016-05-01","provider":"shanghai","recipient":"kashgar.shache-county","category":"health","title_en":"t","title_zh":"t","year":2016,"budget_yuan":"1","status":"completed","date":"2016-05-01"}"#;
const PLAUSIBLE_FORM: &str = "csrf=x&id=gate.1&kind=commit&amount_yuan=1&value_date=2016-05-01&provider=shanghai&recipient=kashgar.shache-county&category=health&title_en=t&title_zh=t&year=2016&budget_yuan=1&status=completed&date=2016-05-01";

/// Requests of every shape to one route: an existing and a missing id, and for writes no
/// body, an empty one, junk and a plausible record.
fn probes(route: &RouteInfo, who: &Credential) -> Vec<Request<Body>> {
    let mut out = Vec::new();
    for existing in [true, false] {
        let path = filled(&route.path, existing);
        if route.method == Method::GET {
            for query in ["", "?page=0&year=abc&provider=atlantis"] {
                let request = who.apply(Request::get(format!("{path}{query}")));
                out.push(request.body(Body::empty()).unwrap());
            }
            continue;
        }
        let (content_type, bodies) = match route.surface {
            Surface::Api => ("application/json", ["", "{}", "not json", PLAUSIBLE_JSON]),
            Surface::Page => (
                "application/x-www-form-urlencoded",
                ["", "csrf=x", "%%%", PLAUSIBLE_FORM],
            ),
        };
        for body in bodies {
            let request = who
                .apply(Request::builder().method(route.method.clone()).uri(&path))
                .header(header::CONTENT_TYPE, content_type);
            out.push(request.body(Body::from(body)).unwrap());
        }
    }
    out
}

/// What a refusal says, with whatever names the path taken out: the status, and the error
/// body (API), the redirect's target (pages' sign-in) or the error message (other pages).
fn refusal(surface: Surface, reply: &Reply) -> (StatusCode, String) {
    let said = match surface {
        Surface::Api => reply.body.clone(),
        Surface::Page if reply.status == StatusCode::SEE_OTHER => reply.headers[header::LOCATION]
            .to_str()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned(),
        Surface::Page => reply
            .body
            .split(r#"id="message">"#)
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .unwrap_or("")
            .to_owned(),
    };
    (reply.status, said)
}

/// Every route of the router (`guard::routes`, the list the router is built from), asked by
/// the public and by every role that may not call it, with existing and missing ids and
/// bodies of every shape: one and the same refusal each time (401 / sign-in redirect for the
/// public, 403 role_forbidden for a wrong role), nothing written; and every read route
/// answers those it admits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_gated_before_it_reads_the_request() {
    let routes = guard::routes();
    let document = serde_json::to_value(counterpart_web::api::document()).unwrap();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                routes
                    .iter()
                    .any(|r| r.path == *path && r.method.as_str().eq_ignore_ascii_case(method)),
                "{method} {path} is documented but is no gated route"
            );
        }
    }
    for db in databases("gate").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let mut callers = vec![(Actor::Public, Credential::Public)];
        for (name, role, office) in [
            ("admin", AccountRole::Admin, None),
            ("shanghai", AccountRole::ProviderOffice, Some("shanghai")),
            ("kashgar", AccountRole::RecipientOffice, Some("kashgar")),
            ("auditor", AccountRole::Auditor, None),
        ] {
            let actor = Actor::Account {
                name: name.into(),
                role,
                office: office.map(|o| RegionCode::parse(o).unwrap()),
            };
            callers.push((actor.clone(), Credential::Token(token(store, name).await)));
            callers.push((actor, session(store, name).await));
        }
        let audit_before = store.audit_log(None, 500).await.unwrap().len();
        let mut refused = 0;
        for route in &routes {
            let Access::To(kind) = route.access else {
                continue;
            };
            for (actor, who) in &callers {
                let Err(denied) = may_attempt(actor, kind) else {
                    continue;
                };
                let mut answers = BTreeSet::new();
                for request in probes(route, who) {
                    answers.insert(refusal(route.surface, &send(&app, request).await));
                }
                let what = format!("{} {} by {}", route.method, route.path, actor.name());
                assert_eq!(answers.len(), 1, "{what}: {answers:?}");
                let (status, said) = answers.into_iter().next().unwrap();
                match (route.surface, denied.code()) {
                    (Surface::Page, "sign_in_required") => {
                        assert_eq!(
                            (status, said.as_str()),
                            (StatusCode::SEE_OTHER, "/login"),
                            "{what}"
                        )
                    }
                    (_, code) => {
                        let expected = if code == "sign_in_required" {
                            StatusCode::UNAUTHORIZED
                        } else {
                            StatusCode::FORBIDDEN
                        };
                        assert_eq!(status, expected, "{what}: {said}");
                        assert!(said.contains(code), "{what}: {said}");
                    }
                }
                refused += 1;
            }
        }
        assert!(refused >= 60, "{refused} refusals checked");
        assert_eq!(
            store.audit_log(None, 500).await.unwrap().len(),
            audit_before,
            "a refused request wrote something"
        );
        // Those the gate admits reach the handler: every read route answers an admin.
        let admin = &callers[1].1;
        for route in routes.iter().filter(|r| r.method == Method::GET) {
            let request = admin.apply(Request::get(filled(&route.path, true)));
            let reply = send(&app, request.body(Body::empty()).unwrap()).await;
            assert_eq!(reply.status, StatusCode::OK, "GET {}", route.path);
        }
        db.cleanup().await;
    }
}

fn sqlite_only(mut dbs: Vec<Db>) -> (Db, Vec<Db>) {
    let first = dbs.remove(0);
    (first, dbs)
}

/// The security headers on every kind of response; pages with no inline script or style
/// element; a body over the limit refused with 413 whether or not it says its length.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_and_the_body_limit() {
    let (db, others) = sqlite_only(databases("shield").await);
    for other in others {
        other.cleanup().await;
    }
    add_accounts(db.store.as_ref()).await;
    let app = counterpart_web::router(AppState::new(db.store.clone(), false));
    let csp = counterpart_web::CONTENT_SECURITY_POLICY;
    for directive in [
        "script-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive}");
    }
    assert!(
        csp.contains("style-src-elem 'self'") && !csp.contains("style-src-elem 'self' 'unsafe")
    );
    for path in [
        "/",
        "/static/app.css",
        "/projects",
        "/no-such-page",
        "/api/v1/summary",
        "/api/v1/projects",
        "/api/v1/nothing",
    ] {
        let reply = send(&app, get(path)).await;
        for (name, value) in [
            ("content-security-policy", csp),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
        ] {
            assert_eq!(reply.headers[name], value, "{name} on {path}");
        }
    }
    let home = send(&app, get("/")).await;
    assert!(!home.body.contains("<script") && !home.body.contains("<style"));
    assert!(
        home.body
            .contains(r#"<link rel="stylesheet" href="/static/app.css">"#)
    );
    let css = send(&app, get("/static/app.css")).await;
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.body.contains("table{"));

    let admin = Credential::Token(token(db.store.as_ref(), "admin").await);
    // Downloads are attachments of their own type; a write that is not JSON is refused.
    let csv = send(
        &app,
        admin
            .apply(Request::get("/api/v1/tables/transfers.csv"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let plain = admin
        .apply(Request::post("/api/v1/transfers"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        send(&app, plain).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert!(
        home.headers.get(header::SERVER).is_none(),
        "no Server header"
    );
    let big = format!(
        r#"{{"id":"{}"}}"#,
        "x".repeat(counterpart_web::MAX_BODY_BYTES)
    );
    let declared = admin
        .apply(Request::post("/api/v1/transfers"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let reply = send(&app, declared).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(&format!("{} bytes", big.len())),
        "{}",
        reply.body
    );
    // Without a length the body is cut at the limit as it is read.
    let undeclared = admin
        .apply(Request::post("/api/v1/projects"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(futures_util::stream::iter([Ok::<
            _,
            std::io::Error,
        >(
            big.clone().into_bytes(),
        )])))
        .unwrap();
    assert_eq!(
        send(&app, undeclared).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let page = admin
        .apply(Request::post("/projects/new"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from_stream(futures_util::stream::iter([Ok::<
            _,
            std::io::Error,
        >(
            big.into_bytes(),
        )])))
        .unwrap();
    assert_eq!(send(&app, page).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        store_has_no_project(db.store.as_ref(), "x").await,
        "nothing written"
    );
    db.cleanup().await;
}

async fn store_has_no_project(store: &dyn Store, id: &str) -> bool {
    match RecordId::parse(id) {
        Ok(id) => store.project(&id).await.unwrap().is_none(),
        Err(_) => true,
    }
}

/// Read one HTTP/1.1 response whose body has a Content-Length; `None` if the server closed
/// the connection first.
async fn read_response(stream: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let text = String::from_utf8_lossy(&buffer).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Some(text);
            }
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

/// Whether the server closes the connection within `within`, sending nothing more.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut rest))
        .await
        .is_ok()
}

/// A real server on a loopback port with short limits: a client that sends its headers too
/// slowly, a connection left idle after a response, and a body that never finishes are all
/// cut off; a prompt client is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed() {
    let (db, others) = sqlite_only(databases("timeouts").await);
    for other in others {
        other.cleanup().await;
    }
    add_accounts(db.store.as_ref()).await;
    let admin = token(db.store.as_ref(), "admin").await;
    let limit = Duration::from_millis(600);
    let limits = counterpart_web::Limits {
        header_read: limit,
        body_read: limit,
        respond: Duration::from_secs(30),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let state = AppState::new(db.store.clone(), false);
    let server = tokio::spawn(counterpart_web::serve_on(listener, state, limits));
    let connect = || tokio::net::TcpStream::connect(address);

    let mut prompt = connect().await.unwrap();
    prompt
        .write_all(b"GET /static/app.css HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    let served = read_response(&mut prompt)
        .await
        .expect("a prompt client is served");
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    // The same connection, now idle, is closed once the limit passes.
    let idle_since = Instant::now();
    assert!(
        closed_within(&mut prompt, Duration::from_secs(10)).await,
        "idle kept open"
    );
    assert!(idle_since.elapsed() >= limit / 2, "closed before the limit");

    let mut slow = connect().await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut slow, Duration::from_secs(10)).await,
        "slow headers kept open"
    );
    assert!(started.elapsed() >= limit / 2);

    let mut stalled = connect().await.unwrap();
    let head = format!(
        "POST /api/v1/transfers HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"id\":"
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), read_response(&mut stalled))
        .await
        .expect("a stalled body is answered in time");
    if let Some(answer) = answer {
        assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    }
    assert!(closed_within(&mut stalled, Duration::from_secs(10)).await);
    server.abort();
    db.cleanup().await;
}

/// Sign in through the form as a browser does (the form's cookie and token), holding the
/// session cookie `held` if given.
async fn sign_in_by_form(app: &Router, name: &str, password: &str, held: Option<&str>) -> Reply {
    sign_in_with_code(app, name, password, "", held).await
}

/// [`sign_in_by_form`] with a one-time code.
async fn sign_in_with_code(
    app: &Router,
    name: &str,
    password: &str,
    code: &str,
    held: Option<&str>,
) -> Reply {
    let mut form = Request::get("/login");
    if let Some(held) = held {
        form = form.header(header::COOKIE, format!("cp_session={held}"));
    }
    let form = send(app, form.body(Body::empty()).unwrap()).await;
    let login_cookie = form.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = login_cookie.trim_start_matches("cp_login=").to_owned();
    let cookies = match held {
        Some(held) => format!("{login_cookie}; cp_session={held}"),
        None => login_cookie,
    };
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookies)
        .body(Body::from(format!(
            "csrf={csrf}&name={name}&password={}&code={code}",
            password.replace(' ', "+")
        )))
        .unwrap();
    send(app, request).await
}

/// Signing in gives a new session id and ends the one the browser held; signing out removes
/// the session on the server, so the old cookie is worth nothing even if kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_renews_the_session_and_a_sign_out_ends_it_on_the_server() {
    for db in databases("rotate").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let sign_in = |name: &'static str, held: Option<String>| {
            let app = app.clone();
            async move {
                let reply = sign_in_by_form(&app, name, PASSWORD, held.as_deref()).await;
                assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
                reply
                    .headers
                    .get_all(header::SET_COOKIE)
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .find_map(|c| {
                        c.strip_prefix("cp_session=")
                            .map(|v| v.split(';').next().unwrap().to_owned())
                    })
                    .expect("a session cookie")
            }
        };
        let whoami = |secret: String| {
            let app = app.clone();
            async move {
                let reply = send(
                    &app,
                    Request::get("/api/v1/projects")
                        .header(header::COOKIE, format!("cp_session={secret}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
                reply.status
            }
        };
        let first = sign_in("shanghai", None).await;
        assert_eq!(whoami(first.clone()).await, StatusCode::OK);
        let second = sign_in("kashgar", Some(first.clone())).await;
        assert_ne!(first, second, "a new session id at sign-in");
        assert_eq!(
            whoami(first.clone()).await,
            StatusCode::UNAUTHORIZED,
            "the old one ended"
        );
        assert_eq!(whoami(second.clone()).await, StatusCode::OK);
        let now = jiff::Timestamp::now().as_second();
        let held = store
            .session(&access::digest(&second), now)
            .await
            .unwrap()
            .expect("the session is on the server");
        let out = send(
            &app,
            post_form(
                "/logout",
                &Credential::Cookie(second.clone(), held.0.csrf.clone()),
                &[("csrf", &held.0.csrf)],
            ),
        )
        .await;
        assert_eq!(out.status, StatusCode::SEE_OTHER);
        assert!(
            store
                .session(&access::digest(&second), now)
                .await
                .unwrap()
                .is_none(),
            "signing out removes the session on the server"
        );
        assert_eq!(whoami(second).await, StatusCode::UNAUTHORIZED);
        db.cleanup().await;
    }
}

/// The text that must never reach a page as markup.
const PAYLOAD: &str = r#"<script>alert(1)</script><img src=x onerror=alert(2)>"'"#;

/// Every text column of every table, as free text (where the payload goes) or as a code the
/// program parses: a new text column fails this test until it is put in one list or the other.
const FREE_TEXT: [&str; 16] = [
    "name_en",
    "name_zh",
    "rules_source",
    "source",
    "note",
    "value",
    "unit",
    "period",
    "title_en",
    "title_zh",
    "home_institution",
    "host_institution",
    "provider_institution",
    "specialty",
    "product",
    "channel",
];
const CODED: [&str; 31] = [
    "code",
    "parent",
    "kind",
    "admin_code",
    "currency",
    "livelihood_share_min",
    "county_level_share_min",
    "indicator",
    "growth",
    "rate_min",
    "rate_max",
    "provenance",
    "confidence",
    "region",
    "tag",
    "provider",
    "rate",
    "recipient",
    "key",
    "id",
    "category",
    "status",
    "project",
    "value_date",
    "corrects",
    "phase",
    "pending_of",
    "title",
    "languages",
    "person",
    "post",
];
const CODED_TOO: [&str; 6] = ["role", "start_date", "end_date", "team", "deadline", "date"];

/// The demo with the payload before every free-text value, imported as a CSV bundle like
/// any office's; then every page in both languages, the published site and the annual report
/// show it as text, never as markup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_text_is_never_markup_on_pages_the_site_or_the_annual_report() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let mut demo = demo::demo_records().unwrap();
    demo.projects
        .push(project("p.shanghai", "shanghai", "kashgar.shache-county"));
    counterpart_app::bundle::write_dir(&demo, &bundle).unwrap();
    let mut planted = 0;
    for table in counterpart_store::TABLES {
        for (column, ty) in table.columns {
            if *ty == counterpart_store::ColumnType::Text {
                assert!(
                    FREE_TEXT.contains(column)
                        || CODED.contains(column)
                        || CODED_TOO.contains(column),
                    "{}.{column}: free text or a code?",
                    table.name
                );
            }
        }
        let path = bundle.join(format!("{}.csv", table.name));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let free: Vec<bool> = header
            .iter()
            .map(|name| {
                FREE_TEXT.contains(&name)
                    && table
                        .columns
                        .iter()
                        .any(|(c, ty)| *c == name && *ty == counterpart_store::ColumnType::Text)
            })
            .collect();
        let mut writer = csv::Writer::from_path(&path).unwrap();
        writer.write_record(&header).unwrap();
        for row in reader.records() {
            let row = row.unwrap();
            let cells: Vec<String> = row
                .iter()
                .zip(&free)
                .map(|(cell, free)| {
                    if *free && !cell.is_empty() {
                        planted += 1;
                        format!("{PAYLOAD}{cell}")
                    } else {
                        cell.to_owned()
                    }
                })
                .collect();
            writer.write_record(&cells).unwrap();
        }
        writer.flush().unwrap();
    }
    assert!(planted > 1000, "{planted} values planted");
    let store = SqliteStore::open(&dir.path().join("xss.db")).await.unwrap();
    import::import_dir(&store, &bundle, &|_| {}).await.unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    add_accounts(store.as_ref()).await;
    let admin = Credential::Token(token(store.as_ref(), "admin").await);
    let app = counterpart_web::router(AppState::new(store.clone(), false));
    let unsafe_markup = |text: &str| text.contains("<script") || text.contains("<img");
    let mut shown = 0;
    for route in guard::routes() {
        if route.method != Method::GET || route.surface != Surface::Page {
            continue;
        }
        for lang in ["en", "zh"] {
            let path = format!("{}?lang={lang}", filled(&route.path, true));
            let reply = send(
                &app,
                admin
                    .apply(Request::get(&path))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert!(
                !unsafe_markup(&reply.body),
                "{path} shows stored text as markup"
            );
            shown += reply.body.matches("&lt;script&gt;alert(1)").count();
        }
    }
    assert!(shown > 100, "the payload is shown escaped ({shown} times)");

    let site = dir.path().join("site");
    counterpart_app::publish::publish(
        store.as_ref(),
        &site,
        "2026-12-07".parse().unwrap(),
        "2026-12-07T00:00:00Z",
    )
    .await
    .unwrap();
    let mut files = 0;
    let mut stack = vec![site];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("html" | "svg")
        ) {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!unsafe_markup(&text), "{}", path.display());
            files += 1;
        }
    }
    assert!(files > 30, "{files} published pages checked");
    let annual = counterpart_app::annual::annual(
        store.as_ref(),
        Year::new(2016).unwrap(),
        counterpart_app::lang::Lang::En,
    )
    .await
    .unwrap();
    assert!(!unsafe_markup(&annual), "the annual report");
    assert!(
        annual.contains("&lt;script&gt;"),
        "the annual report shows the names"
    );
}

/// Failed and successful sign-ins, refused requests and unknown tokens become security events
/// (shown to admins on the audit page); HSTS only over TLS; no CORS grant to another origin;
/// ids, filters and table names shaped like injections are only values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_hsts_cors_and_injection_shaped_input() {
    let (db, others) = sqlite_only(databases("events").await);
    for other in others {
        other.cleanup().await;
    }
    let store = db.store.as_ref();
    add_accounts(store).await;
    let state = AppState::new(db.store.clone(), false);
    let app = counterpart_web::router(state.clone());
    let failed = sign_in_by_form(&app, "kashgar", "not the password", None).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        sign_in_by_form(&app, "auditor", PASSWORD, None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let shanghai = Credential::Token(token(store, "shanghai").await);
    let refused = shanghai.apply(Request::get("/api/v1/audit"));
    assert_eq!(
        send(&app, refused.body(Body::empty()).unwrap())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let other_office = post_json(
        "/api/v1/transfers",
        &shanghai,
        &json!({"id": "t.x", "project": "p.beijing", "kind": "commit", "amount_yuan": "1", "value_date": "2016-05-01"}),
    );
    assert_eq!(send(&app, other_office).await.status, StatusCode::FORBIDDEN);
    let unknown = Credential::Token("not-a-token".into()).apply(Request::get("/api/v1/projects"));
    assert_eq!(
        send(&app, unknown.body(Body::empty()).unwrap())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let events: Vec<(&str, String, String)> = state
        .security
        .recent()
        .into_iter()
        .map(|e| (e.kind, e.who, e.detail))
        .collect();
    for expected in [
        ("sign_in_failed", "kashgar", "POST /login"),
        ("sign_in", "auditor", "POST /login"),
        ("refused", "shanghai", "GET /api/v1/audit"),
        ("refused", "shanghai", "POST /api/v1/transfers"),
        ("bad_token", "public", "GET /api/v1/projects"),
    ] {
        assert!(
            events
                .iter()
                .any(|(k, w, d)| (*k, w.as_str(), d.as_str()) == expected),
            "{expected:?} not in {events:?}"
        );
    }
    let admin = Credential::Token(token(store, "admin").await);
    // A name typed into the sign-in form is shown there as text.
    sign_in_by_form(&app, PAYLOAD, "not the password", None).await;
    let page = send(
        &app,
        admin
            .apply(Request::get("/audit"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(page.body.contains(r#"id="security-events""#) && page.body.contains("sign_in_failed"));
    assert!(page.body.contains("&lt;script&gt;alert(1)") && !page.body.contains("<script"));

    let plain = send(&app, get("/")).await;
    assert!(
        plain
            .headers
            .get(header::STRICT_TRANSPORT_SECURITY)
            .is_none()
    );
    let tls = Request::get("/").header("x-forwarded-proto", "https");
    let tls = send(&app, tls.body(Body::empty()).unwrap()).await;
    assert_eq!(
        tls.headers[header::STRICT_TRANSPORT_SECURITY],
        "max-age=31536000; includeSubDomains"
    );
    let cross = Request::get("/api/v1/summary").header(header::ORIGIN, "https://evil.example");
    let cross = send(&app, cross.body(Body::empty()).unwrap()).await;
    assert!(
        cross
            .headers
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );

    let projects_before = store.projects_summary().await.unwrap();
    for (path, status) in [
        (
            "/api/v1/projects?provider=%27%20OR%20%271%27%3D%271",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/projects/p.shanghai%27%20OR%20%271%27%3D%271",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/transfers?project=x%27%3B%20DROP%20TABLE%20transfers%3B--",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/tables/..%2F..%2Fetc%2Fpasswd.csv",
            StatusCode::NOT_FOUND,
        ),
        ("/api/v1/tables/sqlite_master.csv", StatusCode::NOT_FOUND),
    ] {
        let reply = send(
            &app,
            admin.apply(Request::get(path)).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(!reply.body.contains("root:"), "{path}");
    }
    assert_eq!(store.projects_summary().await.unwrap(), projects_before);
    db.cleanup().await;
}

/// A password change needs the current password and holds the new one to the policy (common,
/// contextual, short or mistyped ones refused, the password unchanged); a change ends every
/// other session of the account while the one that made it stays signed in, the old password
/// stops working, and the audit line says so without the hash. An admin's reset (the CLI's
/// `user password`) is held to the same policy and ends every session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_password_needs_the_old_one_and_ends_the_other_sessions() {
    const NEW: &str = "saffron kettle river 2010";
    for db in databases("password").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let elsewhere = session(store, "shanghai").await;
        let mine = session(store, "shanghai").await;
        let change = |current: &str, new: &str, again: &str| {
            post_form(
                "/account/password",
                &mine,
                &[
                    ("csrf", mine.csrf()),
                    ("current", current),
                    ("new", new),
                    ("again", again),
                ],
            )
        };
        for (current, new, again, status, says) in [
            (
                "not the password",
                NEW,
                NEW,
                StatusCode::FORBIDDEN,
                "bad_credentials",
            ),
            (
                PASSWORD,
                "password1234",
                "password1234",
                StatusCode::UNPROCESSABLE_ENTITY,
                "too easy to guess",
            ),
            (
                PASSWORD,
                "Shanghai2010!",
                "Shanghai2010!",
                StatusCode::UNPROCESSABLE_ENTITY,
                "too easy to guess",
            ),
            (
                PASSWORD,
                "kettle",
                "kettle",
                StatusCode::UNPROCESSABLE_ENTITY,
                "at least 10",
            ),
            (
                PASSWORD,
                NEW,
                "saffron kettle river 2011",
                StatusCode::UNPROCESSABLE_ENTITY,
                "differ",
            ),
        ] {
            let reply = send(&app, change(current, new, again)).await;
            assert_eq!(reply.status, status, "{new}: {}", reply.body);
            assert!(reply.body.contains(says), "{new}: {says}");
        }
        let now = jiff::Timestamp::now().as_second();
        assert!(
            access::sign_in(store, "shanghai", PASSWORD, now)
                .await
                .unwrap()
                .is_some()
        );
        let reply = send(&app, change(PASSWORD, NEW, NEW)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("The password is changed"));
        let reads = |who: &Credential| {
            who.apply(Request::get("/api/v1/projects"))
                .body(Body::empty())
                .unwrap()
        };
        assert_eq!(
            send(&app, reads(&mine)).await.status,
            StatusCode::OK,
            "this session stays"
        );
        assert_eq!(
            send(&app, reads(&elsewhere)).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert!(
            access::sign_in(store, "shanghai", PASSWORD, now)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            access::sign_in(store, "shanghai", NEW, now)
                .await
                .unwrap()
                .is_some()
        );
        let line = store.audit_log(None, 1).await.unwrap().remove(0);
        assert_eq!(
            (line.entry.action.as_str(), line.entry.target.as_str()),
            ("account.password", "shanghai")
        );
        assert!(line.entry.before.is_none() && line.entry.after.is_none());

        let frame = store.frame().await.unwrap();
        let weak = access::reset_password(
            store,
            &access::operator(),
            &frame,
            "shanghai",
            "counterpart1",
        )
        .await
        .unwrap_err();
        assert!(weak.to_string().contains("too easy to guess"), "{weak}");
        access::reset_password(
            store,
            &access::operator(),
            &frame,
            "shanghai",
            "amber quartz meadow 77",
        )
        .await
        .unwrap();
        assert_eq!(
            send(&app, reads(&mine)).await.status,
            StatusCode::UNAUTHORIZED
        );
        db.cleanup().await;
    }
}

/// Two-step sign-in: an office sets it up on its account page (password and a code of the new
/// key; a wrong code turns nothing on), after which every session has ended and a sign-in
/// needs the password and a current code, each code once. A server that requires a second
/// factor refuses accounts without one even with the right password; an admin can turn it
/// off (the CLI's `user mfa --off`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_sign_in_needs_a_fresh_code() {
    for db in databases("second").await {
        let store = db.store.as_ref();
        add_accounts(store).await;
        let app = counterpart_web::router(AppState::new(db.store.clone(), false));
        let mine = session(store, "shanghai").await;
        let setup = send(
            &app,
            mine.apply(Request::get("/account?second_factor=setup"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(setup.status, StatusCode::OK);
        let secret = setup
            .body
            .split(r#"id="totp-secret">"#)
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("a key on the page")
            .to_owned();
        assert!(
            setup
                .body
                .contains("otpauth://totp/Counterpart:shanghai?secret=")
        );
        let now = jiff::Timestamp::now().as_second();
        let code = |at: i64| access::totp_code(&secret, at).unwrap();
        let enrol = |password: &str, code: &str| {
            post_form(
                "/account/second-factor",
                &mine,
                &[
                    ("csrf", mine.csrf()),
                    ("secret", &secret),
                    ("password", password),
                    ("code", code),
                ],
            )
        };
        let wrong = send(&app, enrol(PASSWORD, &code(now - 3600))).await;
        assert_eq!(
            wrong.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            wrong.body
        );
        assert!(
            store.totp_secret("shanghai").await.unwrap().is_none(),
            "nothing turned on"
        );
        let reply = send(&app, enrol(PASSWORD, &code(now))).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert!(store.totp_secret("shanghai").await.unwrap().is_some());
        let reads = mine
            .apply(Request::get("/api/v1/projects"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            send(&app, reads).await.status,
            StatusCode::UNAUTHORIZED,
            "sessions ended"
        );

        // A password alone, a wrong code, and the code that turned it on: one refusal.
        for code in ["", "000000", &code(now)] {
            let reply = sign_in_with_code(&app, "shanghai", PASSWORD, code, None).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "code {code:?}");
        }
        assert!(
            access::sign_in(store, "shanghai", PASSWORD, now)
                .await
                .unwrap()
                .is_none()
        );
        let next = code(now + 30);
        let reply = sign_in_with_code(&app, "shanghai", PASSWORD, &next, None).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let again = sign_in_with_code(&app, "shanghai", PASSWORD, &next, None).await;
        assert_eq!(
            again.status,
            StatusCode::UNAUTHORIZED,
            "a code signs in once"
        );
        let wrong_password =
            sign_in_with_code(&app, "shanghai", "not the password", &code(now + 60), None).await;
        assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);

        // A server that requires a second factor.
        let strict = counterpart_web::router(AppState::with_options(
            db.store.clone(),
            counterpart_web::Options {
                secure_cookies: false,
                second_factor_required: true,
            },
        ));
        let refused = sign_in_by_form(&strict, "kashgar", PASSWORD, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(
            refused.body.contains("second_factor_required"),
            "{}",
            refused.body
        );
        let frame = store.frame().await.unwrap();
        let admin_key =
            access::set_second_factor(store, &access::operator(), &frame, "admin", true)
                .await
                .unwrap()
                .expect("a new key");
        let admin_code = access::totp_code(&admin_key, now).unwrap();
        let allowed = sign_in_with_code(&strict, "admin", PASSWORD, &admin_code, None).await;
        assert_eq!(allowed.status, StatusCode::SEE_OTHER, "{}", allowed.body);

        access::set_second_factor(store, &access::operator(), &frame, "shanghai", false)
            .await
            .unwrap();
        assert!(
            access::sign_in(store, "shanghai", PASSWORD, now)
                .await
                .unwrap()
                .is_some()
        );
        db.cleanup().await;
    }
}
