//! A pickle virtual machine that emulates every opcode of protocols 0–5 without importing or
//! calling anything.
//!
//! Values live in an arena owned by the VM (indices, not `Rc`), so adversarial cycles and
//! sharing through the memo cannot leak or blow up memory, and everything is freed when the
//! VM is dropped. Imports become [`Import`] records, calls become nodes that remember their
//! callee and arguments, so the scanner can report the call chain that `pickle.load` would
//! run. Semantic errors (stack underflow, missing memo slot, values of the wrong type) are
//! recorded and emulation continues with an unknown value, because a payload placed after
//! such a trick may still run in another unpickler; byte-level errors (invalid opcode,
//! truncation) end the stream and the remainder is swept for dangerous names.

use std::collections::HashMap;
use std::io::Read;

use super::input::{Input, InputError};

/// Bytes after a fatal parse error that are swept for dangerous names. Unpicklers stop at
/// the error, so this is a best-effort look for payloads a more lenient parser might reach;
/// 1 MiB keeps the cost per stream in milliseconds whatever the bytes are.
const SWEEP_BYTES: usize = 1024 * 1024;

/// Limits that keep emulation bounded on adversarial input.
#[derive(Debug, Clone)]
pub struct VmLimits {
    /// Maximum opcodes per stream.
    pub max_ops: u64,
    /// Maximum values stored in containers, memo and stack (beyond it, values are dropped).
    pub max_values: usize,
    /// Longest protocol-0 text argument.
    pub max_line: usize,
    /// String/bytes values longer than this are stored truncated (names never need more).
    pub keep_value_bytes: usize,
    /// Bytes values up to this size are kept aside when they look like embedded pickles.
    pub max_embedded_bytes: usize,
    /// Total bytes kept for embedded-pickle candidates per stream.
    pub max_embedded_total: usize,
    /// Nesting of streams inside streams (joblib object arrays).
    pub max_depth: u32,
}

impl Default for VmLimits {
    fn default() -> Self {
        VmLimits {
            max_ops: 50_000_000,
            max_values: 4_000_000,
            max_line: 64 * 1024,
            keep_value_bytes: 4096,
            max_embedded_bytes: 64 * 1024 * 1024,
            max_embedded_total: 256 * 1024 * 1024,
            max_depth: 4,
        }
    }
}

/// How an import was expressed in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOp {
    Global,
    StackGlobal,
    Inst,
    Ext,
    /// Found by the sweep of bytes after a fatal parse error.
    Sweep,
}

/// A callable that unpickling would import.
#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub offset: u64,
    pub op: ImportOp,
    /// False when the module or name could not be determined (`?` stands for the unknown part).
    pub resolved: bool,
    /// The outermost call expression that involves this import, rendered.
    pub chain: Option<String>,
}

impl Import {
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

/// A problem in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anomaly {
    pub offset: u64,
    pub message: String,
}

/// How an embedded pickle candidate was encoded inside the outer pickle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Raw,
    Hex,
    Base64,
}

/// Bytes inside the pickle that decode to something that looks like a pickle.
#[derive(Debug, Clone)]
pub struct Embedded {
    pub offset: u64,
    pub encoding: Encoding,
    pub data: Vec<u8>,
}

/// A call whose callee could not be resolved, or a BUILD on an imported global.
#[derive(Debug, Clone)]
pub struct Event {
    pub offset: u64,
    pub rendering: String,
    /// The import involved (index into `imports`), when there is one.
    pub import: Option<usize>,
}

/// Everything learnt from one pickle stream (and the streams nested in it by joblib).
#[derive(Debug, Clone, Default)]
pub struct PickleReport {
    pub imports: Vec<Import>,
    pub calls: u64,
    pub unresolved_calls: Vec<Event>,
    pub global_builds: Vec<Event>,
    pub anomalies: Vec<Anomaly>,
    /// The error that ended the stream, if it did not end with STOP.
    pub fatal: Option<Anomaly>,
    pub embedded: Vec<Embedded>,
    pub protocol: Option<u8>,
    pub ops: u64,
    pub start: u64,
    /// Offset just after the STOP opcode (or where parsing ended).
    pub end: u64,
    pub stopped: bool,
    pub persistent_ids: u64,
    /// Bytes of inline joblib array data skipped.
    pub skipped_array_bytes: u64,
}

impl PickleReport {
    /// True when the stream parsed cleanly to STOP.
    pub fn clean(&self) -> bool {
        self.stopped && self.fatal.is_none()
    }
}

#[derive(Debug, Clone, Copy)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    BigInt,
    Float,
    Str(u32),
    Bytes(u32),
    Node(u32),
    Global(u32),
    Unknown,
}

#[derive(Debug)]
enum Node {
    Tuple(Vec<V>),
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Set(Vec<V>),
    Call {
        callee: V,
        args: V,
        kwargs: Option<V>,
        state: Option<V>,
    },
    PersId(V),
    Buffer,
}

enum Step {
    Continue,
    Stop,
}

pub(crate) struct Vm<'a> {
    limits: &'a VmLimits,
    depth: u32,
    stack: Vec<V>,
    marks: Vec<usize>,
    memo: HashMap<i64, V>,
    strs: Vec<Box<str>>,
    bytes: Vec<Box<[u8]>>,
    nodes: Vec<Node>,
    values: usize,
    embedded_total: usize,
    frame_end: Option<u64>,
    report: PickleReport,
}

/// Emulates one pickle stream from `input` (until STOP or an unrecoverable error).
pub(crate) fn run_stream<R: Read>(
    input: &mut Input<R>,
    limits: &VmLimits,
    depth: u32,
) -> PickleReport {
    let mut vm = Vm::new(limits, depth, input.pos());
    vm.run(input);
    vm.finish()
}

/// Emulates a pickle held in memory. `base` is the offset of `data[0]` in the file.
pub fn emulate(data: &[u8], base: u64, limits: &VmLimits) -> PickleReport {
    let mut input = Input::new(data, base);
    run_stream(&mut input, limits, 0)
}

fn identifier_like(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with(|c: char| c.is_ascii_digit())
                && part.chars().all(|c| c == '_' || c.is_alphanumeric())
        })
}

impl<'a> Vm<'a> {
    fn new(limits: &'a VmLimits, depth: u32, start: u64) -> Self {
        Vm {
            limits,
            depth,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            strs: Vec::new(),
            bytes: Vec::new(),
            nodes: Vec::new(),
            values: 0,
            embedded_total: 0,
            frame_end: None,
            report: PickleReport {
                start,
                end: start,
                ..PickleReport::default()
            },
        }
    }

