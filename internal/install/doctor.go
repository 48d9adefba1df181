package install

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/imagediet/imgdiet/internal/buildinfo"
	"github.com/imagediet/imgdiet/manifests"
)

// HelloTimeout bounds how long doctor waits for a started host to answer.
const HelloTimeout = 5 * time.Second

// wantEncoders are the formats a complete build encodes.
var wantEncoders = []string{"jpeg", "png", "webp", "avif", "gif"}

// report prints doctor's findings and counts failures.
type report struct {
	out      io.Writer
	failures int
}

func (r *report) ok(format string, a ...any) { fmt.Fprintf(r.out, "  ok    "+format+"\n", a...) }
func (r *report) info(format string, a ...any) {
	fmt.Fprintf(r.out, "  --    "+format+"\n", a...)
}
func (r *report) fail(fix, format string, a ...any) {
	r.failures++
	fmt.Fprintf(r.out, "  FAIL  "+format+"\n", a...)
	if fix != "" {
		fmt.Fprintf(r.out, "        fix: %s\n", fix)
	}
}

// Doctor checks libvips in this program and every browser registration of
// the host, starting each registered host as its browser would. It returns
// 0 only when at least one browser is registered and every registration
// works.
func Doctor(o Options, env Env) int {
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	r := &report{out: env.Stdout}
	goos := env.GOOS
	fmt.Fprintln(r.out, "Image Diet host doctor")
	// A helper installed by a package is repaired by the package manager;
	// any other copy by installing the release package (or a source build).
	pkg := packagedExe(env)
	hint := InstallHint(goos, env.GOARCH)
	repair := hint + "; then imgdiet-host doctor"
	if pkg != "" {
		fmt.Fprintf(r.out, "  Installed by the %s package (%s)\n", PackageName, pkg)
		repair = ReinstallCommand(pkg)
	}

	if env.Engine != nil {
		ver, enc := env.Engine()
		switch missing := missingEncoders(enc); {
		case ver == "" || len(enc) == 0:
			r.fail(repair+" (the release bundles libvips)", "libvips does not work in this program")
		case len(missing) > 0:
			r.fail(repair+" (the bundled libvips encodes every format)",
				"libvips %s loads in this program; it encodes %s but not %s", ver, strings.Join(enc, ", "), strings.Join(missing, ", "))
		default:
			r.ok("libvips %s loads in this program; it encodes %s", ver, strings.Join(enc, ", "))
		}
	}

	var recID string
	for _, sys := range []bool{false, true} {
		if dir, err := AppDir(goos, sys, env); err == nil {
			if rec, err := LoadRecord(dir); err == nil && rec != nil && recID == "" {
				recID = rec.ExtensionID
			}
		}
	}
	extID, from, err := resolveExtensionID(o.ExtensionID, recID, env)
	if err != nil {
		fmt.Fprintf(env.Stdout, "imgdiet-host doctor: %v\n", err)
		return 2
	}
	fmt.Fprintf(r.out, "  Expected extension ID: %s (from %s)\n", extID, from)

	browsers, err := expandBrowsers(o.Browsers)
	if err != nil {
		fmt.Fprintf(env.Stdout, "imgdiet-host doctor: %v\n", err)
		return 2
	}
	scopes := []bool{false, true}
	if o.System {
		scopes = []bool{true}
	} else if o.UserOnly {
		scopes = []bool{false}
	}
	launches := map[string]HelloResult{}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = HelloTimeout
	}
	working := 0
	for _, b := range browsers {
		found := false
		for _, sys := range scopes {
			mpath, where, err := findManifest(b, goos, sys, env)
			if err != nil {
				r.fail("", "%s (%s): %v", DisplayName(b), scopeName(sys), err)
				continue
			}
			if mpath == "" {
				continue
			}
			found = true
			fmt.Fprintf(r.out, "%s (%s): %s\n", DisplayName(b), scopeName(sys), where)
			fx := fixes{hint: hint}
			if sys && pkg != "" {
				fx.packaged = ReinstallCommand(pkg)
			}
			if checkManifest(r, b, goos, sys, mpath, extID, fx, timeout, launches) {
				working++
			}
		}
		if !found {
			flag := ""
			if o.System {
				flag = " --system"
			}
			fmt.Fprintf(r.out, "%s: not registered\n", DisplayName(b))
			if pkg != "" {
				r.info("fix (if you use %s): %s (the package registers every browser)", DisplayName(b), ReinstallCommand(pkg))
			} else {
				r.info("fix (if you use %s): imgdiet-host install --browser %s%s", DisplayName(b), b, flag)
			}
		}
	}
	fmt.Fprintln(r.out)
	switch {
	case r.failures > 0:
		fmt.Fprintf(r.out, "%d problem(s) found: see the fix lines above.\n", r.failures)
		return 1
	case working == 0:
		if pkg != "" {
			fmt.Fprintf(r.out, "The host is not registered with any browser. Fix: %s\n", ReinstallCommand(pkg))
		} else {
			fmt.Fprintf(r.out, "The host is not registered with any browser. Fix: %s, or run imgdiet-host install\n", hint)
		}
		return 1
	}
	fmt.Fprintln(r.out, "All is well.")
	return 0
}

