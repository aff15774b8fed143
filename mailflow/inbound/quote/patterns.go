package quote

// The words mail clients write around a quote, per language, as data.
// Every list is lowercased; the code that reads them lowercases the line.
// They come from the clients' own output (Outlook, Gmail, Apple Mail,
// Thunderbird, Yahoo, Zoho, mobile apps) in the languages they ship in.

// endVerbs end an attribution, before its colon: "On …, Ann wrote:".
var endVerbs = []string{
	"wrote", "writes", "said", // English
	"a écrit", "a ecrit", // French
	"schrieb", "hat geschrieben", // German
	"escribió", "escribio", // Spanish
	"ha scritto", "scrisse", // Italian
	"escreveu",                    // Portuguese
	"schreef", "heeft geschreven", // Dutch
	"skrev", "skrifaði", // Danish, Norwegian, Swedish, Icelandic
	"kirjoitti",                                             // Finnish
	"napisał", "napisała", "napisał(a)", "napisal", "pisze", // Polish
	"написал", "написала", "написал(а)", "написав", // Russian, Ukrainian
	"napsal", "napsala", "napísal", "napísala", // Czech, Slovak
	"írta", "a scris", "yazdı", "έγραψε", "kirjutas", "rašė", "rakstīja", "je napisal", "je napisao",
	"пише", "đã viết", "menulis", "va escriure", "כתב", "كتب",
	"のメッセージ", "のメール", "が書きました", "は書きました", // Japanese
	"写道", "寫道", "작성", "님이 작성", // Chinese, Korean
}

// midVerbs stand inside an attribution, which then ends with the
// sender: "Am 1.2.2024 um 10:00 schrieb Max <max@example.de>:", "Op …
// schreef …:", "Den … skrev …:".
var midVerbs = []string{
	" schrieb ", " schreef ", " skrev ", " wrote ", " a écrit ", " escribió ", " escreveu ",
	" ha scritto ", " napisał", " написал", " kirjoitti ", " napsal", " írta ",
	"が書きました", "写道", "寫道",
}

// leads start an attribution in the languages that put the date first:
// "On", "Am", "Le", "El", "Il giorno", "Em", "Op", "Den", "W dniu", …
var leads = []string{
	"on ", "am ", "le ", "el ", "il ", "em ", "op ", "den ", "på ", "w dniu ", "dnia ", "dne ",
	"v ", "в ", "στις ", "vào ", "pada ",
}

// originalMessage are the words between the dashes of "-----Original
// Message-----" and of the forward separators (a forwarded message is
// history too, folded like a quote).
var originalMessage = set(
	"original message", "reply message", "forwarded message", "begin forwarded message",
	"ursprüngliche nachricht", "originalnachricht", "original-nachricht", "weitergeleitete nachricht",
	"message d'origine", "message original", "message transféré", "courriel original",
	"mensaje original", "mensaje reenviado",
	"messaggio originale", "messaggio inoltrato",
	"mensagem original", "mensagem encaminhada",
	"oorspronkelijk bericht", "origineel bericht", "doorgestuurd bericht",
	"oprindelig besked", "oprindelig meddelelse", "original meddelelse", "videresendt besked",
	"opprinnelig melding", "videresendt melding",
	"ursprungligt meddelande", "originalmeddelande", "vidarebefordrat meddelande",
	"alkuperäinen viesti", "välitetty viesti",
	"wiadomość oryginalna", "oryginalna wiadomość", "wiadomość przekazana",
	"původní zpráva", "pôvodná správa", "přeposlaná zpráva",
	"исходное сообщение", "пересылаемое сообщение", "оригинальное сообщение",
	"eredeti üzenet", "mesaj original", "orijinal mesaj", "orijinal ileti", "αρχικό μήνυμα",
	"元のメッセージ", "転送されたメッセージ", "原始邮件", "原始郵件", "转发的邮件", "원본 메시지", "전달된 메시지",
	// Apple Mail's forward line, without dashes, in its languages.
	"anfang der weitergeleiteten nachricht", "début du message réexpédié", "début du message transféré",
	"inicio del mensaje reenviado", "inizio messaggio inoltrato", "início da mensagem reencaminhada",
	"begin doorgestuurd bericht", "start på videresendt besked", "start på videresendt melding",
	"vidarebefordrat mejl",
)

// quotingLeads open the attribution of webmails that name the sender
// first: Horde's "Quoting Ann <ann@example.org>:" and its translations.
var quotingLeads = []string{"quoting ", "zitat von ", "citation ", "cita de ", "citando ", "cytuję ", "цитата "}

