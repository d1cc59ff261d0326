//! Field tables for core/v1 object messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `core.v1.ClientIPConfig`
pub(crate) const CLIENT_IP_CONFIG: &[Field] = &[k(1, "timeoutSeconds", I32)];

/// `core.v1.ConfigMap`
pub(crate) const CONFIG_MAP: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "data", MapStr),
    f(3, "binaryData", MapBytes),
    k(4, "immutable", Bool),
];

/// `core.v1.ContainerExtendedResourceRequest`
pub(crate) const CONTAINER_EXTENDED_RESOURCE_REQUEST: &[Field] = &[
    k(1, "containerName", Str),
    k(2, "resourceName", Str),
    k(3, "requestName", Str),
];

/// `core.v1.ContainerState`
pub(crate) const CONTAINER_STATE: &[Field] = &[
    f(1, "waiting", Msg(CONTAINER_STATE_WAITING)),
    f(2, "running", Msg(CONTAINER_STATE_RUNNING)),
    f(3, "terminated", Msg(CONTAINER_STATE_TERMINATED)),
];

/// `core.v1.ContainerStateRunning`
pub(crate) const CONTAINER_STATE_RUNNING: &[Field] = &[f(1, "startedAt", Time)];

/// `core.v1.ContainerStateTerminated`
pub(crate) const CONTAINER_STATE_TERMINATED: &[Field] = &[
    k(1, "exitCode", I32),
    f(2, "signal", I32),
    f(3, "reason", Str),
    f(4, "message", Str),
    f(5, "startedAt", Time),
    f(6, "finishedAt", Time),
    f(7, "containerID", Str),
];

/// `core.v1.ContainerStateWaiting`
pub(crate) const CONTAINER_STATE_WAITING: &[Field] = &[f(1, "reason", Str), f(2, "message", Str)];

/// `core.v1.ContainerStatus`
pub(crate) const CONTAINER_STATUS: &[Field] = &[
    k(1, "name", Str),
    f(2, "state", Msg(CONTAINER_STATE)),
    f(3, "lastState", Msg(CONTAINER_STATE)),
    k(4, "ready", Bool),
    k(5, "restartCount", I32),
    k(6, "image", Str),
    k(7, "imageID", Str),
    f(8, "containerID", Str),
    k(9, "started", Bool),
    f(10, "allocatedResources", MapQuantity),
    f(
        11,
        "resources",
        Msg(super::core_container::RESOURCE_REQUIREMENTS),
    ),
    f(12, "volumeMounts", ListMsg(VOLUME_MOUNT_STATUS)),
    f(13, "user", Msg(CONTAINER_USER)),
    f(14, "allocatedResourcesStatus", ListMsg(RESOURCE_STATUS)),
    f(15, "stopSignal", Str),
];

/// `core.v1.ContainerUser`
pub(crate) const CONTAINER_USER: &[Field] = &[f(1, "linux", Msg(LINUX_CONTAINER_USER))];

/// `core.v1.HostIP`
pub(crate) const HOST_IP: &[Field] = &[k(1, "ip", Str)];

/// `core.v1.LinuxContainerUser`
pub(crate) const LINUX_CONTAINER_USER: &[Field] = &[
    k(1, "uid", I64),
    k(2, "gid", I64),
    f(3, "supplementalGroups", ListI64),
];

/// `core.v1.LoadBalancerIngress`
pub(crate) const LOAD_BALANCER_INGRESS: &[Field] = &[
    f(1, "ip", Str),
    f(2, "hostname", Str),
    f(3, "ipMode", Str),
    f(4, "ports", ListMsg(PORT_STATUS)),
];

/// `core.v1.LoadBalancerStatus`
pub(crate) const LOAD_BALANCER_STATUS: &[Field] =
    &[f(1, "ingress", ListMsg(LOAD_BALANCER_INGRESS))];

/// `core.v1.ModifyVolumeStatus`
pub(crate) const MODIFY_VOLUME_STATUS: &[Field] = &[
    f(1, "targetVolumeAttributesClassName", Str),
    k(2, "status", Str),
];

/// `core.v1.Namespace`
pub(crate) const NAMESPACE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(NAMESPACE_SPEC)),
    f(3, "status", Msg(NAMESPACE_STATUS)),
];

/// `core.v1.NamespaceCondition`
pub(crate) const NAMESPACE_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(4, "lastTransitionTime", Time),
    f(5, "reason", Str),
    f(6, "message", Str),
];

