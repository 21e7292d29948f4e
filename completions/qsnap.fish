# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_qsnap_global_optspecs
    string join \n store= q/quiet v/verbose h/help V/version
end

function __fish_qsnap_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_qsnap_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_qsnap_using_subcommand
    set -l cmd (__fish_qsnap_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c qsnap -n "__fish_qsnap_needs_command" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_needs_command" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_needs_command" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_needs_command" -s V -l version -d 'Print version'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "init" -d 'Create the store (put also creates it on first use)'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "replay" -d 'Run every version of APP FROM through a command; keep the outputs as APP TO on a side branch (a replay), never on main.'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "put" -d 'Store a stacked stream as the new version of APP STAGE; print the commit'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "get" -d 'Write a stored version, prefixed with its provenance section'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "log" -d 'History, newest first: commit, time, resource, message, provenance, and when a put last found a version\'s data again (`checked`)'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "diff" -d 'Per section, the lines added and removed between two versions'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "ls" -d 'The resources at a revision, with the commit and time of their version, and when a put last found its data again (`checked`)'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "tag" -d 'Name a revision (default: the newest commit); tags work as REV'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "trace" -d 'The provenance chain of a version: results → conditioned → raw'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "verify" -d 'Check that every version is readable and every provenance commit present; exit 1 with the list of problems (on stdout) when not'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "gc" -d 'Remove what killed puts left behind: temporary files in `objects/` that no running put holds, and a `main.lock` a dead put left'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "maintenance" -d 'Keep the store small, safely beside running puts: pack its objects and refs, prune unreferenced objects older than --grace, and say what was done (on stderr; -q for none).'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "push" -d 'Send main and the tags to a replica: a store directory (created when missing), `file://`, `https://`, `ssh://` or `user@host:path`.'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "pull" -d 'Fast-forward main from a replica and add its missing tags'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "serve" -d 'Answer requests and announce new versions on the bus.'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "clone" -d 'Make a new store in DIR from a replica (REMOTE as for push)'
complete -c qsnap -n "__fish_qsnap_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c qsnap -n "__fish_qsnap_using_subcommand init" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand init" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand init" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand init" -s h -l help -d 'Print help'
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -l name -d 'The replay\'s name (its side ref is refs/qsnap/replay/NAME): lower-case letters, digits, \'_\' and \'-\'' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -l wait -d 'Wait at most SECONDS for the store\'s lock at each step, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -l force -d 'Run every version again, done or not'
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -l keep-going -d 'Record a version whose command fails and go on (exit 65 at the end)'
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand replay" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -s m -l message -d 'The commit message (default: `put APP STAGE`)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -l wait -d 'Wait at most SECONDS for another put (or a program holding `refs/heads/main.lock`), then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand put" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -l at -d 'A revision: a commit (full or short), `main~2`, a tag' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -l at-time -d 'The last version at or before TIME: an ISO date (the end of that day, UTC), a date-time (UTC unless an offset is given), or `@SECONDS`, a Unix time (`--at-time @1385856000`)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -l replay -d 'Read replay NAME instead of main: its newest version, or at --at (a commit of the replay, or a revision on main: the replay\'s version made from the newest source version at or before it) or --at-time (replay commits carry their source version\'s time)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -l raw -d 'The stored bytes alone, without the provenance section'
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand get" -s h -l help -d 'Print help'
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -s f -l format -r -f -a "text\t'A table to read'
json\t'A JSON array of entries, for scripts and jq'"
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -s n -l max-count -d 'At most N entries' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -l replay -d 'The history of replay NAME instead of main\'s, its recorded failures included (resource `-`)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand log" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand diff" -l replay -d 'Compare two versions of replay NAME: each REV as for `get --replay`' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand diff" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand diff" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand diff" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand diff" -s h -l help -d 'Print help'
complete -c qsnap -n "__fish_qsnap_using_subcommand ls" -l at -r
complete -c qsnap -n "__fish_qsnap_using_subcommand ls" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand ls" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand ls" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand ls" -s h -l help -d 'Print help'
complete -c qsnap -n "__fish_qsnap_using_subcommand tag" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand tag" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand tag" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand tag" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand trace" -l at -r
complete -c qsnap -n "__fish_qsnap_using_subcommand trace" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand trace" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand trace" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand trace" -s h -l help -d 'Print help'
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -l wait -d 'With --repair: wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -l repair -d 'Move broken heads back to their newest intact commit'
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand gc" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand gc" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand gc" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand gc" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -l grace -d 'Keep unreferenced objects younger than this: a number with `s`, `m`, `h`, `d` or `w` (`12h`, `2w`). At least a minute' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand maintenance" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand push" -l wait -d 'Wait at most SECONDS for the lock of a store directory pushed into, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand push" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand push" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand push" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand push" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand pull" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand pull" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand pull" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand pull" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand pull" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l rep -d 'Where requests are answered (REQ/REP)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l pub -d 'Where events are published (PUB/SUB)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l token-file -d 'Every request must carry the token on this file\'s first line' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l max-request -d 'Refuse requests over BYTES (default 64 MiB)' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l wait -d 'How long a PUT waits for the store\'s lock, then is refused with 75. A maintenance the service runs itself is waited for to its end' -r
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -l public -d 'Allow addresses off this machine (needs --token-file)'
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand clone" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qsnap -n "__fish_qsnap_using_subcommand clone" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qsnap -n "__fish_qsnap_using_subcommand clone" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -n "__fish_qsnap_using_subcommand clone" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "init" -d 'Create the store (put also creates it on first use)'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "replay" -d 'Run every version of APP FROM through a command; keep the outputs as APP TO on a side branch (a replay), never on main.'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "put" -d 'Store a stacked stream as the new version of APP STAGE; print the commit'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "get" -d 'Write a stored version, prefixed with its provenance section'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "log" -d 'History, newest first: commit, time, resource, message, provenance, and when a put last found a version\'s data again (`checked`)'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "diff" -d 'Per section, the lines added and removed between two versions'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "ls" -d 'The resources at a revision, with the commit and time of their version, and when a put last found its data again (`checked`)'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "tag" -d 'Name a revision (default: the newest commit); tags work as REV'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "trace" -d 'The provenance chain of a version: results → conditioned → raw'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "verify" -d 'Check that every version is readable and every provenance commit present; exit 1 with the list of problems (on stdout) when not'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "gc" -d 'Remove what killed puts left behind: temporary files in `objects/` that no running put holds, and a `main.lock` a dead put left'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "maintenance" -d 'Keep the store small, safely beside running puts: pack its objects and refs, prune unreferenced objects older than --grace, and say what was done (on stderr; -q for none).'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "push" -d 'Send main and the tags to a replica: a store directory (created when missing), `file://`, `https://`, `ssh://` or `user@host:path`.'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "pull" -d 'Fast-forward main from a replica and add its missing tags'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "serve" -d 'Answer requests and announce new versions on the bus.'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "clone" -d 'Make a new store in DIR from a replica (REMOTE as for push)'
complete -c qsnap -n "__fish_qsnap_using_subcommand help; and not __fish_seen_subcommand_from init replay put get log diff ls tag trace verify gc maintenance push pull serve clone help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
