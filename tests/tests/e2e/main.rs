//! End-to-end: the real runtime, real compiled components.

mod breaker;
mod fixtures;
mod hostile;
mod install;
mod network;
