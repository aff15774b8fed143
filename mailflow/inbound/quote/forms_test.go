package quote

import (
	"strings"
	"testing"
)

// The quote headers, separators, phone lines and list footers of the
// major clients in the languages they ship in. The samples are Parley's
// own text, written in each client's shape; every one ends with history
// ("old …") that must be folded away.

const newText = "Agreed, let us ship it on Friday."

type form struct{ name, in, sig string }

// check splits newText + "\n\n" + in and expects newText back, the
// signature sig folded and the history gone.
func check(t *testing.T, forms []form) {
	t.Helper()
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			r := Split(newText + "\n\n" + f.in)
			if r.Text != newText || r.Signature != f.sig || !r.Quoted {
				t.Errorf("Split =\n%+v\nwant Text %q, Signature %q", r, newText, f.sig)
			}
			if strings.Contains(r.Text+r.Signature, "old") {
				t.Errorf("history shown: %+v", r)
			}
		})
	}
}

func TestOutlookHeaderBlocks(t *testing.T) {
	check(t, []form{
		{"english", "________________________________\nFrom: Ann Lee <ann@example.org>\nSent: Monday, March 4, 2024 9:00 AM\nTo: dev@lists.example.org\nSubject: RE: release\n\nold text\n", ""},
		{"english bold marks", "*From:* Ann Lee [mailto:ann@example.org]\n*Sent:* Monday, March 4, 2024 9:00 AM\n*To:* dev@lists.example.org\n*Subject:* release\n\nold text\n", ""},
		{"english fields apart", "From: Ann Lee\n\nSent: Monday, March 4, 2024 9:00 AM\n\nTo: dev@lists.example.org\n\nSubject: release\n\nold text\n", ""},
		{"outlook for mac", "From: Ann Lee <ann@example.org>\nDate: Monday, 4 March 2024 at 09:00\nTo: dev@lists.example.org\nSubject: Re: release\n\nold text\n", ""},
		{"french", "De : Ann Lee <ann@example.org>\nEnvoyé : lundi 4 mars 2024 09:00\nÀ : dev@lists.example.org\nObjet : RE: sortie\n\nold texte\n", ""},
		{"french envoyé le, indented", "   De : Ann Lee<mailto:ann@example.org>\n   Envoyé le :lundi 4 mars 2024 09:00\n   À : dev@lists.example.org\n   Objet :sortie\n\nold texte\n", ""},
		{"french webmail", "====\n\nMessage du : 04/03/2024 09:00\nDe : \"Ann Lee \" <ann@example.org>\nA : dev@lists.example.org\nCopie à : \nSujet : sortie\n\nold texte\n", ""},
		{"german", "Von: Ann Lee <ann@example.org>\nGesendet: Montag, 4. März 2024 09:00\nAn: dev@lists.example.org\nBetreff: AW: Veröffentlichung\n\nold Text\n", ""},
		{"german webmail, date first", "Gesendet: Montag, 04. März 2024 um 09:00 Uhr\nVon: \"Ann Lee\" <ann@example.org>\nAn: dev@lists.example.org\nBetreff: Re: Veröffentlichung\n\nold Text\n", ""},
		{"spanish", "De: Ann Lee <ann@example.org>\nEnviado el: lunes, 4 de marzo de 2024 9:00\nPara: dev@lists.example.org\nAsunto: RE: versión\n\nold texto\n", ""},
		{"italian", "Da: Ann Lee <ann@example.org>\nInviato: lunedì 4 marzo 2024 09:00\nA: dev@lists.example.org\nOggetto: R: rilascio\n\nold testo\n", ""},
		{"portuguese", "De: Ann Lee <ann@example.org>\nEnviado: segunda-feira, 4 de março de 2024 09:00\nPara: dev@lists.example.org\nAssunto: RE: versão\n\nold texto\n", ""},
		{"dutch", "Van: Ann Lee <ann@example.org>\nVerzonden: maandag 4 maart 2024 09:00\nAan: dev@lists.example.org\nOnderwerp: RE: uitgave\n\nold tekst\n", ""},
		{"danish", "Fra: Ann Lee <ann@example.org>\nSendt: 4. marts 2024 09:00\nTil: dev@lists.example.org\nEmne: SV: udgivelse\n\nold tekst\n", ""},
		{"swedish", "Från: Ann Lee <ann@example.org>\nSkickat: den 4 mars 2024 09:00\nTill: dev@lists.example.org\nÄmne: SV: utgåva\n\nold text\n", ""},
		{"norwegian", "Fra: Ann Lee <ann@example.org>\nSendt: mandag 4. mars 2024 09:00\nTil: dev@lists.example.org\nKopi: ops@example.org\nEmne: SV: utgivelse\n\nold tekst\n", ""},
		{"finnish", "Lähettäjä: Ann Lee <ann@example.org>\nLähetetty: maanantai 4. maaliskuuta 2024 9.00\nVastaanottaja: dev@lists.example.org\nAihe: VS: julkaisu\n\nold teksti\n", ""},
		{"polish", "Od: Ann Lee <ann@example.org>\nWysłano: poniedziałek, 4 marca 2024 09:00\nDo: dev@lists.example.org\nTemat: RE: wydanie\n\nold tekst\n", ""},
		{"czech", "Od: Ann Lee <ann@example.org>\nOdesláno: pondělí 4. března 2024 9:00\nKomu: dev@lists.example.org\nPředmět: RE: vydání\n\nold text\n", ""},
		{"russian", "От: Ann Lee <ann@example.org>\nОтправлено: 4 марта 2024 г. 9:00\nКому: dev@lists.example.org\nТема: RE: выпуск\n\nold текст\n", ""},
		{"turkish", "Kimden: Ann Lee <ann@example.org>\nGönderildi: 4 Mart 2024 Pazartesi 09:00\nKime: dev@lists.example.org\nKonu: YNT: sürüm\n\nold metin\n", ""},
		{"hungarian", "Feladó: Ann Lee <ann@example.org>\nElküldve: 2024. március 4. 9:00\nCímzett: dev@lists.example.org\nTárgy: VS: kiadás\n\nold szöveg\n", ""},
		{"japanese", "差出人: Ann Lee <ann@example.org>\n送信日時: 2024年3月4日 9:00\n宛先: dev@lists.example.org\n件名: RE: リリース\n\nold 本文\n", ""},
		{"chinese", "发件人: Ann Lee <ann@example.org>\n发送时间: 2024年3月4日 9:00\n收件人: dev@lists.example.org\n主题: 回复: 发布\n\nold 正文\n", ""},
		{"chinese traditional", "寄件者: Ann Lee <ann@example.org>\n寄件日期: 2024年3月4日 上午 09:00\n收件者: dev@lists.example.org\n主旨: 回覆: 發佈\n\nold 內文\n", ""},
		{"korean", "보낸 사람: Ann Lee <ann@example.org>\n보낸 날짜: 2024년 3월 4일 월요일 오전 9:00\n받는 사람: dev@lists.example.org\n제목: RE: 출시\n\nold 본문\n", ""},
		{"sender with address and a date only", "From: Ann Lee <ann@example.org>\nDate: Monday, 4 March 2024 at 09:00\n\nold text\n", ""},
		{"sender split over two lines", "From: Ann Lee <\nann@example.org>\nSent: Monday, March 4, 2024 9:00 AM\nTo: dev@lists.example.org\nSubject: RE: release\n\nold text\n", ""},
		{"wrapped recipients", "From: Ann Lee <ann@example.org>\nSent: Monday, March 4, 2024 9:00 AM\nTo: dev@lists.example.org; bob@example.org;\n carol@example.org\nCc: ops@example.org\nSubject: RE: release\n\nold text\n", ""},
	})
}

