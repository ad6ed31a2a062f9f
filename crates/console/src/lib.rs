//! The web console: a state machine drawn as a graph (laid out here, in Rust, and rendered as
//! SVG), executions followed live on it, their history, and a definition editor.
//!
//! Layout: [`graph`] reads a definition's states and transitions, [`layout`] places them
//! (layered, with Parallel and Map as nested clusters), [`svg`] draws them; [`server`] serves
//! the pages and their JSON endpoints at `/console/`.

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
