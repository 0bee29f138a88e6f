//! rpm database reading: 1,000 real header blobs (the fixtures' headers, repeated) as an
//! `rpmdb.sqlite` (written here with SQLite itself) and as an NDB `Packages.db`, then parsed.
//! A RHEL or Amazon Linux image holds 150–600 packages; a full Fedora install about 2,000.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_image::catalog::rpm::{ndb_blobs, parse_header, sqlite_blobs};

const N: usize = 1000;

fn headers() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("resources/test/rpm");
    let db = std::fs::read(dir.join("rpmdb.sqlite")).expect("fixture");
    let base = sqlite_blobs(&db).expect("fixture reads");
    (0..N).map(|i| base[i % base.len()].clone()).collect()
}

fn sqlite_db(blobs: &[Vec<u8>]) -> Vec<u8> {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)",
    )
    .unwrap();
    for b in blobs {
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
            .unwrap();
    }
    conn.serialize(rusqlite::MAIN_DB).unwrap().to_vec()
}

fn ndb_db(blobs: &[Vec<u8>]) -> Vec<u8> {
    let slot_pages = (blobs.len() + 2) * 16 / 4096 + 1;
    let mut head = Vec::new();
    for v in [u32::from_le_bytes(*b"RpmP"), 0, 1, slot_pages as u32] {
        head.extend(v.to_le_bytes());
    }
    head.resize(32, 0);
    let mut slots = Vec::new();
    let mut body = Vec::new();
    let base = slot_pages * 4096;
    for (i, b) in blobs.iter().enumerate() {
        let idx = i as u32 + 1;
        let mut rec = Vec::new();
        for v in [u32::from_le_bytes(*b"BlbS"), idx, 1, b.len() as u32] {
            rec.extend(v.to_le_bytes());
        }
        rec.extend(b);
        rec.extend([0u8; 12]);
        rec.resize(rec.len().div_ceil(16) * 16, 0);
        for v in [
            u32::from_le_bytes(*b"Slot"),
            idx,
            ((base + body.len()) / 16) as u32,
            (rec.len() / 16) as u32,
        ] {
            slots.extend(v.to_le_bytes());
        }
        body.extend(rec);
    }
    while 32 + slots.len() < slot_pages * 4096 {
        slots.extend(u32::from_le_bytes(*b"Slot").to_le_bytes());
        slots.extend([0u8; 12]);
    }
    [head, slots, body].concat()
}

fn bench(c: &mut Criterion) {
    let blobs = headers();
    let sqlite = sqlite_db(&blobs);
    let ndb = ndb_db(&blobs);
    assert_eq!(sqlite_blobs(&sqlite).unwrap().len(), N);
    assert_eq!(ndb_blobs(&ndb).unwrap().len(), N);
    let mut g = c.benchmark_group("rpm");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("sqlite_1000_packages", |b| {
        b.iter(|| {
            sqlite_blobs(&sqlite)
                .unwrap()
                .iter()
                .filter(|h| parse_header(h).is_ok())
                .count()
        });
    });
    g.bench_function("ndb_1000_packages", |b| {
        b.iter(|| {
            ndb_blobs(&ndb)
                .unwrap()
                .iter()
                .filter(|h| parse_header(h).is_ok())
                .count()
        });
    });
    g.bench_function("parse_header_1000", |b| {
        b.iter(|| blobs.iter().filter(|h| parse_header(h).is_ok()).count());
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