/// `core.v1.NamespaceSpec`
pub(crate) const NAMESPACE_SPEC: &[Field] = &[f(1, "finalizers", ListStr)];

/// `core.v1.NamespaceStatus`
pub(crate) const NAMESPACE_STATUS: &[Field] = &[
    f(1, "phase", Str),
    f(2, "conditions", ListMsg(NAMESPACE_CONDITION)),
];

/// `core.v1.ObjectReference`
pub(crate) const OBJECT_REFERENCE: &[Field] = &[
    f(1, "kind", Str),
    f(2, "namespace", Str),
    f(3, "name", Str),
    f(4, "uid", Str),
    f(5, "apiVersion", Str),
    f(6, "resourceVersion", Str),
    f(7, "fieldPath", Str),
];

/// `core.v1.PersistentVolumeClaim`
pub(crate) const PERSISTENT_VOLUME_CLAIM: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(
        2,
        "spec",
        Msg(super::core_volume::PERSISTENT_VOLUME_CLAIM_SPEC),
    ),
    f(3, "status", Msg(PERSISTENT_VOLUME_CLAIM_STATUS)),
];

/// `core.v1.PersistentVolumeClaimCondition`
pub(crate) const PERSISTENT_VOLUME_CLAIM_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastProbeTime", Time),
    f(4, "lastTransitionTime", Time),
    f(5, "reason", Str),
    f(6, "message", Str),
];

/// `core.v1.PersistentVolumeClaimStatus`
pub(crate) const PERSISTENT_VOLUME_CLAIM_STATUS: &[Field] = &[
    f(1, "phase", Str),
    f(2, "accessModes", ListStr),
    f(3, "capacity", MapQuantity),
    f(4, "conditions", ListMsg(PERSISTENT_VOLUME_CLAIM_CONDITION)),
    f(5, "allocatedResources", MapQuantity),
    f(7, "allocatedResourceStatuses", MapStr),
    f(8, "currentVolumeAttributesClassName", Str),
    f(9, "modifyVolumeStatus", Msg(MODIFY_VOLUME_STATUS)),
];

/// `core.v1.Pod`
pub(crate) const POD: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(POD_SPEC)),
    f(3, "status", Msg(POD_STATUS)),
];

/// `core.v1.PodCondition`
pub(crate) const POD_CONDITION: &[Field] = &[
    k(1, "type", Str),
    k(2, "status", Str),
    f(3, "lastProbeTime", Time),
    f(4, "lastTransitionTime", Time),
    f(5, "reason", Str),
    f(6, "message", Str),
    f(7, "observedGeneration", I64),
];

/// `core.v1.PodExtendedResourceClaimStatus`
pub(crate) const POD_EXTENDED_RESOURCE_CLAIM_STATUS: &[Field] = &[
    f(
        1,
        "requestMappings",
        ListMsg(CONTAINER_EXTENDED_RESOURCE_REQUEST),
    ),
    k(2, "resourceClaimName", Str),
];

/// `core.v1.PodIP`
pub(crate) const POD_IP: &[Field] = &[k(1, "ip", Str)];

/// `core.v1.PodResourceClaimStatus`
pub(crate) const POD_RESOURCE_CLAIM_STATUS: &[Field] =
    &[k(1, "name", Str), f(2, "resourceClaimName", Str)];

