package resources

import "testing"

// TestResourceDownloadTypes: only the safe types open in the browser, and
// anything a browser could run is never served as itself.
func TestResourceDownloadTypes(t *testing.T) {
	for _, c := range []struct {
		ct                 string
		inline, scriptable bool
	}{
		{"application/pdf", true, false},
		{"image/png", true, false},
		{"image/webp", true, false},
		{"text/plain", true, false},
		{"text/csv", false, false},
		{"text/markdown", false, false},
		{"application/zip", false, false},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", false, false},
		{"text/html", false, true},
		{"TEXT/HTML; charset=utf-8", false, true},
		{"application/xhtml+xml", false, true},
		{"image/svg+xml", false, true},
		{"text/xml", false, true},
		{"application/xml", false, true},
		{"application/xml-dtd", false, true},
		{"application/rss+xml", false, true},
		{"text/javascript", false, true},
		{"application/x-javascript", false, true},
		{"application/ecmascript", false, true},
	} {
		if got := inlineType(c.ct); got != c.inline {
			t.Errorf("inlineType(%q) = %v, want %v", c.ct, got, c.inline)
		}
		if got := scriptable(c.ct); got != c.scriptable {
			t.Errorf("scriptable(%q) = %v, want %v", c.ct, got, c.scriptable)
		}
	}
}

func TestResourceHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1023: "1023 bytes", 1536: "2 KB", 1 << 20: "1.0 MB", 3_355_443: "3.2 MB", 52_428_800: "50 MB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
