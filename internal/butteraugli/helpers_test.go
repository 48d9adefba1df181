package butteraugli

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/metric"
)

// binaryPath is Debian's butteraugli, the implementation this package
// must agree with.
const binaryPath = "/usr/bin/butteraugli"

// binary returns the butteraugli binary's path, failing the test when it
// is missing.
func binary(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(binaryPath); err != nil {
		t.Fatalf("%s not found (%v): install the Debian package butteraugli (apt-get install butteraugli)", binaryPath, err)
	}
	return binaryPath
}

// runBinary returns the binary's distance between two image files.
func runBinary(t testing.TB, bin, ref, dist string) float64 {
	t.Helper()
	out, err := exec.Command(bin, ref, dist).Output()
	if err != nil {
		t.Fatalf("butteraugli %s %s: %v", ref, dist, err)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("butteraugli output %q: %v", out, err)
	}
	return d
}

// readPNG decodes a PNG file into an 8-bit RGB or RGBA (straight alpha)
// image.
func readPNG(t testing.TB, path string) metric.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fromImage(img)
}

// fromImage converts img to a metric.Image: RGB when it is opaque, RGBA
// with straight alpha otherwise.
func fromImage(img image.Image) metric.Image {
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
	if !n.Opaque() {
		return metric.Image{Pix: n.Pix, Width: b.Dx(), Height: b.Dy(), Bands: 4}
	}
	m := metric.Image{Pix: make([]byte, 0, 3*b.Dx()*b.Dy()), Width: b.Dx(), Height: b.Dy(), Bands: 3}
	for i := 0; i < len(n.Pix); i += 4 {
		m.Pix = append(m.Pix, n.Pix[i], n.Pix[i+1], n.Pix[i+2])
	}
	return m
}

// writePNG writes m as an 8-bit RGB or RGBA PNG in dir and returns its path.
func writePNG(t testing.TB, dir, name string, m metric.Image) string {
	t.Helper()
	var img image.Image
	if m.Bands == 4 {
		img = &image.NRGBA{Pix: m.Pix, Stride: 4 * m.Width, Rect: image.Rect(0, 0, m.Width, m.Height)}
	} else {
		n := image.NewNRGBA(image.Rect(0, 0, m.Width, m.Height))
		for i := range m.Width * m.Height {
			copy(n.Pix[4*i:], m.Pix[3*i:3*i+3])
			n.Pix[4*i+3] = 255
		}
		img = n
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
