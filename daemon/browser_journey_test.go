package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The journey of Connect's user guide and administrator guide, walked
// end to end in a real headless Chromium at a desktop and a phone width.
// Root, a superuser, creates a category and a group joined by request,
// edits it and uploads a file. Ada signs up, accepts the terms, confirms
// her address from the mail, fills in her profile and asks to join from
// Explore; so does Bob. Root approves both from the members page. Ada
// posts and changes her email setting on the group page and in My
// subscriptions; Bob replies and composes; Ada reads her inbox, archives,
// searches, flags Bob's reply, writes to the owners and browses the
// resources. Root keeps the flagged reply, makes Bob a moderator, becomes
// Ada and returns, and reads the dashboard, the reports, the flag log,
// tags, gallery and invitations. Ada leaves the group from her profile
// and deletes her account.
//
// People move only by clicking links and buttons: the one typed address
// is the start page, the others come from mail. Every page they see must
// load without a 4xx or 5xx answer (for the page or anything on it),
// without a console error or uncaught exception, and without anything
// wider than the screen.

const (
	jGroup    = "river-otters"
	jGroupNm  = "River Otters"
	jSubject  = "Otters below the mill"
	jAdaBody  = "Two otters fished below the old mill this morning, for almost an hour."
	jBobBody  = "Wonderful. I saw their slides on the north bank yesterday."
	jAdaEmail = "ada.journey@example.org"
	jAdaPass  = "quiet otter meadow 81"
)

// journeyTimeout bounds one width's journey in the browser.
const journeyTimeout = 5 * time.Minute

func TestBrowserJourney(t *testing.T) {
	chromium := browserExecPath(t)
	for _, width := range []int64{1280, 390} {
		t.Run(fmt.Sprintf("%dpx", width), func(t *testing.T) {
			w := startWeb(t, "")
			w.createUser(t, "root@example.org", "Root", bgPassword, true)
			w.createUser(t, "bob@example.org", "Bob", bgPassword, false)
			b := newBrowserWithin(t, chromium, w.url, journeyTimeout)
			root, ada, bob := journeyPerson(b, "Root", width), journeyPerson(b, "Ada", width), journeyPerson(b, "Bob", width)
			mail := &browserMailbox{dir: filepath.Join(w.dir, "outbox"), seen: map[string]bool{}}

			// Administrator guide: a category, a group, its settings, a file.
			root.logIn("root@example.org", "Root")
			jCreateCategory(root)
			jCreateGroup(root)
			jEditGroup(root)
			jUploadResource(root)

			// User guide: an account, a profile, finding a group.
			jSignUp(ada, mail)
			jProfile(ada)
			jAskToJoin(ada)
			bob.logIn("bob@example.org", "Bob")
			jAskToJoin(bob)

			// Administrator guide: the requests to join.
			jApproveRequests(root)

			// User guide: messages, the inbox, search, flags, owners, files.
			thread := jPost(ada)
			jGroupEmail(ada)
			jSubscriptions(ada)
			jReply(bob)
			jCompose(bob)
			jInbox(ada, thread)
			jSearch(ada, thread)
			jFlag(ada)
			jWriteToOwners(ada)
			jResources(ada)

			// Administrator guide: moderation, members, users, reports.
			jModerate(root)
			jMembers(root)
			jBecomeUser(root)
			jReports(root)

			// User guide: leaving, and the end of the account.
			jLeave(ada)
			jDeleteAccount(ada)
		})
	}
}

// jCreateCategory: Explore › Manage categories › a new category.
func jCreateCategory(p *jPerson) {
	p.clickNav("Explore", "/explore", "Explore groups")
	p.click(`//main//a[normalize-space()="Manage categories"]`, "/admin/categories", "Categories")
	p.do(p.fill("#name", "Wildlife"), p.fill("#slug", "wildlife"))
	p.press("Create the category", "/admin/categories", "The category Wildlife is created.")
}

