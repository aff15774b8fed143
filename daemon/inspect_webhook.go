package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parleymail/parley/mailflow/bounce/webhook"
)

// inspectedEvent is one line of `parleyd inspect webhook`.
type inspectedEvent struct {
	Provider   string `json:"provider"`
	ID         string `json:"id"`
	Email      string `json:"email"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Scores     bool   `json:"scores"`
	Diagnostic string `json:"diagnostic"`
}

// inspectWebhook implements `parleyd inspect webhook --provider NAME
// FILE…`, NAME one of webhook.Providers: it shows how Parley reads saved
// provider webhook payloads, one JSON line per event, after a first line
// saying that no signature was checked (the files carry no request
// headers, and a saved SNS message's certificate may be long gone). args
// are the words after "inspect webhook" (a leading "webhook" is skipped).
// It needs no configuration and no database.
func inspectWebhook(e *env, args []string) int {
	if len(args) > 0 && args[0] == "webhook" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("parleyd inspect webhook", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	names := webhook.Names()
	provider := fs.String("provider", "", "who sent the payloads: "+strings.Join(names[:len(names)-1], ", ")+" or "+names[len(names)-1])
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: parleyd inspect webhook --provider "+strings.Join(names, "|")+" FILE…")
		fmt.Fprintln(w, "       (one JSON line per event; signatures are not checked)")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fs.Usage = func() {} // printed below, to the right stream
	files, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(e.stdout)
		return exitOK
	}
	if err != nil {
		usage(e.stderr) // the flag package has printed the error
		return exitConfig
	}
	p, known := webhook.ProviderNamed(*provider)
	if !known {
		if *provider == "" {
			fmt.Fprintln(e.stderr, "parleyd: inspect webhook: --provider is required")
		} else {
			fmt.Fprintf(e.stderr, "parleyd: inspect webhook: unknown provider %q\n", *provider)
		}
		usage(e.stderr)
		return exitConfig
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "parleyd: inspect webhook: no files")
		usage(e.stderr)
		return exitConfig
	}

	enc := json.NewEncoder(e.stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string{"note": "signatures not checked"}); err != nil {
		fmt.Fprintf(e.stderr, "parleyd: inspect webhook: writing output: %v\n", err)
		return exitFail
	}
	status := exitOK
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: inspect webhook: %v\n", err)
			status = exitFail
			continue
		}
		events, err := p.Unverified(raw)
		if err != nil {
			fmt.Fprintf(e.stderr, "parleyd: inspect webhook: %s: %v\n", file, err)
			status = exitFail
			continue
		}
		for _, ev := range events {
			out := inspectedEvent{
				Provider:   ev.Provider,
				ID:         ev.ID,
				Email:      ev.Email,
				Kind:       string(ev.Kind),
				Status:     ev.Status,
				Scores:     ev.Scores,
				Diagnostic: ev.Diagnostic,
			}
			if err := enc.Encode(out); err != nil {
				fmt.Fprintf(e.stderr, "parleyd: inspect webhook: writing output: %v\n", err)
				return exitFail
			}
		}
	}
	return status
}
