package mailflow

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Storage and domain code wrap these; boundaries (HTTP,
// SMTP, CLI) translate them into status codes and messages with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("already exists")
	ErrInvalid   = errors.New("invalid")
	ErrForbidden = errors.New("not allowed")
	ErrNotMember = errors.New("not a member of this group")
	ErrConflict  = errors.New("conflict")
)

// FieldError says which input field was wrong and why. It wraps a sentinel
// (ErrInvalid, ErrDuplicate, ErrNotFound …) so callers can both match the
// kind of failure and point the user at the field.
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Msg)
}

func (e *FieldError) Unwrap() error { return e.Err }

// Invalid returns an ErrInvalid about one field.
func Invalid(field, msg string) error {
	return &FieldError{Field: field, Msg: msg, Err: ErrInvalid}
}

// Duplicate returns an ErrDuplicate about one field.
func Duplicate(field, msg string) error {
	return &FieldError{Field: field, Msg: msg, Err: ErrDuplicate}
}

// NotFound returns an ErrNotFound about one field.
func NotFound(field, msg string) error {
	return &FieldError{Field: field, Msg: msg, Err: ErrNotFound}
}

// Conflict returns an ErrConflict with a message for the user.
func Conflict(msg string) error {
	return &FieldError{Msg: msg, Err: ErrConflict}
}

// Forbidden returns an ErrForbidden with a message for the user.
func Forbidden(msg string) error {
	return &FieldError{Msg: msg, Err: ErrForbidden}
}

// FieldOf returns the field named by err, or "".
func FieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// FieldErrors collects the problems with several fields of one form, so a
// page can show each beside its field at once. It matches ErrInvalid.
type FieldErrors struct {
	Fields map[string]string // field name → message for a person
	order  []string
}

// Add records msg for field (the first message for a field wins).
func (e *FieldErrors) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; ok {
		return
	}
	e.Fields[field] = msg
	e.order = append(e.order, field)
}

// Any reports whether a problem was recorded.
func (e *FieldErrors) Any() bool { return len(e.Fields) > 0 }

func (e *FieldErrors) Error() string {
	parts := make([]string, len(e.order))
	for i, f := range e.order {
		parts[i] = f + ": " + e.Fields[f]
	}
	return strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *FieldErrors) Unwrap() error { return ErrInvalid }
