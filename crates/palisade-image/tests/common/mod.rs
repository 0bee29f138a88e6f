//! Test images built from real content: this machine's dpkg status and Python dist-info
//! when present, plus fixtures for every cataloger and every layer edge case.
#![allow(dead_code)]

pub mod cyclonedx_schema;
pub mod registry;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;

/// A malicious pickle: `posix.system('id')` on load.
pub const EVIL_PICKLE: &[u8] =
    b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.";

pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";

pub const DPKG_FIXTURE: &str = "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.15-1~deb12u1\n\nPackage: removed-pkg\nStatus: deinstall ok config-files\nVersion: 1.0\n";

pub const DISTROLESS_ENTRY: &str = "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n";

/// This machine's dpkg status, or the fixture when there is none.
pub fn host_dpkg_status() -> String {
    std::fs::read_to_string("/var/lib/dpkg/status").unwrap_or_else(|_| DPKG_FIXTURE.to_string())
}

/// Installed packages in a dpkg status text, counted independently of the cataloger.
pub fn count_installed(status: &str) -> usize {
    status
        .split("\n\n")
        .filter(|p| p.lines().any(|l| l.starts_with("Package:")))
        .filter(|p| {
            p.lines()
                .find(|l| l.starts_with("Status:"))
                .is_none_or(|s| s.split_whitespace().any(|w| w == "installed"))
        })
        .count()
}

/// Real `METADATA` files from this machine's Python (up to 5), as (dir name, content).
pub fn host_dist_infos() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for base in ["/usr/lib/python3/dist-packages"] {
        let Ok(rd) = std::fs::read_dir(base) else {
            continue;
        };
        let mut dirs: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "dist-info"))
            .collect();
        dirs.sort();
        for d in dirs.into_iter().take(5) {
            if let Ok(m) = std::fs::read(d.join("METADATA")) {
                out.push((d.file_name().unwrap().to_string_lossy().into_owned(), m));
            }
        }
    }
    out
}

fn fake_go_binary() -> Vec<u8> {
    fn varstr(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut n = s.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                v.push(b);
                break;
            }
            v.push(b | 0x80);
        }
        v.extend_from_slice(s);
        v
    }
    let mut f = b"\x7fELF".to_vec();
    f.resize(70_000, 0);
    let mut blob = b"\xff Go buildinf:".to_vec();
    blob.extend([8, 2]);
    blob.resize(32, 0);
    blob.extend(varstr(b"go1.22.5"));
    let mut m = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6".to_vec();
    m.extend_from_slice(b"path\texample.com/srv\nmod\texample.com/srv\t(devel)\t\ndep\tgolang.org/x/net\tv0.20.0\th1:x=\n");
    m.extend_from_slice(b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2");
    blob.extend(varstr(&m));
    f.extend(blob);
    f.resize(f.len() + 1000, 0);
    f
}

/// The main test image: three layers (gzip, zstd, uncompressed) exercising every
/// cataloger, whiteouts, an opaque directory, a hard link, symlinks (one trying to
/// escape), a traversal entry and a malicious pickle.
pub fn test_image() -> BuiltImage {
    test_image_compressed([Compression::Gzip, Compression::Zstd, Compression::None])
}

