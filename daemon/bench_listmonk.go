package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// listmonk drives a running listmonk (github.com/knadh/listmonk) through
// its REST API, so that `parleyd bench fanout` can time it against the
// same sink, round by round beside Parley: one list of n confirmed
// subscribers, a personalised campaign per round. listmonk's own SMTP
// settings (the sink, its connections and workers) are its operator's:
// see /tmp/listmonk-run/README or ../shared/bench/listmonk.md.
type listmonk struct {
	base   string
	token  string // "user:token", sent as "Authorization: token user:token"
	listID int
	client *http.Client
}

func newListmonk(base, token string, listID int) *listmonk {
	return &listmonk{base: strings.TrimSuffix(base, "/"), token: token, listID: listID, client: &http.Client{Timeout: time.Minute}}
}

// call sends one API request; body is JSON-encoded unless it is a
// *multipart.Writer's bytes (contentType set). The "data" field of the
// answer is decoded into out.
func (l *listmonk) call(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, body)
	if err != nil {
		return fmt.Errorf("listmonk %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "token "+l.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return fmt.Errorf("listmonk %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("listmonk %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, &struct{ Data any }{Data: out}); err != nil {
		return fmt.Errorf("listmonk %s %s: reading the answer: %w", method, path, err)
	}
	return nil
}

func (l *listmonk) callJSON(ctx context.Context, method, path string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return l.call(ctx, method, path, "application/json", bytes.NewReader(b), out)
}

// prepare makes the benchmark list, unless one was given: a new private
// list with n confirmed subscribers imported from CSV.
func (l *listmonk) prepare(ctx context.Context, n int) error {
	if l.listID > 0 {
		return nil
	}
	var list struct {
		ID int `json:"id"`
	}
	name := fmt.Sprintf("parley-bench-%d-%d", n, time.Now().Unix())
	if err := l.callJSON(ctx, http.MethodPost, "/api/lists", map[string]any{"name": name, "type": "private", "optin": "single"}, &list); err != nil {
		return err
	}
	l.listID = list.ID
	var csv bytes.Buffer
	csv.WriteString("email,name,attributes\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "lm%d@bench.test,Member %d,{}\n", i, i)
	}
	var form bytes.Buffer
	w := multipart.NewWriter(&form)
	params, _ := json.Marshal(map[string]any{"mode": "subscribe", "subscription_status": "confirmed", "delim": ",",
		"lists": []int{l.listID}, "overwrite": true})
	_ = w.WriteField("params", string(params))
	fw, _ := w.CreateFormFile("file", "subscribers.csv")
	_, _ = fw.Write(csv.Bytes())
	_ = w.Close()
	if err := l.call(ctx, http.MethodPost, "/api/import/subscribers", w.FormDataContentType(), &form, nil); err != nil {
		return err
	}
	for {
		var st struct {
			Status   string `json:"status"`
			Imported int    `json:"imported"`
			Total    int    `json:"total"`
		}
		if err := l.call(ctx, http.MethodGet, "/api/import/subscribers", "", nil, &st); err != nil {
			return err
		}
		switch st.Status {
		case "finished":
			return nil
		case "failed":
			return fmt.Errorf("listmonk's import failed after %d of %d subscribers", st.Imported, st.Total)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// campaign creates the campaign of round i: the greeting, the subject
// and the unsubscribe link are personalised, as in Parley's copies.
func (l *listmonk) campaign(ctx context.Context, i int) (int, error) {
	var c struct {
		ID int `json:"id"`
	}
	err := l.callJSON(ctx, http.MethodPost, "/api/campaigns", map[string]any{
		"name": fmt.Sprintf("parley bench round %d (%d)", i, time.Now().UnixNano()), "subject": "Benchmark message for {{ .Subscriber.Name }}",
		"lists": []int{l.listID}, "from_email": "Bench <bench@bench.test>", "type": "regular", "messenger": "email", "content_type": "richtext",
		"body": `<p>Hello {{ .Subscriber.FirstName }}, this is a benchmark message with a <a href="https://example.org/">link</a>.</p>` +
			`<p>Second paragraph.</p><p><a href="{{ UnsubscribeURL }}">Unsubscribe</a></p>`,
	}, &c)
	return c.ID, err
}

// start starts a campaign; listmonk sends it from its next scan.
func (l *listmonk) start(ctx context.Context, id int) error {
	return l.callJSON(ctx, http.MethodPut, fmt.Sprintf("/api/campaigns/%d/status", id), map[string]string{"status": "running"}, nil)
}
