package picture

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"runtime"
	"strings"
	"testing"
)

var (
	red    = color.NRGBA{255, 0, 0, 255}
	green  = color.NRGBA{0, 255, 0, 255}
	blue   = color.NRGBA{0, 0, 255, 255}
	yellow = color.NRGBA{255, 255, 0, 255}
)

// fill returns a w x h image whose pixel colours are given by f.
func fill(w, h int, f func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, f(x, y))
		}
	}
	return m
}

// thirds is left third red, middle third green, right third blue.
func thirds(w, h int) *image.NRGBA {
	return fill(w, h, func(x, _ int) color.NRGBA {
		switch {
		case x < w/3:
			return red
		case x < 2*w/3:
			return green
		}
		return blue
	})
}

// quadrants is top-left red, top-right green, bottom-left blue,
// bottom-right yellow.
func quadrants(w, h int) *image.NRGBA {
	return fill(w, h, func(x, y int) color.NRGBA {
		switch {
		case x < w/2 && y < h/2:
			return red
		case y < h/2:
			return green
		case x < w/2:
			return blue
		}
		return yellow
	})
}

func encPNG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encJPEG(t *testing.T, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// normalize runs Normalize, checks the result is a Size x Size image of the
// wanted type, and returns it decoded.
func normalize(t *testing.T, in []byte, wantType string) image.Image {
	t.Helper()
	out, ct, err := Normalize(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if ct != wantType {
		t.Fatalf("content type = %q, want %q", ct, wantType)
	}
	m, format, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("decoding output: %v", err)
	}
	if "image/"+format != ct {
		t.Fatalf("output is %s, labelled %s", format, ct)
	}
	if b := m.Bounds(); b != image.Rect(0, 0, Size, Size) {
		t.Fatalf("output bounds = %v, want %dx%d", b, Size, Size)
	}
	return m
}

// near reports whether c is within a lossy-compression tolerance of want.
func near(c color.Color, want color.NRGBA) bool {
	got := color.NRGBAModel.Convert(c).(color.NRGBA)
	d := func(a, b uint8) int { return max(int(a)-int(b), int(b)-int(a)) }
	return d(got.R, want.R) < 40 && d(got.G, want.G) < 40 && d(got.B, want.B) < 40 && d(got.A, want.A) < 40
}

func checkAt(t *testing.T, m image.Image, x, y int, want color.NRGBA) {
	t.Helper()
	if c := m.At(x, y); !near(c, want) {
		t.Errorf("pixel (%d,%d) = %v, want about %v", x, y, c, want)
	}
}

func TestOpaquePNGCropsToJPEG(t *testing.T) {
	m := normalize(t, encPNG(t, thirds(1000, 500)), "image/jpeg")
	// The centered 500x500 crop keeps x in [250, 750): a sliver of red,
	// all of green, a sliver of blue.
	checkAt(t, m, Size/2, Size/2, green)
	checkAt(t, m, 5, Size/2, red)
	checkAt(t, m, Size-5, Size/2, blue)
}

func TestTallImageCrops(t *testing.T) {
	// 300x900, top third red, middle green, bottom blue: the center crop is
	// entirely green.
	m := normalize(t, encPNG(t, fill(300, 900, func(_, y int) color.NRGBA {
		return []color.NRGBA{red, green, blue}[y/300]
	})), "image/jpeg")
	checkAt(t, m, Size/2, 3, green)
	checkAt(t, m, Size/2, Size-3, green)
}

func TestTransparentPNGStaysPNG(t *testing.T) {
	src := fill(400, 400, func(x, _ int) color.NRGBA {
		if x < 200 {
			return color.NRGBA{}
		}
		return blue
	})
	m := normalize(t, encPNG(t, src), "image/png")
	if _, _, _, a := m.At(10, Size/2).RGBA(); a != 0 {
		t.Errorf("left side alpha = %d, want 0", a)
	}
	checkAt(t, m, Size-10, Size/2, blue)
}

func TestSmallImageScalesUp(t *testing.T) {
	m := normalize(t, encPNG(t, thirds(30, 10)), "image/jpeg")
	checkAt(t, m, Size/2, Size/2, green)
}

func TestGIF(t *testing.T) {
	pal := color.Palette{red, green, blue}
	frame := func(i uint8) *image.Paletted {
		p := image.NewPaletted(image.Rect(0, 0, 120, 80), pal)
		for j := range p.Pix {
			p.Pix[j] = i
		}
		return p
	}
	var b bytes.Buffer
	// Animated: first frame green, second blue; the first frame is used.
	if err := gif.EncodeAll(&b, &gif.GIF{
		Image: []*image.Paletted{frame(1), frame(2)},
		Delay: []int{10, 10},
	}); err != nil {
		t.Fatal(err)
	}
	m := normalize(t, b.Bytes(), "image/jpeg")
	checkAt(t, m, Size/2, Size/2, green)
}

func TestJPEG(t *testing.T) {
	m := normalize(t, encJPEG(t, thirds(900, 600)), "image/jpeg")
	checkAt(t, m, Size/2, Size/2, green)
}

func TestWebP(t *testing.T) {
	// Tiny 1x1 WebP files (lossy and lossless with alpha); no encoder exists
	// in the standard or x/image libraries, so they are spelled out here.
	lossy, _ := base64.StdEncoding.DecodeString("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	normalize(t, lossy, "image/jpeg")
	lossless, _ := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	normalize(t, lossless, "image/png")

	for _, garbage := range []string{
		"RIFF\x00\x00\x00\x00WEBP",
		"RIFF\x10\x00\x00\x00WEBPVP8 \x04\x00\x00\x00junkjunkjunk",
		"RIFF\xff\xff\xff\xffWEBPVP8L\xff\xff\xff\xff\x2f\xff\xff\xff\xff",
		"RIFF\xff\xff\xff\xffWEBPVP8X\x0a\x00\x00\x00\x10\x00\x00\x00\xff\xff\xff\xff\xff\xff",
	} {
		if _, _, err := Normalize(strings.NewReader(garbage)); err == nil {
			t.Errorf("garbage WebP %q: no error", garbage)
		}
	}
}

// countingReader is an endless stream of zero bytes that counts what is read.
type countingReader struct{ n int64 }

func (c *countingReader) Read(p []byte) (int, error) {
	clear(p)
	c.n += int64(len(p))
	return len(p), nil
}

func TestTooLarge(t *testing.T) {
	// A real PNG header followed by padding, so only the size is wrong.
	in := append(encPNG(t, thirds(10, 10)), make([]byte, 6<<20)...)
	if _, _, err := Normalize(bytes.NewReader(in)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("6 MiB: err = %v, want ErrTooLarge", err)
	}

	// Reading stops after MaxBytes+1 even if the stream never ends.
	var r countingReader
	if _, _, err := Normalize(&r); !errors.Is(err, ErrTooLarge) {
		t.Errorf("endless: err = %v, want ErrTooLarge", err)
	}
	if r.n > MaxBytes+1 {
		t.Errorf("read %d bytes, want at most %d", r.n, MaxBytes+1)
	}

	// Exactly MaxBytes is allowed through to type sniffing.
	if _, _, err := Normalize(io.LimitReader(&countingReader{}, MaxBytes)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("MaxBytes zeros: err = %v, want ErrUnsupported", err)
	}
}

func TestUnsupported(t *testing.T) {
	for name, in := range map[string][]byte{
		"text":  []byte("hello, this is not a picture\n"),
		"empty": nil,
		"html":  []byte("<html><img src=x onerror=alert(1)></html>"),
		"svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`),
		"bmp":   append([]byte("BM"), make([]byte, 100)...),
	} {
		if _, _, err := Normalize(bytes.NewReader(in)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
}

// pngHeader returns a PNG signature plus a valid IHDR chunk (8-bit RGBA)
// claiming w x h, and nothing else.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // depth, colour type RGBA, compression, filter, interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b = append(b, chunk...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(chunk))
}

func TestDimensions(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := Normalize(bytes.NewReader(pngHeader(30000, 30000)))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrDimensions) {
		t.Fatalf("30000x30000: err = %v, want ErrDimensions", err)
	}
	// 30000*30000*4 bytes would be 3.6 GB; only the small input buffers
	// should have been allocated.
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("allocated %d bytes refusing a bomb", d)
	}

	for _, wh := range [][2]uint32{
		{10001, 1},   // side too long
		{1, 10001},   // side too long
		{7000, 7000}, // 49 M pixels
	} {
		if _, _, err := Normalize(bytes.NewReader(pngHeader(wh[0], wh[1]))); !errors.Is(err, ErrDimensions) {
			t.Errorf("%dx%d: err = %v, want ErrDimensions", wh[0], wh[1], err)
		}
	}

	// Within limits, the header alone passes the check and decoding fails.
	_, _, err = Normalize(bytes.NewReader(pngHeader(100, 100)))
	if err == nil || errors.Is(err, ErrDimensions) {
		t.Errorf("100x100 header only: err = %v, want a decode error", err)
	}
}

func TestTruncated(t *testing.T) {
	for name, full := range map[string][]byte{
		"png":  encPNG(t, thirds(300, 200)),
		"jpeg": encJPEG(t, thirds(300, 200)),
	} {
		for _, n := range []int{len(full) / 2, len(full) - 13, 40} {
			if _, _, err := Normalize(bytes.NewReader(full[:n])); err == nil {
				t.Errorf("%s truncated to %d bytes: no error", name, n)
			}
		}
	}
}

// withOrientation inserts an EXIF APP1 segment carrying orientation o right
// after the SOI marker of a JPEG.
func withOrientation(j []byte, o uint16, bo binary.AppendByteOrder) []byte {
	tiff := []byte("MM\x00*")
	if bo == binary.LittleEndian {
		tiff = []byte("II*\x00")
	}
	tiff = bo.AppendUint32(tiff, 8) // IFD0 offset
	tiff = bo.AppendUint16(tiff, 1) // one entry
	tiff = bo.AppendUint16(tiff, 0x0112)
	tiff = bo.AppendUint16(tiff, 3) // SHORT
	tiff = bo.AppendUint32(tiff, 1) // count
	tiff = bo.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)       // value padding
	tiff = bo.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)

	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(2+len(payload)))
	seg = append(seg, payload...)

	out := append([]byte{}, j[:2]...)
	out = append(out, seg...)
	return append(out, j[2:]...)
}

