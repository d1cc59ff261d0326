//! Field tables for core/v1 volume messages: tag, JSON name and kind of each field (format in `super`).

use super::{Field, Kind::*, f, k};

/// `core.v1.AWSElasticBlockStoreVolumeSource`
pub(crate) const AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE: &[Field] = &[
    k(1, "volumeID", Str),
    f(2, "fsType", Str),
    f(3, "partition", I32),
    f(4, "readOnly", Bool),
];

/// `core.v1.AzureDiskVolumeSource`
pub(crate) const AZURE_DISK_VOLUME_SOURCE: &[Field] = &[
    k(1, "diskName", Str),
    k(2, "diskURI", Str),
    f(3, "cachingMode", Str),
    f(4, "fsType", Str),
    f(5, "readOnly", Bool),
    k(6, "kind", Str),
];

/// `core.v1.AzureFileVolumeSource`
pub(crate) const AZURE_FILE_VOLUME_SOURCE: &[Field] = &[
    k(1, "secretName", Str),
    k(2, "shareName", Str),
    f(3, "readOnly", Bool),
];

/// `core.v1.CSIVolumeSource`
pub(crate) const CSI_VOLUME_SOURCE: &[Field] = &[
    k(1, "driver", Str),
    k(2, "readOnly", Bool),
    f(3, "fsType", Str),
    f(4, "volumeAttributes", MapStr),
    f(5, "nodePublishSecretRef", Msg(LOCAL_OBJECT_REFERENCE)),
];

