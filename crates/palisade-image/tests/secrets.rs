//! Secrets in layer files (PAL604) and in files a later layer deletes (PAL605): fail and
//! pass images built by the test, scanned as an OCI layout and as `dir:`.

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;
use palisade_image::{ImageScan, ScanOptions, scan_reference};

// Credential-shaped values are assembled at run time so the test source holds none.
fn tok(prefix: &str, n: usize) -> String {
    let body = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0Xq";
    let mut s = prefix.to_string();
    while s.len() < prefix.len() + n {
        s.push_str(body);
    }
    s.truncate(prefix.len() + n);
    s
}

fn pem_key() -> String {
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n{}\n-----END RSA PRIVATE KEY-----\n",
        tok("MIIEowIBAAKCAQEA", 48),
        tok("x3k9pL2q", 56)
    )
}

struct Secrets {
    hf: String,
    aws_id: String,
    aws_secret: String,
    gh: String,
    netrc_pw: String,
    docker_auth: String,
}

impl Secrets {
    fn new() -> Secrets {
        Secrets {
            hf: tok("hf_", 34),
            aws_id: "AKIAZ4Q7RT2WX5MPL3KD".into(),
            aws_secret: tok("", 40).replace('X', "/"),
            gh: tok("ghp_", 36),
            netrc_pw: "n3trcPassw0rd".into(),
            docker_auth: "Y2k6aHVudGVyMjJodW50ZXIy".into(),
        }
    }

    fn all(&self) -> Vec<&str> {
        vec![
            &self.hf,
            &self.aws_id,
            &self.aws_secret,
            &self.gh,
            &self.netrc_pw,
            &self.docker_auth,
        ]
    }
}

fn secret_image(s: &Secrets) -> BuiltImage {
    let l0 = vec![
        Entry::file("app/.env", format!("DEBUG=0\nHF_TOKEN={}\n", s.hf)),
        Entry::file(
            "root/.aws/credentials",
            format!(
                "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                s.aws_id, s.aws_secret
            ),
        ),
        Entry::file(
            "root/.netrc",
            format!("machine github.com\nlogin ci\npassword {}\n", s.netrc_pw),
        ),
        Entry::file(
            "root/.docker/config.json",
            format!(
                "{{\"auths\": {{\"registry.corp\": {{\"auth\": \"{}\"}}}}}}",
                s.docker_auth
            ),
        ),
        Entry::file("etc/ssl/private/server.key", pem_key()),
        Entry::file("app/settings.py", format!("GITHUB = '{}'\n", s.gh)),
        // Pass cases: a documented sample, a placeholder, a binary, vendored test keys,
        // documentation.
        Entry::file(
            "app/README",
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nHF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
        ),
        Entry::File {
            path: "app/bin/tool".into(),
            data: [b"\x7fELF\0\0\0\0".as_slice(), s.hf.as_bytes()].concat(),
            mode: 0o755,
        },
        Entry::file(
            "usr/local/lib/python3.11/site-packages/tornado/test/test.key",
            pem_key(),
        ),
        Entry::file(
            "usr/share/doc/app/example.env",
            format!("HF_TOKEN={}\n", s.hf),
        ),
    ];
    let l1 = vec![
        // Deleted: still in layer 0.
        Entry::Whiteout("root/.netrc".into()),
        // Replaced with clean content.
        Entry::file("app/settings.py", "GITHUB = None\n"),
        // Copied up unchanged (a chmod): reported once, where it is now.
        Entry::File {
            path: "etc/ssl/private/server.key".into(),
            data: pem_key().into_bytes(),
            mode: 0o600,
        },
    ];
    BuiltImage::new(
        vec![
            (layer_tar(&l0).unwrap(), Compression::Gzip),
            (layer_tar(&l1).unwrap(), Compression::Zstd),
        ],
        serde_json::json!({"User": "1000"}),
    )
    .unwrap()
}

fn scan(reference: &str) -> ImageScan {
    scan_reference(reference, &ScanOptions::default()).unwrap()
}

