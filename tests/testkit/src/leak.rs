//! Personal data in any encoding a careless program could use: a patient's name or phone
//! searched for in bytes (a packet capture, a log) as UTF-8, UTF-16 (either order),
//! Shift_JIS, EUC-JP, JSON `\u` escapes, percent-encoding and base64 (at every alignment).

use base64::Engine;

/// Every form of `text` the search looks for, named.
pub fn forms(text: &str) -> Vec<(String, Vec<u8>)> {
    let utf8 = text.as_bytes().to_vec();
    let mut all = vec![
        ("UTF-8".to_owned(), utf8.clone()),
        (
            "UTF-16LE".to_owned(),
            text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ),
        (
            "UTF-16BE".to_owned(),
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ),
    ];
    for (name, encoding) in [
        ("Shift_JIS", encoding_rs::SHIFT_JIS),
        ("EUC-JP", encoding_rs::EUC_JP),
    ] {
        let (bytes, _, lossy) = encoding.encode(text);
        if !lossy {
            all.push((name.to_owned(), bytes.into_owned()));
        }
    }
    if !text.is_ascii() {
        for upper in [false, true] {
            let escaped: String = text
                .encode_utf16()
                .map(|u| {
                    if upper {
                        format!("\\u{u:04X}")
                    } else {
                        format!("\\u{u:04x}")
                    }
                })
                .collect();
            all.push((
                format!("JSON escapes (upper {upper})"),
                escaped.into_bytes(),
            ));
        }
        let percent: String = utf8.iter().map(|b| format!("%{b:02X}")).collect();
        all.push(("percent-encoded".to_owned(), percent.into_bytes()));
    }
    // In base64 a text shows whole only in the 4-character groups that hold nothing else:
    // encode it after 0, 1 and 2 other bytes and keep those groups.
    for lead in 0..3usize {
        let mut bytes = vec![0u8; lead];
        bytes.extend_from_slice(&utf8);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let skip = if lead == 0 { 0 } else { 4 };
        let whole = (bytes.len() / 3) * 4;
        if whole > skip + 4 {
            all.push((
                format!("base64 (after {lead} bytes)"),
                encoded.as_bytes()[skip..whole].to_vec(),
            ));
        }
    }
    all
}

/// The first of `texts` found in `haystack` in any of its forms: (text, form).
pub fn find_any(haystack: &[u8], texts: &[String]) -> Option<(String, String)> {
    for text in texts {
        for (form, needle) in forms(text) {
            if haystack
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
            {
                return Some((text.clone(), form));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_found_in_each_form_and_not_where_it_is_absent() {
        let name = "佐藤 健一".to_owned();
        for (form, bytes) in forms(&name) {
            let mut hay = b"some bytes before ".to_vec();
            hay.extend_from_slice(&bytes);
            hay.extend_from_slice(b" and after");
            assert!(
                find_any(&hay, std::slice::from_ref(&name)).is_some(),
                "{form}"
            );
        }
        // Base64 of a longer text that holds the name, at an offset: still found.
        let text = format!("xy{{\"name\":\"{name}\"}}");
        let hay = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        assert!(find_any(hay.as_bytes(), std::slice::from_ref(&name)).is_some());
        assert_eq!(find_any(b"nothing personal here", &[name]), None);
    }
}
