package store

import "testing"

// Only the pool that records sent deliveries may commit asynchronously:
// everything else (accepted messages above all) must be durable when
// the commit returns.
func TestOnlyTheAsyncPoolCommitsAsynchronously(t *testing.T) {
	main, async, err := poolConfigs("host=/tmp dbname=parley synchronous_commit=on")
	if err != nil {
		t.Fatal(err)
	}
	if v := main.ConnConfig.RuntimeParams["synchronous_commit"]; v != "on" {
		t.Fatalf("main pool: synchronous_commit=%q, want on", v)
	}
	if v := async.ConnConfig.RuntimeParams["synchronous_commit"]; v != "off" {
		t.Fatalf("async pool: synchronous_commit=%q, want off", v)
	}
	main, _, _ = poolConfigs("host=/tmp dbname=parley")
	if v, ok := main.ConnConfig.RuntimeParams["synchronous_commit"]; ok {
		t.Fatalf("main pool sets synchronous_commit=%q; it must keep the server's default", v)
	}
}

// The pool that records outcomes by primary key never plans a
// sequential scan: a generic plan cached while the table was tiny would
// otherwise scan the whole table at every record of a large send.
func TestOnlyTheAsyncPoolAvoidsSequentialScans(t *testing.T) {
	main, async, err := poolConfigs("host=/tmp dbname=parley")
	if err != nil {
		t.Fatal(err)
	}
	if v := async.ConnConfig.RuntimeParams["enable_seqscan"]; v != "off" {
		t.Fatalf("async pool: enable_seqscan=%q, want off", v)
	}
	if v, ok := main.ConnConfig.RuntimeParams["enable_seqscan"]; ok {
		t.Fatalf("main pool sets enable_seqscan=%q; it must keep the server's default", v)
	}
}
