//! Field tables for networking.k8s.io/v1 messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `networking.v1.HTTPIngressPath`
pub(crate) const HTTP_INGRESS_PATH: &[Field] = &[
    f(1, "path", Str),
    f(2, "backend", Msg(INGRESS_BACKEND)),
    k(3, "pathType", Str),
];

/// `networking.v1.HTTPIngressRuleValue`
pub(crate) const HTTP_INGRESS_RULE_VALUE: &[Field] = &[f(1, "paths", ListMsg(HTTP_INGRESS_PATH))];

/// `networking.v1.Ingress`
pub(crate) const INGRESS: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(INGRESS_SPEC)),
    f(3, "status", Msg(INGRESS_STATUS)),
];

/// `networking.v1.IngressBackend`
pub(crate) const INGRESS_BACKEND: &[Field] = &[
    f(
        3,
        "resource",
        Msg(super::core_volume::TYPED_LOCAL_OBJECT_REFERENCE),
    ),
    f(4, "service", Msg(INGRESS_SERVICE_BACKEND)),
];

/// `networking.v1.IngressClass`
pub(crate) const INGRESS_CLASS: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(INGRESS_CLASS_SPEC)),
];

/// `networking.v1.IngressClassParametersReference`
pub(crate) const INGRESS_CLASS_PARAMETERS_REFERENCE: &[Field] = &[
    f(1, "apiGroup", Str),
    k(2, "kind", Str),
    k(3, "name", Str),
    f(4, "scope", Str),
    f(5, "namespace", Str),
];

/// `networking.v1.IngressClassSpec`
pub(crate) const INGRESS_CLASS_SPEC: &[Field] = &[
    f(1, "controller", Str),
    f(2, "parameters", Msg(INGRESS_CLASS_PARAMETERS_REFERENCE)),
];

/// `networking.v1.IngressLoadBalancerIngress`
pub(crate) const INGRESS_LOAD_BALANCER_INGRESS: &[Field] = &[
    f(1, "ip", Str),
    f(2, "hostname", Str),
    f(4, "ports", ListMsg(INGRESS_PORT_STATUS)),
];

/// `networking.v1.IngressLoadBalancerStatus`
pub(crate) const INGRESS_LOAD_BALANCER_STATUS: &[Field] =
    &[f(1, "ingress", ListMsg(INGRESS_LOAD_BALANCER_INGRESS))];

/// `networking.v1.IngressPortStatus`
pub(crate) const INGRESS_PORT_STATUS: &[Field] =
    &[k(1, "port", I32), k(2, "protocol", Str), f(3, "error", Str)];

/// `networking.v1.IngressRule`
pub(crate) const INGRESS_RULE: &[Field] =
    &[f(1, "host", Str), f(2, "", Inline(INGRESS_RULE_VALUE))];

/// `networking.v1.IngressRuleValue`
pub(crate) const INGRESS_RULE_VALUE: &[Field] = &[f(1, "http", Msg(HTTP_INGRESS_RULE_VALUE))];

/// `networking.v1.IngressServiceBackend`
pub(crate) const INGRESS_SERVICE_BACKEND: &[Field] =
    &[k(1, "name", Str), f(2, "port", Msg(SERVICE_BACKEND_PORT))];

/// `networking.v1.IngressSpec`
pub(crate) const INGRESS_SPEC: &[Field] = &[
    f(1, "defaultBackend", Msg(INGRESS_BACKEND)),
    f(2, "tls", ListMsg(INGRESS_TLS)),
    f(3, "rules", ListMsg(INGRESS_RULE)),
    f(4, "ingressClassName", Str),
];

/// `networking.v1.IngressStatus`
pub(crate) const INGRESS_STATUS: &[Field] =
    &[f(1, "loadBalancer", Msg(INGRESS_LOAD_BALANCER_STATUS))];

/// `networking.v1.IngressTLS`
pub(crate) const INGRESS_TLS: &[Field] = &[f(1, "hosts", ListStr), f(2, "secretName", Str)];

/// `networking.v1.ServiceBackendPort`
pub(crate) const SERVICE_BACKEND_PORT: &[Field] = &[f(1, "name", Str), f(2, "number", I32)];