/// `core.v1.CephFSVolumeSource`
pub(crate) const CEPH_FS_VOLUME_SOURCE: &[Field] = &[
    f(1, "monitors", ListStr),
    f(2, "path", Str),
    f(3, "user", Str),
    f(4, "secretFile", Str),
    f(5, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
    f(6, "readOnly", Bool),
];

/// `core.v1.CinderVolumeSource`
pub(crate) const CINDER_VOLUME_SOURCE: &[Field] = &[
    k(1, "volumeID", Str),
    f(2, "fsType", Str),
    f(3, "readOnly", Bool),
    f(4, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
];

/// `core.v1.ClusterTrustBundleProjection`
pub(crate) const CLUSTER_TRUST_BUNDLE_PROJECTION: &[Field] = &[
    f(1, "name", Str),
    f(2, "signerName", Str),
    f(3, "labelSelector", Msg(super::meta::LABEL_SELECTOR)),
    k(4, "path", Str),
    k(5, "optional", Bool),
];

/// `core.v1.ConfigMapProjection`
pub(crate) const CONFIG_MAP_PROJECTION: &[Field] = &[
    f(1, "", Inline(LOCAL_OBJECT_REFERENCE)),
    f(2, "items", ListMsg(KEY_TO_PATH)),
    k(4, "optional", Bool),
];

/// `core.v1.ConfigMapVolumeSource`
pub(crate) const CONFIG_MAP_VOLUME_SOURCE: &[Field] = &[
    f(1, "", Inline(LOCAL_OBJECT_REFERENCE)),
    f(2, "items", ListMsg(KEY_TO_PATH)),
    k(3, "defaultMode", I32),
    k(4, "optional", Bool),
];

/// `core.v1.DownwardAPIProjection`
pub(crate) const DOWNWARD_API_PROJECTION: &[Field] =
    &[f(1, "items", ListMsg(DOWNWARD_API_VOLUME_FILE))];

/// `core.v1.DownwardAPIVolumeFile`
pub(crate) const DOWNWARD_API_VOLUME_FILE: &[Field] = &[
    k(1, "path", Str),
    f(2, "fieldRef", Msg(OBJECT_FIELD_SELECTOR)),
    f(3, "resourceFieldRef", Msg(RESOURCE_FIELD_SELECTOR)),
    k(4, "mode", I32),
];

/// `core.v1.DownwardAPIVolumeSource`
pub(crate) const DOWNWARD_API_VOLUME_SOURCE: &[Field] = &[
    f(1, "items", ListMsg(DOWNWARD_API_VOLUME_FILE)),
    k(2, "defaultMode", I32),
];

/// `core.v1.EmptyDirVolumeSource`
pub(crate) const EMPTY_DIR_VOLUME_SOURCE: &[Field] =
    &[f(1, "medium", Str), f(2, "sizeLimit", Quantity)];

/// `core.v1.EphemeralVolumeSource`
pub(crate) const EPHEMERAL_VOLUME_SOURCE: &[Field] = &[f(
    1,
    "volumeClaimTemplate",
    Msg(PERSISTENT_VOLUME_CLAIM_TEMPLATE),
)];

/// `core.v1.FCVolumeSource`
pub(crate) const FC_VOLUME_SOURCE: &[Field] = &[
    f(1, "targetWWNs", ListStr),
    k(2, "lun", I32),
    f(3, "fsType", Str),
    f(4, "readOnly", Bool),
    f(5, "wwids", ListStr),
];

/// `core.v1.FlexVolumeSource`
pub(crate) const FLEX_VOLUME_SOURCE: &[Field] = &[
    k(1, "driver", Str),
    f(2, "fsType", Str),
    f(3, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
    f(4, "readOnly", Bool),
    f(5, "options", MapStr),
];

/// `core.v1.FlockerVolumeSource`
pub(crate) const FLOCKER_VOLUME_SOURCE: &[Field] =
    &[f(1, "datasetName", Str), f(2, "datasetUUID", Str)];

/// `core.v1.GCEPersistentDiskVolumeSource`
pub(crate) const GCE_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] = &[
    k(1, "pdName", Str),
    f(2, "fsType", Str),
    f(3, "partition", I32),
    f(4, "readOnly", Bool),
];

/// `core.v1.GitRepoVolumeSource`
pub(crate) const GIT_REPO_VOLUME_SOURCE: &[Field] = &[
    k(1, "repository", Str),
    f(2, "revision", Str),
    f(3, "directory", Str),
];

/// `core.v1.GlusterfsVolumeSource`
pub(crate) const GLUSTERFS_VOLUME_SOURCE: &[Field] = &[
    k(1, "endpoints", Str),
    k(2, "path", Str),
    f(3, "readOnly", Bool),
];

/// `core.v1.HostPathVolumeSource`
pub(crate) const HOST_PATH_VOLUME_SOURCE: &[Field] = &[k(1, "path", Str), f(2, "type", Str)];

/// `core.v1.ImageVolumeSource`
pub(crate) const IMAGE_VOLUME_SOURCE: &[Field] = &[f(1, "reference", Str), f(2, "pullPolicy", Str)];

/// `core.v1.ISCSIVolumeSource`
pub(crate) const ISCSI_VOLUME_SOURCE: &[Field] = &[
    k(1, "targetPortal", Str),
    k(2, "iqn", Str),
    k(3, "lun", I32),
    f(4, "iscsiInterface", Str),
    f(5, "fsType", Str),
    f(6, "readOnly", Bool),
    f(7, "portals", ListStr),
    f(8, "chapAuthDiscovery", Bool),
    f(10, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
    f(11, "chapAuthSession", Bool),
    f(12, "initiatorName", Str),
];

/// `core.v1.KeyToPath`
pub(crate) const KEY_TO_PATH: &[Field] = &[k(1, "key", Str), k(2, "path", Str), k(3, "mode", I32)];

/// `core.v1.LocalObjectReference`
pub(crate) const LOCAL_OBJECT_REFERENCE: &[Field] = &[f(1, "name", Str)];

/// `core.v1.NFSVolumeSource`
pub(crate) const NFS_VOLUME_SOURCE: &[Field] = &[
    k(1, "server", Str),
    k(2, "path", Str),
    f(3, "readOnly", Bool),
];

/// `core.v1.ObjectFieldSelector`
pub(crate) const OBJECT_FIELD_SELECTOR: &[Field] =
    &[f(1, "apiVersion", Str), k(2, "fieldPath", Str)];

/// `core.v1.PersistentVolumeClaimSpec`
pub(crate) const PERSISTENT_VOLUME_CLAIM_SPEC: &[Field] = &[
    f(1, "accessModes", ListStr),
    f(2, "resources", Msg(VOLUME_RESOURCE_REQUIREMENTS)),
    f(3, "volumeName", Str),
    f(4, "selector", Msg(super::meta::LABEL_SELECTOR)),
    f(5, "storageClassName", Str),
    f(6, "volumeMode", Str),
    f(7, "dataSource", Msg(TYPED_LOCAL_OBJECT_REFERENCE)),
    f(8, "dataSourceRef", Msg(TYPED_OBJECT_REFERENCE)),
    f(9, "volumeAttributesClassName", Str),
];

/// `core.v1.PersistentVolumeClaimTemplate`
pub(crate) const PERSISTENT_VOLUME_CLAIM_TEMPLATE: &[Field] = &[
    f(1, "metadata", Msg(super::meta::OBJECT_META)),
    f(2, "spec", Msg(PERSISTENT_VOLUME_CLAIM_SPEC)),
];

/// `core.v1.PersistentVolumeClaimVolumeSource`
pub(crate) const PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE: &[Field] =
    &[k(1, "claimName", Str), f(2, "readOnly", Bool)];

/// `core.v1.PhotonPersistentDiskVolumeSource`
pub(crate) const PHOTON_PERSISTENT_DISK_VOLUME_SOURCE: &[Field] =
    &[k(1, "pdID", Str), f(2, "fsType", Str)];

/// `core.v1.PodCertificateProjection`
pub(crate) const POD_CERTIFICATE_PROJECTION: &[Field] = &[
    k(1, "signerName", Str),
    k(2, "keyType", Str),
    k(3, "maxExpirationSeconds", I32),
    f(4, "credentialBundlePath", Str),
    f(5, "keyPath", Str),
    f(6, "certificateChainPath", Str),
    f(7, "userAnnotations", MapStr),
];

/// `core.v1.PortworxVolumeSource`
pub(crate) const PORTWORX_VOLUME_SOURCE: &[Field] = &[
    k(1, "volumeID", Str),
    f(2, "fsType", Str),
    f(3, "readOnly", Bool),
];

/// `core.v1.ProjectedVolumeSource`
pub(crate) const PROJECTED_VOLUME_SOURCE: &[Field] = &[
    f(1, "sources", ListMsg(VOLUME_PROJECTION)),
    k(2, "defaultMode", I32),
];

/// `core.v1.QuobyteVolumeSource`
pub(crate) const QUOBYTE_VOLUME_SOURCE: &[Field] = &[
    k(1, "registry", Str),
    k(2, "volume", Str),
    f(3, "readOnly", Bool),
    f(4, "user", Str),
    f(5, "group", Str),
    f(6, "tenant", Str),
];

/// `core.v1.RBDVolumeSource`
pub(crate) const RBD_VOLUME_SOURCE: &[Field] = &[
    f(1, "monitors", ListStr),
    k(2, "image", Str),
    f(3, "fsType", Str),
    f(4, "pool", Str),
    f(5, "user", Str),
    f(6, "keyring", Str),
    f(7, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
    f(8, "readOnly", Bool),
];

/// `core.v1.ResourceFieldSelector`
pub(crate) const RESOURCE_FIELD_SELECTOR: &[Field] = &[
    f(1, "containerName", Str),
    k(2, "resource", Str),
    f(3, "divisor", Quantity),
];

/// `core.v1.ScaleIOVolumeSource`
pub(crate) const SCALE_IO_VOLUME_SOURCE: &[Field] = &[
    k(1, "gateway", Str),
    k(2, "system", Str),
    f(3, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
    f(4, "sslEnabled", Bool),
    f(5, "protectionDomain", Str),
    f(6, "storagePool", Str),
    f(7, "storageMode", Str),
    k(8, "volumeName", Str),
    f(9, "fsType", Str),
    f(10, "readOnly", Bool),
];

/// `core.v1.SecretProjection`
pub(crate) const SECRET_PROJECTION: &[Field] = &[
    f(1, "", Inline(LOCAL_OBJECT_REFERENCE)),
    f(2, "items", ListMsg(KEY_TO_PATH)),
    k(4, "optional", Bool),
];

/// `core.v1.SecretVolumeSource`
pub(crate) const SECRET_VOLUME_SOURCE: &[Field] = &[
    f(1, "secretName", Str),
    f(2, "items", ListMsg(KEY_TO_PATH)),
    k(3, "defaultMode", I32),
    k(4, "optional", Bool),
];

/// `core.v1.ServiceAccountTokenProjection`
pub(crate) const SERVICE_ACCOUNT_TOKEN_PROJECTION: &[Field] = &[
    f(1, "audience", Str),
    k(2, "expirationSeconds", I64),
    k(3, "path", Str),
];

/// `core.v1.StorageOSVolumeSource`
pub(crate) const STORAGE_OS_VOLUME_SOURCE: &[Field] = &[
    k(1, "volumeName", Str),
    f(2, "volumeNamespace", Str),
    f(3, "fsType", Str),
    f(4, "readOnly", Bool),
    f(5, "secretRef", Msg(LOCAL_OBJECT_REFERENCE)),
];

/// `core.v1.TypedLocalObjectReference`
pub(crate) const TYPED_LOCAL_OBJECT_REFERENCE: &[Field] =
    &[f(1, "apiGroup", Str), k(2, "kind", Str), k(3, "name", Str)];

/// `core.v1.TypedObjectReference`
pub(crate) const TYPED_OBJECT_REFERENCE: &[Field] = &[
    f(1, "apiGroup", Str),
    k(2, "kind", Str),
    k(3, "name", Str),
    f(4, "namespace", Str),
];

/// `core.v1.Volume`
pub(crate) const VOLUME: &[Field] = &[k(1, "name", Str), f(2, "", Inline(VOLUME_SOURCE))];

/// `core.v1.VolumeProjection`
pub(crate) const VOLUME_PROJECTION: &[Field] = &[
    f(1, "secret", Msg(SECRET_PROJECTION)),
    f(2, "downwardAPI", Msg(DOWNWARD_API_PROJECTION)),
    f(3, "configMap", Msg(CONFIG_MAP_PROJECTION)),
    f(
        4,
        "serviceAccountToken",
        Msg(SERVICE_ACCOUNT_TOKEN_PROJECTION),
    ),
    f(
        5,
        "clusterTrustBundle",
        Msg(CLUSTER_TRUST_BUNDLE_PROJECTION),
    ),
    f(6, "podCertificate", Msg(POD_CERTIFICATE_PROJECTION)),
];

/// `core.v1.VolumeResourceRequirements`
pub(crate) const VOLUME_RESOURCE_REQUIREMENTS: &[Field] =
    &[f(1, "limits", MapQuantity), f(2, "requests", MapQuantity)];

/// `core.v1.VolumeSource`
pub(crate) const VOLUME_SOURCE: &[Field] = &[
    f(1, "hostPath", Msg(HOST_PATH_VOLUME_SOURCE)),
    f(2, "emptyDir", Msg(EMPTY_DIR_VOLUME_SOURCE)),
    f(
        3,
        "gcePersistentDisk",
        Msg(GCE_PERSISTENT_DISK_VOLUME_SOURCE),
    ),
    f(
        4,
        "awsElasticBlockStore",
        Msg(AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE),
    ),
    f(5, "gitRepo", Msg(GIT_REPO_VOLUME_SOURCE)),
    f(6, "secret", Msg(SECRET_VOLUME_SOURCE)),
    f(7, "nfs", Msg(NFS_VOLUME_SOURCE)),
    f(8, "iscsi", Msg(ISCSI_VOLUME_SOURCE)),
    f(9, "glusterfs", Msg(GLUSTERFS_VOLUME_SOURCE)),
    f(
        10,
        "persistentVolumeClaim",
        Msg(PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE),
    ),
    f(11, "rbd", Msg(RBD_VOLUME_SOURCE)),
    f(12, "flexVolume", Msg(FLEX_VOLUME_SOURCE)),
    f(13, "cinder", Msg(CINDER_VOLUME_SOURCE)),
    f(14, "cephfs", Msg(CEPH_FS_VOLUME_SOURCE)),
    f(15, "flocker", Msg(FLOCKER_VOLUME_SOURCE)),
    f(16, "downwardAPI", Msg(DOWNWARD_API_VOLUME_SOURCE)),
    f(17, "fc", Msg(FC_VOLUME_SOURCE)),
    f(18, "azureFile", Msg(AZURE_FILE_VOLUME_SOURCE)),
    f(19, "configMap", Msg(CONFIG_MAP_VOLUME_SOURCE)),
    f(20, "vsphereVolume", Msg(VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE)),
    f(21, "quobyte", Msg(QUOBYTE_VOLUME_SOURCE)),
    f(22, "azureDisk", Msg(AZURE_DISK_VOLUME_SOURCE)),
    f(
        23,
        "photonPersistentDisk",
        Msg(PHOTON_PERSISTENT_DISK_VOLUME_SOURCE),
    ),
    f(24, "portworxVolume", Msg(PORTWORX_VOLUME_SOURCE)),
    f(25, "scaleIO", Msg(SCALE_IO_VOLUME_SOURCE)),
    f(26, "projected", Msg(PROJECTED_VOLUME_SOURCE)),
    f(27, "storageos", Msg(STORAGE_OS_VOLUME_SOURCE)),
    f(28, "csi", Msg(CSI_VOLUME_SOURCE)),
    f(29, "ephemeral", Msg(EPHEMERAL_VOLUME_SOURCE)),
    f(30, "image", Msg(IMAGE_VOLUME_SOURCE)),
];

/// `core.v1.VsphereVirtualDiskVolumeSource`
pub(crate) const VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE: &[Field] = &[
    k(1, "volumePath", Str),
    f(2, "fsType", Str),
    f(3, "storagePolicyName", Str),
    f(4, "storagePolicyID", Str),
];
