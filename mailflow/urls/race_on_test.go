//go:build race

package urls

// raceBuild: the race detector makes sync.Pool drop items and changes
// allocations, so tests that count allocations skip under it.
const raceBuild = true
