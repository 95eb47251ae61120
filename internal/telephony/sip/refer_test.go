package sip

import (
	"errors"
	"testing"
)

func TestParseReferTo(t *testing.T) {
	for _, c := range []struct {
		in                     string
		scheme, user, host     string
		port                   int
		callID, toTag, fromTag string
	}{
		{in: "<sip:1002@127.0.0.1:5060>", scheme: "sip", user: "1002", host: "127.0.0.1", port: 5060},
		{in: "sip:1002@pbx.example.com", scheme: "sip", user: "1002", host: "pbx.example.com"},
		{in: `"Bob" <sip:bob@10.0.0.2;transport=udp>;method=INVITE`, scheme: "sip", user: "bob", host: "10.0.0.2"},
		{in: "<tel:+34911234567>", scheme: "tel", user: "+34911234567"},
		{in: "<sip:1002@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D11%3Bfrom-tag%3D22>", scheme: "sip", user: "1002", host: "127.0.0.1",
			callID: "abc@host", toTag: "11", fromTag: "22"},
		{in: "<sip:1002@127.0.0.1?Subject=x&replaces=id1;from-tag=f;to-tag=t>", scheme: "sip", user: "1002", host: "127.0.0.1",
			callID: "id1", toTag: "t", fromTag: "f"},
	} {
		rt, err := parseReferTo(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if rt.uri.Scheme != c.scheme || rt.uri.User != c.user || rt.uri.Host != c.host || rt.uri.Port != c.port {
			t.Errorf("%s: %+v", c.in, rt.uri)
		}
		switch {
		case c.callID == "" && rt.replaces != nil:
			t.Errorf("%s: Replaces %+v", c.in, rt.replaces)
		case c.callID != "" && (rt.replaces == nil || rt.replaces.callID != c.callID || rt.replaces.toTag != c.toTag || rt.replaces.fromTag != c.fromTag):
			t.Errorf("%s: Replaces %+v", c.in, rt.replaces)
		}
	}
	for _, in := range []string{"", "<sip:1002@host", "1002", "<mailto:a@b>", "<tel:abc>", "<sip:>",
		"<sip:1002@h?Replaces=%zz>", "<sip:1002@h?Replaces=;to-tag=1>", "<sip:*>"} {
		if rt, err := parseReferTo(in); !errors.Is(err, errReferTo) {
			t.Errorf("%q: %+v %v, want an error", in, rt, err)
		}
	}
}

func FuzzParseReferTo(f *testing.F) {
	for _, s := range []string{
		"<sip:1002@127.0.0.1:5060>", `"B" <sip:b@h;transport=udp>;x=y`, "<tel:+3491>",
		"<sip:1@h?Replaces=a%40b%3Bto-tag%3D1%3Bfrom-tag%3D2>", "sip:a@b;c?d=e", "<sip:a@[::1]:5060>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rt, err := parseReferTo(s)
		if err != nil {
			return
		}
		if rt.uri.Scheme != "tel" && rt.uri.Host == "" {
			t.Fatalf("%q: accepted without a host: %+v", s, rt.uri)
		}
		if rt.replaces != nil && rt.replaces.callID == "" {
			t.Fatalf("%q: Replaces without Call-ID", s)
		}
	})
}

func FuzzParseReplaces(f *testing.F) {
	f.Add("abc@host;to-tag=1;from-tag=2")
	f.Add("x;early-only;to-tag=;from-tag")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseReplaces(s)
		if err == nil && r.callID == "" {
			t.Fatalf("%q: no Call-ID accepted", s)
		}
	})
}
