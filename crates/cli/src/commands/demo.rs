//! `querywarden demo`: everything on one machine with no set-up — embedded SQLite in
//! `./querywarden-data/`, the BLI simulator in-process, a demo organisation — then serve.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use querywarden_app::App;
use querywarden_app::config::{BliMode, Config};
use querywarden_app::demo::DEMO_ACCOUNTS;

/// The DEMO bearer token of `/scim/v2/Users` (loopback only, like the whole demo).
pub const DEMO_SCIM_TOKEN: &str = "demo-scim-token-115";
const DEMO_SCIM_TOKEN_SHA256: &str =
    "653b99626db5a8586eceeb202edaf719e11d9bc316dde96a38cdae6eb4d11afa";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// 資料目錄 / data directory (reused when it exists)
    #[arg(long, default_value = "./querywarden-data")]
    pub data: PathBuf,
    /// 網站位址 / address to serve on (loopback only)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// 模擬器位址 / address for the in-process BLI simulator (port 0 = any free port)
    #[arg(long, default_value = "127.0.0.1:0")]
    pub simulator_listen: SocketAddr,
    /// 勞保局查詢方式 / how queries reach BLI: `connected` (through the simulator) or
    /// `portal` (the querier runs them on the portal and records them here)
    #[arg(long, value_enum, default_value_t = DemoBliMode::Connected)]
    pub bli_mode: DemoBliMode,
    /// 限制名單檔 / file of national IDs on the restricted list (`registration.restricted_list`),
    /// so the ethics office's alerts can be tried
    #[arg(long)]
    pub restricted_list: Option<PathBuf>,
    /// 模擬器回應 500 的比例 / share of simulator queries answered with HTTP 500 (a definite
    /// failure: the item stays open for another attempt)
    #[arg(long, default_value_t = 0.0)]
    pub simulator_error_rate: f64,
    /// 模擬器不回應的比例 / share of simulator queries that hang (a timeout: outcome unknown
    /// until stated or reconciled)
    #[arg(long, default_value_t = 0.0)]
    pub simulator_timeout_rate: f64,
    /// 模擬器每次查詢的延遲（毫秒）/ simulator latency per query in ms
    #[arg(long, default_value_t = 0)]
    pub simulator_latency_ms: u64,
    /// 故障注入的亂數種子 / seed of the simulator's fault draws
    #[arg(long, default_value_t = 0)]
    pub simulator_seed: u64,
    /// 等候勞保局回應的時限（毫秒）/ how long to wait for BLI's answer (`bli.read_timeout_ms`),
    /// so a timeout can be seen without waiting long
    #[arg(long)]
    pub bli_read_timeout_ms: Option<u64>,
    /// 民眾自助查詢位址 / serve the citizen self-service (個資法 §10) on this address too
    /// (`[citizen_self_service]`; off unless given)
    #[arg(long)]
    pub citizen_self_service: Option<SocketAddr>,
    /// 以 JSON API 提供完整查調結果 / serve whole result records through the JSON API
    /// (`registration.results_api`; off by default, §6 ¶2: view only) — for programs such as
    /// the load benchmark and the crash rounds
    #[arg(long)]
    pub results_api: bool,
    /// 空白組織 / today's bare organisation: the demo staff and their grants, no history
    /// (without it the first run writes a quarter of history through the use cases)
    #[arg(long)]
    pub empty: bool,
}