// The labels of the header block Outlook, webmails and phones write
// above the message they reply to ("From: … Sent: … To: … Subject: …"),
// per field.
var (
	fromLabels = set("from", "de", "von", "van", "da", "från", "fra", "frá", "от", "від", "od",
		"差出人", "发件人", "寄件者", "寄件人", "보낸 사람", "lähettäjä", "feladó", "kimden", "από",
		"de la", "expéditeur", "remitente", "mittente", "remetente", "afzender", "absender")
	dateLabels = set("sent", "date", "envoyé", "envoye", "envoyé le", "envoyé :", "message du",
		"gesendet", "datum", "enviado", "enviada", "enviado el", "enviado em", "enviada em", "fecha",
		"inviato", "inviato il", "data", "verzonden", "verstuurd", "skickat", "sendt", "lähetetty",
		"päivämäärä", "dato", "отправлено", "надіслано", "дата", "wysłano", "wysłane", "odesláno",
		"送信日時", "日付", "发送时间", "發送時間", "日期", "寄件日期", "傳送時間", "时间", "보낸 날짜",
		"elküldve", "dátum", "tarih", "gönderildi", "στάλθηκε", "ημερομηνία", "trimis")
	toLabels = set("to", "à", "a", "an", "aan", "para", "till", "til", "кому", "do", "komu", "宛先",
		"收件人", "收件者", "받는 사람", "vastaanottaja", "címzett", "kime", "προς", "către", "destinataire",
		"cc", "bcc", "copie à", "kopie", "kopia", "kopi", "kopio", "копия", "dw", "抄送", "副本",
		"참조", "másolat", "bilgi", "reply-to", "répondre à")
	subjectLabels = set("subject", "objet", "sujet", "betreff", "asunto", "oggetto", "onderwerp",
		"ämne", "emne", "assunto", "тема", "temat", "předmět", "predmet", "件名", "主题", "主旨", "主題",
		"제목", "aihe", "tárgy", "konu", "θέμα", "subiect", "efni")
)

// mobilePrefixes start the line a phone or app appends to what was
// typed ("Sent from my iPhone", "Envoyé de mon iPhone", "Von meinem
// iPhone gesendet", "Get Outlook for Android"), lowercased.
var mobilePrefixes = []string{
	"sent from ", "sent via ", "sent with ", "sent using ", "sent on the go", "get outlook for ",
	"envoyé de mon ", "envoyé depuis ", "envoyé à partir de ", "envoye de mon ", "envoyé avec ",
	"obtenez outlook pour ", "télécharger outlook pour ",
	"von meinem ", "gesendet von ", "gesendet mit ", "gesendet vom ", "holen sie sich outlook für ",
	"enviado desde ", "enviado con ", "obtener outlook para ",
	"enviado do meu ", "enviado de meu ", "enviado do ", "obter o outlook para ", "baixe o outlook para ",
	"inviato da ", "inviato dal mio ", "inviato con ", "scarica outlook per ",
	"verzonden vanaf mijn ", "verstuurd vanaf mijn ", "verzonden met ", "verzonden vanuit ",
	"outlook voor ",
	"skickat från min ", "skickat från ", "hämta outlook för ",
	"sendt fra min ", "sendt fra ", "hent outlook til ", "få outlook til ",
	"lähetetty ", "hanki outlook ",
	"отправлено с ", "отправлено из ", "надіслано з ",
	"wysłane z ", "wysłano z ", "odesláno z ", "odoslané z ", "elküldve ", "trimis de pe ",
	"发自我的", "从我的", "從我的", "送自我的", "寄自我的",
}

// mobileSuffixes end such a line in the languages that put the verb
// last: "iPhoneから送信", "iPhone'umdan gönderildi", "내 iPhone에서 보냄".
var mobileSuffixes = []string{
	"から送信", "から送信しました", "dan gönderildi", "den gönderildi", "에서 보냄",
}

// footerMarkers are phrases of the footers list managers glue under a
// message: Mailman 2 and 3, Google Groups, groups.io, Yahoo Groups,
// Discourse and Parley's own. They mark a footer under a rule or a "-- "
// line; the openers mark one on their own, being phrases no one writes
// in a message.
var (
	footerMarkers = []string{
		"mailing list", "/listinfo", "to unsubscribe", "unsubscribe:", "unsubscribe from this group",
		"you received this message because you are subscribed", "groups.io links",
		"you receive all messages sent to this group", "yahoo groups links", "visit topic",
		"because you are a member of this group", "view this thread on the web", "list-unsubscribe",
		"unsubscribe send an email to", "to leave this list", "reply to this email to respond",
		"reply to this email directly",
	}
	footerOpeners = []string{
		"you received this message because you are subscribed", "groups.io links:", "yahoo groups links",
		"because you are a member of this group", "to unsubscribe from this group",
		"to unsubscribe from these emails", "reply to this email to respond", "reply to this email directly",
	}
)

// historyMarkers are lines under which a notification's history or the
// part of it not to answer begins: Discourse's "Previous Replies",
// Gmail's "[Quoted text hidden]" and "- Show quoted text -" where
// copied text kept them. historyPhrases mark one anywhere in the line:
// the "reply above this line" of help desks.
var (
	historyMarkers = set("previous replies", "quoted text hidden", "show quoted text", "hide quoted text")
	historyPhrases = []string{"reply above this line", "write above this line"}
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
