//! HTTP handlers: `/validate`, `/mutate`, `/healthz`, `/readyz`, `/metrics`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use palisade_policy::{Date, RuleMeta};
use tokio::sync::Semaphore;

use crate::engine::{Engine, Outcome, Webhook};
use crate::log::{DecisionLine, LogSink, event, now_rfc3339};
use crate::metrics::{Failure, Metrics};
use crate::namespaces::NamespaceSource;
use crate::review::{self, AdmissionRequest};

/// Bounds that keep the webhook answering under load and bad input.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body. etcd stores objects up to 1.5 MiB and a review of an UPDATE
    /// carries two of them.
    pub max_body_bytes: usize,
    /// Time from request to response. It must stay below the webhook's `timeoutSeconds`, so
    /// the API server always gets an answer of ours rather than its own timeout.
    pub deadline: Duration,
    /// Evaluations at once; bounds memory (no out-of-memory kill under a burst of large
    /// objects) and keeps latency for the requests taken.
    pub max_concurrent: usize,
    /// How long a request may wait for a slot before it is shed with HTTP 429 (the API
    /// server then applies the webhook's `failurePolicy` at once). Never longer than
    /// `deadline`.
    pub queue_wait: Duration,
    /// Bodies larger than this are evaluated on the blocking pool so they cannot stall the
    /// async workers that answer small requests and probes.
    pub inline_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 << 20,
            deadline: Duration::from_secs(4),
            max_concurrent: 64,
            queue_wait: Duration::from_millis(50),
            inline_body_bytes: 256 << 10,
        }
    }
}

/// Everything the handlers share.
pub struct AppState {
    engine: RwLock<Arc<Engine>>,
    generation: AtomicU64,
    pub known_rules: Vec<&'static RuleMeta>,
    pub namespaces: Arc<dyn NamespaceSource>,
    pub metrics: Arc<Metrics>,
    pub log: Arc<dyn LogSink>,
    pub limits: Limits,
    semaphore: Arc<Semaphore>,
    ready: AtomicBool,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("engine", &self.engine())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State with a policy already parsed (see [`Engine::from_yaml`]).
    #[must_use]
    pub fn new(
        engine: Engine,
        known_rules: Vec<&'static RuleMeta>,
        namespaces: Arc<dyn NamespaceSource>,
        log: Arc<dyn LogSink>,
        limits: Limits,
    ) -> Arc<AppState> {
        let metrics = Arc::new(Metrics::new());
        metrics.policy_reload(true, engine.generation);
        Arc::new(AppState {
            generation: AtomicU64::new(engine.generation),
            engine: RwLock::new(Arc::new(engine)),
            known_rules,
            namespaces,
            metrics,
            log,
            semaphore: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            ready: AtomicBool::new(true),
        })
    }