func TestEXIFOrientation(t *testing.T) {
	// Stored pixels: TL red, TR green, BL blue, BR yellow. Wanted displayed
	// quadrants TL, TR, BL, BR for each EXIF orientation.
	want := map[uint16][4]color.NRGBA{
		1: {red, green, blue, yellow},
		2: {green, red, yellow, blue},
		3: {yellow, blue, green, red},
		4: {blue, yellow, red, green},
		5: {red, blue, green, yellow},
		6: {blue, red, yellow, green}, // rotate 90° clockwise
		7: {yellow, green, blue, red},
		8: {green, yellow, red, blue},
	}
	j := encJPEG(t, quadrants(400, 400))
	lo, hi := Size/4, 3*Size/4
	for o, w := range want {
		for _, bo := range []binary.AppendByteOrder{binary.BigEndian, binary.LittleEndian} {
			in := withOrientation(j, o, bo)
			if got := jpegOrientation(in); got != int(o) {
				t.Fatalf("jpegOrientation = %d, want %d", got, o)
			}
			m := normalize(t, in, "image/jpeg")
			for i, p := range [4]image.Point{{lo, lo}, {hi, lo}, {lo, hi}, {hi, hi}} {
				if c := m.At(p.X, p.Y); !near(c, w[i]) {
					t.Errorf("orientation %d (%v): pixel %v = %v, want about %v", o, bo, p, c, w[i])
				}
			}
		}
	}
}

