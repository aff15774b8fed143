// Package api is Parley's JSON API v1, under /api/v1. Requests carry a
// bearer token from `parleyd create-token`; errors are
// {"error": "...", "field": "..."} with the status that fits (400
// malformed, 401 no or bad token, 403 not allowed, 404 unknown or not
// visible, 409 duplicate or conflicting, 413 too large, 422 invalid field).
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/input"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 1 << 20

// Deps are what the API needs.
type Deps struct {
	Store      *store.Store
	Groups     *groups.Service
	Posting    *posting.Service
	Log        *slog.Logger
	SecretKey  string
	MailDomain string
}

type handler struct{ Deps }

const actorKey = "parley.actor"

// Register adds the API's routes to rg.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	rg.Use(checkInput, h.authenticate)
	rg.POST("/users", h.createUser)
	rg.GET("/users/:email", h.getUser)
	rg.POST("/groups", h.createGroup)
	rg.GET("/groups", h.listGroups)
	rg.GET("/groups/:slug", h.getGroup)
	rg.PATCH("/groups/:slug", h.updateGroup)
	rg.GET("/groups/:slug/members", h.listMembers)
	rg.PUT("/groups/:slug/members/:email", h.putMember)
	rg.DELETE("/groups/:slug/members/:email", h.deleteMember)
	rg.GET("/groups/:slug/threads", h.listThreads)
	rg.POST("/groups/:slug/threads", h.createThread)
	rg.GET("/threads/:id", h.getThread)
	rg.POST("/threads/:id/messages", h.reply)
	rg.GET("/threads/:id/mail", h.getThreadMail) // mute or follow (issue 19)
	rg.PUT("/threads/:id/mail", h.putThreadMail)
	rg.GET("/suppressions", h.listSuppressions)
	rg.DELETE("/suppressions/:email", h.deleteSuppression)
	rg.GET("/bounces/:email", h.bounceLog)
}

// authenticate resolves the bearer token to an active user.
func (h *handler) authenticate(c *gin.Context) {
	auth := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="parley"`)
		abort(c, http.StatusUnauthorized, "an API token is required: send Authorization: Bearer <token> (make one with parleyd create-token)", "")
		return
	}
	u, err := h.Store.UserByTokenHash(c.Request.Context(), sign.TokenHash(h.SecretKey, token))
	if errors.Is(err, mailflow.ErrNotFound) {
		c.Header("WWW-Authenticate", `Bearer realm="parley", error="invalid_token"`)
		abort(c, http.StatusUnauthorized, "the API token is not valid", "")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if u.Status != mailflow.UserActive {
		abort(c, http.StatusForbidden, "this account is "+string(u.Status), "")
		return
	}
	c.Set(actorKey, &u)
	c.Next()
}

func actor(c *gin.Context) *mailflow.User { return c.MustGet(actorKey).(*mailflow.User) }

func abort(c *gin.Context, status int, msg, field string) {
	body := gin.H{"error": msg}
	if field != "" {
		body["field"] = field
	}
	c.AbortWithStatusJSON(status, body)
}

// fail answers with the status that err's kind calls for. Unknown errors
// are logged and answered with a bare 500.
func (h *handler) fail(c *gin.Context, err error) {
	field := mailflow.FieldOf(err)
	msg := err.Error()
	var fe *mailflow.FieldError
	if errors.As(err, &fe) && fe.Field != "" {
		msg = fe.Field + " " + fe.Msg
	}
	switch {
	case errors.Is(err, mailflow.ErrInvalid):
		abort(c, http.StatusUnprocessableEntity, msg, field)
	case errors.Is(err, mailflow.ErrNotFound):
		if field == "" {
			msg = "not found"
		}
		abort(c, http.StatusNotFound, msg, field)
	case errors.Is(err, mailflow.ErrDuplicate), errors.Is(err, mailflow.ErrConflict):
		abort(c, http.StatusConflict, msg, field)
	case errors.Is(err, mailflow.ErrForbidden), errors.Is(err, mailflow.ErrNotMember):
		abort(c, http.StatusForbidden, msg, field)
	default:
		h.Log.Error("api request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
		abort(c, http.StatusInternalServerError, "internal error", "")
	}
}

// checkInput refuses a path or query string that is not text (package
// input) with 400, before anything looks it up.
func checkInput(c *gin.Context) {
	if p := input.Check(c.Request); p != nil {
		abort(c, http.StatusBadRequest, p.Error(), p.Field)
		return
	}
	c.Next()
}

// decode reads a JSON object into v, strictly: unknown fields and
// trailing data are malformed (400), an oversized body is 413, a body
// that is not UTF-8 is 400 (encoding/json would quietly turn its bad
// bytes into U+FFFD), and a string holding NUL (written \u0000) is 422
// naming its field.
func decode(c *gin.Context, v any) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	raw, err := io.ReadAll(c.Request.Body)
	if err == nil && !utf8.Valid(raw) {
		abort(c, http.StatusBadRequest, "the request body is not valid UTF-8", "")
		return false
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
		if err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("unexpected data after the JSON object")
			}
		}
	}
	if err == nil {
		if field, ok := textFields(reflect.ValueOf(v), ""); !ok {
			abort(c, http.StatusUnprocessableEntity, field+" must not contain NUL characters", field)
			return false
		}
		return true
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &tooBig):
		abort(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", MaxBody), "")
	case errors.As(err, &typeErr):
		abort(c, http.StatusBadRequest, fmt.Sprintf("%s must be a %s", typeErr.Field, typeErr.Type), typeErr.Field)
	case errors.As(err, &syntaxErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		abort(c, http.StatusBadRequest, "the request body is not valid JSON", "")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		abort(c, http.StatusBadRequest, "unknown field "+f, f)
	default:
		abort(c, http.StatusBadRequest, "the request body is not a valid JSON object: "+err.Error(), "")
	}
	return false
}

// page reads ?limit= and ?offset= (defaults 50 and 0, limit at most 200).
func page(c *gin.Context) (limit, offset int, ok bool) {
	limit, offset = 50, 0
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			abort(c, http.StatusBadRequest, "limit must be a number from 1 to 200", "limit")
			return 0, 0, false
		}
		limit = n
	}
	if s := c.Query("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			abort(c, http.StatusBadRequest, "offset must be a number of 0 or more", "offset")
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// textFields walks a decoded request and reports the first string that
// is not text, by the JSON name of the innermost field holding it.
func textFields(v reflect.Value, name string) (string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", true
		}
		return textFields(v.Elem(), name)
	case reflect.String:
		return name, input.Text(v.String())
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			fname := strings.Split(f.Tag.Get("json"), ",")[0]
			if fname == "-" {
				continue
			}
			if fname == "" {
				fname = f.Name
			}
			if n, ok := textFields(v.Field(i), fname); !ok {
				return n, false
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if n, ok := textFields(v.Index(i), name); !ok {
				return n, false
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if n, ok := textFields(iter.Key(), name); !ok {
				return n, false
			}
			if n, ok := textFields(iter.Value(), name); !ok {
				return n, false
			}
		}
	}
	return "", true
}
