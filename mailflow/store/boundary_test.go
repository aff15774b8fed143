package store_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestSQLStaysInStore holds the store's boundary: outside mailflow/store
// (and the migration runner it calls) no production code imports pgx for
// queries or reaches for the pool, and nothing enqueues a job except
// through a store transaction (Store.Enqueue). Tests may read rows
// through Pool.
func TestSQLStaysInStore(t *testing.T) {
	root := filepath.Join("..", "..")
	// What may import pgx, and why: the config checks DATABASE_URL's
	// syntax; the queue names river's client type, whose type parameter
	// is pgx.Tx.
	allowed := map[string]bool{"daemon/config": true, "mailflow/queue": true, "migrations": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || rel == "mailflow/store" || strings.HasPrefix(rel, "mailflow/store/") && rel != "mailflow/store/storetest" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/jackc/pgx") && !allowed[filepath.ToSlash(filepath.Dir(rel))] {
				t.Errorf("%s imports %s: SQL and transactions belong in mailflow/store", rel, p)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "Pool", "InsertTx", "QueueClient":
					if sel.Sel.Name != "QueueClient" || filepath.ToSlash(filepath.Dir(rel)) != "mailflow/queue" {
						t.Errorf("%s: calls %s: use a store transaction (Store.Tx, Store.Enqueue)", fset.Position(call.Pos()), sel.Sel.Name)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
