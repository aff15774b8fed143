package outbound

import "github.com/parleymail/parley/mailflow"

// File is one of a message's files (a resource of its group), as group
// mail lists it: each recipient gets their own link to it
// (Recipient.FileURLs), which works without signing in for as long as
// they may see the file.
type File struct {
	ID   int64
	Name string
	Size int64
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
	out := make([]fileLink, len(p.files))
	for i, f := range p.files {
		u := ""
		if i < len(urls) {
			u = cleanURL(urls[i])
		}
		if u == "" {
			u = p.view.ThreadURL
		}
		out[i] = fileLink{Name: cleanLine(f.Name), Size: mailflow.HumanSize(f.Size), URL: u}
	}
	return out
}