func missingEncoders(enc []string) []string {
	var m []string
	for _, w := range wantEncoders {
		if !slices.Contains(enc, w) {
			m = append(m, w)
		}
	}
	return m
}

// findManifest returns browser's manifest path for a scope ("" when not
// registered) and a description of where it was found.
func findManifest(browser, goos string, system bool, env Env) (path, where string, err error) {
	if goos == "windows" {
		if env.reg == nil {
			return "", "", errors.New("the Windows registry is not reachable from this program")
		}
		root, key, err := RegistryKey(browser, system)
		if err != nil {
			return "", "", err
		}
		v, err := env.reg.Default(root, key)
		if err != nil || v == "" {
			return "", "", nil
		}
		return v, fmt.Sprintf(`%s\%s → %s`, root, key, v), nil
	}
	p, err := ManifestPath(browser, goos, system, env)
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", "", nil
	}
	return p, p, nil
}

// fixes are the repairs doctor proposes for one registration.
type fixes struct {
	// packaged is the package manager's reinstall command when a package
	// made the registration, else "".
	packaged string
	// hint is the step that installs the release package on this system.
	hint string
}

// checkManifest runs the checks for one registration and reports whether
// all passed.
func checkManifest(r *report, browser, goos string, system bool, mpath, extID string, fx fixes, timeout time.Duration, launches map[string]HelloResult) bool {
	reinstall := fx.packaged
	if reinstall == "" {
		reinstall = "imgdiet-host install --browser " + browser
		if system {
			reinstall += " --system"
		}
	}
	before := r.failures
	data, err := os.ReadFile(mpath)
	if err != nil {
		r.fail(reinstall, "the manifest cannot be read: %v", errors.Unwrap(err))
		return false
	}
	m, err := manifests.Parse(data)
	if err != nil {
		r.fail(reinstall, "the manifest is not valid JSON")
		return false
	}
	if m.Name != buildinfo.NativeName {
		r.fail(reinstall, "the manifest names %q, not %s", m.Name, buildinfo.NativeName)
	} else {
		r.ok("the manifest names %s", m.Name)
	}
	if m.Type != "stdio" {
		r.fail(reinstall, "the manifest's type is %q, not stdio", m.Type)
	}
	pathOK := false
	switch st, err := os.Stat(m.Path); {
	case !filepath.IsAbs(m.Path):
		r.fail(reinstall, "the host path %q is not absolute", m.Path)
	case err != nil:
		r.fail(reinstall, "the host program %s does not exist", m.Path)
	case !st.Mode().IsRegular():
		r.fail(reinstall, "the host path %s is not a file", m.Path)
	case goos != "windows" && st.Mode().Perm()&0o111 == 0:
		r.fail("chmod +x "+m.Path+" (or "+reinstall+")", "the host program %s is not executable", m.Path)
	default:
		pathOK = true
		r.ok("the host program exists and is executable: %s", m.Path)
	}
	var args []string
	if browser == "firefox" {
		if slices.Contains(m.AllowedExtensions, FirefoxAddonID) {
			r.ok("it allows the add-on %s", FirefoxAddonID)
		} else {
			r.fail(reinstall, "it does not allow the add-on %s (it allows %s)", FirefoxAddonID, orNone(m.AllowedExtensions))
		}
		args = []string{mpath, FirefoxAddonID}
	} else {
		origin := "chrome-extension://" + extID + "/"
		fix := reinstall + " --extension-id ID (the ID shown at chrome://extensions)"
		if fx.packaged != "" {
			fix = "the package allows the released extension only: add Image Diet from the store or from the release's unpacked zip"
		}
		if slices.Contains(m.AllowedOrigins, origin) {
			r.ok("it allows the extension %s", extID)
		} else {
			r.fail(fix,
				"it does not allow the extension %s (it allows %s)", extID, orNone(m.AllowedOrigins))
		}
		args = []string{origin}
		if goos == "windows" {
			args = append(args, "--parent-window=0")
		}
	}
	if pathOK {
		k := m.Path + "\x00" + strings.Join(args, "\x00")
		res, seen := launches[k]
		if !seen {
			res = Hello(m.Path, args, timeout)
			launches[k] = res
		}
		if res.Err != nil {
			fix := reinstall
			if fx.packaged == "" {
				fix = fx.hint + ", or rebuild with scripts/build.sh; then " + reinstall
			}
			if res.Stderr != "" {
				fix = "the host said: " + res.Stderr + "\n        fix: " + fix
			}
			r.fail(fix, "a browser-started host fails: %v", res.Err)
		} else {
			r.ok("a browser-started host answers hello in %d ms (host %s, libvips %s, encodes %s)",
				res.Elapsed.Milliseconds(), orUnknown(res.Version), orUnknown(res.Libvips), orNone(res.Encoders))
		}
	}
	return r.failures == before
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// HelloResult is what a host started by Hello answered.
type HelloResult struct {
	// Version is the host's version; Libvips and Encoders what it runs.
	Version, Libvips string
	Encoders         []string
	// Elapsed is the time from start to the reply.
	Elapsed time.Duration
	// Err says what went wrong; nil when the host answered hello.
	Err error
	// Stderr is the last line the host wrote to stderr (when it failed).
	Stderr string
}

// Hello starts the host at path with args as a browser does (working
// folder = its own folder), sends a native-messaging hello and waits up to
// timeout for the matching reply, then closes its stdin and waits for it to
// exit.
func Hello(path string, args []string, timeout time.Duration) HelloResult {
	start := time.Now()
	cmd := exec.Command(path, args...)
	cmd.Dir = filepath.Dir(path)
	stderr := &tailBuffer{max: 4096}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return HelloResult{Err: err}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return HelloResult{Err: err}
	}
	if err := cmd.Start(); err != nil {
		return HelloResult{Err: fmt.Errorf("it cannot be started (%v)", errors.Unwrap(err))}
	}
	exited := make(chan error, 1)
	replies := make(chan HelloResult, 1)
	go func() {
		replies <- readHello(stdout)
	}()
	req, _ := json.Marshal(map[string]any{"type": "hello", "id": "doctor", "protocol": buildinfo.Protocol})
	frame := binary.NativeEndian.AppendUint32(nil, uint32(len(req)))
	stdin.Write(append(frame, req...))

	var res HelloResult
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res = <-replies:
	case <-timer.C:
		res.Err = fmt.Errorf("no hello reply within %s", timeout)
	}
	res.Elapsed = time.Since(start)
	stdin.Close()
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if res.Err == nil && err != nil {
			res.Err = fmt.Errorf("it answered but did not exit cleanly when its input closed (%v)", err)
		}
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		<-exited
		if res.Err == nil {
			res.Err = errors.New("it answered but did not exit within 3 s of its input closing")
		}
	}
	if res.Err != nil {
		res.Stderr = stderr.lastLine()
	}
	return res
}

