//! The `PAL5xx` rules (family `dockerfile`).
//!
//! One rule, one file: each declares its metadata and documentation with
//! [`palisade_policy::declare_rule!`] (the doc comment is what `palisade explain` prints)
//! and a `check` that reads the [`Analysis`] and reports through [`Ctx`]. Codes are listed
//! once, in [`ALL`], and are never reused.

use std::sync::Arc;

use palisade_policy::{Finding, Location, ObjectRef, RuleMeta};

use crate::analysis::Analysis;
use crate::parser::SrcOffset;

mod pal500_run_as_root;
mod pal501_mutable_base_tag;
mod pal502_base_without_digest;
pub(crate) mod pal503_missing_healthcheck;
mod pal504_build_tools_in_final_image;
mod pal505_package_cache_in_image;
mod pal506_apt_install_recommends;
mod pal507_add_instead_of_copy;
mod pal508_curl_pipe_shell;
mod pal509_hardcoded_secret;
mod pal510_secret_file_in_image;
mod pal511_pip_unpinned;
mod pal512_pip_without_hashes;
mod pal513_pip_extra_index_url;
mod pal514_pip_trusted_host;
mod pal515_unpinned_model_download;
mod pal516_sudo;
mod pal517_world_writable_chmod;
mod pal518_expose_ssh;
mod pal519_secret_build_arg;

type Check = fn(&mut Ctx<'_>);

/// Every rule with its check, in code order.
pub(crate) static ALL: &[(&RuleMeta, Check)] = &[
    (&pal500_run_as_root::RULE, pal500_run_as_root::check),
    (
        &pal501_mutable_base_tag::RULE,
        pal501_mutable_base_tag::check,
    ),
    (
        &pal502_base_without_digest::RULE,
        pal502_base_without_digest::check,
    ),
    (
        &pal503_missing_healthcheck::RULE,
        pal503_missing_healthcheck::check,
    ),
    (
        &pal504_build_tools_in_final_image::RULE,
        pal504_build_tools_in_final_image::check,
    ),
    (
        &pal505_package_cache_in_image::RULE,
        pal505_package_cache_in_image::check,
    ),
    (
        &pal506_apt_install_recommends::RULE,
        pal506_apt_install_recommends::check,
    ),
    (
        &pal507_add_instead_of_copy::RULE,
        pal507_add_instead_of_copy::check,
    ),
    (&pal508_curl_pipe_shell::RULE, pal508_curl_pipe_shell::check),
    (
        &pal509_hardcoded_secret::RULE,
        pal509_hardcoded_secret::check,
    ),
    (
        &pal510_secret_file_in_image::RULE,
        pal510_secret_file_in_image::check,
    ),
    (&pal511_pip_unpinned::RULE, pal511_pip_unpinned::check),
    (
        &pal512_pip_without_hashes::RULE,
        pal512_pip_without_hashes::check,
    ),
    (
        &pal513_pip_extra_index_url::RULE,
        pal513_pip_extra_index_url::check,
    ),
    (
        &pal514_pip_trusted_host::RULE,
        pal514_pip_trusted_host::check,
    ),
    (
        &pal515_unpinned_model_download::RULE,
        pal515_unpinned_model_download::check,
    ),
    (&pal516_sudo::RULE, pal516_sudo::check),
    (
        &pal517_world_writable_chmod::RULE,
        pal517_world_writable_chmod::check,
    ),
    (&pal518_expose_ssh::RULE, pal518_expose_ssh::check),
    (
        &pal519_secret_build_arg::RULE,
        pal519_secret_build_arg::check,
    ),
];

/// What a check sees, and where it reports.
pub(crate) struct Ctx<'a> {
    pub a: &'a Analysis<'a>,
    file: &'a Arc<str>,
    out: Vec<Finding>,
}

impl Ctx<'_> {
    /// Reports `rule` at source offset `at`, about instruction `instr`.
    pub fn report(
        &mut self,
        rule: &'static RuleMeta,
        instr: usize,
        at: SrcOffset,
        message: impl Into<String>,
    ) {
        let (line, column) = self.a.df.pos(self.a.src, at);
        let mut f = Finding::new(
            rule,
            message,
            Location {
                file: Arc::clone(self.file),
                line,
                column,
                ..Location::default()
            },
        );
        f.snippet = self.a.df.line_text(self.a.src, line).map(str::to_string);
        // The build stage plays the part a Kubernetes object plays for manifests: it groups
        // findings in JUnit and SARIF and can be named in policy exceptions (`kinds: [Stage]`).
        f.object = self.a.stage(instr).map(|s| {
            Arc::new(ObjectRef {
                api_version: String::new(),
                kind: "Stage".into(),
                namespace: None,
                name: s.label(),
            })
        });
        self.out.push(f);
    }
}

pub(crate) fn run(a: &Analysis<'_>, file: &Arc<str>) -> Vec<Finding> {
    let mut cx = Ctx {
        a,
        file,
        out: Vec::new(),
    };
    for (_, check) in ALL {
        check(&mut cx);
    }
    cx.out
}
