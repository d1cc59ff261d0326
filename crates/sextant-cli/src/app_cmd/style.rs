//! Terminal styling: status words in colour on a terminal (ANSI codes by
//! hand), plain text when stdout is a pipe or `NO_COLOR` is set.

use std::io::IsTerminal;

/// Whether to colour stdout.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    pub fn stdout() -> Self {
        Self {
            color: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    /// `word` padded to `width`, coloured by what it means.
    pub fn status(self, word: &str, width: usize) -> String {
        let padded = format!("{word:<width$}");
        if !self.color {
            return padded;
        }
        let code = match word {
            "Synced" | "Succeeded" | "Healthy" | "Pruned" => "32",
            "SyncFailed" | "Failed" | "Error" | "Degraded" | "Missing" => "31",
            "OutOfSync" | "Running" | "Progressing" | "PruneSkipped" | "Terminating"
            | "Suspended" => "33",
            _ => return padded,
        };
        format!("\x1b[{code}m{word}\x1b[0m{}", &padded[word.len()..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_is_padded_text_and_colour_keeps_the_padding() {
        let plain = Style { color: false };
        assert_eq!(plain.status("Synced", 8), "Synced  ");
        let color = Style { color: true };
        assert_eq!(color.status("Failed", 8), "\x1b[31mFailed\x1b[0m  ");
        assert_eq!(color.status("Whatever", 3), "Whatever");
    }
}
