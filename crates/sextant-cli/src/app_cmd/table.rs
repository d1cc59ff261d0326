//! Aligned text tables: columns padded to their widest cell, two spaces
//! apart, no trailing spaces; empty cells print as `-` so every row has
//! the same number of words.

/// A table with a header row.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Self {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Add a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|c| if c.is_empty() { "-".to_owned() } else { c })
                .collect(),
        );
    }

    /// The table as text, one line per row.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The first 7 characters of a commit (a short hash); other revisions as
/// they are.
pub fn short_revision(revision: &str) -> String {
    if revision.len() >= 40 && revision.chars().all(|c| c.is_ascii_hexdigit()) {
        revision[..7].to_owned()
    } else {
        revision.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_empty_cells_are_dashes() {
        let mut t = Table::new(&["NAME", "SYNC"]);
        t.row(vec!["web".into(), "Synced".into()]);
        t.row(vec!["database".into(), String::new()]);
        assert_eq!(
            t.render(),
            "NAME      SYNC\nweb       Synced\ndatabase  -\n"
        );
        assert_eq!(
            short_revision("0123456789abcdef0123456789abcdef01234567"),
            "0123456"
        );
        assert_eq!(short_revision("main"), "main");
    }
}
