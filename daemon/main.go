// Command parleyd is Parley's one binary: the daemon (serve) and the
// operator's commands (migrate, create-user, create-token…).
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
