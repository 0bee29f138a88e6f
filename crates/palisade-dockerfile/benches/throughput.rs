//! `cargo bench -p palisade-dockerfile`: throughput of `scan_dockerfile` (parse, tokenise,
//! all rules) over a generated corpus of realistic multi-stage ML Dockerfiles, reported as
//! Dockerfiles/s and MiB/s on one thread. Plain `std::time`: the figure is the median of
//! several passes after a warm-up. The corpus is generated in memory from a fixed seed, so
//! runs are comparable across machines and commits.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Small deterministic generator (xorshift64*), so the corpus needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.next() % items.len() as u64).unwrap_or(0);
        items.get(i).copied().unwrap_or("")
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const BUILD_BASES: &[&str] = &[
    "nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04",
    "pytorch/pytorch:2.3.1-cuda12.1-cudnn8-devel",
    "python:3.11",
    "python:3.11-bookworm@sha256:5c7a4a6b8c2a0fd62e5b8f8e0d0f1e2c3b4a5968778695a4b3c2d1e0f9e8d7c6",
];
const FINAL_BASES: &[&str] = &[
    "nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04",
    "python:3.11-slim",
    "python:3.11-slim-bookworm@sha256:0c9ae7f2b1d5e84e8a7a1c6f3b2e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e",
    "vllm/vllm-openai:v0.6.3",
    "ghcr.io/huggingface/text-generation-inference:2.3.1",
    "pytorch/pytorch:latest",
];
const APT: &[&str] = &[
    "git",
    "curl",
    "ffmpeg",
    "libgl1",
    "libglib2.0-0",
    "build-essential",
    "libssl-dev",
    "ca-certificates",
    "python3-dev",
    "libsndfile1",
    "openssh-server",
    "sudo",
    "gcc",
];
const PIP: &[&str] = &[
    "torch==2.3.1",
    "transformers==4.44.2",
    "accelerate",
    "peft>=0.12",
    "vllm==0.6.3",
    "sentencepiece==0.2.0",
    "bitsandbytes",
    "flash-attn==2.6.3",
    "datasets",
    "safetensors==0.4.5",
    "fastapi==0.115.0",
    "uvicorn[standard]==0.30.6",
    "pydantic",
    "numpy==1.26.4",
];
const MODELS: &[&str] = &[
    "meta-llama/Meta-Llama-3-8B-Instruct",
    "mistralai/Mistral-7B-Instruct-v0.3",
    "BAAI/bge-large-en-v1.5",
    "openai/whisper-large-v3",
];
const SERVE: &[&str] = &[
    "CMD [\"uvicorn\", \"app.main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"8000\"]",
    "ENTRYPOINT [\"python3\", \"-m\", \"vllm.entrypoints.openai.api_server\"]\nCMD [\"--model\", \"/models/llm\", \"--port\", \"8000\"]",
    "CMD gunicorn -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8000 app.main:app",
    "CMD [\"python\", \"-m\", \"app.train\", \"--config\", \"/etc/train.yaml\"]",
    "ENTRYPOINT [\"text-generation-launcher\"]",
];

fn packages(rng: &mut Rng, from: &[&str], n: usize) -> String {
    let mut v: Vec<&str> = (0..n).map(|_| rng.pick(from)).collect();
    v.sort_unstable();
    v.dedup();
    v.join(" \\\n      ")
}

