package sfemu

import "testing"

func TestChecksum(t *testing.T) {
	// Known pair from Salesforce's documentation of 15→18 character ids.
	if got := "001A0000006Vm9r" + checksum("001A0000006Vm9r"); got != "001A0000006Vm9rIAC" {
		t.Errorf("18-char id = %s, want 001A0000006Vm9rIAC", got)
	}
	e := New()
	defer e.Close()
	id := e.Seed("Lead", map[string]any{"Name": "L", "Company": "C"})
	if len(id) != 18 || id[:3] != "00Q" || id[15:] != checksum(id[:15]) {
		t.Errorf("lead id %q", id)
	}
	if e.Record("Lead", id[:15]) == nil {
		t.Error("15-char lookup failed")
	}
}

func TestParseSOQL(t *testing.T) {
	q, err := parseSOQL(`SELECT Id, Name FROM Contact WHERE Email = 'o\'k\\x' AND IsActive = true ORDER BY Name DESC LIMIT 5`)
	if err != nil {
		t.Fatal(err)
	}
	if q.obj != "Contact" || len(q.fields) != 2 || len(q.where) != 2 || q.where[0].value != `o'k\x` || q.where[1].value != true || !q.desc || q.limit != 5 {
		t.Errorf("parsed %+v", q)
	}
	for _, bad := range []string{"", "SELECT FROM X", "SELECT Id FROM", "SELECT Id FROM X WHERE A = 'x", "SELECT Id FROM X WHERE A = 'x' OR B = 'y'", "SELECT Id FROM X LIMIT -1"} {
		if _, err := parseSOQL(bad); err == nil {
			t.Errorf("parseSOQL(%q) accepted", bad)
		}
	}
}

func TestParseSOSL(t *testing.T) {
	term, scope, rets, limit, err := parseSOSL(`FIND {\+34 \(91\) 555\-01\}01} IN PHONE FIELDS RETURNING Contact(Id,Name LIMIT 3), Account(Id) LIMIT 20`)
	if err != nil {
		t.Fatal(err)
	}
	if term != "+34 (91) 555-01}01" || scope != "PHONE" || len(rets) != 2 || rets[0].limit != 3 || rets[1].obj != "Account" || limit != 20 {
		t.Errorf("parsed %q %q %+v %d", term, scope, rets, limit)
	}
	if _, _, _, _, err := parseSOSL("FIND {x IN PHONE FIELDS"); err == nil {
		t.Error("unterminated term accepted")
	}
}

func TestPhoneDigitsMatch(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"+34 915 55 01 01", "+34915550101", true},
		{"915550101", "+34915550101", true},
		{"0034915550101", "+34915550101", true},
		{"(415) 555-1212", "+14155551212", true},
		{"+34915550102", "+34915550101", false},
		{"101", "+34915550101", false},
		{"", "+34915550101", false},
	} {
		if got := PhoneDigitsMatch(c.a, c.b); got != c.want {
			t.Errorf("PhoneDigitsMatch(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
