//! Phone numbers as staff typed them, plus the E.164 form for dialling and matching.
//! Japanese data often carries full-width digits and assorted dashes; NFKC folds the
//! full-width forms, and the remaining dash look-alikes are mapped by hand.

use phonenumber::{country, Mode};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Phone {
    /// Human form, e.g. `090-1234-5678` (full-width folded to half-width).
    pub display: String,
    /// `+819012345678`, or null when the number is not a valid Japanese/international number.
    pub e164: Option<String>,
}

impl Phone {
    pub fn parse(raw: &str) -> Phone {
        let display: String = raw
            .nfkc()
            .map(|c| match c {
                // Dash look-alikes typed by Japanese IMEs: long vowel mark, minus sign,
                // hyphen, figure/en/em dashes, horizontal bar.
                'ー' | '−' | '‐' | '‑' | '‒' | '–' | '—' | '―' | 'ｰ' => '-',
                c => c,
            })
            .collect::<String>()
            .trim()
            .to_owned();
        let e164 = phonenumber::parse(Some(country::Id::JP), &display)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|n| n.format().mode(Mode::E164).to_string());
        Phone { display, e164 }
    }

    /// A dialable number (`+819012345678`) as a person dials it in Japan (`090-1234-5678`);
    /// what cannot be read stays as given.
    pub fn national(dialable: &str) -> String {
        phonenumber::parse(Some(country::Id::JP), dialable)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|n| n.format().mode(Mode::National).to_string())
            .unwrap_or_else(|| dialable.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dialable_number_reads_as_dialled_in_japan() {
        assert_eq!(Phone::national("+819012345678"), "090-1234-5678");
        assert_eq!(Phone::national("+81334567890"), "03-3456-7890");
        assert_eq!(Phone::national("12"), "12");
    }

    #[test]
    fn landline_and_mobile_numbers_become_e164() {
        assert_eq!(
            Phone::parse("03-3456-7890").e164.as_deref(),
            Some("+81334567890")
        );
        assert_eq!(
            Phone::parse("090-1234-5678").e164.as_deref(),
            Some("+819012345678")
        );
        assert_eq!(
            Phone::parse("+81 90 1234 5678").e164.as_deref(),
            Some("+819012345678")
        );
    }

    #[test]
    fn full_width_digits_and_ime_dashes_are_folded() {
        let p = Phone::parse("０９０ー１２３４ー５６７８");
        assert_eq!(p.display, "090-1234-5678");
        assert_eq!(p.e164.as_deref(), Some("+819012345678"));
        let q = Phone::parse("（０３）３４５６－７８９０");
        assert_eq!(q.display, "(03)3456-7890");
        assert_eq!(q.e164.as_deref(), Some("+81334567890"));
    }

    #[test]
    fn garbage_keeps_its_display_but_has_no_e164() {
        let p = Phone::parse(" 内線12 ");
        assert_eq!(p.display, "内線12");
        assert_eq!(p.e164, None);
    }
}
