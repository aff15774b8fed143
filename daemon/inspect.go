package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/parleymail/parley/daemon/config"
	"github.com/parleymail/parley/mailflow/bounce/dsn"
	"github.com/parleymail/parley/mailflow/bounce/proof"
	"github.com/parleymail/parley/mailflow/inbound/quote"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/sign"
)

// inspectOptions are the flags of `parleyd inspect bounce`.
type inspectOptions struct{ key, rcpt string }

func inspectFlags(o *inspectOptions) func(fs *flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&o.key, "key", "", "bounce: the EMAIL_SECRET_KEY to check a report's proof with (default: EMAIL_SECRET_KEY)")
		fs.StringVar(&o.rcpt, "rcpt", "", "bounce: the address the report came to (bounces+TOKEN@… proves it by itself)")
	}
}

// cmdInspect implements `parleyd inspect message FILE…`, `parleyd
// inspect reply FILE…` and `parleyd inspect bounce FILE…`: it shows what
// Parley reads in a message, what the web would show of a reply, or what
// Parley makes of a delivery report (and, given the token key, whether
// it proves itself), one JSON line per file. It needs no configuration
// and no database, so it is safe to run on mail a user reports as
// misread.
func cmdInspect(o *inspectOptions) func(e *env, fs *flag.FlagSet, args []string) int {
	return func(e *env, _ *flag.FlagSet, args []string) int { return o.run(e, args) }
}

func (o *inspectOptions) run(e *env, args []string) int {
	if len(args) < 2 || (args[0] != "message" && args[0] != "reply" && args[0] != "bounce") {
		fmt.Fprintln(e.stderr, "usage: parleyd inspect message FILE…   (one JSON line per message: header fields, text, attachments, warnings)")
		fmt.Fprintln(e.stderr, "       parleyd inspect reply FILE…     (one JSON line per reply: the new text and the signature;")
		fmt.Fprintln(e.stderr, "                                        FILE is a raw message, a plain-text body or an HTML body)")
		fmt.Fprintln(e.stderr, "       parleyd inspect bounce FILE…    (one JSON line per message: bounce, delay, complaint, auto-reply or")
		fmt.Fprintln(e.stderr, "                                        ordinary mail, and each reported recipient with its status and reason;")
		fmt.Fprintln(e.stderr, "                                        with --key or EMAIL_SECRET_KEY, whether it proves it is about Parley's mail;")
		fmt.Fprintln(e.stderr, "                                        --rcpt ADDRESS: the address it came to, for bounces+TOKEN@)")
		return exitConfig
	}
	var keys sign.Keys
	if args[0] == "bounce" {
		var err error
		if keys, err = inspectKeys(e, o.key); err != nil {
			fmt.Fprintf(e.stderr, "parleyd: inspect: %v\n", err)
			return exitConfig
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	status := exitOK
	for _, file := range args[1:] {
		raw, err := os.ReadFile(file)
		if err != nil {
			status = exitFail
			fmt.Fprintf(e.stderr, "parleyd: inspect: %v\n", err)
			if args[0] == "message" {
				if err := enc.Encode(inspectedMessage{File: file, Errors: []string{err.Error()}}.init()); err != nil {
					return exitFail
				}
			}
			continue
		}
		var out any
		switch args[0] {
		case "message":
			out = inspectMessage(file, raw)
		case "bounce":
			out = inspectBounce(file, raw, keys, o.rcpt)
		default:
			out = inspectReply(e, file, raw)
		}
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(e.stderr, "parleyd: inspect: writing output: %v\n", err)
			return exitFail
		}
	}
	return status
}

type inspectedMessage struct {
	File        string                `json:"file"`
	From        string                `json:"from"`
	To          []string              `json:"to"`
	Subject     string                `json:"subject"`
	Date        string                `json:"date"`
	MessageID   string                `json:"message_id"`
	InReplyTo   []string              `json:"in_reply_to"`
	Text        string                `json:"text"`
	Attachments []inspectedAttachment `json:"attachments"`
	Warnings    []string              `json:"warnings"`
	Errors      []string              `json:"errors"`
}

type inspectedAttachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
}

// init replaces nil lists with empty ones, so that consumers of the JSON
// always see arrays.
func (m inspectedMessage) init() inspectedMessage {
	for _, l := range []*[]string{&m.To, &m.InReplyTo, &m.Warnings, &m.Errors} {
		if *l == nil {
			*l = []string{}
		}
	}
	if m.Attachments == nil {
		m.Attachments = []inspectedAttachment{}
	}
	return m
}

