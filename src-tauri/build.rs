fn main() {
    // tauri.conf.json sits at the repository root (the Tauri CLI needs it beside the app
    // crate's Cargo.toml), while the shell's capabilities live with its sources.
    let attributes =
        tauri_build::Attributes::new().capabilities_path_pattern("./src-tauri/capabilities/**/*");
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