/// `--bli-mode`: the two execution modes (`bli.mode`: connector or portal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoBliMode {
    Connected,
    Portal,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let sim_listener = tokio::net::TcpListener::bind(args.simulator_listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.simulator_listen))?;
    for (name, rate) in [
        ("--simulator-error-rate", args.simulator_error_rate),
        ("--simulator-timeout-rate", args.simulator_timeout_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            anyhow::bail!("{name}: 須介於 0 與 1 之間 / must be between 0 and 1");
        }
    }
    let sim_config = querywarden_bli::simulator::SimulatorConfig {
        error_rate: args.simulator_error_rate,
        timeout_rate: args.simulator_timeout_rate,
        latency_ms_min: args.simulator_latency_ms,
        latency_ms_max: args.simulator_latency_ms,
        seed: args.simulator_seed,
        ..Default::default()
    };
    let simulator = querywarden_bli::simulator::spawn(sim_config, sim_listener).await?;
    let sim = simulator.addr();
    // Defaults and `QUERYWARDEN_<SECTION>__<KEY>` variables, as `serve` reads them; what the
    // demo sets below wins.
    let mut raw = Config::raw(None)?;
    raw.server.listen = args.listen.to_string();
    raw.server.demo = true;
    raw.storage.data_dir = args.data.clone();
    // The demo is one instance on its own database: it keeps migrating as it opens.
    raw.storage.auto_migrate = true;
    raw.bli.base_url = format!("http://{}", sim);
    raw.bli.mode = match args.bli_mode {
        DemoBliMode::Connected => BliMode::Connected,
        DemoBliMode::Portal => BliMode::Portal,
    };
    // li.guowei deputises for the permission administrator; the HR system's SCIM
    // bearer token is DEMO_SCIM_TOKEN (its SHA-256 below).
    raw.permission.deputy_administrator = Some("li.guowei".into());
    raw.scim.token_sha256 = Some(DEMO_SCIM_TOKEN_SHA256.into());
    raw.registration.restricted_list = args.restricted_list.clone();
    raw.registration.results_api = args.results_api;
    if let Some(ms) = args.bli_read_timeout_ms {
        raw.bli.read_timeout_ms = ms;
    }
    if !args.empty {
        // §6: the lived-in demo keeps the social-assistance section's results 60 days, so
        // its quarter of history shows results destroyed at the end of their keeping.
        raw.registration.retention_by_legal_basis.insert(
            querywarden_app::demo_history::SOCIAL_ASSISTANCE_BASIS.into(),
            querywarden_app::demo_history::DEMO_RETENTION_DAYS,
        );
    }
    if let Some(addr) = args.citizen_self_service {
        raw.citizen_self_service.enabled = true;
        raw.citizen_self_service.listen = addr.to_string();
    }
    // The demo CA and a card per demo person, made once and reused (RSA keys take a moment).
    let trust = querywarden_app::demo_cards::ensure_demo_ca(&args.data, jiff::Timestamp::now())?;
    raw.auth.trust_anchors = Some(trust.anchors);
    raw.auth.crl_files = vec![trust.crl];
    let config = raw.validate()?;
    super::init_logging(config.log_json, &config.log_level);
    let app = App::open(config).await?;
    // First run: a quarter of history (dated before today) unless `--empty`.
    let history = if !args.empty && app.demo_history_wanted().await? {
        let started = std::time::Instant::now();
        let summary = querywarden_app::demo_history::generate(&app, jiff::Timestamp::now()).await?;
        Some((summary, started.elapsed()))
    } else {
        None
    };
    app.seed_demo().await?;
    // Demo cards for sign-in; lin.meiling and li.guowei get grants for all nine items (a
    // Form 1 approved at every step, once), so registrations can be tried at once.
    app.set_up_demo(&args.data).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let bound = listener.local_addr()?;
    // The printed forms need a Traditional Chinese font; say at start which package to
    // install (the forms' HTML views work without it).
    if let Err(e) =
        querywarden_app::documents::font_status(app.config().documents.font_path.as_deref())
    {
        println!(
            "注意 note: {e}｜{}; forms still open as HTML（表單仍可以網頁檢視）",
            e.message_en()
        );
    }
    print_banner(&args, bound, sim);
    if let Some((h, took)) = history {
        println!(
            "  示範歷史 demo history（{:.1} 秒 s）: {} 件登記 registrations, {} 件查調 executed, {} 件列印 printed, {} 件銷毀 destroyed, {} 件駁回 rejected, {} 件撤回 cancelled, {} 件待核 pending; 季審查 reviews closed {}, 稽核中 audits open {}, 違規案 violations open {}, 人事異動 staff changes {}",
            took.as_secs_f64(),
            h.registrations,
            h.executed,
            h.printed,
            h.destroyed,
            h.rejected,
            h.cancelled,
            h.pending,
            h.reviews_closed,
            h.audits_open,
            h.violations_open,
            h.staff_changes,
        );
    }
    {
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    super::serve::run_server(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}

fn print_banner(args: &DemoArgs, bound: SocketAddr, sim: SocketAddr) {
    println!("查調守門員 querywarden 示範模式 / demo");
    // The demo's own start page: its accounts and how to sign in with the demo card (the
    // home page itself explains the system, as it does for a real bureau).
    println!("  網址 URL:        http://{bound}/demo");
    println!("  資料 data:       {}", args.data.display());
    println!("  勞保局模擬器 BLI simulator: http://{sim}/");
    println!("  SCIM 權杖 token:  {DEMO_SCIM_TOKEN}（代理人 deputy administrator: li.guowei）");
    println!(
        "  示範帳號 demo accounts（密碼 password: {}；登入頁勾選「示範憑證」代替讀卡機 / tick the DEMO signer on the sign-in page）:",
        querywarden_app::demo_cards::DEMO_PASSWORD
    );
    for a in DEMO_ACCOUNTS {
        let roles: Vec<&str> = a.roles.iter().map(|r| r.name_zh()).collect();
        println!(
            "    {:<14} {} {}（{}）",
            a.account,
            a.name,
            a.title,
            roles.join("、")
        );
    }
    println!("  按 Ctrl-C 結束 / press Ctrl-C to stop");
    // Tests and scripts read the URL from stdout; make sure it is out before serving.
    use std::io::Write;
    let _ = std::io::stdout().flush();
}
