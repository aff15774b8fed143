package mailtest

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CorpusDir finds the shared corpus of real-world mail, ../shared/corpus
// from the module root, or skips the test with a clear message: the files
// are others' work and are read where they lie, never copied into the
// repository (see the corpus's README.md). CI has it.
func CorpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory; cannot find the shared corpus")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(c, "index.tsv")); err != nil {
		t.Skipf("shared corpus not found at %s (%v): these tests read it in place; it is absent from a plain clone", c, err)
	}
	return c
}

// CorpusIndex reads the corpus's index.tsv: a header row naming the
// columns, then one row per file, as column → value.
func CorpusIndex(t testing.TB, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cols []string
	var rows []map[string]string
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = cells
			continue
		}
		row := map[string]string{}
		for i, c := range cols {
			if i < len(cells) {
				row[c] = cells[i]
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}
