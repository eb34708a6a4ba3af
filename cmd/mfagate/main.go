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
	// The first SIGTERM or Ctrl+C asks the command to stop cleanly (a
	// server drains its requests first); a second one, during that, ends
	// the process at once, as signals do by default.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
