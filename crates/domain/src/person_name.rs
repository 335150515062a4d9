//! Comparing a person's name as two systems spell it (§3): the name in a citizen certificate
//! (MOICA) and the name in the staff record from HR must be the same person's name even when
//! the two encode it differently.
//!
//! Security-sensitive: a match is one of the checks that ties a card to a staff record, so the
//! comparison folds only what is the same name written another way — Unicode normal forms and
//! the several middle dots used between the parts of indigenous and transliterated names
//! (「瓦歷斯·諾幹」, 「瓦歷斯‧諾幹」) — and nothing else: no case folding, no dropping of
//! characters.

use unicode_normalization::UnicodeNormalization;

/// The dots people and systems put between the parts of a name: MIDDLE DOT U+00B7 (the
/// official one for indigenous names), HYPHENATION POINT U+2027 (Big5's 「‧」), KATAKANA
/// MIDDLE DOT U+30FB, HALFWIDTH KATAKANA MIDDLE DOT U+FF65, BULLET U+2022, DOT OPERATOR U+22C5
/// and BULLET OPERATOR U+2219.
const MIDDLE_DOTS: [char; 7] = [
    '\u{00B7}', '\u{2027}', '\u{30FB}', '\u{FF65}', '\u{2022}', '\u{22C5}', '\u{2219}',
];

/// The form two names are compared in: NFC, every middle dot as U+00B7, surrounding
/// whitespace trimmed.
pub fn comparable_name(name: &str) -> String {
    name.trim()
        .nfc()
        .map(|c| {
            if MIDDLE_DOTS.contains(&c) {
                '\u{00B7}'
            } else {
                c
            }
        })
        .collect()
}

/// Whether a certificate's name and a staff record's name are the same name.
pub fn same_person_name(certificate_name: &str, record_name: &str) -> bool {
    !certificate_name.trim().is_empty()
        && comparable_name(certificate_name) == comparable_name(record_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_matches_itself_and_only_itself() {
        assert!(same_person_name("林美玲", "林美玲"));
        assert!(!same_person_name("林美玲", "林美鈴"));
        assert!(!same_person_name("林美玲", "林美"));
        assert!(!same_person_name("", ""));
    }

    #[test]
    fn every_middle_dot_variant_of_an_indigenous_name_is_the_same_name() {
        let official = "瓦歷斯\u{00B7}諾幹";
        for variant in [
            "瓦歷斯\u{2027}諾幹",
            "瓦歷斯\u{30FB}諾幹",
            "瓦歷斯\u{FF65}諾幹",
            "瓦歷斯\u{2022}諾幹",
            "瓦歷斯\u{22C5}諾幹",
            "瓦歷斯\u{2219}諾幹",
            " 瓦歷斯\u{00B7}諾幹\u{3000}",
        ] {
            assert!(same_person_name(variant, official), "{variant:?}");
        }
        // A dot is not nothing: the parts run together are another spelling, not the same.
        assert!(!same_person_name("瓦歷斯諾幹", official));
        // A full stop is not a middle dot.
        assert!(!same_person_name("瓦歷斯.諾幹", official));
    }

    #[test]
    fn composed_and_decomposed_forms_are_the_same_name() {
        // "Pasuya Poiconx" written with a precomposed ú and with u + combining acute.
        assert!(same_person_name("Pasúya", "Pasu\u{0301}ya"));
        // Case is part of the name as recorded.
        assert!(!same_person_name("pasúya", "Pasúya"));
    }
}
