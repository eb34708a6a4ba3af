package sqlstore

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/mfagate/mfagate"
)

func TestOptionsDefaults(t *testing.T) {
	tests := []struct {
		name   string
		driver string
		in     Options
		want   Options
	}{
		{"postgres", DriverPostgres, Options{}, Options{
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 20, MaxIdleConns: 20,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"sqlite", DriverSQLite, Options{}, Options{
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 8, MaxIdleConns: 8,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
		{"given values kept", DriverPostgres, Options{
			RequestTimeout: time.Second, ConnectTimeout: 2 * time.Second, MaxOpenConns: 5, MaxIdleConns: 3,
			ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Minute}, Options{
			RequestTimeout: time.Second, ConnectTimeout: 2 * time.Second, MaxOpenConns: 5, MaxIdleConns: 3,
			ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Minute}},
		{"idle kept within open", DriverPostgres, Options{MaxOpenConns: 4}, Options{
			RequestTimeout: 5 * time.Second, ConnectTimeout: 5 * time.Second, MaxOpenConns: 4, MaxIdleConns: 4,
			ConnMaxLifetime: 30 * time.Minute, ConnMaxIdleTime: 5 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.orDefaults(tt.driver); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestOpenBoundsThePool checks that the options reach database/sql and
// SQLite's busy_timeout follows the request timeout.
func TestOpenBoundsThePool(t *testing.T) {
	tests := []struct {
		name     string
		o        Options
		wantOpen int
		wantBusy string
	}{
		{"defaults", Options{}, 8, "5000"},
		{"given", Options{MaxOpenConns: 3, RequestTimeout: 1500 * time.Millisecond}, 3, "1500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := OpenWith(context.Background(), DriverSQLite, filepath.Join(t.TempDir(), "db.sqlite"), tt.o)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := db.db.Stats().MaxOpenConnections; got != tt.wantOpen {
				t.Errorf("MaxOpenConnections: got %d, want %d", got, tt.wantOpen)
			}
			var busy string
			if err := db.db.QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&busy); err != nil {
				t.Fatal(err)
			}
			if busy != tt.wantBusy {
				t.Errorf("busy_timeout: got %s, want %s", busy, tt.wantBusy)
			}
		})
	}
}

func TestPostgresConnectTimeout(t *testing.T) {
	tests := []struct {
		name, dsn string
		want      time.Duration
	}{
		{"URL without one", "postgres://u@db.example.com/mfagate?sslmode=disable", 3 * time.Second},
		{"URL with one", "postgres://u@db.example.com/mfagate?sslmode=disable&connect_timeout=7", 7 * time.Second},
		{"key=value with one", "host=db.example.com user=u connect_timeout=11", 11 * time.Second},
		{"key=value without one", "host=db.example.com user=u", 3 * time.Second},
		{"zero means none, which mfagate never wants", "postgres://u@db.example.com/mfagate?connect_timeout=0", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PGCONNECT_TIMEOUT", "")
			cfg, err := pgConfig(tt.dsn, 3*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ConnectTimeout != tt.want {
				t.Errorf("got %s, want %s", cfg.ConnectTimeout, tt.want)
			}
		})
	}
}

// TestConnectTimeoutStopsAStalledServer opens a PostgreSQL "server" that
// accepts the connection and never says a word: Open gives up after the
// connect timeout, not the (longer) request timeout, with EUNAVAILABLE.
func TestConnectTimeoutStopsAStalledServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	start := time.Now()
	db, err := OpenWith(context.Background(), DriverPostgres, "postgres://u@"+ln.Addr().String()+"/mfagate?sslmode=disable",
		Options{ConnectTimeout: 300 * time.Millisecond, RequestTimeout: 20 * time.Second})
	if err == nil {
		db.Close()
		t.Fatal("Open: got nil error, want one")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Open took %s, want about the connect timeout (300ms)", took)
	}
	if got := mfagate.ErrorCode(err); got != mfagate.EUNAVAILABLE {
		t.Errorf("code: got %q, want %q (%v)", got, mfagate.EUNAVAILABLE, err)
	}
}
