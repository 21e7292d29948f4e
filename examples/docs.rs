//! Writes the man pages and completions (`make docs`).

fn main() -> std::io::Result<()> {
    for (path, contents) in qplan::docs::files()? {
        let path = std::path::Path::new(&path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, contents)?;
    }
    Ok(())
}
