package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// Problem is a line of an imported file that was skipped, and why.
type Problem struct {
	Line int    `json:"line"`
	Msg  string `json:"message"`
}

func (p Problem) String() string { return fmt.Sprintf("line %d: %s", p.Line, p.Msg) }

// MemberRow is one valid row of a members file.
type MemberRow struct {
	Line     int // where the row starts in the file
	Email    string
	Name     string            // the row's, or the address's local part
	Delivery mailflow.Delivery // empty: the user's default
}

// columnNames maps the header names a members file may use (lowercased,
// without spaces, hyphens and underscores) to the columns Parley reads.
// Others are ignored, so exports with more columns can be used as they are.
var columnNames = map[string]string{
	"email": "email", "emailaddress": "email", "address": "email",
	"name": "name", "fullname": "name", "displayname": "name",
	"delivery": "delivery",
}

// ErrBadFile marks the errors that are about the file itself, which
// cannot be imported at all, rather than about the database.
var ErrBadFile = errors.New("the file cannot be imported")

// ErrNoEmailColumn is returned when a members file's first line does not
// name an email column. It is an ErrBadFile.
var ErrNoEmailColumn = fmt.Errorf("%w: its first line must name the columns: email (required), name, delivery", ErrBadFile)

// ReadMembers reads a members file, CSV with a header line (RFC 4180,
// leniently: quotes inside fields are kept), and calls fn for each valid
// row in order. Bad rows (an invalid address, name or delivery, a wrong
// number of fields) are returned as problems and skipped. The error is
// for a file that cannot be read at all (no email column, a read error),
// or fn's.
func ReadMembers(r io.Reader, fn func(MemberRow) error) ([]Problem, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, so that a bad row is skipped, not fatal
	cr.LazyQuotes = true
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w (the file is empty)", ErrNoEmailColumn)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("%w: the header line cannot be read as CSV: %v", ErrBadFile, pe.Err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the header line: %w", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // the byte order mark spreadsheets write
		}
		key := strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(h)))
		if c, ok := columnNames[key]; ok {
			if _, dup := cols[c]; !dup {
				cols[c] = i
			}
		}
	}
	emailCol, ok := cols["email"]
	if !ok {
		return nil, ErrNoEmailColumn
	}
	nameCol, hasName := cols["name"]
	deliveryCol, hasDelivery := cols["delivery"]
	width := len(header)

	var problems []Problem
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return problems, nil
		}
		if errors.As(err, &pe) {
			problems = append(problems, Problem{Line: pe.StartLine, Msg: "cannot be read as CSV: " + pe.Err.Error()})
			continue
		}
		if err != nil {
			return problems, fmt.Errorf("reading the file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			problems = append(problems, Problem{Line: line, Msg: fmt.Sprintf("has %d fields; the header has %d", len(rec), width)})
			continue
		}
		row, msg := memberRow(rec, emailCol, nameCol, hasName, deliveryCol, hasDelivery)
		if msg != "" {
			problems = append(problems, Problem{Line: line, Msg: msg})
			continue
		}
		row.Line = line
		if err := fn(row); err != nil {
			return problems, err
		}
	}
}

// memberRow validates one row; msg says what is wrong with it.
func memberRow(rec []string, emailCol, nameCol int, hasName bool, deliveryCol int, hasDelivery bool) (MemberRow, string) {
	var row MemberRow
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return row, "is not UTF-8 text: save the file as CSV in UTF-8"
		}
	}
	raw := strings.TrimSpace(rec[emailCol])
	if raw == "" {
		return row, "no email address"
	}
	email, err := mailflow.NormalizeEmail(raw)
	if err != nil {
		return row, fmt.Sprintf("%q is not a valid email address", raw)
	}
	row.Email = email
	name := ""
	if hasName {
		name = strings.TrimSpace(rec[nameCol])
	}
	if name == "" {
		name = email[:strings.LastIndexByte(email, '@')]
	}
	if row.Name, err = mailflow.ValidateName("name", name, 200); err != nil {
		return row, fmt.Sprintf("the name %q will not do: %s", name, fieldMsg(err))
	}
	if hasDelivery {
		d := mailflow.Delivery(strings.ToLower(strings.TrimSpace(rec[deliveryCol])))
		if d != "" && !d.Valid() {
			return row, fmt.Sprintf("delivery %q is not one of immediate, digest, weekly, none", rec[deliveryCol])
		}
		row.Delivery = d
	}
	return row, ""
}

