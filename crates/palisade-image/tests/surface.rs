//! The attack surface (shells, package managers, compilers, debuggers, setuid/setgid files,
//! world-writable paths, layer sizes, the plan) and its rules PAL606–PAL609, on a fail image
//! and a distroless-like pass image built by the test.

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;
use palisade_image::{ImageScan, ScanOptions, scan_reference};

fn exe(path: &str, mode: u32) -> Entry {
    Entry::File {
        path: path.into(),
        data: format!("#!binary {path}\n").into_bytes(),
        mode,
    }
}

fn scan(img: &BuiltImage) -> ImageScan {
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), None).unwrap();
    let s = scan_reference(
        &format!("oci:{}", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap();
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    s
}

fn codes(s: &ImageScan) -> Vec<(&'static str, String)> {
    let mut v: Vec<(&str, String)> = s
        .findings
        .iter()
        .filter(|f| matches!(f.rule.code, "PAL606" | "PAL607" | "PAL608" | "PAL609"))
        .map(|f| {
            let m = f.location.member.as_deref().unwrap_or("");
            let path = m.rsplit_once(':').map_or(m, |(_, p)| p);
            let path = path.split_once('/').map_or("", |(_, p)| p);
            (f.rule.code, path.to_string())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fat_image_surface_and_rules() {
    let base = vec![
        Entry::Dir("bin".into()),
        exe("bin/bash", 0o755),
        exe("bin/busybox", 0o755),
        Entry::Symlink {
            path: "bin/sh".into(),
            target: "busybox".into(),
        },
        exe("usr/bin/apt-get", 0o755),
        exe("usr/bin/dpkg", 0o755),
        exe("usr/bin/passwd", 0o4755),
        exe("usr/bin/wall", 0o2755),
        exe("usr/bin/curl", 0o755),
        // Not executable: not a tool.
        Entry::file("usr/bin/gdb", "not executable"),
        Entry::DirMode {
            path: "tmp".into(),
            mode: 0o1777,
        },
        Entry::DirMode {
            path: "proc".into(),
            mode: 0o777,
        },
    ];
    let build = vec![
        exe("usr/bin/gcc-12", 0o755),
        exe("usr/bin/make", 0o755),
        exe("usr/bin/strace", 0o755),
        exe("usr/local/bin/pip3.11", 0o755),
        Entry::DirMode {
            path: "app".into(),
            mode: 0o777,
        },
        Entry::File {
            path: "app/model.cfg".into(),
            data: b"lr=0.1\n".to_vec(),
            mode: 0o666,
        },
    ];
    let img = BuiltImage::new(
        vec![
            (layer_tar(&base).unwrap(), Compression::Gzip),
            (layer_tar(&build).unwrap(), Compression::Zstd),
        ],
        serde_json::json!({"ExposedPorts": {"8000/tcp": {}}, "Cmd": ["python", "serve.py", "--host", "0.0.0.0", "--port", "8000"]}),
    )
    .unwrap();
    let s = scan(&img);
    let names =
        |t: &[palisade_image::surface::Tool]| t.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    let surface = &s.surface;
    assert_eq!(names(&surface.shells), ["bash", "busybox", "sh"]);
    assert_eq!(
        names(&surface.package_managers),
        ["apt-get", "dpkg", "pip3.11"]
    );
    assert_eq!(names(&surface.compilers), ["gcc-12", "make"]);
    assert_eq!(names(&surface.debuggers), ["strace"]);
    assert_eq!(names(&surface.network_tools), ["curl"]);
    let setuid: Vec<(&str, u32)> = surface
        .setuid
        .iter()
        .map(|f| (f.path.as_str(), f.mode))
        .collect();
    assert_eq!(
        setuid,
        [("usr/bin/passwd", 0o4755), ("usr/bin/wall", 0o2755)]
    );
    let ww: Vec<&str> = surface
        .world_writable
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(
        ww,
        ["app", "app/model.cfg"],
        "tmp is sticky, proc is the runtime's"
    );
    assert!(surface.runs_as_root);
    assert_eq!(surface.exposed_ports, ["8000/tcp"]);
    assert_eq!(
        surface.listen_hints,
        ["all interfaces (--host 0.0.0.0)", "port 8000 (--port)"]
    );
    assert_eq!(surface.layers.len(), 2);
    assert_eq!(surface.layers[1].uncompressed, s.layers[1].uncompressed);
    assert!(
        surface
            .layers
            .iter()
            .all(|l| l.uncompressed > 0 && l.size > 0)
    );
    // The plan covers each problem found.
    let plan = surface.plan.join("\n");
    for needle in [
        "COPY --from",
        "distroless",
        "curl",
        "chmod a-s",
        "o-w",
        "USER",
    ] {
        assert!(plan.contains(needle), "{needle}: {plan}");
    }
    assert_eq!(
        codes(&s),
        [
            ("PAL606", "usr/bin/passwd".to_string()),
            ("PAL606", "usr/bin/wall".to_string()),
            ("PAL607", "app".to_string()),
            ("PAL607", "app/model.cfg".to_string()),
            ("PAL608", "usr/bin/gcc-12".to_string()),
            ("PAL608", "usr/bin/strace".to_string()),
            ("PAL609", "bin/bash".to_string()),
        ]
    );
    let passwd = s.findings.iter().find(|f| f.rule.code == "PAL606").unwrap();
    assert!(
        passwd.message.contains("setuid uid 0 (root), mode 4755"),
        "{}",
        passwd.message
    );
    let lines = surface.summary_lines("img");
    assert!(lines[0].contains("shells: bash busybox sh"), "{}", lines[0]);
    assert!(
        lines[1].starts_with("img: layer sizes: #1 "),
        "{}",
        lines[1]
    );
}

#[test]
fn distroless_image_passes() {
    let l = vec![
        Entry::DirMode {
            path: "tmp".into(),
            mode: 0o1777,
        },
        exe("app/server", 0o755),
        Entry::file(
            "etc/passwd",
            "nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
        ),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "65532", "Entrypoint": ["/app/server"]}),
    )
    .unwrap();
    let s = scan(&img);
    assert!(codes(&s).is_empty(), "{:?}", codes(&s));
    assert!(!s.surface.runs_as_root);
    assert!(s.surface.plan.is_empty(), "{:?}", s.surface.plan);
}
