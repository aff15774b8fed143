package library

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf16"

	"github.com/parleymail/parley/mailflow"
)

// ErrUnsupported is wrapped by Detect's error for content outside the
// allowlist; the message says what the file is, for people.
var ErrUnsupported = errors.New("file type not accepted")

// Accepted says, for people, which files Parley takes.
const Accepted = "PDF, office documents (doc, docx, xls, xlsx, ppt, pptx, odt, ods, odp, rtf), " +
	"images (PNG, JPEG, GIF, WebP), text (plain, CSV, Markdown) and archives (zip, gzip, tar, 7z)"

// fileType is one entry of the allowlist.
type fileType struct {
	kind mailflow.ResourceKind
	exts []string // the usual extensions, the first one canonical
}

// allowed is the allowlist: every content type a resource may have.
var allowed = map[string]fileType{
	"application/pdf":    {mailflow.KindPDF, []string{".pdf"}},
	"application/msword": {mailflow.KindDocument, []string{".doc", ".dot"}},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {mailflow.KindDocument, []string{".docx"}},
	"application/vnd.oasis.opendocument.text":                                 {mailflow.KindDocument, []string{".odt"}},
	"application/rtf":          {mailflow.KindDocument, []string{".rtf"}},
	"application/vnd.ms-excel": {mailflow.KindSpreadsheet, []string{".xls", ".xlt"}},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {mailflow.KindSpreadsheet, []string{".xlsx"}},
	"application/vnd.oasis.opendocument.spreadsheet":                            {mailflow.KindSpreadsheet, []string{".ods"}},
	"application/vnd.ms-powerpoint":                                             {mailflow.KindPresentation, []string{".ppt", ".pps", ".pot"}},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {mailflow.KindPresentation, []string{".pptx"}},
	"application/vnd.oasis.opendocument.presentation":                           {mailflow.KindPresentation, []string{".odp"}},
	"image/png":                   {mailflow.KindImage, []string{".png"}},
	"image/jpeg":                  {mailflow.KindImage, []string{".jpg", ".jpeg", ".jpe"}},
	"image/gif":                   {mailflow.KindImage, []string{".gif"}},
	"image/webp":                  {mailflow.KindImage, []string{".webp"}},
	"text/plain":                  {mailflow.KindText, []string{".txt", ".text", ".log"}},
	"text/csv":                    {mailflow.KindText, []string{".csv"}},
	"text/markdown":               {mailflow.KindText, []string{".md", ".markdown"}},
	"application/zip":             {mailflow.KindArchive, []string{".zip"}},
	"application/gzip":            {mailflow.KindArchive, []string{".gz", ".tgz"}},
	"application/x-tar":           {mailflow.KindArchive, []string{".tar"}},
	"application/x-7z-compressed": {mailflow.KindArchive, []string{".7z"}},
}

// KindOf returns the kind of an allowed content type.
func KindOf(contentType string) (mailflow.ResourceKind, bool) {
	ft, ok := allowed[contentType]
	return ft.kind, ok
}

// Filename returns name with an extension that fits contentType: name
// itself when its extension is one of the type's, else name with the
// type's usual extension added ("photo.png" holding a PDF is downloaded
// as "photo.png.pdf"), so no program opens a file as what it is not.
func Filename(name, contentType string) string {
	ft, ok := allowed[contentType]
	if !ok {
		return name
	}
	ext := strings.ToLower(path.Ext(name))
	for _, e := range ft.exts {
		if ext == e {
			return name
		}
	}
	return name + ft.exts[0]
}

// headSize is how much of a file Detect reads to recognise it: enough
// for the tar header's magic at offset 257.
const headSize = 4096

var (
	oleMagic  = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	sevenZip  = []byte{'7', 'z', 0xBC, 0xAF, 0x27, 0x1C}
	gzipMagic = []byte{0x1F, 0x8B}
	zipMagic  = []byte("PK\x03\x04")
)

// markup are the starts of content a browser would run as a page or a
// picture with script (HTML, SVG, XML), matched case-insensitively at
// the start of a text file.
var markup = []string{"<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe", "<object", "<embed",
	"<xsl", "<!--", "<meta", "<link", "<style", "<a ", "<div", "<img", "<form", "<table", "<title", "<p>", "<p "}

// markupExts are names whose text is never accepted, whatever it looks
// like: a browser or a desktop would open them as pages or scripts.
var markupExts = map[string]bool{".html": true, ".htm": true, ".xhtml": true, ".shtml": true, ".svg": true, ".svgz": true,
	".xml": true, ".xsl": true, ".xslt": true, ".js": true, ".mjs": true, ".hta": true, ".mht": true, ".mhtml": true}

// Detect says what the file at p (size bytes, named filename by its
// sender) is, from its content: the content type of the allowlist and its
// kind, or an error wrapping ErrUnsupported that names what it is.
//
// sniffed is http.DetectContentType of the first 512 bytes (what
// blobstore.Stage reports); Detect refines it: a zip is looked into for
// an office document, an OLE2 compound file for a Word, Excel or
// PowerPoint stream, text for RTF, CSV and Markdown, and the tar and 7z
// signatures the sniffer does not know. The file name chooses only
// between text flavours (.csv, .md) and, for an OLE2 file whose streams
// do not say, between doc, xls and ppt; a name that lies about the
// content changes nothing else.
func Detect(p string, size int64, sniffed, filename string) (string, mailflow.ResourceKind, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", fmt.Errorf("detecting type: %w", err)
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", "", fmt.Errorf("detecting type: %w", err)
	}
	head = head[:n]
	ct, err := detect(f, size, head, sniffed, strings.ToLower(path.Ext(filename)))
	if err != nil {
		return "", "", err
	}
	ft, ok := allowed[ct]
	if !ok {
		return "", "", fmt.Errorf("%w: %s", ErrUnsupported, describe(ct))
	}
	return ct, ft.kind, nil
}

