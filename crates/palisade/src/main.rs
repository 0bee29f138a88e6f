// Scanning builds a tree of small nodes per document and a few strings per finding; mimalloc's
// thread-local free lists make those allocations several times cheaper than glibc's malloc
// (see the scan_throughput bench), and the admission webhook's per-request work likewise.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    palisade::cli::main()
}
