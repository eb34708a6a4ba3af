package mailtest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
)

func send(srv *mailtest.Server, subject string) error {
	msg := "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + subject +
		"\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n"
	return smtp.SendMail(srv.Addr(), nil, "a@example.org", []string{"b@example.com"}, []byte(msg))
}

func TestServerRejectsThenAccepts(t *testing.T) {
	srv := mailtest.NewServer(t)
	srv.SetReject(2)
	for i, wantErr := range []bool{true, true, false} {
		err := send(srv, "=?UTF-8?q?Gr=C3=BC=C3=9Fe?=")
		if (err != nil) != wantErr {
			t.Fatalf("send %d: got error %v, want error %v", i+1, err, wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "451") {
			t.Errorf("send %d: got error %v, want a 451", i+1, err)
		}
	}
	if got := srv.Attempts(); got != 3 {
		t.Errorf("Attempts: got %d, want 3", got)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
	if got[0].Subject != "Grüße" || got[0].Text != "Grüße\n" {
		t.Errorf("got subject %q and text %q, want Grüße and Grüße\\n", got[0].Subject, got[0].Text)
	}
	if got[0].From != "a@example.org" || len(got[0].To) != 1 || got[0].To[0] != "b@example.com" {
		t.Errorf("envelope: got %q → %q, want a@example.org → [b@example.com]", got[0].From, got[0].To)
	}
}

func TestServerWaitMessages(t *testing.T) {
	srv := mailtest.NewServer(t)
	errc := make(chan error, 3)
	for range 3 {
		go func() { errc <- send(srv, "hello") }()
	}
	got := srv.WaitMessages(t, 3, 10*time.Second)
	if len(got) != 3 {
		t.Errorf("WaitMessages: got %d messages, want 3", len(got))
	}
	for range 3 {
		if err := <-errc; err != nil {
			t.Errorf("send: %v", err)
		}
	}
}
