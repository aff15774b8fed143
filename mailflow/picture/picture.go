// Package picture normalizes untrusted uploaded pictures (member profile
// pictures, later group pictures) into a small, safe, uniform form.
//
// Uploads are attacker-controlled, so nothing about them is trusted:
//
//   - The size is capped (MaxBytes) while reading, so a request body can be
//     passed in directly without buffering an unbounded amount of data.
//   - The type is sniffed from the content; the file name and the client's
//     Content-Type are never consulted. Only JPEG, PNG, GIF and WebP are
//     accepted, each with its own decoder (no reliance on globally
//     registered image formats).
//   - Dimensions are read from the header with DecodeConfig before any pixels
//     are decoded, so a small file that claims to be an enormous image (a
//     decompression bomb) is refused before the pixel buffer is allocated.
//   - The picture is always re-encoded server-side. Re-encoding discards all
//     metadata (EXIF, GPS position, camera serial numbers, comments, ICC
//     profiles) and any trailing or polyglot payload, and gives every picture
//     the same square Size x Size shape, so clients can rely on it.
//
// The JPEG EXIF orientation tag (values 1-8) is honoured, because phone
// photos commonly store pixels sideways and rely on that tag; since metadata
// is stripped, the rotation has to be baked into the pixels. Orientation
// metadata in other formats (rare) is ignored.
package picture

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

var (
	// ErrTooLarge is returned when the upload is more than MaxBytes long.
	ErrTooLarge = errors.New("picture: file too large")
	// ErrUnsupported is returned when the content is not a JPEG, PNG, GIF
	// or WebP image.
	ErrUnsupported = errors.New("picture: not a JPEG, PNG, GIF or WebP image")
	// ErrDimensions is returned when width*height > MaxPixels, either side
	// is more than maxSide, or either side is less than 1.
	ErrDimensions = errors.New("picture: image dimensions too large")
)

const (
	// MaxBytes is the upload size limit (5 MiB).
	MaxBytes = 5 << 20
	// MaxPixels is the largest accepted width*height.
	MaxPixels = 25_000_000
	// Size is the side of the square output picture.
	Size = 256

	maxSide     = 10000
	jpegQuality = 85
)

type decoder struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var decoders = map[string]decoder{
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/gif":  {gif.DecodeConfig, gif.Decode}, // gif.Decode returns the first frame
	"image/webp": {webp.DecodeConfig, webp.Decode},
}

// Normalize reads at most MaxBytes+1 bytes from r (so callers may pass a
// request body directly), sniffs the type from the content, checks the
// dimensions before decoding the pixels, decodes, center-crops to a square,
// scales to Size x Size with Catmull-Rom, and re-encodes: as JPEG (quality 85)
// if the picture is fully opaque, else as PNG. It returns the encoded bytes and
// their content type, "image/jpeg" or "image/png".
func Normalize(r io.Reader) (data []byte, contentType string, err error) {
	in, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("picture: reading upload: %w", err)
	}
	if len(in) > MaxBytes {
		return nil, "", ErrTooLarge
	}

	typ := http.DetectContentType(in)
	dec, ok := decoders[typ]
	if !ok {
		return nil, "", ErrUnsupported
	}

	cfg, err := dec.config(bytes.NewReader(in))
	if err != nil {
		return nil, "", fmt.Errorf("picture: reading %s header: %w", typ, err)
	}
	if w, h := cfg.Width, cfg.Height; w < 1 || h < 1 || w > maxSide || h > maxSide || w*h > MaxPixels {
		return nil, "", ErrDimensions
	}

	src, err := dec.decode(bytes.NewReader(in))
	if err != nil {
		return nil, "", fmt.Errorf("picture: decoding %s: %w", typ, err)
	}
	b := src.Bounds()
	if b.Dx() < 1 || b.Dy() < 1 || b.Dx() > maxSide || b.Dy() > maxSide {
		return nil, "", ErrDimensions // decoders should prevent this; be sure
	}

	// Center-crop to the largest square, then scale to Size x Size.
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	crop := image.Rect(x0, y0, x0+side, y0+side)

	dst := image.NewRGBA(image.Rect(0, 0, Size, Size))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)

	// The dihedral orientation transforms map the centered square onto
	// itself, so rotating the small result equals rotating the original.
	if typ == "image/jpeg" {
		dst = orient(dst, jpegOrientation(in))
	}

	var out bytes.Buffer
	if opaque(src, crop) {
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, "", fmt.Errorf("picture: encoding JPEG: %w", err)
		}
		return out.Bytes(), "image/jpeg", nil
	}
	if err := png.Encode(&out, dst); err != nil {
		return nil, "", fmt.Errorf("picture: encoding PNG: %w", err)
	}
	return out.Bytes(), "image/png", nil
}

