complete -c qpull -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qpull -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qpull -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qpull -s V -l version -d 'Print version'
