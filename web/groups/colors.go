package groups

import (
	"strconv"

	"github.com/parleymail/parley/mailflow"
)

// Category colours. The Content-Security-Policy allows no inline style
// (and so no style attribute), so a page cannot paint a category in the
// exact colour an administrator chose. Instead app.css defines eight
// classes, cat-0 … cat-7, and a category is shown in the one closest to
// its colour (by distance in RGB): red stays red, teal stays teal. The
// category's name is always written out too, so colour is never the only
// sign of it.
var palette = [8][3]int{
	{0x5b, 0x6b, 0x7b}, // cat-0 slate (the default colour of a category)
	{0x1f, 0x5f, 0xbf}, // cat-1 blue
	{0x1e, 0x6b, 0x34}, // cat-2 green
	{0xb3, 0x26, 0x1e}, // cat-3 red
	{0xb3, 0x5c, 0x00}, // cat-4 orange
	{0x6b, 0x3f, 0xa0}, // cat-5 purple
	{0x00, 0x79, 0x6b}, // cat-6 teal
	{0xad, 0x14, 0x57}, // cat-7 pink
}

// colorClass returns the class of the palette colour nearest to hex
// (#rrggbb); cat-0 for anything unreadable.
func colorClass(hex string) string {
	if len(hex) != 7 || hex[0] != '#' {
		return "cat-0"
	}
	var rgb [3]int
	for i := range rgb {
		v, err := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		if err != nil {
			return "cat-0"
		}
		rgb[i] = int(v)
	}
	best, bestD := 0, 1<<30
	for i, p := range palette {
		d := 0
		for j := range p {
			d += (p[j] - rgb[j]) * (p[j] - rgb[j])
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	return "cat-" + strconv.Itoa(best)
}

// categoryView is a category as pages show it.
type categoryView struct {
	mailflow.Category
	Class string // cat-0 … cat-7
}

func viewCategory(c mailflow.Category) categoryView {
	return categoryView{Category: c, Class: colorClass(c.Color)}
}

// categoryIndex maps ids to categories, to show many groups' categories
// from one query.
func categoryIndex(cats []mailflow.Category) map[int64]categoryView {
	m := make(map[int64]categoryView, len(cats))
	for _, c := range cats {
		m[c.ID] = viewCategory(c)
	}
	return m
}
