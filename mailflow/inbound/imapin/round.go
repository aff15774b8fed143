package imapin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/emersion/go-imap/v2"
)

// round hands every unseen message to ingest once, in UID order and in
// batches, and marks (or moves) those that were ingested. It reports how
// many failed to ingest; those stay unseen for the next round. An error
// means the connection is no longer usable.
func (s *session) round(ctx context.Context) (failed int, err error) {
	// RFC 3501 section 6.4.4 and 6.4.8: UID SEARCH UNSEEN.
	data, err := s.c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search unseen: %w", err)
	}
	uids, err := searchUIDs(data)
	if err != nil {
		return 0, err
	}
	// Oldest first, so that a thread is taken in as it was written.
	slices.Sort(uids)

	var ingested int
	for batch := range slices.Chunk(uids, s.p.batchSize) {
		done, nfailed, err := s.fetchBatch(ctx, batch)
		failed += nfailed
		if err != nil {
			return failed, err
		}
		if err := s.markDone(done); err != nil {
			return failed, err
		}
		n, _ := done.Nums()
		ingested += len(n)
	}
	if ingested > 0 || failed > 0 {
		s.log.Info("imap round done", "ingested", ingested, "failed", failed)
	}
	return failed, nil
}

func searchUIDs(data *imap.SearchData) ([]imap.UID, error) {
	if data.All == nil {
		return nil, nil
	}
	set, ok := data.All.(imap.UIDSet)
	if !ok {
		return nil, errors.New("search unseen: server answered with sequence numbers")
	}
	uids, ok := set.Nums()
	if !ok {
		return nil, errors.New("search unseen: server answered with an open range")
	}
	return uids, nil
}

// fetchBatch fetches the messages of one batch and ingests each as it
// arrives, so that only one message is held in memory at a time. It returns
// the UIDs that were ingested.
func (s *session) fetchBatch(ctx context.Context, uids []imap.UID) (done imap.UIDSet, failed int, err error) {
	var want imap.UIDSet
	for _, uid := range uids {
		want.AddNum(uid)
	}
	// BODY.PEEK[] (RFC 3501 section 6.4.5) leaves \Seen alone: the flag is
	// ours to set, and only after the message is committed.
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := s.c.Fetch(want, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	})
	var got imap.UIDSet
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		if ctx.Err() != nil {
			// Shutting down: start no new ingest. What was not marked
			// yet is re-delivered next time, and deduped.
			_ = cmd.Close()
			return done, failed, ctx.Err()
		}
		buf, err := msg.Collect()
		if err != nil {
			_ = cmd.Close()
			return done, failed, fmt.Errorf("fetch messages: %w", err)
		}
		raw := buf.FindBodySection(section)
		if buf.UID == 0 || raw == nil {
			// FETCH data for a message we did not ask for (a flag change
			// made by another client, say); not ours to act on.
			continue
		}
		got.AddNum(buf.UID)
		if err := s.p.ingest(ctx, raw); err != nil {
			if ctx.Err() != nil {
				_ = cmd.Close()
				return done, failed, ctx.Err()
			}
			failed++
			s.log.Error("ingesting imap message; it stays unseen and is retried next round",
				"uid", uint32(buf.UID), "err", err)
			continue
		}
		done.AddNum(buf.UID)
	}
	if err := cmd.Close(); err != nil {
		return done, failed, fmt.Errorf("fetch messages: %w", err)
	}
	for _, uid := range uids {
		if !got.Contains(uid) {
			// Expunged by another client since the SEARCH, most likely.
			// (go-imap also drops a FETCH response whose UID comes after
			// the body literal; a server doing that would show up here on
			// every round.)
			s.log.Warn("imap server returned no body for unseen message", "uid", uint32(uid))
		}
	}
	return done, failed, nil
}

// markDone records on the server that the messages in uids are committed:
// \Seen, or a move to the done folder.
func (s *session) markDone(uids imap.UIDSet) error {
	if len(uids) == 0 {
		return nil
	}
	folder := s.p.cfg.DoneFolder
	if folder == "" {
		// RFC 3501 section 6.4.6: UID STORE +FLAGS.SILENT (\Seen).
		err := s.c.Store(uids, &imap.StoreFlags{
			Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen},
		}, nil).Close()
		if err != nil {
			return fmt.Errorf("mark messages seen: %w", err)
		}
		return nil
	}
	if s.move {
		// RFC 6851 section 3.1: UID MOVE.
		if _, err := s.c.Move(uids, folder).Wait(); err != nil {
			return fmt.Errorf("move messages to %q: %w", folder, err)
		}
		return nil
	}

	// RFC 6851 section 1 describes MOVE as COPY, STORE \Deleted and
	// EXPUNGE. We add \Seen, so that where the expunge cannot happen the
	// message is not taken in and copied again next round.
	if _, err := s.c.Copy(uids, folder).Wait(); err != nil {
		return fmt.Errorf("copy messages to %q: %w", folder, err)
	}
	err := s.c.Store(uids, &imap.StoreFlags{
		Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.FlagDeleted},
	}, nil).Close()
	if err != nil {
		return fmt.Errorf("flag copied messages deleted: %w", err)
	}
	if !s.uidPlus {
		// A plain EXPUNGE would also remove messages that someone else
		// flagged \Deleted; only UID EXPUNGE (RFC 4315 section 2.1) is
		// limited to ours.
		if !s.warnedNoUIDPlus {
			s.warnedNoUIDPlus = true
			s.log.Warn("imap server lacks MOVE and UIDPLUS; copied messages stay in the mailbox flagged \\Deleted until it is expunged")
		}
		return nil
	}
	if err := s.c.UIDExpunge(uids).Close(); err != nil {
		return fmt.Errorf("expunge copied messages: %w", err)
	}
	return nil
}