func inspectMessage(file string, raw []byte) inspectedMessage {
	out := inspectedMessage{File: file}
	m, err := mailparse.Parse(raw, mailparse.Limits{})
	if err != nil {
		out.Errors = []string{err.Error()}
		return out.init()
	}
	out.From = m.FromAddress
	if m.FromName != "" {
		out.From = fmt.Sprintf("%s <%s>", m.FromName, m.FromAddress)
	}
	out.To = m.To
	out.Subject = m.Subject
	if !m.Date.IsZero() {
		out.Date = m.Date.Format(time.RFC3339)
	}
	out.MessageID = m.MessageID
	out.InReplyTo = m.InReplyTo
	out.Text = m.Text
	for _, a := range m.Attachments {
		out.Attachments = append(out.Attachments, inspectedAttachment{Name: a.Filename, Type: a.ContentType, Size: a.Size})
	}
	out.Warnings = m.Warnings
	return out.init()
}

type inspectedReply struct {
	File      string `json:"file"`
	Text      string `json:"text"`
	Signature string `json:"signature"`
}

func inspectReply(e *env, file string, raw []byte) inspectedReply {
	var r quote.Reply
	switch {
	case looksLikeMessage(raw):
		m, err := mailparse.Parse(raw, mailparse.Limits{})
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: inspect: %s: %v\n", file, err)
			break
		}
		if m.TextFromHTML {
			r = quote.SplitHTML(m.HTML)
		} else {
			r = quote.Split(m.Text)
		}
	case looksLikeHTML(raw):
		r = quote.SplitHTML(string(raw))
	default:
		r = quote.Split(string(raw))
	}
	return inspectedReply{File: file, Text: r.Text, Signature: r.Signature}
}

type inspectedBounce struct {
	File       string               `json:"file"`
	Kind       string               `json:"kind"`
	Reporter   string               `json:"reporter"`
	Rule       string               `json:"rule"` // which rule decided the kind: format, field or words
	Recipients []inspectedRecipient `json:"recipients"`
	Proof      inspectedProof       `json:"proof"`
}

type inspectedRecipient struct {
	Address    string `json:"address"`
	Action     string `json:"action"`
	Status     string `json:"status"`
	Class      string `json:"class"`
	Reason     string `json:"reason"`
	Scores     bool   `json:"scores"`
	Diagnostic string `json:"diagnostic"`
	Rule       string `json:"rule"`                         // how the address was found: field or shape of the text
	Original   string `json:"original_recipient,omitempty"` // a forwarding mailbox's Original-Recipient
}

// inspectedProof is what the intake would decide about the report's
// proof, short of the database look-up of the token's recipient.
type inspectedProof struct {
	Decision string        `json:"decision"` // verified, unverified, ignored, or unchecked (no key)
	Why      string        `json:"why"`
	Tokens   []proof.Token `json:"tokens"`
}

func inspectBounce(file string, raw []byte, keys sign.Keys, rcpt string) inspectedBounce {
	r := dsn.Classify(raw)
	out := inspectedBounce{File: file, Kind: string(r.Kind), Reporter: r.Reporter, Rule: r.Rule, Recipients: []inspectedRecipient{}}
	for _, rc := range r.Recipients {
		out.Recipients = append(out.Recipients, inspectedRecipient{
			Address: rc.Address, Action: rc.Action, Status: rc.Status, Class: string(rc.Class),
			Reason: rc.Reason, Scores: rc.Scores, Diagnostic: rc.Diagnostic, Rule: rc.Rule, Original: rc.Original,
		})
	}
	out.Proof = judgeProof(r, raw, keys, rcpt)
	return out
}

