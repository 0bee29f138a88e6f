//! Image signatures and digests at admission (`spec.verifyImages`, `images.resolveDigest`).
//!
//! Unlike the rest of the engine this needs the network, so it runs after `Engine::review`,
//! answered from the caches inline when it can, else on the blocking pool inside its own
//! timeout (`imageVerification.timeoutMs`, well under the webhook deadline), and only for
//! requests the engine actually evaluated (not skipped, not exempt, not an UPDATE that leaves
//! every pod template as it was):
//!
//! 1. every container image of every pod site (containers, init and ephemeral containers, the
//!    ML custom resources and the policy's `customResources`) is matched against the trust
//!    rules, first match wins, as Kyverno's `verifyImages`;
//! 2. a tag is resolved to its manifest digest through the registry API (cached for
//!    `tagTTLSeconds`: tags move), and the signatures of that digest are checked with
//!    `palisade-sign`, classic `.sig` and Sigstore-bundle formats alike (verdicts cached by
//!    rule and digest for `cacheTTLSeconds`; only successes are cached, so an image signed a
//!    minute after a denial is admitted at the next retry);
//! 3. `/validate` turns failures into PAL104 findings under the rule's admission mode
//!    (enforce, warn, audit); `/mutate` pins verified (or, with `resolveDigest`, resolved)
//!    images to `name:tag@sha256:…`, so the node runs exactly what was checked.
//!
//! A registry that cannot answer in time is neither "signed" nor "unsigned": the rule's
//! `failurePolicy` decides (Fail denies, Ignore admits with a warning).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use palisade_k8s::model::{Decoder, PodMeta, PodSpec};
use palisade_policy::{
    AdmissionMode, CustomResource, FailurePolicy, ImageVerificationSettings, KeySource, Policy,
    RuleSetting, SUPPRESS_ANNOTATION, VerifyImagesRule, parse_suppression,
};
use palisade_sign::image::{self as sign_image, DenyKind, SignatureFormat, TrustedKey};
use palisade_sign::kube::{KubeClient, SecretRef};
use palisade_sign::registry::{Client, Reference};
use palisade_sign::{Error as SignError, PublicKey};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::engine::{Decision, MAX_WARNING_CHARS, MAX_WARNINGS, Outcome, Webhook};
use crate::log::{LogSink, now_rfc3339};
use crate::review::{AdmissionRequest, Operation, Status};

palisade_policy::declare_rule! {
    /// ## What it does
    /// At admission, checks that every container image matched by a `spec.verifyImages` rule
    /// is signed by one of the rule's keys: a cosign signature in the classic format (the
    /// `sha256-<hex>.sig` tag) or in the Sigstore-bundle format cosign v3 writes (an OCI
    /// referrer), over a payload that names the image's exact digest. Runs where a registry
    /// is asked: in `palisade serve`, and in `palisade scan image` (over the digest the scan
    /// read; `--verify-key` adds a rule covering every image).
    ///
    /// ## Why is this bad?
    /// A registry account or a CI token is enough to push a backdoored model server under a
    /// trusted tag. A signature by a key your release pipeline holds is what tells the image
    /// you built from one someone else pushed (MITRE ATLAS AML.T0010, ML supply-chain
    /// compromise). A signature that verifies but names another digest was copied onto this
    /// image, and is denied as such.
    ///
    /// ## Example
    /// ```yaml
    /// # policy: verifyImages: [{images: ["registry.example/ml/*"], keys: [{path: release.pub}]}]
    /// containers:
    ///   - name: triton
    ///     image: registry.example/ml/triton:24.08   # no signature by release.pub
    /// ```
    ///
    /// ## Fix
    /// Sign the image in your pipeline after it passed its scans (`palisade sign image REF
    /// --key k8s://ci/cosign-keys`, or `cosign sign --key …`), or add the key that signed it to
    /// the rule. Keep `mutateDigest: true` so the node runs the digest that was verified.
    pub static RULE = {
        code: "PAL104",
        name: "image-signature",
        family: "images",
        severity: High,
        summary: "Images matched by a verifyImages rule must be signed by one of its keys",
        references: [
            Nist "SP 800-190 4.1.5" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Atlas "AML.T0010" "https://atlas.mitre.org/techniques/AML.T0010",
        ],
    };
}

/// The PAL101 rule, whose fix the digest pin is.
const PIN_RULE: &str = "PAL101";

/// Entries with their expiry, and keys in insertion order (the eviction order).
type Entries<K, V> = (HashMap<K, (V, Instant)>, VecDeque<K>);

/// A small bounded map whose entries expire: the oldest entry goes when it is full.
struct TtlCache<K, V> {
    inner: Mutex<Entries<K, V>>,
    capacity: usize,
    ttl: Duration,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    fn new(capacity: usize, ttl: Duration) -> Self {
        TtlCache {
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
            capacity: capacity.max(1),
            ttl,
        }
    }

    fn get(&self, k: &K) -> Option<V> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, _) = &mut *guard;
        match map.get(k) {
            Some((v, expires)) if *expires > Instant::now() => Some(v.clone()),
            Some(_) => {
                map.remove(k);
                None
            }
            None => None,
        }
    }

    fn insert(&self, k: K, v: V) {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (map, order) = &mut *guard;
        let expires = Instant::now() + self.ttl;
        if let Some(entry) = map.get_mut(&k) {
            *entry = (v, expires);
            return;
        }
        while map.len() >= self.capacity {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
        // Keys of expired entries removed by `get` may still be queued; drop them as they come.
        if order.len() > self.capacity * 2 {
            order.retain(|q| map.contains_key(q));
        }
        order.push_back(k.clone());
        map.insert(k, (v, expires));
    }

    fn clear(&self) {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0.clear();
        guard.1.clear();
    }

    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .len()
    }
}

