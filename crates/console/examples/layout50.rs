//! Times the layout of a 50-state machine (Choices looping back, a Parallel, a Map, Catches
//! and Retries) and writes its SVG: `cargo run --release -p expressway-console --example
//! layout50 -- [OUT.svg]`.

use std::time::Instant;

#[path = "shared/fifty.rs"]
mod fifty;

fn main() {
    let def = fifty::machine();
    let block = expressway_console::Block::from_json(&def).expect("a machine");
    let count = block.all_nodes().len();
    let runs = 200;
    let begun = Instant::now();
    let mut svg = String::new();
    for _ in 0..runs {
        svg = expressway_console::svg::render(&block);
    }
    let per = begun.elapsed() / runs;
    let layout_begun = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(expressway_console::layout::layout(&block));
    }
    let layout_per = layout_begun.elapsed() / runs;
    println!("{count} states: layout {layout_per:?}, layout and SVG {per:?} ({} bytes of SVG)", svg.len());
    if let Some(out) = std::env::args().nth(1) {
        std::fs::write(&out, &svg).expect("write the SVG");
        std::fs::write(format!("{out}.json"), serde_json::to_string_pretty(&def).expect("JSON"))
            .expect("write the definition");
        println!("wrote {out}");
    }
}
