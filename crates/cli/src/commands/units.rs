//! `querywarden units import FILE`: units, parent units, supervisors (單位主管) and their
//! deputies (代理人) from a CSV, on top of the seeded catalogue (format in
//! `docs/installation.md`). All or nothing; re-importing the same file changes nothing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use querywarden_app::permission::Op;
use querywarden_domain::org::{Account, Role};
use querywarden_domain::permission::AdministratorDesk;

use super::{Location, bad_rows, read_text};

#[derive(Debug, Subcommand)]
pub enum UnitsCommand {
    /// 匯入單位、主管與代理人（CSV）/ import units, supervisors and deputies (CSV)
    Import {
        /// CSV 檔 / CSV file (unit_id,name,kind,parent,supervisor,deputy)
        file: PathBuf,
        #[command(flatten)]
        actor: ActingAdministrator,
        #[command(flatten)]
        location: Location,
    },
}

/// Whose desk a command on the server acts from: the permission administrator (or the
/// account named), recorded in the trail as the actor.
#[derive(Debug, Args)]
pub struct ActingAdministrator {
    /// 以此帳號身分執行（預設：權限管理者）/ act as this account (default: the administrator)
    #[arg(long = "as")]
    pub account: Option<String>,
}

impl ActingAdministrator {
    pub async fn desk(&self, app: &querywarden_app::App) -> anyhow::Result<AdministratorDesk> {
        let account = self
            .account
            .as_deref()
            .map(Account::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--as: {e}"))?;
        let person = app
            .person_acting_as(account.as_ref(), Role::PermissionAdministrator)
            .await?
            .context("找不到權限管理者；請先執行 `querywarden init` / no administrator: run `querywarden init` first")?;
        app.administrator_desk(person.id)
            .await
            .map_err(|e| anyhow::anyhow!("{e} [{}]", e.code()))
    }

    /// Runs `change` from this administrator's desk, as the system's operation, on the
    /// installation at `location` ([`Location::change`]).
    pub async fn change<T>(
        &self,
        location: &Location,
        change: impl AsyncFnOnce(&querywarden_app::App, &AdministratorDesk, &Op) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        location
            .change(async |app| {
                let desk = self.desk(app).await?;
                change(app, &desk, &Op::system()).await
            })
            .await
    }
}

pub async fn run(cmd: UnitsCommand) -> anyhow::Result<ExitCode> {
    let UnitsCommand::Import {
        file,
        actor,
        location,
    } = cmd;
    let text = read_text(&file)?;
    let outcome = actor
        .change(&location, async |app, desk, op| {
            Ok(app.import_units(desk, &text, op).await?)
        })
        .await?;
    match outcome {
        Ok(r) => {
            println!(
                "已匯入 imported: {} 列 rows；新增單位 units added {}，更新 updated {}，主管 supervisors {}，代理人 deputies {}",
                r.rows, r.units_added, r.units_updated, r.supervisors_set, r.deputies_set
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => Ok(bad_rows(
            errors.iter().map(|e| (e.line, None, e.reason.as_str())),
        )),
    }
}