/// `core.v1.PodSpec`
pub(crate) const POD_SPEC: &[Field] = &[
    f(1, "volumes", ListMsg(super::core_volume::VOLUME)),
    f(2, "containers", ListMsg(super::core_container::CONTAINER)),
    f(3, "restartPolicy", Str),
    k(4, "terminationGracePeriodSeconds", I64),
    k(5, "activeDeadlineSeconds", I64),
    f(6, "dnsPolicy", Str),
    f(7, "nodeSelector", MapStr),
    f(8, "serviceAccountName", Str),
    f(9, "serviceAccount", Str),
    f(10, "nodeName", Str),
    f(11, "hostNetwork", Bool),
    f(12, "hostPID", Bool),
    f(13, "hostIPC", Bool),
    f(
        14,
        "securityContext",
        Msg(super::core_pod::POD_SECURITY_CONTEXT),
    ),
    f(
        15,
        "imagePullSecrets",
        ListMsg(super::core_volume::LOCAL_OBJECT_REFERENCE),
    ),
    f(16, "hostname", Str),
    f(17, "subdomain", Str),
    f(18, "affinity", Msg(super::core_pod::AFFINITY)),
    f(19, "schedulerName", Str),
    f(
        20,
        "initContainers",
        ListMsg(super::core_container::CONTAINER),
    ),
    k(21, "automountServiceAccountToken", Bool),
    f(22, "tolerations", ListMsg(super::core_pod::TOLERATION)),
    f(23, "hostAliases", ListMsg(super::core_pod::HOST_ALIAS)),
    f(24, "priorityClassName", Str),
    k(25, "priority", I32),
    f(26, "dnsConfig", Msg(super::core_pod::POD_DNS_CONFIG)),
    k(27, "shareProcessNamespace", Bool),
    f(
        28,
        "readinessGates",
        ListMsg(super::core_pod::POD_READINESS_GATE),
    ),
    f(29, "runtimeClassName", Str),
    k(30, "enableServiceLinks", Bool),
    f(31, "preemptionPolicy", Str),
    f(32, "overhead", MapQuantity),
    f(
        33,
        "topologySpreadConstraints",
        ListMsg(super::core_pod::TOPOLOGY_SPREAD_CONSTRAINT),
    ),
    f(
        34,
        "ephemeralContainers",
        ListMsg(super::core_container::EPHEMERAL_CONTAINER),
    ),
    k(35, "setHostnameAsFQDN", Bool),
    f(36, "os", Msg(super::core_pod::POD_OS)),
    k(37, "hostUsers", Bool),
    f(
        38,
        "schedulingGates",
        ListMsg(super::core_pod::POD_SCHEDULING_GATE),
    ),
    f(
        39,
        "resourceClaims",
        ListMsg(super::core_pod::POD_RESOURCE_CLAIM),
    ),
    f(
        40,
        "resources",
        Msg(super::core_container::RESOURCE_REQUIREMENTS),
    ),
    f(41, "hostnameOverride", Str),
    f(42, "workloadRef", Msg(super::core_pod::WORKLOAD_REFERENCE)),
];

/// `core.v1.PodStatus`
pub(crate) const POD_STATUS: &[Field] = &[
    f(1, "phase", Str),
    f(2, "conditions", ListMsg(POD_CONDITION)),
    f(3, "message", Str),
    f(4, "reason", Str),
    f(5, "hostIP", Str),
    f(6, "podIP", Str),
    f(7, "startTime", Time),
    f(8, "containerStatuses", ListMsg(CONTAINER_STATUS)),
    f(9, "qosClass", Str),
    f(10, "initContainerStatuses", ListMsg(CONTAINER_STATUS)),
    f(11, "nominatedNodeName", Str),
    f(12, "podIPs", ListMsg(POD_IP)),
    f(13, "ephemeralContainerStatuses", ListMsg(CONTAINER_STATUS)),
    f(14, "resize", Str),
    f(
        15,
        "resourceClaimStatuses",
        ListMsg(POD_RESOURCE_CLAIM_STATUS),
    ),
    f(16, "hostIPs", ListMsg(HOST_IP)),
    f(17, "observedGeneration", I64),
    f(
        18,
        "extendedResourceClaimStatus",
        Msg(POD_EXTENDED_RESOURCE_CLAIM_STATUS),
    ),
    f(19, "allocatedResources", MapQuantity),
    f(
        20,
        "resources",
        Msg(super::core_container::RESOURCE_REQUIREMENTS),
    ),
];

/// `core.v1.PodTemplate`
pub(crate) const POD_TEMPLATE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "template", Msg(POD_TEMPLATE_SPEC)),
];

/// `core.v1.PodTemplateSpec`
pub(crate) const POD_TEMPLATE_SPEC: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(POD_SPEC)),
];

/// `core.v1.PortStatus`
pub(crate) const PORT_STATUS: &[Field] =
    &[k(1, "port", I32), k(2, "protocol", Str), f(3, "error", Str)];

/// `core.v1.ResourceHealth`
pub(crate) const RESOURCE_HEALTH: &[Field] = &[k(1, "resourceID", Str), f(2, "health", Str)];

/// `core.v1.ResourceQuota`
pub(crate) const RESOURCE_QUOTA: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(RESOURCE_QUOTA_SPEC)),
    f(3, "status", Msg(RESOURCE_QUOTA_STATUS)),
];

