//! The scan driver: detection, dispatch to format readers, and turning pickle emulation
//! reports into findings.

use std::collections::BTreeMap;
use std::io::{Chain, Cursor, Read};
use std::path::PathBuf;

use crate::ScanOptions;
use crate::detect::{self, Format};
use crate::finding::{ModelFinding, Severity};
use crate::formats;
use crate::pickle::classify::{Verdict, classify};
use crate::pickle::input::Input;
use crate::pickle::vm::{self, ImportOp, PickleReport};
use crate::rules::{self, RuleMeta};
use crate::source::{Limited, Src};

/// Where in the file we are: the member path through archives, and the nesting depth.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loc {
    pub member: Option<String>,
    pub depth: u32,
}

impl Loc {
    pub(crate) fn child(&self, name: &str) -> Loc {
        Loc {
            member: Some(match &self.member {
                Some(m) => format!("{m}!/{name}"),
                None => name.to_string(),
            }),
            depth: self.depth + 1,
        }
    }
}

pub(crate) struct Ctx<'o> {
    pub opts: &'o ScanOptions,
    pub file: PathBuf,
    pub findings: Vec<ModelFinding>,
    /// Decompressed bytes still allowed for this file (shared by all nested members).
    pub budget: u64,
    pub members: usize,
}

impl<'o> Ctx<'o> {
    pub(crate) fn new(opts: &'o ScanOptions, file: PathBuf) -> Self {
        Ctx {
            opts,
            file,
            findings: Vec::new(),
            budget: opts.max_total_decompressed,
            members: 0,
        }
    }

    pub(crate) fn add(
        &mut self,
        rule: &RuleMeta,
        severity: Severity,
        loc: &Loc,
        format: &'static str,
        offset: Option<u64>,
        message: impl Into<String>,
    ) -> &mut ModelFinding {
        let message = message.into();
        // The same problem reported twice at one place (a Keras config stored twice in an
        // HDF5 file) is one finding.
        if let Some(i) = self
            .findings
            .iter()
            .position(|f| f.code == rule.code && f.member == loc.member && f.message == message)
        {
            return &mut self.findings[i];
        }
        self.findings.push(ModelFinding {
            code: rule.code,
            rule: rule.name,
            severity,
            message,
            file: self.file.clone(),
            member: loc.member.clone(),
            offset,
            format,
            callable: None,
            call_chain: None,
            atlas: rule.atlas,
        });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }

    pub(crate) fn unscanned(
        &mut self,
        loc: &Loc,
        format: &'static str,
        message: impl Into<String>,
    ) {
        let m = rules::UnscannedContent::META;
        self.add(&m, m.severity, loc, format, None, message);
    }

    pub(crate) fn anomaly(
        &mut self,
        loc: &Loc,
        format: &'static str,
        offset: Option<u64>,
        message: impl Into<String>,
    ) {
        let m = rules::ArchiveAnomaly::META;
        self.add(&m, m.severity, loc, format, offset, message);
    }
}

/// Scans a byte source whose format is not known yet.
pub(crate) fn scan_src(ctx: &mut Ctx<'_>, loc: &Loc, name: &str, src: Src<'_>) {
    if loc.depth > ctx.opts.max_depth {
        ctx.unscanned(
            loc,
            "archive",
            format!(
                "nesting deeper than {} levels not scanned",
                ctx.opts.max_depth
            ),
        );
        return;
    }
    let head = src.read_vec(0, 1024).unwrap_or_default();
    let fmt = detect::detect(&head, src.len(), name);
    check_extension(ctx, loc, name, fmt);
    match fmt {
        Format::Pickle | Format::TorchLegacy => {
            let label = if fmt == Format::TorchLegacy {
                "pytorch-legacy"
            } else {
                "pickle"
            };
            scan_pickle_reader(ctx, loc, label, src.reader(), 0, fmt == Format::TorchLegacy);
        }
        Format::Zip => formats::archive::scan_zip(ctx, loc, name, src),
        Format::Tar => formats::archive::scan_tar(ctx, loc, src.reader(), Some(src)),
        Format::Gzip | Format::Bzip2 | Format::Xz | Format::Lzma | Format::Lz4 | Format::Zlib => {
            formats::archive::scan_compressed(ctx, loc, name, fmt, src.reader())
        }
        Format::Zstd => ctx.unscanned(loc, "zstd", "zstd-compressed content is not scanned"),
        Format::SevenZip => formats::archive::scan_7z(ctx, loc, src),
        Format::Npy => formats::numpy::scan_npy(ctx, loc, src),
        Format::Hdf5 => formats::keras::scan_hdf5(ctx, loc, src),
        Format::Safetensors => formats::safetensors::scan(ctx, loc, src),
        Format::Gguf => formats::gguf::scan(ctx, loc, src),
        Format::Onnx => formats::onnx::scan(ctx, loc, src),
        Format::SavedModel => formats::savedmodel::scan(ctx, loc, src),
        Format::Unknown => {
            let lower = name.to_ascii_lowercase();
            if lower.ends_with("config.json")
                && src.len() < 64 * 1024 * 1024
                && let Ok(data) = src.read_vec(0, src.len())
            {
                formats::keras::scan_config_json(ctx, loc, &data);
                formats::hf::scan_config_json(ctx, loc, &data);
            }
        }
    }
}

