// Package templates embeds Parley's page and email templates: email/ holds
// the per-recipient email templates (compiled once, executed per
// recipient), web/ the pages.
package templates

import "embed"

// FS holds every template.
//
//go:embed email web
var FS embed.FS