// jCreateGroup: Explore › Create a group, joined by request, in the
// category.
func jCreateGroup(p *jPerson) {
	p.clickNav("Explore", "/explore", "Explore groups")
	p.click(`//main//a[normalize-space()="Create a group"]`, "/groups/new", "Who can join")
	p.do(
		p.fill("#name", jGroupNm),
		p.fill("#slug", jGroup),
		chromedp.SetValue(chromedp.CSS("#category"), "wildlife"),
		p.fill("#description", "Sightings of otters along the river: where, when and how many."),
		chromedp.Click(chromedp.Search(`//main//label[input[@name="join_policy" and @value="request"]]`)),
	)
	p.press("Create the group", "/g/"+jGroup, "Your group "+jGroupNm+" is created.", "You are a member (owner)")
}

// jEditGroup: the group page's Edit group, a new location.
func jEditGroup(p *jPerson) {
	p.click(`//main//a[normalize-space()="Edit group"]`, "/g/"+jGroup+"/edit", jGroupNm)
	p.do(p.fill("#display_location", "Lower river valley"))
	p.press("Save", "/g/"+jGroup, "Lower river valley")
}

// jUploadResource: the group's Upload a file, then the resource's page.
func jUploadResource(p *jPerson) {
	p.click(`//main//a[normalize-space()="Upload a file"]`, "/g/"+jGroup+"/resources/new", "Upload")
	p.do(
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{browserPNG(p.t, 120, 80)}),
		p.fill("#name", "Map of the otter holts"),
		p.fill("#tags", "maps"),
	)
	res := p.submit("Upload")
	p.page(res, "", "Map of the otter holts")
}

// jSignUp: the start page's Create an account, the terms, and the link
// in the confirmation mail.
func jSignUp(p *jPerson, mail *browserMailbox) {
	p.page(p.open("/"), "/", "Create an account")
	p.click(`//main//a[normalize-space()="Create an account"]`, "/signup", "Create your account")
	p.do(p.fill("#name", "Ada"), p.fill("#email", jAdaEmail), p.fill("#password", jAdaPass))
	p.press("Create account", "/terms", "Terms of service", "Taking part in groups")
	p.lacks("data directory", "terms.md")
	p.press("I accept the terms", "/", "Welcome, Ada", "Confirm your email address")

	body := mail.wait(p.browserSession, jAdaEmail, "Confirm your email address")
	res := p.open(browserLink(p.t, body, p.base+"/verify-email"))
	// The link confirms at once, or shows a page with a button that does.
	const button = `(//main//form[translate(@method,"POST","post")="post"]//button)[1]`
	if p.eval(`document.evaluate('`+button+`', document, null, XPathResult.BOOLEAN_TYPE, null).booleanValue ? "button" : ""`) != "" {
		res = p.follow(button)
	}
	p.page(res, "")
	if !strings.Contains(strings.ToLower(p.text()), "confirmed") {
		p.t.Fatalf("confirming the address did not say so; the page shows:\n%s", p.text())
	}
	p.lacks("Confirm your email address to post")
}

// jProfile: the account menu's Manage my account, a biography, Update,
// and the profile it leads to.
func jProfile(p *jPerson) {
	p.menu("Manage my account", "/account", "Manage my account")
	p.do(p.fill("#bio", "Counts otters for the river trust."))
	res := p.submit("Update")
	p.page(res, "", "Your profile is updated.", "Counts otters for the river trust.")
	if !regexp.MustCompile(`^/people/\d+$`).MatchString(browserPath(p.browserSession)) {
		p.t.Fatalf("Update led to %s, want the profile /people/<id>", browserPath(p.browserSession))
	}
}

// jAskToJoin: Explore from the start page, a search, and Ask to join on
// the group's card.
func jAskToJoin(p *jPerson) {
	p.click(`//header//a[contains(@class,"brand")]`, "/", "Welcome")
	p.click(`//main//a[normalize-space()="Explore groups"]`, "/explore", "Explore groups")
	p.do(p.fill("#q", "otters"))
	p.press("Search", "/explore", jGroupNm)
	res := p.follow(fmt.Sprintf(`//main//button[@aria-label="Ask to join %s"]`, jGroupNm))
	p.page(res, "", "Your request to join "+jGroupNm+" is sent.")
}

