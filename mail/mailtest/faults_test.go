package mailtest_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/mail/mailtest"
)

// sendOn sends one message on an open client and reports the error of
// DATA's end (the server's answer to the message).
func sendOn(c *smtp.Client, subject string) error {
	if err := c.Mail("a@example.org"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte("Message-ID: <" + subject + "@example.org>\r\nSubject: " + subject + "\r\n\r\nhi\r\n")); err != nil {
		return err
	}
	return w.Close()
}

func dial(t *testing.T, srv *mailtest.Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestServerDropConnections(t *testing.T) {
	for _, tt := range []struct {
		mode     mailtest.DropMode
		counted  bool // the server keeps the message
		answered bool // the client sees the 250
	}{
		{mailtest.DropBeforeAccept, false, false},
		{mailtest.DropAfterAccept, true, false},
		{mailtest.DropAfterReply, true, true},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			srv := mailtest.NewServer(t)
			srv.DropConnections(tt.mode, 2, 1) // the second message only
			c := dial(t, srv)
			if err := sendOn(c, "one"); err != nil {
				t.Fatalf("first message: %v", err)
			}
			err := sendOn(c, "two")
			if (err == nil) != tt.answered {
				t.Fatalf("second message: got error %v, want an answer %v", err, tt.answered)
			}
			if err := c.Reset(); err == nil {
				t.Errorf("RSET after the drop: no error, want the connection closed")
			}
			c2 := dial(t, srv)
			if err := sendOn(c2, "three"); err != nil {
				t.Fatalf("third message: %v", err)
			}
			if err := sendOn(c2, "four"); err != nil {
				t.Fatalf("fourth message, after the plan ran out: %v", err)
			}
			var ids []string
			for _, m := range srv.Messages() {
				ids = append(ids, m.MessageID())
			}
			want := "one@example.org three@example.org four@example.org"
			if tt.counted {
				want = "one@example.org two@example.org three@example.org four@example.org"
			}
			if got := strings.Join(ids, " "); got != want {
				t.Errorf("messages: got %s, want %s", got, want)
			}
			if got := srv.Dropped(tt.mode); got != 1 {
				t.Errorf("Dropped: got %d, want 1", got)
			}
			if got := srv.Attempts(); got != 4 {
				t.Errorf("Attempts: got %d, want 4", got)
			}
		})
	}
}

func TestServerHoldMessage(t *testing.T) {
	srv := mailtest.NewServer(t)
	h := srv.HoldMessage(2)
	c := dial(t, srv)
	if err := sendOn(c, "one"); err != nil {
		t.Fatalf("first message: %v", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- sendOn(c, "two") }()
	if got := h.Wait(t, 10*time.Second); got.Subject != "two" {
		t.Errorf("held %q, want two", got.Subject)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("while held: %d messages, want 1", n)
	}
	h.Refuse(451)
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("held message: got %v, want a 451", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("after the refusal: %d messages, want 1", n)
	}
}

func TestServerDelayAndRefuseSessions(t *testing.T) {
	srv := mailtest.NewServer(t, mailtest.Delay(50*time.Millisecond))
	srv.RefuseSessions(1)
	if err := send(srv, "refused"); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("first session: got %v, want a 451", err)
	}
	begin := time.Now()
	if err := send(srv, "slow"); err != nil {
		t.Fatalf("second session: %v", err)
	}
	if d := time.Since(begin); d < 50*time.Millisecond {
		t.Errorf("answered after %v, want at least the delay", d)
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].Subject != "slow" || got[0].Received.IsZero() {
		var subjects []string
		for _, m := range got {
			subjects = append(subjects, m.Subject)
		}
		t.Errorf("messages: got %q, want the slow one, with its time", subjects)
	}
}
