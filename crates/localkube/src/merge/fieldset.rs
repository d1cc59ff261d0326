//! Field sets: sets of field paths as Kubernetes encodes them in `managedFields[].fieldsV1`.
//!
//! A [`FieldSet`] is a trie of path elements. Each node carries a "member" flag
//! saying the path ending at that node is itself in the set. Encoding
//! (Kubernetes' FieldsV1):
//!
//! * object field `name` -> `"f:name"`;
//! * list-map element -> `"k:{\"name\":\"web\"}"` (compact JSON of the key fields,
//!   keys sorted);
//! * set element -> `"v:<json value>"`; positional element -> `"i:<index>"`;
//! * a member without children is `{}`; a member with children carries `".": {}`
//!   next to the children; a non-member node only holds its children.
//!
//! [`FieldSet::from_object`] follows structured-merge-diff's "fields of an object":
//! every scalar, null, empty object, atomic list and atomic map is a leaf; every
//! list-map and set element is a member (hence the `.` on `k:` nodes); non-empty
//! objects and non-atomic lists are just intermediate nodes.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::schema::{self, ListType, Scope, tracked};

/// Errors decoding FieldsV1 or managedFields.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldSetError {
    /// A FieldsV1 node was not a JSON object.
    #[error("fieldsV1: expected an object at {0:?}")]
    NotAnObject(String),
    /// A FieldsV1 key was not `.`, `f:`, `k:`, `v:` or `i:`.
    #[error("fieldsV1: invalid path element {0:?}")]
    InvalidPathElement(String),
    /// `metadata.managedFields` had an invalid shape.
    #[error("metadata.managedFields: {0}")]
    InvalidManagedFields(String),
}

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PathElement {
    /// An object field.
    Field(String),
    /// A list-map element: key field name -> canonical JSON of its value.
    Key(BTreeMap<String, String>),
    /// A set element: canonical JSON of the value.
    Value(String),
    /// A list element by position (only parsed, never produced).
    Index(usize),
}

impl PathElement {
    fn encode(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{v}", json_string(k)))
                    .collect();
                format!("k:{{{}}}", body.join(","))
            }
            PathElement::Value(json) => format!("v:{json}"),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Result<PathElement, FieldSetError> {
        let bad = || FieldSetError::InvalidPathElement(s.to_owned());
        if let Some(name) = s.strip_prefix("f:") {
            return Ok(PathElement::Field(name.to_owned()));
        }
        if let Some(json) = s.strip_prefix("k:") {
            let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(json) else {
                return Err(bad());
            };
            let key = fields
                .iter()
                .map(|(k, v)| (k.clone(), canonical_json(v)))
                .collect();
            return Ok(PathElement::Key(key));
        }
        if let Some(json) = s.strip_prefix("v:") {
            let value = serde_json::from_str::<Value>(json).map_err(|_| bad())?;
            return Ok(PathElement::Value(canonical_json(&value)));
        }
        if let Some(index) = s.strip_prefix("i:") {
            return index.parse().map(PathElement::Index).map_err(|_| bad());
        }
        Err(bad())
    }

    /// Human-readable form, as in Kubernetes' conflict messages.
    fn display(&self) -> String {
        match self {
            PathElement::Field(name) => format!(".{name}"),
            PathElement::Key(fields) => {
                let body: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", body.join(","))
            }
            PathElement::Value(json) => format!("[={json}]"),
            PathElement::Index(i) => format!("[{i}]"),
        }
    }
}

/// JSON with object keys sorted and no whitespace (stable whatever serde_json's
/// map ordering is).
pub(crate) fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let body: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", json_string(k), canonical_json(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The path element identifying `item` in a list of type `list` (`None` for atomic
/// lists and for list-map elements that carry none of the key fields).
pub(crate) fn element_pe(list: &ListType, item: &Value) -> Option<PathElement> {
    match list {
        ListType::Atomic => None,
        ListType::Set => Some(PathElement::Value(canonical_json(item))),
        ListType::Map(keys) => {
            let obj = item.as_object()?;
            if !keys.iter().any(|k| obj.contains_key(*k)) {
                return None;
            }
            let mut fields = BTreeMap::new();
            for key in keys {
                let value = obj
                    .get(*key)
                    .cloned()
                    .or_else(|| schema::default_key_value(key));
                if let Some(value) = value {
                    fields.insert((*key).to_owned(), canonical_json(&value));
                }
            }
            Some(PathElement::Key(fields))
        }
    }
}

