// Package cli is the mfagate command: Run parses the arguments, and it is
// the only place that wires adapters (storage, mail, web, workers)
// together. One file per subcommand.
//
// Nothing here calls os.Exit or reads globals: the environment, standard
// streams and arguments come in through Run, so tests run the whole
// program in-process, on port 0 with a temporary folder.
package cli
