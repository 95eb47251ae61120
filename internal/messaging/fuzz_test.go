package messaging

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckSend feeds outside input (an API body's fields) to the
// validation: it never panics, and what it accepts is what the webhook may
// be sent: a known messenger type, an E.164 number for sms and whatsapp,
// a non-blank text of at most MaxTextRunes characters.
func FuzzCheckSend(f *testing.F) {
	f.Add("+34 911 234 567", "sms", "hola")
	f.Add("+34911234567", "WhatsApp", "Su cita es mañana")
	f.Add("911234567", "sms", "x")
	f.Add("user-42", "open", "hi")
	f.Add("", "fax", "")
	f.Add("+1(555)010-9999", "sms", strings.Repeat("ñ", MaxTextRunes))
	f.Add("+0123", "whatsapp", "\xff")
	f.Fuzz(func(t *testing.T, to, typ, text string) {
		r := SendRequest{ToAddress: to, MessengerType: typ, Text: text}
		if err := checkSend(&r); err != nil {
			return
		}
		switch r.MessengerType {
		case SMS, WhatsApp:
			if !e164.MatchString(r.ToAddress) {
				t.Fatalf("accepted %q as a %s number", r.ToAddress, r.MessengerType)
			}
		case Open:
			if r.ToAddress == "" || len(r.ToAddress) > 255 {
				t.Fatalf("accepted open recipient %q", r.ToAddress)
			}
		default:
			t.Fatalf("accepted messenger type %q", r.MessengerType)
		}
		if strings.TrimSpace(r.Text) == "" || utf8.RuneCountInString(r.Text) > MaxTextRunes || !utf8.ValidString(r.Text) {
			t.Fatalf("accepted text %q", r.Text)
		}
	})
}

// FuzzCheckWebhookURL: never panics; with internal addresses refused,
// anything accepted is https on port 443 without credentials.
func FuzzCheckWebhookURL(f *testing.F) {
	for _, s := range []string{"https://hooks.example.com/sms", "http://127.0.0.1:8080/x", "https://[::1]/x", "https://user@x/",
		"https://example.com:443/a?b=c", "https://10.0.0.1/", "javascript:alert(1)", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if err := CheckWebhookURL(u, false); err != nil {
			return
		}
		if !strings.HasPrefix(u, "https://") || strings.Contains(strings.SplitN(strings.TrimPrefix(u, "https://"), "/", 2)[0], "@") {
			t.Fatalf("accepted %q", u)
		}
	})
}
