//! The `PAL6xx` rules (family `image`): checks of an image's configuration.
//!
//! One rule, one file: each declares its metadata and documentation with
//! [`palisade_policy::declare_rule!`] and a `check` that reads the config through [`Ctx`].
//! Codes PAL600–PAL649 are this family's; they are never reused. Findings point at the
//! image reference (`location.file`) and the config field (`location.pointer`, into the
//! image config JSON). Rules over the layered file view (secrets in files, the attack
//! surface) get a [`ViewCtx`] instead and point at `<layer digest>/<path>`
//! (`location.member`).

use std::sync::Arc;

use palisade_policy::{Finding, Location, RuleMeta};

use crate::fs::FileView;
use crate::spec::ImageConfig;
use crate::surface::AttackSurface;

mod pal600_image_runs_as_root;
mod pal601_image_missing_healthcheck;
mod pal602_image_secret_in_env;
mod pal603_image_exposes_ssh;
mod pal604_image_secret_in_file;
mod pal605_image_secret_in_deleted_file;
mod pal606_image_setuid_binary;
mod pal607_image_world_writable;
mod pal608_image_build_tools;
mod pal609_image_not_minimal;

type Check = fn(&mut Ctx<'_>);
type ViewCheck = fn(&mut ViewCtx<'_>);

/// Every rule with its check, in code order.
pub(crate) static ALL: &[(&RuleMeta, Check)] = &[
    (
        &pal600_image_runs_as_root::RULE,
        pal600_image_runs_as_root::check,
    ),
    (
        &pal601_image_missing_healthcheck::RULE,
        pal601_image_missing_healthcheck::check,
    ),
    (
        &pal602_image_secret_in_env::RULE,
        pal602_image_secret_in_env::check,
    ),
    (
        &pal603_image_exposes_ssh::RULE,
        pal603_image_exposes_ssh::check,
    ),
];

/// Every rule over the file view with its check, in code order.
pub(crate) static VIEW: &[(&RuleMeta, ViewCheck)] = &[
    (
        &pal604_image_secret_in_file::RULE,
        pal604_image_secret_in_file::check,
    ),
    (
        &pal605_image_secret_in_deleted_file::RULE,
        pal605_image_secret_in_deleted_file::check,
    ),
    (
        &pal606_image_setuid_binary::RULE,
        pal606_image_setuid_binary::check,
    ),
    (
        &pal607_image_world_writable::RULE,
        pal607_image_world_writable::check,
    ),
    (
        &pal608_image_build_tools::RULE,
        pal608_image_build_tools::check,
    ),
    (
        &pal609_image_not_minimal::RULE,
        pal609_image_not_minimal::check,
    ),
];

/// What a rule over the layered file view sees, and where it reports.
pub(crate) struct ViewCtx<'a> {
    pub view: &'a FileView,
    pub surface: &'a AttackSurface,
    /// Layer names (digests) by index.
    pub layers: &'a [String],
    file: &'a Arc<str>,
    out: Vec<Finding>,
}

impl ViewCtx<'_> {
    /// The name (digest) of layer `i`.
    pub fn layer(&self, i: usize) -> &str {
        self.layers.get(i).map_or("", String::as_str)
    }

    /// Reports `rule` about `path` in layer `layer`, at `line`:`column` of the file (0 when
    /// the finding is about the whole file).
    pub fn report(
        &mut self,
        rule: &'static RuleMeta,
        layer: usize,
        path: &str,
        line: u32,
        column: u32,
        message: impl Into<String>,
    ) {
        let location = Location {
            file: self.file.clone(),
            line,
            column,
            member: Some(format!("{}/{path}", self.layer(layer))),
            ..Location::default()
        };
        self.out.push(Finding::new(rule, message, location));
    }
}

/// Runs every rule over the file view of an image.
#[must_use]
pub fn check_view(
    reference: &Arc<str>,
    view: &FileView,
    surface: &AttackSurface,
    layers: &[String],
) -> Vec<Finding> {
    let mut cx = ViewCtx {
        view,
        surface,
        layers,
        file: reference,
        out: Vec::new(),
    };
    for (_, check) in VIEW {
        check(&mut cx);
    }
    cx.out
}