/// One lookup per key at a time: concurrent admissions of the same uncached image (a
/// Deployment scaled from 0 to 50) wait for the first one's answer instead of each asking the
/// registry. The leader fills the cache before it leaves, so whoever comes later hits it.
struct Flights<K, V> {
    running: Mutex<HashMap<K, Arc<Flight<V>>>>,
}

struct Flight<V> {
    result: Mutex<Option<V>>,
    done: std::sync::Condvar,
}

impl<K: Hash + Eq + Clone, V: Clone> Flights<K, V> {
    fn new() -> Self {
        Flights {
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `work` unless a lookup of `key` is running, whose answer is then shared (`true`:
    /// shared). A follower waits at most `wait`, then does the work itself; the request-wide
    /// timeout bounds it either way.
    fn run(&self, key: &K, wait: Duration, work: impl FnOnce() -> V) -> (V, bool) {
        let (flight, leader) = {
            let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
            match running.get(key) {
                Some(f) => (f.clone(), false),
                None => {
                    let f = Arc::new(Flight {
                        result: Mutex::new(None),
                        done: std::sync::Condvar::new(),
                    });
                    running.insert(key.clone(), f.clone());
                    (f, true)
                }
            }
        };
        if !leader {
            let guard = flight.result.lock().unwrap_or_else(PoisonError::into_inner);
            let (guard, _) = flight
                .done
                .wait_timeout_while(guard, wait, |r| r.is_none())
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(v) = guard.clone() {
                return (v, true);
            }
            drop(guard);
            return (work(), false);
        }
        // Whatever happens to `work` (even a panic), followers are released and the key freed.
        struct Release<'a, K: Hash + Eq, V> {
            flights: &'a Flights<K, V>,
            key: &'a K,
        }
        impl<K: Hash + Eq, V> Drop for Release<'_, K, V> {
            fn drop(&mut self) {
                let mut running = self
                    .flights
                    .running
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if let Some(f) = running.remove(self.key) {
                    f.done.notify_all();
                }
            }
        }
        let _release = Release { flights: self, key };
        let v = work();
        *flight.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(v.clone());
        (v, false)
    }
}

enum Key {
    Loaded(TrustedKey),
    Secret { secret: SecretRef, name: String },
}

struct GateRule {
    spec: VerifyImagesRule,
    keys: Vec<Key>,
}

/// Counters for `/metrics`. They live with the policy generation (a reload empties the
/// caches, since the keys may have changed), so Prometheus sees a counter reset then.
#[derive(Default)]
struct Stats {
    verdict_hits: AtomicU64,
    verdict_misses: AtomicU64,
    tag_hits: AtomicU64,
    tag_misses: AtomicU64,
    verified: AtomicU64,
    denied: AtomicU64,
    unavailable: AtomicU64,
    timeouts: AtomicU64,
    pinned: AtomicU64,
    secret_reads: AtomicU64,
    /// Cold lookups answered by another request's lookup of the same digest.
    shared: AtomicU64,
}

/// The registry side of one policy generation: compiled rules, a client, caches.
pub struct ImageGate {
    rules: Vec<GateRule>,
    /// Where the policy's own CRDs keep their pod specs.
    custom_resources: Vec<CustomResource>,
    resolve_digest: bool,
    settings: ImageVerificationSettings,
    client: Client,
    kube: Mutex<Option<Arc<KubeClient>>>,
    secret_keys: TtlCache<SecretRef, Arc<PublicKey>>,
    verdicts: TtlCache<(usize, String, String), Verified>,
    tags: TtlCache<String, String>,
    verifying: Flights<(usize, String, String), ImageOutcome>,
    resolving: Flights<String, Result<String, String>>,
    stats: Stats,
}

impl std::fmt::Debug for ImageGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageGate")
            .field("rules", &self.rules.len())
            .field("resolve_digest", &self.resolve_digest)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
struct Verified {
    key: String,
    format: SignatureFormat,
}

/// What was found for one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageOutcome {
    /// Signed by a trusted key.
    Verified {
        digest: String,
        key: String,
        format: SignatureFormat,
        pin: bool,
        cached: bool,
    },
    /// No rule; resolved for `images.resolveDigest`.
    Resolved { digest: String },
    /// Not verified; `required: false` turns a missing signature into a warning.
    Denied {
        digest: Option<String>,
        kind: DenyKind,
        reason: String,
        required: bool,
    },
    /// The registry (or the API server, for a Secret key) did not answer.
    Unavailable {
        reason: String,
        failure_policy: FailurePolicy,
    },
}

/// What is wrong with an image that did not verify, worded for both gates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Fits a 120-character admission warning.
    pub headline: String,
    /// Every detail: the image, its digest, every rejected signature.
    pub detail: String,
    /// Denies (or fails a scan) rather than warns: a missing signature under `required:
    /// false`, or an unavailable registry under `failurePolicy: Ignore`, only warns.
    pub blocking: bool,
}

