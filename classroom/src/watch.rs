//! `cargo classroom watch`.

/// Leaves the terminal as we found it.
pub fn restore_terminal() -> std::io::Result<()> {
    Ok(())
}

/// `cargo classroom watch`.
pub fn watch() -> anyhow::Result<()> {
    anyhow::bail!("not written yet")
}
