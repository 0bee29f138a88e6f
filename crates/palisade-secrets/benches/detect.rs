//! Throughput of the shared secret detector over text without credentials (the common case:
//! source, configuration, scripts) and over text dense with them.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus(with_secrets: bool) -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0u32;
    while s.len() < 8 << 20 {
        s.push_str(&format!(
            "def handler_{i}(request, task_id={i}):\n    \"\"\"Serve model shard {i}; see https://example.com/docs/{i}.\"\"\"\n    return skip_cache(request.args.get('key_{i}'), AKIA_PREFIX, hf_home)\n\n"
        ));
        if with_secrets && i.is_multiple_of(50) {
            s.push_str(&format!(
                "HF_TOKEN = \"hf_{}\"\n",
                "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7cF0X9"
            ));
        }
        i += 1;
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("secrets");
    for (name, with) in [("clean_text", false), ("text_with_tokens", true)] {
        let data = corpus(with);
        g.throughput(Throughput::Bytes(data.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| palisade_secrets::scan(std::hint::black_box(&data), 1_000_000).len());
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
