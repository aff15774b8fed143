//go:build !race

package outbound

const raceBuild = false