// jApproveRequests: the group from the start page, See all members, both
// requests ticked and approved at once.
func jApproveRequests(p *jPerson) {
	p.click(`//header//a[contains(@class,"brand")]`, "/", jGroupNm)
	p.click(fmt.Sprintf(`//main//a[normalize-space()=%q]`, jGroupNm), "/g/"+jGroup, "2 pending")
	p.click(`//main//a[normalize-space()="See all members"]`, "/g/"+jGroup+"/members", "Requests to join", "Ada", "Bob")
	p.do(chromedp.Click(chromedp.CSS(`input[aria-label="Select Ada"]`)), chromedp.Click(chromedp.CSS(`input[aria-label="Select Bob"]`)))
	p.press("Approve selected", "/g/"+jGroup+"/members", "3 members")
}

// jOpenGroup: the group, from the start page's subscriptions.
func jOpenGroup(p *jPerson) {
	p.click(`//header//a[contains(@class,"brand")]`, "/", jGroupNm)
	p.click(fmt.Sprintf(`//main//a[normalize-space()=%q]`, jGroupNm), "/g/"+jGroup, "You are a member")
}

// jPost: Start a conversation on the group page; returns the thread's path.
func jPost(p *jPerson) string {
	jOpenGroup(p)
	p.do(p.fill("#subject", jSubject), p.fill("#body", jAdaBody))
	res := p.submit("Post")
	thread := browserPath(p.browserSession)
	if !regexp.MustCompile(`^/g/` + jGroup + `/t/\d+$`).MatchString(thread) {
		p.t.Fatalf("posting led to %s, want /g/%s/t/<id>", thread, jGroup)
	}
	p.page(res, thread, jSubject, jAdaBody)
	return thread
}

// jGroupEmail: the group page's email setting, a daily digest.
func jGroupEmail(p *jPerson) {
	p.click(fmt.Sprintf(`//main//nav[contains(@class,"crumbs")]//a[normalize-space()=%q]`, jGroupNm), "/g/"+jGroup, jGroupNm)
	p.do(chromedp.SetValue(chromedp.CSS("#delivery"), "digest"))
	res := p.follow(`//main//section[@aria-labelledby="delivery-title"]//button[normalize-space()="Update"]`)
	p.page(res, "/g/"+jGroup)
	if v := p.value("#delivery"); v != "digest" {
		p.t.Fatalf("after Update, the group's email setting shows %q, want digest", v)
	}
}

// jSubscriptions: My profile › My subscriptions, a weekly digest.
func jSubscriptions(p *jPerson) {
	p.menu("My profile", "", "My subscriptions", jGroupNm)
	const sel = `//main//ul[contains(@class,"subscriptions")]//select`
	p.do(chromedp.SetValue(chromedp.Search(sel), "weekly"))
	res := p.follow(fmt.Sprintf(`//main//button[@aria-label="Save the email setting for %s"]`, jGroupNm))
	p.page(res, "", "Your email setting for "+jGroupNm+" is now:")
	if v := p.eval(`document.querySelector("main ul.subscriptions select").value`); v != "weekly" {
		p.t.Fatalf("after Save, My subscriptions shows %q for %s, want weekly", v, jGroupNm)
	}
}

// jReply: Bob opens the conversation from the group page and replies.
func jReply(p *jPerson) {
	jOpenGroup(p)
	p.click(fmt.Sprintf(`//main//h3/a[normalize-space()=%q]`, jSubject), "", jAdaBody)
	p.do(p.fill("#body", jBobBody))
	res := p.submit("Send reply")
	p.page(res, "", jBobBody)
}

// jCompose: Compose in the navigation, a new conversation in the group.
func jCompose(p *jPerson) {
	p.clickNav("Compose", "/compose", "Subject")
	p.do(
		chromedp.SetValue(chromedp.CSS("#group"), jGroup),
		p.fill("#subject", "Otter survey on Saturday"),
		p.fill("#body", "We meet at the mill bridge at seven. Bring binoculars."),
	)
	p.press("Send", "", "Otter survey on Saturday")
}

