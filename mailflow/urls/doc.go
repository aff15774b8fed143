// Package urls owns every public path that leaves the router: the pages
// that mail and list headers link to, and the signed links in mail with
// the purpose each is signed for. Renderers ask a Map for absolute URLs,
// and the router registers the same pages with the same pattern
// constants, so a page that moves takes its links with it (mail once
// linked to /threads/ID and /groups/SLUG, pages that no longer existed).
package urls
