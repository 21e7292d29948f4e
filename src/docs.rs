//! Man pages and shell completions, generated from the commands' clap
//! definitions so that the help text lives once. `make docs` writes them
//! under `man/` and `completions/`; a test fails when they are stale.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cmd;
use crate::error::exit;

/// Every command of the toolkit, by name.
pub fn commands() -> Vec<clap::Command> {
    vec![
        cmd::qpull::Args::command(),
        cmd::qsnap::Args::command(),
        cmd::qcondition::Args::command(),
        cmd::qplan::Args::command(),
        cmd::qwhatif::Args::command(),
        cmd::qwatch::Args::command(),
    ]
}

/// The shells completions are written for.
pub const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// What a man page says beyond `--help` (formats, ENVIRONMENT, FILES,
/// EXAMPLES, SEE ALSO), in Markdown under `doc/man/`, one file per tool.
fn man_extra(tool: &str) -> String {
    let text = match tool {
        "qpull" => include_str!("../doc/man/qpull.md"),
        "qsnap" => include_str!("../doc/man/qsnap.md"),
        "qcondition" => include_str!("../doc/man/qcondition.md"),
        "qplan" => include_str!("../doc/man/qplan.md"),
        "qwhatif" => include_str!("../doc/man/qwhatif.md"),
        "qwatch" => include_str!("../doc/man/qwatch.md"),
        _ => "",
    };
    text.replace("@MAP@", map_keys())
}

/// What a subcommand's page says beyond `--help`, in Markdown under
/// `doc/man/` (`qwhatif-solve.md`); most say nothing more.
fn sub_extra(page: &str) -> &'static str {
    match page {
        "qwhatif-solve" => include_str!("../doc/man/qwhatif-solve.md"),
        _ => "",
    }
}

/// The map keys, documented once beside the qcondition fixtures.
fn map_keys() -> &'static str {
    let map = include_str!("../fixtures/qcondition/README.md");
    map.find("## The map")
        .and_then(|i| map[i..].find('\n').map(|j| &map[i + j + 1..]))
        .unwrap_or("")
}

/// The file formats, man section 5: page name and Markdown (under
/// `doc/man5/`). What users need of the formats lives here and in the
/// README.
pub const FORMATS: [(&str, &str); 4] = [
    ("qplan-stream", include_str!("../doc/man5/qplan-stream.md")),
    (
        "qcondition-map",
        include_str!("../doc/man5/qcondition-map.md"),
    ),
    (
        "qpull-sources",
        include_str!("../doc/man5/qpull-sources.md"),
    ),
    ("qwatch-chain", include_str!("../doc/man5/qwatch-chain.md")),
];

/// Renders a section-5 page, titled like clap titles the commands' pages.
fn format_page(name: &str, md: &str) -> Vec<u8> {
    let md = md.replace("@MAP@", map_keys());
    let roff = mandown::convert(&md, name, 5);
    let body = roff.split_once('\n').map_or("", |(_, rest)| rest);
    format!(
        ".TH {name} 5  \"qplan {}\" \n{body}",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// EXIT STATUS in Markdown, from the one table every tool prints.
fn exit_status() -> String {
    let mut md = String::from("## EXIT STATUS\n\n");
    for line in exit::TABLE.lines().skip(1) {
        let line = line.trim();
        if let Some((code, meaning)) = line.split_once(char::is_whitespace) {
            md.push_str(&format!("- {code}: {}\n", meaning.trim()));
        }
    }
    md.push('\n');
    md
}

/// Renders one man page: clap's sections for what `--help` says, then the
/// tool's own sections with EXIT STATUS before EXAMPLES (or SEE ALSO).
fn man_page(command: clap::Command, extra: &str) -> std::io::Result<Vec<u8>> {
    let mut page = Vec::new();
    let has_subcommands = command.get_subcommands().next().is_some();
    let has_version = command.get_version().is_some();
    let man = clap_mangen::Man::new(command);
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    if has_subcommands {
        man.render_subcommands_section(&mut page)?;
    }
    let at = ["## EXAMPLES", "## SEE ALSO"]
        .iter()
        .find_map(|h| extra.find(h))
        .unwrap_or(extra.len());
    let md = format!("{}{}{}", &extra[..at], exit_status(), &extra[at..]);
    let roff = mandown::convert(&md, "", 1);
    // mandown starts a whole page; clap has written the title already.
    let body = roff.split_once('\n').map_or("", |(_, rest)| rest);
    page.extend_from_slice(body.as_bytes());
    if has_version {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

/// Every generated file: its path relative to the repository and contents.
pub fn files() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for (name, md) in FORMATS {
        out.push((format!("man/{name}.5"), format_page(name, md)));
    }
    for command in commands() {
        let name = command.get_name().to_owned();
        out.push((
            format!("man/{name}.1"),
            man_page(command.clone(), &man_extra(&name))?,
        ));
        // A page per subcommand (`qsnap-put(1)`), as the main page refers to them.
        for sub in command.get_subcommands() {
            let sub_name = sub.get_name();
            let page_name = format!("{name}-{sub_name}");
            let sub = sub
                .clone()
                .name(page_name.clone())
                .bin_name(format!("{name} {sub_name}"));
            let see_also = format!("{}## SEE ALSO\n\n{name}(1)\n", sub_extra(&page_name));
            out.push((format!("man/{page_name}.1"), man_page(sub, &see_also)?));
        }
        for shell in SHELLS {
            let mut c = command.clone();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut c, &name, &mut buf);
            let file = match shell {
                Shell::Bash => format!("completions/{name}.bash"),
                Shell::Zsh => format!("completions/_{name}"),
                _ => format!("completions/{name}.{shell}"),
            };
            out.push((file, buf));
        }
    }
    Ok(out)
}
