//! Field tables for core/v1 container messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `core.v1.Capabilities`
pub(crate) const CAPABILITIES: &[Field] = &[f(1, "add", ListStr), f(2, "drop", ListStr)];

/// `core.v1.ConfigMapEnvSource`
pub(crate) const CONFIG_MAP_ENV_SOURCE: &[Field] = &[
    f(1, "", Inline(super::core_volume::LOCAL_OBJECT_REFERENCE)),
    k(2, "optional", Bool),
];

/// `core.v1.ConfigMapKeySelector`
pub(crate) const CONFIG_MAP_KEY_SELECTOR: &[Field] = &[
    f(1, "", Inline(super::core_volume::LOCAL_OBJECT_REFERENCE)),
    k(2, "key", Str),
    k(3, "optional", Bool),
];

/// `core.v1.Container`
pub(crate) const CONTAINER: &[Field] = &[
    k(1, "name", Str),
    f(2, "image", Str),
    f(3, "command", ListStr),
    f(4, "args", ListStr),
    f(5, "workingDir", Str),
    f(6, "ports", ListMsg(CONTAINER_PORT)),
    f(7, "env", ListMsg(ENV_VAR)),
    f(8, "resources", Msg(RESOURCE_REQUIREMENTS)),
    f(9, "volumeMounts", ListMsg(VOLUME_MOUNT)),
    f(10, "livenessProbe", Msg(PROBE)),
    f(11, "readinessProbe", Msg(PROBE)),
    f(12, "lifecycle", Msg(LIFECYCLE)),
    f(13, "terminationMessagePath", Str),
    f(14, "imagePullPolicy", Str),
    f(15, "securityContext", Msg(SECURITY_CONTEXT)),
    f(16, "stdin", Bool),
    f(17, "stdinOnce", Bool),
    f(18, "tty", Bool),
    f(19, "envFrom", ListMsg(ENV_FROM_SOURCE)),
    f(20, "terminationMessagePolicy", Str),
    f(21, "volumeDevices", ListMsg(VOLUME_DEVICE)),
    f(22, "startupProbe", Msg(PROBE)),
    f(23, "resizePolicy", ListMsg(CONTAINER_RESIZE_POLICY)),
    f(24, "restartPolicy", Str),
    f(25, "restartPolicyRules", ListMsg(CONTAINER_RESTART_RULE)),
];

/// `core.v1.ContainerPort`
pub(crate) const CONTAINER_PORT: &[Field] = &[
    f(1, "name", Str),
    f(2, "hostPort", I32),
    k(3, "containerPort", I32),
    f(4, "protocol", Str),
    f(5, "hostIP", Str),
];

/// `core.v1.ContainerResizePolicy`
pub(crate) const CONTAINER_RESIZE_POLICY: &[Field] =
    &[k(1, "resourceName", Str), k(2, "restartPolicy", Str)];

/// `core.v1.ContainerRestartRule`
pub(crate) const CONTAINER_RESTART_RULE: &[Field] = &[
    k(1, "action", Str),
    f(2, "exitCodes", Msg(CONTAINER_RESTART_RULE_ON_EXIT_CODES)),
];

/// `core.v1.ContainerRestartRuleOnExitCodes`
pub(crate) const CONTAINER_RESTART_RULE_ON_EXIT_CODES: &[Field] =
    &[k(1, "operator", Str), f(2, "values", ListI32)];

/// `core.v1.EnvFromSource`
pub(crate) const ENV_FROM_SOURCE: &[Field] = &[
    f(1, "prefix", Str),
    f(2, "configMapRef", Msg(CONFIG_MAP_ENV_SOURCE)),
    f(3, "secretRef", Msg(SECRET_ENV_SOURCE)),
];

/// `core.v1.EnvVar`
pub(crate) const ENV_VAR: &[Field] = &[
    k(1, "name", Str),
    f(2, "value", Str),
    f(3, "valueFrom", Msg(ENV_VAR_SOURCE)),
];

