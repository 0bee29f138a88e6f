//! The Palisade admission webhook.
