// Package digest builds and sends the daily and weekly digests: one email
// per member per period, covering all of that member's digest groups, at
// DIGEST_HOUR in the member's own timezone.
//
// A periodic job (river's leader runs it, on DIGEST_CRON) finds the
// members whose local digest time has come since their last digest and
// records one row per (member, period) with the job that sends it, in one
// transaction: the row's uniqueness makes digests exactly-once however
// many daemons run the scan, and a daemon that was down catches up with
// one late digest, never two.
package digest
