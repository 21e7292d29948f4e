//! Progress bars of jobs whose own tests live elsewhere: on a terminal a
//! bar with counts, through a pipe or with -q none, stdout the same.
//! (blame, clone/push/pull, compare and qpull are tested beside the rest
//! of their behaviour.)

use crate::util::{shows_bar, Sandbox};

/// `qsnap replay` of four stored versions through `cat`: a bar counting
/// the versions on a terminal; none in a pipe or with -q; the same
/// stdout (the replay's head) each time.
#[test]
fn replay_shows_its_progress_on_a_terminal_only() {
    let sb = Sandbox::new();
    for i in 1..=4 {
        let out = sb
            .cmd("qsnap")
            .args(["--store", "store", "put", "qplan", "raw"])
            .write_stdin(format!("=====raw work\n\tversion {i}\n=====end\n"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let args = [
        "--store", "store", "replay", "qplan", "raw", "copy", "--name", "a", "--force", "--", "cat",
    ];
    let piped = sb.cmd("qsnap").args(args).output().unwrap();
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let err = String::from_utf8_lossy(&piped.stderr);
    assert!(!err.contains("versions") && !err.contains("ETA"), "{err}");
    // Run again (--force: every version) on a terminal, then with -q: a
    // replay that makes the same outputs makes the same commits, so the
    // head on stdout is the same bytes.
    let tty = sb.on_terminal("qsnap", &args, &[]);
    assert_eq!(tty.code, 0, "{}", tty.screen);
    assert!(shows_bar(&tty.screen, "/4 versions"), "{:?}", tty.screen);
    let quiet = sb.on_terminal("qsnap", &[&["-q"], &args[..]].concat(), &[]);
    assert_eq!(quiet.code, 0, "{}", quiet.screen);
    assert!(!quiet.screen.contains("versions"), "{:?}", quiet.screen);
    assert_eq!(tty.stdout, piped.stdout);
    assert_eq!(quiet.stdout, piped.stdout);
    assert!(!piped.stdout.is_empty());
}