impl ImageOutcome {
    /// The problem with `image`, or `None` when it verified (or needed no verification).
    #[must_use]
    pub fn problem(&self, image: &str) -> Option<Problem> {
        match self {
            ImageOutcome::Verified { .. } | ImageOutcome::Resolved { .. } => None,
            ImageOutcome::Denied {
                digest,
                kind,
                reason,
                required,
            } => {
                let at = digest
                    .as_deref()
                    .map(|d| format!(" ({})", short(d)))
                    .unwrap_or_default();
                Some(Problem {
                    headline: kind.as_str().to_string(),
                    detail: format!("{image}{at}: {}: {reason}", kind.as_str()),
                    blocking: *required || *kind != DenyKind::NoSignature,
                })
            }
            ImageOutcome::Unavailable {
                reason,
                failure_policy,
            } => {
                let headline = format!("cannot verify (failurePolicy {})", failure_policy.as_str());
                Some(Problem {
                    detail: format!("{image}: {headline}: {reason}"),
                    headline,
                    blocking: *failure_policy == FailurePolicy::Fail,
                })
            }
        }
    }
}

/// One container image and what became of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageResult {
    pub container: String,
    /// JSON pointer of the `image` field.
    pub pointer: String,
    pub image: String,
    /// A `verifyImages` rule covers the image (else it is only resolved for pinning).
    pub rule: Option<usize>,
    /// Suppressed for PAL104 by a `palisade.dev/ignore` annotation (still pinned).
    pub suppressed: bool,
    pub outcome: ImageOutcome,
}

/// The rule that covers an image (if any) and what became of it; `None`: not our concern.
type Found = Option<(Option<usize>, ImageOutcome)>;

/// Cache hits of one evaluation, counted only once its answer is used.
#[derive(Default)]
struct Hits {
    tag: u64,
    verdict: u64,
}

fn results(sites: &[Site], outcomes: &HashMap<&str, Found>) -> Vec<ImageResult> {
    sites
        .iter()
        .filter_map(|s| {
            outcomes
                .get(s.image.as_str())
                .cloned()
                .flatten()
                .map(|(rule, outcome)| ImageResult {
                    container: s.container.clone(),
                    pointer: s.pointer.clone(),
                    image: s.image.clone(),
                    rule,
                    suppressed: s.suppressed,
                    outcome,
                })
        })
        .collect()
}

/// A container image as written in the object.
#[derive(Clone, Debug)]
struct Site {
    container: String,
    pointer: String,
    image: String,
    /// `palisade.dev/ignore` on the object or its pod template names PAL104.
    suppressed: bool,
}

fn key_error(rule: usize, key: usize, pos: palisade_yaml::Pos, e: &SignError) -> String {
    format!(
        "{}:{}: verifyImages[{rule}].keys[{key}]: {e}",
        pos.line, pos.column
    )
}

