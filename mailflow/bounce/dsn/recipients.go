package dsn

// merge joins the recipients of the delivery-status fields with what the
// report's text says about them, and reads recipients from the text when
// the fields name none.
func (msg *message) merge(ds []*draft) []*draft {
	blocks := scanText(msg.lines, msg.excluded)

	// Fields whose address is no address (Exim reports a delivery to a
	// file by its path) take the address Exim lists in X-Failed-Recipients.
	used := map[string]bool{}
	for _, d := range ds {
		if d.addr != "" {
			used[d.addr] = true
		}
	}
	var spare []string
	for _, a := range msg.failed {
		if !used[a] {
			spare = append(spare, a)
		}
	}
	for _, b := range blocks {
		if !used[b.addr] && !contains(spare, b.addr) && len(msg.failed) == 0 {
			spare = append(spare, b.addr)
		}
	}
	for _, d := range ds {
		if d.addr == "" && len(spare) > 0 {
			d.addr, spare = spare[0], spare[1:]
			d.rule += "; the field names no address: the text's"
		}
	}
	kept := ds[:0]
	for _, d := range ds {
		if d.addr != "" {
			kept = append(kept, d)
		}
	}
	ds = kept

	if len(ds) == 0 {
		ds = msg.textRecipients(blocks)
	}

	// Give each recipient the text about it.
	byAddr := map[string]*draft{}
	for _, d := range ds {
		for _, a := range []string{d.addr, cleanAddr(d.final), cleanAddr(d.original)} {
			if a != "" && byAddr[a] == nil {
				byAddr[a] = d
			}
		}
	}
	var unmatched []textBlock
	for _, b := range blocks {
		d := byAddr[b.addr]
		if d == nil && b.orig != "" {
			d = byAddr[b.orig]
		}
		if d == nil {
			unmatched = append(unmatched, b)
			continue
		}
		d.lines = appendLines(d.lines, b.lines)
	}
	if len(ds) == 1 && len(unmatched) == 1 && len(ds[0].lines) == 0 {
		ds[0].lines = appendLines(ds[0].lines, unmatched[0].lines)
	}
	// A recipient the text says nothing about under its name may still
	// be named where the text says what went wrong.
	var named map[string][]string
	for _, d := range ds {
		if len(d.lines) > 0 || d.diag != "" {
			continue
		}
		if named == nil {
			named = mentions(msg.lines)
		}
		d.lines = appendLines(d.lines, named[d.addr])
	}
	return ds
}

// textRecipients reads the recipients of a report whose fields name
// none, from the most reliable evidence to the least: Exim's and Gmail's
// X-Failed-Recipients header, the recipient lines of the text, an address
// on a line that states the failure, and the report's own addressee when
// the text names no one else (qmail reporting a sender who wrote to
// themselves). classifyAt has the last resorts: a report nested in the
// returned message, and the returned message's recipients.
func (msg *message) textRecipients(blocks []textBlock) []*draft {
	var ds []*draft
	if len(msg.failed) > 0 {
		for _, a := range msg.failed {
			ds = append(ds, &draft{addr: a, rule: "X-Failed-Recipients header"})
		}
		return ds
	}
	if ds = blockDrafts(blocks, ""); len(ds) > 0 {
		return ds
	}
	if ds = msg.failureLines(); len(ds) > 0 {
		return ds
	}
	if ds = msg.screenNames(); len(ds) > 0 {
		return ds
	}
	own := scanText(msg.lines, func(a string) bool { return a == msg.from || a == msg.returnPath })
	return blockDrafts(own, " (an address the report otherwise leaves out: the text names no one else)")
}

// blockDrafts makes a recipient of each address the text's recipient
// lines name once.
func blockDrafts(blocks []textBlock, why string) []*draft {
	var ds []*draft
	seen := map[string]bool{}
	for _, b := range blocks {
		a, rule := b.addr, "text: "+b.shape+" line"
		if b.orig != "" {
			// The text names the address Parley sent to as the one it
			// was expanded from.
			a, rule = b.orig, rule+", expanded from"
		}
		if !seen[a] && len(ds) < maxRecipients {
			seen[a] = true
			ds = append(ds, &draft{addr: a, rule: rule + why})
		}
	}
	return ds
}

// appendLines adds src to dst, up to maxBlockLines, leaving out lines
// dst already has (mail.ru says everything twice, in two languages).
func appendLines(dst, src []string) []string {
	for _, l := range src {
		if len(dst) >= maxBlockLines {
			break
		}
		if !contains(dst, l) {
			dst = append(dst, l)
		}
	}
	return dst
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// facts are what a piece of report text says.
