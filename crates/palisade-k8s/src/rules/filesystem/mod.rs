//! Container filesystems and the probes serving containers need.

pub mod probes_missing;
pub mod read_only_root_filesystem;
