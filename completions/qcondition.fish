complete -c qcondition -s m -l map -d 'Condition raw sections with this map (TOML)' -r -F
complete -c qcondition -l errors -d 'How problems are reported on stderr' -r -f -a "text\t'One line per problem: `qcondition: line 12, section \'raw work\', ...`'
json\t'One JSON array of problems, for monitoring: severity, section, line, column, value, message'"
complete -c qcondition -s o -l output -d 'Write to FILE instead of stdout; FILE is replaced only on success' -r -F
complete -c qcondition -l check -d 'Check conditioned v1 streams with qplan\'s own rules and pass them through'
complete -c qcondition -l strict -d 'Treat warnings as errors'
complete -c qcondition -s q -l quiet -d 'Print nothing on stderr but errors: no warnings, no progress bars'
complete -c qcondition -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qcondition -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qcondition -s V -l version -d 'Print version'
