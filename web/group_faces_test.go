package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	groupsvc "github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/sign"
)

// faceField is one setting of a group as both faces carry it: its JSON
// key and a value the API sets on create; what the form page then shows;
// the form's field and a new value posted to the edit form; and that
// value as the API shows it afterwards.
type faceField struct {
	setting   string // groupsvc.Settings field
	apiKey    string
	apiValue  any
	formShows string // a fragment of the edit page after the API's create
	formField string
	formValue string // "" posts the field unset (a cleared checkbox)
	apiAfter  any    // the API's value after the form's update
}

var faceFields = []faceField{
	{"Name", "name", "Faces", `name="name" value="Faces"`, "name", "Faces renamed", "Faces renamed"},
	{"Description", "description", "About faces.", ">About faces.</textarea>", "description", "About both faces.", "About both faces."},
	{"Category", "category", "tools", `<option value="tools" selected>`, "category", "", ""},
	{"JoinPolicy", "join_policy", "request", `name="join_policy" value="request" checked`, "join_policy", "invite", "invite"},
	{"Listed", "listed", false, `name="listed" value="1">`, "listed", "1", true},
	{"Moderated", "moderated", true, `name="moderated" value="1" checked`, "moderated", "", false},
	{"MemberListVisibility", "member_list_visibility", "owners", `name="member_list_visibility" value="owners" checked`, "member_list_visibility", "members", "members"},
	{"ReplyTo", "reply_to", "sender", `name="reply_to" value="sender" checked`, "reply_to", "group", "group"},
	{"Location", "location", "Ghent", `name="location" value="Ghent"`, "location", "Bruges", "Bruges"},
	{"DisplayLocation", "display_location", "Flanders", `name="display_location" value="Flanders"`, "display_location", "West Flanders", "West Flanders"},
	{"Official", "official", true, `name="official" value="1" checked`, "official", "", false},
	{"ArchivePublic", "archive_public", true, `name="archive" value="public" checked`, "archive", "members", false},
	{"TrustPosts", "trust_posts", 3, `name="trust_posts" value="3"`, "trust_posts", "7", float64(7)},
	{"DMARCFailure", "dmarc_failure", "refuse", `name="dmarc_failure" value="refuse" checked`, "dmarc_failure", "hold", "hold"},
	{"AttachMaxKB", "attach_max_kb", 512, `name="attach_max_kb" value="512"`, "attach_max_kb", "2048", float64(2048)},
	{"SubjectTag", "subject_tag", "Faces club", `name="subject_tag" value="Faces club"`, "subject_tag", "Flock", "Flock"},
}

// The web form and the JSON API are faces of one group service: every
// setting the service has is accepted by the API and shown by the form,
// and what the form saves the API shows.
func TestGroupFacesShareSettings(t *testing.T) {
	covered := map[string]bool{}
	for _, f := range faceFields {
		covered[f.setting] = true
	}
	for _, sf := range reflect.VisibleFields(reflect.TypeOf(groupsvc.Settings{})) {
		if !covered[sf.Name] {
			t.Fatalf("the group setting %s is not in this test: give it to both faces (web/api groupIn, web/groups form) and add it here", sf.Name)
		}
	}

	s := newTestSite(t)
	ctx := context.Background()
	admin := s.user("faces-admin@example.org", "Faces Admin")
	s.exec(`UPDATE users SET is_superuser = true WHERE id = $1`, admin)
	s.exec(`INSERT INTO categories (slug, name) VALUES ('tools', 'Tools')`)
	const token = "faces-api-token"
	if err := s.st.CreateToken(ctx, admin, "faces", sign.TokenHash(s.secret, token)); err != nil {
		t.Fatal(err)
	}
	browser := s.signIn(admin)
	api := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		if body == nil {
			b = nil
		}
		code, out := browser.do(method, "/api/v1"+path, "application/json", b, "Authorization", "Bearer "+token)
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, code, out)
		}
		return code, m
	}

	in := map[string]any{"slug": "faces"}
	for _, f := range faceFields {
		in[f.apiKey] = f.apiValue
	}
	if code, out := api("POST", "/groups", in); code != http.StatusCreated {
		t.Fatalf("create through the API with every setting: %d %v", code, out)
	}
	_, got := api("GET", "/groups/faces", nil)
	code, page := browser.get("/g/faces/edit")
	if code != http.StatusOK {
		t.Fatalf("the edit form: %d", code)
	}
	form := url.Values{"owners": {"faces-admin@example.org"}}
	for _, f := range faceFields {
		want := f.apiValue
		if n, ok := want.(int); ok {
			want = float64(n)
		}
		if f.apiKey != "category" && !reflect.DeepEqual(got[f.apiKey], want) {
			t.Errorf("API after the API's create: %s = %v, want %v", f.apiKey, got[f.apiKey], want)
		}
		if !strings.Contains(page, f.formShows) {
			t.Errorf("the form does not show %s set by the API: no %s", f.setting, f.formShows)
		}
		if f.formValue != "" {
			form.Set(f.formField, f.formValue)
		}
	}
	if got["category"] != "tools" {
		t.Errorf("API after the API's create: category = %v, want tools", got["category"])
	}

	if code, body := browser.post("/g/faces/edit", form); code != http.StatusSeeOther {
		t.Fatalf("update through the form: %d\n%s", code, body)
	}
	_, got = api("GET", "/groups/faces", nil)
	for _, f := range faceFields {
		have, ok := got[f.apiKey]
		if f.apiKey == "category" {
			ok, have = true, got["category"]
			if have == nil {
				have = ""
			}
		}
		if !ok || !reflect.DeepEqual(have, f.apiAfter) {
			t.Errorf("API after the form's update: %s = %#v, want %#v", f.apiKey, have, f.apiAfter)
		}
	}
	s.noErrors()
}
