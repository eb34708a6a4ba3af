// Command mfagate is a self-hosted sign-in service that adds multi-factor
// authentication to an organisation's accounts and rolls it out in phases.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mfagate/mfagate/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