/// `core.v1.EnvVarSource`
pub(crate) const ENV_VAR_SOURCE: &[Field] = &[
    f(
        1,
        "fieldRef",
        Msg(super::core_volume::OBJECT_FIELD_SELECTOR),
    ),
    f(
        2,
        "resourceFieldRef",
        Msg(super::core_volume::RESOURCE_FIELD_SELECTOR),
    ),
    f(3, "configMapKeyRef", Msg(CONFIG_MAP_KEY_SELECTOR)),
    f(4, "secretKeyRef", Msg(SECRET_KEY_SELECTOR)),
    f(5, "fileKeyRef", Msg(FILE_KEY_SELECTOR)),
];

/// `core.v1.EphemeralContainer`
pub(crate) const EPHEMERAL_CONTAINER: &[Field] = &[
    f(1, "", Inline(EPHEMERAL_CONTAINER_COMMON)),
    f(2, "targetContainerName", Str),
];

/// `core.v1.EphemeralContainerCommon`
pub(crate) const EPHEMERAL_CONTAINER_COMMON: &[Field] = &[
    k(1, "name", Str),
    k(2, "image", Str),
    f(3, "command", ListStr),
    f(4, "args", ListStr),
    f(5, "workingDir", Str),
    f(6, "ports", ListMsg(CONTAINER_PORT)),
    f(7, "env", ListMsg(ENV_VAR)),
    f(8, "resources", Msg(RESOURCE_REQUIREMENTS)),
    f(9, "volumeMounts", ListMsg(VOLUME_MOUNT)),
    f(10, "livenessProbe", Msg(PROBE)),
    f(11, "readinessProbe", Msg(PROBE)),
    f(12, "lifecycle", Msg(LIFECYCLE)),
    f(13, "terminationMessagePath", Str),
    f(14, "imagePullPolicy", Str),
    f(15, "securityContext", Msg(SECURITY_CONTEXT)),
    f(16, "stdin", Bool),
    f(17, "stdinOnce", Bool),
    f(18, "tty", Bool),
    f(19, "envFrom", ListMsg(ENV_FROM_SOURCE)),
    f(20, "terminationMessagePolicy", Str),
    f(21, "volumeDevices", ListMsg(VOLUME_DEVICE)),
    f(22, "startupProbe", Msg(PROBE)),
    f(23, "resizePolicy", ListMsg(CONTAINER_RESIZE_POLICY)),
    f(24, "restartPolicy", Str),
    f(25, "restartPolicyRules", ListMsg(CONTAINER_RESTART_RULE)),
];

/// `core.v1.ExecAction`
pub(crate) const EXEC_ACTION: &[Field] = &[f(1, "command", ListStr)];

/// `core.v1.FileKeySelector`
pub(crate) const FILE_KEY_SELECTOR: &[Field] = &[
    k(1, "volumeName", Str),
    k(2, "path", Str),
    k(3, "key", Str),
    k(4, "optional", Bool),
];

/// `core.v1.GRPCAction`
pub(crate) const GRPC_ACTION: &[Field] = &[k(1, "port", I32), f(2, "service", Str)];

/// `core.v1.HTTPGetAction`
pub(crate) const HTTP_GET_ACTION: &[Field] = &[
    f(1, "path", Str),
    k(2, "port", IntOrString),
    f(3, "host", Str),
    f(4, "scheme", Str),
    f(5, "httpHeaders", ListMsg(HTTP_HEADER)),
];

/// `core.v1.HTTPHeader`
pub(crate) const HTTP_HEADER: &[Field] = &[k(1, "name", Str), k(2, "value", Str)];

/// `core.v1.Lifecycle`
pub(crate) const LIFECYCLE: &[Field] = &[
    f(1, "postStart", Msg(LIFECYCLE_HANDLER)),
    f(2, "preStop", Msg(LIFECYCLE_HANDLER)),
    f(3, "stopSignal", Str),
];

