//! The rpm cataloger against real databases: `resources/test/rpm/` holds an `rpmdb.sqlite`
//! written by rpm 4.18 from packages rpmbuild made, the same headers as a Berkeley DB hash
//! (`db5.3_load`, little- and big-endian) and in the NDB layout, and `expected.txt`, what
//! `rpm -qa --queryformat` printed for them (see `generate.sh`). When rpm is installed, the
//! oracle is re-derived live from the committed database.

mod common;

use std::path::PathBuf;
use std::process::Command;

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::catalog::PackageType;
use palisade_image::catalog::rpm::{bdb_blobs, ndb_blobs, parse_header, sqlite_blobs};
use palisade_image::decode::Compression;
use palisade_image::{ImageScan, ScanOptions, scan_reference};

fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("resources/test/rpm")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn expected() -> Vec<String> {
    String::from_utf8(fixture("expected.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The same line `rpm -qa --queryformat '%{NAME}|%{EPOCHNUM}|…'` prints.
fn lines(blobs: &[Vec<u8>]) -> Vec<String> {
    let mut v: Vec<String> = blobs
        .iter()
        .map(|b| {
            let h = parse_header(b).unwrap();
            format!(
                "{}|{}|{}|{}|{}|{}|{}",
                h.name,
                h.epoch.unwrap_or(0),
                h.version,
                h.release,
                h.arch,
                h.source_rpm,
                h.license
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_format_reads_what_rpm_wrote() {
    let want = expected();
    assert_eq!(want.len(), 3);
    assert_eq!(
        lines(&sqlite_blobs(&fixture("rpmdb.sqlite")).unwrap()),
        want
    );
    assert_eq!(lines(&bdb_blobs(&fixture("Packages")).unwrap()), want);
    assert_eq!(
        lines(&bdb_blobs(&fixture("Packages.be")).unwrap()),
        want,
        "big-endian Berkeley DB"
    );
    assert_eq!(lines(&ndb_blobs(&fixture("Packages.db")).unwrap()), want);
    // The three formats hold the same bytes.
    let sq = sqlite_blobs(&fixture("rpmdb.sqlite")).unwrap();
    let mut bdb = bdb_blobs(&fixture("Packages")).unwrap();
    let ndb = ndb_blobs(&fixture("Packages.db")).unwrap();
    bdb.sort_by_key(|b| sq.iter().position(|s| s == b));
    assert_eq!(bdb, sq);
    assert_eq!(ndb, sq);
    // The long header really spans several overflow pages.
    assert!(sq.iter().any(|b| b.len() > 2 * 4096));
}

#[test]
fn oracle_is_what_rpm_prints_today() {
    if Command::new("rpm").arg("--version").output().is_err() {
        eprintln!("skipped: rpm is not installed (apt-get install rpm)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rpmdb.sqlite"), fixture("rpmdb.sqlite")).unwrap();
    let out = Command::new("rpm")
        .arg("--dbpath")
        .arg(dir.path())
        .args([
            "-qa",
            "--queryformat",
            "%{NAME}|%{EPOCHNUM}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SOURCERPM}|%{LICENSE}\\n",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut live: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    live.sort();
    assert_eq!(live, expected());
}

#[test]
fn truncated_and_corrupted_databases_never_panic() {
    for (name, read) in [
        (
            "Packages",
            bdb_blobs as fn(&[u8]) -> Result<Vec<Vec<u8>>, String>,
        ),
        ("Packages.be", bdb_blobs),
        ("Packages.db", ndb_blobs),
        ("rpmdb.sqlite", sqlite_blobs),
    ] {
        let full = fixture(name);
        let step = (full.len() / 97).max(1);
        for n in (0..full.len()).step_by(step) {
            if let Ok(blobs) = read(&full[..n]) {
                for b in blobs {
                    let _ = parse_header(&b);
                }
            }
        }
        // Flipped bytes all over the file.
        for i in (0..full.len()).step_by(step) {
            let mut bad = full.clone();
            bad[i] ^= 0xa5;
            if let Ok(blobs) = read(&bad) {
                for b in blobs {
                    let _ = parse_header(&b);
                }
            }
        }
    }
}

fn image_with(os_release: &str, path: &str, db: Vec<u8>) -> ImageScan {
    let l = vec![
        Entry::file("etc/os-release", os_release),
        Entry::file(path, db),
    ];
    let img = BuiltImage::new(
        vec![(layer_tar(&l).unwrap(), Compression::Gzip)],
        serde_json::json!({"User": "1001"}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    img.write_oci_layout(dir.path(), None).unwrap();
    scan_reference(
        &format!("oci:{}", dir.path().display()),
        &ScanOptions::default(),
    )
    .unwrap()
}

#[test]
fn images_with_each_database() {
    let ubi = image_with(
        "ID=\"rhel\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 9.4 (Plow)\"\n",
        "var/lib/rpm/rpmdb.sqlite",
        fixture("rpmdb.sqlite"),
    );
    assert!(ubi.errors.is_empty(), "{:?}", ubi.errors);
    let rpms: Vec<_> = ubi
        .inventory
        .packages
        .iter()
        .filter(|p| p.kind == PackageType::Rpm)
        .collect();
    assert_eq!(rpms.len(), 3);
    let demo = rpms.iter().find(|p| p.name == "palisade-demo").unwrap();
    assert_eq!(demo.version, "2:1.2.3-4.el9");
    assert_eq!(demo.ecosystem, "Red Hat:9");
    assert_eq!(demo.source_name.as_deref(), Some("palisade-demo"));
    // The binary's epoch: OSV's RPM ranges compare `EPOCH:VERSION-RELEASE`.
    assert_eq!(demo.source_version.as_deref(), Some("2:1.2.3-4.el9"));
    assert_eq!(demo.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(
        demo.purl,
        "pkg:rpm/redhat/palisade-demo@1.2.3-4.el9?arch=noarch&distro=rhel-9.4&epoch=2&upstream=palisade-demo-1.2.3-4.el9.src.rpm"
    );
    assert_eq!(demo.path, "var/lib/rpm/rpmdb.sqlite");
    let tilde = rpms.iter().find(|p| p.name == "libfoo-devel").unwrap();
    assert_eq!(tilde.version, "0.9~rc1-1.fc40");
    // The SBOMs carry them: CycloneDX valid against the 1.6 schema, SPDX with the purl.
    let stamp = palisade_image::sbom::Stamp::default();
    let cdx: serde_json::Value = serde_json::from_str(&palisade_image::sbom::render(
        &ubi,
        palisade_image::sbom::Format::CycloneDx,
        &stamp,
    ))
    .unwrap();
    assert!(
        cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["purl"] == demo.purl.as_str())
    );
    common::cyclonedx_validator(|v| {
        let errors: Vec<String> = v.iter_errors(&cdx).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    });
    let spdx = palisade_image::sbom::render(&ubi, palisade_image::sbom::Format::Spdx, &stamp);
    assert!(spdx.contains(&demo.purl));

    let al2 = image_with(
        "ID=\"amzn\"\nVERSION_ID=\"2\"\n",
        "var/lib/rpm/Packages",
        fixture("Packages"),
    );
    assert!(al2.errors.is_empty(), "{:?}", al2.errors);
    assert_eq!(al2.inventory.packages.len(), 3);
    assert!(
        al2.inventory.packages[0]
            .purl
            .starts_with("pkg:rpm/amazon/")
    );

    let suse = image_with(
        "ID=\"opensuse-leap\"\nVERSION_ID=\"15.6\"\n",
        "usr/lib/sysimage/rpm/Packages.db",
        fixture("Packages.db"),
    );
    assert!(suse.errors.is_empty(), "{:?}", suse.errors);
    assert_eq!(suse.inventory.packages.len(), 3);
    assert_eq!(suse.inventory.packages[0].ecosystem, "openSUSE:Leap 15.6");
}

#[test]
fn a_broken_database_is_an_error_naming_it() {
    let mut db = fixture("Packages.db");
    db.truncate(5000);
    let s = image_with("ID=fedora\nVERSION_ID=40\n", "var/lib/rpm/Packages.db", db);
    let e = s.errors.iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("var/lib/rpm/Packages.db") && e[0].contains("rpm database"),
        "{e:?}"
    );
    // The OS is still known.
    assert_eq!(s.inventory.os.as_ref().unwrap().id, "fedora");
}
