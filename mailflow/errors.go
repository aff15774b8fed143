package mailflow

import (
	"errors"
	"fmt"
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
