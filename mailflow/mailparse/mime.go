package mailparse

import (
	"bytes"
	"strings"
)

// entity handles one MIME entity (RFC 2045 §2.4): a multipart container
// or a leaf. defType is the default content type of RFC 2046 §5.1
// (message/rfc822 inside multipart/digest, text/plain elsewhere).
func (p *parser) entity(h header, body []byte, depth int, defType string, c *collector) {
	p.parts++
	if p.parts > p.lim.MaxParts {
		p.warn("mime: more than %d parts; the rest was skipped", p.lim.MaxParts)
		return
	}
	mt, params := defType, map[string]string{}
	if ct := decode8(h.get("content-type")); strings.TrimSpace(ct) != "" {
		v, ps := parseParams(ct)
		params = ps
		if isMediaType(v) {
			mt = v
		} else {
			p.warn("mime: invalid content type %q; read as %s", v, defType)
		}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if p.multipart(mt, params, body, depth, c) {
			return
		}
		mt = "text/plain"
	}
	p.leaf(h, mt, params, body, c)
}

func isMediaType(v string) bool {
	t, s, ok := strings.Cut(v, "/")
	if !ok || t == "" || s == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 127 || strings.IndexByte("()<>@,;:\\\"[]?=", c) >= 0 {
			return false
		}
	}
	return true
}

// multipart walks a multipart entity (RFC 2046 §5.1). It reports false
// when the entity cannot be split and should be read as text instead.
func (p *parser) multipart(mt string, params map[string]string, body []byte, depth int, c *collector) bool {
	boundary := params["boundary"]
	if boundary == "" {
		p.warn("mime: %s without boundary; read as text", mt)
		return false
	}
	if depth >= maxDepth {
		p.warn("mime: multiparts nested deeper than %d; inner parts skipped", maxDepth)
		return true
	}
	parts, closed, found := splitMultipart(body, boundary)
	if !found {
		p.warn("mime: boundary %q of %s not found; read as text", boundary, mt)
		return false
	}
	if !closed {
		p.warn("mime: missing final boundary %q; read to the end", boundary)
	}
	childType := "text/plain"
	if mt == "multipart/digest" {
		childType = "message/rfc822"
	}
	if mt != "multipart/alternative" {
		for _, part := range parts {
			p.part(part, depth, childType, c)
		}
		return true
	}
	// RFC 2046 §5.1.4: alternatives come in increasing order of
	// faithfulness. Text comes from the first that has text, HTML from
	// the last that has HTML; attachments come from all.
	var text, html []string
	for _, part := range parts {
		var sub collector
		p.part(part, depth, childType, &sub)
		if text == nil && len(sub.texts) > 0 {
			text = sub.texts
		}
		if len(sub.htmls) > 0 {
			html = sub.htmls
		}
	}
	c.texts = append(c.texts, text...)
	c.htmls = append(c.htmls, html...)
	return true
}

func (p *parser) part(raw []byte, depth int, defType string, c *collector) {
	h, body, ok := readHeader(raw)
	if !ok {
		h, body = header{}, raw
	}
	p.entity(h, body, depth+1, defType, c)
}

// splitMultipart cuts body at its delimiter lines (RFC 2046 §5.1.1): "--"
// boundary at the start of a line, then only transport padding, or "--"
// for the close delimiter. The line break before a delimiter belongs to
// the delimiter. closed reports the close delimiter; found, any delimiter.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed, found bool) {
	delim := []byte("--" + boundary)
	start := -1
	for pos := 0; pos < len(body); {
		line, next := nextLine(body, pos)
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if isClose {
				rest = rest[2:]
			}
			if len(bytes.Trim(rest, " \t")) == 0 || isClose {
				found = true
				if start >= 0 {
					end := pos
					if end > start && body[end-1] == '\n' {
						end--
						if end > start && body[end-1] == '\r' {
							end--
						}
					}
					parts = append(parts, body[start:end])
				}
				if isClose {
					return parts, true, true
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 && start <= len(body) {
		// Unterminated: keep the last part unless it is only padding.
		if last := body[start:]; len(bytes.TrimSpace(last)) > 0 {
			parts = append(parts, last)
		}
	}
	return parts, false, found
}

// alternativeOnly are renderings that only make sense as an alternative
// to the text and HTML bodies; they are neither body nor attachment.
var alternativeOnly = map[string]bool{
	"text/watch-html": true, "text/x-amp-html": true, "text/enriched": true, "text/richtext": true,
}

func (p *parser) leaf(h header, mt string, params map[string]string, body []byte, c *collector) {
	disp, dparams := "", map[string]string{}
	if d := decode8(h.get("content-disposition")); strings.TrimSpace(d) != "" {
		disp, dparams = parseParams(d)
	}
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = cleanFilename(decodeText(name))
	data, fresh := p.transfer(h, body)
	attach := disp == "attachment"
	switch {
	case mt == "text/plain" && !attach && (name == "" || len(c.texts) == 0):
		c.texts = append(c.texts, p.text(data, params))
	case mt == "text/html" && !attach && (name == "" || len(c.htmls) == 0):
		c.htmls = append(c.htmls, p.html(data, params))
	case alternativeOnly[mt] && !attach:
	default:
		a := Attachment{
			Filename:    name,
			ContentType: mt,
			Size:        len(data),
			ContentID:   strings.Trim(strings.TrimSpace(decode8(h.get("content-id"))), "<>"),
		}
		a.Inline = disp == "inline" || disp == "" && a.ContentID != ""
		if a.Filename == "" && (mt == "message/rfc822" || mt == "message/global") {
			a.Filename = messageFilename(data)
		}
		if int64(len(data)) > p.lim.MaxAttachmentBytes {
			p.warn("attachment: %q is %d bytes, over the limit of %d; its data was dropped", a.Filename, len(data), p.lim.MaxAttachmentBytes)
		} else if fresh {
			a.Data = data // decoded into its own buffer: a copy would double a large file
		} else {
			a.Data = bytes.Clone(data) // not a slice of the whole message, which would keep it alive
		}
		p.m.Attachments = append(p.m.Attachments, a)
	}
}

// messageFilename names an attached message after its subject.
func messageFilename(raw []byte) string {
	h, _, ok := readHeader(raw)
	if ok {
		if s := cleanFilename(decodeText(h.get("subject"))); s != "" {
			return s + ".eml"
		}
	}
	return "message.eml"
}

// cleanFilename drops directories (which some mailers send, and which
// must never reach a file system) and control characters.
func cleanFilename(s string) string {
	if i := strings.LastIndexAny(s, "/\\"); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
