package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The acceptance test of resources, in a real headless Chromium: a member
// who may add resources uploads a PDF with tags to her group from its
// page, finds it by tag and by type, switches to the list view (which is
// remembered), downloads it, renames it and deletes it.
func TestBrowserResources(t *testing.T) {
	chromium := browserExecPath(t)
	w := resourcesSite(t)
	b := newBrowser(t, chromium, w.url)
	browserLogIn(b, "ann@example.org", resPassword, "Ann")

	// 1. From the group's page, upload a PDF with a name and tags.
	pdf := resPDF("Spring budget")
	file := filepath.Join(t.TempDir(), "budget.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	b.expect(b.open("/g/garden"), http.StatusOK, "/g/garden", "Garden Club", "Resources", "No files shared yet.")
	b.expect(b.follow(`//main//a[normalize-space()="Upload a file"]`), http.StatusOK, "/g/garden/resources/new", "Upload a file")
	if g := b.value("#group"); g != "garden" {
		t.Fatalf("the upload form from the group's page has group %q chosen, want garden", g)
	}
	b.do(
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
		b.fill("#name", "Spring budget"),
		b.fill("#tags", "Budget, Minutes"),
	)
	res := b.submit("Upload")
	path := browserPath(b)
	if !strings.HasPrefix(path, "/resources/") {
		t.Fatalf("after the upload the browser is at %s", path)
	}
	b.expect(res, http.StatusOK, path, "“Spring budget” is shared with Garden Club.", "budget.pdf", "PDF", "Budget", "Minutes")

	// 2. Find it by tag, then by type; another type does not list it.
	b.expect(b.follow(`//header//nav//a[normalize-space()="Resources"]`), http.StatusOK, "/resources", "Resources", "Spring budget")
	b.do(b.fill("#q", "minutes"))
	b.expect(b.submit("Search"), http.StatusOK, "/resources", "Spring budget")
	b.expectQuery("group=&q=minutes&type=")
	b.expect(b.follow(`//main//a[contains(@class,"tag") and normalize-space()="Budget"]`), http.StatusOK, "/resources", "Tagged", "Spring budget")
	b.expect(b.open("/resources"), http.StatusOK, "/resources")
	b.do(chromedp.SetValue(chromedp.CSS("#type"), "image"))
	b.expect(b.submit("Search"), http.StatusOK, "/resources", "No resource matches this search.")
	b.lacks("Spring budget")
	b.do(chromedp.SetValue(chromedp.CSS("#type"), "pdf"))
	b.expect(b.submit("Search"), http.StatusOK, "/resources", "Spring budget")

	// 3. The list view, remembered on the next visit.
	b.expect(b.follow(`//main//nav[contains(@class,"view-switch")]//a[normalize-space()="List"]`), http.StatusOK, "/resources", "Spring budget")
	if n := b.eval(`String(document.querySelectorAll("main .resource-list tbody tr").length)`); n != "1" {
		t.Fatalf("the list view shows %s rows, want 1", n)
	}
	b.expect(b.open("/resources"), http.StatusOK, "/resources", "Spring budget")
	if n := b.eval(`String(document.querySelectorAll("main .resource-list tbody tr").length)`); n != "1" {
		t.Fatal("the list view is not remembered")
	}

	// 4. Download it with the browser's cookies: the same bytes.
	b.expect(b.follow(`//main//td//a[normalize-space()="Spring budget"]`), http.StatusOK, path, "Spring budget")
	href := b.attr(`//main//a[normalize-space()="Download"]`, "href")
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", b.base+href, nil)
	for _, c := range cookies.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	dl, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	if err != nil || dl.StatusCode != http.StatusOK || !bytes.Equal(got, pdf) {
		t.Fatalf("download %s: %d, %d bytes, want the %d uploaded", href, dl.StatusCode, len(got), len(pdf))
	}
	if cd := dl.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, "budget.pdf") {
		t.Errorf("the Download link's Content-Disposition is %q", cd)
	}

	// 5. Rename it.
	b.expect(b.follow(`//main//a[normalize-space()="Edit"]`), http.StatusOK, path+"/edit", "Edit Spring budget")
	b.do(b.fill("#name", "Spring budget, final"))
	b.expect(b.submit("Save"), http.StatusOK, path, "“Spring budget, final” is saved.")

	// 6. Delete it, after confirming; its file goes with it.
	b.expect(b.follow(`//main//a[normalize-space()="Delete"]`), http.StatusOK, path+"/delete", "Delete Spring budget, final?")
	b.expect(b.submit("Delete the file"), http.StatusOK, "/resources", "“Spring budget, final” is deleted.", "Garden Club has no resources yet.")
	if n := w.queryInt(t, `SELECT count(*) FROM resources`); n != 0 {
		t.Errorf("%d resources after the delete", n)
	}
	if files := resFiles(t, filepath.Join(w.dir, "blobs")); len(files) != 0 {
		t.Errorf("blob files left after the delete: %v", files)
	}
}