impl ImageGate {
    /// Compiles the policy's trust rules: key files and inline PEM are read now, so a wrong
    /// path rejects the policy (with the line of the key) instead of denying pods later.
    /// Secret keys are read when first needed, with the pod's service account, and re-read
    /// after `cacheTTLSeconds` so a rotated Secret takes effect. `None` when the policy asks
    /// for no registry lookups.
    pub fn from_policy(policy: &Policy) -> Result<Option<ImageGate>, Vec<String>> {
        if policy.verify_images.is_empty() && !policy.images.resolve_digest {
            return Ok(None);
        }
        let mut errors = Vec::new();
        let mut rules = Vec::new();
        for (i, spec) in policy.verify_images.iter().enumerate() {
            let mut keys = Vec::new();
            for (j, k) in spec.keys.iter().enumerate() {
                let key = match &k.source {
                    KeySource::Path(p) => {
                        PublicKey::from_file(std::path::Path::new(p)).map(|key| {
                            Key::Loaded(TrustedKey {
                                name: k.name.clone().unwrap_or_else(|| p.clone()),
                                key,
                            })
                        })
                    }
                    KeySource::Pem(pem) => {
                        let name = k
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("verifyImages[{i}].keys[{j}]"));
                        PublicKey::from_pem(&name, pem)
                            .map(|key| Key::Loaded(TrustedKey { name, key }))
                    }
                    KeySource::Secret(url) => SecretRef::parse(url).map(|secret| Key::Secret {
                        name: k.name.clone().unwrap_or_else(|| url.clone()),
                        secret,
                    }),
                };
                match key {
                    Ok(key) => keys.push(key),
                    Err(e) => errors.push(key_error(i, j, k.pos, &e)),
                }
            }
            rules.push(GateRule {
                spec: spec.clone(),
                keys,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let s = policy.image_verification.clone();
        let ttl = Duration::from_secs(s.cache_ttl_seconds);
        Ok(Some(ImageGate {
            rules,
            custom_resources: policy.custom_resources.clone(),
            resolve_digest: policy.images.resolve_digest,
            // Per HTTP request; the request-wide bound (`timeout_ms`) is enforced around all
            // of them, and this one only stops a hung connection from lingering afterwards.
            client: Client::new(Duration::from_millis(s.timeout_ms + 1000)),
            kube: Mutex::new(None),
            secret_keys: TtlCache::new(1024, ttl),
            verdicts: TtlCache::new(s.cache_size, ttl),
            tags: TtlCache::new(s.cache_size, Duration::from_secs(s.tag_ttl_seconds)),
            verifying: Flights::new(),
            resolving: Flights::new(),
            stats: Stats::default(),
            settings: s,
        }))
    }

    /// The API-server client for Secret keys (tests and out-of-cluster runs); by default the
    /// in-cluster configuration is read on first use.
    pub fn set_kube_client(&self, client: Arc<KubeClient>) {
        *self.kube.lock().unwrap_or_else(PoisonError::into_inner) = Some(client);
    }

    /// The time all registry lookups of one request may take together.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// HTTP requests sent to registries so far.
    #[must_use]
    pub fn registry_requests(&self) -> u64 {
        self.client.requests()
    }

    /// Forgets every cached verdict, tag and key (benchmarks measure a cold cache with it).
    pub fn clear_caches(&self) {
        self.verdicts.clear();
        self.tags.clear();
        self.secret_keys.clear();
    }

    fn kube(&self) -> Result<Arc<KubeClient>, SignError> {
        let mut guard = self.kube.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = &*guard {
            return Ok(k.clone());
        }
        let k = Arc::new(KubeClient::in_cluster(self.timeout())?);
        *guard = Some(k.clone());
        Ok(k)
    }

    fn keys(&self, rule: &GateRule) -> Result<Vec<TrustedKey>, SignError> {
        let mut out = Vec::with_capacity(rule.keys.len());
        for k in &rule.keys {
            match k {
                Key::Loaded(t) => out.push(t.clone()),
                Key::Secret { secret, name } => {
                    let key = match self.secret_keys.get(secret) {
                        Some(k) => k,
                        None => {
                            self.stats.secret_reads.fetch_add(1, Relaxed);
                            let k = Arc::new(self.kube()?.public_key(secret)?);
                            self.secret_keys.insert(secret.clone(), k.clone());
                            k
                        }
                    };
                    out.push(TrustedKey {
                        name: name.clone(),
                        key: (*key).clone(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn rule_for(&self, r: &Reference, written: &str, namespace: Option<&str>) -> Option<usize> {
        let name = r.repo_name();
        let full = r.to_string();
        self.rules.iter().position(|rule| {
            let ns_ok = rule.spec.namespaces.is_empty()
                || namespace.is_some_and(|n| rule.spec.namespaces.iter().any(|x| x == n));
            ns_ok
                && rule.spec.images.iter().any(|p| {
                    sign_image::pattern_matches(p, &name)
                        || sign_image::pattern_matches(p, &full)
                        || sign_image::pattern_matches(p, written)
                })
        })
    }

    fn failure_policy(&self, rule: Option<usize>) -> FailurePolicy {
        rule.and_then(|i| self.rules[i].spec.failure_policy)
            .unwrap_or(self.settings.failure_policy)
    }

    /// The digest of `r`: pinned, cached, or (online) resolved. `Ok(None)`: offline and not
    /// cached.
    fn digest_of(
        &self,
        r: &Reference,
        offline: bool,
        hits: &mut Hits,
    ) -> Result<Option<String>, String> {
        if let Some(d) = &r.digest {
            return Ok(Some(d.clone()));
        }
        let key = r.to_string();
        if let Some(d) = self.tags.get(&key) {
            hits.tag += 1;
            return Ok(Some(d));
        }
        if offline {
            return Ok(None);
        }
        self.stats.tag_misses.fetch_add(1, Relaxed);
        let (resolved, _) = self.resolving.run(&key, self.timeout(), || {
            // A flight that ended between our cache miss and our start left its answer here.
            if let Some(d) = self.tags.get(&key) {
                return Ok(d);
            }
            let d = sign_image::resolve(&self.client, r)
                .map(|(digest, _, _)| digest)
                .map_err(|e| e.to_string());
            if let Ok(d) = &d {
                self.tags.insert(key.clone(), d.clone());
            }
            d
        });
        resolved.map(Some)
    }

    /// What one image gets: `Some(None)` when no rule covers it and nothing is to be pinned;
    /// `None` when `offline` and the answer is not in the caches.
    fn evaluate(
        &self,
        written: &str,
        namespace: Option<&str>,
        pin_unmatched: bool,
        offline: bool,
        hits: &mut Hits,
    ) -> Option<Found> {
        let r = match Reference::parse(written) {
            Ok(r) => r,
            Err(e) => {
                // Only a rule that would have covered the text makes this our concern; the
                // kubelet reports unusable references itself.
                let rule = self.rules.iter().position(|rule| {
                    rule.spec
                        .images
                        .iter()
                        .any(|p| sign_image::pattern_matches(p, written))
                });
                return Some(rule.map(|i| {
                    (
                        Some(i),
                        ImageOutcome::Denied {
                            digest: None,
                            kind: DenyKind::BadReference,
                            reason: e.to_string(),
                            required: true,
                        },
                    )
                }));
            }
        };
        let rule = self.rule_for(&r, written, namespace);
        if rule.is_none() && !(self.resolve_digest && pin_unmatched) {
            return Some(None);
        }
        let digest = match self.digest_of(&r, offline, hits) {
            Ok(Some(d)) => d,
            Ok(None) => return None,
            Err(reason) => {
                self.stats.unavailable.fetch_add(1, Relaxed);
                let outcome = ImageOutcome::Unavailable {
                    reason,
                    failure_policy: self.failure_policy(rule),
                };
                return Some(Some((rule, outcome)));
            }
        };
        let Some(i) = rule else {
            return Some(Some((None, ImageOutcome::Resolved { digest })));
        };
        let pin = self.rules[i].spec.mutate_digest;
        if let Some(v) = self.verdicts.get(&(i, r.repo_name(), digest.clone())) {
            hits.verdict += 1;
            let outcome = ImageOutcome::Verified {
                digest,
                key: v.key,
                format: v.format,
                pin,
                cached: true,
            };
            return Some(Some((rule, outcome)));
        }
        if offline {
            return None;
        }
        let key = (i, r.repo_name(), digest.clone());
        let (outcome, shared) = self.verifying.run(&key, self.timeout(), || {
            match self.verdicts.get(&key) {
                // A flight that ended between our cache miss and our start.
                Some(v) => ImageOutcome::Verified {
                    digest,
                    key: v.key,
                    format: v.format,
                    pin,
                    cached: true,
                },
                None => self.verify(i, &r, digest),
            }
        });
        if shared {
            self.stats.shared.fetch_add(1, Relaxed);
        }
        Some(Some((rule, outcome)))
    }

    /// Verifies the signatures of a digest the verdict cache does not hold.
    fn verify(&self, i: usize, r: &Reference, digest: String) -> ImageOutcome {
        let unavailable = |e: SignError| {
            self.stats.unavailable.fetch_add(1, Relaxed);
            ImageOutcome::Unavailable {
                reason: e.to_string(),
                failure_policy: self.failure_policy(Some(i)),
            }
        };
        let gate_rule = &self.rules[i];
        let pin = gate_rule.spec.mutate_digest;
        self.stats.verdict_misses.fetch_add(1, Relaxed);
        let keys = match self.keys(gate_rule) {
            Ok(k) => k,
            Err(e) => return unavailable(e),
        };
        let v = match sign_image::verify_digest(&self.client, r, &digest, &keys) {
            Ok(v) => v,
            Err(e) => return unavailable(e),
        };
        if let Some(s) = v.verified.first() {
            self.stats.verified.fetch_add(1, Relaxed);
            self.verdicts.insert(
                (i, r.repo_name(), digest.clone()),
                Verified {
                    key: s.key.clone(),
                    format: s.format,
                },
            );
            return ImageOutcome::Verified {
                digest,
                key: s.key.clone(),
                format: s.format,
                pin,
                cached: false,
            };
        }
        self.stats.denied.fetch_add(1, Relaxed);
        let (kind, reason) =
            sign_image::judge(&v, &keys).unwrap_or((DenyKind::NoSignature, "no signature".into()));
        ImageOutcome::Denied {
            digest: Some(digest),
            kind,
            reason,
            required: gate_rule.spec.required,
        }
    }

    /// Checks one image outside admission (`palisade scan image`): `digest` is the one the
    /// scan read, so the verdict is about those bytes even if the tag has moved since.
    /// `None` when no rule covers the image.
    #[must_use]
    pub fn check_image(
        &self,
        written: &str,
        digest: Option<&str>,
        namespace: Option<&str>,
    ) -> Option<(usize, ImageOutcome)> {
        let pinned = match digest {
            Some(d) if !written.contains('@') => format!("{written}@{d}"),
            _ => written.to_string(),
        };
        let mut hits = Hits::default();
        let found = self.evaluate(&pinned, namespace, false, false, &mut hits);
        self.commit(&hits);
        match found.flatten() {
            Some((Some(i), outcome)) => Some((i, outcome)),
            _ => None,
        }
    }

    fn commit(&self, hits: &Hits) {
        self.stats.tag_hits.fetch_add(hits.tag, Relaxed);
        self.stats.verdict_hits.fetch_add(hits.verdict, Relaxed);
    }

    /// Answers from the caches alone, without IO, or `None` when any image needs the
    /// registry. A warm admission (every pod of a Deployment after the first) is answered
    /// here, on the request's own task, without a trip through the blocking pool.
    #[must_use]
    pub fn check_cached(
        &self,
        raw: &str,
        namespace: Option<&str>,
        pin_unmatched: bool,
    ) -> Option<Vec<ImageResult>> {
        let sites = image_sites(raw, &self.custom_resources);
        let mut hits = Hits::default();
        let mut outcomes: HashMap<&str, Found> = HashMap::new();
        for s in &sites {
            if !outcomes.contains_key(s.image.as_str()) {
                let found = self.evaluate(&s.image, namespace, pin_unmatched, true, &mut hits)?;
                outcomes.insert(&s.image, found);
            }
        }
        self.commit(&hits);
        Some(results(&sites, &outcomes))
    }

    /// Checks every container image of `raw` (the object's JSON). Blocking: registry IO.
    /// `pin_unmatched` resolves the images no rule covers too (`/mutate` with
    /// `resolveDigest`; `/validate` has no use for their digests).
    #[must_use]
    pub fn check_object(
        &self,
        raw: &str,
        namespace: Option<&str>,
        pin_unmatched: bool,
    ) -> Vec<ImageResult> {
        let sites = image_sites(raw, &self.custom_resources);
        // One lookup per distinct image, the distinct ones in parallel: a pod with a model
        // server and two sidecars should cost one registry round trip, not three.
        let mut distinct: Vec<&str> = sites.iter().map(|s| s.image.as_str()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let online = |img: &str| {
            let mut hits = Hits::default();
            let found = self
                .evaluate(img, namespace, pin_unmatched, false, &mut hits)
                .flatten();
            self.commit(&hits);
            found
        };
        let outcomes: HashMap<&str, Found> = if distinct.len() <= 1 {
            distinct.iter().map(|img| (*img, online(img))).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = distinct
                    .iter()
                    .map(|img| (*img, scope.spawn(move || online(img))))
                    .collect();
                handles
                    .into_iter()
                    .map(|(img, h)| {
                        let outcome = h.join().unwrap_or_else(|_| {
                            Some((
                                None,
                                ImageOutcome::Unavailable {
                                    reason: "verification failed unexpectedly".into(),
                                    failure_policy: FailurePolicy::Fail,
                                },
                            ))
                        });
                        (img, outcome)
                    })
                    .collect()
            })
        };
        results(&sites, &outcomes)
    }

    /// What a request whose lookups ran out of time gets: every image the rules cover is
    /// unavailable, and its rule's failure policy decides.
    #[must_use]
    pub fn timed_out(
        &self,
        raw: &str,
        namespace: Option<&str>,
        pin_unmatched: bool,
    ) -> Vec<ImageResult> {
        self.stats.timeouts.fetch_add(1, Relaxed);
        let reason = format!(
            "the registry did not answer within {} ms",
            self.settings.timeout_ms
        );
        image_sites(raw, &self.custom_resources)
            .into_iter()
            .filter_map(|s| {
                let rule = Reference::parse(&s.image)
                    .ok()
                    .and_then(|r| self.rule_for(&r, &s.image, namespace));
                if rule.is_none() && !(self.resolve_digest && pin_unmatched) {
                    return None;
                }
                Some(ImageResult {
                    rule,
                    suppressed: s.suppressed,
                    outcome: ImageOutcome::Unavailable {
                        reason: reason.clone(),
                        failure_policy: self.failure_policy(rule),
                    },
                    container: s.container,
                    pointer: s.pointer,
                    image: s.image,
                })
            })
            .collect()
    }

    /// Prometheus text for the gate's counters.
    #[must_use]
    pub fn render_metrics(&self) -> String {
        let s = &self.stats;
        let l = |a: &AtomicU64| a.load(Relaxed);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP palisade_image_verifications_total Image signature checks that reached the registry, by result.\n# TYPE palisade_image_verifications_total counter"
        );
        for (result, n) in [
            ("verified", l(&s.verified)),
            ("denied", l(&s.denied)),
            ("unavailable", l(&s.unavailable)),
        ] {
            let _ = writeln!(
                out,
                "palisade_image_verifications_total{{result=\"{result}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP palisade_image_cache_lookups_total Verdict (by digest) and tag (tag to digest) cache lookups.\n# TYPE palisade_image_cache_lookups_total counter"
        );
        for (cache, result, n) in [
            ("verdict", "hit", l(&s.verdict_hits)),
            ("verdict", "miss", l(&s.verdict_misses)),
            ("tag", "hit", l(&s.tag_hits)),
            ("tag", "miss", l(&s.tag_misses)),
        ] {
            let _ = writeln!(
                out,
                "palisade_image_cache_lookups_total{{cache=\"{cache}\",result=\"{result}\"}} {n}"
            );
        }
        let gauges = [
            (
                "palisade_image_cache_entries",
                "gauge",
                "Verdicts held in the cache.",
                self.verdicts.len() as u64,
            ),
            (
                "palisade_image_verification_timeouts_total",
                "counter",
                "Requests whose registry lookups ran past imageVerification.timeoutMs.",
                l(&s.timeouts),
            ),
            (
                "palisade_image_digest_pins_total",
                "counter",
                "Image references pinned to a digest by /mutate.",
                l(&s.pinned),
            ),
            (
                "palisade_image_verifications_shared_total",
                "counter",
                "Cold verifications answered by a concurrent lookup of the same digest.",
                l(&s.shared),
            ),
            (
                "palisade_registry_requests_total",
                "counter",
                "HTTP requests sent to registries.",
                self.client.requests(),
            ),
            (
                "palisade_signing_key_secret_reads_total",
                "counter",
                "Signing keys read from Kubernetes Secrets.",
                l(&s.secret_reads),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

/// Every container image in the object, with the container's name and the image's pointer.
fn image_sites(raw: &str, custom_resources: &[CustomResource]) -> Vec<Site> {
    let mut out = Vec::new();
    for doc in palisade_yaml::parse_stream(raw).iter().flatten() {
        let (resources, _) = palisade_k8s::resource::resources_in_document(&doc.root);
        for res in &resources {
            let Ok(sites) = palisade_k8s::workload::pod_sites(res, custom_resources) else {
                continue;
            };
            let suppresses = |meta: &PodMeta<'_>| {
                meta.annotation(SUPPRESS_ANNOTATION)
                    .is_some_and(|a| parse_suppression(a.value).covers(&RULE))
            };
            let object_suppressed = suppresses(&res.meta);
            for site in sites {
                let mut decoder = Decoder::default();
                let template = PodMeta::decode(site.meta, site.meta_ptr.clone(), &mut decoder);
                let suppressed = object_suppressed || suppresses(&template);
                let spec = PodSpec::decode(
                    site.spec,
                    site.spec_ptr.clone(),
                    &site.extra_containers,
                    &mut decoder,
                );
                for c in &spec.containers {
                    if let Some(image) = &c.image {
                        out.push(Site {
                            container: c.name.to_string(),
                            pointer: palisade_yaml::push_key(&c.ptr, "image"),
                            image: image.value.to_string(),
                            suppressed,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Whether the engine's answer leaves image checks to do: skipped, exempt and unchanged
/// requests were never evaluated, and a request already refused as unreadable stays so.
#[must_use]
pub fn applies(req: &AdmissionRequest, outcome: &Outcome, unchanged: bool) -> bool {
    !matches!(outcome.decision, Decision::Skip | Decision::Exempt)
        && matches!(req.operation, Operation::Create | Operation::Update)
        && !unchanged
        && req.object.is_some()
        && outcome
            .response
            .status
            .as_ref()
            .is_none_or(|s| s.code != 400)
}

fn truncate(s: String) -> String {
    if s.chars().count() <= MAX_WARNING_CHARS {
        return s;
    }
    let mut t: String = s.chars().take(MAX_WARNING_CHARS - 1).collect();
    t.push('…');
    t
}

fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// `Kind namespace/name`, as the engine's messages say it.
fn describe(req: &AdmissionRequest) -> String {
    let name = req
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("(generated name)");
    match req.namespace.as_deref().filter(|n| !n.is_empty()) {
        Some(ns) => format!("{} {ns}/{name}", req.kind.kind),
        None => format!("{} {name}", req.kind.kind),
    }
}

/// Folds image results into the engine's answer: findings for `/validate`, digest pins for
/// `/mutate`. No IO.
pub fn apply(
    policy: &Policy,
    req: &AdmissionRequest,
    webhook: Webhook,
    results: &[ImageResult],
    out: &mut Outcome,
) -> usize {
    match webhook {
        Webhook::Validate => {
            validate(policy, req, results, out);
            0
        }
        Webhook::Mutate => mutate(results, out),
    }
}

fn validate(policy: &Policy, req: &AdmissionRequest, results: &[ImageResult], out: &mut Outcome) {
    let severity = match policy.rule_setting(&RULE) {
        Some(RuleSetting::Off) => return,
        Some(RuleSetting::Severity(s)) => *s,
        None => RULE.severity,
    };
    // The policy's exceptions apply as to every other rule (a webhook has nobody to give an
    // expiry notice to: an expired exception simply stops covering).
    let today = palisade_policy::Date::today();
    let name = req.name.as_deref().unwrap_or("");
    if policy.exceptions.iter().any(|ex| {
        !ex.is_expired(today) && ex.covers(&RULE, req.namespace.as_deref(), &req.kind.kind, name)
    }) {
        out.response
            .audit_annotations
            .insert("imagesExcepted".into(), RULE.code.into());
        return;
    }
    let mode = policy.admission.mode_of(&RULE);
    let mut deny = Vec::new();
    let mut warn = Vec::new();
    let mut audit = Vec::new();
    // Images no rule covers were only resolved for pinning; PAL101 judges their digests.
    let suppressed = results
        .iter()
        .filter(|r| r.suppressed && r.rule.is_some())
        .count();
    if suppressed > 0 {
        out.response
            .audit_annotations
            .insert("imagesSuppressed".into(), suppressed.to_string());
    }
    for r in results.iter().filter(|r| r.rule.is_some() && !r.suppressed) {
        let Some(Problem {
            headline,
            detail: problem,
            blocking,
        }) = r.outcome.problem(&r.image)
        else {
            continue;
        };
        match mode {
            AdmissionMode::Enforce if blocking && severity >= policy.fail_on => deny.push(format!(
                "{} {} [{severity}] at {}: container {:?} image {problem}",
                RULE.code, RULE.name, r.pointer, r.container
            )),
            AdmissionMode::Audit => audit.push(format!("{} {}", RULE.code, r.pointer)),
            _ => warn.push(format!(
                "{} {}: container {:?}: {headline}: {}",
                RULE.code, RULE.name, r.container, r.image
            )),
        }
    }
    let annotations = &mut out.response.audit_annotations;
    let verified: Vec<String> = results
        .iter()
        .filter_map(|r| match &r.outcome {
            ImageOutcome::Verified { digest, key, .. } => {
                Some(format!("{}={}@{}", r.container, short(digest), key))
            }
            _ => None,
        })
        .collect();
    if !verified.is_empty() {
        annotations.insert("imagesVerified".into(), verified.join(","));
    }
    if !audit.is_empty() {
        let joined = match annotations.get("violations") {
            Some(v) => format!("{v}, {}", audit.join(", ")),
            None => audit.join(", "),
        };
        annotations.insert("violations".into(), joined);
        if !out.audited.contains(&RULE.code) {
            out.audited.push(RULE.code);
        }
    }
    if !warn.is_empty() {
        if !out.warned.contains(&RULE.code) {
            out.warned.push(RULE.code);
        }
        for w in warn {
            if out.response.warnings.len() >= MAX_WARNINGS {
                break;
            }
            out.response.warnings.push(truncate(w));
        }
        if out.decision == Decision::Allow {
            out.decision = Decision::Warn;
        }
    }
    if deny.is_empty() {
        return;
    }
    out.denied.push(RULE.code);
    out.denied.sort_unstable();
    out.denied.dedup();
    out.decision = Decision::Deny;
    out.response.allowed = false;
    annotations.insert("decision".into(), "deny".into());
    annotations.insert("rules".into(), out.denied.join(","));
    let status = out.response.status.get_or_insert_with(|| Status {
        code: 403,
        message: format!(
            "palisade: {} violates policy \"{}\":",
            describe(req),
            policy.name
        ),
        reason: "Forbidden".into(),
    });
    for (i, d) in deny.iter().enumerate() {
        let sep = if i == 0 && status.message.ends_with(':') {
            " "
        } else {
            "; "
        };
        status.message.push_str(sep);
        status.message.push_str(d);
    }
}

/// `name:tag@sha256:…`: the tag stays for people reading the object; the runtime pulls by
/// digest.
fn pinned(image: &str, digest: &str) -> Option<String> {
    (!image.contains('@')).then(|| format!("{image}@{digest}"))
}

fn mutate(results: &[ImageResult], out: &mut Outcome) -> usize {
    let mut ops: Vec<Value> = Vec::new();
    let mut pins = Vec::new();
    for r in results {
        let digest = match &r.outcome {
            ImageOutcome::Verified {
                digest, pin: true, ..
            }
            | ImageOutcome::Resolved { digest } => digest,
            _ => continue,
        };
        if let Some(new) = pinned(&r.image, digest) {
            ops.push(serde_json::json!({"op": "replace", "path": r.pointer, "value": new}));
            pins.push(format!("{}={}", r.container, short(digest)));
        }
    }
    if ops.is_empty() {
        return 0;
    }
    // The engine's patch only adds security settings inside containers; it never moves a
    // container or touches `image`, so the pins apply after it unchanged.
    let mut patch: Vec<Value> = out
        .response
        .patch
        .as_deref()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default();
    let n = ops.len();
    patch.extend(ops);
    let Ok(json) = serde_json::to_vec(&patch) else {
        return 0;
    };
    out.response.patch = Some(base64::engine::general_purpose::STANDARD.encode(json));
    out.response.patch_type = Some("JSONPatch");
    out.response
        .audit_annotations
        .insert("pinned".into(), pins.join(","));
    if !out.patched.contains(&PIN_RULE) {
        out.patched.push(PIN_RULE);
    }
    out.decision = Decision::Patch;
    n
}

/// The log line for a request whose images were checked: images and digests (never keys'
/// material), so a denial or a registry outage can be traced per container.
#[must_use]
pub fn log_line(req: &AdmissionRequest, webhook: Webhook, results: &[ImageResult]) -> String {
    #[derive(serde::Serialize)]
    struct Entry<'a> {
        container: &'a str,
        image: &'a str,
        result: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        digest: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<&'static str>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        cached: bool,
    }
    let images: Vec<Entry<'_>> = results
        .iter()
        .map(|r| {
            let (result, digest, why, cached) = match &r.outcome {
                ImageOutcome::Verified { digest, cached, .. } => {
                    ("verified", Some(digest.as_str()), None, *cached)
                }
                ImageOutcome::Resolved { digest } => {
                    ("resolved", Some(digest.as_str()), None, false)
                }
                ImageOutcome::Denied { digest, kind, .. } => {
                    ("denied", digest.as_deref(), Some(kind.as_str()), false)
                }
                ImageOutcome::Unavailable { .. } => {
                    ("unavailable", None, Some("registry unavailable"), false)
                }
            };
            Entry {
                container: &r.container,
                image: &r.image,
                result,
                digest,
                why,
                cached,
            }
        })
        .collect();
    serde_json::json!({
        "ts": now_rfc3339(),
        "msg": "image verification",
        "uid": req.uid,
        "webhook": webhook.as_str(),
        "namespace": req.namespace.as_deref().unwrap_or(""),
        "images": images,
    })
    .to_string()
}

/// Runs the registry checks for one request and folds them in: the lookups run on the
/// blocking pool, bounded by the gate's timeout; what has not answered by then is decided
/// by the failure policy.
pub async fn check(
    gate: Arc<ImageGate>,
    policy: &Policy,
    req: &AdmissionRequest,
    webhook: Webhook,
    out: &mut Outcome,
    log: &dyn LogSink,
) {
    let Some(raw) = req.object.as_deref().map(RawValue::get) else {
        return;
    };
    let pin_unmatched = webhook == Webhook::Mutate;
    let results = match gate.check_cached(raw, req.namespace.as_deref(), pin_unmatched) {
        Some(results) => results,
        None => lookup(&gate, raw.to_string(), req.namespace.clone(), pin_unmatched).await,
    };
    if results.is_empty() {
        return;
    }
    let pins = apply(policy, req, webhook, &results, out);
    gate.stats.pinned.fetch_add(pins as u64, Relaxed);
    // A line when the registry was asked or an image failed, never for answers from the
    // cache: the decision line already covers those, and warm admissions are the many.
    let notable = results.iter().any(|r| match &r.outcome {
        ImageOutcome::Verified { cached, .. } => !cached,
        ImageOutcome::Resolved { .. } => false,
        ImageOutcome::Denied { .. } | ImageOutcome::Unavailable { .. } => true,
    });
    if notable {
        log.write_line(&log_line(req, webhook, &results));
    }
}

/// The registry lookups, on the blocking pool, bounded by the gate's timeout.
async fn lookup(
    gate: &Arc<ImageGate>,
    raw: String,
    namespace: Option<String>,
    pin_unmatched: bool,
) -> Vec<ImageResult> {
    let timeout = gate.timeout();
    let task = {
        let gate = gate.clone();
        let raw = raw.clone();
        let namespace = namespace.clone();
        tokio::task::spawn_blocking(move || {
            gate.check_object(&raw, namespace.as_deref(), pin_unmatched)
        })
    };
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(results)) => results,
        // Past the timeout the lookups finish in the background and fill the caches.
        _ => gate.timed_out(&raw, namespace.as_deref(), pin_unmatched),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_cache_is_bounded_and_expires() {
        let c = TtlCache::new(2, Duration::from_secs(60));
        c.insert("a", 1);
        c.insert("b", 2);
        c.insert("c", 3);
        assert_eq!(c.len(), 2);
        assert_eq!(c.get(&"a"), None, "the oldest entry goes first");
        assert_eq!((c.get(&"b"), c.get(&"c")), (Some(2), Some(3)));
        c.insert("b", 20);
        assert_eq!(c.get(&"b"), Some(20));
        let expired = TtlCache::new(4, Duration::ZERO);
        expired.insert("x", 1);
        assert_eq!(expired.get(&"x"), None);
    }

    #[test]
    fn pins_keep_the_tag_and_never_repin() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            pinned("registry.example/ml/server:1.2", &d).unwrap(),
            format!("registry.example/ml/server:1.2@{d}")
        );
        assert_eq!(pinned(&format!("x@{d}"), &d), None);
    }
}