/// The fields of a list element, for list-maps only (set elements are leaves).
pub(crate) fn element_fields<'v>(
    list: &ListType,
    item: &'v Value,
) -> Option<&'v Map<String, Value>> {
    match list {
        ListType::Map(_) => item.as_object(),
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Node {
    member: bool,
    children: FieldSet,
}

/// A set of field paths (a trie). Always normalised: no node is both a non-member
/// and childless, so structural equality is set equality.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FieldSet {
    nodes: BTreeMap<PathElement, Node>,
}

impl FieldSet {
    /// All paths that `obj` sets (see the module docs), with list types from
    /// [`schema::list_type`]. Skips `apiVersion`, `kind`, the system-owned metadata
    /// fields and, unless `include_status`, `status`.
    pub fn from_object(kind: &str, obj: &Value, include_status: bool) -> FieldSet {
        let scope = if include_status {
            Scope::All
        } else {
            Scope::Main
        };
        Self::from_tracked(kind, &tracked(obj, scope))
    }

    /// Like [`FieldSet::from_object`] on an already filtered top-level map.
    pub(crate) fn from_tracked(kind: &str, obj: &Map<String, Value>) -> FieldSet {
        let mut out = FieldSet::default();
        let mut walk = Walk::new(kind);
        walk.object_fields(obj, &mut out);
        out
    }

    /// Parses FieldsV1 JSON.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, FieldSetError> {
        Self::decode(v, "").map(|(_, set)| set)
    }

    fn decode(v: &Value, at: &str) -> Result<(bool, FieldSet), FieldSetError> {
        let Value::Object(map) = v else {
            return Err(FieldSetError::NotAnObject(at.to_owned()));
        };
        let mut dot = false;
        let mut set = FieldSet::default();
        for (key, child) in map {
            if key == "." {
                dot = true;
                continue;
            }
            let pe = PathElement::decode(key)?;
            let (child_dot, children) = Self::decode(child, &format!("{at}{}", pe.display()))?;
            let member = child_dot || children.is_empty();
            // Differently spelled keys (e.g. unsorted `k:`) may name the same node.
            let node = set.nodes.entry(pe).or_default();
            node.member |= member;
            node.children = node.children.union(&children);
        }
        Ok((dot, set))
    }

    /// Encodes as FieldsV1 JSON.
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.encode())
    }

    fn encode(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (pe, node) in &self.nodes {
            let mut body = node.children.encode();
            if node.member && !body.is_empty() {
                body.insert(".".to_owned(), Value::Object(Map::new()));
            }
            out.insert(pe.encode(), Value::Object(body));
        }
        out
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        for (pe, node) in &other.nodes {
            let entry = out.nodes.entry(pe.clone()).or_default();
            entry.member |= node.member;
            entry.children = entry.children.union(&node.children);
        }
        out
    }

    /// Paths in `self` but not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for (pe, node) in &self.nodes {
            let result = match other.nodes.get(pe) {
                None => node.clone(),
                Some(o) => Node {
                    member: node.member && !o.member,
                    children: node.children.difference(&o.children),
                },
            };
            out.put(pe, result);
        }
        out
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::default();
        for (pe, node) in &self.nodes {
            if let Some(o) = other.nodes.get(pe) {
                let result = Node {
                    member: node.member && o.member,
                    children: node.children.intersection(&o.children),
                };
                out.put(pe, result);
            }
        }
        out
    }

    /// Whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every path in the set, human-readable (`.spec.replicas`,
    /// `.spec.template.spec.containers[name="web"].image`), in trie order.
    /// Intermediate members (list elements, `.` nodes) are listed too.
    pub fn leaf_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_paths(&mut String::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut String, out: &mut Vec<String>) {
        for (pe, node) in &self.nodes {
            let len = prefix.len();
            prefix.push_str(&pe.display());
            if node.member {
                out.push(prefix.clone());
            }
            node.children.collect_paths(prefix, out);
            prefix.truncate(len);
        }
    }

    /// Adds `path` as a member (no-op for the empty path).
    pub(crate) fn insert(&mut self, path: &[PathElement]) {
        let Some((first, rest)) = path.split_first() else {
            return;
        };
        let node = self.nodes.entry(first.clone()).or_default();
        if rest.is_empty() {
            node.member = true;
        } else {
            node.children.insert(rest);
        }
    }

    /// The child at `pe`: whether it is a member, and its children.
    pub(crate) fn get(&self, pe: &PathElement) -> Option<(bool, &FieldSet)> {
        self.nodes.get(pe).map(|n| (n.member, &n.children))
    }

    /// A shared empty set.
    pub(crate) fn empty() -> &'static FieldSet {
        static EMPTY: FieldSet = FieldSet {
            nodes: BTreeMap::new(),
        };
        &EMPTY
    }

    /// The set holding only `path` (a member if `member`) with `children` below it.
    pub(crate) fn single(path: &[&PathElement], member: bool, children: &FieldSet) -> FieldSet {
        let Some((last, init)) = path.split_last() else {
            return children.clone();
        };
        let mut out = FieldSet::default();
        out.put(
            last,
            Node {
                member,
                children: children.clone(),
            },
        );
        for pe in init.iter().rev() {
            let mut parent = FieldSet::default();
            parent.put(
                pe,
                Node {
                    member: false,
                    children: out,
                },
            );
            out = parent;
        }
        out
    }

    /// The children of this node: element, member flag, grandchildren.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&PathElement, bool, &FieldSet)> {
        self.nodes.iter().map(|(pe, n)| (pe, n.member, &n.children))
    }

    fn put(&mut self, pe: &PathElement, node: Node) {
        if node.member || !node.children.is_empty() {
            self.nodes.insert(pe.clone(), node);
        }
    }
}

