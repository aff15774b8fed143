package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestWebhookTokens(t *testing.T) {
	st := storetest.New(t)
	ctx := context.Background()
	if replay, err := st.UseWebhookToken(ctx, "mailgun", "t1", time.Minute); err != nil || replay {
		t.Fatalf("first use: replay %v, err %v", replay, err)
	}
	if replay, err := st.UseWebhookToken(ctx, "mailgun", "t1", time.Minute); err != nil || !replay {
		t.Fatalf("second use: replay %v, err %v", replay, err)
	}
	if replay, _ := st.UseWebhookToken(ctx, "other", "t1", time.Minute); replay {
		t.Fatal("a token is per provider")
	}
	if _, err := st.UseWebhookToken(ctx, "mailgun", "old", -time.Second); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneWebhookTokens(ctx); err != nil || n != 1 {
		t.Fatalf("pruned %d (err %v), want the expired one", n, err)
	}
	if replay, _ := st.UseWebhookToken(ctx, "mailgun", "t1", time.Minute); !replay {
		t.Fatal("pruning forgot a live token")
	}
}
