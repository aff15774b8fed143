package library

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf16"

	"github.com/parleymail/parley/mailflow"
)

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func imageOf(t *testing.T, enc func(*bytes.Buffer, image.Image) error) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 8, 8), []color.Color{color.Black, color.White})
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// oleOf is an OLE2 compound file header followed by one directory entry
// naming a stream.
func oleOf(stream string) []byte {
	b := make([]byte, 1024)
	copy(b, oleMagic)
	e := b[512:640]
	u := utf16.Encode([]rune(stream))
	for i, c := range u {
		binary.LittleEndian.PutUint16(e[2*i:], c)
	}
	binary.LittleEndian.PutUint16(e[64:], uint16(2*(len(u)+1)))
	e[66] = 2
	return b
}

func TestResourceDetect(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("hello"))
	_ = zw.Close()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	_ = tw.WriteHeader(&tar.Header{Name: "a.txt", Mode: 0o644, Size: 2})
	_, _ = tw.Write([]byte("hi"))
	_ = tw.Close()
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	ooxml := func(part string) []byte {
		return zipOf(t, map[string]string{"[Content_Types].xml": "<Types/>", part: "<x/>"})
	}
	cases := []struct {
		name     string
		filename string
		data     []byte
		want     string // "" for refused
		kind     mailflow.ResourceKind
	}{
		{"pdf", "report.pdf", pdf, "application/pdf", mailflow.KindPDF},
		{"pdf named png", "photo.png", pdf, "application/pdf", mailflow.KindPDF},
		{"png", "p.png", imageOf(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }), "image/png", mailflow.KindImage},
		{"jpeg named pdf", "p.pdf", imageOf(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }), "image/jpeg", mailflow.KindImage},
		{"gif", "p.gif", imageOf(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }), "image/gif", mailflow.KindImage},
		{"webp", "p.webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"), "image/webp", mailflow.KindImage},
		{"docx", "d.docx", ooxml("word/document.xml"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", mailflow.KindDocument},
		{"xlsx named zip", "d.zip", ooxml("xl/workbook.xml"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", mailflow.KindSpreadsheet},
		{"pptx", "d.pptx", ooxml("ppt/presentation.xml"), "application/vnd.openxmlformats-officedocument.presentationml.presentation", mailflow.KindPresentation},
		{"odt", "d.odt", zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}),
			"application/vnd.oasis.opendocument.text", mailflow.KindDocument},
		{"ods", "d.ods", zipOf(t, map[string]string{"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}),
			"application/vnd.oasis.opendocument.spreadsheet", mailflow.KindSpreadsheet},
		{"zip named docx", "d.docx", zipOf(t, map[string]string{"a.txt": "x"}), "application/zip", mailflow.KindArchive},
		{"doc", "d.bin", oleOf("WordDocument"), "application/msword", mailflow.KindDocument},
		{"xls", "d.doc", oleOf("Workbook"), "application/vnd.ms-excel", mailflow.KindSpreadsheet},
		{"ppt", "d.ppt", oleOf("PowerPoint Document"), "application/vnd.ms-powerpoint", mailflow.KindPresentation},
		{"ole by name", "d.xls", oleOf("Other"), "application/vnd.ms-excel", mailflow.KindSpreadsheet},
		{"outlook message", "m.msg", oleOf("__substg1.0_0037001F"), "", ""},
		{"gzip", "a.gz", gz.Bytes(), "application/gzip", mailflow.KindArchive},
		{"tar", "a.tar", tb.Bytes(), "application/x-tar", mailflow.KindArchive},
		{"7z", "a.7z", append(append([]byte{}, sevenZip...), 0, 4, 1, 2, 3, 4), "application/x-7z-compressed", mailflow.KindArchive},
		{"rtf", "a.rtf", []byte(`{\rtf1\ansi Hello}`), "application/rtf", mailflow.KindDocument},
		{"text", "notes.txt", []byte("Meeting notes\nAll fine.\n"), "text/plain", mailflow.KindText},
		{"text without name", "notes", []byte("plain words"), "text/plain", mailflow.KindText},
		{"csv", "t.csv", []byte("a,b\n1,2\n"), "text/csv", mailflow.KindText},
		{"markdown", "r.md", []byte("# Title\n\nText"), "text/markdown", mailflow.KindText},
		{"script in the middle of text", "x.txt", []byte("To show: <script>alert(1)</script>"), "text/plain", mailflow.KindText},
		{"html", "page.html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "", ""},
		{"html named txt", "page.txt", []byte("<html><body>hi</body></html>"), "", ""},
		{"svg with script", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", ""},
		{"svg named txt", "logo.txt", []byte(`  <svg onload="alert(1)"></svg>`), "", ""},
		{"xml", "a.xml", []byte(`<?xml version="1.0"?><a/>`), "", ""},
		{"text named svg", "a.svg", []byte(`just words`), "", ""},
		{"javascript named js", "a.js", []byte(`alert(1)`), "", ""},
		{"executable", "setup.pdf", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00"), "", ""},
		{"bmp", "a.bmp", []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00"), "", ""},
		{"empty", "a.txt", nil, "", ""},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			head := c.data[:min(len(c.data), 512)]
			ct, kind, err := Detect(p, int64(len(c.data)), http.DetectContentType(head), c.filename)
			if c.want == "" {
				if !errors.Is(err, ErrUnsupported) {
					t.Fatalf("Detect = %q, %v; want ErrUnsupported", ct, err)
				}
				return
			}
			if err != nil || ct != c.want || kind != c.kind {
				t.Fatalf("Detect = %q %q %v; want %q %q", ct, kind, err, c.want, c.kind)
			}
		})
	}
}

func TestResourceFilename(t *testing.T) {
	for _, c := range []struct{ name, ct, want string }{
		{"report.pdf", "application/pdf", "report.pdf"},
		{"photo.png", "application/pdf", "photo.png.pdf"},
		{"Photo.JPEG", "image/jpeg", "Photo.JPEG"},
		{"notes", "text/plain", "notes.txt"},
	} {
		if got := Filename(c.name, c.ct); got != c.want {
			t.Errorf("Filename(%q, %q) = %q, want %q", c.name, c.ct, got, c.want)
		}
	}
}