/// (code, path inside the layer, line, message) of the secret findings.
fn secret_findings(s: &ImageScan) -> Vec<(&'static str, String, u32, String)> {
    let mut v: Vec<_> = s
        .findings
        .iter()
        .filter(|f| matches!(f.rule.code, "PAL604" | "PAL605"))
        .map(|f| {
            let member = f.location.member.clone().unwrap_or_default();
            let path = s
                .layers
                .iter()
                .find_map(|l| member.strip_prefix(&format!("{}/", l.digest)))
                .unwrap_or_else(|| panic!("{member} names no layer"))
                .to_string();
            (f.rule.code, path, f.location.line, f.message.clone())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn secrets_in_files_and_deleted_files() {
    let s = Secrets::new();
    let img = secret_image(&s);
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), Some("v1")).unwrap();
    let scan = scan(&format!("oci:{}:v1", dir.path().display()));
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let got = secret_findings(&scan);
    let summary: Vec<(&str, &str, u32)> = got
        .iter()
        .map(|(c, p, l, _)| (*c, p.as_str(), *l))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("PAL604", "app/.env", 2),
            ("PAL604", "etc/ssl/private/server.key", 1),
            ("PAL604", "root/.aws/credentials", 2),
            ("PAL604", "root/.aws/credentials", 3),
            ("PAL604", "root/.docker/config.json", 1),
            ("PAL605", "app/settings.py", 1),
            ("PAL605", "root/.netrc", 3),
        ]
    );
    let layer0 = &scan.layers[0].digest;
    let layer1 = &scan.layers[1].digest;
    for f in scan.findings.iter().filter(|f| f.rule.code == "PAL605") {
        let member = f.location.member.as_deref().unwrap();
        assert!(member.starts_with(layer0.as_str()), "{member}");
        assert!(f.message.contains(layer0.as_str()) && f.message.contains(layer1.as_str()));
    }
    // The PEM key copied up by layer 1 is reported in layer 1, once.
    let key = scan
        .findings
        .iter()
        .find(|f| {
            f.location
                .member
                .as_deref()
                .is_some_and(|m| m.ends_with("server.key"))
        })
        .unwrap();
    assert!(
        key.location
            .member
            .as_deref()
            .unwrap()
            .starts_with(layer1.as_str())
    );
    assert!(key.message.contains("-----BEGIN RSA PRIVATE KEY-----"));
    let kinds: Vec<&str> = got.iter().map(|(_, _, _, m)| m.as_str()).collect();
    for (needle, what) in [
        ("Hugging Face token (hf_… (37 characters))", ".env"),
        ("AWS access key ID", "credentials"),
        ("AWS secret access key", "credentials"),
        ("registry credential in a Docker config.json", "config.json"),
        ("GitHub token", "settings.py"),
        ("password in a .netrc file", ".netrc"),
    ] {
        assert!(
            kinds.iter().any(|m| m.contains(needle) && m.contains(what)),
            "{needle} in {what}: {kinds:#?}"
        );
    }
    // No value is ever printed, in any output format.
    let rendered = format!("{:?}", scan.findings);
    for v in s.all() {
        assert!(!rendered.contains(v), "value leaked: {v}");
    }
}

#[test]
fn dir_rootfs_is_searched_too() {
    let s = Secrets::new();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("app")).unwrap();
    std::fs::write(root.path().join("app/.env"), format!("HF_TOKEN={}\n", s.hf)).unwrap();
    std::fs::write(root.path().join("app/clean.py"), "print('hello')\n").unwrap();
    let scan = scan(&format!("dir:{}", root.path().display()));
    let got = secret_findings(&scan);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].0, got[0].1.as_str(), got[0].2),
        ("PAL604", "app/.env", 1)
    );
}

#[test]
fn clean_image_passes() {
    let l0 = vec![
        Entry::file("app/main.py", "import os\nTOKEN = os.environ['HF_TOKEN']\n"),
        Entry::file("app/.env.example", "HF_TOKEN=\nDB_PASSWORD=change-me\n"),
        Entry::file(
            "app/.env",
            "HF_TOKEN_FILE=/run/secrets/hf\nAPI_KEY=${API_KEY}\n",
        ),
        Entry::file(
            "root/.docker/config.json",
            "{\"credsStore\": \"secretservice\"}",
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l0).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "1000"}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), None).unwrap();
    let scan = scan(&format!("oci:{}", dir.path().display()));
    assert!(
        secret_findings(&scan).is_empty(),
        "{:?}",
        secret_findings(&scan)
    );
}

#[test]
fn size_limit_skips_large_files() {
    let s = Secrets::new();
    let mut big = "x = 1\n".repeat(20_000);
    big.push_str(&format!("HF = '{}'\n", s.hf));
    let l0 = vec![Entry::file("app/big.py", big)];
    let img = BuiltImage::new(
        vec![(layer_tar(&l0).unwrap(), Compression::None)],
        serde_json::json!({"User": "1000"}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), None).unwrap();
    let r = format!("oci:{}", dir.path().display());
    assert_eq!(secret_findings(&scan(&r)).len(), 1);
    let mut opts = ScanOptions::default();
    opts.limits.max_secret_scan = 64 * 1024;
    let limited = scan_reference(&r, &opts).unwrap();
    assert!(secret_findings(&limited).is_empty());
}
