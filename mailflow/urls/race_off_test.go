//go:build !race

package urls

const raceBuild = false
