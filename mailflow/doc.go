// Package mailflow holds Parley's domain: the types every part of the
// system speaks (users, groups, memberships, threads, messages), the
// sentinel errors that cross package boundaries, and the permission and
// posting policy as pure functions. It imports nothing of Parley's own, so
// the web UI, the JSON API, SMTP intake and the job workers all ask the same
// questions of the same code.
package mailflow
