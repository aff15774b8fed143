package store

import "testing"

// The main pool is large enough for the job queue's workers to overlap
// their waits on commits, and the senders' pool for their claims and
// records, unless DATABASE_URL names a size, which then caps each.
func TestPoolSizes(t *testing.T) {
	main, async, err := poolConfigs("host=/tmp dbname=parley")
	if err != nil {
		t.Fatal(err)
	}
	if main.MaxConns != 16 || async.MaxConns != 8 {
		t.Errorf("pools of %d and %d connections, want 16 and 8", main.MaxConns, async.MaxConns)
	}
	main, async, err = poolConfigs("host=/tmp dbname=parley pool_max_conns=7")
	if err != nil {
		t.Fatal(err)
	}
	if main.MaxConns != 7 || async.MaxConns != 7 {
		t.Errorf("pools with pool_max_conns=7: %d and %d connections", main.MaxConns, async.MaxConns)
	}
	if async.ConnConfig.RuntimeParams["synchronous_commit"] != "off" || main.ConnConfig.RuntimeParams["synchronous_commit"] == "off" {
		t.Error("only the senders' pool may commit asynchronously")
	}
}