/// What a check sees, and where it reports.
pub(crate) struct Ctx<'a> {
    pub config: &'a ImageConfig,
    file: &'a Arc<str>,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    /// Reports `rule` about the config field at JSON pointer `pointer`.
    pub fn report(&mut self, rule: &'static RuleMeta, pointer: &str, message: impl Into<String>) {
        let location = Location {
            file: self.file.clone(),
            pointer: pointer.to_string(),
            ..Location::default()
        };
        self.out.push(Finding::new(rule, message, location));
    }

    /// The command the image runs: entrypoint then cmd.
    pub fn command(&self) -> Vec<String> {
        let c = &self.config.config;
        c.entrypoint
            .iter()
            .flatten()
            .chain(c.cmd.iter().flatten())
            .cloned()
            .collect()
    }
}

/// Runs every image rule over a config.
#[must_use]
pub fn check(reference: &Arc<str>, config: &ImageConfig) -> Vec<Finding> {
    let mut cx = Ctx {
        config,
        file: reference,
        out: Vec::new(),
    };
    for (_, check) in ALL {
        check(&mut cx);
    }
    cx.out
}

/// Every image rule, in code order.
#[must_use]
pub fn rules() -> Vec<&'static RuleMeta> {
    ALL.iter()
        .map(|(m, _)| *m)
        .chain(VIEW.iter().map(|(m, _)| *m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> ImageConfig {
        serde_json::from_value(json).unwrap()
    }

    fn codes(json: serde_json::Value) -> Vec<(&'static str, String, String)> {
        let file: Arc<str> = "oci:x".into();
        check(&file, &config(json))
            .into_iter()
            .map(|f| (f.rule.code, f.location.pointer, f.message))
            .collect()
    }

    #[test]
    fn fail_and_pass_fixtures() {
        let bad = codes(serde_json::json!({"config": {
            "Env": ["PATH=/usr/bin", "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEF12", "DB_PASSWORD=hunter22", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "TOKEN_FILE=/run/secrets/t", "POSTGRES_PASSWORD=changeme", "KEY_HOLDER=AKIA2E0A8F3B244C9986"],
            "ExposedPorts": {"22/tcp": {}, "8000/tcp": {}},
            "Cmd": ["uvicorn", "app:app"]
        }}));
        let got: Vec<(&str, &str)> = bad.iter().map(|(c, p, _)| (*c, p.as_str())).collect();
        assert_eq!(
            got,
            vec![
                ("PAL600", "/config/User"),
                ("PAL601", "/config/Healthcheck"),
                ("PAL602", "/config/Env/1"),
                ("PAL602", "/config/Env/2"),
                ("PAL602", "/config/Env/5"),
                ("PAL602", "/config/Env/6"),
                ("PAL603", "/config/ExposedPorts/22~1tcp"),
            ]
        );
        assert!(
            bad.iter()
                .any(|(_, p, m)| p == "/config/Env/5" && m.contains("well-known default password")),
            "{bad:?}"
        );
        // Recognised by its format whatever the name, and worded as every gate words it.
        assert!(
            bad.iter().any(|(_, p, m)| p == "/config/Env/6"
                && m.contains("`KEY_HOLDER` holds an AWS access key ID")),
            "{bad:?}"
        );
        for (_, _, m) in &bad {
            assert!(
                !m.contains("hunter22") && !m.contains("hf_abc"),
                "secret value leaked: {m}"
            );
        }
        let good = codes(serde_json::json!({"config": {
            "User": "10001:10001",
            "Env": ["PATH=/usr/bin", "HF_TOKEN_FILE=/run/secrets/hf", "API_KEY=", "HF_TOKEN=$HF_TOKEN", "API_TOKEN=<your-token>"],
            "ExposedPorts": {"8000/tcp": {}},
            "Cmd": ["uvicorn", "app:app"],
            "Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost:8000/health"]}
        }}));
        assert!(good.is_empty(), "{good:?}");
        // A batch job that does not serve needs no health check.
        let job =
            codes(serde_json::json!({"config": {"User": "app", "Cmd": ["python", "train.py"]}}));
        assert!(job.is_empty(), "{job:?}");
        // HEALTHCHECK NONE on a server.
        let none = codes(
            serde_json::json!({"config": {"User": "1", "ExposedPorts": {"80/tcp": {}}, "Healthcheck": {"Test": ["NONE"]}}}),
        );
        assert_eq!(none.len(), 1);
        assert!(none[0].2.contains("disables"));
        // root spelled in every way.
        for u in ["root", "0", "0:0", "root:root", ""] {
            let f = codes(serde_json::json!({"config": {"User": u}}));
            assert_eq!(f.len(), 1, "{u}");
        }
    }
}