// opaque reports whether every pixel of src within r is fully opaque.
// It is decided on the source, not the scaled result, so resampling
// rounding cannot turn an opaque picture into a PNG.
func opaque(src image.Image, r image.Rectangle) bool {
	type subImager interface {
		SubImage(image.Rectangle) image.Image
	}
	if s, ok := src.(subImager); ok {
		if o, ok := s.SubImage(r).(interface{ Opaque() bool }); ok {
			return o.Opaque()
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if _, _, _, a := src.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// jpegOrientation returns the EXIF orientation (1-8) of a JPEG, or 1 if it
// has none or it cannot be read. It walks the marker segments up to the
// start of scan and reads tag 0x0112 from IFD0 of an "Exif" APP1 segment.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		marker := b[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			break
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			break
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads the orientation tag from a TIFF structure.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int(bo.Uint16(t[ifd:]))
	for k := range count {
		e := ifd + 2 + int64(k)*12
		if e+12 > int64(len(t)) {
			break
		}
		// tag 0x0112 Orientation, type 3 SHORT, value inline.
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// orient turns the square image m so that it displays upright for the given
// EXIF orientation: dst(x, y) = m(sx, sy).
func orient(m *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	n := m.Bounds().Dx() - 1 // m is square, origin (0, 0)
	dst := image.NewRGBA(m.Bounds())
	for y := 0; y <= n; y++ {
		for x := 0; x <= n; x++ {
			var sx, sy int
			switch o {
			case 2: // mirror horizontal
				sx, sy = n-x, y
			case 3: // rotate 180
				sx, sy = n-x, n-y
			case 4: // mirror vertical
				sx, sy = x, n-y
			case 5: // transpose
				sx, sy = y, x
			case 6: // rotate 90 CW
				sx, sy = y, n-x
			case 7: // transverse
				sx, sy = n-y, n-x
			case 8: // rotate 90 CCW
				sx, sy = n-y, x
			}
			dst.SetRGBA(x, y, m.RGBAAt(sx, sy))
		}
	}
	return dst
}

// FromForm reads and normalizes the picture uploaded in field of a form.
// No file (or an empty one) is (nil, "", ""). A refused picture comes
// back with a message for the person, to show beside the field.
func FromForm(c interface {
	FormFile(string) (*multipart.FileHeader, error)
}, field string) (data []byte, contentType, problem string) {
	fh, err := c.FormFile(field)
	if err != nil || fh.Size == 0 {
		return nil, "", ""
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", "The picture could not be read; try again."
	}
	defer f.Close()
	data, contentType, err = Normalize(f)
	switch {
	case errors.Is(err, ErrTooLarge):
		return nil, "", "This picture is too large: the limit is 5 MB."
	case errors.Is(err, ErrUnsupported):
		return nil, "", "Use a JPEG, PNG, GIF or WebP image."
	case errors.Is(err, ErrDimensions):
		return nil, "", "This image is too large in pixels; use one under 5,000 × 5,000."
	case err != nil:
		return nil, "", "This image could not be read; it may be damaged."
	}
	return data, contentType, ""
}

// NewKey is a random blob key for a normalised picture of contentType:
// pictures are served by key and cached for good, so a new upload gets a
// new key.
func NewKey(contentType string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	ext := ".jpg"
	if contentType == "image/png" {
		ext = ".png"
	}
	return hex.EncodeToString(b) + ext
}
