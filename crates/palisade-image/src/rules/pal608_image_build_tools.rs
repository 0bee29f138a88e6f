use crate::rules::ViewCtx;
use crate::surface::Tool;

palisade_policy::declare_rule! {
    /// ## What it does
    /// Reports compilers and build tools (`gcc`, `g++`, `cc`, `clang`, `rustc`, `go`,
    /// `nvcc`, `make`, `cmake`, `ld`, …) and debuggers and tracers (`gdb`, `strace`,
    /// `ltrace`, `perf`, `valgrind`, `tcpdump`, …) on the `PATH` of the image's final
    /// filesystem: one finding per category, naming each tool and where it is. This is the
    /// image-side twin of the Dockerfile rule `build-tools-in-final-image` (PAL504), which
    /// sees the `apt-get install`; this one sees what the image really holds, whatever
    /// installed it.
    ///
    /// ## Why is this bad?
    /// An intruder with code execution builds and runs their own tools with a compiler, and
    /// inspects or injects into other processes with a debugger. They also add hundreds of
    /// megabytes and hundreds of packages whose vulnerabilities the image then carries.
    ///
    /// ## Example
    /// ```dockerfile
    /// FROM python:3.11
    /// RUN apt-get update && apt-get install -y build-essential && pip install -r requirements.txt
    /// ```
    ///
    /// ## Fix
    /// Build in a separate stage and `COPY --from=build` only the wheels or binaries into a
    /// slim or distroless final stage.
    pub static RULE = {
        code: "PAL608",
        name: "image-build-tools",
        family: "image",
        severity: Low,
        summary: "Final images should not contain compilers or debuggers",
        references: [
            Nist "SP 800-190 4.1.2" "https://csrc.nist.gov/publications/detail/sp/800-190/final",
            Cis "Docker 4.3" "https://www.cisecurity.org/benchmark/docker",
        ],
    };
}

fn report(cx: &mut ViewCtx<'_>, tools: &[Tool], what: &str) {
    let Some(first) = tools.first() else {
        return;
    };
    let list: Vec<String> = tools
        .iter()
        .map(|t| format!("{} (/{})", t.name, t.path))
        .collect();
    cx.report(
        &RULE,
        first.layer,
        &first.path,
        0,
        0,
        format!(
            "the final image has {what}: {}; build in another stage and copy only the result",
            list.join(", ")
        ),
    );
}

pub(crate) fn check(cx: &mut ViewCtx<'_>) {
    let surface = cx.surface;
    report(cx, &surface.compilers, "compilers and build tools");
    report(cx, &surface.debuggers, "debuggers and tracers");
}
