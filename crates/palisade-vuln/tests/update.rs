//! `db update` against a local HTTP server started in the test: a clean download, an
//! interrupted download resumed with `Range`, a corrupt archive and a wrong MD5 rejected with
//! the old database still usable.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use md5::Digest;
use palisade_vuln::update::{UpdateOptions, update};
use palisade_vuln::{Database, Package, match_packages};

#[derive(Clone, Default)]
struct Behaviour {
    body: Vec<u8>,
    /// Send only this many body bytes of a full (200) response, then close.
    cut_first_at: Option<usize>,
    md5_header: Option<Vec<u8>>,
}

struct Server {
    url: String,
    state: Arc<Mutex<(Behaviour, Vec<String>)>>,
}

fn serve(b: Behaviour) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(Mutex::new((b, Vec::new())));
    let st = state.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut lines = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                lines.push(line.trim_end().to_string());
            }
            let mut guard = st.lock().unwrap();
            guard.1.push(lines.join("\n"));
            let (beh, _) = &mut *guard;
            let range = lines
                .iter()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("range: bytes=")
                        .map(|r| r.trim_end_matches('-').to_string())
                })
                .and_then(|s| s.parse::<usize>().ok());
            let if_range_ok = lines
                .iter()
                .any(|l| l.eq_ignore_ascii_case("if-range: \"v1\""));
            let total = beh.body.len();
            let mut head = String::new();
            let body: Vec<u8> = match range {
                Some(start) if if_range_ok && start < total => {
                    head.push_str(&format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\nContent-Length: {}\r\n",
                        total - 1,
                        total - start
                    ));
                    beh.body[start..].to_vec()
                }
                _ => {
                    head.push_str(&format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n"));
                    match beh.cut_first_at.take() {
                        Some(n) => beh.body[..n].to_vec(),
                        None => beh.body.clone(),
                    }
                }
            };
            head.push_str("ETag: \"v1\"\r\nConnection: close\r\n");
            if let Some(m) = &beh.md5_header {
                head.push_str(&format!(
                    "x-goog-hash: crc32c=AAAAAA==, md5={}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(m)
                ));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        }
    });
    Server { url, state }
}

fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, text) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn advisory(id: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","modified":"2026-01-01T00:00:00Z","summary":"{id} test",
        "affected":[{{"package":{{"ecosystem":"PyPI","name":"torch"}},
        "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

/// A large-enough archive (incompressible padding) so a cut really interrupts the body.
fn big_zip(id: &str) -> Vec<u8> {
    let mut files: Vec<(String, String)> = vec![(format!("{id}.json"), advisory(id, "2.0"))];
    let mut seed = 0x2545_f491u64;
    for i in 0..40 {
        let mut s = String::new();
        for _ in 0..2000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            s.push(char::from(b'a' + (seed % 26) as u8));
        }
        files.push((format!("PAD-{i}.json"), format!(r#"{{"id":"PAD-{i}","summary":"{s}","affected":[{{"package":{{"ecosystem":"PyPI","name":"pad{i}"}},"versions":["1.0"]}}]}}"#)));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    zip_of(&refs)
}

fn opts(url: &str, db: &Path) -> UpdateOptions<'static> {
    UpdateOptions {
        base_url: url.to_string(),
        ecosystems: vec!["PyPI".into()],
        db: db.to_path_buf(),
        timeout: Duration::from_secs(20),
        progress: None,
    }
}

fn torch_ids(db: &Path) -> Vec<String> {
    let db = Database::open(db).unwrap();
    let r = match_packages(&db, &[Package::new("PyPI", "torch", "1.0")]).unwrap();
    r.matches.into_iter().map(|m| m.id).collect()
}

#[test]
fn clean_download_then_interrupted_resume() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let body = big_zip("PYSEC-1");
    let md5 = md5::Md5::digest(&body).to_vec();
    let server = serve(Behaviour {
        body: body.clone(),
        cut_first_at: Some(body.len() / 2),
        md5_header: Some(md5),
    });
    // First attempt is cut half-way: an error that says to resume, no database yet.
    let err = update(&opts(&server.url, &db)).unwrap_err().to_string();
    assert!(err.contains("resume"), "{err}");
    assert!(!db.exists());
    let part = dir.path().join("downloads/PyPI-all.zip.part");
    assert_eq!(
        std::fs::metadata(&part).unwrap().len() as usize,
        body.len() / 2
    );
    // Second attempt asks for the rest only.
    let report = update(&opts(&server.url, &db)).unwrap();
    assert_eq!(report.meta.advisories, 41);
    assert_eq!(torch_ids(&db), vec!["PYSEC-1"]);
    let requests = server.state.lock().unwrap().1.clone();
    assert!(requests[0].starts_with("GET /PyPI/all.zip"), "{requests:?}");
    let second = requests[1].to_ascii_lowercase();
    assert!(
        second.contains(&format!("range: bytes={}-", body.len() / 2)),
        "{second}"
    );
    assert!(second.contains("if-range: \"v1\""), "{second}");
    assert!(!part.exists(), "part file renamed and removed");
}

#[test]
fn corrupt_download_is_rejected_and_old_db_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let good = zip_of(&[("PYSEC-OLD.json", &advisory("PYSEC-OLD", "2.0"))]);
    let server = serve(Behaviour {
        body: good,
        ..Behaviour::default()
    });
    update(&opts(&server.url, &db)).unwrap();
    assert_eq!(torch_ids(&db), vec!["PYSEC-OLD"]);

    // A zip whose member data was damaged in transit: the CRC check fails the import.
    let mut bad = zip_of(&[("PYSEC-NEW.json", &advisory("PYSEC-NEW", "3.0").repeat(20))]);
    let mid = 60;
    bad[mid] ^= 0xff;
    bad[mid + 1] ^= 0x55;
    let server = serve(Behaviour {
        body: bad,
        ..Behaviour::default()
    });
    let err = update(&opts(&server.url, &db)).unwrap_err().to_string();
    assert!(err.contains("PyPI-all.zip"), "{err}");
    assert_eq!(
        torch_ids(&db),
        vec!["PYSEC-OLD"],
        "old database still usable"
    );

    // A download whose MD5 does not match the server's x-goog-hash is discarded before import.
    let fresh = zip_of(&[("PYSEC-NEW.json", &advisory("PYSEC-NEW", "3.0"))]);
    let server = serve(Behaviour {
        body: fresh,
        md5_header: Some(vec![0u8; 16]),
        ..Behaviour::default()
    });
    let err = update(&opts(&server.url, &db)).unwrap_err().to_string();
    assert!(err.contains("MD5"), "{err}");
    assert_eq!(torch_ids(&db), vec!["PYSEC-OLD"]);
    // No temporary database left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn http_errors_and_truncated_db_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let err = update(&opts("http://127.0.0.1:9", &db))
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
    // A database file cut short is refused at open with its path in the message.
    let good = zip_of(&[("A.json", &advisory("A", "2.0"))]);
    let src = dir.path().join("all.zip");
    std::fs::write(&src, &good).unwrap();
    palisade_vuln::import::import(&[src], &db).unwrap();
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len() - 10]).unwrap();
    let e = Database::open(&db).unwrap_err().to_string();
    assert!(e.contains("vuln.db"), "{e}");
    std::fs::write(&db, b"hello").unwrap();
    assert!(
        Database::open(&db)
            .unwrap_err()
            .to_string()
            .contains("too short")
    );
    let mut r = Vec::new();
    std::fs::File::open(&db)
        .unwrap()
        .read_to_end(&mut r)
        .unwrap();
}

#[test]
fn a_database_of_another_format_asks_for_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("vuln.db");
    let src = dir.path().join("all.zip");
    std::fs::write(&src, zip_of(&[("A.json", &advisory("A", "2.0"))])).unwrap();
    palisade_vuln::import::import(&[src], &db).unwrap();
    // Format 1 (records as JSON only) is what palisade wrote before the match sections.
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
    std::fs::write(&db, &bytes).unwrap();
    let e = Database::open(&db).unwrap_err().to_string();
    assert!(
        e.contains("vuln.db") && e.contains("database format 1"),
        "{e}"
    );
    assert!(e.contains("reads format 3"), "{e}");
    assert!(
        e.contains("palisade db update") && e.contains("palisade db import"),
        "{e}"
    );
}
