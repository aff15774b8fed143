package input

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		target, form string
		where, field string // "" where: accepted
	}{
		{"/g/garden?q=caf%C3%A9", "body=%E2%9C%93", "", ""},
		{"/g/gar%00den", "", "path", ""},
		{"/g/%FF", "", "path", ""},
		{"/search?q=a%00b", "", "query", "q"},
		{"/search?q=ok&next=%C3", "", "query", "next"},
		{"/search?a%00=1", "", "query", "a\uFFFD"},
		{"/compose", "subject=s&body=x%00y", "form", "body"},
		{"/compose", "subject=%FE&body=x", "form", "subject"},
	} {
		r := httptest.NewRequest("POST", tc.target, strings.NewReader(tc.form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		p := Check(r)
		switch {
		case tc.where == "" && p != nil:
			t.Errorf("%s %s: refused (%v)", tc.target, tc.form, p)
		case tc.where != "" && (p == nil || p.Where != tc.where || p.Field != tc.field):
			t.Errorf("%s %s: %+v, want %s %q", tc.target, tc.form, p, tc.where, tc.field)
		case p != nil && !Text(p.Error()):
			t.Errorf("%s: the message is not text: %q", tc.target, p.Error())
		}
	}
}
