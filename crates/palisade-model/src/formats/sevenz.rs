//! 7z archives, read with `sevenz-rust2` under a dictionary memory limit. A 7z file holding
//! a pickle is how nullifAI-style payloads travelled past scanners that skip unknown
//! containers.

use std::io::Read;

use sevenz_rust2::{ArchiveReader, Password};

use crate::scan::{self, Ctx, Loc};
use crate::source::{Limited, Src};

/// Decoder dictionaries above this are refused (a 7z header can ask for 4 GiB).
const MEMORY_LIMIT_KB: usize = 256 * 1024;

pub(crate) fn scan(ctx: &mut Ctx<'_>, loc: &Loc, src: Src<'_>) {
    let mut reader = match ArchiveReader::new_with_memory_limit(
        src.reader(),
        Password::empty(),
        MEMORY_LIMIT_KB,
    ) {
        Ok(r) => r,
        Err(e) => {
            ctx.unscanned(loc, "7z", format!("7z archive could not be opened: {e}"));
            return;
        }
    };
    reader.set_thread_count(1);
    let result = reader.for_each_entries(|entry, data| {
        if entry.is_directory || !entry.has_stream {
            return Ok(true);
        }
        ctx.members += 1;
        if ctx.members > ctx.opts.max_members {
            return Ok(false);
        }
        let name = entry.name().to_string();
        let child = loc.child(&name);
        if super::archive::escapes(&name) {
            ctx.anomaly(
                &child,
                "7z",
                None,
                "member path escapes the extraction directory",
            );
        }
        let limit = ctx.budget.min(ctx.opts.max_member_size);
        let mut lim = Limited::new(data, limit);
        let mut buf = Vec::new();
        let res = lim.read_to_end(&mut buf);
        ctx.budget = ctx.budget.saturating_sub(buf.len() as u64);
        if res.is_err() {
            ctx.unscanned(
                &child,
                "7z",
                format!("member larger than the limit of {limit} bytes; only its start is scanned"),
            );
        }
        scan::scan_src(ctx, &child, &name, Src::Mem(&buf));
        Ok(res.is_ok())
    });
    if let Err(e) = result {
        ctx.unscanned(
            loc,
            "7z",
            format!("7z archive could not be fully read: {e}"),
        );
    }
}
