package butteraugli

import (
	bin "encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagediet/imgdiet/internal/metric"
)

// goldenPath holds the exact results of Distance on goldenCases, one
// "name bits" a line with the float64 bits in hex. Speed-ups must leave
// every one unchanged; BUTTERAUGLI_GOLDEN_UPDATE=1 rewrites the file.
var goldenPath = filepath.Join("testdata", "golden.txt")

// blocky returns m with every n×n block of its colour bands replaced by
// the block's mean: a coarse, structured distortion.
func blocky(m metric.Image, n int) metric.Image {
	out := metric.Image{Pix: append([]byte(nil), m.Pix...), Width: m.Width, Height: m.Height, Bands: m.Bands}
	for by := 0; by < m.Height; by += n {
		for bx := 0; bx < m.Width; bx += n {
			for c := range 3 {
				sum, cnt := 0, 0
				for y := by; y < min(by+n, m.Height); y++ {
					for x := bx; x < min(bx+n, m.Width); x++ {
						sum += int(m.Pix[(y*m.Width+x)*m.Bands+c])
						cnt++
					}
				}
				for y := by; y < min(by+n, m.Height); y++ {
					for x := bx; x < min(bx+n, m.Width); x++ {
						out.Pix[(y*m.Width+x)*m.Bands+c] = byte((sum + cnt/2) / cnt)
					}
				}
			}
		}
	}
	return out
}

// shifted returns m moved right by one pixel (the first column repeated).
func shifted(m metric.Image) metric.Image {
	out := metric.Image{Pix: append([]byte(nil), m.Pix...), Width: m.Width, Height: m.Height, Bands: m.Bands}
	b := m.Bands
	for y := range m.Height {
		row := y * m.Width * b
		copy(out.Pix[row+b:row+m.Width*b], m.Pix[row:row+(m.Width-1)*b])
	}
	return out
}

// goldenCases returns named (reference, distorted) pairs over many sizes,
// thin strips, alpha and several distortions.
func goldenCases() []struct {
	name     string
	ref, dis metric.Image
} {
	var cs []struct {
		name     string
		ref, dis metric.Image
	}
	add := func(name string, ref, dis metric.Image) {
		cs = append(cs, struct {
			name     string
			ref, dis metric.Image
		}{name, ref, dis})
	}
	sizes := [][2]int{{8, 8}, {11, 11}, {12, 9}, {9, 12}, {16, 16}, {17, 13}, {37, 23}, {64, 10},
		{10, 64}, {300, 12}, {12, 300}, {100, 33}, {131, 67}, {256, 256}, {301, 199}, {640, 427}}
	for i, s := range sizes {
		ref := fromImage(scene(s[0], s[1], int64(40+i), false))
		name := fmt.Sprintf("%dx%d", s[0], s[1])
		add(name+"/noise3", ref, noisy(ref, 3, 1))
		add(name+"/noise12", ref, noisy(ref, 12, 2))
		add(name+"/blocky", ref, blocky(ref, 4))
		add(name+"/shift", ref, shifted(ref))
		if s[0]*s[1] <= 40000 || i == len(sizes)-1 {
			a := fromImage(scene(s[0], s[1], int64(70+i), true))
			add(name+"/alpha-noise", a, noisy(a, 6, 3))
			add(name+"/alpha-blocky", a, blocky(a, 3))
		}
	}
	big := fromImage(scene(1200, 800, 8, false))
	add("1200x800/noise4", big, noisy(big, 4, 9))
	add("1200x800/blocky", big, blocky(big, 8))
	return cs
}

// mapHash returns a hash of every value of the final map (before its
// maximum is taken) of the comparisons of dis with ref, so that a change
// anywhere in the map shows, not only at its maximum.
func mapHash(t *testing.T, ref, dis metric.Image) uint64 {
	r, err := NewReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	h := fnv.New64a()
	if r.small() {
		return h.Sum64()
	}
	k := r.get()
	defer r.put(k)
	var b [4]byte
	for i, bg := range []int{0, 255} {
		if i == 1 && r.opsin[1] == nil && opaque(dis) {
			break
		}
		c0 := r.opsin[0]
		if bg != 0 && r.opsin[1] != nil {
			c0 = r.opsin[1]
		}
		k.start(dis, bg, c0)
		st := k.f.diffmap.step
		for y := range k.h - 5 {
			cr := k.dm.row(y / st)
			k.mapRow(y, k.pmRow)
			for x, v := range k.pmRow {
				bin.LittleEndian.PutUint32(b[:], math.Float32bits(float32(float64(v)+diffmapMul*float64(cr[x/st]))))
				h.Write(b[:])
			}
		}
	}
	return h.Sum64()
}

// TestGolden checks the exact results, with the AVX2 kernels where the
// processor has them and without.
func TestGolden(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t.Run("default", testGolden)
	if haveAVX2 {
		t.Run("scalar", func(t *testing.T) {
			haveAVX2 = false
			defer func() { haveAVX2 = true }()
			testGolden(t)
		})
	}
}

func testGolden(t *testing.T) {
	var got strings.Builder
	for _, c := range goldenCases() {
		d := distance(t, c.ref, c.dis)
		if math.IsNaN(d) {
			t.Errorf("%s: NaN", c.name)
		}
		fmt.Fprintf(&got, "%s %016x %g map %016x\n", c.name, math.Float64bits(d), d, mapHash(t, c.ref, c.dis))
	}
	if os.Getenv("BUTTERAUGLI_GOLDEN_UPDATE") == "1" {
		if err := os.WriteFile(goldenPath, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
	if len(gl) != len(wl) {
		t.Fatalf("%d results, golden file has %d", len(gl), len(wl))
	}
	for i := range gl {
		if gl[i] != wl[i] {
			t.Errorf("got %q, want %q", gl[i], wl[i])
		}
	}
}
