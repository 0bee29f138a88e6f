//! Pickle emulation: the opcode VM, classification of imports, embedded-pickle detection.

pub mod classify;
pub(crate) mod embedded;
pub(crate) mod input;
pub mod vm;
