//! Field tables for authentication, authorization and certificates v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `authentication.v1.BoundObjectReference`
pub(crate) const BOUND_OBJECT_REFERENCE: &[Field] = &[
    f(1, "kind", Str),
    f(2, "apiVersion", Str),
    f(3, "name", Str),
    f(4, "uid", Str),
];

/// `authentication.v1.SelfSubjectReview`
pub(crate) const SELF_SUBJECT_REVIEW: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "status", Msg(SELF_SUBJECT_REVIEW_STATUS)),
];

/// `authentication.v1.SelfSubjectReviewStatus`
pub(crate) const SELF_SUBJECT_REVIEW_STATUS: &[Field] = &[f(1, "userInfo", Msg(USER_INFO))];

/// `authentication.v1.TokenRequest`
pub(crate) const TOKEN_REQUEST: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(TOKEN_REQUEST_SPEC)),
    f(3, "status", Msg(TOKEN_REQUEST_STATUS)),
];

/// `authentication.v1.TokenRequestSpec`
pub(crate) const TOKEN_REQUEST_SPEC: &[Field] = &[
    f(1, "audiences", ListStr),
    f(3, "boundObjectRef", Msg(BOUND_OBJECT_REFERENCE)),
    k(4, "expirationSeconds", I64),
];

/// `authentication.v1.TokenRequestStatus`
pub(crate) const TOKEN_REQUEST_STATUS: &[Field] =
    &[k(1, "token", Str), k(2, "expirationTimestamp", Time)];

/// `authentication.v1.UserInfo`
pub(crate) const USER_INFO: &[Field] = &[
    f(1, "username", Str),
    f(2, "uid", Str),
    f(3, "groups", ListStr),
    f(4, "extra", MapStrList),
];

/// `authorization.v1.FieldSelectorAttributes`
pub(crate) const FIELD_SELECTOR_ATTRIBUTES: &[Field] = &[
    f(1, "rawSelector", Str),
    f(
        2,
        "requirements",
        ListMsg(super::meta::FIELD_SELECTOR_REQUIREMENT),
    ),
];

/// `authorization.v1.LabelSelectorAttributes`
pub(crate) const LABEL_SELECTOR_ATTRIBUTES: &[Field] = &[
    f(1, "rawSelector", Str),
    f(
        2,
        "requirements",
        ListMsg(super::meta::LABEL_SELECTOR_REQUIREMENT),
    ),
];

/// `authorization.v1.NonResourceAttributes`
pub(crate) const NON_RESOURCE_ATTRIBUTES: &[Field] = &[f(1, "path", Str), f(2, "verb", Str)];

/// `authorization.v1.NonResourceRule`
pub(crate) const NON_RESOURCE_RULE: &[Field] =
    &[f(1, "verbs", ListStr), f(2, "nonResourceURLs", ListStr)];

/// `authorization.v1.ResourceAttributes`
pub(crate) const RESOURCE_ATTRIBUTES: &[Field] = &[
    f(1, "namespace", Str),
    f(2, "verb", Str),
    f(3, "group", Str),
    f(4, "version", Str),
    f(5, "resource", Str),
    f(6, "subresource", Str),
    f(7, "name", Str),
    f(8, "fieldSelector", Msg(FIELD_SELECTOR_ATTRIBUTES)),
    f(9, "labelSelector", Msg(LABEL_SELECTOR_ATTRIBUTES)),
];

/// `authorization.v1.ResourceRule`
pub(crate) const RESOURCE_RULE: &[Field] = &[
    f(1, "verbs", ListStr),
    f(2, "apiGroups", ListStr),
    f(3, "resources", ListStr),
    f(4, "resourceNames", ListStr),
];

/// `authorization.v1.SelfSubjectAccessReview`
pub(crate) const SELF_SUBJECT_ACCESS_REVIEW: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(SELF_SUBJECT_ACCESS_REVIEW_SPEC)),
    f(3, "status", Msg(SUBJECT_ACCESS_REVIEW_STATUS)),
];

/// `authorization.v1.SelfSubjectAccessReviewSpec`
pub(crate) const SELF_SUBJECT_ACCESS_REVIEW_SPEC: &[Field] = &[
    f(1, "resourceAttributes", Msg(RESOURCE_ATTRIBUTES)),
    f(2, "nonResourceAttributes", Msg(NON_RESOURCE_ATTRIBUTES)),
];

/// `authorization.v1.SelfSubjectRulesReview`
pub(crate) const SELF_SUBJECT_RULES_REVIEW: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(SELF_SUBJECT_RULES_REVIEW_SPEC)),
    f(3, "status", Msg(SUBJECT_RULES_REVIEW_STATUS)),
];

/// `authorization.v1.SelfSubjectRulesReviewSpec`
pub(crate) const SELF_SUBJECT_RULES_REVIEW_SPEC: &[Field] = &[f(1, "namespace", Str)];

/// `authorization.v1.SubjectAccessReviewStatus`
pub(crate) const SUBJECT_ACCESS_REVIEW_STATUS: &[Field] = &[
    k(1, "allowed", Bool),
    f(2, "reason", Str),
    f(3, "evaluationError", Str),
    f(4, "denied", Bool),
];

/// `authorization.v1.SubjectRulesReviewStatus`
pub(crate) const SUBJECT_RULES_REVIEW_STATUS: &[Field] = &[
    f(1, "resourceRules", ListMsg(RESOURCE_RULE)),
    f(2, "nonResourceRules", ListMsg(NON_RESOURCE_RULE)),
    k(3, "incomplete", Bool),
    f(4, "evaluationError", Str),
];

/// `certificates.v1.CertificateSigningRequest`
pub(crate) const CERTIFICATE_SIGNING_REQUEST: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(CERTIFICATE_SIGNING_REQUEST_SPEC)),
    f(3, "status", Msg(CERTIFICATE_SIGNING_REQUEST_STATUS)),
];

/// `certificates.v1.CertificateSigningRequestCondition`
pub(crate) const CERTIFICATE_SIGNING_REQUEST_CONDITION: &[Field] = &[
    k(1, "type", Str),
    f(2, "reason", Str),
    f(3, "message", Str),
    f(4, "lastUpdateTime", Time),
    f(5, "lastTransitionTime", Time),
    k(6, "status", Str),
];

/// `certificates.v1.CertificateSigningRequestSpec`
pub(crate) const CERTIFICATE_SIGNING_REQUEST_SPEC: &[Field] = &[
    k(1, "request", Bytes),
    f(2, "username", Str),
    f(3, "uid", Str),
    f(4, "groups", ListStr),
    f(5, "usages", ListStr),
    f(6, "extra", MapStrList),
    k(7, "signerName", Str),
    k(8, "expirationSeconds", I32),
];

/// `certificates.v1.CertificateSigningRequestStatus`
pub(crate) const CERTIFICATE_SIGNING_REQUEST_STATUS: &[Field] = &[
    f(
        1,
        "conditions",
        ListMsg(CERTIFICATE_SIGNING_REQUEST_CONDITION),
    ),
    f(2, "certificate", Bytes),
];
