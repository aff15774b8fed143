package outbound

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Transport opens Conns to wherever outgoing mail goes: an SMTP relay, a
// directory of .eml files, or nowhere.
type Transport interface {
	// Open returns a Conn ready to Send. It may defer the real connection
	// until the first Send, so that an idle worker holds no socket.
	Open(ctx context.Context) (Conn, error)
	// Name names the transport in logs and metrics ("smtp", "file", "discard").
	Name() string
}

// Conn sends messages one at a time over one reusable connection. It is not
// safe for concurrent use: each sending worker holds its own.
type Conn interface {
	// Send delivers msg, a complete RFC 5322 message with CRLF line endings,
	// to one recipient, with from as the envelope sender (the RFC 5321
	// reverse-path; "" sends the null path <>). Errors are *SendError.
	Send(ctx context.Context, from string, to string, msg []byte) error
	// Close ends the connection. A closed Conn refuses to Send.
	Close() error
}

// SendError is a failed send. Temporary is true for 4xx replies and for
// connection or network errors (retry later), false for 5xx replies
// (permanent: bounce). Code is the SMTP reply code (0 for network errors),
// Enhanced the RFC 3463 enhanced status code like "5.1.1" when the server
// gave one, and Msg the server's text.
type SendError struct {
	Code      int
	Enhanced  string
	Msg       string
	Temporary bool
	Err       error
}

// Error formats the reply like "smtp 550 5.1.1: user unknown", or the
// underlying error for network failures.
func (e *SendError) Error() string {
	if e.Code == 0 {
		if e.Err != nil {
			return "smtp: " + e.Err.Error()
		}
		return "smtp: " + e.Msg
	}
	var b strings.Builder
	b.WriteString("smtp ")
	b.WriteString(strconv.Itoa(e.Code))
	if e.Enhanced != "" {
		b.WriteByte(' ')
		b.WriteString(e.Enhanced)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *SendError) Unwrap() error { return e.Err }

// errBadAddress is wrapped by the SendError for an address that cannot be
// put on an SMTP command line or in a header.
var errBadAddress = errors.New("invalid envelope address")

// errConnClosed is wrapped by the SendError of a Send on a closed Conn.
var errConnClosed = errors.New("connection closed by caller")

// checkEnvelope refuses addresses that would let a caller inject commands or
// header lines: RFC 5321 section 4.1.2 allows neither CR nor LF in a path,
// and the transports add the angle brackets themselves. Such an address will
// never become deliverable, so the error is permanent.
func checkEnvelope(from, to string) error {
	if to == "" {
		return &SendError{Msg: "empty recipient", Err: errBadAddress}
	}
	for _, addr := range [2]string{from, to} {
		if strings.ContainsAny(addr, "\r\n<>") {
			return &SendError{Msg: "address " + strconv.Quote(addr) + " contains CR, LF or angle brackets", Err: errBadAddress}
		}
	}
	return nil
}

// discardTransport accepts every message and keeps none, for development and
// for measuring everything but the network.
type discardTransport struct{}

// NewDiscard returns a Transport that accepts and drops every message.
func NewDiscard() Transport { return discardTransport{} }

func (discardTransport) Name() string { return "discard" }

func (discardTransport) Open(context.Context) (Conn, error) { return discardConn{}, nil }

type discardConn struct{}

func (discardConn) Send(ctx context.Context, from, to string, _ []byte) error {
	if err := ctx.Err(); err != nil {
		return &SendError{Temporary: true, Err: err}
	}
	return checkEnvelope(from, to)
}

func (discardConn) Close() error { return nil }
