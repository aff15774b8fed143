// Package templates embeds Parley's page and email templates: email/ holds
// the per-recipient email templates (compiled once, executed per
// recipient) and, in email/notice, the mail Parley writes on its own
// behalf (a text and an HTML part per kind, read by mailflow/notice),
// web/ the pages, static/ the stylesheet, script and icons
// the pages link (served from the binary; nothing comes from a CDN).
package templates

import "embed"

// FS holds every template.
//
//go:embed email web static
var FS embed.FS
