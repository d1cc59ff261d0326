//! CustomResourceDefinition (apiextensions.k8s.io/v1): names rejected or a
//! non-structural schema is Degraded; Established is Healthy; until then,
//! or while terminating, Progressing.

use serde_json::Value;

use super::Health;
use super::object::condition;

pub(super) fn assess(obj: &Value) -> Health {
    if let Some(names) = condition(obj, "NamesAccepted")
        && names.is_false()
    {
        return Health::degraded(names.describe("Names were not accepted"));
    }
    if let Some(schema) = condition(obj, "NonStructuralSchema")
        && schema.is_true()
    {
        return Health::degraded(schema.describe("Schema is not structural"));
    }
    if let Some(terminating) = condition(obj, "Terminating")
        && terminating.is_true()
    {
        return Health::progressing(terminating.describe("CRD is terminating"));
    }
    match condition(obj, "Established") {
        Some(established) if established.is_true() => Health::healthy(""),
        Some(established) => {
            Health::progressing(established.describe("Waiting for the CRD to be established"))
        }
        None => Health::progressing("Waiting for the CRD to be established"),
    }
}
