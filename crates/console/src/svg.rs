//! SVG of a laid-out state machine. Every state is a `<g class="state …"
//! data-state="NAME" data-type="Task">` (a Parallel or Map holds its branches inside its own
//! group), every transition a `<g class="edge next|rule|default|catch" data-from data-to>`;
//! the page colours states by adding classes to those groups.

use std::fmt::Write as _;

use crate::graph::{Block, EdgeKind, NodeKind};
use crate::layout::{self, Layout, Placed, Vertex, HEADER};

/// Escape text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Lay out `block` (a whole machine) and draw it.
pub fn render(block: &Block) -> String {
    let l = layout::layout(block);
    let mut s = String::with_capacity(4096);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}">"#,
        w = l.width,
        h = l.height
    );
    s.push_str(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker></defs>"#,
    );
    draw_block(&mut s, block, &l);
    s.push_str("</svg>");
    s
}

fn draw_block(s: &mut String, block: &Block, l: &Layout) {
    // Edges under the states.
    for r in &l.routes {
        let (class, label, to) = match (r.from, r.edge) {
            (Vertex::State(i), Some(j)) => {
                let e = &block.nodes[i].edges[j];
                let class = match e.kind {
                    EdgeKind::Next => "next",
                    EdgeKind::Rule => "rule",
                    EdgeKind::Default => "default",
                    EdgeKind::Catch => "catch",
                };
                (class, e.label.clone(), e.to.clone())
            }
            _ => ("next", None, String::new()),
        };
        let from = match r.from {
            Vertex::State(i) => block.nodes[i].name.as_str(),
            Vertex::Start => "",
            Vertex::End => "",
        };
        let to = match r.to {
            Vertex::End => String::new(),
            _ => to,
        };
        let mut d = String::new();
        for (k, (x, y)) in r.points.iter().enumerate() {
            let _ = write!(d, "{}{x:.1},{y:.1}", if k == 0 { "M" } else { "L" });
        }
        let _ = write!(
            s,
            r#"<g class="edge {class}" data-from="{}" data-to="{}"><path d="{d}" marker-end="url(#arrow)"/>"#,
            escape(from),
            escape(&to)
        );
        if let (Some((x, y)), Some(b)) = (r.leader, r.label) {
            let _ = write!(
                s,
                r#"<path class="leader" d="M{x:.1},{y:.1}L{:.1},{:.1}"/>"#,
                b.x,
                b.y + layout::LABEL_LINE / 2.0
            );
        }
        if let (Some(label), Some(b)) = (label, r.label) {
            // One line drawn; a Catch's box keeps a second line free for the error it took,
            // which the page writes there (and grows the background to cover).
            let _ = write!(
                s,
                r#"<rect class="label-bg" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"/><text class="label" x="{:.1}" y="{:.1}">{}</text>"#,
                b.x,
                b.y,
                b.w,
                layout::LABEL_LINE,
                b.x + b.w / 2.0,
                b.y + 11.5,
                escape(&label)
            );
        }
        s.push_str("</g>");
    }
    for p in &l.placed {
        match p.vertex {
            Vertex::Start => marker(s, p, "start", "Start"),
            Vertex::End => marker(s, p, "end", "End"),
            Vertex::State(i) => draw_state(s, block, i, p),
        }
    }
}

fn marker(s: &mut String, p: &Placed, class: &str, title: &str) {
    let (cx, cy, r) = (p.x + p.w / 2.0, p.y + p.h / 2.0, p.w / 2.0);
    let _ = write!(
        s,
        r#"<g class="marker {class}"><circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}"/><title>{title}</title></g>"#
    );
}

fn draw_state(s: &mut String, block: &Block, i: usize, p: &Placed) {
    let node = &block.nodes[i];
    let kind = node.kind;
    let name = escape(&node.name);
    let _ = write!(
        s,
        r#"<g class="state {}" data-state="{name}" data-type="{}" transform="translate({:.1},{:.1})">"#,
        kind.class(),
        type_name(kind),
        p.x,
        p.y
    );
    let cx = p.w / 2.0;
    if kind.is_cluster() {
        let _ = write!(s, r#"<rect class="box cluster" width="{:.1}" height="{:.1}" rx="8"/>"#, p.w, p.h);
        let _ = write!(
            s,
            r#"<text class="name left" x="10" y="17">{name}</text><text class="kind right" x="{:.1}" y="17">{}</text>"#,
            p.w - 10.0,
            type_name(kind)
        );
        for (k, line) in node.retry.iter().enumerate() {
            let _ = write!(
                s,
                r#"<text class="retry left" x="10" y="{:.1}">↻ {}</text>"#,
                HEADER + 10.0 + 14.0 * k as f64,
                escape(line)
            );
        }
        for ((x, y, inner), branch) in p.inner.iter().zip(&node.blocks) {
            let _ = write!(
                s,
                r#"<g class="branch" transform="translate({x:.1},{y:.1})"><rect class="branch-bg" width="{:.1}" height="{:.1}" rx="6"/>"#,
                inner.width, inner.height
            );
            draw_block(s, branch, inner);
            s.push_str("</g>");
        }
    } else {
        let rx = match kind {
            NodeKind::Succeed | NodeKind::Fail => p.h / 2.0,
            NodeKind::Choice => 14.0,
            _ => 5.0,
        };
        let _ = write!(s, r#"<rect class="box" width="{:.1}" height="{:.1}" rx="{rx:.1}"/>"#, p.w, p.h);
        let _ = write!(s, r#"<text class="name" x="{cx:.1}" y="21">{name}</text>"#);
        let mut y = 21.0 + 15.0;
        if let Some(d) = &node.detail {
            let _ = write!(s, r#"<text class="detail" x="{cx:.1}" y="{y:.1}">{}</text>"#, escape(d));
            y += 14.0;
        }
        for line in &node.retry {
            let _ = write!(s, r#"<text class="retry" x="{cx:.1}" y="{y:.1}">↻ {}</text>"#, escape(line));
            y += 14.0;
        }
    }
    let _ = write!(s, "<title>{name} ({})</title></g>", type_name(kind));
}

fn type_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Pass => "Pass",
        NodeKind::Task => "Task",
        NodeKind::Choice => "Choice",
        NodeKind::Wait => "Wait",
        NodeKind::Succeed => "Succeed",
        NodeKind::Fail => "Fail",
        NodeKind::Parallel => "Parallel",
        NodeKind::Map => "Map",
        NodeKind::Other => "?",
    }
}
