package main

import (
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportCommands runs import-members and import-mbox against a
// running Parley: summaries on stdout, skipped lines on stderr with their
// line numbers, exit 0 with skipped lines, and nothing mailed.
func TestImportCommands(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "known@example.org", "Known Person", "correct horse battery", false)
	w.sql(t, `INSERT INTO groups (slug, name) VALUES ('garden', 'Garden Club')`)

	members := writeFile(t, "members.csv", "email,name,delivery\n"+
		"ann@example.org,Ann Archer,digest\n"+
		"not-an-address,Nobody,\n"+
		"known@example.org,Ignored Name,\n"+
		"bob@example.org,Bob,sometimes\n"+
		"cat@example.org\n")
	out, stderr, code := runCmd(t, w.env, "", "import-members", "--group", "garden", members)
	if code != 0 || strings.TrimSpace(out) != "imported 2 members (1 new account), skipped 3 rows" {
		t.Fatalf("import-members: exit %d\nstdout %q\nstderr %q", code, out, stderr)
	}
	for _, want := range []string{members + ":3: \"not-an-address\" is not a valid email address", members + ":5: delivery \"sometimes\"", members + ":6: has 1 fields"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := w.queryInt(t, `SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = 'garden' AND m.status = 'active'`); n != 2 {
		t.Errorf("%d active members, want 2", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users WHERE email = 'ann@example.org' AND email_verified_at IS NOT NULL
		AND password_hash IS NULL AND name = 'Ann Archer'`); n != 1 {
		t.Error("no verified account without a password for a new address")
	}
	// Again: nothing changes.
	out, _, code = runCmd(t, w.env, "", "import-members", "--group", "garden", members)
	if code != 0 || strings.TrimSpace(out) != "imported 0 members (0 new accounts), skipped 3 rows; 2 already in the group" {
		t.Fatalf("second import-members: exit %d, %q", code, out)
	}

	archive := writeFile(t, "garden.mbox", strings.Join([]string{
		"From ann@example.org Mon Jan  1 10:00:00 2024",
		"From: Ann Archer <ann@example.org>",
		"Date: Mon, 1 Jan 2024 10:00:00 +0000",
		"Subject: [garden] Seeds",
		"Message-ID: <seeds@example.org>",
		"",
		"Who has seeds?",
		">From the shop, I mean.",
		"",
		"From broken Mon Jan  1 11:00:00 2024", // line 10: no From header
		"Subject: anonymous",
		"",
		"?",
		"",
		"From zed@example.org Tue Jan  2 10:00:00 2024",
		"From: zed@example.org",
		"Date: Tue, 2 Jan 2024 10:00:00 +0000",
		"Subject: Re: [garden] Seeds",
		"Message-ID: <seeds-2@example.org>",
		"",
		"I do.",
		"",
	}, "\n"))
	out, stderr, code = runCmd(t, w.env, "", "import-mbox", "--group", "garden", archive)
	if code != 0 || strings.TrimSpace(out) != "imported 2 messages in 1 thread, skipped 1 (already there: 0, unreadable: 1)" {
		t.Fatalf("import-mbox: exit %d\nstdout %q\nstderr %q", code, out, stderr)
	}
	if !strings.Contains(stderr, archive+":10: no From address") {
		t.Errorf("stderr lacks the bad message's line:\n%s", stderr)
	}
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "[#") {
		t.Errorf("a progress bar on a pipe:\n%q", stderr)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM messages WHERE body LIKE '%From the shop%' AND body NOT LIKE '%>From%' AND created_at = '2024-01-01 10:00:00+00'
		AND author_id = (SELECT id FROM users WHERE email = 'ann@example.org')`); n != 1 {
		t.Error("the first message lost its date, its author or its unescaped line")
	}
	if n := w.queryInt(t, `SELECT count(*) FROM users WHERE email = 'zed@example.org'`); n != 0 {
		t.Error("an account was made for an archive author")
	}
	out, _, code = runCmd(t, w.env, "", "import-mbox", "--group", "garden", archive)
	if code != 0 || strings.TrimSpace(out) != "imported 0 messages in 0 threads, skipped 3 (already there: 2, unreadable: 1)" {
		t.Fatalf("second import-mbox: exit %d, %q", code, out)
	}
	// Ann takes a digest and Known every message: a post would have
	// queued mail for them. Imports queue nothing.
	if n := w.queryInt(t, `SELECT count(*) FROM deliveries`); n != 0 {
		t.Errorf("%d deliveries after imports", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM river_job WHERE kind IN ('fanout', 'system_mail')`); n != 0 {
		t.Errorf("%d mail jobs after imports", n)
	}
}

// TestImportCommandErrors: an unknown group, a missing file or a file
// without an email column fail with 1; usage errors with 2. The commands
// start the embedded database themselves.
func TestImportCommandErrors(t *testing.T) {
	t.Parallel()
	env := []string{"DATA_DIR=" + dataDir(t)}
	csv := writeFile(t, "m.csv", "email\nann@example.org\n")
	for _, c := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"import-members", "--group", "nope", csv}, 1, `there is no group "nope"`},
		{[]string{"import-mbox", "--group", "nope", csv}, 1, `there is no group "nope"`},
		{[]string{"import-members", "--group", "nope", "/does/not/exist.csv"}, 1, "no such file"},
		{[]string{"import-mbox", "--group", "nope", filepath.Dir(csv)}, 1, "is not a file"},
		{[]string{"import-members", csv}, 2, "Usage: parleyd import-members --group SLUG FILE.csv"},
		{[]string{"import-mbox", "--group", "x"}, 2, "Usage: parleyd import-mbox --group SLUG FILE.mbox"},
	} {
		_, stderr, code := runCmd(t, env, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.err) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr, c.code, c.err)
		}
	}
}

// TestAdminImportPage: a holder of manage_users imports a CSV file from
// the Admin pages and sees the summary and the skipped lines; a member
// without it gets 403.
func TestAdminImportPage(t *testing.T) {
	t.Parallel()
	w := startWeb(t, "")
	w.createUser(t, "mgr@example.org", "Manager", "correct horse battery", false)
	w.createUser(t, "ann@example.org", "Ann", "correct horse battery", false)
	w.sql(t, `UPDATE users SET permissions = '{manage_users}' WHERE email = 'mgr@example.org'`)
	w.sql(t, `INSERT INTO groups (slug, name) VALUES ('owls', 'Owl Watchers'), ('bats', 'Bat Club')`)

	mgr := w.client(t)
	mgr.login("mgr@example.org", "correct horse battery")
	code, body := mgr.get("/admin/import")
	if code != 200 || !strings.Contains(body, `<option value="owls"`) || !strings.Contains(body, `<option value="bats"`) ||
		!strings.Contains(body, "parleyd import-mbox") {
		t.Fatalf("import page: %d\n%s", code, body)
	}
	upload := func(c *webClient, fields map[string]string, file, content string) (int, string) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		mw.WriteField("csrf_token", c.csrf)
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		if file != "" {
			fw, _ := mw.CreateFormFile("file", file)
			fw.Write([]byte(content))
		}
		mw.Close()
		req, _ := http.NewRequest("POST", w.url+"/admin/import", strings.NewReader(b.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return c.do(req)
	}
	csv := "email,name\nzoe@example.org,Zoe\nbroken\nann@example.org,Ann\n"
	code, body = upload(mgr, map[string]string{"group": "owls", "kind": "members"}, "owls.csv", csv)
	if code != 200 || !strings.Contains(body, "imported 2 members (1 new account), skipped 1 row") || !strings.Contains(body, "Line 3:") {
		t.Fatalf("upload: %d\n%s", code, body)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = 'owls' AND m.status = 'active'`); n != 2 {
		t.Errorf("%d members of owls after the upload, want 2", n)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM audit_log WHERE action = 'group.import_members' AND actor_id = (SELECT id FROM users WHERE email = 'mgr@example.org')`); n != 1 {
		t.Errorf("%d audit entries for the import", n)
	}
	// A form without a group or a file comes back with the reasons.
	mgr.get("/admin/import")
	code, body = upload(mgr, map[string]string{"kind": "members"}, "", "")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="group-error"`) || !strings.Contains(body, `id="file-error"`) {
		t.Errorf("empty form: %d", code)
	}
	mgr.get("/admin/import")
	code, body = upload(mgr, map[string]string{"group": "owls", "kind": "members"}, "x.csv", "name\nAnn\n")
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "must name the columns") {
		t.Errorf("a file without an email column: %d", code)
	}

	// A member without manage_users cannot see or use the page.
	ann := w.client(t)
	ann.login("ann@example.org", "correct horse battery")
	if code, _ := ann.get("/admin/import"); code != http.StatusForbidden {
		t.Errorf("GET /admin/import as a member: %d, want 403", code)
	}
	ann.get("/account")
	if code, _ := upload(ann, map[string]string{"group": "bats", "kind": "members"}, "bats.csv", "email\nann@example.org\n"); code != http.StatusForbidden {
		t.Errorf("POST /admin/import as a member: %d, want 403", code)
	}
	if n := w.queryInt(t, `SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id WHERE g.slug = 'bats'`); n != 0 {
		t.Error("a member's upload was imported")
	}
}
