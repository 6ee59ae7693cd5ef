//! Where the window may go. Tsunagi shows one local page; a link that would take the web
//! view elsewhere (a `tel:` number, a stray URL) would blank the desk with a browser error
//! and no way back. The shell asks here before every navigation.

use reqwest::Url;

/// What to do with a navigation the page started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Navigation {
    /// The app's own page (or an inner frame of it).
    Stay,
    /// A phone number, as dialled in Japan: the window stays and shows it large to dial by
    /// hand or copy.
    Phone(String),
    /// Anything else: refused, the window stays where it is.
    Refuse,
}

/// Decide for `url`. `dev_server` is the Vite server a development build loads from.
pub fn decide(url: &Url, dev_server: Option<&Url>) -> Navigation {
    match url.scheme() {
        // The bundled page: `tauri://localhost` (Linux, macOS), `http(s)://tauri.localhost`
        // (Windows); `about:blank` / `about:srcdoc` are frames inside it.
        "tauri" | "about" => Navigation::Stay,
        "http" | "https" if url.host_str() == Some("tauri.localhost") => Navigation::Stay,
        "http" | "https" if dev_server.is_some_and(|dev| same_origin(url, dev)) => Navigation::Stay,
        "tel" => {
            let number: String = url
                .path()
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            if number.is_empty() {
                Navigation::Refuse
            } else {
                Navigation::Phone(crate::phone::Phone::national(&number))
            }
        }
        _ => Navigation::Refuse,
    }
}

/// The `tel:` URI the OS's phone app is handed for a number as shown (`03-3456-7890`,
/// `+81 3 …`): digits and a leading `+` only. None when there is no digit in it.
pub fn tel_uri(number: &str) -> Option<String> {
    let mut digits = String::new();
    for c in number.trim().chars() {
        match c {
            '+' if digits.is_empty() => digits.push('+'),
            c if c.is_ascii_digit() => digits.push(c),
            _ => {}
        }
    }
    digits
        .chars()
        .any(|c| c.is_ascii_digit())
        .then(|| format!("tel:{digits}"))
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_number_as_shown_becomes_a_tel_uri_for_the_phone_app() {
        assert_eq!(
            super::tel_uri("03-3456-7890").as_deref(),
            Some("tel:0334567890")
        );
        assert_eq!(
            super::tel_uri("+1 415-555-0142").as_deref(),
            Some("tel:+14155550142")
        );
        assert_eq!(super::tel_uri("—"), None);
    }

    use super::*;

    fn at(url: &str) -> Navigation {
        decide(&Url::parse(url).unwrap(), None)
    }

    #[test]
    fn the_app_stays_and_a_phone_number_is_a_phone_number() {
        assert_eq!(at("tauri://localhost/index.html#calls"), Navigation::Stay);
        assert_eq!(at("http://tauri.localhost/"), Navigation::Stay);
        assert_eq!(at("about:blank"), Navigation::Stay);
        // As dialled in Japan, whichever form the link carries.
        for url in ["tel:+81334567890", "tel:03-3456-7890"] {
            assert_eq!(at(url), Navigation::Phone("03-3456-7890".into()), "{url}");
        }
        assert_eq!(
            at("tel:+819012345678"),
            Navigation::Phone("090-1234-5678".into())
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for url in [
            "https://example.com/",
            "http://localhost:5173/",
            "file:///etc/passwd",
            "mailto:x@example.com",
            "tel:",
            "javascript:alert(1)",
        ] {
            assert_eq!(at(url), Navigation::Refuse, "{url}");
        }
        let dev = Url::parse("http://localhost:5173/").unwrap();
        assert_eq!(
            decide(&Url::parse("http://localhost:5173/x").unwrap(), Some(&dev)),
            Navigation::Stay
        );
    }
}
