//go:build vips

package probe

import (
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// TestReadLibvipsFiles reads files that libvips' own encoders wrote
// (libwebp, libheif with aom, mozjpeg), and compares with what libvips
// itself loads from them. Run with: source scripts/env.sh && go test -tags vips
func TestReadLibvipsFiles(t *testing.T) {
	vipsrt.Start(vipsrt.Config{Concurrency: 1}, zerolog.Nop())
	load := func(b []byte) *vips.ImageRef {
		p := vips.NewImportParams()
		p.NumPages.Set(-1)
		m, err := vips.LoadImageFromBuffer(b, p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		return m
	}
	alphaPNG := load(encodePNG(t, rgbaImage(64, 40, 120)))
	oriented := load(encodePNG(t, rgbaImage(64, 40, 255)))
	if err := oriented.SetOrientation(6); err != nil {
		t.Fatal(err)
	}
	anim := load(encodeGIF(t, 30, 20, 3, true))

	export := func(f func() ([]byte, *vips.ImageMetadata, error)) []byte {
		b, _, err := f()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// Without StripMetadata libvips writes an EXIF block of its own.
	tests := []struct {
		name string
		file []byte
		want Info
	}{
		{"webp lossy alpha", export(func() ([]byte, *vips.ImageMetadata, error) {
			return alphaPNG.ExportWebp(vips.NewWebpExportParams())
		}), Info{Format: WebP, Width: 64, Height: 40, Frames: 1, Alpha: true, Orientation: 1, BitDepth: 8, HasEXIF: true}},
		{"webp lossless alpha", export(func() ([]byte, *vips.ImageMetadata, error) {
			return alphaPNG.ExportWebp(&vips.WebpExportParams{Lossless: true, ReductionEffort: 1})
		}), Info{Format: WebP, Width: 64, Height: 40, Frames: 1, Alpha: true, Orientation: 1, BitDepth: 8, HasEXIF: true}},
		{"webp exif orientation", export(func() ([]byte, *vips.ImageMetadata, error) {
			return oriented.ExportWebp(vips.NewWebpExportParams())
		}), Info{Format: WebP, Width: 64, Height: 40, Frames: 1, Orientation: 6, BitDepth: 8, HasEXIF: true}},
		{"webp animated", export(func() ([]byte, *vips.ImageMetadata, error) {
			return anim.ExportWebp(vips.NewWebpExportParams())
		}), Info{Format: WebP, Width: 30, Height: 20, Frames: 3, Animated: true, Alpha: true, Orientation: 1, BitDepth: 8, HasEXIF: true}},
		{"avif alpha", export(func() ([]byte, *vips.ImageMetadata, error) {
			return alphaPNG.ExportAvif(&vips.AvifExportParams{Quality: 50, Effort: 0, Speed: 8})
		}), Info{Format: AVIF, Width: 64, Height: 40, Frames: 1, Alpha: true, Orientation: 1, BitDepth: 8, HasEXIF: true}},
		{"avif 10 bit", export(func() ([]byte, *vips.ImageMetadata, error) {
			return oriented.ExportAvif(&vips.AvifExportParams{Quality: 50, Effort: 1, Bitdepth: 10, StripMetadata: true})
		}), Info{Format: AVIF, Width: 40, Height: 64, Frames: 1, Orientation: 1, BitDepth: 10}}, // stored with irot
		{"jpeg progressive exif", export(func() ([]byte, *vips.ImageMetadata, error) {
			return oriented.ExportJpeg(&vips.JpegExportParams{Quality: 80, Interlace: true})
		}), Info{Format: JPEG, Width: 64, Height: 40, Frames: 1, Orientation: 6, Progressive: true, BitDepth: 8, HasEXIF: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.file, Limits{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			m := load(tt.file)
			if m.Width() != got.Width || m.PageHeight() != got.Height || m.Pages() != got.Frames {
				t.Fatalf("libvips loads %dx%d, %d pages; probe says %dx%d, %d frames",
					m.Width(), m.PageHeight(), m.Pages(), got.Width, got.Height, got.Frames)
			}
			if m.HasAlpha() != got.Alpha {
				t.Errorf("libvips says alpha %v, probe %v", m.HasAlpha(), got.Alpha)
			}
			// libvips may add a profile or XMP of its own; compare the rest.
			got.ICC, got.HasXMP = false, false
			if got != tt.want {
				t.Fatalf("Read =\n%+v\nwant\n%+v\n% x", got, tt.want, tt.file[:min(len(tt.file), 400)])
			}
			for n := range len(tt.file) {
				if _, err := Read(tt.file[:n], Limits{}); err == nil && tt.want.Format != JPEG {
					t.Fatalf("prefix %d of %d read without error", n, len(tt.file))
				}
			}
		})
	}
}
