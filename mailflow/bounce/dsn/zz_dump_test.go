package dsn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestZZDump(t *testing.T) {
	files := os.Getenv("DUMP")
	if files == "" {
		t.Skip()
	}
	ms, _ := filepath.Glob(files)
	for _, f := range ms {
		raw, _ := os.ReadFile(f)
		r := Classify(raw)
		b, _ := json.Marshal(r)
		t.Logf("%s\n%s", filepath.Base(f), b)
	}
}
