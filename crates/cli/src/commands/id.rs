//! `querywarden id check ID...`: validates each number and says why if it is not valid.

use std::process::ExitCode;

use clap::Subcommand;
use querywarden_domain::NationalId;

#[derive(Debug, Subcommand)]
pub enum IdCommand {
    /// 檢查身分證字號或居留證統一證號 / check national ID or resident numbers
    ///
    /// 每個號碼印出：是否有效、類別、遮蔽後的號碼，或無效的原因。任一無效時結束碼為 1。
    /// Prints for each: valid or not, its kind, its masked form, or the exact reason it is
    /// invalid. Exit status 1 if any is invalid.
    Check {
        /// 號碼 / numbers
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

pub fn run(cmd: IdCommand) -> ExitCode {
    let IdCommand::Check { ids } = cmd;
    let mut all_valid = true;
    for (n, raw) in ids.iter().enumerate() {
        let label = n + 1;
        match NationalId::parse(raw) {
            Ok(id) => println!(
                "#{label} {masked}\t有效 valid\t{kind_zh} ({kind})",
                masked = id.masked(),
                kind_zh = id.kind().name_zh(),
                kind = id.kind().code(),
            ),
            Err(e) => {
                all_valid = false;
                // The input is not echoed whole: an invalid number may still be someone's
                // real number with a typo.
                println!(
                    "#{label} {shown}\t無效 invalid\t{e}｜{en} [{code}]",
                    shown = mask_raw(raw),
                    en = e.message_en(),
                    code = e.code(),
                );
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Shows at most the first three and last three characters of an invalid input.
fn mask_raw(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len().max(1));
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 3..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 6))
}
