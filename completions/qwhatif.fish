complete -c qwhatif -s q -l quiet -d 'Print nothing on stderr but errors'
complete -c qwhatif -s v -l verbose -d 'Explain what is being done on stderr (repeat for more)'
complete -c qwhatif -s h -l help -d 'Print help (see more with \'--help\')'
complete -c qwhatif -s V -l version -d 'Print version'
