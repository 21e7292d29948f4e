complete -c qwatch -l store -d 'Watch this store directly (no service): the kernel (inotify) wakes qwatch when the store\'s refs change, nothing polls; a store that does not exist yet is waited for. With --bus, only where the checkpoints are kept' -r -F
complete -c qwatch -l bus -d 'Watch through `qsnap serve` at this request address (the default when no --store is given: tcp://127.0.0.1:5000)' -r
complete -c qwatch -l events -d 'The service\'s events address (default: what its HEADS reply says)' -r
complete -c qwatch -l token-file -d 'Send the token on this file\'s first line with every request (a service started with --public)' -r -F
complete -c qwatch -l on-busy -d 'What a newer head does while the command runs: queue (one more run against the newest head when it ends), restart (stop it: SIGTERM to its process group, SIGKILL after --grace, and run again), drop (skip the puts made meanwhile)' -r -f -a "queue\t'Let it finish, then run once more against the newest head'
restart\t'Stop it (SIGTERM to its process group, SIGKILL after the grace period) and start again against the newest head'
drop\t'Let it finish and skip the puts made meanwhile'"
complete -c qwatch -l debounce -d 'Start a run only once the heads have not moved for MS milliseconds' -r
complete -c qwatch -l every -d 'Also run the command on a timer (`15m`, `1h`, `30s`); with no resource to watch, the first run is at start' -r
complete -c qwatch -l grace -d 'How long a command is given to stop, at shutdown and on restart' -r
complete -c qwatch -l state -d 'The checkpoint file (default: under the store, in `qwatch/<rule>-<hash>.checkpoint`)' -r -F
complete -c qwatch -l config -d 'Run the rules of a chain file (several watches and commands in one process, each with its own queue and checkpoint) instead of one rule given on the command line' -r -F
complete -c qwatch -l once -d 'Run the catch-up and exit: 0 when every run succeeded. With --bus, a service that does not answer is an error (69), not waited for'
complete -c qwatch -l exit-on-error -d 'Exit (75) at the first failed command instead of going on'
complete -c qwatch -l status -d 'Say what each rule last did and when, and exit: its last run (ok or failed, on which head, started and ended), and what its checkpoint records as processed. The rules are those of --config, or the one given (APP STAGE -- COMMAND, or --state FILE), or else every rule with a checkpoint in the store\'s `qwatch/` (--store) or in $XDG_STATE_HOME/qwatch. Exit 1 when a rule\'s last run failed'
complete -c qwatch -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qwatch -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwatch -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwatch -s V -l version -d 'Print version'
