package inbound

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"testing"
)

// The spool gives back exactly the bytes it took, with their hash and
// size and the Message-ID of their header, whether the message stayed
// in memory or outgrew it into a file part-way through a write; and a
// message that fits in memory never makes a file.
func TestSpoolKeepsEveryByte(t *testing.T) {
	for _, size := range []int{0, 1, headBytes - 1, headBytes, headBytes + 1, 3*headBytes + 17} {
		for _, chunk := range []int{1000, 4096, headBytes + 5} {
			t.Run(fmt.Sprintf("%d_by_%d", size, chunk), func(t *testing.T) {
				msg := []byte("Message-ID: <spool@example.org>\r\nSubject: hi\r\n\r\n")
				for i := 0; len(msg) < size; i++ {
					msg = append(msg, byte('a'+i%26))
				}
				msg = msg[:max(size, 0)]
				if size < 48 {
					msg = bytes.Repeat([]byte("x"), size)
				}
				dir := t.TempDir()
				sp := newSpool(dir)
				defer sp.Close()
				for rest := msg; len(rest) > 0; {
					n := min(chunk, len(rest))
					if w, err := sp.Write(rest[:n]); err != nil || w != n {
						t.Fatalf("write: %d, %v", w, err)
					}
					rest = rest[n:]
				}
				if (sp.f != nil) != (size > headBytes) {
					t.Errorf("message of %d bytes: on disk %v", size, sp.f != nil)
				}
				b, err := sp.body()
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(b.R)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) || b.Size != int64(len(msg)) || b.SHA256 != sha256.Sum256(msg) {
					t.Errorf("got %d bytes (size %d), want %d, hash equal %v", len(got), b.Size, len(msg), b.SHA256 == sha256.Sum256(msg))
				}
				if size >= 48 && sp.messageID() != "spool@example.org" {
					t.Errorf("Message-ID %q", sp.messageID())
				}
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("%d files left in the spool directory", len(left))
				}
			})
		}
	}
}
