package mailtest

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

const testMsg = "From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nhello\r\n.leading dot\r\n"

func TestSinkRecordsMessages(t *testing.T) {
	s := NewSink(t)
	for i := range 3 {
		to := []string{"b@example.org", "c@example.org"}
		if err := smtp.SendMail(s.Addr, nil, "a@example.org", to, []byte(testMsg)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if !s.WaitFor(3, 5*time.Second) {
		t.Fatalf("count = %d, want 3", s.Count())
	}
	envs := s.Envelopes()
	if len(envs) != 3 {
		t.Fatalf("got %d envelopes, want 3", len(envs))
	}
	e := envs[0]
	if e.From != "a@example.org" || strings.Join(e.To, ",") != "b@example.org,c@example.org" {
		t.Errorf("envelope = %q -> %q", e.From, e.To)
	}
	if string(e.Data) != testMsg {
		t.Errorf("data = %q, want %q", e.Data, testMsg)
	}
	if e.At.IsZero() {
		t.Error("At not set")
	}
	if got := s.Conns(); got != 3 {
		t.Errorf("conns = %d, want 3 (SendMail dials each time)", got)
	}

	// Envelopes returns a copy: changing it must not change the sink.
	envs[0].Data[0] = 'X'
	if s.Envelopes()[0].Data[0] != 'F' {
		t.Error("Envelopes shares memory with the sink")
	}

	s.Reset()
	if s.Count() != 0 || len(s.Envelopes()) != 0 {
		t.Errorf("after Reset: count %d, %d envelopes", s.Count(), len(s.Envelopes()))
	}
}

func TestSinkHooks(t *testing.T) {
	tests := []struct {
		name     string
		rcpt     func(string) *gosmtp.SMTPError
		data     func(string, []string) *gosmtp.SMTPError
		wantCode int    // first error code seen, 0 for none
		wantTo   string // recipients recorded, "" when nothing recorded
	}{
		{
			name: "rcpt rejected permanently",
			rcpt: func(to string) *gosmtp.SMTPError {
				if to == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}
				}
				return nil
			},
			wantCode: 550,
			wantTo:   "b@example.org",
		},
		{
			name: "rcpt rejected temporarily",
			rcpt: func(to string) *gosmtp.SMTPError {
				if to == "gone@example.org" {
					return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try later"}
				}
				return nil
			},
			wantCode: 451,
			wantTo:   "b@example.org",
		},
		{
			name: "data rejected",
			data: func(from string, to []string) *gosmtp.SMTPError {
				if from != "a@example.org" || len(to) != 2 {
					t.Errorf("data hook got %q %q", from, to)
				}
				return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "busy"}
			},
			wantCode: 451,
		},
		{
			name:   "no hooks",
			wantTo: "b@example.org,gone@example.org",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSink(t)
			s.SetRcptHook(tt.rcpt)
			s.SetDataHook(tt.data)

			code := sendTwoRcpts(t, s.Addr)
			if code != tt.wantCode {
				t.Errorf("first error code = %d, want %d", code, tt.wantCode)
			}
			envs := s.Envelopes()
			switch {
			case tt.wantTo == "" && len(envs) != 0:
				t.Errorf("recorded %d envelopes, want none", len(envs))
			case tt.wantTo != "" && len(envs) != 1:
				t.Errorf("recorded %d envelopes, want 1", len(envs))
			case tt.wantTo != "" && strings.Join(envs[0].To, ",") != tt.wantTo:
				t.Errorf("recorded to %q, want %q", envs[0].To, tt.wantTo)
			}
		})
	}
}

// sendTwoRcpts sends one message to b@ and gone@ over net/smtp, carrying on
// past a refused recipient as an MTA would, and returns the first SMTP error
// code seen (0 if none).
func sendTwoRcpts(t *testing.T, addr string) int {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer func() {
		if err := c.Quit(); err != nil {
			t.Errorf("quit: %v", err)
		}
	}()
	first := 0
	note := func(err error) {
		var te *textproto.Error
		if errors.As(err, &te) {
			if first == 0 {
				first = te.Code
			}
			return
		}
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
	}
	note(c.Mail("a@example.org"))
	note(c.Rcpt("b@example.org"))
	note(c.Rcpt("gone@example.org"))
	w, err := c.Data()
	note(err)
	if _, err := w.Write([]byte(testMsg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	note(w.Close())
	return first
}

func TestSinkDiscard(t *testing.T) {
	s := NewSink(t)
	s.SetDiscard(true)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	for i := range 10 {
		if err := c.Mail("a@example.org"); err != nil {
			t.Fatalf("mail %d: %v", i, err)
		}
		if err := c.Rcpt("b@example.org"); err != nil {
			t.Fatalf("rcpt %d: %v", i, err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatalf("data %d: %v", i, err)
		}
		if _, err := w.Write([]byte(testMsg)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("end data %d: %v", i, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	if !s.WaitFor(10, time.Second) {
		t.Fatalf("count = %d, want 10", s.Count())
	}
	if n := len(s.Envelopes()); n != 0 {
		t.Errorf("kept %d envelopes while discarding", n)
	}
	if s.Conns() != 1 {
		t.Errorf("conns = %d, want 1", s.Conns())
	}
}

func TestSinkWaitForTimesOut(t *testing.T) {
	s := NewSink(t)
	start := time.Now()
	if s.WaitFor(1, 50*time.Millisecond) {
		t.Fatal("WaitFor reported a message that never came")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("WaitFor returned before its timeout")
	}
}

func TestSinkCloseTwice(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("first close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := smtp.Dial(s.Addr); err == nil {
		t.Fatal("dial succeeded after Close")
	}
}

func TestSinkDropConns(t *testing.T) {
	s := NewSink(t)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello("client.example.org"); err != nil {
		t.Fatalf("ehlo: %v", err)
	}
	s.DropConns()
	if err := c.Mail("a@example.org"); err == nil {
		t.Fatal("MAIL succeeded on a dropped connection")
	}
	if err := smtp.SendMail(s.Addr, nil, "a@example.org", []string{"b@example.org"}, []byte(testMsg)); err != nil {
		t.Fatalf("sink stopped listening after DropConns: %v", err)
	}
}
