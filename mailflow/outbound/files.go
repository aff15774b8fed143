package outbound

import (
	"encoding/base64"
	"mime"

	"github.com/parleymail/parley/mailflow"
)

// File is one of a message's files (a resource of its group), as group
// mail lists it: each recipient gets their own link to it
// (Recipient.FileURLs), which works without signing in for as long as
// they may see the file.
type File struct {
	ID   int64
	Name string
	Size int64
	// Data, when set, is the file itself: it is attached to the email
	// (the group's AttachMaxKB) instead of linked. ContentType is its
	// detected type.
	Data        []byte
	ContentType string
}

// fileLink is a file as a recipient's footer lists it.
type fileLink struct {
	Name string
	Size string // for people: "14 KB"
	URL  string
}

// Files are the post's files, in the order Recipient.FileURLs follows.
func (p *Prepared) Files() []File { return p.files }

// fileLinks pairs the post's files with the recipient's links; a file
// without a valid link of its own gets the thread's page, where a
// signed-in member finds it.
func (p *Prepared) fileLinks(urls []string) []fileLink {
	if len(p.files) == 0 {
		return nil
	}
	out := make([]fileLink, 0, len(p.files))
	for i, f := range p.files {
		if f.Data != nil {
			continue // attached: the recipient has the file itself
		}
		u := ""
		if i < len(urls) {
			u = cleanURL(urls[i])
		}
		if u == "" {
			u = p.view.ThreadURL
		}
		out = append(out, fileLink{Name: cleanLine(f.Name), Size: mailflow.HumanSize(f.Size), URL: u})
	}
	return out
}

// attachments returns the MIME parts (RFC 2046 §5.1.3) of the files that
// travel with the email, each after a delimiter of boundary: base64 in
// lines of 76 (RFC 2045 §6.8), the name in Content-Disposition (RFC 2183),
// RFC 2231-encoded when it is not ASCII. Base64 never writes "-", so no
// line of it can be taken for the boundary.
func attachments(files []File, boundary string) []byte {
	var out []byte
	for _, f := range files {
		if f.Data == nil {
			continue
		}
		ct := f.ContentType
		if _, _, err := mime.ParseMediaType(ct); err != nil || ct == "" {
			ct = "application/octet-stream"
		}
		name := cleanLine(f.Name)
		if name == "" {
			name = "file"
		}
		out = append(out, "--"...)
		out = append(out, boundary...)
		out = append(out, "\r\nContent-Type: "...)
		out = append(out, ct...)
		out = append(out, "\r\nContent-Disposition: "...)
		out = append(out, mime.FormatMediaType("attachment", map[string]string{"filename": name})...)
		out = append(out, "\r\nContent-Transfer-Encoding: base64\r\n\r\n"...)
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 76 {
			out = append(out, enc[:76]...)
			out = append(out, "\r\n"...)
			enc = enc[76:]
		}
		out = append(out, enc...)
		out = append(out, "\r\n"...)
	}
	return out
}

// attached reports whether any of files travels with the email.
func attached(files []File) bool {
	for _, f := range files {
		if f.Data != nil {
			return true
		}
	}
	return false
}
