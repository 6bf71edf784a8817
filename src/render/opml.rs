//! OPML 2.0: every topic feed, for importing all of them into a reader at
//! once. Written with `quick-xml`'s writer, which escapes attributes.

use chrono::{DateTime, Utc};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

/// One topic as listed.
pub struct Outline<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub xml_url: String,
    pub html_url: String,
}

pub fn render(title: &str, created: DateTime<Utc>, outlines: &[Outline<'_>]) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail; the results are ignored for that reason.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
    let mut opml = BytesStart::new("opml");
    opml.push_attribute(("version", "2.0"));
    let _ = w.write_event(Event::Start(opml));
    let _ = w.write_event(Event::Start(BytesStart::new("head")));
    let _ = w.write_event(Event::Start(BytesStart::new("title")));
    let _ = w.write_event(Event::Text(BytesText::new(&super::xml_text(title))));
    let _ = w.write_event(Event::End(BytesEnd::new("title")));
    let _ = w.write_event(Event::Start(BytesStart::new("dateCreated")));
    let _ = w.write_event(Event::Text(BytesText::new(&created.to_rfc2822())));
    let _ = w.write_event(Event::End(BytesEnd::new("dateCreated")));
    let _ = w.write_event(Event::End(BytesEnd::new("head")));
    let _ = w.write_event(Event::Start(BytesStart::new("body")));
    for o in outlines {
        let mut el = BytesStart::new("outline");
        let text = super::xml_text(o.title);
        el.push_attribute(("type", "rss"));
        el.push_attribute(("text", text.as_str()));
        el.push_attribute(("title", text.as_str()));
        el.push_attribute(("description", super::xml_text(o.description).as_str()));
        el.push_attribute(("xmlUrl", o.xml_url.as_str()));
        el.push_attribute(("htmlUrl", o.html_url.as_str()));
        let _ = w.write_event(Event::Empty(el));
    }
    let _ = w.write_event(Event::End(BytesEnd::new("body")));
    let _ = w.write_event(Event::End(BytesEnd::new("opml")));
    w.into_inner()
}
