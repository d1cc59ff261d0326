//! The one wildcard match of project rules, sync windows and RBAC
//! policies: `*` matches any run of characters (slashes too), `?` one
//! character, everything else is literal (Argo CD's patterns behave so).

/// Whether `text` matches `pattern`. Linear in practice, never panics.
pub fn matches(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_cross_slashes_and_question_marks_take_one_character() {
        assert!(matches("dev/web", "dev/*"));
        assert!(matches("dev/web", "*/*"));
        assert!(matches("dev/web", "*"));
        assert!(!matches("prod/web", "dev/*"));
        assert!(matches(
            "https://github.com/org/repo.git",
            "https://github.com/org/*"
        ));
        assert!(matches("sync", "s?nc"));
        assert!(!matches("sync", "get"));
        assert!(matches("", "*"));
        assert!(!matches("a", ""));
        assert!(matches("[weird", "[weird"));
    }
}