// jInbox: Messages, the unread thread, Back to Inbox; then the thread's
// Archive button.
func jInbox(p *jPerson, thread string) {
	p.clickNav("Messages", "/inbox", jSubject, "Otter survey on Saturday")
	p.click(fmt.Sprintf(`//main//a[contains(@class,"subject")][contains(.,%q)]`, jSubject), thread, jAdaBody, jBobBody)
	p.click(`//main//a[normalize-space()="Back to Inbox"]`, "/inbox", jSubject)
	p.click(`//main//a[contains(@class,"subject")][contains(.,"Otter survey on Saturday")]`, "", "Bring binoculars")
	p.press("Archive", "/inbox", "archived")
	p.lacks("Otter survey on Saturday")
}

// jSearch: the navigation's search box, and a result.
func jSearch(p *jPerson, thread string) {
	p.do(p.fill("#nav-q", "slides"))
	res := p.followDo(chromedp.Click(chromedp.Search(`//header//form[@role="search"]//button`)))
	p.page(res, "/search", "Results", jSubject)
	p.click(fmt.Sprintf(`//main//ol[contains(@class,"search-results")]//h3/a[normalize-space()=%q]`, jSubject), thread, jBobBody)
}

// jFlag: Ada flags Bob's reply from the thread.
func jFlag(p *jPerson) {
	res := p.follow(`(//main//a[contains(@class,"flag-link")])[last()]`)
	p.page(res, "", "Flag this message?", jBobBody)
	p.do(p.fill("#reason", "Not about otters at all."))
	res = p.submit("Flag the message")
	p.page(res, "", "moderators will review it")
	p.lacks(jBobBody)
}

// jWriteToOwners: the group page's Write to the owners.
func jWriteToOwners(p *jPerson) {
	jOpenGroup(p)
	p.click(`//main//a[normalize-space()="Write to the owners"]`, "/g/"+jGroup+"/contact-owners", "only to the owners")
	p.do(p.fill("#subject", "A holt on private land"), p.fill("#body", "May we survey the holt behind the mill?"))
	p.press("Send to the owners", "", "A holt on private land")
}

// jResources: the Resources page, as a grid and as a list.
func jResources(p *jPerson) {
	p.clickNav("Resources", "/resources", "Map of the otter holts")
	p.click(`//main//nav[contains(@class,"view-switch")]//a[normalize-space()="List"]`, "/resources", "Map of the otter holts", "Size")
	// The list is read without scrolling sideways, on a phone too.
	if w := p.eval(`(l => l.scrollWidth + " in " + l.clientWidth)(document.querySelector(".resource-list"))`); !jFits(w) {
		p.t.Errorf("at %d px the resources list is %s px wide: it scrolls sideways", p.width, w)
	}
	p.click(`//main//nav[contains(@class,"view-switch")]//a[normalize-space()="Grid"]`, "/resources", "Map of the otter holts")
}

// jFits reads "content in box" widths.
func jFits(widths string) bool {
	var content, box int
	_, err := fmt.Sscanf(widths, "%d in %d", &content, &box)
	return err == nil && content <= box
}

// jModerate: the group page's Moderation, the flagged reply kept.
func jModerate(p *jPerson) {
	p.click(`//header//a[contains(@class,"brand")]`, "/", "Welcome")
	p.click(fmt.Sprintf(`//main//a[normalize-space()=%q]`, jGroupNm), "/g/"+jGroup, jGroupNm)
	p.click(`//main//a[starts-with(normalize-space(),"Moderation")]`, "/g/"+jGroup+"/moderation", "Flagged messages", jBobBody)
	p.do(chromedp.Click(chromedp.Search(`//main//article[starts-with(@id,"flag-")]//label[starts-with(normalize-space(),"Keep")]`)))
	p.press("Save changes", "/g/"+jGroup+"/moderation", "No flagged messages.")
}

// jMembers: See all members, Bob made a moderator.
func jMembers(p *jPerson) {
	p.click(fmt.Sprintf(`//main//a[contains(normalize-space(),%q)]`, jGroupNm), "/g/"+jGroup, jGroupNm)
	p.click(`//main//a[normalize-space()="See all members"]`, "/g/"+jGroup+"/members", "Bob", "Ada")
	p.do(chromedp.SetValue(chromedp.Search(`//main//tr[td/a[normalize-space()="Bob"]]//select`), "moderator"))
	res := p.follow(`//main//tr[td/a[normalize-space()="Bob"]]//button[normalize-space()="Set role"]`)
	p.page(res, "/g/"+jGroup+"/members")
	if role := p.eval(`[...document.querySelectorAll("main tr")].find(r => r.innerText.includes("Bob")).cells[1].innerText`); role != "Moderator" {
		p.t.Fatalf("after Set role, Bob's role reads %q, want Moderator", role)
	}
}