    fn finish(self) -> PickleReport {
        self.report
    }

    fn anomaly(&mut self, offset: u64, message: impl Into<String>) {
        // A stream with millions of errors is garbage; a few hundred say enough.
        if self.report.anomalies.len() < 256 {
            self.report.anomalies.push(Anomaly {
                offset,
                message: message.into(),
            });
        }
    }

    fn budget(&mut self, n: usize) -> bool {
        if self.values + n > self.limits.max_values {
            return false;
        }
        self.values += n;
        true
    }

    fn push(&mut self, v: V) {
        if self.budget(1) {
            self.stack.push(v);
        } else {
            // Keep stack depth semantics even over budget: the slot is needed for later pops.
            self.stack.push(V::Unknown);
        }
    }

    fn node(&mut self, n: Node) -> V {
        if self.nodes.len() >= self.limits.max_values {
            return V::Unknown;
        }
        self.nodes.push(n);
        V::Node((self.nodes.len() - 1) as u32)
    }

    fn str_value(&mut self, s: &str) -> V {
        let keep = self.limits.keep_value_bytes;
        let s = if s.len() > keep {
            let mut cut = keep;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            &s[..cut]
        } else {
            s
        };
        if self.strs.len() >= self.limits.max_values {
            return V::Unknown;
        }
        self.strs.push(s.into());
        V::Str((self.strs.len() - 1) as u32)
    }

