package store_test

import (
	"context"
	"encoding/csv"
	"io"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

// BenchmarkUserReportExport streams the user report of 100,000 users to
// CSV, as the admin's download does, and reports the heap's peak while it
// runs: the export's memory does not grow with the number of users.
//
//	go test -run XXX -bench UserReportExport -benchtime 3x ./mailflow/store/
func BenchmarkUserReportExport(b *testing.B) {
	st := storetest.New(b)
	ctx := context.Background()
	if _, err := st.Pool().Exec(ctx, `
		INSERT INTO users (email, name, email_verified_at) SELECT 'u' || i || '@example.org', 'User Number ' || i, now() FROM generate_series(1, 100000) i;
		ANALYZE users`); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	rows := 0
	for b.Loop() {
		w := csv.NewWriter(io.Discard)
		rows = 0
		err := st.EachUserReportRow(ctx, store.ReportQuery{}, func(r store.UserReportRow) error {
			rows++
			return w.Write([]string{strconv.FormatInt(r.ID, 10), r.Name, r.Email, r.Status})
		})
		w.Flush()
		if err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	if rows != 100000 {
		b.Fatalf("%d rows, want 100000", rows)
	}
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1<<20), "peak-heap-growth-MB")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/export")
}
