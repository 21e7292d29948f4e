complete -c qwatch -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qwatch -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwatch -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwatch -s V -l version -d 'Print version'
