//! Typed, borrowed views of the Kubernetes fields rules read, decoded once per pod spec.
//!
//! Decoding checks the type of every field it reads (`runAsNonRoot: "yes"` is an error, as it
//! is for the API server) and keeps each value's position, so rules are plain Rust over typed
//! data and still report `file:line:column` and a JSON pointer.

mod decode;
mod image;
mod pod;

pub(crate) use decode::Key;
pub use decode::{DecodeError, Decoder};
pub use image::{ImageRef, parse_image};
pub use pod::{
    Capabilities, Container, ContainerKind, EnvEntry, Handler, PodMeta, PodSecurityContext,
    PodSpec, PortSpec, ProfileRef, SeLinuxOptions, SecurityContext, Sp, Sysctl, Volume,
};
