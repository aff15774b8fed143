package api_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestNonTextInput: a NUL (\u0000) in a JSON string is 422 naming its
// field, a body that is not UTF-8 is 400, and so is a path or query
// string holding either; nothing is stored and nothing answers 500.
func TestNonTextInput(t *testing.T) {
	e := newEnv(t)
	root := e.user("root@example.org", true)
	e.expect(e.do(root, "POST", "/api/v1/groups", `{"slug":"nul","name":"Nul\u0000group"}`), http.StatusUnprocessableEntity, "name")
	e.expect(e.do(root, "POST", "/api/v1/groups", "{\"slug\":\"bad\",\"name\":\"Bad \xff group\"}"), http.StatusBadRequest, "")
	e.expect(e.do(root, "GET", "/api/v1/groups?search=a%00b", nil), http.StatusBadRequest, "search")
	e.expect(e.do(root, "GET", "/api/v1/groups/a%00b", nil), http.StatusBadRequest, "")
	e.expect(e.do(root, "GET", "/api/v1/users/x%FF%40example.org", nil), http.StatusBadRequest, "")
	e.expect(e.do(root, "POST", "/api/v1/groups", `{"slug":"fine","name":"Fine"}`), http.StatusCreated, "")
	r := e.do(root, "GET", "/api/v1/groups", nil)
	if got := fmt.Sprint(r.body); r.status != 200 || len(r.body["groups"].([]any)) != 1 {
		t.Errorf("groups after the refusals: %d %s", r.status, got)
	}
}