// judgeProof mirrors bounce.Service.FromMail up to its look-ups: a
// verified report acts on the recipient of the delivery its token names
// (when that delivery exists), never on the addresses its text names.
func judgeProof(r dsn.Report, raw []byte, keys sign.Keys, rcpt string) inspectedProof {
	p := inspectedProof{Tokens: []proof.Token{}}
	switch {
	case r.Kind == dsn.KindAutoReply:
		p.Decision, p.Why = "ignored", "an automatic reply"
		return p
	case r.Kind == dsn.KindComplaint && strings.EqualFold(r.FeedbackType, "not-spam"):
		p.Decision, p.Why = "ignored", "a retracted complaint (not-spam)"
		return p
	case keys.Current == "":
		p.Decision, p.Why = "unchecked", "proof cannot be checked without the token key (--key, or EMAIL_SECRET_KEY in the environment or --env-file)"
		return p
	}
	var notes []string
	if local, _, _ := strings.Cut(strings.ToLower(strings.Trim(rcpt, "<> ")), "@"); strings.HasPrefix(local, "bounces+") {
		if id, err := keys.VerifyVERP(strings.TrimPrefix(local, "bounces+")); err == nil {
			p.Decision, p.Why = "verified", fmt.Sprintf("arrived at the VERP address of delivery %d: Parley acts on that delivery's recipient", id)
			p.Tokens = append(p.Tokens, proof.Find(raw, keys)...)
			return p
		}
		notes = append(notes, "its bounces+ address has no valid token")
	}
	if r.Kind == dsn.KindNotBounce {
		p.Decision, p.Why = "ignored", "not a delivery report"
		return p
	}
	toks := proof.Find(raw, keys)
	p.Tokens = append(p.Tokens, toks...)
	names := map[string]bool{}
	var invalid []proof.Token
	for _, t := range toks {
		if t.Valid {
			names[t.Names()] = true
		} else {
			invalid = append(invalid, t)
		}
	}
	switch {
	case len(names) == 1:
		for n := range names {
			p.Decision, p.Why = "verified", "the returned message carries a valid Parley token for "+n+": Parley acts on its recipient, if it exists"
		}
		return p
	case len(names) > 1:
		notes = append(notes, fmt.Sprintf("its valid tokens name %d deliveries or users: Parley acts only if they are one recipient", len(names)))
		p.Decision = "verified"
	default:
		notes = append(notes, proof.Missing(invalid))
		p.Decision = "unverified"
	}
	p.Why = strings.Join(notes, "; ")
	return p
}

// inspectKeys is the token key for checking proof: --key, else
// EMAIL_SECRET_KEY (and EMAIL_SECRET_KEY_PREVIOUS) from the environment
// or the --env-file. No key is no error: the proof is then unchecked.
func inspectKeys(e *env, key string) (sign.Keys, error) {
	lookup := config.Lookup(os.LookupEnv)
	if e.envFile != "" {
		f, err := os.Open(e.envFile)
		if err != nil {
			return sign.Keys{}, err
		}
		defer f.Close()
		m, err := config.ReadEnvFile(f)
		if err != nil {
			return sign.Keys{}, fmt.Errorf("%s: %w", e.envFile, err)
		}
		lookup = config.EnvWithFile(m)
	}
	prev, _ := lookup("EMAIL_SECRET_KEY_PREVIOUS")
	if key != "" {
		return sign.Keys{Current: key, Previous: prev}, nil
	}
	cur, _ := lookup("EMAIL_SECRET_KEY")
	return sign.Keys{Current: cur, Previous: prev}, nil
}

// looksLikeMessage reports a raw message: it starts with header fields
// (RFC 5322 §2.2), one of which is a field every message has.
func looksLikeMessage(raw []byte) bool {
	known := false
	for i, rest := 0, raw; i < 200 && len(rest) > 0; i++ {
		line := rest
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			line, rest = rest[:nl], rest[nl+1:]
		} else {
			rest = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if i == 0 {
				return false
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			if i == 0 && bytes.HasPrefix(line, []byte("From ")) {
				continue // mbox separator
			}
			return false
		}
		name := bytes.ToLower(bytes.TrimRight(line[:colon], " \t"))
		for _, c := range name {
			if c <= ' ' || c >= 127 {
				return false
			}
		}
		switch string(name) {
		case "from", "to", "subject", "date", "message-id", "received", "return-path",
			"mime-version", "content-type", "delivered-to", "in-reply-to", "references":
			known = true
		}
	}
	return known
}

// looksLikeHTML reports an HTML body: it starts with a tag, or holds one
// of the elements every HTML mail has.
func looksLikeHTML(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n\ufeff")
	if bytes.HasPrefix(t, []byte("<")) {
		return true
	}
	low := bytes.ToLower(raw[:min(len(raw), 64<<10)])
	return bytes.Contains(low, []byte("<html")) || bytes.Contains(low, []byte("<div"))
}
