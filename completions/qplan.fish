complete -c qplan -s f -l format -d 'Output format' -r -f -a "stream\t'The v1 results streams (man 5 qplan-stream), for qsnap and other tools'
text\t'A report to read: supply against demand and the ranked work list'
json\t'One JSON document with everything, for web pages and jq'
csv\t'The work lists, one row per item per track'
html\t'A report to look at: one self-contained HTML page with charts (add the trend across stored versions with --store)'"
complete -c qplan -l track -d 'Show only this track (text, json, csv, html)' -r
complete -c qplan -l triage -d 'Show only work at this triage level or more important (1, 1.5, 2, 2.5, 3), and demand up to this level (text, json, csv, html)' -r
complete -c qplan -l store -d 'With --format html: the snapshot store whose stored versions of `qplan results` make the report\'s trend (the newest 52, read, not recomputed) and whose commits give the provenance its times. Without FILE the report is of the store\'s newest results; `-` reads stdin. Without --store, the html report takes its trend from $QSNAP_REPO when that is set, and still reports FILE or stdin (the environment adds the trend, it never changes what is reported); the other formats do not read a store' -r -F
complete -c qplan -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only when qplan succeeds' -r -F
complete -c qplan -l csv-raw -d 'With --format csv: write every cell exactly as the data has it. By default a cell a spreadsheet would run as a formula (one that begins with =, +, @, a TAB or a CR, or with - and is not a number) gets a \' before it, as OWASP recommends against CSV injection; use this when a program, not a spreadsheet, reads the CSV'
complete -c qplan -l strict -d 'Make the warnings about the input errors (exit 65, nothing written): a blank estimate or triage, a holiday or vacation with no day in the plan, a person on a track with no work, and the others of `qcondition --check`. Without it they are printed on stderr (the first 20; -v up to 1,000; -q none) and the plan is computed'
complete -c qplan -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qplan -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qplan -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qplan -s V -l version -d 'Print version'
