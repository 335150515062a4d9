//! The Traditional Chinese font: where it is found, loading it once, measuring text with it.
//!
//! The forms are printed in Traditional Chinese (MISSION.md "The forms"), so the font must
//! have the TC glyph forms: Noto Sans/Serif CJK TC from Debian's `fonts-noto-cjk`, or a file
//! named in `[documents] font_path`. A `.ttc` collection holds several faces (JP, KR, SC, TC,
//! HK); the TC face is picked by its family name, not by a fixed index. Not security-sensitive.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::{FontRef, MetadataProvider, string::StringId};

/// The Debian package that provides the font (named in every "no font" message).
pub const FONT_PACKAGE: &str = "fonts-noto-cjk";

/// Where distributions install Noto CJK, in order of preference (Sans reads better in small
/// table cells than Serif).
const KNOWN_PATHS: &[&str] = &[
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
];

/// Why no usable font was found. The messages are the zh-TW ones people see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FontError {
    #[error(
        "找不到繁體中文字型，無法產製 PDF；請安裝 {FONT_PACKAGE} 套件（apt-get install {FONT_PACKAGE}），或於設定檔 [documents] font_path 指定字型檔"
    )]
    NotFound,
    #[error("設定的字型檔無法讀取：{0}")]
    Unreadable(String),
    #[error("字型檔不是可用的 OpenType 字型，或缺少繁體中文字形：{0}")]
    Unusable(String),
}

impl FontError {
    /// Stable code for machines.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "documents.font_missing",
            Self::Unreadable(_) => "documents.font_unreadable",
            Self::Unusable(_) => "documents.font_unusable",
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            Self::NotFound => format!(
                "no Traditional Chinese font found; install the {FONT_PACKAGE} package or set [documents] font_path"
            ),
            Self::Unreadable(p) => format!("the configured font file cannot be read: {p}"),
            Self::Unusable(p) => {
                format!("the font file is not a usable OpenType font with TC glyphs: {p}")
            }
        }
    }
}

/// A loaded face: the file's bytes, the face index, and what the layout needs to measure.
pub struct DocumentFont {
    data: Arc<Vec<u8>>,
    index: u32,
    path: PathBuf,
    pdf: krilla::text::Font,
    units_per_em: f32,
    ascent: f32,
    descent: f32,
    /// Advances in font units, filled as characters are met (most forms use a few hundred).
    advances: Mutex<HashMap<char, f32>>,
}

impl std::fmt::Debug for DocumentFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFont")
            .field("path", &self.path)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl DocumentFont {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    pub(crate) fn units_per_em(&self) -> f32 {
        self.units_per_em
    }

    pub(crate) fn pdf(&self) -> krilla::text::Font {
        self.pdf.clone()
    }

    /// Ascent of one em, as a fraction (for placing the baseline).
    pub(crate) fn ascent_em(&self) -> f32 {
        self.ascent / self.units_per_em
    }

    /// Line height of one em, as a fraction.
    pub(crate) fn line_em(&self) -> f32 {
        (self.ascent - self.descent) / self.units_per_em
    }

    /// Width of `text` at `size` points, by the glyph advances the PDF will use.
    pub fn measure(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / self.units_per_em
    }

    pub(crate) fn char_width(&self, c: char, size: f32) -> f32 {
        self.advance(c) * size / self.units_per_em
    }

    fn advance(&self, c: char) -> f32 {
        let mut cache = match self.advances.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(a) = cache.get(&c) {
            return *a;
        }
        let a = FontRef::from_index(&self.data, self.index)
            .ok()
            .and_then(|f| {
                let gid = f.charmap().map(c)?;
                f.glyph_metrics(Size::unscaled(), LocationRef::default())
                    .advance_width(gid)
            })
            // A character the font lacks is drawn as .notdef, about one em wide.
            .unwrap_or(self.units_per_em);
        cache.insert(c, a);
        a
    }

    /// Reads `path` and picks its Traditional Chinese face.
    pub fn load(path: &Path) -> Result<DocumentFont, FontError> {
        let shown = path.display().to_string();
        let data = std::fs::read(path).map_err(|_| FontError::Unreadable(shown.clone()))?;
        let index = tc_face_index(&data).ok_or_else(|| FontError::Unusable(shown.clone()))?;
        let (units_per_em, ascent, descent) = {
            let f = FontRef::from_index(&data, index)
                .map_err(|_| FontError::Unusable(shown.clone()))?;
            let m = f.metrics(Size::unscaled(), LocationRef::default());
            (f32::from(m.units_per_em), m.ascent, m.descent)
        };
        let data = Arc::new(data);
        let pdf = krilla::text::Font::new(data.clone().into(), index)
            .ok_or_else(|| FontError::Unusable(shown.clone()))?;
        Ok(DocumentFont {
            data,
            index,
            path: path.to_path_buf(),
            pdf,
            units_per_em,
            ascent,
            descent,
            advances: Mutex::new(HashMap::new()),
        })
    }
}

/// The face of a collection whose family name says TC (Traditional Chinese); for a single
/// font file, face 0 if it maps 查 (U+67E5), a character every form title has.
fn tc_face_index(data: &[u8]) -> Option<u32> {
    let count = match FileRef::new(data).ok()? {
        FileRef::Font(_) => 1,
        FileRef::Collection(c) => c.len(),
    };
    let has_cjk = |i: u32| {
        FontRef::from_index(data, i)
            .ok()
            .is_some_and(|f| f.charmap().map('查').is_some())
    };
    if count == 1 {
        return has_cjk(0).then_some(0);
    }
    (0..count).find(|&i| {
        FontRef::from_index(data, i).ok().is_some_and(|f| {
            f.localized_strings(StringId::FAMILY_NAME)
                .any(|s| s.chars().collect::<String>().ends_with(" TC"))
        }) && has_cjk(i)
    })
}

/// The font file to use: the configured path if given, else the first known system path
/// that exists.
pub fn locate(configured: Option<&Path>) -> Result<PathBuf, FontError> {
    if let Some(p) = configured {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(FontError::Unreadable(p.display().to_string()))
        };
    }
    KNOWN_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or(FontError::NotFound)
}

type Cache = Mutex<HashMap<PathBuf, Arc<DocumentFont>>>;
static LOADED: OnceLock<Cache> = OnceLock::new();

/// The font for `configured` (or the system's), loaded on first use and kept for the life of
/// the process, so only the first document after start pays for reading the file.
pub fn load_cached(configured: Option<&Path>) -> Result<Arc<DocumentFont>, FontError> {
    let path = locate(configured)?;
    let cache = LOADED.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = match cache.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(f) = cache.get(&path) {
        return Ok(f.clone());
    }
    let font = Arc::new(DocumentFont::load(&path)?);
    cache.insert(path, font.clone());
    Ok(font)
}
