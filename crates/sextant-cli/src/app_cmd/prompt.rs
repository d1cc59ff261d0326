//! Yes/no questions on the terminal, for verbs that change or delete
//! things. Without a terminal nobody can answer: the caller's `refusal`
//! (which names the `--yes` flag that skips the question) is the error.

use std::io::{BufRead, IsTerminal, Write};

/// Ask `question` (`[y/N]` is added) on stderr and read the answer from
/// stdin; only `y` or `yes` is a yes.
pub fn ask(question: &str, refusal: impl FnOnce() -> String) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{}", refusal());
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
