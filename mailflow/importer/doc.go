// Package importer brings a mailing list's past into Parley: its members
// from a CSV file (ImportMembers) and its archive from an mbox file
// (ImportMbox), such as Mailman and Google Groups export. The command
// line (parleyd import-members, import-mbox) and the Admin pages
// (/admin/import) both call it, and only parse arguments and print.
//
// Imports write through the store directly, never through
// posting.Service: an archived message is history, and is mailed to no
// one. Both are idempotent: a member already in the group and a message
// whose Message-ID the group has already are left as they are, so an
// import that stopped half-way is simply run again.
//
// Bad input is reported, not fatal: a row of the CSV file or a message of
// the archive that cannot be used is skipped, and reported with the line
// of the file it starts on.
package importer
