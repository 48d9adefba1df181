package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/scan"
)

// OptimizeDeps are what the optimize command needs.
type OptimizeDeps struct {
	Engine  *optimize.Engine
	Fetcher *fetch.Fetcher
	// Progress reports whether to draw a progress bar on stderr.
	Progress bool
}

type optimizeFlags struct {
	formats  string
	quality  string
	target   string
	width    float64
	height   float64
	dpr      float64
	keepMeta bool
	out      string
	json     bool
	minSave  int64
	budget   float64
	variants bool
}

// OptimizeCommand is `imgdiet-host optimize`: the engine on files and URLs.
func OptimizeCommand(deps func() OptimizeDeps) Command {
	return Command{
		Summary: "optimize image files or http(s) URLs: optimize [flags] INPUT...",
		Run: func(args []string, stdout, stderr io.Writer) int {
			return runOptimize(args, stdout, stderr, deps)
		},
	}
}

func runOptimize(args []string, stdout, stderr io.Writer, depsFn func() OptimizeDeps) int {
	var f optimizeFlags
	fs := newOptimizeFlags(&f, stderr)
	inputs, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if len(inputs) == 0 {
		fmt.Fprintln(stderr, "optimize: name at least one file or URL")
		fs.Usage()
		return ExitUsage
	}
	opt, err := f.options()
	if err != nil {
		fmt.Fprintf(stderr, "optimize: %v\n", err)
		return ExitUsage
	}
	if f.out != "" {
		if err := os.MkdirAll(f.out, 0o755); err != nil {
			fmt.Fprintf(stderr, "optimize: cannot create the output folder: %v\n", err)
			return ExitFail
		}
	}
	deps := depsFn()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	results := make([]proto.Result, len(inputs))
	outputs := make([]*optimize.Output, len(inputs))
	variants := make([][]optimize.Variant, len(inputs))
	var done int
	var mu sync.Mutex
	bar := newProgress(stderr, len(inputs), deps.Progress && !f.json)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.NumCPU(), len(inputs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res, best, vs := optimizeOne(ctx, deps, inputs[i], opt, f)
				res.Index = i
				mu.Lock()
				results[i], outputs[i], variants[i] = res, best, vs
				done++
				bar.set(done)
				mu.Unlock()
			}
		}()
	}
	for i := range inputs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	bar.finish()

	status := ExitOK
	var sum proto.Summary
	sum.Images = len(inputs)
	for i, r := range results {
		switch r.Status {
		case proto.StatusOptimized:
			sum.Optimized++
			sum.OriginalBytes += r.Original.Bytes
			sum.OptimizedBytes += r.Best.Bytes
			if f.out != "" {
				name := outName(inputs[i], outputs[i].Format)
				if err := os.WriteFile(filepath.Join(f.out, name), outputs[i].Data, 0o644); err != nil {
					fmt.Fprintf(stderr, "optimize: could not write %s: %v\n", name, err)
					status = ExitFail
				}
			}
		case proto.StatusOptimal:
			sum.Optimal++
			sum.OriginalBytes += r.Original.Bytes
			sum.OptimizedBytes += r.Original.Bytes
		default:
			sum.Failed++
			status = ExitFail
		}
		if err := writeVariants(f.out, inputs[i], variants[i]); err != nil {
			fmt.Fprintf(stderr, "optimize: could not write the variants of %s: %v\n", inputs[i], err)
			status = ExitFail
		}
	}
	sum.SavedBytes = sum.OriginalBytes - sum.OptimizedBytes
	sum.ElapsedMs = time.Since(start).Milliseconds()
	if f.json {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			_ = enc.Encode(r)
		}
		_ = enc.Encode(proto.Done{Type: proto.TypeDone, Canceled: ctx.Err() != nil, Summary: sum})
		return status
	}
	printTable(stdout, inputs, results, sum)
	return status
}

