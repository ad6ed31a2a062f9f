//! The web console: a state machine drawn as a graph (laid out here, in Rust, and rendered as
//! SVG), executions followed live on it, their history, and a definition editor.
//!
//! Layout: [`graph`] reads a definition's states and transitions, [`layout`] places them
//! (layered, with Parallel and Map as nested clusters, each edge's label clear of the states
//! and of the other labels), [`svg`] draws them; [`server`] serves the pages and their JSON
//! endpoints at `/console/`, every page for a process that serves the API ([`router`]) and the
//! live executions pages for a results service ([`live_router`]). The page's script and style
//! (`assets/`) are compiled into the binary.

pub mod graph;
pub mod layout;
pub mod server;
pub mod svg;

pub use graph::Block;
pub use server::{live_router, redirect_browsers, router, Live};

/// What stops a definition from being drawn.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the definition is not JSON: {0}")]
    Json(String),
    #[error("{0} must be an object")]
    NotAnObject(&'static str),
}

/// Draw a definition (JSON text) as SVG.
pub fn definition_svg(definition: &str) -> Result<String, ConsoleError> {
    Ok(svg::render(&Block::parse(definition)?))
}
