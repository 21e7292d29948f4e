complete -c qpull -s c -l config -d 'The sources (TOML)' -r -F
complete -c qpull -l only -d 'Fetch only these sources (repeatable)' -r
complete -c qpull -l since -d 'A previous qpull output: ask servers for changes only (If-None-Match, If-Modified-Since) and reuse its content on 304' -r -F
complete -c qpull -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qpull -l allow-partial -d 'Write the sources that worked even when others failed (exit 0; the failures are reported on stderr). When every source failed, nothing is written and the exit status is 69 or 75 as without it'
complete -c qpull -l force -d 'Take a source that returned no rows or fewer than `min_rows`'
complete -c qpull -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qpull -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qpull -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qpull -s V -l version -d 'Print version'
