// Package pgembed runs Parley's private PostgreSQL cluster: the default
// database when DATABASE_URL is unset, and the one tests use.
//
// The cluster lives in DATA_DIR/pg, listens on a unix socket in
// DATA_DIR/run only (no TCP), trusts local connections, and is started and
// stopped with the server's own initdb and pg_ctl, found on PATH or under
// /usr/lib/postgresql/*/bin. PostgreSQL refuses to run as root, so when
// Parley runs as root the cluster runs as an unprivileged system user.
//
// Ownership of a running cluster is decided with an flock on
// DATA_DIR/parleyd.lock: whoever holds it started the cluster and stops it.
// Others (a CLI command while serve runs) just connect through the socket.
//
// serve also supervises the server (Supervise): it is the postmaster's
// parent, and when the postmaster dies it starts it again with backoff.
package pgembed
