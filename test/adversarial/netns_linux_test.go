package adversarial

import (
	"os"
	"os/exec"
	"syscall"
)

// nsAddrs are bound to the loopback interface inside the test namespace:
// two public-looking addresses that stand for web servers, and private,
// link-local, CGNAT and IPv6 special addresses that stand for targets a
// public page must never reach.
var nsAddrs = []string{
	pubA + "/32", pubB + "/32",
	"10.0.0.1/32", "172.16.0.1/32", "192.168.0.1/32", "169.254.169.254/32", "100.64.0.1/32",
	"fc00::1/128", "fd12:3456::1/128", "2002:7f00:1::/128", "64:ff9b::7f00:1/128",
	"2001:0:4136:e378:8000:63bf:80ff:fffe/128", "fe80::1/128",
}

// enterNetns re-runs the test binary inside a new user and network
// namespace and returns its exit code, or ok=false when namespaces are
// not available here.
func enterNetns(env []string) (code int, ok bool) {
	ip, err := exec.LookPath("ip")
	if err != nil {
		for _, p := range []string{"/usr/sbin/ip", "/sbin/ip"} {
			if _, err := os.Stat(p); err == nil {
				ip = p
			}
		}
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || ip == "" {
		return 0, false
	}
	if exec.Command(unshare, "--user", "--map-root-user", "--net", "true").Run() != nil {
		return 0, false
	}
	script := `set -e
"$IMGDIET_ADV_IP" link set lo up
for a in $IMGDIET_ADV_ADDRS; do
  case "$a" in *:*) "$IMGDIET_ADV_IP" -6 addr add "$a" dev lo nodad;; *) "$IMGDIET_ADV_IP" addr add "$a" dev lo;; esac
done
exec "$@"`
	args := append([]string{"--user", "--map-root-user", "--net", "--", "/bin/sh", "-c", script, "sh"}, os.Args...)
	cmd := exec.Command(unshare, args...)
	addrs := ""
	for _, a := range nsAddrs {
		addrs += a + " "
	}
	cmd.Env = append(append(os.Environ(), env...), "IMGDIET_ADV_IP="+ip, "IMGDIET_ADV_ADDRS="+addrs)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), true
		}
		return 1, true
	}
	return 0, true
}
