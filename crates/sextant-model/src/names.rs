//! Kubernetes object names.

/// Whether `name` is a valid object name (a DNS-1123 subdomain: lowercase
/// letters, digits, `-` and `.`, starting and ending with a letter or
/// digit, at most 253 characters).
pub fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        for (name, ok) in [
            ("web", true),
            ("web-prod.us-east-1", true),
            ("Web", false),
            ("-web", false),
            ("web-", false),
            ("", false),
            ("web_api", false),
        ] {
            assert_eq!(is_dns_subdomain(name), ok, "{name}");
        }
        assert!(!is_dns_subdomain(&"a".repeat(254)));
    }
}