    /// The policy in force: requests hold their own `Arc`, so a reload never changes the
    /// policy under a request being evaluated.
    #[must_use]
    pub fn engine(&self) -> Arc<Engine> {
        self.engine
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Loads a new policy. A policy with any error is rejected and the old one stays in
    /// force: a typo in a ConfigMap must not open (or close) the cluster.
    pub fn reload_policy(&self, src: &str) -> Result<u64, Vec<String>> {
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        match Engine::from_yaml(src, &self.known_rules, generation) {
            Ok(engine) => {
                self.generation.store(generation, Ordering::SeqCst);
                *self
                    .engine
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(engine);
                self.metrics.policy_reload(true, generation);
                event(&*self.log, "info", "policy loaded", None);
                Ok(generation)
            }
            Err(errors) => {
                self.metrics.policy_reload(false, generation - 1);
                let joined = errors.join("; ");
                event(
                    &*self.log,
                    "error",
                    "policy rejected; the previous policy stays in force",
                    Some(&joined),
                );
                Err(errors)
            }
        }
    }

    /// Evaluation slots free right now (of `limits.max_concurrent`).
    #[must_use]
    pub fn available_slots(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// `/readyz` answers 503 from now on (graceful shutdown: endpoints drop this replica
    /// while in-flight requests finish).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}

/// The webhook's routes over shared state.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/validate",
            post(|s: State<Arc<AppState>>, r: Request| admit(s, Webhook::Validate, r)),
        )
        .route(
            "/mutate",
            post(|s: State<Arc<AppState>>, r: Request| admit(s, Webhook::Mutate, r)),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async { json_error(StatusCode::NOT_FOUND, "no such endpoint") })
        .with_state(state)
}

/// The routes a plain-HTTP metrics listener serves (no admission endpoints there).
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if !state.ready.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    } else if !state.namespaces.synced() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "namespace labels not loaded yet",
        )
            .into_response()
    } else {
        (StatusCode::OK, "ok").into_response()
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state.metrics.render();
    if let Some(gate) = state.engine().images() {
        text.push_str(&gate.render_metrics());
    }
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// An error body the API server understands: a `metav1.Status`, which client-go decodes, so the
/// message reaches the user in "failed calling webhook …" (a plain body would be replaced
/// by a generic text). `error` repeats the message for humans and scripts.
fn json_error(code: StatusCode, message: &str) -> Response {
    let reason = match code {
        StatusCode::BAD_REQUEST => "BadRequest",
        StatusCode::NOT_FOUND => "NotFound",
        StatusCode::PAYLOAD_TOO_LARGE => "RequestEntityTooLarge",
        StatusCode::TOO_MANY_REQUESTS => "TooManyRequests",
        StatusCode::GATEWAY_TIMEOUT => "Timeout",
        _ => "InternalError",
    };
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(), "error": message,
    })
    .to_string();
    let mut r = (code, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn failed(
    state: &AppState,
    webhook: Webhook,
    failure: Failure,
    start: Instant,
    code: StatusCode,
    message: &str,
) -> Response {
    state.metrics.failure(webhook, failure, start.elapsed());
    // Never a `Retry-After`: client-go retries a 429 or 5xx that carries one (`checkWait` in
    // rest/request.go), sleeping inside the webhook's timeout, which turns a fast shed into
    // more load and then a timeout. Without it the API server applies `failurePolicy` at once.
    json_error(code, message)
}

async fn admit(State(state): State<Arc<AppState>>, webhook: Webhook, req: Request) -> Response {
    let start = Instant::now();
    let _inflight = state.metrics.inflight();
    // A slot first, then the body: memory and CPU are only spent on requests that will be
    // evaluated, and the excess is answered before anything is read. The wait is bounded by
    // the deadline, so a request that got a slot still has time to be decided.
    let permit = match state.semaphore.clone().try_acquire_owned() {
        Ok(permit) => Ok(permit),
        Err(_) => tokio::time::timeout(
            state.limits.queue_wait.min(state.limits.deadline),
            state.semaphore.clone().acquire_owned(),
        )
        .await
        .map_err(drop)
        .and_then(|p| p.map_err(drop)),
    };
    let Ok(permit) = permit else {
        return failed(
            &state,
            webhook,
            Failure::Shed,
            start,
            StatusCode::TOO_MANY_REQUESTS,
            "palisade is at its concurrency limit (--max-concurrent)",
        );
    };
    let remaining = state.limits.deadline.saturating_sub(start.elapsed());
    let work = async {
        let body = match axum::body::to_bytes(req.into_body(), state.limits.max_body_bytes).await {
            Ok(b) => b,
            Err(e) => {
                // `to_bytes` fails for a body over the limit or a broken connection.
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                return if too_large {
                    failed(
                        &state,
                        webhook,
                        Failure::BadRequest,
                        start,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &format!("request body exceeds {} bytes", state.limits.max_body_bytes),
                    )
                } else {
                    failed(
                        &state,
                        webhook,
                        Failure::BadRequest,
                        start,
                        StatusCode::BAD_REQUEST,
                        &format!("cannot read request body: {e}"),
                    )
                };
            }
        };
        decide(state.clone(), webhook, body, start).await
    };
    let response = match tokio::time::timeout(remaining, work).await {
        Ok(r) => r,
        Err(_) => failed(
            &state,
            webhook,
            Failure::Timeout,
            start,
            StatusCode::GATEWAY_TIMEOUT,
            "palisade could not decide before its deadline",
        ),
    };
    drop(permit);
    response
}

async fn decide(state: Arc<AppState>, webhook: Webhook, body: Bytes, start: Instant) -> Response {
    let (api_version, request) = match review::parse(&body) {
        Ok(parsed) => parsed,
        Err(e) => {
            return failed(
                &state,
                webhook,
                Failure::BadRequest,
                start,
                StatusCode::BAD_REQUEST,
                &e.to_string(),
            );
        }
    };
    let engine = state.engine();
    let labels = request
        .namespace_object
        .as_ref()
        .map(|n| n.metadata.labels.clone())
        .or_else(|| {
            request
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .and_then(|n| state.namespaces.labels(n))
        });
    let today = Date::today();
    let large = body.len() > state.limits.inline_body_bytes;
    drop(body);
    let result = if large {
        let engine = engine.clone();
        match tokio::task::spawn_blocking(move || {
            let outcome = engine.review(&request, webhook, labels.as_ref(), today);
            (request, outcome)
        })
        .await
        {
            Ok((request, outcome)) => (request, outcome),
            Err(_) => {
                return failed(
                    &state,
                    webhook,
                    Failure::Timeout,
                    start,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "evaluation failed",
                );
            }
        }
    } else {
        let outcome = engine.review(&request, webhook, labels.as_ref(), today);
        (request, outcome)
    };
    let (request, outcome) = result;
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            return failed(
                &state,
                webhook,
                Failure::BadRequest,
                start,
                StatusCode::BAD_REQUEST,
                &e.to_string(),
            );
        }
    };
    // Signatures and digests need the registry: off the engine's IO-free path, bounded by
    // their own timeout (see verify_images).
    if let Some(gate) = engine.images()
        && crate::verify_images::applies(
            &request,
            &outcome,
            engine.pod_templates_unchanged(&request),
        )
    {
        crate::verify_images::check(
            gate.clone(),
            &engine.policy,
            &request,
            webhook,
            &mut outcome,
            &*state.log,
        )
        .await;
    }
    let body = review::to_body(&api_version, &outcome.response);
    let latency = start.elapsed();
    record(&state, &engine, webhook, &request, &outcome, latency);
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn record(
    state: &AppState,
    engine: &Engine,
    webhook: Webhook,
    req: &AdmissionRequest,
    outcome: &Outcome,
    latency: Duration,
) {
    state.metrics.decision(webhook, outcome.decision, latency);
    state.metrics.violations("deny", &outcome.denied);
    state.metrics.violations("warn", &outcome.warned);
    state.metrics.violations("audit", &outcome.audited);
    state.metrics.violations("patch", &outcome.patched);
    if outcome.mutation_incomplete {
        state.metrics.mutation_incomplete();
    }
    let line = DecisionLine {
        ts: now_rfc3339(),
        msg: "admission decision",
        uid: &req.uid,
        webhook: webhook.as_str(),
        operation: req.operation.as_str(),
        kind: &req.kind.kind,
        sub_resource: req.sub_resource.as_deref().unwrap_or(""),
        namespace: req.namespace.as_deref().unwrap_or(""),
        name: req.name.as_deref().unwrap_or(""),
        user: &req.user_info.username,
        decision: outcome.decision.as_str(),
        rules: &outcome.denied,
        warned: &outcome.warned,
        patched: &outcome.patched,
        dry_run: req.dry_run.unwrap_or(false),
        policy: &engine.policy.name,
        policy_generation: engine.generation,
        latency_ms: latency.as_secs_f64() * 1e3,
    };
    if let Ok(s) = serde_json::to_string(&line) {
        state.log.write_line(&s);
    }
}
