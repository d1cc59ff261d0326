//! Service (v1): a LoadBalancer Service is Progressing until the cloud
//! gives it an address; every other type is Healthy once created.

use serde_json::Value;

use super::Health;
use super::object::str_at;

pub(super) fn assess(obj: &Value) -> Health {
    if str_at(obj, "/spec/type") != Some("LoadBalancer") {
        return Health::healthy("");
    }
    match load_balancer_address(obj) {
        Some(address) => Health::healthy(format!("Load balancer address {address}")),
        None => Health::progressing("Waiting for the load balancer to be assigned an address"),
    }
}

/// The first ingress point of `status.loadBalancer` (an IP or hostname),
/// shared with Ingress.
pub(super) fn load_balancer_address(obj: &Value) -> Option<&str> {
    super::object::array_at(obj, "/status/loadBalancer/ingress")
        .iter()
        .find_map(|point| {
            str_at(point, "/ip")
                .filter(|ip| !ip.is_empty())
                .or_else(|| str_at(point, "/hostname").filter(|h| !h.is_empty()))
        })
}
