//! Writes a small demo image (root user, SSH exposed, a token in Env, a malicious pickle,
//! dpkg and Python packages) as an OCI layout and a `docker save` archive:
//! `cargo run -p palisade-image --example build_demo -- OUT_DIR`.

use palisade_image::build::{BuiltImage, Entry, layer_tar};
use palisade_image::decode::Compression;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "demo-image".into()),
    );
    std::fs::create_dir_all(&out)?;
    let base = vec![
        Entry::file(
            "etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        ),
        Entry::file(
            "var/lib/dpkg/status",
            "Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n\nPackage: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n",
        ),
    ];
    let app = vec![
        Entry::file(
            "usr/local/lib/python3.11/site-packages/torch-2.1.0.dist-info/METADATA",
            "Name: torch\nVersion: 2.1.0\n",
        ),
        Entry::file(
            "models/classifier.pkl",
            b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.".to_vec(),
        ),
    ];
    let img = BuiltImage::new(
        vec![
            (layer_tar(&base)?, Compression::Gzip),
            (layer_tar(&app)?, Compression::Zstd),
        ],
        serde_json::json!({
            "Env": ["HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"],
            "ExposedPorts": {"22/tcp": {}, "8000/tcp": {}},
            "Cmd": ["uvicorn", "serve:app", "--host", "0.0.0.0"],
        }),
    )?;
    img.write_oci_layout(&out.join("layout"), Some("v1"))?;
    img.write_docker_archive(&out.join("image.tar"), "demo/model-server:v1")?;
    println!("{}", out.display());
    Ok(())
}
