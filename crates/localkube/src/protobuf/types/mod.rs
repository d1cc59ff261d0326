//! Message tables: for every supported Kubernetes protobuf message, the
//! protobuf tag, JSON name and [`Kind`] of each of its fields.
//!
//! The tags and names are facts of the Kubernetes API (its `generated.proto`
//! files and OpenAPI schema). Each table is a `const` slice named after its
//! message in SCREAMING_SNAKE_CASE, in the module of its API group; tables
//! refer to each other through [`Kind::Msg`], [`Kind::Inline`] and
//! [`Kind::ListMsg`]. The tables form a tree (no message contains itself),
//! so decoding recursion is bounded by the depth of the API types.
//!
//! A field built with [`k`] keeps its zero value in the JSON (`0`, `""`,
//! `false`, `null` time): those are the Go pointer fields, whose presence on
//! the wire means the client set them (`spec.replicas: 0`), and the Go fields
//! without `omitempty` (`ServicePort.port`, `RoleRef.name`). Fields built
//! with [`f`] are dropped from the JSON when they hold the zero value, as
//! Go's `omitempty` would.

pub(crate) mod apps;
pub(crate) mod auth;
pub(crate) mod autoscaling_v1;
pub(crate) mod autoscaling_v2;
pub(crate) mod batch;
pub(crate) mod core;
pub(crate) mod core_container;
pub(crate) mod core_pod;
pub(crate) mod core_volume;
pub(crate) mod meta;
pub(crate) mod networking;
pub(crate) mod policy;
pub(crate) mod rbac;
pub(crate) mod scheduling;

/// One field of a message table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// The protobuf field number.
    pub(crate) tag: u32,
    /// The JSON key (empty for [`Kind::Inline`]).
    pub(crate) name: &'static str,
    /// How to decode the field and render it as JSON.
    pub(crate) kind: Kind,
    /// Emit the field even when it holds its zero value.
    pub(crate) keep_zero: bool,
}

/// How a field is encoded and how it appears in the JSON object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// Length-delimited UTF-8 -> JSON string.
    Str,
    /// Length-delimited bytes -> base64 JSON string (Go `[]byte`).
    Bytes,
    /// Varint -> JSON number.
    I32,
    /// Varint -> JSON number.
    I64,
    /// Varint -> JSON boolean.
    Bool,
    /// `meta.v1.Time{seconds=1, nanos=2}` -> RFC 3339 string, seconds precision.
    Time,
    /// `resource.Quantity{string=1}` -> JSON string.
    Quantity,
    /// `intstr.IntOrString{type=1, intVal=2, strVal=3}` -> JSON number or string.
    IntOrString,
    /// `runtime.RawExtension{raw=1}` or `meta.v1.FieldsV1{Raw=1}` -> the raw JSON.
    RawJson,
    /// A nested message -> JSON object (emitted whenever present, even empty).
    Msg(&'static [Field]),
    /// A Go embedded struct (`json:",inline"`): its fields go into the parent object.
    Inline(&'static [Field]),
    /// Repeated string -> JSON array.
    ListStr,
    /// Repeated int32, packed or not -> JSON array.
    ListI32,
    /// Repeated int64, packed or not -> JSON array.
    ListI64,
    /// Repeated message -> JSON array of objects.
    ListMsg(&'static [Field]),
    /// `map<string, string>` -> JSON object.
    MapStr,
    /// `map<string, bytes>` -> JSON object of base64 strings.
    MapBytes,
    /// `map<string, Quantity>` -> JSON object of strings.
    MapQuantity,
    /// `map<string, Time>` -> JSON object of RFC 3339 strings.
    MapTime,
    /// `map<string, ExtraValue{items=1 repeated string}>` -> JSON object of
    /// string arrays.
    MapStrList,
}

/// A field dropped from the JSON when it holds its zero value (`omitempty`).
pub(crate) const fn f(tag: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        name,
        kind,
        keep_zero: false,
    }
}

/// A field kept in the JSON even when zero (Go pointer or non-`omitempty`).
pub(crate) const fn k(tag: u32, name: &'static str, kind: Kind) -> Field {
    Field {
        tag,
        name,
        kind,
        keep_zero: true,
    }
}