/// Scans a sequential stream (decompressed data). Pickles and tars are streamed; other
/// formats are read into memory within the decompression budget.
pub(crate) fn scan_stream(ctx: &mut Ctx<'_>, loc: &Loc, name: &str, reader: &mut dyn Read) {
    let limit = ctx.budget.min(ctx.opts.max_member_size);
    let mut lim = Limited::new(reader, limit);
    let mut head = vec![0u8; 1024];
    let mut n = 0;
    while n < head.len() {
        match lim.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => break,
        }
    }
    head.truncate(n);
    let fmt = detect::detect(&head, u64::MAX, name);
    let chained: Chain<Cursor<Vec<u8>>, &mut Limited<&mut dyn Read>> =
        Cursor::new(head).chain(&mut lim);
    match fmt {
        Format::Pickle | Format::TorchLegacy => {
            let label = if fmt == Format::TorchLegacy {
                "pytorch-legacy"
            } else {
                "pickle"
            };
            scan_pickle_reader(ctx, loc, label, chained, 0, fmt == Format::TorchLegacy);
        }
        Format::Tar => formats::archive::scan_tar(ctx, loc, chained, None),
        Format::Gzip | Format::Bzip2 | Format::Xz | Format::Lzma | Format::Lz4 | Format::Zlib
            if loc.depth < ctx.opts.max_depth =>
        {
            formats::archive::scan_compressed(ctx, loc, name, fmt, chained)
        }
        Format::Unknown if !name.to_ascii_lowercase().ends_with("config.json") => {
            // Nothing in an unrecognised stream can run on load: do not decompress the rest.
        }
        _ => {
            let mut data = Vec::new();
            let mut chained = chained;
            let res = chained.read_to_end(&mut data);
            if res.is_err() && !data.is_empty() {
                ctx.unscanned(
                    loc,
                    fmt.name(),
                    format!(
                        "content beyond {} decompressed bytes not scanned",
                        data.len()
                    ),
                );
            }
            scan_src(ctx, loc, name, Src::Mem(&data));
        }
    }
    ctx.budget = ctx.budget.saturating_sub(lim.consumed);
    if lim.exceeded {
        ctx.unscanned(
            loc,
            fmt.name(),
            format!("decompressed size limit of {limit} bytes reached; the rest is not scanned"),
        );
    }
}

fn check_extension(ctx: &mut Ctx<'_>, loc: &Loc, name: &str, fmt: Format) {
    let ext = detect::extension(name);
    let expected: &[Format] = match ext.as_str() {
        "safetensors" => &[Format::Safetensors],
        "gguf" => &[Format::Gguf],
        "npy" => &[Format::Npy],
        "npz" | "keras" => &[Format::Zip],
        "h5" | "hdf5" => &[Format::Hdf5],
        "onnx" => &[Format::Onnx],
        "pkl" | "pickle" => &[Format::Pickle, Format::TorchLegacy],
        "pt" | "pth" | "ckpt" => &[Format::Zip, Format::TorchLegacy, Format::Tar],
        "joblib" => &[
            Format::Pickle,
            Format::Zlib,
            Format::Gzip,
            Format::Bzip2,
            Format::Xz,
            Format::Lzma,
            Format::Lz4,
        ],
        _ => return,
    };
    if fmt != Format::Unknown && !expected.contains(&fmt) {
        let m = rules::FormatMismatch::META;
        ctx.add(
            &m,
            m.severity,
            loc,
            fmt.name(),
            None,
            format!(
                "`.{ext}` file holds {} content; scanned as {}",
                fmt.name(),
                fmt.name()
            ),
        );
    }
}