/// [`test_image`] with its three layers compressed as given.
pub fn test_image_compressed(c: [Compression; 3]) -> BuiltImage {
    let mut l0 = vec![
        Entry::Dir("etc".into()),
        Entry::file("usr/lib/os-release", OS_RELEASE),
        Entry::Symlink {
            path: "etc/os-release".into(),
            target: "../usr/lib/os-release".into(),
        },
        Entry::file("etc/shadow", "root:*:19000:0:99999:7:::\n"),
        Entry::file("var/lib/dpkg/status", host_dpkg_status()),
        Entry::file("var/lib/dpkg/status.d/tzdata", DISTROLESS_ENTRY),
        Entry::file(
            "var/lib/dpkg/status.d/tzdata.md5sums",
            "abc  usr/share/zoneinfo/UTC\n",
        ),
        Entry::file("tmp/build-secret.txt", "to be deleted"),
        Entry::file("opt/old/a.txt", "hidden by opaque"),
        Entry::file(
            "usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\nLicense: Apache 2.0\n\nbody",
        ),
        Entry::file(
            "usr/local/lib/python3.11/site-packages/gone-1.0.dist-info/METADATA",
            "Name: gone\nVersion: 1.0\n",
        ),
    ];
    for (dir, meta) in host_dist_infos() {
        l0.push(Entry::file(
            &format!("usr/lib/python3/dist-packages/{dir}/METADATA"),
            meta,
        ));
    }
    let l1 = vec![
        Entry::Whiteout("tmp/build-secret.txt".into()),
        Entry::Whiteout("usr/local/lib/python3.11/site-packages/gone-1.0.dist-info".into()),
        Entry::Opaque("opt/old".into()),
        Entry::file("opt/old/b.txt", "new"),
        Entry::Symlink {
            path: "evil".into(),
            target: "../../../../../../etc/shadow".into(),
        },
        Entry::HardLink {
            path: "usr/lib/os-release.bak".into(),
            target: "usr/lib/os-release".into(),
        },
        Entry::RawName {
            name: b"../../escape.txt".to_vec(),
            data: b"x".to_vec(),
        },
        Entry::File {
            path: "models/evil.pkl".into(),
            data: EVIL_PICKLE.to_vec(),
            mode: 0o644,
        },
        Entry::File {
            path: "usr/local/bin/srv".into(),
            data: fake_go_binary(),
            mode: 0o755,
        },
        Entry::file(
            "app/node_modules/@types/node/package.json",
            r#"{"name":"@types/node","version":"20.11.0","license":"MIT"}"#,
        ),
        Entry::file(
            "app/node_modules/express/package.json",
            r#"{"name":"express","version":"4.19.2"}"#,
        ),
        Entry::file(
            "app/node_modules/express/lib/package.json",
            r#"{"name":"not-a-package","version":"0"}"#,
        ),
        Entry::file(
            "opt/conda/conda-meta/numpy-1.26.4-py311h64a7726_0.json",
            r#"{"name":"numpy","version":"1.26.4","build":"py311h64a7726_0","subdir":"linux-64"}"#,
        ),
    ];
    let l2 = vec![Entry::file("app/main.py", "print('hi')\n")];
    BuiltImage::new(
        vec![
            (layer_tar(&l0).unwrap(), c[0]),
            (layer_tar(&l1).unwrap(), c[1]),
            (layer_tar(&l2).unwrap(), c[2]),
        ],
        serde_json::json!({
            "Env": ["PATH=/usr/local/bin:/usr/bin", "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"],
            "ExposedPorts": {"22/tcp": {}, "8000/tcp": {}},
            "Cmd": ["uvicorn", "app:app", "--host", "0.0.0.0"],
        }),
    )
    .unwrap()
}

/// A small Alpine image with an apk database fixture.
pub fn alpine_image() -> BuiltImage {
    let l = vec![
        Entry::file("etc/alpine-release", "3.20.3\n"),
        Entry::file(
            "lib/apk/db/installed",
            "C:Q1x=\nP:musl\nV:1.2.5-r0\nA:x86_64\nL:MIT\no:musl\n\nC:Q1y=\nP:busybox-binsh\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\no:busybox\n",
        ),
    ];
    BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "65534"}),
    )
    .unwrap()
}

/// Runs `check` with a validator for CycloneDX 1.6; skips with one line when the shared data
/// is absent.
pub fn cyclonedx_validator(check: impl FnOnce(&jsonschema::Validator)) {
    if let Some(v) = cyclonedx_schema::cyclonedx_validator() {
        check(&v);
    }
}
