//! The catalogue of a student copy ([`MARKER_FILE`]): the exercises without their solutions, in
//! a small TOML file that `classroom check` and `classroom hint` read. We write and read the few
//! TOML forms we need ourselves rather than add a TOML crate.

use std::fs;
use std::path::Path;

use anyhow::Context;

use super::{Entry, MARKER_FILE};

/// Writes the catalogue of a student copy ([`MARKER_FILE`]): a small TOML file.
pub fn catalogue(entries: &[Entry]) -> String {
    let mut out = String::from(
        "# This folder is a socket-steps student copy, made by `cargo run --bin classroom -- new`.\n\
         # `cargo run --bin classroom -- check` and `-- hint` read the exercises below.\n\
         # Leave this file as it is.\n",
    );
    for entry in entries {
        out.push_str(&format!(
            "\n[[exercise]]\nid = {}\ntask = {}\nhint = {}\nfile = {}\nfunction = {}\n",
            toml_string(&entry.id),
            toml_string(&entry.task),
            toml_string(&entry.hint),
            toml_string(&entry.file),
            toml_string(&entry.function),
        ));
    }
    out
}

fn toml_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn parse_toml_string(text: &str) -> Option<String> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Reads a catalogue written by [`catalogue`]. The error says which line is wrong.
pub fn parse_catalogue(text: &str) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    let mut current: Option<[Option<String>; 5]> = None;
    const KEYS: [&str; 5] = ["id", "task", "hint", "file", "function"];
    let finish = |fields: [Option<String>; 5], entries: &mut Vec<Entry>| -> Result<(), String> {
        let [id, task, hint, file, function] = fields;
        let missing = |name: &str| format!("an [[exercise]] has no `{name}`");
        entries.push(Entry {
            id: id.ok_or_else(|| missing("id"))?,
            task: task.ok_or_else(|| missing("task"))?,
            hint: hint.ok_or_else(|| missing("hint"))?,
            file: file.ok_or_else(|| missing("file"))?,
            function: function.ok_or_else(|| missing("function"))?,
        });
        Ok(())
    };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "[[exercise]]" {
            if let Some(fields) = current.take() {
                finish(fields, &mut entries)?;
            }
            current = Some(Default::default());
            continue;
        }
        let bad = || format!("line {}: cannot read `{line}`", number + 1);
        let (key, value) = line.split_once(" = ").ok_or_else(bad)?;
        let slot = KEYS.iter().position(|k| *k == key).ok_or_else(bad)?;
        let fields = current.as_mut().ok_or_else(bad)?;
        fields[slot] = Some(parse_toml_string(value).ok_or_else(bad)?);
    }
    if let Some(fields) = current.take() {
        finish(fields, &mut entries)?;
    }
    Ok(entries)
}

/// Reads the catalogue of the student copy at `root`.
pub fn read_catalogue(root: &Path) -> anyhow::Result<Vec<Entry>> {
    let path = root.join(MARKER_FILE);
    let text =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    parse_catalogue(&text).map_err(|e| anyhow::anyhow!("{} is damaged: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classroom::regions::{parse, tests::SAMPLE};

    #[test]
    fn catalogue_round_trips() {
        let mut entry = parse("src/step4_accept.rs", SAMPLE).unwrap()[0]
            .entry
            .clone();
        entry
            .hint
            .push_str(" a \\ backslash,\ta tab and a\nnewline");
        let text = catalogue(&[entry.clone(), entry.clone()]);
        assert_eq!(parse_catalogue(&text).unwrap(), vec![entry.clone(), entry]);
        assert!(parse_catalogue("[[exercise]]\nid = \"1.1\"\n")
            .unwrap_err()
            .contains("no `task`"));
        assert!(parse_catalogue("id = 1").unwrap_err().contains("line 1"));
    }
}
