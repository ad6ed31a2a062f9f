//! Compiles `proto/expressway/v1/*.proto` with a vendored protoc, so no system protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // prost-build reads PROTOC; a build script runs alone, so setting it here is contained.
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("expressway/v1/expressway.proto");
    let include = protoc_bin_vendored::include_path()?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("expressway_descriptor.bin"))
        .compile_protos(std::slice::from_ref(&file), &[root, include])?;
    println!("cargo:rerun-if-changed={}", file.display());
    Ok(())
}
