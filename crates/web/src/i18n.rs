//! Message catalogue: Fluent files for zh-TW (first) and English, compiled into the binary.
//! Templates never hold user-facing strings; they ask a [`Messages`] for them by key.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use fluent_bundle::FluentResource;
use fluent_bundle::concurrent::FluentBundle;
use unic_langid::LanguageIdentifier;

/// The UI languages. Traditional Chinese is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    ZhTw,
    En,
}

impl Locale {
    pub fn tag(self) -> &'static str {
        match self {
            Self::ZhTw => "zh-TW",
            Self::En => "en",
        }
    }

    pub fn parse(tag: &str) -> Option<Self> {
        match tag {
            "zh-TW" | "zh-tw" | "zh" => Some(Self::ZhTw),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// The language the switch link leads to.
    pub fn other(self) -> Self {
        match self {
            Self::ZhTw => Self::En,
            Self::En => Self::ZhTw,
        }
    }

    /// The locale's message files: one per area, so that areas can grow independently.
    fn sources(self) -> [&'static str; 12] {
        match self {
            Self::ZhTw => [
                include_str!("../locales/zh-TW/main.ftl"),
                include_str!("../locales/zh-TW/permissions.ftl"),
                include_str!("../locales/zh-TW/registrations.ftl"),
                include_str!("../locales/zh-TW/oversight.ftl"),
                include_str!("../locales/zh-TW/audits.ftl"),
                include_str!("../locales/zh-TW/enrolment.ftl"),
                include_str!("../locales/zh-TW/words.ftl"),
                include_str!("../locales/zh-TW/citizen.ftl"),
                include_str!("../locales/zh-TW/documents.ftl"),
                include_str!("../locales/zh-TW/bulk.ftl"),
                include_str!("../locales/zh-TW/guidance.ftl"),
                include_str!("../locales/zh-TW/home.ftl"),
            ],
            Self::En => [
                include_str!("../locales/en/main.ftl"),
                include_str!("../locales/en/permissions.ftl"),
                include_str!("../locales/en/registrations.ftl"),
                include_str!("../locales/en/oversight.ftl"),
                include_str!("../locales/en/audits.ftl"),
                include_str!("../locales/en/enrolment.ftl"),
                include_str!("../locales/en/words.ftl"),
                include_str!("../locales/en/citizen.ftl"),
                include_str!("../locales/en/documents.ftl"),
                include_str!("../locales/en/bulk.ftl"),
                include_str!("../locales/en/guidance.ftl"),
                include_str!("../locales/en/home.ftl"),
            ],
        }
    }
}

type Bundle = FluentBundle<FluentResource>;

/// Both bundles, parsed once.
pub struct Catalogue {
    zh: Bundle,
    en: Bundle,
}

/// Problems with the embedded catalogues; found at start-up (and by a test), never at a
/// user's request.
#[derive(Debug, thiserror::Error)]
#[error("message catalogue {locale} is invalid: {reason}")]
pub struct CatalogueError {
    locale: &'static str,
    reason: String,
}

fn build(locale: Locale) -> Result<Bundle, CatalogueError> {
    let err = |reason: String| CatalogueError {
        locale: locale.tag(),
        reason,
    };
    let lang: LanguageIdentifier = locale.tag().parse().map_err(|e| err(format!("{e:?}")))?;
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    bundle.set_use_isolating(false);
    for source in locale.sources() {
        let resource = FluentResource::try_new(source.to_string())
            .map_err(|(_, errors)| err(format!("{errors:?}")))?;
        // A message defined twice is an error: the files must not overlap.
        bundle
            .add_resource(resource)
            .map_err(|errors| err(format!("{errors:?}")))?;
    }
    Ok(bundle)
}

static CATALOGUE: OnceLock<Result<Arc<Catalogue>, String>> = OnceLock::new();

impl Catalogue {
    /// The process-wide catalogue.
    pub fn get() -> Result<Arc<Catalogue>, CatalogueError> {
        CATALOGUE
            .get_or_init(|| {
                Ok(Arc::new(Catalogue {
                    zh: build(Locale::ZhTw).map_err(|e| e.to_string())?,
                    en: build(Locale::En).map_err(|e| e.to_string())?,
                }))
            })
            .clone()
            .map_err(|reason| CatalogueError {
                locale: "*",
                reason,
            })
    }

    fn bundle(&self, locale: Locale) -> &Bundle {
        match locale {
            Locale::ZhTw => &self.zh,
            Locale::En => &self.en,
        }
    }

    /// Every message id of a locale, to check both catalogues carry the same keys.
    pub fn keys(locale: Locale) -> Vec<String> {
        locale
            .sources()
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
            .filter(|k| !k.starts_with('#') && !k.is_empty())
            .collect()
    }
}

/// The messages of one request's locale, handed to templates.
#[derive(Clone)]
pub struct Messages {
    catalogue: Arc<Catalogue>,
    pub locale: Locale,
}

impl Messages {
    pub fn new(catalogue: Arc<Catalogue>, locale: Locale) -> Self {
        Self { catalogue, locale }
    }

    /// The message for `key`; a missing key shows as the key itself (and is caught by the
    /// catalogue test), never as a crash.
    pub fn get(&self, key: &str) -> String {
        let bundle = self.catalogue.bundle(self.locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, None, &mut errors)
            .into_owned()
    }

    /// The message for `key` with its `{ $name }` placeholders filled in (a figure from the
    /// configuration, a print number), so the sentence around the figure stays translatable.
    pub fn with(&self, key: &str, args: &[(&str, String)]) -> String {
        let bundle = self.catalogue.bundle(self.locale);
        let Some(pattern) = bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_string();
        };
        let mut fluent_args = fluent_bundle::FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }

    pub fn other_lang(&self) -> &'static str {
        self.locale.other().tag()
    }

    pub fn is_zh(&self) -> bool {
        self.locale == Locale::ZhTw
    }

    /// What `zh` makes on Chinese pages, what `en` makes on English ones; only the one needed
    /// is made.
    pub fn either<T>(&self, zh: impl FnOnce() -> T, en: impl FnOnce() -> T) -> T {
        if self.is_zh() { zh() } else { en() }
    }

    /// A refusal in the reader's language: the rule's own zh-TW words, or its English.
    pub fn explain(&self, r: &impl querywarden_domain::Explained) -> String {
        self.either(|| r.to_string(), || r.message_en())
    }

    /// The colon after a label: full-width in Chinese, ASCII with a space in English.
    pub fn colon(&self) -> &'static str {
        if self.is_zh() { "：" } else { ": " }
    }

    /// A civil date in the page's one date form: `民國 115 年 3 月 5 日`, or
    /// `2026-03-05 (ROC 115)` in English.
    pub fn date(&self, d: querywarden_domain::roc_date::RocDate) -> String {
        self.either(|| d.format_long(), || d.format_en())
    }

    /// The comma between clauses: full-width in Chinese, ASCII with a space in English.
    pub fn comma(&self) -> &'static str {
        if self.is_zh() { "，" } else { ", " }
    }

    /// The semicolon between clauses: full-width in Chinese, ASCII with a space in English.
    pub fn semicolon(&self) -> &'static str {
        if self.is_zh() { "；" } else { "; " }
    }

    /// The mark between the items of a list (`B0101、C0101`): the enumeration comma in
    /// Chinese, a comma and a space in English.
    pub fn list_sep(&self) -> &'static str {
        if self.is_zh() { "、" } else { ", " }
    }

    /// The opening bracket of an aside around markup (see [`Messages::aside`] for plain
    /// text): full-width in Chinese, a space and an ASCII bracket in English.
    pub fn open(&self) -> &'static str {
        if self.is_zh() { "（" } else { " (" }
    }

    /// The closing bracket that goes with [`Messages::open`].
    pub fn close(&self) -> &'static str {
        if self.is_zh() { "）" } else { ")" }
    }

    /// A time in Asia/Taipei in the page's one date form: `民國 115 年 3 月 5 日 14:05`, or
    /// `2026-03-05 (ROC 115) 14:05` in English (the form of `templates::today_in`).
    pub fn datetime(&self, ts: jiff::Timestamp) -> String {
        if self.is_zh() {
            querywarden_domain::roc_date::format_taipei_datetime(ts)
        } else {
            let zone = jiff::tz::TimeZone::get("Asia/Taipei")
                .unwrap_or_else(|_| jiff::tz::TimeZone::fixed(jiff::tz::Offset::constant(8)));
            let zoned = ts.to_zoned(zone);
            format!(
                "{} {:02}:{:02}",
                self.date(querywarden_domain::roc_date::taipei_date(ts)),
                zoned.hour(),
                zoned.minute()
            )
        }
    }

    /// A staff member as `王大明（wang.daming）`, with the page language's brackets (ASCII
    /// ones on English pages).
    pub fn staff(&self, name: &str, account: &str) -> String {
        self.aside(name, account)
    }

    /// `main` with `note` in brackets after it, in the page language's brackets: `核准（代理）`,
    /// `approved (acting)` on English pages.
    pub fn aside(&self, main: &str, note: &str) -> String {
        self.either(
            || format!("{main}（{note}）"),
            || format!("{main} ({note})"),
        )
    }
}

/// Both locales must define exactly the same message ids.
pub fn missing_keys() -> BTreeMap<&'static str, Vec<String>> {
    let zh = Catalogue::keys(Locale::ZhTw);
    let en = Catalogue::keys(Locale::En);
    let mut out = BTreeMap::new();
    out.insert(
        "en",
        zh.iter().filter(|k| !en.contains(k)).cloned().collect(),
    );
    out.insert(
        "zh-TW",
        en.iter().filter(|k| !zh.contains(k)).cloned().collect(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogues_parse_and_carry_the_same_keys() {
        let c = Catalogue::get().unwrap();
        for (locale, missing) in missing_keys() {
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        }
        let zh = Messages::new(c.clone(), Locale::ZhTw);
        let en = Messages::new(c, Locale::En);
        assert_eq!(zh.get("app-name"), "查調守門員");
        assert_eq!(en.get("app-name"), "querywarden");
        assert_eq!(zh.get("no-such-key"), "no-such-key");
    }
}
