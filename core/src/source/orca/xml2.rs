//! ORCA's xml2: every element carries `type="string"`, `"record"` or `"array"`; arrays hold
//! `<Name_child type="record">` elements. Requests go as `<data><…req type="record">`,
//! answers come as `<xmlio2><…res type="record">`. Read into a small tree (the answers are
//! a few hundred kilobytes at most), written by hand (a handful of flat fields).

use quick_xml::events::Event;
use quick_xml::Reader;

/// One element of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    /// The text of a `string` element (unescaped, trimmed of the indentation around it).
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the child named `name`, trimmed; empty when there is none.
    pub fn text_of(&self, name: &str) -> &str {
        self.child(name).map(|c| c.text.trim()).unwrap_or("")
    }

    /// The records of the array child named `name` (none when absent).
    pub fn records(&self, name: &str) -> &[Node] {
        self.child(name)
            .map(|c| c.children.as_slice())
            .unwrap_or(&[])
    }
}

/// Why an answer is not xml2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Xml2Error {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("the XML ends before its elements close")]
    Unclosed,
    #[error("the answer is not an xml2 document (its root is {0:?}, not xmlio2)")]
    NotXml2(String),
}

/// The answer record of an xml2 document (`<xmlio2><appointlstres>` → `appointlstres`).
pub fn parse(bytes: &[u8]) -> Result<Node, Xml2Error> {
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| Xml2Error::Malformed(e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                stack.push(Node {
                    name,
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                let node = Node {
                    name,
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&t.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    let name: String = r.as_ref().to_owned();
                    let ch = match name.as_str() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => r.resolve_char_ref().ok().flatten(),
                    };
                    match ch {
                        Some(c) => top.text.push(c),
                        None => {
                            return Err(Xml2Error::Malformed(format!("unknown entity &{name};")))
                        }
                    }
                }
            }
            Event::CData(c) => {
                if let Some(top) = stack.last_mut() {
                    top.text
                        .push_str(&c.xml_content(quick_xml::XmlVersion::Implicit1_0));
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or(Xml2Error::Unclosed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(Xml2Error::Unclosed);
    }
    let root = root.ok_or(Xml2Error::Unclosed)?;
    if root.name != "xmlio2" {
        return Err(Xml2Error::NotXml2(root.name));
    }
    root.children
        .into_iter()
        .next()
        .ok_or_else(|| Xml2Error::NotXml2("an empty xmlio2".into()))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// A request: `<data><{record} type="record">` with string fields, in this order.
pub fn request(record: &str, fields: &[(&str, &str)]) -> String {
    let mut xml = format!("<data>\n<{record} type=\"record\">\n");
    for (name, value) in fields {
        xml.push_str(&format!(
            "<{name} type=\"string\">{}</{name}>\n",
            escape(value)
        ));
    }
    xml.push_str(&format!("</{record}>\n</data>\n"));
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_read_into_records_and_arrays() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<xmlio2>
  <appointlstres type="record">
    <Api_Result type="string">00</Api_Result>
    <Appointlst_Information type="array">
      <Appointlst_Information_child type="record">
        <Appointment_Time type="string">09:30:00</Appointment_Time>
        <Patient_Information type="record">
          <WholeName type="string">山田 &amp; 太郎</WholeName>
        </Patient_Information>
      </Appointlst_Information_child>
    </Appointlst_Information>
  </appointlstres>
</xmlio2>"#;
        let res = parse(xml.as_bytes()).unwrap();
        assert_eq!(res.name, "appointlstres");
        assert_eq!(res.text_of("Api_Result"), "00");
        let rows = res.records("Appointlst_Information");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].text_of("Appointment_Time"), "09:30:00");
        assert_eq!(
            rows[0]
                .child("Patient_Information")
                .unwrap()
                .text_of("WholeName"),
            "山田 & 太郎"
        );
    }

    #[test]
    fn what_is_not_xml2_says_so() {
        assert!(
            matches!(parse(b"<html><body>Login</body></html>"), Err(Xml2Error::NotXml2(r)) if r == "html")
        );
        assert_eq!(
            parse(b"<xmlio2><a type=\"record\">"),
            Err(Xml2Error::Unclosed)
        );
        assert!(matches!(
            parse(b"<xmlio2><a></b></xmlio2>"),
            Err(Xml2Error::Malformed(_))
        ));
    }

    #[test]
    fn a_request_escapes_its_values() {
        let xml = request("appointreq", &[("Appointment_Note", "<a&b>")]);
        assert!(
            xml.contains("<Appointment_Note type=\"string\">&lt;a&amp;b&gt;</Appointment_Note>")
        );
        assert!(xml.starts_with("<data>\n<appointreq type=\"record\">"));
    }
}
