//! Signing throughput: blob sign/verify (MiB/s, streamed SHA-256 + ECDSA P-256), model-directory
//! signing over a generated multi-file directory (MiB/s hashed), verify latency of a small blob,
//! and key decryption (scrypt N=2^15, cosign's cost).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use palisade_sign::model::{self, Method, Options};
use palisade_sign::{SigningKey, blob};

/// A model-like directory: a few large weight shards, many small files.
fn corpus(dir: &std::path::Path) -> u64 {
    let mut total = 0u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |n: usize| {
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect::<Vec<u8>>()
    };
    std::fs::create_dir_all(dir.join("tokenizer")).unwrap();
    for i in 0..4 {
        let b = bytes(16 << 20);
        total += b.len() as u64;
        std::fs::write(dir.join(format!("model-{i:05}-of-00004.safetensors")), b).unwrap();
    }
    for i in 0..200 {
        let b = bytes(4096);
        total += b.len() as u64;
        std::fs::write(dir.join(format!("tokenizer/part-{i}.json")), b).unwrap();
    }
    total
}

fn bench(c: &mut Criterion) {
    let key = SigningKey::generate().unwrap();
    let pk = key.public_key();
    let tmp = tempfile::tempdir().unwrap();

    let blob_path = tmp.path().join("blob.bin");
    std::fs::write(&blob_path, vec![0x5au8; 64 << 20]).unwrap();
    let sig = blob::sign_file(&key, &blob_path).unwrap().to_base64();
    let mut g = c.benchmark_group("blob-64MiB");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Bytes(64 << 20));
    g.bench_function("sign", |b| {
        b.iter(|| blob::sign_file(&key, black_box(&blob_path)).unwrap())
    });
    g.bench_function("verify", |b| {
        b.iter(|| blob::verify_file(&pk, black_box(&blob_path), "sig", sig.as_bytes()).unwrap())
    });
    g.finish();

    let small = blob::sign_bytes(&key, b"payload").unwrap().to_base64();
    c.bench_function("verify-latency-small-blob", |b| {
        b.iter(|| blob::verify_bytes(&pk, black_box(b"payload"), "sig", small.as_bytes()).unwrap())
    });

    let model_dir = tmp.path().join("model");
    let total = corpus(&model_dir);
    let mut g = c.benchmark_group("model-64MiB-204-files");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Bytes(total));
    g.bench_function("sign-files", |b| {
        b.iter(|| model::sign(&key, &model_dir, &Options::default(), None).unwrap())
    });
    g.bench_function("sign-shards-1MB", |b| {
        b.iter(|| {
            model::sign(
                &key,
                &model_dir,
                &Options {
                    method: Method::Shards(1_000_000),
                    ..Options::default()
                },
                None,
            )
            .unwrap()
        })
    });
    let (bundle, _) = model::sign(&key, &model_dir, &Options::default(), None).unwrap();
    let json = bundle.to_json().unwrap();
    g.bench_function("verify-files", |b| {
        b.iter(|| model::verify(&pk, &model_dir, "sig", json.as_bytes(), &[]).unwrap())
    });
    g.finish();

    let pem = key
        .to_encrypted_pem(b"pw", palisade_sign::keys::SCRYPT_LOG_N)
        .unwrap();
    let mut g = c.benchmark_group("keys");
    g.sample_size(10);
    g.bench_function("decrypt-cosign-key-scrypt-2^15", |b| {
        b.iter(|| SigningKey::from_pem("k", black_box(&pem), || Ok(b"pw".to_vec())).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
