complete -c qcondition -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qcondition -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qcondition -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qcondition -s V -l version -d 'Print version'
