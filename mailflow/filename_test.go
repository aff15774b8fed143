package mailflow

import "testing"

func TestCleanFilenameDropsBidiControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Shown as "invoiceexe.pdf" with the override kept.
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"a\u202Ab\u202Bc\u202Cd\u202De\u202Ef.txt", "abcdef.txt"},
		{"\u2066report\u2067 2024\u2068\u2069.pdf", "report 2024.pdf"},
		{"mark\u200E\u200F\u061C.csv", "mark.csv"},
		{"\u202E", "file"},
		{"C:\\Users\\x\\na\u00EFve \u05E9\u05DC\u05D5\u05DD.txt", "na\u00EFve \u05E9\u05DC\u05D5\u05DD.txt"}, // letters of any script stay
	} {
		if got := CleanFilename(tc.in); got != tc.want {
			t.Errorf("CleanFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got, err := ValidateResourceName("Budget\u202Efdp.exe"); err != nil || got != "Budgetfdp.exe" {
		t.Errorf("ValidateResourceName: %q, %v", got, err)
	}
}
