package notice

// The kinds of system mail, each with the facts its templates read.

// kinds lists every kind, for the renderer to compile.
func kinds() []Kind {
	return []Kind{KindVerify, KindPasswordReset, KindAddressChange, KindSiteInvite, KindGroupInvite, KindJoinDecision,
		KindModeration, KindVeto, KindDeliveryStopped, KindHelp, KindOwnerForward, KindModeratorAnswer,
		KindModerationUnverified, KindNotMember, KindInviteOnly, KindJoinConfirm, KindLeaveConfirm, KindDMARCRefused,
		KindNotPosted, KindHeld,
		KindThreadMail, // issue 19
	}
}

// The kinds.
const (
	KindVerify               Kind = "verify"
	KindPasswordReset        Kind = "password-reset"
	KindAddressChange        Kind = "address-change"
	KindSiteInvite           Kind = "site-invite"
	KindGroupInvite          Kind = "group-invite"
	KindJoinDecision         Kind = "join-decision"
	KindModeration           Kind = "moderation"
	KindVeto                 Kind = "veto"
	KindDeliveryStopped      Kind = "delivery-stopped"
	KindHelp                 Kind = "help"
	KindOwnerForward         Kind = "owner-forward"
	KindModeratorAnswer      Kind = "moderator-answer"
	KindModerationUnverified Kind = "moderation-unverified"
	KindNotMember            Kind = "not-member"
	KindInviteOnly           Kind = "invite-only"
	KindJoinConfirm          Kind = "join-confirm"
	KindLeaveConfirm         Kind = "leave-confirm"
	KindDMARCRefused         Kind = "dmarc-refused"
	KindNotPosted            Kind = "not-posted"
	KindHeld                 Kind = "held"
	KindThreadMail           Kind = "thread-mail" // a conversation muted or followed by email (issue 19)
)

// Why a verification link is sent.
const (
	VerifySignup     = "signup"
	VerifyResend     = "resend"
	VerifyNewAddress = "new-address"
)

// Verify carries the link that proves a member reads an address.
type Verify struct {
	Name, Link string
	Why        string // VerifySignup, VerifyResend or VerifyNewAddress
}

// PasswordReset carries a password reset link.
type PasswordReset struct{ Name, Link string }

// AddressChange tells the old address that the account is moving.
type AddressChange struct{ Name, NewAddress string }

// SiteInvite invites someone to sign up (and, with Group, to join it).
type SiteInvite struct {
	Inviter string
	Group   string // empty: the site only
	Link    string
}

// GroupInvite invites someone to join a group.
type GroupInvite struct{ Inviter, Group, GroupAddress, Invitee, Link string }

// JoinDecision tells a member what the owners decided on their request.
type JoinDecision struct {
	Name, Group, GroupAddress, GroupURL string
	Approved                            bool
}

// Moderation asks a moderator to decide on a held message.
type Moderation struct {
	Group, From, Subject string
	SenderAuth           string // why its From was not trusted; empty: nothing to say
	Body                 string // the message as text, cut to length
	ApproveLink          string
	VetoLink             string
	ModerationURL        string
}

// Veto tells a poster their message was refused, with their text back.
type Veto struct{ Group, Subject, Reason, Body string }

// DeliveryStopped tells a member why mail stopped and how to restart it.
type DeliveryStopped struct {
	Email, Link string
	Complaint   bool // a spam report; otherwise bounces
}

// Help answers SLUG+help@.
type Help struct{ Group, GroupAddress, JoinAddress, LeaveAddress, OwnerAddress, GroupURL string }

// OwnerForward passes mail to SLUG+owner@ on to an owner.
type OwnerForward struct{ From, Group, Subject, Text string }

// ModeratorAnswer answers a moderator's emailed decision that did nothing.
type ModeratorAnswer struct{ Subject, Answer string }

// ModerationUnverified says an emailed decision could not be trusted.
type ModerationUnverified struct{ Group, Summary, ModerationURL string }

// NotMember tells a non-member how to join.
type NotMember struct{ Group, GroupAddress, JoinAddress, GroupURL string }

// InviteOnly answers a subscribe to a group that only invites.
type InviteOnly struct{ Group, OwnerAddress string }

// JoinConfirm carries the link that confirms a subscribe by email.
type JoinConfirm struct {
	Group, Link string
	Request     bool // the group accepts requests, not members outright
}

// LeaveConfirm carries the link that confirms an unsubscribe by email.
type LeaveConfirm struct{ Group, Link string }

// DMARCRefused says a post was refused for its From domain's DMARC policy.
type DMARCRefused struct{ Group, GroupAddress, Reason, GroupURL string }

// NotPosted says a post was refused as invalid.
type NotPosted struct{ Group, GroupAddress, Reason string }

// Held tells a poster their message waits for a moderator.
type Held struct{ Group, GroupAddress string }

func (Verify) Kind() Kind               { return KindVerify }
func (PasswordReset) Kind() Kind        { return KindPasswordReset }
func (AddressChange) Kind() Kind        { return KindAddressChange }
func (SiteInvite) Kind() Kind           { return KindSiteInvite }
func (GroupInvite) Kind() Kind          { return KindGroupInvite }
func (JoinDecision) Kind() Kind         { return KindJoinDecision }
func (Moderation) Kind() Kind           { return KindModeration }
func (Veto) Kind() Kind                 { return KindVeto }
func (DeliveryStopped) Kind() Kind      { return KindDeliveryStopped }
func (Help) Kind() Kind                 { return KindHelp }
func (OwnerForward) Kind() Kind         { return KindOwnerForward }
func (ModeratorAnswer) Kind() Kind      { return KindModeratorAnswer }
func (ModerationUnverified) Kind() Kind { return KindModerationUnverified }
func (NotMember) Kind() Kind            { return KindNotMember }
func (InviteOnly) Kind() Kind           { return KindInviteOnly }
func (JoinConfirm) Kind() Kind          { return KindJoinConfirm }
func (LeaveConfirm) Kind() Kind         { return KindLeaveConfirm }
func (DMARCRefused) Kind() Kind         { return KindDMARCRefused }
func (NotPosted) Kind() Kind            { return KindNotPosted }
func (Held) Kind() Kind                 { return KindHeld }

// ThreadMail confirms a "mute" or "follow" sent by email to a thread's
// reply address (issue 19), with a link that undoes it.
type ThreadMail struct {
	Group, Subject string
	Muted          bool // else followed
	ThreadURL      string
	UndoLink       string
}

func (ThreadMail) Kind() Kind { return KindThreadMail }