// newOptimizeFlags declares the optimize command's flags into f.
func newOptimizeFlags(f *optimizeFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("optimize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.formats, "formats", "jpeg,png,webp,avif", "output formats to try, comma-separated (jpeg,png,webp,avif,gif,svg)")
	fs.StringVar(&f.quality, "quality", "auto", `"auto" (perceptual target) or a number 1-100 for every encoder`)
	fs.StringVar(&f.target, "target", "balanced", "perceptual target for auto quality: high, balanced or small")
	fs.Float64Var(&f.width, "width", 0, "displayed width in CSS pixels (resize to width×dpr when larger)")
	fs.Float64Var(&f.height, "height", 0, "displayed height in CSS pixels")
	fs.Float64Var(&f.dpr, "dpr", 1, "device pixel ratio")
	fs.BoolVar(&f.keepMeta, "keep-metadata", false, "keep EXIF/XMP/ICC metadata (stripped by default)")
	fs.StringVar(&f.out, "out", "", "write the best file per input into this folder")
	fs.BoolVar(&f.json, "json", false, "print one JSON result per input, then a done line")
	fs.Int64Var(&f.minSave, "min-savings", 0, "smallest saving in bytes that counts as optimized")
	fs.BoolVar(&f.variants, "variants", false, "also make responsive variants at --width ×1 and ×2 (capped at the original width), in the best format's chain; --json lists them on the result line, --out writes them into a folder per image")
	fs.Float64Var(&f.budget, "budget", scan.DefaultImageBudget.Seconds(), "seconds of work allowed per image (1-600); when they run out the best checked candidate so far is kept")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: imgdiet-host optimize [flags] INPUT...\n\nINPUT is an image file or an http(s) URL.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs
}

func (f optimizeFlags) options() (optimize.Options, error) {
	opt := optimize.Options{
		Target:        f.target,
		Resize:        f.width > 0 || f.height > 0,
		DisplayWidth:  f.width,
		DisplayHeight: f.height,
		DPR:           f.dpr,
		KeepMetadata:  f.keepMeta,
	}
	// The same bounds as the scan setting imageBudgetSeconds.
	if math.IsNaN(f.budget) || f.budget < scan.MinImageBudget.Seconds() || f.budget > scan.MaxImageBudget.Seconds() {
		return opt, fmt.Errorf("--budget must be a number of seconds from %v to %v", scan.MinImageBudget.Seconds(), scan.MaxImageBudget.Seconds())
	}
	opt.Budget = time.Duration(f.budget * float64(time.Second))
	for _, s := range strings.Split(f.formats, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "jpg" {
			s = "jpeg"
		}
		switch s {
		case "jpeg", "png", "webp", "avif", "gif", "svg":
			opt.Formats = append(opt.Formats, s)
		case "":
		default:
			return opt, fmt.Errorf("unknown format %q in --formats", s)
		}
	}
	if len(opt.Formats) == 0 {
		return opt, errors.New("--formats names no format")
	}
	if f.quality != "auto" {
		q, err := strconv.Atoi(f.quality)
		if err != nil || q < 1 || q > 100 {
			return opt, errors.New(`--quality must be "auto" or a number from 1 to 100`)
		}
		opt.Quality = q
	}
	switch f.target {
	case "high", "balanced", "small":
	default:
		return opt, errors.New("--target must be high, balanced or small")
	}
	if f.dpr <= 0 || math.IsNaN(f.dpr) {
		return opt, errors.New("--dpr must be greater than 0")
	}
	if f.variants && !(f.width >= 0.5) {
		return opt, errors.New("--variants needs --width, the width the image is shown at")
	}
	return opt, nil
}

// parseInterspersed lets flags come before or after the inputs.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var inputs []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return inputs, nil
		}
		if args[0] == "--" {
			return append(inputs, args[1:]...), nil
		}
		inputs = append(inputs, args[0])
		args = args[1:]
	}
}

func isURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