func TestEXIFOrientationNonSquare(t *testing.T) {
	// A sideways phone photo: stored 600x300 with the top half red and the
	// bottom half blue, orientation 6. Upright, the red top becomes the
	// right-hand side.
	src := fill(600, 300, func(_, y int) color.NRGBA {
		if y < 150 {
			return red
		}
		return blue
	})
	m := normalize(t, withOrientation(encJPEG(t, src), 6, binary.BigEndian), "image/jpeg")
	checkAt(t, m, Size/4, Size/2, blue)
	checkAt(t, m, 3*Size/4, Size/2, red)
}

func TestEXIFMalformed(t *testing.T) {
	j := encJPEG(t, thirds(30, 30))
	good := withOrientation(j, 6, binary.BigEndian)
	bad := [][]byte{
		withOrientation(j, 0, binary.BigEndian),
		withOrientation(j, 9, binary.BigEndian),
		good[:10],
		good[:20],
		good[:30],
		{0xFF, 0xD8},
		{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x00},
		{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x', 'i', 'f'},
		append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x12}, "Exif\x00\x00MM\x00*\xff\xff\xff\xff"...),
	}
	for _, b := range bad {
		if o := jpegOrientation(b); o != 1 {
			t.Errorf("jpegOrientation(%q) = %d, want 1", b, o)
		}
	}
}

func FuzzJPEGOrientation(f *testing.F) {
	j := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	f.Add(withOrientation(j, 6, binary.BigEndian))
	f.Add(withOrientation(j, 8, binary.LittleEndian))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Errorf("orientation %d out of range", o)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add(pngHeader(10, 10))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDB})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ct, err := Normalize(bytes.NewReader(b))
		if err == nil && (len(out) == 0 || (ct != "image/jpeg" && ct != "image/png")) {
			t.Errorf("success with %d bytes of %q", len(out), ct)
		}
	})
}