// jBecomeUser: Admin › Users › Ada › Become user, and back.
func jBecomeUser(p *jPerson) {
	p.clickNav("Admin", "/admin/users", "Ada")
	p.click(`//main//table//a[normalize-space()="Ada"]`, "", jAdaEmail, "Ban user")
	p.press("Become user", "/", "You are now acting as Ada", "Welcome, Ada")
	res := p.followDo(chromedp.Click(chromedp.Search(`//button[starts-with(normalize-space(),"Return to your own account")]`)))
	p.page(res, "", "You are back in your own account.")
}

// jReports: Admin, the dashboard, the user and group reports, the flag log.
func jReports(p *jPerson) {
	p.clickNav("Admin", "/admin/users", "Ada")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Dashboard"]`, "/admin/dashboard", "Messages per day", "No data yet")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="User report"]`, "/admin/reports/users", "Ada", "Last login")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Group report"]`, "/admin/reports/groups", jGroupNm, "People posting", "Created by")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Flag log"]`, "/admin/flags", jSubject)
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Tags"]`, "/admin/tags", "maps")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Gallery"]`, "/admin/gallery", "Gallery")
	p.click(`//main//nav[contains(@class,"tabs")]//a[normalize-space()="Invite"]`, "/admin/invite", "Invite")
}

// jLeave: My profile's subscriptions, Leave, and the confirmation.
func jLeave(p *jPerson) {
	p.menu("My profile", "", "My subscriptions", jGroupNm)
	profile := browserPath(p.browserSession)
	p.click(fmt.Sprintf(`//main//a[@aria-label="Leave %s"]`, jGroupNm), "/g/"+jGroup+"/leave", "Leave "+jGroupNm+"?")
	p.press("Leave the group", profile, "You left "+jGroupNm+".")
	if p.eval(`document.querySelector("main ul.subscriptions") ? "listed" : ""`) != "" {
		p.t.Fatalf("the profile still lists a subscription after leaving:\n%s", p.text())
	}
}

// jDeleteAccount: Manage my account › Delete my account.
func jDeleteAccount(p *jPerson) {
	p.menu("Manage my account", "/account", "Manage my account")
	p.click(`//main//a[contains(normalize-space(),"Delete my account")]`, "/account/delete", "Delete my account")
	p.do(p.fill("#password", jAdaPass))
	res := p.submit("Delete my account for good")
	p.page(res, "", "deleted")
	p.lacks("Welcome, Ada")
}

// jPerson is one person's browser (a browser context of its own) at one
// screen width, which records what went wrong on its pages.
type jPerson struct {
	*browserSession
	name  string
	width int64

	mu       sync.Mutex
	problems []string // failed loads and console errors, not yet reported
}