func detect(f *os.File, size int64, head []byte, sniffed, ext string) (string, error) {
	mt, _, _ := strings.Cut(sniffed, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case len(head) == 0:
		return "", fmt.Errorf("%w: the file is empty", ErrUnsupported)
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "application/pdf", nil
	case bytes.HasPrefix(head, zipMagic):
		return zipType(f, size), nil
	case bytes.HasPrefix(head, oleMagic):
		return oleType(f, ext)
	case bytes.HasPrefix(head, sevenZip):
		return "application/x-7z-compressed", nil
	case bytes.HasPrefix(head, gzipMagic):
		return "application/gzip", nil
	case len(head) >= 262 && bytes.Equal(head[257:262], []byte("ustar")):
		return "application/x-tar", nil
	case bytes.HasPrefix(head, []byte(`{\rtf`)):
		return "application/rtf", nil
	}
	switch mt {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return mt, nil
	case "text/html", "text/xml", "application/xml":
		return "text/html", nil
	case "text/plain":
		if markupExts[ext] || looksLikeMarkup(head) {
			return "text/html", nil
		}
		switch ext {
		case ".csv":
			return "text/csv", nil
		case ".md", ".markdown":
			return "text/markdown", nil
		}
		return "text/plain", nil
	}
	return mt, nil
}

// looksLikeMarkup reports whether text starts (after a byte order mark
// and white space) like HTML, SVG or XML.
func looksLikeMarkup(head []byte) bool {
	s := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	s = bytes.TrimLeft(s, " \t\r\n\f")
	if len(s) > 64 {
		s = s[:64]
	}
	low := strings.ToLower(string(s))
	for _, m := range markup {
		if strings.HasPrefix(low, m) {
			return true
		}
	}
	return false
}

// zipType looks into a zip for the part names of an office document:
// Office Open XML (word/, xl/, ppt/ with [Content_Types].xml) and
// OpenDocument (a "mimetype" member naming the type). Anything else is a
// plain zip archive.
func zipType(f *os.File, size int64) string {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return "application/zip"
	}
	var ctypes, word, xl, ppt bool
	for _, zf := range zr.File {
		switch name := zf.Name; {
		case name == "[Content_Types].xml":
			ctypes = true
		case name == "word/document.xml":
			word = true
		case name == "xl/workbook.xml":
			xl = true
		case name == "ppt/presentation.xml":
			ppt = true
		case name == "mimetype" && zf.UncompressedSize64 < 128:
			if t := odfType(zf); t != "" {
				return t
			}
		}
	}
	switch {
	case ctypes && word:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ctypes && xl:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ctypes && ppt:
		return "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	}
	return "application/zip"
}

func odfType(zf *zip.File) string {
	rc, err := zf.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 128))
	if err != nil {
		return ""
	}
	switch t := strings.TrimSpace(string(b)); t {
	case "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.presentation":
		return t
	}
	return ""
}

// oleType tells a Word, Excel or PowerPoint file (OLE2 compound files
// all) by the names of their streams: WordDocument, Workbook (or Book)
// and "PowerPoint Document". Directory entries are 128 bytes, aligned
// to 128 in the file, with the name in UTF-16LE and its length in bytes
// at offset 64 and the entry's type at 66 (2: a stream); the file is
// scanned for them rather than its sector chains followed. When no such
// stream is found, a .doc, .xls or .ppt name decides; other compound
// files (Outlook messages, installers, Visio) are not accepted.
func oleType(f *os.File, ext string) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("detecting type: %w", err)
	}
	streams := map[string]string{
		"WordDocument":        "application/msword",
		"Workbook":            "application/vnd.ms-excel",
		"Book":                "application/vnd.ms-excel",
		"PowerPoint Document": "application/vnd.ms-powerpoint",
	}
	r := bufio.NewReaderSize(f, 64<<10)
	entry := make([]byte, 128)
	for {
		if _, err := io.ReadFull(r, entry); err != nil {
			break
		}
		nameLen := int(binary.LittleEndian.Uint16(entry[64:]))
		if entry[66] != 2 || nameLen < 4 || nameLen > 64 || nameLen%2 != 0 {
			continue
		}
		u := make([]uint16, nameLen/2-1) // without the terminating NUL
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(entry[2*i:])
		}
		if t, ok := streams[string(utf16.Decode(u))]; ok {
			return t, nil
		}
	}
	switch ext {
	case ".doc", ".dot":
		return "application/msword", nil
	case ".xls", ".xlt":
		return "application/vnd.ms-excel", nil
	case ".ppt", ".pps", ".pot":
		return "application/vnd.ms-powerpoint", nil
	}
	return "", fmt.Errorf("%w: an OLE2 compound file that is not a Word, Excel or PowerPoint document", ErrUnsupported)
}

// describe names a content type for people, in the refusal message.
func describe(ct string) string {
	switch {
	case ct == "text/html":
		return "a web page, SVG or XML file (these can carry scripts)"
	case ct == "application/octet-stream" || ct == "":
		return "a file of a type Parley does not recognise"
	case strings.HasPrefix(ct, "image/"):
		return "an image of type " + ct
	case strings.HasPrefix(ct, "audio/"), strings.HasPrefix(ct, "video/"):
		return "an audio or video file (" + ct + ")"
	}
	return "a file of type " + ct
}
