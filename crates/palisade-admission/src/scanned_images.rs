//! PAL104 outside admission: `palisade scan image` checks the signatures of the images it has
//! just scanned against the `spec.verifyImages` rules the webhook enforces, so "scan, sign only
//! what passed, admit only what is signed" can be tested in CI before a pod ever meets the
//! webhook. Same rules, same keys, same verdicts and wording as [`crate::verify_images`]; the
//! only difference is the digest: the scan's own (what it read), not a fresh tag lookup.

use palisade_policy::{Finding, InputError, Location};

use crate::verify_images::{ImageGate, ImageOutcome, RULE};

/// One image the scan read.
#[derive(Clone, Copy, Debug)]
pub struct ScannedImage<'a> {
    /// As the user wrote it, after transport normalisation (`oci:DIR`, `registry/repo:tag`).
    pub reference: &'a str,
    /// The digest the reference resolved to (a multi-platform image's index).
    pub digest: Option<&'a str>,
}

/// What the signature check found, to merge into the scan report.
#[derive(Debug, Default)]
pub struct SignatureChecks {
    /// PAL104 findings, before the policy is applied (severity overrides, exceptions).
    pub findings: Vec<Finding>,
    /// Verified signatures and non-blocking problems (`required: false`,
    /// `failurePolicy: Ignore`).
    pub notices: Vec<String>,
    /// Checks that could not be made and must fail the scan: an unreadable key Secret, a
    /// registry that stopped answering, a local image a key requirement covers.
    pub errors: Vec<InputError>,
}

/// Local transports: their signatures, if any, live in a registry the scan did not read.
const LOCAL_TRANSPORTS: [&str; 3] = ["oci:", "docker-archive:", "dir:"];

fn error(reference: &str, message: String) -> InputError {
    InputError {
        file: reference.into(),
        line: 0,
        column: 0,
        message,
    }
}

/// Checks every image against `gate`. `covers_all`: the gate's rules match every image (a
/// `--verify-key` on the command line), so a local image, which cannot be checked, is an error
/// rather than a note.
#[must_use]
pub fn check_scanned_images(
    gate: &ImageGate,
    images: &[ScannedImage<'_>],
    namespace: Option<&str>,
    covers_all: bool,
) -> SignatureChecks {
    let mut out = SignatureChecks::default();
    for image in images {
        let reference = image.reference;
        if LOCAL_TRANSPORTS.iter().any(|t| reference.starts_with(t)) {
            let why =
                "signatures are kept in a registry; scan the registry reference to check them";
            if covers_all {
                out.errors
                    .push(error(reference, format!("cannot verify: {why}")));
            } else {
                out.notices
                    .push(format!("{reference}: verifyImages not checked: {why}"));
            }
            continue;
        }
        let written = reference.strip_prefix("docker://").unwrap_or(reference);
        let Some((rule, outcome)) = gate.check_image(written, image.digest, namespace) else {
            continue;
        };
        if let ImageOutcome::Verified {
            digest,
            key,
            format,
            ..
        } = &outcome
        {
            out.notices.push(format!(
                "{written}: signature verified (verifyImages[{rule}]): key {key}, {format}, {digest}"
            ));
            continue;
        }
        let Some(problem) = outcome.problem(written) else {
            continue;
        };
        match (&outcome, problem.blocking) {
            (ImageOutcome::Unavailable { .. }, true) => {
                out.errors.push(error(reference, problem.detail));
            }
            (_, true) => out.findings.push(Finding::new(
                &RULE,
                format!("verifyImages[{rule}]: {}", problem.detail),
                Location {
                    file: reference.into(),
                    ..Location::default()
                },
            )),
            (_, false) => out.notices.push(format!(
                "warning: {} {}: verifyImages[{rule}]: {}",
                RULE.code, RULE.name, problem.detail
            )),
        }
    }
    out
}
