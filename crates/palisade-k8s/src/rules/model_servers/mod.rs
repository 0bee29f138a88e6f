//! Model servers and ML control planes (PAL160–PAL189): Triton, TorchServe, Ray, Jupyter,
//! MLflow, vLLM, text-generation-inference, Ollama and TensorFlow Serving started with their
//! management or execution APIs open to anyone who can reach the pod.

pub mod detect;
pub mod exposed_service;
pub mod jupyter_no_token;
pub mod llm_server_no_auth;
pub mod mlflow_no_auth;
pub mod ray_dashboard_exposed;
pub mod torchserve_config_token_auth;
pub mod torchserve_token_auth;
pub mod triton_model_control;
