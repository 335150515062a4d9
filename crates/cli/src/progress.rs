//! Progress for long command-line work (`audit verify` of a large trail, the usage-log
//! import, backup): a bar or a spinner on the terminal (stderr), nothing at all when stdout is
//! not a terminal, so scripts and tests read only the one-line summary each command prints.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

fn shown() -> bool {
    std::io::stdout().is_terminal()
}

/// A bar over `len` steps (hidden off a terminal).
pub fn bar(len: u64, what: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what.to_string());
    bar
}

/// A spinner for work of unknown length (hidden off a terminal).
pub fn spinner(what: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_message(what.to_string());
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}
