//! A minimal protobuf wire-format walker over a [`Src`], for ONNX and TensorFlow graphs.
//!
//! Length-delimited fields are returned as sub-ranges, so large tensors (`raw_data`) are
//! skipped without being read. Every length is checked against the enclosing message.

use crate::source::Src;

#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    #[allow(dead_code)] // the walkers here only need the tag of varint fields
    Varint(u64),
    Fixed,
    Bytes(Src<'a>),
}

pub(crate) struct Fields<'a> {
    src: Src<'a>,
    pos: u64,
    pub(crate) error: Option<String>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(src: Src<'a>) -> Self {
        Fields {
            src,
            pos: 0,
            error: None,
        }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut buf = [0u8; 10];
        let n = self.src.read_at(self.pos, &mut buf).ok()?;
        let mut v: u64 = 0;
        for (i, &b) in buf[..n].iter().enumerate() {
            v |= ((b & 0x7f) as u64) << (7 * i);
            if b & 0x80 == 0 {
                self.pos += i as u64 + 1;
                return Some(v);
            }
        }
        None
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.error.is_some() || self.pos >= self.src.len() {
            return None;
        }
        let at = self.pos;
        let Some(tag) = self.varint() else {
            self.error = Some(format!("bad field tag at offset {at}"));
            return None;
        };
        let field = (tag >> 3) as u32;
        let value = match tag & 7 {
            0 => match self.varint() {
                Some(v) => Value::Varint(v),
                None => {
                    self.error = Some(format!("bad varint at offset {at}"));
                    return None;
                }
            },
            1 => {
                self.pos += 8;
                Value::Fixed
            }
            5 => {
                self.pos += 4;
                Value::Fixed
            }
            2 => {
                let Some(len) = self.varint() else {
                    self.error = Some(format!("bad length at offset {at}"));
                    return None;
                };
                if len > self.src.len() - self.pos.min(self.src.len()) {
                    self.error = Some(format!(
                        "field {field} at offset {at} claims {len} bytes past the end of its message"
                    ));
                    return None;
                }
                let sub = self.src.slice(self.pos, len);
                self.pos += len;
                Value::Bytes(sub)
            }
            w => {
                self.error = Some(format!("unsupported wire type {w} at offset {at}"));
                return None;
            }
        };
        if self.pos > self.src.len() {
            self.error = Some(format!("field {field} at offset {at} runs past the end"));
            return None;
        }
        Some((field, value))
    }
}

/// Reads a length-delimited field as a (lossy) string, up to `max` bytes.
pub(crate) fn string(src: Src<'_>, max: u64) -> String {
    String::from_utf8_lossy(&src.read_vec(0, src.len().min(max)).unwrap_or_default()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_fields_and_rejects_overlong_lengths() {
        // field 1 varint 7, field 2 bytes "hi"
        let data = [0x08, 0x07, 0x12, 0x02, b'h', b'i'];
        let f: Vec<_> = Fields::new(Src::Mem(&data)).collect();
        assert_eq!(f.len(), 2);
        assert!(matches!(f[0], (1, Value::Varint(7))));
        match f[1] {
            (2, Value::Bytes(s)) => assert_eq!(string(s, 10), "hi"),
            _ => panic!("expected bytes"),
        }
        let bad = [0x12, 0x7f, b'h'];
        let mut it = Fields::new(Src::Mem(&bad));
        assert!(it.next().is_none());
        assert!(it.error.is_some());
    }
}