func optimizeOne(ctx context.Context, deps OptimizeDeps, input string, opt optimize.Options, f optimizeFlags) (proto.Result, *optimize.Output, []optimize.Variant) {
	res, best, rep, src := optimizeMain(ctx, deps, input, opt, f.minSave)
	if !f.variants || res.Status == proto.StatusError {
		return res, best, nil
	}
	ws, _ := scan.VariantWidths(proto.Image{DisplayWidth: f.width}, &res)
	if len(ws) == 0 {
		return res, best, nil
	}
	bestFormat := ""
	if res.Best != nil {
		bestFormat = res.Best.Format
	}
	vr, err := deps.Engine.Variants(ctx, src, optimize.VariantRequest{Widths: ws, Formats: scan.VariantChain(bestFormat, rep.Source.Format, rep.Alpha),
		Main: rep, Quality: opt.Quality, Target: opt.Target, KeepMetadata: opt.KeepMetadata, Budget: opt.Budget})
	if err != nil {
		res.Note = strings.TrimSpace(res.Note + " The responsive widths could not be made: " + proto.Public(err).Message)
		return res, best, nil
	}
	if vr.Note != "" {
		res.Note = strings.TrimSpace(res.Note + " " + vr.Note)
	}
	for _, v := range vr.Variants {
		pv := proto.Variant{Width: v.Width, Height: v.Height}
		for _, o := range v.Files {
			vf := proto.VariantFile{Format: o.Format, Bytes: int64(len(o.Data)), Quality: o.Quality}
			if o.Distance > 0 {
				vf.Distance = scan.RoundDistance(o.Distance)
			}
			pv.Files = append(pv.Files, vf)
		}
		res.Variants = append(res.Variants, pv)
	}
	return res, best, vr.Variants
}

