package groups

import "testing"

func TestCategoryColorClass(t *testing.T) {
	for _, tc := range []struct{ hex, want string }{
		{"#5b6b7b", "cat-0"}, // the default colour of a category
		{"#1f5fbf", "cat-1"},
		{"#0000ff", "cat-1"}, // pure blue is nearest the palette's blue
		{"#ff0000", "cat-3"},
		{"#00796B", "cat-6"}, // case does not matter
		{"#ff69b4", "cat-7"}, // hot pink
		{"red", "cat-0"},     // unreadable: the default
		{"#12345g", "cat-0"},
		{"", "cat-0"},
	} {
		if got := colorClass(tc.hex); got != tc.want {
			t.Errorf("colorClass(%q) = %s, want %s", tc.hex, got, tc.want)
		}
	}
}
