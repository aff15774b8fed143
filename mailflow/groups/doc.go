// Package groups owns creating and changing a group: which settings a
// group has, their checks, who may set them, and the transaction that
// saves them with the group's owners, whitelist and picture. The web form
// (web/groups) and the JSON API (web/api) are two faces of this one
// service, so they accept the same settings and refuse the same input.
package groups
