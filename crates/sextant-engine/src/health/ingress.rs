//! Ingress (networking.k8s.io/v1): Progressing until the ingress controller
//! publishes an address in `status.loadBalancer`.

use serde_json::Value;

use super::Health;
use super::service::load_balancer_address;

pub(super) fn assess(obj: &Value) -> Health {
    match load_balancer_address(obj) {
        Some(address) => Health::healthy(format!("Ingress address {address}")),
        None => Health::progressing("Waiting for the ingress controller to assign an address"),
    }
}
