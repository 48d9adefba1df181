package fetch

import (
	"net/netip"
	"testing"
)

func TestClassOf(t *testing.T) {
	tests := []struct {
		ip   string
		want Class
	}{
		// IPv4.
		{"8.8.8.8", Public},
		{"93.184.216.34", Public},
		{"1.1.1.1", Public},
		{"0.0.0.0", Unspecified},
		{"0.1.2.3", Unspecified},
		{"127.0.0.1", Loopback},
		{"127.255.255.254", Loopback},
		{"10.0.0.1", Private},
		{"172.16.0.1", Private},
		{"172.31.255.255", Private},
		{"172.32.0.1", Public},
		{"192.168.1.1", Private},
		{"169.254.169.254", LinkLocal},
		{"100.64.0.1", CGNAT},
		{"100.127.255.255", CGNAT},
		{"100.128.0.1", Public},
		{"224.0.0.1", Multicast},
		{"239.255.255.250", Multicast},
		{"255.255.255.255", Broadcast},
		{"240.0.0.1", Reserved},
		{"192.0.2.1", Reserved},
		{"198.18.0.1", Reserved},
		{"198.51.100.7", Reserved},
		{"203.0.113.9", Reserved},
		{"192.0.0.8", Reserved},
		{"192.88.99.1", Reserved},

		// IPv6.
		{"2606:4700::1111", Public},
		{"2a00:1450:4001:80b::200e", Public},
		{"::", Unspecified},
		{"::1", Loopback},
		{"fe80::1", LinkLocal},
		{"fe80::1%eth0", LinkLocal},
		{"fc00::1", Private},
		{"fd12:3456::1", Private},
		{"fec0::1", Private},
		{"ff02::1", Multicast},
		{"2001:db8::1", Reserved},
		{"3fff::1", Reserved},
		{"100::1", Reserved},
		{"2001:2::1", Reserved},
		{"4000::1", Reserved}, // outside 2000::/3
		{"::2:3:4:5:6", Reserved},

		// IPv4 hidden in IPv6.
		{"::ffff:127.0.0.1", Loopback},
		{"::ffff:7f00:1", Loopback},
		{"::ffff:10.1.2.3", Private},
		{"::ffff:169.254.169.254", LinkLocal},
		{"::ffff:8.8.8.8", Public},
		{"::127.0.0.1", Loopback},     // IPv4-compatible
		{"::10.0.0.1", Private},       // IPv4-compatible
		{"::8.8.8.8", Reserved},       // IPv4-compatible, public inside: still not routed
		{"64:ff9b::7f00:1", Loopback}, // NAT64
		{"64:ff9b::a9fe:a9fe", LinkLocal},
		{"64:ff9b::808:808", Public},
		{"64:ff9b:1::7f00:1", Loopback},                    // local-use NAT64, /96 layout
		{"64:ff9b:1:7f00:1::", Loopback},                   // local-use NAT64, /48 layout
		{"64:ff9b:1::808:808", Private},                    // local-use NAT64 is local
		{"2002:7f00:1::", Loopback},                        // 6to4
		{"2002:a00:1::1", Private},                         // 6to4 of 10.0.1.0
		{"2002:808:808::1", Public},                        // 6to4 of 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", Loopback}, // Teredo, client 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:f5ff:fffe", Private},  // Teredo, client 10.0.0.1
		{"2001:0:7f00:1:8000:63bf:f7f7:f7f7", Loopback},    // Teredo, server 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", Public},   // Teredo, client 8.8.8.8
		{"2001:4860:1::5efe:7f00:1", Loopback},             // ISATAP
		{"2001:4860:1:0:200:5efe:c0a8:101", Private},       // ISATAP, u bit set
		{"2a00:1::5efe:808:808", Public},                   // ISATAP of a public address
		{"fe80::5efe:a00:1", LinkLocal},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := ClassOf(ip); got != tt.want {
			t.Errorf("ClassOf(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
	if got := ClassOf(netip.Addr{}); got != Invalid {
		t.Errorf("ClassOf(zero) = %v, want invalid", got)
	}
}

func TestClasses(t *testing.T) {
	s := ClassSet(Public, Loopback)
	if !s.Has(Public) || !s.Has(Loopback) || s.Has(Private) || s.Has(Class(200)) {
		t.Errorf("set %v has the wrong members", s)
	}
	if got := s.String(); got != "public+loopback" {
		t.Errorf("String = %q", got)
	}
	if got := Class(77).String(); got != "class(77)" {
		t.Errorf("unknown class String = %q", got)
	}
}
