//! Writes a PyTorch-style zip checkpoint (`archive/data.pkl`, `archive/data/N` storages,
//! zip64 central directory) whose tensor data are sparse holes: multi-gigabyte files cost
//! no disk and no time to create. Shared by the benchmark and the large-file test.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

/// Builds the `data.pkl` of a state dict with `n` float tensors whose storages are
/// persistent ids `archive/data/{i}`, as `torch.save` writes it (protocol 2).
pub fn state_dict_pickle(n: usize, evil: bool) -> Vec<u8> {
    let mut p = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01(".to_vec();
    for i in 0..n {
        let key = format!("layer{i}.weight");
        p.push(b'X');
        p.extend_from_slice(&(key.len() as u32).to_le_bytes());
        p.extend_from_slice(key.as_bytes());
        p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        // persistent id: ('storage', torch.FloatStorage, key, 'cpu', numel)
        p.extend_from_slice(b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\n");
        let k = i.to_string();
        p.push(b'X');
        p.extend_from_slice(&(k.len() as u32).to_le_bytes());
        p.extend_from_slice(k.as_bytes());
        p.extend_from_slice(b"X\x03\x00\x00\x00cpuJ\x00\x00\x00\x01tQK\x00J\x00\x00\x00\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR");
    }
    p.push(b'u');
    if evil {
        p.extend_from_slice(b"0cposix\nsystem\nX\x02\x00\x00\x00id\x85R");
    }
    p.push(b'.');
    p
}

struct Entry {
    name: String,
    size: u64,
    crc: u32,
    offset: u64,
}

fn local_header(f: &mut File, e: &Entry) -> io::Result<()> {
    let mut h = Vec::new();
    h.extend_from_slice(b"PK\x03\x04");
    h.extend_from_slice(&45u16.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // flags
    h.extend_from_slice(&0u16.to_le_bytes()); // stored
    h.extend_from_slice(&[0; 4]); // time, date
    h.extend_from_slice(&e.crc.to_le_bytes());
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
    h.extend_from_slice(&20u16.to_le_bytes());
    h.extend_from_slice(e.name.as_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(&e.size.to_le_bytes());
    h.extend_from_slice(&e.size.to_le_bytes());
    f.write_all(&h)
}

/// Writes the checkpoint: `tensors` storages sharing `total_bytes` of (sparse) data.
pub fn write(path: &Path, tensors: usize, total_bytes: u64, evil: bool) -> io::Result<()> {
    let mut f = File::create(path)?;
    let pickle = state_dict_pickle(tensors, evil);
    let mut crc = flate2::Crc::new();
    crc.update(&pickle);
    let mut entries = Vec::new();
    let mut members: Vec<(String, Option<Vec<u8>>, u64)> = vec![(
        "archive/data.pkl".into(),
        Some(pickle.clone()),
        pickle.len() as u64,
    )];
    let per = total_bytes / tensors.max(1) as u64;
    for i in 0..tensors {
        members.push((format!("archive/data/{i}"), None, per));
    }
    members.push(("archive/version".into(), Some(b"3\n".to_vec()), 2));
    for (name, content, size) in members {
        let offset = f.stream_position()?;
        let crc = match &content {
            Some(c) => {
                let mut k = flate2::Crc::new();
                k.update(c);
                k.sum()
            }
            None => 0,
        };
        let e = Entry {
            name,
            size,
            crc,
            offset,
        };
        local_header(&mut f, &e)?;
        match content {
            Some(c) => f.write_all(&c)?,
            None => {
                f.seek(SeekFrom::Current(size as i64))?;
            }
        }
        entries.push(e);
    }
    let cd_start = f.stream_position()?;
    for e in &entries {
        let mut h = Vec::new();
        h.extend_from_slice(b"PK\x01\x02");
        h.extend_from_slice(&45u16.to_le_bytes());
        h.extend_from_slice(&45u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&0u16.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&e.crc.to_le_bytes());
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        h.extend_from_slice(&28u16.to_le_bytes());
        h.extend_from_slice(&[0; 10]); // comment len, disk, internal and external attributes
        h.extend_from_slice(&u32::MAX.to_le_bytes());
        h.extend_from_slice(e.name.as_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&24u16.to_le_bytes());
        h.extend_from_slice(&e.size.to_le_bytes());
        h.extend_from_slice(&e.size.to_le_bytes());
        h.extend_from_slice(&e.offset.to_le_bytes());
        f.write_all(&h)?;
    }
    let cd_end = f.stream_position()?;
    let n = entries.len() as u64;
    let mut t = Vec::new();
    t.extend_from_slice(b"PK\x06\x06");
    t.extend_from_slice(&44u64.to_le_bytes());
    t.extend_from_slice(&45u16.to_le_bytes());
    t.extend_from_slice(&45u16.to_le_bytes());
    t.extend_from_slice(&[0; 8]);
    t.extend_from_slice(&n.to_le_bytes());
    t.extend_from_slice(&n.to_le_bytes());
    t.extend_from_slice(&(cd_end - cd_start).to_le_bytes());
    t.extend_from_slice(&cd_start.to_le_bytes());
    t.extend_from_slice(b"PK\x06\x07");
    t.extend_from_slice(&0u32.to_le_bytes());
    t.extend_from_slice(&cd_end.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(b"PK\x05\x06");
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(&u16::MAX.to_le_bytes());
    t.extend_from_slice(&u16::MAX.to_le_bytes());
    t.extend_from_slice(&u32::MAX.to_le_bytes());
    t.extend_from_slice(&u32::MAX.to_le_bytes());
    t.extend_from_slice(&0u16.to_le_bytes());
    f.write_all(&t)
}
