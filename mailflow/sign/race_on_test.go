//go:build race

package sign

// raceBuild: the race detector makes sync.Pool drop items and changes
// allocations, so tests that count allocations skip under it.
const raceBuild = true
