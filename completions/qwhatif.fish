# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_qwhatif_global_optspecs
    string join \n s/script= f/format= strict csv-raw o/output= q/quiet v/verbose h/help V/version
end

function __fish_qwhatif_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_qwhatif_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_qwhatif_using_subcommand
    set -l cmd (__fish_qwhatif_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c qwhatif -n "__fish_qwhatif_needs_command" -s s -l script -d 'Read changes from SCRIPT too (after CHANGES; repeatable, in order)' -r -F
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s f -l format -d 'Output format' -r -f -a "stream\t'The scenario\'s v1 results streams, then `qwhatif changes v1` and `qwhatif diff v1`'
text\t'A report to read: banner, what moves, then the scenario\'s report'
json\t'One JSON document: the what-if and the scenario\'s results'
csv\t'The diff: one row per item and list whose date or shortage moved'"
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qwhatif -n "__fish_qwhatif_needs_command" -l strict -d 'Make warnings errors (exit 65, nothing written): those about the input, as qplan\'s (a blank estimate or triage, a holiday or vacation with no day in the plan…), and a holiday or vacation of the changes with no day in the plan. Without it they are printed on stderr'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -l csv-raw -d 'With --format csv: write every cell exactly as the data has it. By default a cell a spreadsheet would run as a formula (one that begins with =, +, @, a TAB or a CR, or with - and is not a number) gets a \' before it, as OWASP recommends against CSV injection; use this when a program, not a spreadsheet, reads the CSV'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -s V -l version -d 'Print version'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "compare" -d 'Several scenarios against the same baseline, in one table'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "save" -d 'Keep a what-if in the store as scenario NAME; print its commit.'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "list" -d 'The saved scenarios: name, base commit, when saved, whether the base is still main\'s current `qplan conditioned` (`current`) or not (`old`), and the first change'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "show" -d 'Re-run scenario NAME on its base, as a plain qwhatif would (same output formats); with --rebase, on main\'s current `qplan conditioned` instead'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "drop" -d 'Remove scenario NAME (its commits stay as objects until `git gc`)'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "apply" -d 'Make scenario NAME\'s conditioned input the new `qplan conditioned` on main; print the commit'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "explain" -d 'Why an item is short or late, and the smallest change that fixes it'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "serve" -d 'The plan and its what-ifs as a local web page.'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "solve" -d 'The cheapest combination of allowed changes that meets a goal'
complete -c qwhatif -n "__fish_qwhatif_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s s -l script -d 'A scenario\'s change script (repeatable)' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s f -l format -d 'Output format' -r -f -a "text\t'Aligned columns'
json\t'One JSON document'
csv\t'One row per scenario and track'"
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -l strict -d 'Make warnings errors (exit 65, nothing written): those about the input, as qplan\'s (a blank estimate or triage, a holiday or vacation with no day in the plan…), and a holiday or vacation of the changes with no day in the plan. Without it they are printed on stderr'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -l csv-raw -d 'With --format csv: write every cell exactly as the data has it. By default a cell a spreadsheet would run as a formula (one that begins with =, +, @, a TAB or a CR, or with - and is not a number) gets a \' before it, as OWASP recommends against CSV injection; use this when a program, not a spreadsheet, reads the CSV'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand compare" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -s s -l script -d 'Read changes from SCRIPT too (after CHANGES; repeatable, in order)' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -l force -d 'Replace the scenario of that name'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand save" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand list" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand list" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand list" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand list" -s h -l help -d 'Print help'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -s f -l format -d 'Output format' -r -f -a "stream\t'The scenario\'s v1 results streams, then `qwhatif changes v1` and `qwhatif diff v1`'
text\t'A report to read: banner, what moves, then the scenario\'s report'
json\t'One JSON document: the what-if and the scenario\'s results'
csv\t'The diff: one row per item and list whose date or shortage moved'"
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -l rebase -d 'Run it on main\'s current `qplan conditioned`, not on its base'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -l csv-raw -d 'With --format csv: write every cell exactly as the data has it. By default a cell a spreadsheet would run as a formula (one that begins with =, +, @, a TAB or a CR, or with - and is not a number) gets a \' before it, as OWASP recommends against CSV injection; use this when a program, not a spreadsheet, reads the CSV'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand drop" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand drop" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand drop" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand drop" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand drop" -s h -l help -d 'Print help'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -l wait -d 'Wait at most SECONDS for the store\'s lock, then fail with 75' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -l rebase -d 'Apply it to main\'s current `qplan conditioned` even when that moved since the scenario\'s base (the script is re-run on it)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand apply" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -s f -l format -d 'Output format' -r -f -a "text\t'Sentences to read'
json\t'One JSON document'"
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -l strict -d 'Make the warnings about the input errors (exit 65), as qplan\'s --strict'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand explain" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l http -d 'Where to listen: a loopback address and port (port 0: any free one; the address is printed on stderr)' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l public-url -d 'The address users open when the page is behind a reverse proxy (`https://plan.example.com`): requests whose Host is that name, and forms sent from that origin, are answered as the page\'s own; all others are still refused. The proxy may pass the Host on or not. Not needed for a proxy on this machine to reach a loopback ADDR; --public is still needed to listen off this machine' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l ready-file -d 'Write the page\'s address (`http://127.0.0.1:PORT/`) to FILE once it is listening' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l store -d 'The store. Default: $XDG_DATA_HOME/qsnap, else ~/.local/share/qsnap' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l bus -d 'Answer WHATIF requests on the bus at URL (`ipc://PATH` or `tcp://127.0.0.1:PORT`) instead of serving the page: the base revision and a change script in, what `qwhatif --format stream` writes out (the bus of `qsnap serve`)' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l token-file -d 'With --bus: every request must carry the token in FILE\'s first line (needed with --public; nng has no encryption). With --snap-bus: the token `qsnap serve` wants' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l snap-bus -d 'Learn of new results from `qsnap serve` (URL: its request address, as `qwatch --bus` takes it) instead of from the store\'s files: the page subscribes to its events first, then reads the heads. The page still reads the results from --store. Without it, the page watches the store\'s refs through the kernel (inotify). Either way nothing polls, and open pages get the news on `/events`' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l snap-events -d 'With --snap-bus: where `qsnap serve` publishes (default: the address its HEADS reply names)' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -l public -d 'Allow an address off this machine. The page has no login: anyone who can reach it can save scenarios and apply them'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s s -l ask -d 'Read the ask from ASKFILE too (after ASK; repeatable, in order); `-` reads stdin' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s f -l format -d 'Output format' -r -f -a "text\t'The goal, what fails today, the cheapest changes with their prices, each goal item before -> after, the scenarios computed'
script\t'The change script alone, ready for `qwhatif -s -` or `qwhatif save`'
json\t'One JSON document (cost, proven, script, items, …)'"
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -l max-scenarios -d 'Compute at most N scenarios; a search that needs more ends with the best found, said to be NOT proven' -r
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -l strict -d 'Make the warnings about the input errors (exit 65), as qplan\'s --strict'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand solve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "compare" -d 'Several scenarios against the same baseline, in one table'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "save" -d 'Keep a what-if in the store as scenario NAME; print its commit.'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "list" -d 'The saved scenarios: name, base commit, when saved, whether the base is still main\'s current `qplan conditioned` (`current`) or not (`old`), and the first change'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "show" -d 'Re-run scenario NAME on its base, as a plain qwhatif would (same output formats); with --rebase, on main\'s current `qplan conditioned` instead'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "drop" -d 'Remove scenario NAME (its commits stay as objects until `git gc`)'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "apply" -d 'Make scenario NAME\'s conditioned input the new `qplan conditioned` on main; print the commit'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "explain" -d 'Why an item is short or late, and the smallest change that fixes it'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "serve" -d 'The plan and its what-ifs as a local web page.'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "solve" -d 'The cheapest combination of allowed changes that meets a goal'
complete -c qwhatif -n "__fish_qwhatif_using_subcommand help; and not __fish_seen_subcommand_from compare save list show drop apply explain serve solve help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