/// `core.v1.LifecycleHandler`
pub(crate) const LIFECYCLE_HANDLER: &[Field] = &[
    f(1, "exec", Msg(EXEC_ACTION)),
    f(2, "httpGet", Msg(HTTP_GET_ACTION)),
    f(3, "tcpSocket", Msg(TCP_SOCKET_ACTION)),
    f(4, "sleep", Msg(SLEEP_ACTION)),
];

/// `core.v1.Probe`
pub(crate) const PROBE: &[Field] = &[
    f(1, "", Inline(PROBE_HANDLER)),
    f(2, "initialDelaySeconds", I32),
    f(3, "timeoutSeconds", I32),
    f(4, "periodSeconds", I32),
    f(5, "successThreshold", I32),
    f(6, "failureThreshold", I32),
    k(7, "terminationGracePeriodSeconds", I64),
];

/// `core.v1.ProbeHandler`
pub(crate) const PROBE_HANDLER: &[Field] = &[
    f(1, "exec", Msg(EXEC_ACTION)),
    f(2, "httpGet", Msg(HTTP_GET_ACTION)),
    f(3, "tcpSocket", Msg(TCP_SOCKET_ACTION)),
    f(4, "grpc", Msg(GRPC_ACTION)),
];

/// `core.v1.ResourceClaim`
pub(crate) const RESOURCE_CLAIM: &[Field] = &[k(1, "name", Str), f(2, "request", Str)];

/// `core.v1.ResourceRequirements`
pub(crate) const RESOURCE_REQUIREMENTS: &[Field] = &[
    f(1, "limits", MapQuantity),
    f(2, "requests", MapQuantity),
    f(3, "claims", ListMsg(RESOURCE_CLAIM)),
];

/// `core.v1.SecretEnvSource`
pub(crate) const SECRET_ENV_SOURCE: &[Field] = &[
    f(1, "", Inline(super::core_volume::LOCAL_OBJECT_REFERENCE)),
    k(2, "optional", Bool),
];

/// `core.v1.SecretKeySelector`
pub(crate) const SECRET_KEY_SELECTOR: &[Field] = &[
    f(1, "", Inline(super::core_volume::LOCAL_OBJECT_REFERENCE)),
    k(2, "key", Str),
    k(3, "optional", Bool),
];

/// `core.v1.SecurityContext`
pub(crate) const SECURITY_CONTEXT: &[Field] = &[
    f(1, "capabilities", Msg(CAPABILITIES)),
    k(2, "privileged", Bool),
    f(3, "seLinuxOptions", Msg(super::core_pod::SE_LINUX_OPTIONS)),
    k(4, "runAsUser", I64),
    k(5, "runAsNonRoot", Bool),
    k(6, "readOnlyRootFilesystem", Bool),
    k(7, "allowPrivilegeEscalation", Bool),
    k(8, "runAsGroup", I64),
    f(9, "procMount", Str),
    f(
        10,
        "windowsOptions",
        Msg(super::core_pod::WINDOWS_SECURITY_CONTEXT_OPTIONS),
    ),
    f(11, "seccompProfile", Msg(super::core_pod::SECCOMP_PROFILE)),
    f(
        12,
        "appArmorProfile",
        Msg(super::core_pod::APP_ARMOR_PROFILE),
    ),
];

/// `core.v1.SleepAction`
pub(crate) const SLEEP_ACTION: &[Field] = &[k(1, "seconds", I64)];

/// `core.v1.TCPSocketAction`
pub(crate) const TCP_SOCKET_ACTION: &[Field] = &[k(1, "port", IntOrString), f(2, "host", Str)];

/// `core.v1.VolumeDevice`
pub(crate) const VOLUME_DEVICE: &[Field] = &[k(1, "name", Str), k(2, "devicePath", Str)];

/// `core.v1.VolumeMount`
pub(crate) const VOLUME_MOUNT: &[Field] = &[
    k(1, "name", Str),
    f(2, "readOnly", Bool),
    k(3, "mountPath", Str),
    f(4, "subPath", Str),
    f(5, "mountPropagation", Str),
    f(6, "subPathExpr", Str),
    f(7, "recursiveReadOnly", Str),
];
