package importer_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/importer"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// newGroup makes a group owned by a new user.
func newGroup(t *testing.T, st *store.Store, slug string) mailflow.Group {
	t.Helper()
	ctx := context.Background()
	owner, err := st.CreateUser(ctx, store.NewUser{Email: "owner-" + slug + "@example.org", Name: "Owner", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: slug, Name: "Group " + slug, JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func queryInt(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.Pool().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func queryString(t *testing.T, st *store.Store, q string, args ...any) string {
	t.Helper()
	var s string
	if err := st.Pool().QueryRow(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestImportMembers(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	g := newGroup(t, st, "garden")
	im := &importer.Importer{Store: st}

	// People Parley knows already: a moderator of the group, a member who
	// asked to join, one banned from the group, and one with a digest
	// default.
	mk := func(email, name string) mailflow.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: name, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	mod := mk("mod@example.org", "Mo Derator")
	asked := mk("asked@example.org", "Asker")
	banned := mk("banned@example.org", "Banned")
	digest := mk("digest@example.org", "Di Gest")
	if _, err := st.Pool().Exec(ctx, `UPDATE users SET default_delivery = 'digest' WHERE id = $1`, digest.ID); err != nil {
		t.Fatal(err)
	}
	for _, m := range []mailflow.Membership{
		{GroupID: g.ID, UserID: mod.ID, Role: mailflow.RoleModerator, Status: mailflow.MemberActive, Delivery: mailflow.DeliveryNone},
		{GroupID: g.ID, UserID: asked.ID, Status: mailflow.MemberRequested},
		{GroupID: g.ID, UserID: banned.ID, Status: mailflow.MemberBanned},
	} {
		if _, _, err := st.SetMembership(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	csv := "email,name,delivery\n" + // 1
		"ann@example.org,Ann Archer,weekly\n" + // 2: new account
		"bob.builder@example.org,,\n" + // 3: new, named after the address
		"MOD@example.org,Someone Else,immediate\n" + // 4: existing moderator: keeps role, name, delivery
		"not-an-address,X,\n" + // 5
		"cat@example.org,Cat,sometimes\n" + // 6
		"dan@example.org,Dan\n" + // 7: wrong column count
		"asked@example.org,Asker,digest\n" + // 8: the request becomes a membership
		"banned@example.org,Banned,\n" + // 9: stays banned
		"ann@@example.org,x,\n" + // 10
		"digest@example.org,\"Gest, Di\",\n" + // 11: the user's default delivery
		"\n" + // 12: blank lines are nothing
		"eve@example.org,\"Eve \"\"the\"\" Gardener\",NONE\n" // 13

	res, err := im.ImportMembers(ctx, g, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 5 members (3 new accounts), skipped 5 rows; 1 already in the group"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var lines []int
	for _, p := range res.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{5, 6, 7, 9, 10}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problems on lines %v, want %v: %v", lines, want, res.Problems)
	}
	if p := res.Problems[0].String(); !strings.Contains(p, "line 5") || !strings.Contains(p, "not-an-address") {
		t.Errorf("problem %q", p)
	}
	if p := res.Problems[3].Msg; !strings.Contains(p, "banned") {
		t.Errorf("banned member reported as %q", p)
	}

	type row struct {
		Name, Role, Delivery, Status string
		Verified, Password           bool
	}
	get := func(email string) row {
		var r row
		err := st.Pool().QueryRow(ctx, `
			SELECT u.name, m.role, m.delivery, m.status, u.email_verified_at IS NOT NULL, u.password_hash IS NOT NULL
			FROM users u JOIN memberships m ON m.user_id = u.id AND m.group_id = $2 WHERE lower(u.email) = lower($1)`,
			email, g.ID).Scan(&r.Name, &r.Role, &r.Delivery, &r.Status, &r.Verified, &r.Password)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		return r
	}
	for email, want := range map[string]row{
		"ann@example.org":         {"Ann Archer", "member", "weekly", "active", true, false},
		"bob.builder@example.org": {"bob.builder", "member", "immediate", "active", true, false},
		"mod@example.org":         {"Mo Derator", "moderator", "none", "active", true, false},
		"asked@example.org":       {"Asker", "member", "digest", "active", true, false},
		"banned@example.org":      {"Banned", "member", "immediate", "banned", true, false},
		"digest@example.org":      {"Di Gest", "member", "digest", "active", true, false},
		"eve@example.org":         {`Eve "the" Gardener`, "member", "none", "active", true, false},
	} {
		if got := get(email); got != want {
			t.Errorf("%s: %+v, want %+v", email, got, want)
		}
	}
	for _, email := range []string{"cat@example.org", "dan@example.org"} {
		if n := queryInt(t, st, `SELECT count(*) FROM users WHERE email = $1`, email); n != 0 {
			t.Errorf("a bad row made an account for %s", email)
		}
	}

	// Again: nothing changes.
	snapshot := func() string {
		return queryString(t, st, `SELECT string_agg(concat_ws('|', u.email, u.name, m.role, m.delivery, m.status, m.updated_at, u.updated_at), ',' ORDER BY u.email)
			FROM users u LEFT JOIN memberships m ON m.user_id = u.id`)
	}
	before := snapshot()
	res, err = im.ImportMembers(ctx, g, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Summary(), "imported 0 members (0 new accounts), skipped 5 rows; 6 already in the group"; got != want {
		t.Errorf("second run: %q, want %q", got, want)
	}
	if after := snapshot(); after != before {
		t.Errorf("the second run changed users or memberships:\n%s\n%s", before, after)
	}
	if n := queryInt(t, st, `SELECT count(*) FROM audit_log WHERE action = 'group.import_members' AND target_id = 'garden'`); n != 2 {
		t.Errorf("%d audit entries, want one per run", n)
	}
	if n := queryInt(t, st, `SELECT count(*) FROM river_job`); n != 0 {
		t.Errorf("%d jobs queued by a members import (no welcome mail is sent)", n)
	}
}

func TestReadMembersHeader(t *testing.T) {
	// A spreadsheet's export: a byte order mark, other names, more columns.
	var rows []importer.MemberRow
	problems, err := importer.ReadMembers(strings.NewReader("\uFEFFNickname,Email Address,Group status\r\nAnn,ann@example.org,member\r\n"),
		func(r importer.MemberRow) error { rows = append(rows, r); return nil })
	if err != nil || len(problems) != 0 || len(rows) != 1 || rows[0] != (importer.MemberRow{Line: 2, Email: "ann@example.org", Name: "ann"}) {
		t.Fatalf("export with a BOM: %v %v %+v", err, problems, rows)
	}
	for _, in := range []string{"", "name,delivery\nAnn,none\n", "ann@example.org\n"} {
		if _, err := importer.ReadMembers(strings.NewReader(in), func(importer.MemberRow) error { return nil }); !errors.Is(err, importer.ErrNoEmailColumn) {
			t.Errorf("%q: %v, want ErrNoEmailColumn", in, err)
		}
	}
	// A multi-line quoted field: the row is reported at the line it starts on.
	rows = nil
	problems, err = importer.ReadMembers(strings.NewReader("email,name\nann@example.org,\"Ann\nArcher\"\nbob@example.org,Bob\n"),
		func(r importer.MemberRow) error { rows = append(rows, r); return nil })
	if err != nil || len(problems) != 1 || problems[0].Line != 2 || len(rows) != 1 || rows[0].Line != 4 {
		t.Fatalf("multi-line name: %v %v %+v", err, problems, rows)
	}
}
