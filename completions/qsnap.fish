complete -c qsnap -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qsnap -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qsnap -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qsnap -s V -l version -d 'Print version'