/// One multi-stage ML Dockerfile: a builder with compilers and wheels, optionally a model
/// download stage, and a serving or training final stage.
fn dockerfile(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.chance(30) {
        s.push_str("# syntax=docker/dockerfile:1.7\n");
    }
    let _ = writeln!(
        s,
        "ARG PYTHON_VERSION=3.11\nARG BASE={}\n",
        rng.pick(FINAL_BASES)
    );
    let _ = writeln!(s, "FROM {} AS build", rng.pick(BUILD_BASES));
    s.push_str("ENV DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1\n");
    let n = 3 + usize::try_from(rng.next() % 6).unwrap_or(0);
    let _ = writeln!(
        s,
        "RUN apt-get update \\\n && apt-get install -y {}{} \\\n && rm -rf /var/lib/apt/lists/*",
        if rng.chance(60) {
            "--no-install-recommends "
        } else {
            ""
        },
        packages(rng, APT, n)
    );
    s.push_str("WORKDIR /src\nCOPY requirements.txt pyproject.toml ./\n");
    let _ = writeln!(
        s,
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n    pip wheel --wheel-dir /wheels -r requirements.txt {}",
        if rng.chance(20) {
            "--extra-index-url https://download.pytorch.org/whl/cu121"
        } else {
            ""
        }
    );
    s.push_str("COPY . .\nRUN python -m build --wheel --outdir /wheels .\n\n");
    if rng.chance(50) {
        s.push_str("FROM python:3.11-slim AS models\n");
        s.push_str(
            "RUN pip install --no-cache-dir huggingface_hub[cli]==0.25.1 hf_transfer==0.1.8\n",
        );
        let model = rng.pick(MODELS);
        if rng.chance(50) {
            let _ = writeln!(
                s,
                "RUN --mount=type=secret,id=hf_token,env=HF_TOKEN \\\n    huggingface-cli download {model} --revision 0123456789abcdef0123456789abcdef01234567 --local-dir /models/llm"
            );
        } else {
            let _ = writeln!(
                s,
                "RUN <<EOF\n#!/usr/bin/env python3\nfrom huggingface_hub import snapshot_download\nsnapshot_download(\"{model}\", local_dir=\"/models/llm\")\nEOF"
            );
        }
        s.push('\n');
    }
    s.push_str("FROM ${BASE}\n");
    if rng.chance(40) {
        let _ = writeln!(
            s,
            "ARG HF_TOKEN\nENV HF_HOME=/cache/hf TRANSFORMERS_OFFLINE=1"
        );
    }
    let n = 1 + usize::try_from(rng.next() % 3).unwrap_or(0);
    let _ = writeln!(
        s,
        "RUN apt-get update && apt-get install -y --no-install-recommends {}{}",
        packages(rng, APT, n),
        if rng.chance(70) {
            " && rm -rf /var/lib/apt/lists/*"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "COPY --from=build /wheels /wheels\nRUN pip install {}--no-index /wheels/*.whl && rm -rf /wheels",
        if rng.chance(70) {
            "--no-cache-dir "
        } else {
            ""
        }
    );
    let extra = 1 + usize::try_from(rng.next() % 4).unwrap_or(0);
    let _ = writeln!(
        s,
        "RUN pip install --no-cache-dir {}",
        packages(rng, PIP, extra)
    );
    if rng.chance(15) {
        s.push_str("RUN curl -fsSL https://ollama.com/install.sh | sh\n");
    }
    if s.contains("AS models") {
        s.push_str("COPY --from=models /models /models\n");
    }
    if rng.chance(20) {
        s.push_str("RUN chmod -R 777 /models /cache || true\n");
    }
    s.push_str(
        "RUN useradd --uid 10001 --create-home app && mkdir -p /cache && chown -R 10001:0 /cache\n",
    );
    if rng.chance(75) {
        s.push_str("USER 10001\n");
    }
    s.push_str("EXPOSE 8000\n");
    if rng.chance(50) {
        s.push_str(
            "HEALTHCHECK --interval=30s --timeout=5s --start-period=600s \\\n  CMD curl -fsS http://localhost:8000/health || exit 1\n",
        );
    }
    let _ = writeln!(s, "{}", rng.pick(SERVE));
    s
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let corpus: Vec<String> = (0..5000).map(|_| dockerfile(&mut rng)).collect();
    let bytes: usize = corpus.iter().map(String::len).sum();
    // `DOCKERFILE_CORPUS_DIR=/tmp/x cargo bench …` writes the corpus out, to time other
    // linters (hadolint) on the same files.
    if let Some(dir) = std::env::var_os("DOCKERFILE_CORPUS_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (i, src) in corpus.iter().enumerate() {
            std::fs::write(dir.join(format!("{i:05}.Dockerfile")), src).expect("write corpus");
        }
    }
    let file: Arc<str> = Arc::from("Dockerfile");
    let run = || {
        let mut findings = 0usize;
        for src in &corpus {
            let (f, e) = palisade_dockerfile::scan_dockerfile(&file, src);
            findings += f.len() + e.len();
        }
        findings
    };
    let findings = run(); // warm-up
    let times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(run());
            t.elapsed()
        })
        .collect();
    let t = median(times).as_secs_f64();
    let n = corpus.len() as f64;
    println!(
        "corpus: {} Dockerfiles, {:.2} MiB, {} findings; avg {:.0} lines",
        corpus.len(),
        bytes as f64 / (1024.0 * 1024.0),
        findings,
        corpus.iter().map(|s| s.lines().count()).sum::<usize>() as f64 / n
    );
    println!(
        "scan_dockerfile, one thread: {:.1} ms  {:.0} Dockerfiles/s  {:.1} MiB/s",
        t * 1000.0,
        n / t,
        bytes as f64 / (1024.0 * 1024.0) / t
    );
}