// writeVariants writes vs into dir/<base>/<base>-<width>w.<ext> (nothing
// when dir is "" or there are none).
func writeVariants(dir, input string, vs []optimize.Variant) error {
	if dir == "" || len(vs) == 0 {
		return nil
	}
	base := outName(input, "")
	if err := os.MkdirAll(filepath.Join(dir, base), 0o755); err != nil {
		return err
	}
	for _, v := range vs {
		for _, o := range v.Files {
			name := fmt.Sprintf("%s-%dw%s", base, v.Width, optimize.ExtFor(o.Format))
			if err := os.WriteFile(filepath.Join(dir, base, name), o.Data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// optimizeMain makes input's answer; it also returns the engine's report
// and the source bytes, for the variants.
func optimizeMain(ctx context.Context, deps OptimizeDeps, input string, opt optimize.Options, minSave int64) (proto.Result, *optimize.Output, optimize.Report, []byte) {
	res := proto.Result{Type: proto.TypeResult, Final: true, URL: input}
	// A single pass: its answer is final, verified unless Note says why.
	var src []byte
	var err error
	if isURL(input) {
		// The user named this URL: it is its own page, so a loopback or
		// private address is as reachable as the user meant it to be.
		var resp *fetch.Response
		if resp, err = deps.Fetcher.Fetch(ctx, input, input); err == nil {
			src = resp.Body
		}
	} else {
		src, err = readLimited(input, 256<<20)
	}
	if err == nil {
		var rep optimize.Report
		if rep, err = deps.Engine.Optimize(ctx, src, opt); err == nil {
			res.Original = &proto.Original{Bytes: rep.Source.Bytes, Format: rep.Source.Format, Width: rep.Source.Width, Height: rep.Source.Height, Animated: rep.Source.Animated}
			for _, c := range rep.Candidates {
				pc := proto.Candidate{Format: c.Format, Bytes: int64(len(c.Data)), Width: c.Width, Height: c.Height, Quality: c.Quality}
				if rep.Verified && c.Distance > 0 {
					pc.Distance = scan.RoundDistance(c.Distance)
				}
				res.Candidates = append(res.Candidates, pc)
			}
			for _, sk := range rep.Skipped {
				res.Skipped = append(res.Skipped, proto.Skip{Format: sk.Format, Reason: sk.Reason})
			}
			res.Status = proto.StatusOptimal
			res.Verified, res.Note = rep.Verified, rep.Note
			if b := rep.Best; b != nil && rep.Source.Bytes-int64(len(b.Data)) >= max(minSave, 1) {
				res.Status = proto.StatusOptimized
				res.Best = &proto.Candidate{Format: b.Format, Bytes: int64(len(b.Data)), Width: b.Width, Height: b.Height, Quality: b.Quality}
				if rep.Verified && b.Distance > 0 {
					res.Best.Distance = scan.RoundDistance(b.Distance)
				}
				res.SavedBytes = rep.Source.Bytes - res.Best.Bytes
				res.SavedPercent = math.Round(float64(res.SavedBytes)*1000/float64(rep.Source.Bytes)) / 10
				res.Reasons = b.Reasons
				return res, b, rep, src
			}
			return res, nil, rep, src
		}
	}
	perr := proto.Public(err)
	res.Status = proto.StatusError
	res.Error = &proto.Error{Code: perr.Code, Message: perr.Message, HTTPStatus: perr.HTTPStatus}
	return res, nil, optimize.Report{}, nil
}

func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, proto.Wrap(proto.CodeFetchFailed, "The file could not be opened.", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, proto.Wrap(proto.CodeFetchFailed, "The file could not be read.", err)
	}
	if int64(len(b)) > limit {
		return nil, proto.Errorf(proto.CodeTooLarge, "The file is larger than %d MB.", limit>>20)
	}
	return b, nil
}

// outName is the input's base name with the new format's extension.
func outName(input, format string) string {
	base := input
	if isURL(input) {
		if i := strings.IndexAny(base, "?#"); i >= 0 {
			base = base[:i]
		}
		base = base[strings.LastIndex(base, "/")+1:]
	} else {
		base = filepath.Base(base)
	}
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if base == "" || base == "." {
		base = "image"
	}
	return base + optimize.ExtFor(format)
}

func printTable(w io.Writer, inputs []string, results []proto.Result, sum proto.Summary) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tORIGINAL\tBEST\tNEW SIZE\tSAVED\t")
	for i, r := range results {
		name := inputs[i]
		switch r.Status {
		case proto.StatusOptimized:
			fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%.1f %%\t\n", name, HumanBytes(r.Original.Bytes), r.Original.Format, r.Best.Format, HumanBytes(r.Best.Bytes), r.SavedPercent)
		case proto.StatusOptimal:
			fmt.Fprintf(tw, "%s\t%s %s\t(kept)\t%s\t0 %%\t\n", name, HumanBytes(r.Original.Bytes), r.Original.Format, HumanBytes(r.Original.Bytes))
		default:
			fmt.Fprintf(tw, "%s\t\terror\t\t\t  %s\n", name, r.Error.Message)
		}
	}
	pct := 0.0
	if sum.OriginalBytes > 0 {
		pct = float64(sum.SavedBytes) * 100 / float64(sum.OriginalBytes)
	}
	fmt.Fprintf(tw, "TOTAL\t%s\t\t%s\t%.1f %%\t\n", HumanBytes(sum.OriginalBytes), HumanBytes(sum.OptimizedBytes), pct)
	tw.Flush()
	for i, r := range results {
		if r.Note != "" {
			fmt.Fprintf(w, "note: %s: %s\n", inputs[i], r.Note)
		}
	}
}

// HumanBytes formats n as "12.3 kB" / "1.2 MB" (powers of 1000).
func HumanBytes(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1000)
	default:
		return fmt.Sprintf("%.2f MB", float64(n)/1e6)
	}
}

// progress draws a one-line bar on a terminal.
type progress struct {
	w     io.Writer
	total int
	on    bool
}

func newProgress(w io.Writer, total int, on bool) *progress {
	p := &progress{w: w, total: total, on: on}
	p.set(0)
	return p
}

func (p *progress) set(n int) {
	if !p.on {
		return
	}
	const width = 30
	fill := width * n / max(p.total, 1)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), n, p.total)
}

func (p *progress) finish() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