// readHello reads frames until the reply to the doctor's hello.
func readHello(r io.Reader) HelloResult {
	for {
		var n uint32
		if err := binary.Read(r, binary.NativeEndian, &n); err != nil {
			return HelloResult{Err: errors.New("it exited without answering")}
		}
		if n > 1<<20 {
			return HelloResult{Err: fmt.Errorf("it sent a %d-byte frame, above the 1 MiB browsers accept", n)}
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return HelloResult{Err: errors.New("it exited in the middle of a message")}
		}
		var m struct {
			Type string `json:"type"`
			ID   string `json:"id"`
			Host struct {
				Version string `json:"version"`
			} `json:"host"`
			Engine struct {
				Libvips string `json:"libvips"`
			} `json:"engine"`
			Encoders []string `json:"encoders"`
			Error    struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return HelloResult{Err: errors.New("it wrote something that is not a JSON message to stdout")}
		}
		switch {
		case m.Type == "error":
			return HelloResult{Err: fmt.Errorf("it answered with an error: %s (%s)", m.Error.Message, m.Error.Code)}
		case m.ID != "doctor":
			continue
		case m.Type != "hello":
			return HelloResult{Err: fmt.Errorf("it answered %q instead of hello", m.Type)}
		}
		return HelloResult{Version: m.Host.Version, Libvips: m.Engine.Libvips, Encoders: m.Encoders}
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(bytes.ToValidUTF8(t.b, nil))), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
