//! Readers for each model and container format.

pub(crate) mod archive;
pub(crate) mod gguf;
pub(crate) mod hdf5;
pub(crate) mod hf;
pub(crate) mod keras;
pub(crate) mod metadata;
pub(crate) mod numpy;
pub(crate) mod onnx;
pub(crate) mod protobuf;
pub(crate) mod safetensors;
pub(crate) mod savedmodel;
pub(crate) mod sevenz;
pub(crate) mod zip;