    fn bytes_value(&mut self, b: &[u8]) -> V {
        let keep = self.limits.keep_value_bytes.min(b.len());
        if self.bytes.len() >= self.limits.max_values {
            return V::Unknown;
        }
        self.bytes.push(b[..keep].into());
        V::Bytes((self.bytes.len() - 1) as u32)
    }

    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, off: u64, op: &str) -> V {
        if self.stack.len() > self.base() {
            self.stack.pop().unwrap_or(V::Unknown)
        } else {
            self.anomaly(off, format!("{op}: stack underflow"));
            V::Unknown
        }
    }

    fn top(&mut self, off: u64, op: &str) -> Option<usize> {
        if self.stack.len() > self.base() {
            Some(self.stack.len() - 1)
        } else {
            self.anomaly(off, format!("{op}: stack underflow"));
            None
        }
    }

    fn pop_mark(&mut self, off: u64, op: &str) -> Vec<V> {
        match self.marks.pop() {
            Some(base) => {
                let base = base.min(self.stack.len());
                self.stack.split_off(base)
            }
            None => {
                self.anomaly(off, format!("{op}: no MARK on the stack"));
                Vec::new()
            }
        }
    }

    fn string_of(&self, v: V) -> Option<&str> {
        match v {
            V::Str(i) => self.strs.get(i as usize).map(|s| &**s),
            _ => None,
        }
    }

    fn add_import(&mut self, module: String, name: String, offset: u64, op: ImportOp) -> V {
        let resolved = module != "?" && name != "?";
        if resolved && op != ImportOp::Ext && !(identifier_like(&module) && identifier_like(&name))
        {
            // `find_class` cannot import such a name: loading fails here instead of running code.
            self.anomaly(
                offset,
                format!("import of an invalid name {module:?}.{name:?} (loading would fail)"),
            );
        }
        if self.report.imports.len() >= 100_000 {
            return V::Unknown;
        }
        self.report.imports.push(Import {
            module,
            name,
            offset,
            op,
            resolved,
            chain: None,
        });
        V::Global((self.report.imports.len() - 1) as u32)
    }

    /// Records a call and remembers its rendering on every import it involves.
    fn call(&mut self, off: u64, callee: V, args: V, kwargs: Option<V>) -> V {
        self.report.calls += 1;
        let v = self.node(Node::Call {
            callee,
            args,
            kwargs,
            state: None,
        });
        let mut imports = Vec::new();
        let mut budget = 64usize;
        self.imports_in(v, 0, &mut imports, &mut budget);
        let callee_resolves = self.callee_resolves(callee, 0);
        if !callee_resolves {
            let rendering = self.render_short(v);
            self.report.unresolved_calls.push(Event {
                offset: off,
                rendering,
                import: None,
            });
        }
        if !imports.is_empty() {
            let rendering = self.render_short(v);
            for i in imports {
                if let Some(imp) = self.report.imports.get_mut(i as usize) {
                    imp.chain = Some(rendering.clone());
                }
            }
        }
        v
    }

    /// Whether a callee is something we can name: an import, or the result of a call/attribute
    /// lookup on one. `Unknown` means a memo or stack trick hid it.
    fn callee_resolves(&self, v: V, depth: u32) -> bool {
        if depth > 32 {
            return true;
        }
        match v {
            V::Global(_) => true,
            V::Node(i) => match self.nodes.get(i as usize) {
                Some(Node::Call { callee, .. }) => self.callee_resolves(*callee, depth + 1),
                Some(Node::PersId(_)) => true,
                _ => false,
            },
            V::Unknown => false,
            _ => false,
        }
    }

    fn imports_in(&self, v: V, depth: u32, out: &mut Vec<u32>, budget: &mut usize) {
        if depth > 8 || *budget == 0 {
            return;
        }
        *budget -= 1;
        match v {
            V::Global(i) if !out.contains(&i) => out.push(i),
            V::Node(i) => match self.nodes.get(i as usize) {
                Some(Node::Tuple(items)) | Some(Node::List(items)) | Some(Node::Set(items)) => {
                    for it in items.iter().take(16) {
                        self.imports_in(*it, depth + 1, out, budget);
                    }
                }
                Some(Node::Dict(items)) => {
                    for (k, val) in items.iter().take(16) {
                        self.imports_in(*k, depth + 1, out, budget);
                        self.imports_in(*val, depth + 1, out, budget);
                    }
                }
                Some(Node::Call {
                    callee,
                    args,
                    kwargs,
                    ..
                }) => {
                    self.imports_in(*callee, depth + 1, out, budget);
                    self.imports_in(*args, depth + 1, out, budget);
                    if let Some(k) = kwargs {
                        self.imports_in(*k, depth + 1, out, budget);
                    }
                }
                Some(Node::PersId(p)) => self.imports_in(*p, depth + 1, out, budget),
                _ => {}
            },
            _ => {}
        }
    }

    fn render_short(&self, v: V) -> String {
        let mut s = String::new();
        let mut budget = 48usize;
        self.render(v, 0, &mut s, &mut budget);
        if s.len() > 400 {
            let mut cut = 400;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            s.truncate(cut);
            s.push('…');
        }
        s
    }

    fn render(&self, v: V, depth: u32, out: &mut String, budget: &mut usize) {
        if *budget == 0 || depth > 6 {
            out.push('…');
            return;
        }
        *budget -= 1;
        match v {
            V::None => out.push_str("None"),
            V::Bool(b) => out.push_str(if b { "True" } else { "False" }),
            V::Int(i) => out.push_str(&i.to_string()),
            V::BigInt => out.push_str("<int>"),
            V::Float => out.push_str("<float>"),
            V::Unknown => out.push_str("<?>"),
            V::Str(i) => {
                let s = self.strs.get(i as usize).map(|s| &**s).unwrap_or("");
                push_repr(
                    out,
                    s.chars().take(60).collect::<String>().as_str(),
                    s.len() > 60,
                );
            }
            V::Bytes(i) => {
                let b = self.bytes.get(i as usize).map(|b| &**b).unwrap_or(&[]);
                out.push('b');
                let shown: String = b
                    .iter()
                    .take(24)
                    .map(|&c| {
                        if c.is_ascii_graphic() && c != b'\'' && c != b'\\' {
                            (c as char).to_string()
                        } else {
                            format!("\\x{c:02x}")
                        }
                    })
                    .collect();
                push_repr(out, &shown, b.len() > 24);
            }
            V::Global(i) => match self.report.imports.get(i as usize) {
                Some(imp) => out.push_str(&imp.full_name()),
                None => out.push_str("<global>"),
            },
            V::Node(i) => match self.nodes.get(i as usize) {
                Some(Node::Tuple(items)) => {
                    out.push('(');
                    self.render_seq(items, depth, out, budget);
                    if items.len() == 1 {
                        out.push(',');
                    }
                    out.push(')');
                }
                Some(Node::List(items)) => {
                    out.push('[');
                    self.render_seq(items, depth, out, budget);
                    out.push(']');
                }
                Some(Node::Set(items)) => {
                    out.push('{');
                    self.render_seq(items, depth, out, budget);
                    out.push('}');
                }
                Some(Node::Dict(items)) => {
                    out.push('{');
                    for (n, (k, val)) in items.iter().enumerate() {
                        if n >= 6 {
                            out.push_str(", …");
                            break;
                        }
                        if n > 0 {
                            out.push_str(", ");
                        }
                        self.render(*k, depth + 1, out, budget);
                        out.push_str(": ");
                        self.render(*val, depth + 1, out, budget);
                    }
                    out.push('}');
                }
                Some(Node::Call {
                    callee,
                    args,
                    kwargs,
                    ..
                }) => {
                    self.render(*callee, depth + 1, out, budget);
                    out.push('(');
                    match args {
                        V::Node(a) => match self.nodes.get(*a as usize) {
                            Some(Node::Tuple(items)) => self.render_seq(items, depth, out, budget),
                            _ => {
                                out.push('*');
                                self.render(*args, depth + 1, out, budget);
                            }
                        },
                        other => {
                            out.push('*');
                            self.render(*other, depth + 1, out, budget);
                        }
                    }
                    if let Some(k) = kwargs {
                        out.push_str(", **");
                        self.render(*k, depth + 1, out, budget);
                    }
                    out.push(')');
                }
                Some(Node::PersId(p)) => {
                    out.push_str("persistent_load(");
                    self.render(*p, depth + 1, out, budget);
                    out.push(')');
                }
                Some(Node::Buffer) => out.push_str("<buffer>"),
                None => out.push_str("<?>"),
            },
        }
    }

    fn render_seq(&self, items: &[V], depth: u32, out: &mut String, budget: &mut usize) {
        for (n, it) in items.iter().enumerate() {
            if n >= 6 {
                out.push_str(", …");
                break;
            }
            if n > 0 {
                out.push_str(", ");
            }
            self.render(*it, depth + 1, out, budget);
        }
    }

    fn tuple(&mut self, items: Vec<V>) -> V {
        if !self.budget(items.len()) {
            return self.node(Node::Tuple(Vec::new()));
        }
        self.node(Node::Tuple(items))
    }

    /// Appends to a list/set node on top of the stack (APPEND, APPENDS, ADDITEMS).
    fn extend_container(&mut self, target: V, items: Vec<V>, off: u64, op: &str) {
        match target {
            V::Node(i) => {
                let ok = self.budget(items.len());
                match self.nodes.get_mut(i as usize) {
                    Some(Node::List(v)) | Some(Node::Set(v)) => {
                        if ok {
                            v.extend(items);
                        }
                    }
                    Some(Node::Call { .. }) => {
                        // An object's `extend`/`append` method runs: legal for list subclasses.
                    }
                    _ => self.anomaly(off, format!("{op} on a value that is not a list")),
                }
            }
            V::Unknown => {}
            _ => self.anomaly(off, format!("{op} on a value that is not a list")),
        }
    }

    fn set_items(&mut self, target: V, items: Vec<V>, off: u64, op: &str) {
        if !items.len().is_multiple_of(2) {
            self.anomaly(off, format!("{op}: odd number of items"));
        }
        let pairs: Vec<(V, V)> = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
        match target {
            V::Node(i) => {
                let ok = self.budget(pairs.len() * 2);
                match self.nodes.get_mut(i as usize) {
                    Some(Node::Dict(d)) => {
                        if ok {
                            d.extend(pairs);
                        }
                    }
                    Some(Node::Call { .. }) => {
                        // `__setitem__` of an object (e.g. OrderedDict built by REDUCE).
                    }
                    _ => self.anomaly(off, format!("{op} on a value that is not a dict")),
                }
            }
            V::Unknown => {}
            _ => self.anomaly(off, format!("{op} on a value that is not a dict")),
        }
    }

    fn memo_get(&mut self, key: i64, off: u64, op: &str) -> V {
        match self.memo.get(&key) {
            Some(v) => *v,
            None => {
                self.anomaly(off, format!("{op}: memo slot {key} was never stored"));
                V::Unknown
            }
        }
    }

    fn memo_put(&mut self, key: i64, off: u64, op: &str) {
        match self.top(off, op) {
            Some(i) => {
                let v = self.stack[i];
                if self.memo.len() < self.limits.max_values || self.memo.contains_key(&key) {
                    self.memo.insert(key, v);
                }
            }
            None => {
                self.memo.insert(key, V::Unknown);
            }
        }
    }

    fn note_embedded(&mut self, off: u64, data: &[u8], full_len: u64) {
        if full_len as usize > data.len() || data.len() > self.limits.max_embedded_bytes {
            return;
        }
        if self.embedded_total + data.len() > self.limits.max_embedded_total {
            return;
        }
        if let Some((encoding, decoded)) = super::embedded::decode_candidate(data) {
            self.embedded_total += decoded.len();
            self.report.embedded.push(Embedded {
                offset: off,
                encoding,
                data: decoded,
            });
        }
    }

    fn read_len_bytes<R: Read>(
        &mut self,
        input: &mut Input<R>,
        n: u64,
        off: u64,
    ) -> Result<(Vec<u8>, u64), InputError> {
        let keep = self
            .limits
            .max_embedded_bytes
            .max(self.limits.keep_value_bytes);
        self.check_frame(input.pos(), n, off);
        let data = input.take(n, keep)?;
        Ok((data, n))
    }

    /// `FRAME` promises that the next `n` bytes hold whole opcodes. CPython's unpickler rejects
    /// an argument that crosses the frame end, pickletools does not: a parser differential.
    fn check_frame(&mut self, arg_start: u64, n: u64, off: u64) {
        if let Some(end) = self.frame_end
            && off < end
            && arg_start.saturating_add(n) > end
        {
            self.anomaly(
                off,
                format!("argument of {n} bytes crosses the end of the FRAME at offset {end}"),
            );
        }
    }

    fn run<R: Read>(&mut self, input: &mut Input<R>) {
        loop {
            if self.report.ops >= self.limits.max_ops {
                self.report.fatal = Some(Anomaly {
                    offset: input.pos(),
                    message: format!("opcode limit of {} reached", self.limits.max_ops),
                });
                break;
            }
            let off = input.pos();
            // An argument that crossed the frame end was reported by `check_frame`; joblib's
            // inline array data legitimately sits between frames.
            if let Some(end) = self.frame_end
                && off >= end
            {
                self.frame_end = None;
            }
            let op = match input.byte() {
                Ok(Some(b)) => b,
                Ok(None) => {
                    self.report.fatal = Some(Anomaly {
                        offset: off,
                        message: "stream ends without STOP (truncated)".into(),
                    });
                    break;
                }
                Err(e) => {
                    self.report.fatal = Some(input_anomaly(off, e));
                    break;
                }
            };
            self.report.ops += 1;
            match self.step(op, off, input) {
                Ok(Step::Continue) => {}
                Ok(Step::Stop) => {
                    self.report.stopped = true;
                    break;
                }
                Err(e) => {
                    self.report.fatal = Some(input_anomaly(off, e));
                    break;
                }
            }
        }
        self.report.end = input.pos();
        if self.report.fatal.is_some() {
            // Sweep what could not be parsed for names an unpickler might still import.
            let from = input.pos();
            let rest = input.rest(SWEEP_BYTES);
            for (rel, module, name) in super::embedded::sweep_names(&rest) {
                self.add_import(module, name, from + rel as u64, ImportOp::Sweep);
            }
            self.report.end = input.pos();
        }
    }

    fn text_int(&mut self, line: &[u8], off: u64, op: &str) -> V {
        let s = String::from_utf8_lossy(line);
        let t = s.trim().trim_end_matches('L');
        match t {
            "00" if op == "INT" => V::Bool(false),
            "01" if op == "INT" => V::Bool(true),
            _ => match t.parse::<i64>() {
                Ok(i) => V::Int(i),
                Err(_) => {
                    if !t.is_empty()
                        && t.trim_start_matches(['-', '+'])
                            .chars()
                            .all(|c| c.is_ascii_digit())
                    {
                        V::BigInt
                    } else {
                        self.anomaly(off, format!("{op}: invalid integer literal {t:?}"));
                        V::Unknown
                    }
                }
            },
        }
    }

    fn step<R: Read>(
        &mut self,
        op: u8,
        off: u64,
        input: &mut Input<R>,
    ) -> Result<Step, InputError> {
        let max_line = self.limits.max_line;
        match op {
            // --- protocol 0/1 ---
            b'(' => {
                // MARK
                self.marks.push(self.stack.len());
            }
            b'.' => {
                // STOP
                if self.stack.len() <= self.base() {
                    self.anomaly(off, "STOP with an empty stack");
                }
                if !self.marks.is_empty() {
                    self.anomaly(off, "STOP with an unclosed MARK");
                }
                return Ok(Step::Stop);
            }
            b'0' => {
                // POP: with an empty frame CPython pops the MARK instead (load_pop).
                if self.stack.len() > self.base() {
                    self.stack.pop();
                } else if self.marks.pop().is_none() {
                    self.anomaly(off, "POP: stack underflow");
                }
            }
            b'1' => {
                // POP_MARK
                self.pop_mark(off, "POP_MARK");
            }
            b'2' => {
                // DUP
                let v = match self.top(off, "DUP") {
                    Some(i) => self.stack[i],
                    None => V::Unknown,
                };
                self.push(v);
            }
            b'F' => {
                let line = input.line(max_line)?;
                if String::from_utf8_lossy(&line)
                    .trim()
                    .parse::<f64>()
                    .is_err()
                {
                    self.anomaly(off, "FLOAT: invalid literal");
                }
                self.push(V::Float);
            }
            b'I' => {
                let line = input.line(max_line)?;
                let v = self.text_int(&line, off, "INT");
                self.push(v);
            }
            b'J' => {
                let b = input.exact::<4>()?;
                self.push(V::Int(i32::from_le_bytes(b) as i64));
            }
            b'K' => {
                let b = input.exact::<1>()?;
                self.push(V::Int(b[0] as i64));
            }
            b'M' => {
                let b = input.exact::<2>()?;
                self.push(V::Int(u16::from_le_bytes(b) as i64));
            }
            b'L' => {
                let line = input.line(max_line)?;
                let v = self.text_int(&line, off, "LONG");
                self.push(v);
            }
            b'N' => self.push(V::None),
            b'P' => {
                // PERSID
                let line = input.line(max_line)?;
                let s = self.str_value(&String::from_utf8_lossy(&line));
                self.report.persistent_ids += 1;
                let v = self.node(Node::PersId(s));
                self.push(v);
            }
            b'Q' => {
                // BINPERSID
                let pid = self.pop(off, "BINPERSID");
                self.report.persistent_ids += 1;
                let v = self.node(Node::PersId(pid));
                self.push(v);
            }
            b'R' => {
                // REDUCE
                let args = self.pop(off, "REDUCE");
                let callee = self.pop(off, "REDUCE");
                let v = self.call(off, callee, args, None);
                self.push(v);
            }
            b'S' => {
                // STRING: a quoted Python 2 str literal, decoded to str by Python 3.
                let line = input.line(max_line)?;
                let decoded = match decode_quoted(&line) {
                    Some(d) => d,
                    None => {
                        self.anomaly(off, "STRING: argument is not a quoted string");
                        line.clone()
                    }
                };
                self.note_embedded(off, &decoded, decoded.len() as u64);
                let v = self.str_value(&String::from_utf8_lossy(&decoded));
                self.push(v);
            }
            b'T' => {
                // BINSTRING
                let n = i32::from_le_bytes(input.exact::<4>()?);
                if n < 0 {
                    self.anomaly(off, "BINSTRING: negative length");
                    return Err(InputError::Eof);
                }
                let (data, full) = self.read_len_bytes(input, n as u64, off)?;
                self.note_embedded(off, &data, full);
                let v = self.str_value(&String::from_utf8_lossy(&data));
                self.push(v);
            }
            b'U' => {
                // SHORT_BINSTRING
                let n = input.exact::<1>()?[0] as u64;
                let (data, full) = self.read_len_bytes(input, n, off)?;
                self.note_embedded(off, &data, full);
                let v = self.str_value(&String::from_utf8_lossy(&data));
                self.push(v);
            }
            b'V' => {
                // UNICODE (raw-unicode-escape)
                let line = input.line(max_line)?;
                let s = decode_raw_unicode_escape(&line);
                self.note_embedded(off, s.as_bytes(), s.len() as u64);
                let v = self.str_value(&s);
                self.push(v);
            }
            b'X' => {
                let n = u32::from_le_bytes(input.exact::<4>()?) as u64;
                self.unicode(input, n, off)?;
            }
            b'a' => {
                // APPEND
                let item = self.pop(off, "APPEND");
                if let Some(i) = self.top(off, "APPEND") {
                    let target = self.stack[i];
                    self.extend_container(target, vec![item], off, "APPEND");
                }
            }
            b'b' => {
                // BUILD
                let state = self.pop(off, "BUILD");
                if let Some(i) = self.top(off, "BUILD") {
                    let target = self.stack[i];
                    self.build(target, state, off, input)?;
                }
            }
            b'c' => {
                // GLOBAL
                let module = input.line(max_line)?;
                let name = input.line(max_line)?;
                let v = self.add_import(
                    String::from_utf8_lossy(&module).into_owned(),
                    String::from_utf8_lossy(&name).into_owned(),
                    off,
                    ImportOp::Global,
                );
                self.push(v);
            }
            b'd' => {
                let items = self.pop_mark(off, "DICT");
                let v = self.node(Node::Dict(Vec::new()));
                self.set_items(v, items, off, "DICT");
                self.push(v);
            }
            b'}' => {
                let v = self.node(Node::Dict(Vec::new()));
                self.push(v);
            }
            b'e' => {
                let items = self.pop_mark(off, "APPENDS");
                if let Some(i) = self.top(off, "APPENDS") {
                    let target = self.stack[i];
                    self.extend_container(target, items, off, "APPENDS");
                }
            }
            b'g' => {
                let line = input.line(max_line)?;
                let key = match self.text_int(&line, off, "GET") {
                    V::Int(k) => k,
                    _ => -1,
                };
                let v = self.memo_get(key, off, "GET");
                self.push(v);
            }
            b'h' => {
                let key = input.exact::<1>()?[0] as i64;
                let v = self.memo_get(key, off, "BINGET");
                self.push(v);
            }
            b'j' => {
                let key = u32::from_le_bytes(input.exact::<4>()?) as i64;
                let v = self.memo_get(key, off, "LONG_BINGET");
                self.push(v);
            }
            b'i' => {
                // INST: module and name on lines, arguments since MARK.
                let module = input.line(max_line)?;
                let name = input.line(max_line)?;
                let g = self.add_import(
                    String::from_utf8_lossy(&module).into_owned(),
                    String::from_utf8_lossy(&name).into_owned(),
                    off,
                    ImportOp::Inst,
                );
                let items = self.pop_mark(off, "INST");
                let args = self.tuple(items);
                let v = self.call(off, g, args, None);
                self.push(v);
            }
            b'l' => {
                let items = self.pop_mark(off, "LIST");
                let v = self.node(Node::List(Vec::new()));
                self.extend_container(v, items, off, "LIST");
                self.push(v);
            }
            b']' => {
                let v = self.node(Node::List(Vec::new()));
                self.push(v);
            }
            b'o' => {
                // OBJ: class and arguments since MARK.
                let mut items = self.pop_mark(off, "OBJ");
                let callee = if items.is_empty() {
                    self.anomaly(off, "OBJ: no class after MARK");
                    V::Unknown
                } else {
                    items.remove(0)
                };
                let args = self.tuple(items);
                let v = self.call(off, callee, args, None);
                self.push(v);
            }
            b'p' => {
                let line = input.line(max_line)?;
                let key = match self.text_int(&line, off, "PUT") {
                    V::Int(k) => k,
                    _ => -1,
                };
                self.memo_put(key, off, "PUT");
            }
            b'q' => {
                let key = input.exact::<1>()?[0] as i64;
                self.memo_put(key, off, "BINPUT");
            }
            b'r' => {
                let key = u32::from_le_bytes(input.exact::<4>()?) as i64;
                self.memo_put(key, off, "LONG_BINPUT");
            }
            b's' => {
                let val = self.pop(off, "SETITEM");
                let key = self.pop(off, "SETITEM");
                if let Some(i) = self.top(off, "SETITEM") {
                    let target = self.stack[i];
                    self.set_items(target, vec![key, val], off, "SETITEM");
                }
            }
            b't' => {
                let items = self.pop_mark(off, "TUPLE");
                let v = self.tuple(items);
                self.push(v);
            }
            b')' => {
                let v = self.tuple(Vec::new());
                self.push(v);
            }
            b'u' => {
                let items = self.pop_mark(off, "SETITEMS");
                if let Some(i) = self.top(off, "SETITEMS") {
                    let target = self.stack[i];
                    self.set_items(target, items, off, "SETITEMS");
                }
            }
            b'G' => {
                input.exact::<8>()?;
                self.push(V::Float);
            }
            // --- protocol 2 ---
            0x80 => {
                let v = input.exact::<1>()?[0];
                if v > 5 {
                    self.anomaly(off, format!("PROTO: unsupported protocol {v}"));
                }
                if self.report.protocol.is_none() {
                    self.report.protocol = Some(v);
                } else if self.report.ops > 1 {
                    self.anomaly(off, "PROTO in the middle of the stream");
                }
            }
            0x81 => {
                // NEWOBJ
                let args = self.pop(off, "NEWOBJ");
                let cls = self.pop(off, "NEWOBJ");
                let v = self.call(off, cls, args, None);
                self.push(v);
            }
            0x82 => {
                let code = input.exact::<1>()?[0] as i64;
                self.ext(code, off);
            }
            0x83 => {
                let code = u16::from_le_bytes(input.exact::<2>()?) as i64;
                self.ext(code, off);
            }
            0x84 => {
                let code = i32::from_le_bytes(input.exact::<4>()?) as i64;
                self.ext(code, off);
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop(off, "TUPLEn"));
                }
                items.reverse();
                let v = self.tuple(items);
                self.push(v);
            }
            0x88 => self.push(V::Bool(true)),
            0x89 => self.push(V::Bool(false)),
            0x8a => {
                let n = input.exact::<1>()?[0] as u64;
                let data = input.take(n, 16)?;
                self.push(long_value(&data, n));
            }
            0x8b => {
                let n = i32::from_le_bytes(input.exact::<4>()?);
                if n < 0 {
                    self.anomaly(off, "LONG4: negative length");
                    return Err(InputError::Eof);
                }
                self.check_frame(input.pos(), n as u64, off);
                let data = input.take(n as u64, 16)?;
                self.push(long_value(&data, n as u64));
            }
            // --- protocol 3 ---
            b'B' => {
                let n = u32::from_le_bytes(input.exact::<4>()?) as u64;
                self.binbytes(input, n, off)?;
            }
            b'C' => {
                let n = input.exact::<1>()?[0] as u64;
                self.binbytes(input, n, off)?;
            }
            // --- protocol 4 ---
            0x8c => {
                let n = input.exact::<1>()?[0] as u64;
                self.unicode(input, n, off)?;
            }
            0x8d => {
                let n = u64::from_le_bytes(input.exact::<8>()?);
                self.unicode(input, n, off)?;
            }
            0x8e => {
                let n = u64::from_le_bytes(input.exact::<8>()?);
                self.binbytes(input, n, off)?;
            }
            0x8f => {
                let v = self.node(Node::Set(Vec::new()));
                self.push(v);
            }
            0x90 => {
                let items = self.pop_mark(off, "ADDITEMS");
                if let Some(i) = self.top(off, "ADDITEMS") {
                    let target = self.stack[i];
                    self.extend_container(target, items, off, "ADDITEMS");
                }
            }
            0x91 => {
                let items = self.pop_mark(off, "FROZENSET");
                let v = self.node(Node::Set(Vec::new()));
                self.extend_container(v, items, off, "FROZENSET");
                self.push(v);
            }
            0x92 => {
                // NEWOBJ_EX
                let kwargs = self.pop(off, "NEWOBJ_EX");
                let args = self.pop(off, "NEWOBJ_EX");
                let cls = self.pop(off, "NEWOBJ_EX");
                let v = self.call(off, cls, args, Some(kwargs));
                self.push(v);
            }
            0x93 => {
                // STACK_GLOBAL: module and name are whatever is on the stack, possibly
                // fetched from the memo or built by earlier opcodes.
                let name = self.pop(off, "STACK_GLOBAL");
                let module = self.pop(off, "STACK_GLOBAL");
                let m = self.string_of(module).map(str::to_owned);
                let n = self.string_of(name).map(str::to_owned);
                if m.is_none() || n.is_none() {
                    self.anomaly(
                        off,
                        "STACK_GLOBAL: module or name is not a string known statically",
                    );
                }
                let v = self.add_import(
                    m.unwrap_or_else(|| "?".into()),
                    n.unwrap_or_else(|| "?".into()),
                    off,
                    ImportOp::StackGlobal,
                );
                self.push(v);
            }
            0x94 => {
                // MEMOIZE stores at len(memo), exactly as CPython does.
                let key = self.memo.len() as i64;
                self.memo_put(key, off, "MEMOIZE");
            }
            0x95 => {
                // FRAME
                let n = u64::from_le_bytes(input.exact::<8>()?);
                if let Some(end) = self.frame_end
                    && input.pos() < end
                {
                    self.anomaly(off, "FRAME starts before the previous frame ended");
                }
                self.frame_end = Some(input.pos().saturating_add(n));
            }
            // --- protocol 5 ---
            0x96 => {
                let n = u64::from_le_bytes(input.exact::<8>()?);
                self.binbytes(input, n, off)?;
            }
            0x97 => {
                // NEXT_BUFFER: out-of-band data the file cannot carry.
                self.anomaly(
                    off,
                    "NEXT_BUFFER: stream refers to out-of-band buffers (pickle.load would fail)",
                );
                let v = self.node(Node::Buffer);
                self.push(v);
            }
            0x98 => {
                // READONLY_BUFFER leaves the top of the stack in place.
                self.top(off, "READONLY_BUFFER");
            }
            other => {
                self.anomaly(off, format!("invalid opcode 0x{other:02x}"));
                return Err(InputError::Io(format!(
                    "invalid opcode 0x{other:02x} at offset {off}"
                )));
            }
        }
        Ok(Step::Continue)
    }

    fn ext(&mut self, code: i64, off: u64) {
        // The copyreg extension registry is empty in CPython unless a program registers
        // codes, so the target is unknowable from the file alone.
        let v = self.add_import(
            "copyreg.extension".into(),
            code.to_string(),
            off,
            ImportOp::Ext,
        );
        self.push(v);
    }

    fn unicode<R: Read>(
        &mut self,
        input: &mut Input<R>,
        n: u64,
        off: u64,
    ) -> Result<(), InputError> {
        let (data, full) = self.read_len_bytes(input, n, off)?;
        self.note_embedded(off, &data, full);
        let s = String::from_utf8_lossy(&data);
        let v = self.str_value(&s);
        self.push(v);
        Ok(())
    }

    fn binbytes<R: Read>(
        &mut self,
        input: &mut Input<R>,
        n: u64,
        off: u64,
    ) -> Result<(), InputError> {
        let (data, full) = self.read_len_bytes(input, n, off)?;
        self.note_embedded(off, &data, full);
        let v = self.bytes_value(&data);
        self.push(v);
        Ok(())
    }

    fn build<R: Read>(
        &mut self,
        target: V,
        state: V,
        off: u64,
        input: &mut Input<R>,
    ) -> Result<(), InputError> {
        match target {
            V::Global(i) => {
                // Setting state on a module/class/function: attribute overwrite.
                let rendering = format!(
                    "{}.__dict__.update({})",
                    self.render_short(target),
                    self.render_short(state)
                );
                self.report.global_builds.push(Event {
                    offset: off,
                    rendering,
                    import: Some(i as usize),
                });
            }
            V::Node(i) => {
                let is_wrapper = match self.nodes.get_mut(i as usize) {
                    Some(Node::Call {
                        state: s, callee, ..
                    }) => {
                        *s = Some(state);
                        Some(*callee)
                    }
                    _ => None,
                };
                if let Some(callee) = is_wrapper
                    && self.is_joblib_wrapper(callee)
                {
                    self.joblib_inline_array(state, off, input)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn is_joblib_wrapper(&self, callee: V) -> bool {
        match callee {
            V::Global(i) => self.report.imports.get(i as usize).is_some_and(|imp| {
                imp.name == "NumpyArrayWrapper" && imp.module.ends_with("numpy_pickle")
            }),
            _ => false,
        }
    }

    fn dict_get(&self, dict: V, key: &str) -> Option<V> {
        match dict {
            V::Node(i) => match self.nodes.get(i as usize) {
                Some(Node::Dict(items)) => items
                    .iter()
                    .find(|(k, _)| self.string_of(*k) == Some(key))
                    .map(|(_, v)| *v),
                _ => None,
            },
            _ => None,
        }
    }

    /// joblib writes the array's raw bytes right after the `BUILD` of a `NumpyArrayWrapper`
    /// (or, for object arrays, a whole nested pickle stream); its unpickler reads them from
    /// the file in the middle of unpickling. Skip (or emulate) them so the stream stays in sync.
    fn joblib_inline_array<R: Read>(
        &mut self,
        state: V,
        off: u64,
        input: &mut Input<R>,
    ) -> Result<(), InputError> {
        let dtype = self.dict_get(state, "dtype");
        let shape = self.dict_get(state, "shape");
        let (Some(dtype), Some(shape)) = (dtype, shape) else {
            self.anomaly(off, "joblib NumpyArrayWrapper without dtype/shape");
            return Ok(());
        };
        let count = match shape {
            V::Node(i) => match self.nodes.get(i as usize) {
                Some(Node::Tuple(items)) => {
                    let mut n: u64 = 1;
                    for it in items {
                        match it {
                            V::Int(d) if *d >= 0 => n = n.saturating_mul(*d as u64),
                            _ => {
                                self.anomaly(off, "joblib array shape is not a tuple of ints");
                                return Ok(());
                            }
                        }
                    }
                    n
                }
                _ => {
                    self.anomaly(off, "joblib array shape is not a tuple");
                    return Ok(());
                }
            },
            _ => return Ok(()),
        };
        match self.dtype_itemsize(dtype) {
            Some(0) => {
                // Object dtype: joblib wrote `pickle.dump(array, protocol=2)` inline.
                if self.depth >= self.limits.max_depth {
                    self.anomaly(off, "joblib object arrays nested too deeply");
                    return Err(InputError::Io("nesting limit".into()));
                }
                let inner = run_stream(input, self.limits, self.depth + 1);
                self.merge(inner);
            }
            Some(itemsize) => {
                let align = self.dict_get(state, "numpy_array_alignment_bytes");
                if let Some(V::Int(a)) = align
                    && a > 0
                {
                    let pad = input.exact::<1>()?[0] as u64;
                    input.take(pad, 0)?;
                }
                let len = count.saturating_mul(itemsize);
                input.take(len, 0)?;
                self.report.skipped_array_bytes += len;
            }
            None => {
                self.anomaly(off, "joblib array with a dtype that cannot be sized");
                return Err(InputError::Io("unknown joblib dtype".into()));
            }
        }
        Ok(())
    }

    /// Item size of a `numpy.dtype(...)` value built in the pickle; `Some(0)` for object.
    fn dtype_itemsize(&self, dtype: V) -> Option<u64> {
        let V::Node(i) = dtype else { return None };
        let Some(Node::Call { args, state, .. }) = self.nodes.get(i as usize) else {
            return None;
        };
        let code = match args {
            V::Node(a) => match self.nodes.get(*a as usize) {
                Some(Node::Tuple(items)) => items.first().and_then(|v| self.string_of(*v)),
                _ => None,
            },
            _ => None,
        }?;
        // State tuple: (version, byteorder, subarray, names, fields, elsize, alignment, flags).
        let elsize = match state {
            Some(V::Node(s)) => match self.nodes.get(*s as usize) {
                Some(Node::Tuple(items)) if items.len() >= 6 => match items[5] {
                    V::Int(e) if e > 0 => Some(e as u64),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        let kind = code.chars().next()?;
        let digits: String = code
            .chars()
            .skip(1)
            .filter(|c| c.is_ascii_digit())
            .collect();
        let n: Option<u64> = digits.parse().ok();
        match kind {
            'O' => Some(0),
            '?' => Some(1),
            'b' | 'i' | 'u' | 'f' | 'c' | 'm' | 'M' | 'e' | 'd' | 'g' | 'h' | 'l' | 'q' | 'B'
            | 'H' | 'I' | 'L' | 'Q' => elsize.or(n),
            'U' => elsize.or(n.map(|n| n * 4)),
            'S' | 'V' | 'a' => elsize.or(n),
            _ => elsize,
        }
    }

    fn merge(&mut self, inner: PickleReport) {
        let shift = self.report.imports.len();
        self.report.imports.extend(inner.imports);
        self.report.calls += inner.calls;
        for mut e in inner.unresolved_calls {
            e.import = e.import.map(|i| i + shift);
            self.report.unresolved_calls.push(e);
        }
        for mut e in inner.global_builds {
            e.import = e.import.map(|i| i + shift);
            self.report.global_builds.push(e);
        }
        self.report.anomalies.extend(inner.anomalies);
        if let Some(f) = inner.fatal {
            self.anomaly(f.offset, format!("inline joblib pickle: {}", f.message));
        }
        self.report.embedded.extend(inner.embedded);
        self.report.ops += inner.ops;
        self.report.persistent_ids += inner.persistent_ids;
        self.report.skipped_array_bytes += inner.skipped_array_bytes;
    }
}

fn input_anomaly(off: u64, e: InputError) -> Anomaly {
    Anomaly {
        offset: off,
        message: match e {
            InputError::Eof => "stream truncated inside an opcode".into(),
            InputError::Io(m) => m,
            InputError::LineTooLong => "text argument longer than the limit".into(),
        },
    }
}

fn long_value(data: &[u8], n: u64) -> V {
    if n == 0 {
        return V::Int(0);
    }
    if n <= 8 && data.len() as u64 == n {
        let mut buf = if data[data.len() - 1] & 0x80 != 0 {
            [0xffu8; 8]
        } else {
            [0u8; 8]
        };
        buf[..data.len()].copy_from_slice(data);
        return V::Int(i64::from_le_bytes(buf));
    }
    V::BigInt
}

fn push_repr(out: &mut String, s: &str, truncated: bool) {
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    if truncated {
        out.push('…');
    }
    out.push('\'');
}

/// Decodes a protocol-0 `STRING` argument: a quoted literal with Python escapes.
fn decode_quoted(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() < 2 || line[0] != line[line.len() - 1] || !(line[0] == b'\'' || line[0] == b'"') {
        return None;
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != b'\\' || i + 1 >= body.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = body[i + 1];
        i += 2;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0'..=b'7' => {
                let mut v = (e - b'0') as u32;
                let mut k = 0;
                while k < 2 && i < body.len() && (b'0'..=b'7').contains(&body[i]) {
                    v = v * 8 + (body[i] - b'0') as u32;
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' if i + 2 <= body.len() => {
                match u8::from_str_radix(std::str::from_utf8(&body[i..i + 2]).unwrap_or("zz"), 16) {
                    Ok(v) => out.push(v),
                    Err(_) => out.extend_from_slice(b"\\x"),
                }
                i += 2;
            }
            b'\\' | b'\'' | b'"' => out.push(e),
            b'\n' => {}
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Decodes `raw-unicode-escape` as used by protocol-0 `UNICODE`: `\uXXXX` and `\UXXXXXXXX`
/// escapes, every other byte is a Latin-1 code point.
fn decode_raw_unicode_escape(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == b'\\' && i + 1 < line.len() && (line[i + 1] == b'u' || line[i + 1] == b'U') {
            let n = if line[i + 1] == b'u' { 4 } else { 8 };
            if i + 2 + n <= line.len()
                && let Ok(hex) = std::str::from_utf8(&line[i + 2..i + 2 + n])
                && let Ok(cp) = u32::from_str_radix(hex, 16)
            {
                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                i += 2 + n;
                continue;
            }
        }
        out.push(line[i] as char);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8]) -> PickleReport {
        emulate(data, 0, &VmLimits::default())
    }

    #[test]
    fn protocol0_global_reduce_renders_chain() {
        let r = run(b"cos\nsystem\n(S'id'\ntR.");
        assert!(r.clean());
        assert_eq!(r.imports.len(), 1);
        assert_eq!(r.imports[0].full_name(), "os.system");
        assert_eq!(r.imports[0].chain.as_deref(), Some("os.system('id')"));
    }

    #[test]
    fn stack_global_from_memo() {
        // SHORT_BINUNICODE 'os' MEMOIZE, SHORT_BINUNICODE 'system' MEMOIZE, POP, POP,
        // BINGET 0, BINGET 1, STACK_GLOBAL
        let mut p = vec![0x80, 4];
        p.extend_from_slice(b"\x8c\x02os\x94\x8c\x06system\x9400h\x00h\x01\x93");
        p.extend_from_slice(b"\x8c\x02id\x85R.");
        let r = run(&p);
        assert!(r.clean(), "{:?}", r.fatal);
        assert_eq!(r.imports[0].full_name(), "os.system");
        assert_eq!(r.imports[0].op, ImportOp::StackGlobal);
    }

    #[test]
    fn unresolved_stack_global_is_reported() {
        let r = run(b"\x80\x04h\x07h\x08\x93)R.");
        assert_eq!(r.imports[0].full_name(), "?.?");
        assert!(!r.imports[0].resolved);
        assert!(
            r.anomalies
                .iter()
                .any(|a| a.message.contains("memo slot 7"))
        );
    }

    #[test]
    fn truncated_stream_keeps_what_was_learnt() {
        let r = run(b"\x80\x02cbuiltins\nexec\nX\x10\x00\x00\x00abc");
        assert_eq!(r.imports[0].full_name(), "builtins.exec");
        assert!(r.fatal.is_some());
    }

    #[test]
    fn pop_on_empty_frame_pops_mark() {
        // MARK, POP (pops the mark), then a GLOBAL that must still be seen.
        let r = run(b"(0cos\nsystem\n.");
        assert!(r.clean());
        assert_eq!(r.imports[0].full_name(), "os.system");
    }

    #[test]
    fn build_on_global_is_recorded() {
        let r = run(b"\x80\x02ctorch._utils\n_rebuild_tensor\n}b.");
        assert_eq!(r.global_builds.len(), 1);
    }

    #[test]
    fn frame_crossing_is_an_anomaly() {
        // FRAME of 2 bytes, then SHORT_BINUNICODE of 5 bytes crossing it.
        let r = run(b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00\x8c\x05hello.");
        assert!(r.anomalies.iter().any(|a| a.message.contains("FRAME")));
        assert!(r.clean());
    }

    #[test]
    fn string_escapes_decode() {
        assert_eq!(decode_quoted(b"'a\\x41\\n'").unwrap(), b"aA\n");
        assert_eq!(decode_raw_unicode_escape(b"\\u0041b"), "Ab");
    }
}
