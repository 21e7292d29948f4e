# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_qplan_global_optspecs
    string join \n f/format= track= triage= store= replay= csv-raw strict o/output= q/quiet v/verbose h/help V/version
end

function __fish_qplan_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_qplan_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_qplan_using_subcommand
    set -l cmd (__fish_qplan_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c qplan -n "__fish_qplan_needs_command" -s f -l format -d 'Output format' -r -f -a "stream\t'The v1 results streams (man 5 qplan-stream), for qsnap and other tools'
text\t'A report to read: supply against demand and the ranked work list'
json\t'One JSON document with everything, for web pages and jq'
csv\t'The work lists, one row per item per track'
html\t'A report to look at: one self-contained HTML page with charts (add the trend across stored versions with --store)'"
complete -c qplan -n "__fish_qplan_needs_command" -l track -d 'Show only this track (text, json, csv, html)' -r
complete -c qplan -n "__fish_qplan_needs_command" -l triage -d 'Show only work at this triage level or more important (1, 1.5, 2, 2.5, 3), and demand up to this level (text, json, csv, html)' -r
complete -c qplan -n "__fish_qplan_needs_command" -l store -d 'With --format html: the snapshot store whose stored versions of `qplan results` make the report\'s trend (the newest 52, read, not recomputed) and whose commits give the provenance its times. Without FILE the report is of the store\'s newest results; `-` reads stdin. Without --store, the html report takes its trend from $QSNAP_REPO when that is set, and still reports FILE or stdin (the environment adds the trend, it never changes what is reported); the other formats do not read a store' -r -F
complete -c qplan -n "__fish_qplan_needs_command" -l replay -d 'With --format html and a store: draw the trend of replay NAME (`qsnap replay APP FROM results --name NAME`, of `qplan results`) beside main\'s, on the same scale' -r
complete -c qplan -n "__fish_qplan_needs_command" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only when qplan succeeds' -r -F
complete -c qplan -n "__fish_qplan_needs_command" -l csv-raw -d 'With --format csv: write every cell exactly as the data has it. By default a cell a spreadsheet would run as a formula (one that begins with =, +, @, a TAB or a CR, or with - and is not a number) gets a \' before it, as OWASP recommends against CSV injection; use this when a program, not a spreadsheet, reads the CSV'
complete -c qplan -n "__fish_qplan_needs_command" -l strict -d 'Make the warnings about the input errors (exit 65, nothing written): a blank estimate or triage, a holiday or vacation with no day in the plan, a person on a track with no work, and the others of `qcondition --check`. Without it they are printed on stderr (the first 20; -v up to 1,000; -q none) and the plan is computed'
complete -c qplan -n "__fish_qplan_needs_command" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qplan -n "__fish_qplan_needs_command" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qplan -n "__fish_qplan_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qplan -n "__fish_qplan_needs_command" -s V -l version -d 'Print version'
complete -c qplan -n "__fish_qplan_needs_command" -a "blame" -d 'Why did this item move? Every stored version where its date or shortage changed.'
complete -c qplan -n "__fish_qplan_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c qplan -n "__fish_qplan_using_subcommand blame" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qplan -n "__fish_qplan_using_subcommand blame" -l app -d 'The app whose `APP results` are read' -r
complete -c qplan -n "__fish_qplan_using_subcommand blame" -s f -l format -d 'Output format' -r -f -a "stream\t'`qplan blame item v1`, `qplan blame v1` (one line per list the item moved in: commit, time, previous commit, list, date before, after, shortage before, after; `-` where it was not planned), `qplan blame input v1` (commit, why, resource, section, `-` or `+`, the row) and `qplan blame note v1` (commit, message)'
text\t'A story to read, newest first'
json\t'One JSON document'"
complete -c qplan -n "__fish_qplan_using_subcommand blame" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qplan -n "__fish_qplan_using_subcommand blame" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qplan -n "__fish_qplan_using_subcommand blame" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qplan -n "__fish_qplan_using_subcommand help; and not __fish_seen_subcommand_from blame help" -f -a "blame" -d 'Why did this item move? Every stored version where its date or shortage changed.'
complete -c qplan -n "__fish_qplan_using_subcommand help; and not __fish_seen_subcommand_from blame help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
