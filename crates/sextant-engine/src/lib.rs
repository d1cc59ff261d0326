//! Sextant's engine: pure GitOps logic, functions from objects and options to
//! outcomes, with no file, network or cluster IO.
//!
//! Today it holds [`health`]: how healthy a Kubernetes object is, from its
//! kind's built-in rule, the generic condition rules, or a team's Lua script;
//! and [`diff`]: how a desired object differs from the live one, after
//! normalisation, ownership and `ignoreDifferences`, with Secrets masked;
//! and [`sync`]: how a sync runs, as a plan of stages, waves, hooks and
//! prunes computed from the objects' annotations and the request.

pub mod actions;
pub mod diff;
pub mod health;
pub mod project;
pub mod sync;
