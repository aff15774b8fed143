//go:build !race

package sign

const raceBuild = false
