//! Field tables for scheduling.k8s.io/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `scheduling.v1.PriorityClass`
pub(crate) const PRIORITY_CLASS: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    k(2, "value", I32),
    f(3, "globalDefault", Bool),
    f(4, "description", Str),
    f(5, "preemptionPolicy", Str),
];
