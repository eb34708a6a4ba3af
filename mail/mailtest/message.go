package mailtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Username string   // who authenticated; empty without AUTH
	TLS      bool     // whether the session was encrypted
	Data     []byte   // the message as received, headers and body

	// Header holds the parsed headers; nil when Data is not a message.
	Header netmail.Header
	// Subject is the Subject header with encoded words decoded.
	Subject string
	// Text is the body with its transfer encoding undone and line ends as
	// "\n". It assumes a single-part message, which is all mfagate sends.
	Text string
	// ParseErr says why Header, Subject or Text could not be filled in.
	ParseErr error
	// Received is when the server accepted the message.
	Received time.Time
}

// MessageID returns the Message-ID header without its angle brackets, or
// "" when there is none.
func (m Message) MessageID() string {
	if m.Header == nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(m.Header.Get("Message-Id")), "<"), ">")
}

// parse fills in the parsed fields of a message from its raw data.
func parse(data []byte) Message {
	m := Message{Data: data}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		m.ParseErr = err
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseErr = err
	}
	var body io.Reader = msg.Body
	switch strings.ToLower(msg.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks
	}
	text, err := io.ReadAll(body)
	if err != nil && m.ParseErr == nil {
		m.ParseErr = err
	}
	m.Text = strings.ReplaceAll(string(text), "\r\n", "\n")
	return m
}
