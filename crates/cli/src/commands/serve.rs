//! `querywarden serve --config FILE`: the production start.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use querywarden_app::{App, Config};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// 設定檔 / configuration file (TOML; QUERYWARDEN_* variables override it)
    #[arg(long)]
    pub config: PathBuf,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(Some(&args.config))?;
    config.require_sign_in()?;
    if config.demo {
        anyhow::bail!(
            "server.demo 只能由 `querywarden demo` 使用 / server.demo is for `querywarden demo` only"
        );
    }
    super::init_logging(config.log_json, &config.log_level);
    let app = App::open(config.clone()).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let bound = listener.local_addr().unwrap_or(config.listen);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(listen = %bound, scheme, "querywarden serving");
    run_server(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}

/// Serves until Ctrl-C or SIGTERM, writing due audit checkpoints in the background, and
/// a final checkpoint on the way out. With `server.tls_cert` (mutual-TLS sign-in) the
/// server terminates TLS itself and requires a client certificate.
pub async fn run_server(app: App, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    let state = querywarden_web::AppState::new(app.clone())?;
    let tls = match (&app.config().tls, &app.config().auth.trust_anchors) {
        (Some(tls), Some(anchors)) => Some(querywarden_web::tls::server_config_from_files(
            tls, anchors,
        )?),
        (Some(_), None) => anyhow::bail!("mutual_tls 模式須設定 auth.trust_anchors"),
        (None, _) => None,
    };
    let ticker = {
        let app = app.clone();
        let every = Duration::from_secs(app.config().audit.checkpoint_every_seconds.clamp(1, 60));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                if let Err(e) = app.checkpoint_if_due(false).await {
                    tracing::error!(code = e.code(), error = %e, "audit checkpoint failed");
                }
            }
        })
    };
    // Personnel changes, recertification deadlines, idle accounts, the quarter's usage review,
    // corrective-report reminders: once before serving (so the first page already shows what
    // they did), then hourly.
    run_jobs(&app).await;
    let jobs = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(3600));
            interval.tick().await;
            loop {
                interval.tick().await;
                run_jobs(&app).await;
            }
        })
    };
    // §3: revocation lists every `crl.refresh_minutes` (the hourly jobs fetch them too).
    let crl_ticker = {
        let app = app.clone();
        let every = Duration::from_secs(app.config().crl.refresh_minutes.max(1) * 60);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            interval.tick().await; // the jobs above just ran it
            loop {
                interval.tick().await;
                let id = querywarden_app::new_request_id();
                if let Err(e) =
                    querywarden_app::enrolment::crl::refresh(&app, jiff::Timestamp::now(), &id)
                        .await
                {
                    tracing::error!(code = e.code(), error = %e, "CRL refresh failed");
                }
            }
        })
    };
    // 個人資料保護法 §10: the optional citizen self-service, on a listener of its own that
    // serves only its router (no staff page is reachable there).
    let self_service = match app.config().citizen_self_service {
        Some(addr) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = l.local_addr().unwrap_or(addr);
            tracing::info!(listen = %bound, "citizen self-service serving");
            println!("  民眾自助查詢 citizen self-service: http://{bound}/");
            use std::io::Write;
            let _ = std::io::stdout().flush();
            let state = state.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = querywarden_web::citizen_report::self_service::serve(
                    l,
                    state,
                    shutdown_signal(),
                )
                .await
                {
                    tracing::error!(error = %e, "citizen self-service stopped");
                }
            }))
        }
        None => None,
    };
    match tls {
        Some(tls) => querywarden_web::tls::serve(listener, state, tls, shutdown_signal()).await?,
        None => querywarden_web::serve(listener, state, shutdown_signal()).await?,
    }
    jobs.abort();
    crl_ticker.abort();
    if let Some(s) = self_service {
        s.abort();
    }
    ticker.abort();
    if let Err(e) = app.checkpoint_if_due(true).await {
        tracing::error!(code = e.code(), error = %e, "final audit checkpoint failed");
    }
    app.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// Runs the due scheduled jobs once, logging what each changed.
async fn run_jobs(app: &App) {
    let policy = &app.config().permission;
    for (job, outcome) in querywarden_app::jobs::run_due(app, policy, jiff::Timestamp::now()).await
    {
        match outcome {
            Ok(0) => {}
            Ok(n) => tracing::info!(job, changed = n, "scheduled job"),
            Err(e) => tracing::error!(job, error = %e, "scheduled job failed"),
        }
    }
}