func journeyPerson(b *browserSession, name string, width int64) *jPerson {
	t := b.t
	t.Helper()
	p := &jPerson{name: name, width: width}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	t.Cleanup(cancel)
	t.Cleanup(func() {
		if t.Failed() {
			if page, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`)); err == nil {
				t.Logf("%s's page when the test failed:\n%s", name, page)
			}
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
		t.Fatalf("opening a browser for %s: %v", name, err)
	}
	p.browserSession = &browserSession{t: t, ctx: ctx, base: b.base}
	return p
}

// listen runs on the browser's event reader: it only records.
func (p *jPerson) listen(ev any) {
	var problem string
	switch e := ev.(type) {
	case *network.EventResponseReceived:
		if e.Response.Status >= 400 {
			problem = fmt.Sprintf("%s answered %d (%s)", e.Response.URL, e.Response.Status, e.Type)
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		problem = "uncaught exception: " + d.Text
		if d.Exception != nil {
			problem += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range e.Args {
				args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			problem = "console error: " + strings.Join(args, " ")
		}
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			problem = fmt.Sprintf("browser error (%s): %s %s", e.Entry.Source, e.Entry.Text, e.Entry.URL)
		}
	}
	if problem != "" {
		p.mu.Lock()
		p.problems = append(p.problems, problem)
		p.mu.Unlock()
	}
}

// jOverflowJS names the outermost elements that reach past the right edge
// of the screen, unless something scrolls or clips them.
const jOverflowJS = `(() => {
	const W = window.innerWidth, doc = document.documentElement;
	if (doc.scrollWidth <= W) return "";
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		[...el.classList].map(c => "." + c).join("") + " “" + el.innerText.trim().slice(0, 40).replace(/\s+/g, " ") + "”";
	// Clipped by a scrolling or hidden overflow of its containing blocks
	// (an absolutely placed element escapes those of static ancestors).
	const clipped = el => {
		let pos = getComputedStyle(el).position;
		for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
			const cs = getComputedStyle(a);
			if (pos === "fixed") return false;
			if (pos === "absolute" && cs.position === "static") continue;
			if (cs.overflowX !== "visible") return true;
			pos = cs.position;
		}
		return false;
	};
	const out = [];
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.right <= W + 1 || clipped(el)) continue;
		const up = el.parentElement;
		if (up !== document.body && up.getBoundingClientRect().right > W + 1) continue;
		out.push(name(el) + " spans " + Math.round(r.left) + "–" + Math.round(r.right) + " px");
		if (out.length === 5) break;
	}
	return "the page is " + doc.scrollWidth + " px wide on a " + W + " px screen: " + (out.join("; ") || "no single element found");
})()`

// check fails on anything wider than the screen (and goes on, to name
// every such page) and on what the listener recorded since the last
// check (and stops).
func (p *jPerson) check() {
	p.t.Helper()
	where := p.eval(`location.pathname + location.search`)
	if w := p.eval(`String(window.innerWidth)`); w != fmt.Sprint(p.width) {
		p.t.Fatalf("%s's screen is %s px wide, want %d", p.name, w, p.width)
	}
	if over := p.eval(jOverflowJS); over != "" {
		p.t.Errorf("%s on %s at %d px: %s", p.name, where, p.width, over)
	}
	p.mu.Lock()
	problems := p.problems
	p.problems = nil
	p.mu.Unlock()
	if len(problems) > 0 {
		p.t.Fatalf("%s on %s at %d px:\n%s", p.name, where, p.width, strings.Join(problems, "\n"))
	}
}

// page checks a page reached by a click: status 200, the path (unless
// empty), the texts, and then check.
func (p *jPerson) page(res *network.Response, path string, texts ...string) {
	p.t.Helper()
	if path == "" {
		path = browserPath(p.browserSession)
	}
	p.expect(res, http.StatusOK, path, texts...)
	p.check()
}

// click follows the link the XPath finds to the page at path showing texts.
func (p *jPerson) click(xpath, path string, texts ...string) {
	p.t.Helper()
	p.page(p.follow(xpath), path, texts...)
}

// press clicks a button of the page's main content or account menu.
func (p *jPerson) press(button, path string, texts ...string) {
	p.t.Helper()
	p.page(p.submit(button), path, texts...)
}

// clickNav follows a link of the main navigation.
func (p *jPerson) clickNav(label, path string, texts ...string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`//header//nav//a[starts-with(normalize-space(),%q)]`, label), path, texts...)
}

// menu follows a link of the account menu.
func (p *jPerson) menu(label, path string, texts ...string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS("details.menu > summary")))
	p.click(fmt.Sprintf(`//details[contains(@class,"menu")]//a[normalize-space()=%q]`, label), path, texts...)
}

// followDo runs a click and returns the page it loads.
func (p *jPerson) followDo(a chromedp.Action[chromedp.Void]) *network.Response {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, a)
	if err != nil || res == nil {
		p.t.Fatalf("%s: the click loaded no page: %v", p.name, err)
	}
	return res
}

// logIn: the start page's Log in.
func (p *jPerson) logIn(email, name string) {
	p.t.Helper()
	p.page(p.open("/"), "/", "Log in")
	p.click(`//main//a[normalize-space()="Log in"]`, "/login", "Log in")
	p.do(p.fill("#email", email), p.fill("#password", bgPassword))
	p.press("Log in", "/", "Welcome, "+name)
}
