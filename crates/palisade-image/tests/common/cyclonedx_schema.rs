//! The official CycloneDX 1.6 schema from `../shared/data/schemas` as a validator, its `$ref`s
//! to the SPDX and JSF schemas served from the local copies (no network). Shared by this
//! crate's tests (through `common`) and the CLI's (`crates/palisade/tests/vuln_scan.rs`, by
//! `#[path]`).

/// `None`, after one line on stderr, when the shared data is absent (a user's fresh clone).
pub fn cyclonedx_validator() -> Option<jsonschema::Validator> {
    let base =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/schemas");
    if !base.is_dir() {
        eprintln!("skipping CycloneDX schema validation: ../shared/data/schemas not present");
        return None;
    }
    let load = |n: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(base.join(n)).unwrap_or_else(|e| panic!("{n}: {e}")))
            .unwrap()
    };
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    Some(
        jsonschema::options()
            .with_registry(&registry)
            .should_validate_formats(true)
            .build(&load("bom-1.6.schema.json"))
            .unwrap(),
    )
}
