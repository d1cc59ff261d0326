//! Field tables for meta.k8s.io/v1 (apimachinery) messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `meta.v1.Condition`
pub(crate) const CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "observedGeneration", I64),
    k(4, "lastTransitionTime", Time),
    k(5, "reason", Str),
    k(6, "message", Str),
];

/// `meta.v1.DeleteOptions`
pub(crate) const DELETE_OPTIONS: &[Field] = &[
    k(1, "gracePeriodSeconds", I64),
    f(2, "preconditions", Msg(PRECONDITIONS)),
    k(3, "orphanDependents", Bool),
    f(4, "propagationPolicy", Str),
    f(5, "dryRun", ListStr),
    k(6, "ignoreStoreReadErrorWithClusterBreakingPotential", Bool),
];

/// `meta.v1.FieldSelectorRequirement`
pub(crate) const FIELD_SELECTOR_REQUIREMENT: &[Field] = &[
    k(1, "key", Str),
    k(2, "operator", Str),
    f(3, "values", ListStr),
];

/// `meta.v1.LabelSelector`
pub(crate) const LABEL_SELECTOR: &[Field] = &[
    f(1, "matchLabels", MapStr),
    f(2, "matchExpressions", ListMsg(LABEL_SELECTOR_REQUIREMENT)),
];

/// `meta.v1.LabelSelectorRequirement`
pub(crate) const LABEL_SELECTOR_REQUIREMENT: &[Field] = &[
    k(1, "key", Str),
    k(2, "operator", Str),
    f(3, "values", ListStr),
];

/// `meta.v1.ManagedFieldsEntry`
pub(crate) const MANAGED_FIELDS_ENTRY: &[Field] = &[
    f(1, "manager", Str),
    f(2, "operation", Str),
    f(3, "apiVersion", Str),
    f(4, "time", Time),
    f(6, "fieldsType", Str),
    f(7, "fieldsV1", RawJson),
    f(8, "subresource", Str),
];

/// `meta.v1.ObjectMeta`
pub(crate) const OBJECT_META: &[Field] = &[
    f(1, "name", Str),
    f(2, "generateName", Str),
    f(3, "namespace", Str),
    f(4, "selfLink", Str),
    f(5, "uid", Str),
    f(6, "resourceVersion", Str),
    f(7, "generation", I64),
    f(8, "creationTimestamp", Time),
    f(9, "deletionTimestamp", Time),
    k(10, "deletionGracePeriodSeconds", I64),
    f(11, "labels", MapStr),
    f(12, "annotations", MapStr),
    f(13, "ownerReferences", ListMsg(OWNER_REFERENCE)),
    f(14, "finalizers", ListStr),
    f(17, "managedFields", ListMsg(MANAGED_FIELDS_ENTRY)),
];

/// `meta.v1.OwnerReference`
pub(crate) const OWNER_REFERENCE: &[Field] = &[
    k(1, "kind", Str),
    k(3, "name", Str),
    k(4, "uid", Str),
    k(5, "apiVersion", Str),
    k(6, "controller", Bool),
    k(7, "blockOwnerDeletion", Bool),
];

/// `meta.v1.Preconditions`
pub(crate) const PRECONDITIONS: &[Field] = &[f(1, "uid", Str), f(2, "resourceVersion", Str)];