/// A stream that did not parse at all is not a pickle (a text file that starts with `c`).
fn is_garbage(r: &PickleReport) -> bool {
    r.fatal.is_some()
        && r.ops < 4
        && !r
            .imports
            .iter()
            .any(|i| i.resolved && valid_name(&i.module, &i.name))
}

fn valid_name(module: &str, name: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|p| {
                !p.is_empty()
                    && !p.starts_with(|c: char| c.is_ascii_digit())
                    && p.chars().all(|c| c == '_' || c.is_alphanumeric())
            })
    };
    ok(module) && ok(name)
}

fn plausible_stream_start(b: u8) -> bool {
    b == 0x80 || b"(c]}".contains(&b)
}

/// Emulates the pickle stream(s) of `reader` and reports. Returns false when the content
/// turned out not to be a pickle at all.
pub(crate) fn scan_pickle_reader<R: Read>(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    reader: R,
    base: u64,
    legacy: bool,
) -> bool {
    let mut input = Input::new(reader, base);
    let mut streams = 0u32;
    loop {
        let report = vm::run_stream(&mut input, &ctx.opts.vm, 0);
        streams += 1;
        if streams == 1 && is_garbage(&report) {
            return false;
        }
        if streams > 1
            && !report.clean()
            && !report
                .imports
                .iter()
                .any(|i| valid_name(&i.module, &i.name))
        {
            // Bytes after the last STOP that are not a pickle: legacy PyTorch storages, or
            // trailing data that no unpickler reads.
            if !legacy {
                let m = rules::MalformedPickle::META;
                ctx.add(
                    &m,
                    Severity::Info,
                    loc,
                    format,
                    Some(report.start),
                    "data after the final STOP opcode is not a pickle stream",
                );
            }
            break;
        }
        report_pickle(ctx, loc, format, &report, 0);
        if !report.stopped || streams >= 64 {
            break;
        }
        match input.peek() {
            Ok(Some(b)) if plausible_stream_start(b) => continue,
            Ok(Some(_)) => {
                if !legacy {
                    let m = rules::MalformedPickle::META;
                    ctx.add(
                        &m,
                        Severity::Info,
                        loc,
                        format,
                        Some(input.pos()),
                        "data after the final STOP opcode is not a pickle stream",
                    );
                }
                break;
            }
            _ => break,
        }
    }
    true
}

/// What one pickle stream imports, classified: (severity, callable, reason, import index).
fn classified(ctx: &Ctx<'_>, report: &PickleReport) -> Vec<(Severity, String, String, usize)> {
    let mut out = Vec::new();
    for (i, imp) in report.imports.iter().enumerate() {
        if !imp.resolved {
            out.push((
                Severity::High,
                imp.full_name(),
                "import target cannot be resolved statically".to_string(),
                i,
            ));
            continue;
        }
        if imp.op == ImportOp::Ext {
            out.push((
                Severity::Medium,
                imp.full_name(),
                "an extension code whose target only the loading program knows".into(),
                i,
            ));
            continue;
        }
        if !valid_name(&imp.module, &imp.name) {
            continue;
        }
        match classify(&imp.module, &imp.name, &ctx.opts.import_policy) {
            Verdict::Dangerous(reason) => {
                out.push((Severity::Critical, imp.full_name(), reason.into_owned(), i))
            }
            Verdict::Unknown => out.push((
                Severity::Medium,
                imp.full_name(),
                "not on the allowlist".into(),
                i,
            )),
            Verdict::Safe => {}
        }
    }
    out
}

