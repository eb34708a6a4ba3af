// Command seed starts signed-in sessions for the load tests of
// bench/forward-auth.sh: it opens the database a mfagate configuration names
// and asks account.SeedSessions for N fully signed-in sessions of one
// account, without hashing a password for each, then writes their cookie
// tokens one per line. Tokens are whatever account makes: never built
// here. Run it against a benchmark's database only, never a real one:
// each token is a live session.
//
//	go run ./bench/seed --config mfagate.yaml --user bench --n 100000 --out tokens.txt
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mfagate/mfagate"
	"github.com/mfagate/mfagate/account"
	"github.com/mfagate/mfagate/config"
	"github.com/mfagate/mfagate/sqlstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run() error {
	cfgPath := flag.String("config", "", "the mfagate configuration `file`")
	user := flag.String("user", "", "the `username` whose sessions to start")
	n := flag.Int("n", 100000, "how many sessions")
	out := flag.String("out", "", "the `file` to write the tokens to, one per line")
	flag.Parse()
	if *cfgPath == "" || *user == "" || *out == "" {
		flag.Usage()
		return errors.New("--config, --user and --out are required")
	}
	cfg, err := config.Load(*cfgPath, os.Getenv)
	if err != nil {
		return err
	}
	key, err := readKey(cfg.Secrets.KeyFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	store, err := sqlstore.OpenWith(ctx, cfg.Database.Driver, cfg.Database.DSN, sqlstore.Options{MaxOpenConns: 4})
	if err != nil {
		return err
	}
	defer store.Close()
	accounts, err := account.New(account.Options{
		Store: store, Clock: mfagate.SystemClock{}, Key: key,
		SessionIdle: cfg.Server.SessionIdleTimeout, SessionMaxAge: cfg.Server.SessionMaxAge,
		Support: account.Contacts{Email: cfg.Support.Email, Phone: cfg.Support.Phone, Hours: cfg.Support.Hours},
	})
	if err != nil {
		return err
	}
	tokens, err := accounts.SeedSessions(ctx, *user, *n, account.Actor{ClientAddr: "127.0.0.1", UserAgent: "bench/seed"})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, t := range tokens {
		w.WriteString(t)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readKey reads the key file "mfagate keygen" writes: base64 of 32 bytes.
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("the configuration sets no secrets.key_file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s is not a key written by \"mfagate keygen\"", path)
	}
	return key, nil
}