func TestOriginalMessageSeparators(t *testing.T) {
	var forms []form
	for _, sep := range []string{
		"-----Original Message-----", "----- Original Message -----", "-----original message-----",
		"-------- Message d'origine --------", "-------- Message d’origine --------", "-----Ursprüngliche Nachricht-----",
		"-------- Mensaje original --------", "-------- Messaggio originale --------",
		"-------- Mensagem original --------", "-------- Oorspronkelijk bericht --------",
		"-------- Oprindelig besked --------", "-------- Opprinnelig melding --------",
		"-------- Ursprungligt meddelande --------", "-------- Alkuperäinen viesti --------",
		"-------- Wiadomość oryginalna --------", "-------- Původní zpráva --------",
		"-------- Исходное сообщение --------", "-------- 原始邮件 --------", "-------- 元のメッセージ --------",
		"---------- Forwarded message ---------", "Begin forwarded message:", "Anfang der weitergeleiteten Nachricht:",
		"Début du message réexpédié :", "----- Forwarded by Ann Lee/ACME on 04/03/2024 09:00 AM -----",
	} {
		forms = append(forms, form{sep, sep + "\nold text without a header\n", ""})
	}
	check(t, forms)
}

func TestAttributionLines(t *testing.T) {
	check(t, []form{
		{"gmail", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org> wrote:\n\n> old text\n", ""},
		{"gmail wrapped", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee with a long name <\nann.lee@department.example.org> wrote:\n\n> old text\n", ""},
		{"gmail wrapped before the verb", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org>\nwrote:\n\n> old text\n", ""},
		{"no colon, unquoted", "On Mon, 04 Mar 2024 09:00:00 +0100 Ann Lee <ann@example.org> wrote\n\nold text\n", ""},
		{"no colon, wrapped", "On Mon, 04 Mar 2024 09:00:00 +0100 Ann Lee <\nann@example.org> wrote\n\nold text\n", ""},
		{"zoho", "---- On Mon, 04 Mar 2024 09:00:00 +0100 Ann Lee <ann@example.org> wrote ----\n\nold text\n", ""},
		{"zoho french", "---- Le lun., 04 mars 2024 09:00:00 +0100 Ann Lee <ann@example.org> a écrit ----\n\nold texte\n", ""},
		{"yahoo unquoted", "On Monday, March 4, 2024 at 09:00:00 AM GMT+1, Ann Lee <ann@example.org> wrote:\n\n\nold text\n", ""},
		{"thunderbird", "On 04/03/2024 09:00, Ann Lee wrote:\n> old text\n", ""},
		{"sender and address, unquoted", "Ann Lee <ann@example.org> wrote:\nold text\n", ""},
		{"wrapped after the time", "On Mon, Mar 4, 2024 at 9:00 AM\nAnn Lee <ann@example.org> wrote:\n\n> old text\n", ""},
		{"yandex", "04.03.2024, 09:00, \"Ann Lee\" <ann@example.org>:\nold text\n", ""},
		{"gmail, older date form", "2024-03-04 9:00 GMT+01:00 Ann Lee <ann@example.org>:\n\n> old text\n", ""},
		{"horde", "Quoting Ann Lee <ann@example.org>:\n\n> old text\n", ""},
		{"horde german", "Zitat von Ann Lee <ann@example.org>:\n\n> old Text\n", ""},
		{"lotus notes", "Ann Lee <ann@example.org> wrote on 04/03/2024 09:00:00 AM:\n\n> old text\n", ""},
		{"french, no-break space", "Le lun. 4 mars 2024 à 09:00, Ann Lee <ann@example.org> a écrit\u00a0:\n\n> old texte\n", ""},
		{"french wrapped in the verb", "Le lun. 4 mars 2024 à 09:00, Ann Lee <ann@example.org> a\nécrit :\n\n> old texte\n", ""},
		{"thunderbird german", "Am 04.03.24 um 09:00 schrieb Ann Lee:\n> old Text\n", ""},
		{"apple mail", "> On 4 Mar 2024, at 09:00, Ann Lee <ann@example.org> wrote:\n> \n> old text\n", ""},
		{"french", "Le lun. 4 mars 2024 à 09:00, Ann Lee <ann@example.org> a écrit :\n\n> old texte\n", ""},
		{"german", "Am Mo., 4. März 2024 um 09:00 Uhr schrieb Ann Lee <ann@example.org>:\n\n> old Text\n", ""},
		{"spanish", "El lun, 4 mar 2024 a las 9:00, Ann Lee (<ann@example.org>) escribió:\n\n> old texto\n", ""},
		{"italian", "Il giorno lun 4 mar 2024 alle ore 09:00 Ann Lee <ann@example.org> ha scritto:\n\n> old testo\n", ""},
		{"italian wrapped", "Il lunedì 4 marzo 2024, Ann Lee <ann@example.org>\nha scritto:\n> old testo\n", ""},
		{"portuguese", "Em seg., 4 de mar. de 2024 às 09:00, Ann Lee <ann@example.org> escreveu:\n\n> old texto\n", ""},
		{"dutch", "Op ma 4 mrt 2024 om 09:00 schreef Ann Lee <ann@example.org>:\n\n> old tekst\n", ""},
		{"danish", "Den man. 4. mar. 2024 kl. 09.00 skrev Ann Lee <ann@example.org>:\n\n> old tekst\n", ""},
		{"swedish", "Den mån 4 mars 2024 kl 09:00 skrev Ann Lee <ann@example.org>:\n\n> old text\n", ""},
		{"norwegian", "man. 4. mar. 2024 kl. 09:00 skrev Ann Lee <ann@example.org>:\n\n> old tekst\n", ""},
		{"finnish", "ma 4. maalisk. 2024 klo 9.00 Ann Lee (ann@example.org) kirjoitti:\n\n> old teksti\n", ""},
		{"polish", "pon., 4 mar 2024 o 09:00 Ann Lee <ann@example.org> napisał(a):\n\n> old tekst\n", ""},
		{"polish pisze", "W dniu 4.03.2024 o 09:00, Ann Lee pisze:\n> old tekst\n", ""},
		{"czech", "po 4. 3. 2024 v 9:00 odesílatel Ann Lee <ann@example.org> napsal:\n\n> old text\n", ""},
		{"russian", "пн, 4 мар. 2024 г. в 09:00, Ann Lee <ann@example.org>:\n\n> old текст\n", ""},
		{"russian mail.ru", "Понедельник, 4 марта 2024, 9:00 +03:00 от Ann Lee <ann@example.org>:\n\nold текст\n", ""},
		{"japanese", "2024年3月4日(月) 9:00 Ann Lee <ann@example.org>:\n\n> old 本文\n", ""},
		{"japanese wrote", "2024年3月4日(月) 9:00 に Ann Lee <ann@example.org> が書きました:\n\n> old 本文\n", ""},
		{"chinese", "Ann Lee <ann@example.org> 于2024年3月4日周一 09:00写道：\n\n> old 正文\n", ""},
		{"korean", "2024년 3월 4일 (월) 오전 9:00, Ann Lee <ann@example.org>님이 작성:\n\n> old 본문\n", ""},
		{"turkish", "Ann Lee <ann@example.org>, 4 Mar 2024 Pzt, 09:00 tarihinde şunu yazdı:\n\n> old metin\n", ""},
	})
}

func TestPhoneLines(t *testing.T) {
	var forms []form
	for _, l := range []string{
		"Sent from my iPhone", "Sent from my Galaxy", "Sent from Mail for Windows", "Get Outlook for iOS<https://aka.ms/o0ukef>",
		"Envoyé de mon iPhone", "Envoyé à partir de Outlook pour Android", "Von meinem iPhone gesendet",
		"Gesendet von Outlook für Android<https://aka.ms/ghei36>", "Enviado desde mi iPhone", "Enviado do meu iPhone",
		"Inviato da iPhone", "Verzonden vanaf mijn iPhone", "Sendt fra min iPhone", "Skickat från min iPhone",
		"Lähetetty iPhonesta", "Wysłane z iPhone'a", "Odesláno z iPhonu", "Отправлено с iPhone", "iPhoneから送信",
		"发自我的iPhone", "iPhone'umdan gönderildi", "내 iPhone에서 보냄",
		"Sent from my iPhone, please excuse typos", "Sent via the Samsung Galaxy S22, an AT&T 5G smartphone",
		"Sent from my Verizon, Samsung Galaxy smartphone", "Sent from my phone. Please excuse my brevity.",
	} {
		forms = append(forms,
			form{l + " at the end", l + "\n", l},
			// A phone's line followed by unquoted history: the header of
			// the message replied to was lost.
			form{l + " before unquoted history", l + "\n\nold text\nold more\n", l},
			form{l + " before a header block", l + "\n________________________________\nFrom: Ann Lee <ann@example.org>\nSent: Monday, March 4, 2024 9:00 AM\nTo: dev@lists.example.org\nSubject: RE: release\n\nold text\n", l},
		)
	}
	check(t, forms)
}

func TestListFooters(t *testing.T) {
	check(t, []form{
		{"mailman 2", "_______________________________________________\ndev mailing list\ndev@lists.example.org\nhttps://lists.example.org/mailman/listinfo/dev\n", ""},
		{"mailman 2 short rule", "__\ndev mailing list\ndev@lists.example.org\nhttps://lists.example.org/mailman/listinfo/dev\n", ""},
		{"mailman 3", "_______________________________________________\ndev mailing list -- dev@lists.example.org\nTo unsubscribe send an email to dev-leave@lists.example.org\n", ""},
		{"google groups", "-- \nYou received this message because you are subscribed to the Google Groups \"dev\" group.\nTo unsubscribe from this group and stop receiving emails from it, send an email to dev+unsubscribe@googlegroups.com.\nTo view this discussion visit https://groups.google.com/d/msgid/dev/abc.\n", ""},
		{"groups.io", "-=-=-=-=-=-=-=-=-=-=-=-\nGroups.io Links: You receive all messages sent to this group.\nView/Reply Online (#12): https://groups.io/g/dev/message/12\nUnsubscribe: https://groups.io/g/dev/unsub\n-=-=-=-=-=-=-=-=-=-=-=-\n", ""},
		{"parley's own under the quote", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org> wrote:\n> old text\n\n-- \nYou receive every message of dev (dev@lists.example.org)\nbecause you are a member of this group.\n\nView this thread on the web:\nhttps://lists.example.org/t/1\n", ""},
		{"mailman under the quote", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org> wrote:\n> old text\n\n_______________________________________________\ndev mailing list\ndev@lists.example.org\n", ""},
		{"google groups without a rule", "You received this message because you are subscribed to the Google Groups \"dev\" group.\nTo unsubscribe from this group, send an email to dev+unsubscribe@googlegroups.com.\n", ""},
		{"discourse previous replies", "---\n*Previous Replies*\n\nold reply\n", ""},
		{"gmail's hidden quote", "[Quoted text hidden]\n", ""},
		{"gmail's shown quote", "- Show quoted text -\n\nold text\n", ""},
		{"help desk marker", "##- Please type your reply above this line -##\n\nold ticket text\n", ""},
		{"disclaimer under the quote", "Il giorno lun 4 mar 2024 alle ore 09:00 Ann Lee <ann@example.org> ha scritto:\n> old testo\n\n-- \n\n______________\n\nThis message is confidential.\n", "-- \n\n______________\n\nThis message is confidential."},
	})
}

func TestSignatures(t *testing.T) {
	check(t, []form{
		{"two underscores", "__\nAnn Lee\nExample Corp\n", "__\nAnn Lee\nExample Corp"},
		{"phone line and an apology under it", "Sent from my iPhone\nPlease excuse typos.\n", "Sent from my iPhone\nPlease excuse typos."},
		{"signature over a list footer", "-- \nAnn Lee\n\n_______________________________________________\ndev mailing list\ndev@lists.example.org\n", "-- \nAnn Lee"},
		{"bottom post", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org> wrote:\n> old text\n> -- \n> old Ann\n", ""},
	})
}

func TestLostQuoteMarks(t *testing.T) {
	check(t, []form{
		{"re-wrapped lines between quotes", "On Mon, Mar 4, 2024 at 9:00 AM Ann Lee <ann@example.org> wrote:\n> old text that the client wrapped at the width of the line it was given\nand old text that lost its mark\n> old text again\n", ""},
	})
}

// TestNotHistory keeps text that only looks like the shapes above.
func TestNotHistory(t *testing.T) {
	for name, in := range map[string]string{
		"prose ending in wrote":      "On Monday I wrote\nthe plan down.",
		"a dated prose line":         "On 4 March 2024 the team wrote\nthe plan down.",
		"phone line as the top":      "Sent from my iPhone\n\nbut I typed more",
		"phone words in prose":       "Sent from my desk, which is easier than my phone.",
		"a from line":                "From: the team\nWe shipped.",
		"inline answer":              "> Does it build on a Raspberry Pi with the default image and settings?\nYes.\n> And on ARM?",
		"mailing list in prose":      "Ask on the mailing list.\nIt is friendly.",
		"a short separator in prose": "Part one\n\n==\n\nPart two",
	} {
		t.Run(name, func(t *testing.T) {
			r := Split(in)
			want := in
			if name == "inline answer" {
				want = "Yes."
			}
			if r.Text != want {
				t.Errorf("Text = %q, want %q", r.Text, want)
			}
		})
	}
}

func TestRightToLeftAttributions(t *testing.T) {
	// Gmail wraps names and addresses in direction marks in Hebrew and
	// Arabic; the line still ends with ">:" once they are dropped.
	check(t, []form{
		{"hebrew", "\u202bבתאריך יום ב׳, 4 במרץ 2024 ב-9:00 מאת \u202aAnn Lee\u202c\u200f <\u202aann@example.org\u202c\u200f>:\u202c\n\n> old text\n", ""},
		{"arabic", "\u202bفي الاثنين، 4 مارس 2024 في 9:00 ص تمت كتابة ما يلي بواسطة \u202aAnn Lee\u202c\u200f <\u202aann@example.org\u202c\u200f>:\u202c\n\n> old text\n", ""},
		{"vietnamese", "Vào Th 2, 4 thg 3, 2024 vào lúc 09:00 Ann Lee <ann@example.org> đã viết:\n\n> old text\n", ""},
		{"indonesian", "Pada tanggal Sen, 4 Mar 2024 pukul 09.00, Ann Lee <ann@example.org> menulis:\n\n> old text\n", ""},
		{"ukrainian", "пн, 4 бер. 2024 р. о 09:00 Ann Lee <ann@example.org> пише:\n\n> old text\n", ""},
		{"gmail for android, german", "Ann Lee <ann@example.org> schrieb am Mo., 4. März 2024, 09:00:\n\n> old Text\n", ""},
		{"gmail for android, dutch", "Ann Lee <ann@example.org> schreef op ma 4 mrt. 2024 09:00:\n\n> old tekst\n", ""},
		{"gmail, hungarian", "Ann Lee <ann@example.org> ezt írta (időpont: 2024. márc. 4., H, 9:00):\n\n> old szöveg\n", ""},
	})
}

func TestClientHTML(t *testing.T) {
	cases := []struct{ name, in, sig string }{
		{"outlook desktop", `<div class=WordSection1><p class=MsoNormal>` + newText + `<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'><p class=MsoNormal><b>From:</b> Ann Lee &lt;ann@example.org&gt; <br><b>Sent:</b> Monday, March 4, 2024 9:00 AM<br><b>To:</b> dev@lists.example.org<br><b>Subject:</b> release<o:p></o:p></p></div></div><p class=MsoNormal>old text</p></div>`, ""},
		{"outlook desktop, german", `<p class=MsoNormal>` + newText + `</p><div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>Von:</b> Ann Lee<br><b>Gesendet:</b> Montag, 4. März 2024 09:00<br><b>An:</b> dev@lists.example.org<br><b>Betreff:</b> Veröffentlichung</p></div><p>old Text</p>`, ""},
		{"apple mail", `<div>` + newText + `<br><div><br><blockquote type="cite"><div>On 4 Mar 2024, at 09:00, Ann Lee &lt;ann@example.org&gt; wrote:</div><br><div>old text</div></blockquote></div></div>`, ""},
		{"ios mail", `<div dir="ltr">` + newText + `</div><div dir="ltr"><br><div id="AppleMailSignature" dir="ltr">Sent from my iPhone</div><div dir="ltr"><br><blockquote type="cite">On 4 Mar 2024, at 09:00, Ann Lee &lt;ann@example.org&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">old text</div></blockquote></div>`, "Sent from my iPhone"},
		{"outlook on the web, re-quoted ids", `<div>` + newText + `</div><div id="x_ms-outlook-mobile-signature">Get Outlook for Android</div><hr style="display:inline-block;width:98%"><div id="x_divRplyFwdMsg"><b>From:</b> Ann Lee</div><div>old text</div>`, "Get Outlook for Android"},
		{"windows mail", `<html><body><div>` + newText + `</div><div style="FONT: 10pt arial">----- Original Message -----</div><div style="BACKGROUND: #e4e4e4; FONT: 10pt arial"><b>From:</b> <a href="mailto:ann@example.org">Ann Lee</a></div><div><b>To:</b> dev</div><div><b>Sent:</b> Monday, March 4, 2024 9:00 AM</div><div><b>Subject:</b> release</div><div><br></div><div>old text</div></body></html>`, ""},
		{"hotmail", `<div dir="ltr">` + newText + `<br><br><div><hr id="stopSpelling">Date: Mon, 4 Mar 2024 09:00:00 +0100<br>From: ann@example.org<br>To: dev@lists.example.org<br>Subject: release<br><br>old text</div></div>`, ""},
		{"yandex", `<div>` + newText + `</div><div>&nbsp;</div><div>04.03.2024, 09:00, "Ann Lee" &lt;ann@example.org&gt;:</div><blockquote type="cite"><div>old text</div></blockquote>`, ""},
		{"old outlook header div", `<p>` + newText + `</p><div class="OutlookMessageHeader"><hr tabindex="-1"><font face="Tahoma"><b>From:</b> Ann Lee [mailto:ann@example.org]<br><b>Sent:</b> Monday, March 4, 2024 9:00 AM<br><b>To:</b> dev<br><b>Subject:</b> release<br></font><br></div><div>old text</div>`, ""},
		{"roundcube", `<p>` + newText + `</p><p>Am 04.03.2024 09:00, schrieb Ann Lee:</p><blockquote type="cite" style="padding-left:5px">old Text</blockquote>`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := SplitHTML(c.in)
			if r.Text != newText || r.Signature != c.sig || !r.Quoted {
				t.Errorf("SplitHTML =\n%+v\nwant Text %q, Signature %q", r, newText, c.sig)
			}
		})
	}
}