// MembersResult is what ImportMembers did.
type MembersResult struct {
	Imported       int // memberships created or made active
	NewAccounts    int
	AlreadyMembers int // rows of active members: left as they were
	Skipped        int // bad rows, and members banned from the group or the site
	Problems       []Problem
}

// Summary is the result in one line, for people.
func (r MembersResult) Summary() string {
	s := fmt.Sprintf("imported %s (%s), skipped %s", plural(r.Imported, "member"), plural(r.NewAccounts, "new account"), plural(r.Skipped, "row"))
	if r.AlreadyMembers > 0 {
		s += fmt.Sprintf("; %d already in the group", r.AlreadyMembers)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Importer imports into groups.
type Importer struct {
	Store *store.Store
	// Actor is who runs the import, for the audit log; nil on the command line.
	Actor *int64
}

// ImportMembers reads a members file (see ReadMembers) and makes each row's
// address an active member of g: the user with that address, or a new
// verified account without a password (its owner signs in through "Forgot
// your password?" or single sign-on). An existing membership keeps its
// role and delivery; one banned from the group is reported and left
// banned. Importing the same file twice changes nothing the second time.
// The error is for a file that cannot be read, or a database failure;
// the result then says what was done before it.
func (im *Importer) ImportMembers(ctx context.Context, g mailflow.Group, r io.Reader) (MembersResult, error) {
	var res MembersResult
	problems, err := ReadMembers(r, func(row MemberRow) error {
		out, err := im.Store.ImportMember(ctx, store.ImportedMember{GroupID: g.ID, Email: row.Email, Name: row.Name, Delivery: row.Delivery})
		if err != nil {
			return fmt.Errorf("line %d: %w", row.Line, err)
		}
		if out.NewAccount {
			res.NewAccounts++
		}
		switch out.Outcome {
		case store.MemberAdded, store.MemberActivated:
			res.Imported++
		case store.MemberAlready:
			res.AlreadyMembers++
		case store.MemberBanned:
			res.Skipped++
			res.Problems = append(res.Problems, Problem{Line: row.Line, Msg: row.Email + " is banned from this group; left banned"})
		case store.MemberUserBanned:
			res.Skipped++
			res.Problems = append(res.Problems, Problem{Line: row.Line, Msg: row.Email + "'s account is banned or deactivated; not added"})
		}
		return nil
	})
	res.Skipped += len(problems)
	res.Problems = mergeProblems(res.Problems, problems)
	if err != nil {
		return res, err
	}
	return res, im.audit(ctx, g, "group.import_members", map[string]any{
		"imported": res.Imported, "new_accounts": res.NewAccounts, "already": res.AlreadyMembers, "skipped": res.Skipped})
}

func (im *Importer) audit(ctx context.Context, g mailflow.Group, action string, details map[string]any) error {
	return im.Store.Audit(ctx, store.AuditEntry{ActorID: im.Actor, Action: action, TargetType: "group", TargetID: g.Slug, Details: details})
}

// mergeProblems merges two lists each in line order into one.
func mergeProblems(a, b []Problem) []Problem {
	out := make([]Problem, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Line <= b[0].Line {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// fieldMsg is the message of a validation error, without its field name.
func fieldMsg(err error) string {
	var fe *mailflow.FieldError
	if errors.As(err, &fe) {
		return fe.Msg
	}
	return err.Error()
}