/// Result of comparing two versions of an object.
#[derive(Debug, Default)]
pub(crate) struct Comparison {
    /// Paths added or whose value changed.
    pub changed: FieldSet,
    /// Paths that disappeared (every node of removed subtrees).
    pub removed: FieldSet,
}

/// Compares two (tracked) objects. An added object node is recorded as a member
/// only when it is a non-empty map of scalars below the top level (labels,
/// annotations, resource limits, ...) or a top-level `data`-like map, which
/// approximates where the API server puts `.` in `Update` entries.
pub(crate) fn compare(
    kind: &str,
    old: &Map<String, Value>,
    new: &Map<String, Value>,
) -> Comparison {
    let mut out = Comparison::default();
    let mut walk = Walk::new(kind);
    walk.compare_fields(old, new, &mut out);
    out
}

/// Recursive walker carrying the current path (schema names and path elements).
struct Walk<'a> {
    kind: &'a str,
    names: Vec<&'a str>,
    pes: Vec<PathElement>,
}

impl<'a> Walk<'a> {
    fn new(kind: &'a str) -> Self {
        Walk {
            kind,
            names: Vec::new(),
            pes: Vec::new(),
        }
    }

    fn list_type(&self) -> ListType {
        schema::list_type(self.kind, &self.names)
    }

    fn is_leaf_object(&self, m: &Map<String, Value>) -> bool {
        m.is_empty() || schema::is_atomic_map(self.kind, &self.names)
    }

    fn push_field(&mut self, name: &'a str) {
        self.names.push(name);
        self.pes.push(PathElement::Field(name.to_owned()));
    }

    fn pop_field(&mut self) {
        self.names.pop();
        self.pes.pop();
    }

    fn object_fields(&mut self, m: &'a Map<String, Value>, out: &mut FieldSet) {
        self.fields_marking(m, out, false);
    }

    fn fields_marking(&mut self, m: &'a Map<String, Value>, out: &mut FieldSet, added: bool) {
        for (k, v) in m {
            self.push_field(k);
            self.value_marking(v, out, added);
            self.pop_field();
        }
    }

    /// Adds the paths `v` (at the current path) sets.
    fn value(&mut self, v: &'a Value, out: &mut FieldSet) {
        self.value_marking(v, out, false);
    }

    /// Like [`Walk::value`]; with `added`, also marks the maps of scalars that
    /// `compare` records for added subtrees.
    fn value_marking(&mut self, v: &'a Value, out: &mut FieldSet, added: bool) {
        match v {
            Value::Object(m) if !self.is_leaf_object(m) => {
                if added && self.is_scalar_map(m) {
                    out.insert(&self.pes);
                }
                self.fields_marking(m, out, added);
            }
            Value::Array(items) => {
                let list = self.list_type();
                if list == ListType::Atomic {
                    out.insert(&self.pes);
                    return;
                }
                for item in items {
                    let Some(pe) = element_pe(&list, item) else {
                        continue;
                    };
                    self.pes.push(pe);
                    out.insert(&self.pes);
                    if let Some(m) = element_fields(&list, item) {
                        self.fields_marking(m, out, added);
                    }
                    self.pes.pop();
                }
            }
            _ => out.insert(&self.pes),
        }
    }

