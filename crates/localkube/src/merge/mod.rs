//! Merge machinery for the API server: list/map merge schema of built-in kinds,
//! managed-fields sets (FieldsV1), strategic merge patch and server-side apply.
//!
//! Everything here works on `serde_json::Value` objects and is independent of the
//! HTTP layer: the server decodes the request, calls [`smp::strategic_merge`],
//! [`ssa::apply`] or [`ssa::record_update`], and stores the result.

pub mod fieldset;
pub mod schema;
pub mod smp;
pub mod ssa;

#[cfg(test)]
mod tests;

pub use fieldset::{FieldSet, FieldSetError};
pub use schema::{ListType, list_type};
pub use smp::{PatchError, strategic_merge};
pub use ssa::{
    ApplyOutcome, Conflict, ManagedEntry, Operation, apply, conflicts_message,
    parse_managed_fields, record_update, write_managed_fields,
};
