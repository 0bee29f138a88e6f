//! The AdmissionReview wire format (`admission.k8s.io/v1`), written from the documented API
//! (k8s.io/api/admission/v1/types.go) rather than pulled from `kube`: the webhook needs a dozen
//! fields, and `request.object` is kept as raw JSON text so the scanner reads it without a
//! second serialisation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `apiVersion`s the webhook answers. v1beta1 has the same shape; the response echoes the
/// request's version, as the API server requires.
pub const API_VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionReview {
    pub api_version: String,
    pub kind: String,
    pub request: Option<AdmissionRequest>,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone, PartialEq, Eq)]
pub struct GroupVersionKind {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone, PartialEq, Eq)]
pub struct GroupVersionResource {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub resource: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionRequest {
    pub uid: String,
    #[serde(default)]
    pub kind: GroupVersionKind,
    #[serde(default)]
    pub resource: GroupVersionResource,
    #[serde(default)]
    pub sub_resource: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    pub operation: Operation,
    #[serde(default)]
    pub user_info: UserInfo,
    /// Raw JSON text of the object: scanned as it is (JSON is YAML).
    #[serde(default)]
    pub object: Option<Box<RawValue>>,
    #[serde(default)]
    pub old_object: Option<Box<RawValue>>,
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// Not sent by the API server (`AdmissionRequest` has no such field); callers that have
    /// the namespace at hand (tests, a proxy, a replay tool) may include it, and its labels
    /// then win over the namespace cache.
    #[serde(default)]
    pub namespace_object: Option<NamespaceObject>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct NamespaceObject {
    #[serde(default)]
    pub metadata: NamespaceMeta,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct NamespaceMeta {
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Default, Serialize, Clone, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub message: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

#[derive(Debug, Default, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionResponse {
    pub uid: String,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Base64 of the RFC 6902 patch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub audit_annotations: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewResponse<'a> {
    pub api_version: &'a str,
    pub kind: &'static str,
    pub response: &'a AdmissionResponse,
}

/// Why a body is not an AdmissionReview the webhook can answer (a 400, never a crash).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("request body is not an AdmissionReview: {0}")]
    Json(#[from] serde_json::Error),
    #[error("unsupported AdmissionReview apiVersion `{0}` (expected admission.k8s.io/v1)")]
    ApiVersion(String),
    #[error("expected kind AdmissionReview, found `{0}`")]
    Kind(String),
    #[error("AdmissionReview has no request")]
    NoRequest,
    #[error("request.uid is empty")]
    NoUid,
}

/// Parses and checks the envelope.
pub fn parse(body: &[u8]) -> Result<(String, AdmissionRequest), ReviewError> {
    let review: AdmissionReview = serde_json::from_slice(body)?;
    if !API_VERSIONS.contains(&review.api_version.as_str()) {
        return Err(ReviewError::ApiVersion(review.api_version));
    }
    if review.kind != "AdmissionReview" {
        return Err(ReviewError::Kind(review.kind));
    }
    let request = review.request.ok_or(ReviewError::NoRequest)?;
    if request.uid.is_empty() {
        return Err(ReviewError::NoUid);
    }
    Ok((review.api_version, request))
}

/// Serialises the response envelope.
#[must_use]
pub fn to_body(api_version: &str, response: &AdmissionResponse) -> Vec<u8> {
    // Sized for a denial with its warnings up front, instead of growing from empty (1,600 of
    // the 25,700 instructions this took per response under callgrind).
    let mut out = Vec::with_capacity(4096);
    // Plain structs of strings and maps: serialisation cannot fail.
    let _ = serde_json::to_writer(
        &mut out,
        &ReviewResponse {
            api_version,
            kind: "AdmissionReview",
            response,
        },
    );
    out
}