    /// A non-empty map of scalars below the top level, or a top-level `data`-like
    /// map: where the API server typically records `.` for added maps.
    fn is_scalar_map(&self, m: &Map<String, Value>) -> bool {
        let top_data = matches!(self.names[..], ["data" | "binaryData" | "stringData"]);
        let scalars = m.values().all(|v| !v.is_object() && !v.is_array());
        !m.is_empty() && scalars && (self.names.len() >= 2 || top_data)
    }

    /// Adds every node of `v` (at the current path) to `out`.
    fn all_nodes(&mut self, v: &'a Value, out: &mut FieldSet) {
        out.insert(&self.pes);
        self.descendants(v, out);
    }

    /// Adds every node strictly below `v` to `out`.
    fn descendants(&mut self, v: &'a Value, out: &mut FieldSet) {
        match v {
            Value::Object(m) if !schema::is_atomic_map(self.kind, &self.names) => {
                self.descendants_of_fields(m, out);
            }
            Value::Array(items) => {
                let list = self.list_type();
                for item in items {
                    if let Some(pe) = element_pe(&list, item) {
                        self.pes.push(pe);
                        out.insert(&self.pes);
                        if let Some(m) = element_fields(&list, item) {
                            self.descendants_of_fields(m, out);
                        }
                        self.pes.pop();
                    }
                }
            }
            _ => {}
        }
    }

    /// Adds every node of every field of `m` to `out`.
    fn descendants_of_fields(&mut self, m: &'a Map<String, Value>, out: &mut FieldSet) {
        for (k, c) in m {
            self.push_field(k);
            self.all_nodes(c, out);
            self.pop_field();
        }
    }

    fn compare_fields(
        &mut self,
        old: &'a Map<String, Value>,
        new: &'a Map<String, Value>,
        out: &mut Comparison,
    ) {
        for (k, o) in old {
            self.push_field(k);
            self.compare(Some(o), new.get(k), out);
            self.pop_field();
        }
        for (k, n) in new {
            if !old.contains_key(k) {
                self.push_field(k);
                self.compare(None, Some(n), out);
                self.pop_field();
            }
        }
    }

    fn compare(&mut self, old: Option<&'a Value>, new: Option<&'a Value>, out: &mut Comparison) {
        match (old, new) {
            (None, None) => {}
            (Some(o), None) => self.all_nodes(o, &mut out.removed),
            (None, Some(n)) => self.value_marking(n, &mut out.changed, true),
            (Some(Value::Object(a)), Some(Value::Object(b)))
                if !(self.is_leaf_object(a) && self.is_leaf_object(b)) =>
            {
                self.compare_fields(a, b, out);
            }
            (Some(Value::Array(a)), Some(Value::Array(b)))
                if self.list_type() != ListType::Atomic =>
            {
                self.compare_lists(a, b, out);
            }
            (Some(o), Some(n)) => {
                // Scalars, atomic values, or a change of shape.
                if o != n {
                    out.changed.insert(&self.pes);
                    self.value(n, &mut out.changed);
                    self.descendants(o, &mut out.removed);
                }
            }
        }
    }

    fn compare_lists(&mut self, a: &'a [Value], b: &'a [Value], out: &mut Comparison) {
        let list = self.list_type();
        let index = |items: &'a [Value]| {
            let mut map: BTreeMap<PathElement, &'a Value> = BTreeMap::new();
            for item in items {
                if let Some(pe) = element_pe(&list, item) {
                    map.entry(pe).or_insert(item);
                }
            }
            map
        };
        let (old, new) = (index(a), index(b));
        for (pe, o) in &old {
            self.pes.push(pe.clone());
            match new.get(pe) {
                None => {
                    out.removed.insert(&self.pes);
                    if let Some(m) = element_fields(&list, o) {
                        self.descendants_of_fields(m, &mut out.removed);
                    }
                }
                Some(n) => {
                    if let (Some(om), Some(nm)) =
                        (element_fields(&list, o), element_fields(&list, n))
                    {
                        self.compare_fields(om, nm, out);
                    }
                }
            }
            self.pes.pop();
        }
        for (pe, n) in &new {
            if !old.contains_key(pe) {
                self.pes.push(pe.clone());
                out.changed.insert(&self.pes);
                if let Some(m) = element_fields(&list, n) {
                    self.fields_marking(m, &mut out.changed, true);
                }
                self.pes.pop();
            }
        }
    }
}
