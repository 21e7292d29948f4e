//! Man pages and shell completions, generated from the commands' clap
//! definitions so that the help text lives once. `make docs` writes them
//! under `man/` and `completions/`; a test fails when they are stale.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cmd;

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

/// Every generated file: its path relative to the repository and contents.
pub fn files() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for command in commands() {
        let name = command.get_name().to_owned();
        let mut page = Vec::new();
        clap_mangen::Man::new(command.clone()).render(&mut page)?;
        out.push((format!("man/{name}.1"), page));
        // A page per subcommand (`qsnap-put(1)`), as the main page refers to them.
        for sub in command.get_subcommands() {
            let sub_name = sub.get_name();
            let page_name = format!("{name}-{sub_name}");
            let mut page = Vec::new();
            let sub = sub
                .clone()
                .name(page_name.clone())
                .bin_name(format!("{name} {sub_name}"));
            clap_mangen::Man::new(sub).render(&mut page)?;
            out.push((format!("man/{page_name}.1"), page));
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
