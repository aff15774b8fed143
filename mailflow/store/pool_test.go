package store

import "testing"

// The main pool is large enough for the job queue's workers to overlap
// their waits on commits, unless DATABASE_URL names its own size.
func TestMainPoolSize(t *testing.T) {
	main, _, err := poolConfigs("host=/tmp dbname=parley")
	if err != nil {
		t.Fatal(err)
	}
	if main.MaxConns != 16 {
		t.Errorf("main pool: %d connections, want 16", main.MaxConns)
	}
	main, _, err = poolConfigs("host=/tmp dbname=parley pool_max_conns=7")
	if err != nil {
		t.Fatal(err)
	}
	if main.MaxConns != 7 {
		t.Errorf("main pool with pool_max_conns=7: %d connections", main.MaxConns)
	}
}
