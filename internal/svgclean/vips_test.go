//go:build vips

package svgclean

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// TestCleanRendersTheSame renders SVGs before and after Clean with
// libvips (librsvg) and compares the pixels.
// Run with: source scripts/env.sh && go test -tags vips ./internal/svgclean
func TestCleanRendersTheSame(t *testing.T) {
	vipsrt.Start(vipsrt.Config{Concurrency: 1}, zerolog.Nop())
	icon, err := os.ReadFile("testdata/icon.svg")
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"icon": string(icon),
		"shapes": `<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY red "#d00">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64" viewBox="0 0 64 64" onload="alert(1)">
  <!-- comment -->
  <script>alert(1)</script>
  <style type="text/css">.a { fill: &red;; stroke: #000000; stroke-width: 2.00000 } @import url(http://evil.example/x.css);</style>
  <defs>
    <radialGradient id="r" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#ffffff"/><stop offset="1" stop-color="#0000ff"/></radialGradient>
    <path id="tri" d="M 0.000,0.000 L 10.000,0.000 L 5.000,8.660 Z"/>
  </defs>
  <rect x="2.0000" y="2.0000" width="28.0000" height="28.0000" fill="url(#r)" stroke="url(http://evil.example/p)"/>
  <circle class="a" cx="46" cy="16" r="12.000" onclick="alert(2)"/>
  <use xlink:href="#tri" transform="translate(8 40) scale(2)" fill="green"/>
  <use href="http://evil.example/sprite.svg#x"/>
  <g transform="rotate(15 48 48)"><rect x="38" y="38" width="20" height="20" style="fill:orange;fill:url(http://evil.example/q)"/></g>
</svg>`,
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := Clean([]byte(src), Options{})
			if err != nil {
				t.Fatal(err)
			}
			a, b := render(t, []byte(src)), render(t, out)
			if a.Bounds() != b.Bounds() {
				t.Fatalf("bounds %v != %v", a.Bounds(), b.Bounds())
			}
			worst, painted := 0, 0
			for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
				for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
					r1, g1, b1, a1 := a.At(x, y).RGBA()
					r2, g2, b2, a2 := b.At(x, y).RGBA()
					if a1 > 0 {
						painted++
					}
					for _, d := range []int{int(r1) - int(r2), int(g1) - int(g2), int(b1) - int(b2), int(a1) - int(a2)} {
						worst = max(worst, max(d, -d)>>8)
					}
				}
			}
			t.Logf("%d -> %d bytes, %d painted pixels, largest channel difference %d", len(src), len(out), painted, worst)
			if painted < a.Bounds().Dx()*a.Bounds().Dy()/10 {
				t.Fatalf("only %d pixels painted: the test SVG did not render", painted)
			}
			if worst > 2 {
				if dir := os.Getenv("SVGCLEAN_DUMP"); dir != "" {
					for i, m := range []image.Image{a, b} {
						f, _ := os.Create(dir + "/" + name + []string{"-in.png", "-out.png"}[i])
						png.Encode(f, m)
						f.Close()
					}
					os.WriteFile(dir+"/"+name+"-out.svg", out, 0o644)
				}
				t.Fatalf("renderings differ by up to %d", worst)
			}
		})
	}
}

func render(t *testing.T, svg []byte) image.Image {
	t.Helper()
	m, err := vips.NewImageFromBuffer(svg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	b, _, err := m.ExportPng(vips.NewPngExportParams())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
