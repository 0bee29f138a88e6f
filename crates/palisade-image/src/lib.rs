//! Container images for Palisade.
//!
//! - [`reference`]: references in the skopeo convention (`oci:DIR[:TAG]`,
//!   `docker-archive:FILE`, `dir:ROOTFS`, `registry/repo:tag`, `@sha256:…`).
//! - [`source`]: OCI layouts, `docker save` archives, root filesystems, and a small OCI
//!   distribution client (anonymous, basic and bearer auth, Docker credentials,
//!   multi-platform indexes).
//! - [`decode`]: layer streams (gzip, zstd, plain), digests verified as bytes pass; nothing
//!   is extracted to disk.
//! - [`fs`]: the layered filesystem as one view (whiteouts, opaque directories, hard links,
//!   symlinks resolved inside the image) with limits on size, count and path length.
//! - [`catalog`]: OS and packages (dpkg, apk, rpm, Python, conda, npm, Go binaries, Maven
//!   packages in Java archives, crates in Rust binaries built with `cargo auditable`) with
//!   purls.
//! - [`facts`]: what the reports say about each image as data (digests, platform, OS,
//!   layers, package counts, attack surface).
//! - [`rules`]: image config checks (`PAL600`–`PAL649`); model files found in layers go
//!   through `palisade-model`.
//! - [`sbom`]: CycloneDX 1.6 and SPDX 2.3 JSON.
//! - [`vulns`]: the packages as `palisade-vuln` packages, for vulnerability matching.
//!
//! ```no_run
//! let scan = palisade_image::scan_reference("oci:./layout:v1", &Default::default()).unwrap();
//! for p in &scan.inventory.packages {
//!     println!("{} {} {}", p.name, p.version, p.purl);
//! }
//! ```

pub mod build;
pub mod catalog;
pub mod decode;
pub mod digest;
pub mod error;
pub mod facts;
pub mod fs;
pub mod reference;
pub mod rules;
pub mod sbom;
pub mod scan;
pub mod secrets;
pub mod source;
pub mod spec;
pub mod surface;
pub mod vulns;

pub use error::{Error, Result};
pub use reference::{ImageRef, RegistryRef, parse_registry as parse_registry_ref};
pub use scan::{
    ImageScan, LayerInfo, Progress, ProgressHook, ScanOptions, scan_image, scan_reference,
};
pub use source::{Image, Layer, OpenOptions, open};
pub use spec::Platform;

/// Every image rule, for `palisade rules` and `explain`.
#[must_use]
pub fn rules() -> Vec<&'static palisade_policy::RuleMeta> {
    rules::rules()
}
