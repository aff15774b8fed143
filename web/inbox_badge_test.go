package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var badgeRE = regexp.MustCompile(`aria-label="(\d+) unread"`)

// badge reads the number on the Messages badge of a page ("" when none).
func badge(page string) string {
	if m := badgeRE.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

// TestBadgeOwnPostsAndOpenedThread: the Messages badge counts a thread
// with news from others, is gone on the very page that opens it, and
// never counts the member's own approved posts; a post from someone else
// brings it back, and the member's reply before reading it does not hide
// it.
func TestBadgeOwnPostsAndOpenedThread(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, ann)
	c := s.signIn(ann)
	root := s.signIn(s.rootID)
	thread := fmt.Sprintf("/g/crawl/t/%d", s.threadID)
	home := func() string {
		t.Helper()
		_, p := c.get("/")
		return badge(p)
	}
	if b := home(); b != "1" {
		t.Fatalf("badge before opening the thread: %q, want 1", b)
	}
	if code, p := c.get(thread); code != http.StatusOK || badge(p) != "" {
		t.Fatalf("opening the thread: %d, badge %q on its own page, want none", code, badge(p))
	}
	if code, _ := c.post(thread+"/reply", url.Values{"body": {"Ann's reply"}}); code != http.StatusSeeOther {
		t.Fatalf("reply: %d", code)
	}
	if code, _ := c.post("/g/crawl/threads", url.Values{"subject": {"Ann's topic"}, "body": {"Ann's first words"}}); code != http.StatusSeeOther {
		t.Fatalf("new thread: %d", code)
	}
	if b := home(); b != "" {
		t.Errorf("badge after posting twice herself: %q, want none", b)
	}
	if code, _ := root.post(thread+"/reply", url.Values{"body": {"Root answers"}}); code != http.StatusSeeOther {
		t.Fatalf("root's reply: %d", code)
	}
	if b := home(); b != "1" {
		t.Errorf("badge after another member's reply: %q, want 1", b)
	}
	// Replying without reading the news does not read it.
	if code, _ := c.post(thread+"/reply", url.Values{"body": {"Ann again, unread news above"}}); code != http.StatusSeeOther {
		t.Fatalf("second reply: %d", code)
	}
	if b := home(); b != "1" {
		t.Errorf("badge after replying to a thread with unread news: %q, want 1", b)
	}
	s.noErrors()
}

// TestReadMarkSurvivesClientClose: a client that closes the connection as
// soon as it has the thread page still has the thread marked read.
func TestReadMarkSurvivesClientClose(t *testing.T) {
	s := newTestSite(t)
	ann := s.user("ann@example.org", "Ann")
	s.exec(`INSERT INTO memberships (group_id, user_id, role) VALUES ($1, $2, 'member')`, s.groupID, ann)
	c := s.signIn(ann)
	conn, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var cookies []string
	for _, ck := range c.cookies {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	fmt.Fprintf(conn, "GET /g/crawl/t/%d HTTP/1.1\r\nHost: lists.test\r\nCookie: %s\r\n\r\n", s.threadID, strings.Join(cookies, "; "))
	// Read the whole page, then hang up at once.
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(res.Body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET thread: %d, %v", res.StatusCode, err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if n := s.count(`SELECT count(*) FROM thread_states WHERE user_id = $1 AND thread_id = $2 AND read_at IS NOT NULL`, ann, s.threadID); n != 1 {
		t.Errorf("read marks after the client hung up: %d, want 1", n)
	}
	s.noErrors()
}
