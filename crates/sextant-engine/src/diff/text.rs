//! Unified diffs of text, line by line: the common prefix and suffix are
//! set aside, the middle is compared with Myers' shortest-edit-script
//! search (bounded; past the bound the middle is shown as replaced whole),
//! and the edits are grouped into hunks with context lines.

/// Past this many edits the middle is shown as replaced whole, which keeps
/// the search's memory bounded for huge, wholly different objects.
const MAX_EDITS: usize = 4000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equal,
    Delete,
    Insert,
}

/// A unified diff of `old` and `new` (`---`/`+++` headers named `old_name`
/// and `new_name`, `@@` hunks with `context` lines around each change);
/// empty when the texts are equal.
pub fn unified_diff(
    old: &str,
    new: &str,
    old_name: &str,
    new_name: &str,
    context: usize,
) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = edit_script(&a, &b);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    // Positions (in `ops`) of the edits, grouped into hunks.
    let edits: Vec<usize> = (0..ops.len()).filter(|i| ops[*i] != Op::Equal).collect();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &i in &edits {
        match groups.last_mut() {
            Some((_, end)) if i <= *end + 2 * context + 1 => *end = i,
            _ => groups.push((i, i)),
        }
    }
    // Line numbers before each op.
    let mut pos = Vec::with_capacity(ops.len() + 1);
    let (mut x, mut y) = (0usize, 0usize);
    for op in &ops {
        pos.push((x, y));
        match op {
            Op::Equal => {
                x += 1;
                y += 1;
            }
            Op::Delete => x += 1,
            Op::Insert => y += 1,
        }
    }
    pos.push((x, y));
    for (first, last) in groups {
        let start = first.saturating_sub(context);
        let end = (last + context + 1).min(ops.len());
        let (x0, y0) = pos[start];
        let (x1, y1) = pos[end];
        let (old_len, new_len) = (x1 - x0, y1 - y0);
        let old_start = if old_len == 0 { x0 } else { x0 + 1 };
        let new_start = if new_len == 0 { y0 } else { y0 + 1 };
        out.push_str(&format!(
            "@@ -{old_start},{old_len} +{new_start},{new_len} @@\n"
        ));
        for (i, op) in ops.iter().enumerate().take(end).skip(start) {
            let (xi, yi) = pos[i];
            let (sign, line) = match op {
                Op::Equal => (' ', a[xi]),
                Op::Delete => ('-', a[xi]),
                Op::Insert => ('+', b[yi]),
            };
            out.push(sign);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The edits turning `a` into `b`.
fn edit_script(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops = vec![Op::Equal; prefix];
    match myers(ma, mb) {
        Some(middle) => ops.extend(middle),
        None => {
            ops.extend(std::iter::repeat_n(Op::Delete, ma.len()));
            ops.extend(std::iter::repeat_n(Op::Insert, mb.len()));
        }
    }
    ops.extend(std::iter::repeat_n(Op::Equal, suffix));
    ops
}

/// Myers' greedy search for a shortest edit script; `None` past
/// [`MAX_EDITS`]. `trace[d]` keeps the furthest x on each diagonal
/// `k` in `-d..=d` before round `d`, for the walk back.
fn myers(a: &[&str], b: &[&str]) -> Option<Vec<Op>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let max = (n + m) as usize;
    let offset = max as isize + 1;
    let mut v = vec![0isize; 2 * max + 3];
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut found = None;
    for d in 0..=max.min(MAX_EDITS) as isize {
        trace.push(v[(offset - d) as usize..=(offset + d) as usize].to_vec());
        let mut k = -d;
        while k <= d {
            let i = (offset + k) as usize;
            let mut x = if k == -d || (k != d && v[i - 1] < v[i + 1]) {
                v[i + 1]
            } else {
                v[i - 1] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[i] = x;
            if x >= n && y >= m {
                found = Some(d);
                break;
            }
            k += 2;
        }
        if found.is_some() {
            break;
        }
    }
    let depth = found?;
    let mut ops = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (0..=depth).rev() {
        let row = &trace[d as usize];
        let at = |k: isize| row[(k + d) as usize];
        let k = x - y;
        let prev_k = if k == -d || (k != d && at(k - 1) < at(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let prev_x = if d == 0 { 0 } else { at(prev_k) };
        let prev_y = prev_x - prev_k;
        while x > prev_x && y > prev_y {
            ops.push(Op::Equal);
            x -= 1;
            y -= 1;
        }
        if d > 0 {
            ops.push(if x == prev_x { Op::Insert } else { Op::Delete });
        }
        x = prev_x;
        y = prev_y;
    }
    ops.reverse();
    Some(ops)
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn a_changed_line_shows_as_a_hunk_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(
            unified_diff(old, new, "live", "desired", 3),
            "--- live\n+++ desired\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n"
        );
    }

    #[test]
    fn text_from_nothing_is_one_hunk_of_additions() {
        assert_eq!(
            unified_diff("", "x: 1\ny: 2\n", "live", "desired", 3),
            "--- live\n+++ desired\n@@ -0,0 +1,2 @@\n+x: 1\n+y: 2\n"
        );
    }

    #[test]
    fn distant_changes_make_separate_hunks_and_equal_texts_make_none() {
        let old: String = (0..30).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l2\n", "L2\n").replace("l25\n", "L25\n");
        let diff = unified_diff(&old, &new, "a", "b", 3);
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("-l2\n+L2\n") && diff.contains("-l25\n+L25\n"));
        assert_eq!(unified_diff(&old, &old, "a", "b", 3), "");
    }

    #[test]
    fn interleaved_edits_keep_every_line_in_order() {
        let old = "a\nb\nc\nd\n";
        let new = "b\nx\nc\ny\n";
        let diff = unified_diff(old, new, "o", "n", 10);
        let rebuilt_new: Vec<&str> = diff
            .lines()
            .skip(2)
            .filter(|l| l.starts_with('+') || l.starts_with(' '))
            .map(|l| &l[1..])
            .collect();
        assert_eq!(rebuilt_new, vec!["b", "x", "c", "y"]);
    }

    #[test]
    fn every_diff_of_random_texts_rebuilds_both_sides() {
        // A fixed linear congruential generator: deterministic "random" texts.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for _ in 0..300 {
            let mut text = |len: u64| -> String {
                (0..next(len)).map(|_| format!("l{}\n", next(6))).collect()
            };
            let (old, new) = (text(12), text(12));
            let diff = unified_diff(&old, &new, "o", "n", 1000);
            let side = |keep: char| -> String {
                diff.lines()
                    .skip(2)
                    .filter(|l| !l.starts_with("@@"))
                    .filter(|l| l.starts_with(keep) || l.starts_with(' '))
                    .map(|l| format!("{}\n", &l[1..]))
                    .collect()
            };
            if old == new {
                assert_eq!(diff, "");
            } else {
                assert_eq!(side('-'), old, "{diff}");
                assert_eq!(side('+'), new, "{diff}");
            }
        }
    }
}
