//! Model files and volumes (PAL190–PAL199): how weights reach a serving container, and
//! whether the container can change them or run code that ships with them.

pub mod trust_remote_code;
pub mod unpinned_revision;
pub mod writable_model_volume;
