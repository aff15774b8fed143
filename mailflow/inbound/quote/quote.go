package quote

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/parleymail/parley/mailflow/mailparse"
)

// Reply is a reply split into what is shown and what is folded.
type Reply struct {
	Text      string // the new text, trimmed
	Signature string // the folded signature, if any
	Quoted    bool   // whether anything (history or signature) was folded
}

// Split splits a plain-text body.
func Split(text string) Reply {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	hist := classify(lines)

	// Cut the lines into fragments: runs of new lines, runs of history.
	type fragment struct{ start, end int }
	var news []fragment
	firstHist, lastHistEnd := -1, -1
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && hist[j] == hist[i] {
			j++
		}
		if hist[i] {
			if firstHist < 0 {
				firstHist = i
			}
			lastHistEnd = j
		} else if !allBlank(lines[i:j]) {
			news = append(news, fragment{i, j})
		}
		i = j
	}
	folded := firstHist >= 0

	// A top-posted reply keeps its top. New text after the quotes is kept
	// too (an inline reply, whether or not more quotes follow), unless it
	// is a footer that a list manager glued under the quote.
	hasTop := len(news) > 0 && (firstHist < 0 || news[0].end <= firstHist)
	var kept []string
	for k, f := range news {
		if hasTop && k > 0 && f.start >= lastHistEnd && isFooter(lines[f.start:f.end]) {
			folded = true
			continue
		}
		kept = append(kept, trimBlankLines(lines[f.start:f.end])...)
		if k < len(news)-1 {
			kept = append(kept, "")
		}
	}
	kept = trimBlankLines(kept)

	body, sig := splitSignature(kept)
	for i, l := range body {
		body[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	r := Reply{
		Text:      strings.Join(trimBlankLines(body), "\n"),
		Signature: strings.TrimRightFunc(strings.Join(sig, "\n"), unicode.IsSpace),
	}
	r.Quoted = folded || r.Signature != ""
	return r
}

// classify marks the lines that are history: ">" quotes, attribution
// lines before them, and everything after a separator that starts a
// non-">" quote (Outlook, "Original Message", attribution followed by
// unquoted history).
func classify(lines []string) []bool {
	hist := make([]bool, len(lines))
	rest := func(from int) []bool {
		for j := from; j < len(lines); j++ {
			hist[j] = true
		}
		return hist
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if isQuoteLine(l) {
			hist[i] = true
			continue
		}
		if isBlank(l) {
			continue
		}
		if isOriginalMessage(l) {
			return rest(i)
		}
		if start, ok := outlookHeader(lines, i); ok {
			return rest(start)
		}
		n, strong, ok := attribution(lines, i)
		if !ok {
			continue
		}
		k := i + n
		for k < len(lines) && isBlank(lines[k]) {
			k++
		}
		switch {
		case k < len(lines) && isQuoteLine(lines[k]):
			for j := i; j < i+n; j++ {
				hist[j] = true
			}
			i += n - 1
		case k == len(lines) || strong:
			// Nothing follows, or the history follows unquoted (Gmail in
			// some languages, Outlook on phones).
			return rest(i)
		}
	}
	return hist
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

func allBlank(ls []string) bool {
	for _, l := range ls {
		if !isBlank(l) {
			return false
		}
	}
	return true
}

func trimBlankLines(ls []string) []string {
	for len(ls) > 0 && isBlank(ls[0]) {
		ls = ls[1:]
	}
	for len(ls) > 0 && isBlank(ls[len(ls)-1]) {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// isQuoteLine reports a line quoted with ">" (RFC 3676 §4.5).
func isQuoteLine(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

// isSeparator reports a rule such as Outlook's line of underscores.
func isSeparator(l string) bool {
	t := strings.TrimSpace(l)
	if len(t) < 10 {
		return false
	}
	return strings.Trim(t, "_-=") == ""
}

// isFooter reports a fragment that starts with a rule: the footer a list
// manager appends, not something the sender wrote.
func isFooter(ls []string) bool {
	ls = trimBlankLines(ls)
	if len(ls) == 0 {
		return false
	}
	t := strings.TrimSpace(ls[0])
	return len(t) >= 3 && strings.Trim(t, "_-=*~") == ""
}

// ---- attribution lines ----------------------------------------------------------

// maxAttrLine bounds the lines looked at as an attribution, so that a
// hostile long line costs nothing.
const maxAttrLine = 300

// attribution reports whether an attribution line ("On …, … wrote:")
// starts at line i, and over how many lines (Gmail wraps it at 80
// columns, so up to three). strong means it carries a date or an
// address, enough to trust even when no ">" quote follows.
func attribution(lines []string, i int) (n int, strong, ok bool) {
	first := strings.TrimSpace(lines[i])
	if len(first) > maxAttrLine {
		return 0, false, false
	}
	joined := first
	for n = 1; n <= 3 && i+n-1 < len(lines); n++ {
		if n > 1 {
			next := strings.TrimSpace(lines[i+n-1])
			// Gmail may wrap right after the address, leaving its closing
			// ">:" or "> wrote:" at the start of a line, where it looks
			// like a quote.
			if next == "" || len(next) > maxAttrLine || (isQuoteLine(next) && !closesAddress(joined, next)) {
				break
			}
			joined += " " + next
		}
		ok, strong = isAttribution(joined)
		if !ok {
			continue
		}
		if n > 1 {
			// A wrapped attribution starts with its date or lead word;
			// when a later line is a whole attribution of its own, the
			// first line is the sender's text.
			if !hasDigit(first) && !hasLead(first) {
				return 0, false, false
			}
			for j := i + 1; j < i+n; j++ {
				l := strings.TrimSpace(lines[j])
				if a, _ := isAttribution(strings.Join(trimAll(lines[j:i+n]), " ")); a && hasLead(l) {
					return 0, false, false
				}
			}
		}
		return n, strong, true
	}
	return 0, false, false
}

// closesAddress reports a line such as ">:" or "> wrote:" that ends an
// attribution whose address bracket the previous lines left open.
func closesAddress(joined, next string) bool {
	return len(next) <= 30 && strings.HasSuffix(strings.ReplaceAll(next, "：", ":"), ":") &&
		strings.LastIndexByte(joined, '<') > strings.LastIndexByte(joined, '>')
}

func trimAll(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

// endVerbs end an attribution, before its colon.
var endVerbs = []string{
	"wrote", "writes", "a écrit", "a ecrit", "escribió", "escribio", "escreveu", "ha scritto",
	"schrieb", "schreef", "skrev", "kirjoitti", "napisał", "napisała", "napisał(a)",
	"написал", "написала", "написал(а)", "написав", "napsal", "napísal", "írta", "a scris",
	"yazdı", "έγραψε", "のメッセージ", "のメール", "が書きました", "写道", "寫道", "작성",
}

// midVerbs stand inside an attribution: "Am 1.2.2024 um 10:00 schrieb
// Max <max@example.de>:", "Op … schreef …:", "Den … skrev …:".
var midVerbs = []string{
	" schrieb ", " schreef ", " skrev ", " wrote ", " a écrit ", " escribió ", " escreveu ",
	" ha scritto ", " napisał", " написал", " kirjoitti ", "が書きました", "写道",
}

// leads start an attribution in the languages that put the date first.
var leads = []string{
	"on ", "am ", "le ", "el ", "il ", "em ", "op ", "den ", "på ", "w dniu ", "dnia ", "dne ",
	"v ", "в ", "στις ",
}

func hasLead(s string) bool {
	low := strings.ToLower(s)
	for _, l := range leads {
		if strings.HasPrefix(low, l) {
			return true
		}
	}
	return false
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			return true
		}
	}
	return false
}

// hasTime reports a clock time such as "4:19" or "16:37".
func hasTime(s string) bool {
	for i := 1; i+2 < len(s); i++ {
		if s[i] == ':' && isDigit(s[i-1]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isAttribution tests a (joined) line.
func isAttribution(s string) (ok, strong bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "：", ":"))
	if !strings.HasSuffix(s, ":") || len(s) > 3*maxAttrLine {
		return false, false
	}
	low := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(s, ":")))
	addr := strings.Contains(low, "@")
	strong = hasTime(low) || hasDigit(low) && (addr || hasLead(low))
	for _, v := range endVerbs {
		if strings.HasSuffix(low, v) {
			return true, strong
		}
	}
	for _, v := range midVerbs {
		if strings.Contains(low, v) && (hasDigit(low) || addr) {
			return true, strong
		}
	}
	// Gmail's form in languages without a verb: "<date> <name> <addr>:".
	if strings.HasSuffix(low, ">") && addr && hasDigit(low) {
		return true, true
	}
	return false, false
}

// ---- separators and header blocks --------------------------------------------------

// originalMessage are the words between the dashes of "-----Original
// Message-----" in the languages of Outlook and its kin, lowercased.
var originalMessage = map[string]bool{
	"original message": true, "ursprüngliche nachricht": true, "originalnachricht": true,
	"message d'origine": true, "message original": true, "mensaje original": true,
	"messaggio originale": true, "mensagem original": true, "oorspronkelijk bericht": true,
	"originalmeddelande": true, "opprinnelig melding": true, "oprindelig meddelelse": true,
	"alkuperäinen viesti": true, "исходное сообщение": true, "wiadomość oryginalna": true,
	"oryginalna wiadomość": true, "původní zpráva": true, "eredeti üzenet": true,
	"元のメッセージ": true, "原始邮件": true, "原始郵件": true, "reply message": true,
	// Forwards: the forwarded message is history too, folded like a quote.
	"forwarded message": true, "weitergeleitete nachricht": true, "message transféré": true,
	"mensaje reenviado": true, "messaggio inoltrato": true, "mensagem encaminhada": true,
	"doorgestuurd bericht": true, "vidarebefordrat meddelande": true, "videresendt melding": true,
	"пересылаемое сообщение": true, "wiadomość przekazana": true,
}

func isOriginalMessage(l string) bool {
	t := strings.TrimSpace(l)
	if t == "Begin forwarded message:" { // Apple Mail
		return true
	}
	if len(t) > 120 || !(strings.HasPrefix(t, "--") || strings.HasPrefix(t, "__")) {
		return false
	}
	core := strings.ToLower(strings.Trim(t, "-_=*~ \t"))
	core = strings.ReplaceAll(core, "’", "'")
	return originalMessage[strings.Join(strings.Fields(core), " ")]
}

var (
	fromLabels = set("from", "de", "von", "van", "da", "från", "fra", "frá", "от", "od", "差出人",
		"发件人", "寄件者", "보낸 사람", "lähettäjä", "feladó", "kimden")
	dateLabels = set("sent", "date", "envoyé", "envoye", "gesendet", "datum", "enviado", "enviada", "fecha",
		"inviato", "data", "verzonden", "skickat", "sendt", "отправлено", "дата", "wysłano",
		"送信日時", "日付", "发送时间", "日期", "寄件日期", "보낸 날짜", "lähetetty", "elküldve", "tarih")
	toLabels = set("to", "à", "a", "an", "aan", "para", "till", "til", "кому", "do", "宛先", "收件人",
		"收件者", "받는 사람", "vastaanottaja", "címzett", "kime", "cc",
		"subject", "objet", "betreff", "asunto", "oggetto", "onderwerp", "ämne", "emne", "assunto",
		"тема", "temat", "件名", "主题", "主旨", "제목", "aihe", "tárgy", "konu")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// label returns the lowercased field label of a header-like line:
// "From:", "*From:*" (Gmail's plain text of bold), "De :" (French puts a
// space before the colon).
func label(l string) (string, bool) {
	t := strings.TrimSpace(l)
	i := strings.IndexAny(t, ":：")
	if i <= 0 || i > 40 {
		return "", false
	}
	lab := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(t[:i], "*", "")))
	return lab, lab != "" && utf8.RuneCountInString(lab) <= 20
}

// outlookHeader reports the header block Outlook writes above the
// message it replies to: a From line followed closely by a date line and
// a To or Subject line. start includes a rule drawn above the block.
func outlookHeader(lines []string, i int) (start int, ok bool) {
	if lab, ok := label(lines[i]); !ok || !fromLabels[lab] {
		return 0, false
	}
	var date, to bool
	for j := i + 1; j < len(lines) && j <= i+10; j++ {
		lab, ok := label(lines[j])
		if !ok {
			continue
		}
		date = date || dateLabels[lab]
		to = to || toLabels[lab]
	}
	if !date || !to {
		return 0, false
	}
	start = i
	for j, blanks := i-1, 0; j >= 0; j-- {
		if isBlank(lines[j]) {
			if blanks++; blanks > 2 {
				break
			}
			continue
		}
		if isSeparator(lines[j]) {
			start = j
		}
		break
	}
	return start, true
}

// ---- signatures ---------------------------------------------------------------------

// maxSignatureLines bounds how far from the end a "-- " delimiter may be:
// a delimiter far above the end is a rule in the text, not a signature.
const maxSignatureLines = 15

// splitSignature folds a signature off the end of the new text: after
// the RFC 3676 §4.3 "-- " delimiter (or "--", since some clients eat the
// space), or a short "Sent from my iPhone" last line.
func splitSignature(ls []string) (body, sig []string) {
	n := len(ls)
	for i := max(1, n-maxSignatureLines); i < n; i++ {
		if strings.TrimRight(ls[i], " \t") == "--" && !allBlank(ls[:i]) {
			return ls[:i], ls[i:]
		}
	}
	if n > 1 && isMobileSignature(ls[n-1]) && !allBlank(ls[:n-1]) {
		return ls[:n-1], ls[n-1:]
	}
	return ls, nil
}

// mobilePrefixes start the lines mobile clients append, lowercased.
var mobilePrefixes = []string{
	"sent from ", "sent via ", "sent with ", "sent using ", "get outlook for ",
	"envoyé de mon ", "envoyé depuis mon ", "envoyé à partir de ", "envoye de mon ",
	"von meinem ", "gesendet von ", "enviado desde mi ", "enviado desde ", "enviado do meu ",
	"enviado de meu ", "inviato da ", "inviato dal mio ", "verzonden vanaf mijn ",
	"verstuurd vanaf mijn ", "verzonden met ", "skickat från min ", "sendt fra min ",
	"sendt fra ", "lähetetty ", "отправлено с ", "wysłane z ", "odesláno z ",
	"发自我的", "從我的", "送自我的",
}

// isMobileSignature reports a short "Sent from my X" line. "Sent from
// my desk, is much easier…" is prose, not a signature: the rest of the
// line must be a few words without clause punctuation.
func isMobileSignature(l string) bool {
	t := strings.TrimSpace(l)
	if t == "" || utf8.RuneCountInString(t) > 80 {
		return false
	}
	low := strings.ToLower(t)
	if strings.HasSuffix(low, "から送信") || strings.HasSuffix(low, "から送信しました") {
		return true
	}
	for _, p := range mobilePrefixes {
		if strings.HasPrefix(low, p) {
			rest := dropBracketed(low[len(p):])
			return !strings.ContainsAny(rest, ",;!?") && len(strings.Fields(rest)) <= 8
		}
	}
	return false
}

// dropBracketed removes "(…)" and "<…>", where clients put their links.
func dropBracketed(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '<':
			depth++
		case (r == ')' || r == '>') && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ---- HTML -----------------------------------------------------------------------------

// SplitHTML splits an HTML body: the quote and signature elements that
// clients mark are removed, the rest is converted with mailparse.HTMLToText
// and split as text.
func SplitHTML(body string) Reply {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return Split(mailparse.HTMLToText(body))
	}
	sigs, removed := prune(doc)
	var b strings.Builder
	if err := html.Render(&b, doc); err != nil {
		return Split(mailparse.HTMLToText(body))
	}
	r := Split(mailparse.HTMLToText(b.String()))
	var parts []string
	if r.Signature != "" {
		parts = append(parts, r.Signature)
	}
	for _, s := range sigs {
		if s != "" {
			parts = append(parts, s)
		}
	}
	r.Signature = strings.Join(parts, "\n\n")
	r.Quoted = r.Quoted || removed || r.Signature != ""
	return r
}

type mark int

const (
	markNone      mark = iota
	markQuote          // remove the element
	markSignature      // remove the element, keep its text as signature
	markRest           // remove the element and everything after it
)

// markOf tells what a client's markup says an element is.
func markOf(n *html.Node) mark {
	var class, id, typ, smart string
	for _, a := range n.Attr {
		switch a.Key {
		case "class":
			class = strings.ToLower(a.Val)
		case "id":
			id = strings.ToLower(a.Val)
		case "type":
			typ = strings.ToLower(a.Val)
		case "data-smartmail":
			smart = strings.ToLower(a.Val)
		}
	}
	switch {
	// Outlook on the web and desktop put the quoted message after a
	// header block in divRplyFwdMsg (x_ when the message was re-quoted);
	// appendonsend marks where the quote starts; Outlook for Mac uses
	// OLK_SRC_BODY_SECTION; Zimbra an <hr id=zwchr>.
	case strings.HasSuffix(id, "divrplyfwdmsg"), id == "appendonsend", strings.HasSuffix(id, "olk_src_body_section"),
		id == "zwchr", id == "stopspelling", id == "mail-editor-reference-message-container":
		return markRest
	case n.Data == "blockquote" && typ == "cite":
		return markQuote
	case id == "signature", id == "ms-outlook-mobile-signature", smart == "gmail_signature":
		return markSignature
	}
	for _, c := range strings.Fields(class) {
		switch {
		case c == "gmail_quote", c == "gmail_quote_container", c == "gmail_attr", c == "moz-cite-prefix",
			c == "protonmail_quote", strings.HasSuffix(c, "yahoo_quoted"),
			c == "gmail_signature_prefix": // the "-- " Gmail writes before the signature
			return markQuote
		case c == "gmail_signature", c == "moz-signature", c == "ms-outlook-mobile-signature":
			return markSignature
		}
	}
	return markNone
}

// prune removes the marked elements of doc, returning the text of the
// signatures among them and whether anything was removed.
func prune(doc *html.Node) (sigs []string, removed bool) {
	var drop []*html.Node
	var cut *html.Node
	stack := []*html.Node{doc}
walk:
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Type == html.ElementNode {
			switch markOf(n) {
			case markRest:
				cut = n
				break walk
			case markQuote:
				drop = append(drop, n)
				continue
			case markSignature:
				var b strings.Builder
				if err := html.Render(&b, n); err == nil {
					sigs = append(sigs, mailparse.HTMLToText(b.String()))
				}
				drop = append(drop, n)
				continue
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	for _, n := range drop {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
	if cut != nil {
		for x := cut; x.Parent != nil; x = x.Parent {
			for s := x.NextSibling; s != nil; {
				next := s.NextSibling
				x.Parent.RemoveChild(s)
				s = next
			}
		}
		cut.Parent.RemoveChild(cut)
	}
	return sigs, len(drop) > 0 || cut != nil
}