/// `core.v1.ResourceQuotaSpec`
pub(crate) const RESOURCE_QUOTA_SPEC: &[Field] = &[
    f(1, "hard", MapQuantity),
    f(2, "scopes", ListStr),
    f(3, "scopeSelector", Msg(SCOPE_SELECTOR)),
];

/// `core.v1.ResourceQuotaStatus`
pub(crate) const RESOURCE_QUOTA_STATUS: &[Field] =
    &[f(1, "hard", MapQuantity), f(2, "used", MapQuantity)];

/// `core.v1.ResourceStatus`
pub(crate) const RESOURCE_STATUS: &[Field] = &[
    k(1, "name", Str),
    f(2, "resources", ListMsg(RESOURCE_HEALTH)),
];

/// `core.v1.ScopeSelector`
pub(crate) const SCOPE_SELECTOR: &[Field] = &[f(
    1,
    "matchExpressions",
    ListMsg(SCOPED_RESOURCE_SELECTOR_REQUIREMENT),
)];

/// `core.v1.ScopedResourceSelectorRequirement`
pub(crate) const SCOPED_RESOURCE_SELECTOR_REQUIREMENT: &[Field] = &[
    k(1, "scopeName", Str),
    k(2, "operator", Str),
    f(3, "values", ListStr),
];

/// `core.v1.Secret`
pub(crate) const SECRET: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "data", MapBytes),
    f(3, "type", Str),
    f(4, "stringData", MapStr),
    k(5, "immutable", Bool),
];

/// `core.v1.Service`
pub(crate) const SERVICE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(SERVICE_SPEC)),
    f(3, "status", Msg(SERVICE_STATUS)),
];

/// `core.v1.ServiceAccount`
pub(crate) const SERVICE_ACCOUNT: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "secrets", ListMsg(OBJECT_REFERENCE)),
    f(
        3,
        "imagePullSecrets",
        ListMsg(super::core_volume::LOCAL_OBJECT_REFERENCE),
    ),
    k(4, "automountServiceAccountToken", Bool),
];

/// `core.v1.ServicePort`
pub(crate) const SERVICE_PORT: &[Field] = &[
    f(1, "name", Str),
    f(2, "protocol", Str),
    k(3, "port", I32),
    f(4, "targetPort", IntOrString),
    f(5, "nodePort", I32),
    f(6, "appProtocol", Str),
];

/// `core.v1.ServiceSpec`
pub(crate) const SERVICE_SPEC: &[Field] = &[
    f(1, "ports", ListMsg(SERVICE_PORT)),
    f(2, "selector", MapStr),
    f(3, "clusterIP", Str),
    f(4, "type", Str),
    f(5, "externalIPs", ListStr),
    f(7, "sessionAffinity", Str),
    f(8, "loadBalancerIP", Str),
    f(9, "loadBalancerSourceRanges", ListStr),
    f(10, "externalName", Str),
    f(11, "externalTrafficPolicy", Str),
    f(12, "healthCheckNodePort", I32),
    f(13, "publishNotReadyAddresses", Bool),
    f(14, "sessionAffinityConfig", Msg(SESSION_AFFINITY_CONFIG)),
    f(17, "ipFamilyPolicy", Str),
    f(18, "clusterIPs", ListStr),
    f(19, "ipFamilies", ListStr),
    k(20, "allocateLoadBalancerNodePorts", Bool),
    f(21, "loadBalancerClass", Str),
    f(22, "internalTrafficPolicy", Str),
    f(23, "trafficDistribution", Str),
];

/// `core.v1.ServiceStatus`
pub(crate) const SERVICE_STATUS: &[Field] = &[
    f(1, "loadBalancer", Msg(LOAD_BALANCER_STATUS)),
    f(2, "conditions", ListMsg(super::meta::CONDITION)),
];

/// `core.v1.SessionAffinityConfig`
pub(crate) const SESSION_AFFINITY_CONFIG: &[Field] = &[f(1, "clientIP", Msg(CLIENT_IP_CONFIG))];

/// `core.v1.VolumeMountStatus`
pub(crate) const VOLUME_MOUNT_STATUS: &[Field] = &[
    k(1, "name", Str),
    k(2, "mountPath", Str),
    f(3, "readOnly", Bool),
    f(4, "recursiveReadOnly", Str),
];