/// Turns one stream's emulation report into findings.
pub(crate) fn report_pickle(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    report: &PickleReport,
    nest: u32,
) {
    // One finding per distinct callable, at its first offset, with the outermost call chain.
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    for (sev, callable, reason, idx) in classified(ctx, report) {
        if seen.insert(callable.clone(), ()).is_some() {
            continue;
        }
        let imp = &report.imports[idx];
        let count = report
            .imports
            .iter()
            .filter(|i| i.full_name() == callable)
            .count();
        let times = if count > 1 {
            format!(" ({count} times)")
        } else {
            String::new()
        };
        let (meta, message) = if !imp.resolved {
            (
                rules::UnresolvedPickleCall::META,
                format!("imports `{callable}`: {reason}{times}"),
            )
        } else if imp.op == ImportOp::Sweep {
            (
                rules::DangerousPickleImport::META,
                format!("`{callable}` found in bytes after a parse error: {reason}"),
            )
        } else if sev == Severity::Critical {
            (
                rules::DangerousPickleImport::META,
                format!("imports `{callable}`, which {reason}{times}"),
            )
        } else if imp.op == ImportOp::Ext {
            (
                rules::UnknownPickleImport::META,
                format!(
                    "imports extension code {} from the copyreg registry (target unknown){times}",
                    imp.name
                ),
            )
        } else {
            (
                rules::UnknownPickleImport::META,
                format!("imports `{callable}`, which is {reason}{times}"),
            )
        };
        let chain = imp.chain.clone();
        let f = ctx.add(&meta, sev, loc, format, Some(imp.offset), message);
        f.callable = Some(callable);
        f.call_chain = chain;
    }
    if let Some(first) = report.unresolved_calls.first() {
        let m = rules::UnresolvedPickleCall::META;
        let n = report.unresolved_calls.len();
        let f = ctx.add(
            &m,
            m.severity,
            loc,
            format,
            Some(first.offset),
            format!("{n} call(s) of a callable that cannot be resolved statically"),
        );
        f.call_chain = Some(first.rendering.clone());
    }
    for b in &report.global_builds {
        let m = rules::PickleGlobalStateOverwrite::META;
        let callable = b
            .import
            .and_then(|i| report.imports.get(i))
            .map(|i| i.full_name());
        let f = ctx.add(
            &m,
            m.severity,
            loc,
            format,
            Some(b.offset),
            format!(
                "BUILD sets attributes on the imported global `{}`",
                callable.clone().unwrap_or_default()
            ),
        );
        f.callable = callable;
        f.call_chain = Some(b.rendering.clone());
    }
    let problems: Vec<_> = report.anomalies.iter().chain(report.fatal.iter()).collect();
    if !problems.is_empty() {
        let m = rules::MalformedPickle::META;
        let first = problems[0];
        let mut msg = match &report.fatal {
            Some(f) => format!(
                "stream stops being parseable at offset {}: {}",
                f.offset, f.message
            ),
            None => format!("stream is inconsistent: {}", first.message),
        };
        if problems.len() > 1 {
            // With a fatal error, `first` is an earlier anomaly the message has not named yet.
            msg.push_str(&match &report.fatal {
                Some(_) => format!(
                    " ({} problems; the first at offset {}: {})",
                    problems.len(),
                    first.offset,
                    first.message
                ),
                None => format!(" ({} problems in all)", problems.len()),
            });
        }
        ctx.add(&m, m.severity, loc, format, Some(first.offset), msg);
    }
    for emb in &report.embedded {
        report_embedded(ctx, loc, format, emb, nest);
    }
}

fn report_embedded(
    ctx: &mut Ctx<'_>,
    loc: &Loc,
    format: &'static str,
    emb: &vm::Embedded,
    nest: u32,
) {
    if nest >= ctx.opts.max_depth {
        return;
    }
    let inner = vm::emulate(&emb.data, 0, &ctx.opts.vm);
    if !inner.clean() && !inner.imports.iter().any(|i| valid_name(&i.module, &i.name)) {
        return; // not a pickle after all
    }
    // The inner stream is data: classify what it would do if someone unpickled it.
    let mut sub = Ctx::new(ctx.opts, ctx.file.clone());
    report_pickle(&mut sub, loc, format, &inner, nest + 1);
    let worst = sub
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    let severity = match worst {
        Severity::Critical | Severity::High => Severity::High,
        Severity::Medium => Severity::Medium,
        _ => Severity::Low,
    };
    let callables: Vec<String> = sub
        .findings
        .iter()
        .filter_map(|f| f.callable.clone())
        .take(5)
        .collect();
    let enc = match emb.encoding {
        vm::Encoding::Raw => "raw bytes",
        vm::Encoding::Hex => "a hex string",
        vm::Encoding::Base64 => "a base64 string",
    };
    let what = if callables.is_empty() {
        "it only holds data".to_string()
    } else {
        format!(
            "unpickling it would import {}",
            callables
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let m = rules::NestedPickle::META;
    let chain = sub.findings.iter().find_map(|f| f.call_chain.clone());
    let f = ctx.add(
        &m,
        severity,
        loc,
        format,
        Some(emb.offset),
        format!(
            "a {}-byte pickle is embedded as {enc}; {what}",
            emb.data.len()
        ),
    );
    f.callable = callables.first().cloned();
    f.call_chain = chain;
}
