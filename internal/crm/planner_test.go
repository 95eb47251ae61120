package crm_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/centralita/centralita/internal/crm"
)

const uuidContact = "0b7c2f3e-1d2a-4c5b-9e8f-123456789abc"

// seedCenter is seed 002's call center: externalData and defaultNewRowData
// as in its XML, a Contact new-record form, search page on several matches.
func seedCenter() crm.CallCenter {
	return crm.CallCenter{
		ID: "cc1", Name: "Seed", Connector: "salesforce",
		ExternalData: []crm.Mapping{{Field: "neoContactId__c", Source: "contactId"},
			{Field: "neoBaseId__c", Source: "contactBaseId"}, {Field: "neoCrmId__c", Source: "crmId"}},
		DefaultNewRowData: []crm.Mapping{{Field: "neoContactId__c", Source: "contactId"},
			{Field: "neoBaseId__c", Source: "contactBaseId"}, {Field: "neoCrmId__c", Source: "crmId"},
			{Field: "Phone", Source: "phoneNumber"}},
		UseTaskDescriptionField: true, SaveActivityLog: true, AutomaticContactRelease: -1,
		Layout: crm.Layout{NoMatch: "new", NewRecordType: "Contact", SingleMatch: "open", MultipleMatches: "search"},
	}
}

// inbound is the call data of an inbound call matched by a DNI key
// (internal/app/outbound.go's shape).
func inbound() crm.CallData {
	return crm.CallData{
		"callCampaing": "camp1", "callDialer": "inbound", "callId": "", "callQueue": "q1", "callReason": "Entrante",
		"phoneNumber": "+5491155550000", "contactBaseId": "list1", "campaignCrmId": "sc1", "campaignBaseId": "list1",
		"userOutCampaign": "", "crmId": "sc1", "contactId": uuidContact, "crmKey": "31987456",
		"SearchBy": "DNI__c", "SearchData": "31987456", "CLAVESF": uuidContact + "-31987456",
	}
}

func with(cd crm.CallData, kv ...string) crm.CallData {
	c := maps.Clone(cd)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			delete(c, kv[i])
			continue
		}
		c[kv[i]] = kv[i+1]
	}
	return c
}

func rec(typ, id string) crm.Record { return crm.Record{Type: typ, ID: id, Name: typ + " " + id} }

var five = []string{"Contact", "Account", "Lead", "Opportunity", "Company"}

var seedUpdates = map[string]string{"neoContactId__c": uuidContact, "neoBaseId__c": "list1", "neoCrmId__c": "sc1"}
var seedDefaults = map[string]string{"neoContactId__c": uuidContact, "neoBaseId__c": "list1", "neoCrmId__c": "sc1", "Phone": "+5491155550000"}

func TestPlanCall(t *testing.T) {
	cases := []struct {
		name   string
		cd     crm.CallData
		cc     func(*crm.CallCenter)
		search *crm.Query // nil: no search
		data   string     // Plan.SearchData
	}{
		{"key field", inbound(), nil,
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"priority sets the types", inbound(), func(c *crm.CallCenter) { c.SearchTypePriority = []string{"Contact", "Account"} },
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: []string{"Contact", "Account"}}, "31987456"},
		{"priority canonical, unknown and repeats dropped", inbound(), func(c *crm.CallCenter) { c.SearchTypePriority = []string{"lead", "Bogus", "Lead", " account "} },
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: []string{"Lead", "Account"}}, "31987456"},
		{"empty priority = five types", inbound(), func(c *crm.CallCenter) { c.SearchTypePriority = []string{} },
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"phoneNumber", with(inbound(), "SearchBy", "phoneNumber", "SearchData", "+54 9 11 5555-0000"), nil,
			&crm.Query{Phone: "+5491155550000", Types: five}, "+54 9 11 5555-0000"},
		{"phone field", with(inbound(), "SearchBy", "MobilePhone", "SearchData", "+5491155550001"), nil,
			&crm.Query{Phone: "+5491155550001", Types: five}, "+5491155550001"},
		{"telefono field", with(inbound(), "SearchBy", "TELEFONO", "SearchData", "(011) 5555-0000"), nil,
			&crm.Query{Phone: "0115555" + "0000", Types: five}, "(011) 5555-0000"},
		{"value is the caller's number", with(inbound(), "SearchBy", "Celu", "SearchData", "+5491155550000"), nil,
			&crm.Query{Phone: "+5491155550000", Types: five}, "+5491155550000"},
		{"Id searches record ids", with(inbound(), "SearchBy", "Id", "SearchData", "003000000000001AAA"), nil,
			&crm.Query{Field: "Id", Value: "003000000000001AAA", Types: five}, "003000000000001AAA"},
		{"SearchData is the CLAVESF: its data part", with(inbound(), "SearchData", uuidContact+"-31987456"), nil,
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"CLAVESF with dashes in the data", with(inbound(), "SearchData", uuidContact+"-20-31987456-3"), nil,
			&crm.Query{Field: "DNI__c", Value: "20-31987456-3", Types: five}, "20-31987456-3"},
		{"data with dashes is not a CLAVESF", with(inbound(), "SearchData", "20-31987456-3"), nil,
			&crm.Query{Field: "DNI__c", Value: "20-31987456-3", Types: five}, "20-31987456-3"},
		{"SearchData empty: CLAVESF's data", with(inbound(), "SearchData", ""), nil,
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"Neotel numeric CLAVESF without contactId", with(inbound(), "contactId", "<del>", "SearchData", "<del>", "CLAVESF", "4711-31987456"), nil,
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"UUID CLAVESF without contactId", with(inbound(), "contactId", "<del>", "SearchData", "<del>"), nil,
			&crm.Query{Field: "DNI__c", Value: "31987456", Types: five}, "31987456"},
		{"hidden number: CLAVESF <contactId>- skips the search", with(inbound(), "SearchBy", "Phone", "SearchData", uuidContact+"-", "CLAVESF", uuidContact+"-", "phoneNumber", ""), nil,
			nil, ""},
		{"hidden number: SearchData empty, CLAVESF <contactId>-", with(inbound(), "SearchData", "", "CLAVESF", uuidContact+"-"), nil,
			nil, ""},
		{"blank SearchData", with(inbound(), "SearchData", "   ", "CLAVESF", "<del>"), nil, nil, ""},
		{"no call data at all", crm.CallData{}, nil, nil, ""},
		{"nil call data", nil, nil, nil, ""},
		{"no SearchBy, number-like value: phone", crm.CallData{"SearchData": "+54 11 5555 0000"}, nil,
			&crm.Query{Phone: "+541155550000", Types: five}, "+54 11 5555 0000"},
		{"no SearchBy, other value: no search", crm.CallData{"SearchData": "31987456x"}, nil, nil, "31987456x"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := seedCenter()
			if c.cc != nil {
				c.cc(&cc)
			}
			p := crm.PlanCall(c.cd, cc)
			if !reflect.DeepEqual(p.Search, c.search) {
				t.Fatalf("Search = %+v, want %+v", p.Search, c.search)
			}
			if p.SearchData != c.data {
				t.Errorf("SearchData = %q, want %q", p.SearchData, c.data)
			}
			if p.SearchBy != c.cd["SearchBy"] {
				t.Errorf("SearchBy = %q, want %q", p.SearchBy, c.cd["SearchBy"])
			}
			if p.Search == nil {
				// no search: the no-match layout applies, whatever is passed
				d := p.Decide([]crm.Record{rec("Contact", "a")})
				if d.Action.Kind != "new" || d.Action.Type != "Contact" || d.Updates != nil {
					t.Errorf("no search: decision %+v, want the new-record form", d)
				}
			}
		})
	}
}

func TestPlanCallPriorityIsACopy(t *testing.T) {
	cc := seedCenter()
	cc.SearchTypePriority = []string{"Contact", "Account"}
	p := crm.PlanCall(inbound(), cc)
	p.Search.Types[0] = "X"
	p.Priority[1] = "Y"
	if cc.SearchTypePriority[0] != "Contact" || cc.SearchTypePriority[1] != "Account" {
		t.Fatalf("the plan shares the call center's priority: %v", cc.SearchTypePriority)
	}
	q := crm.PlanCall(inbound(), seedCenter())
	q.Search.Types[0] = "X"
	if crm.SearchTypesDefault[0] != "Contact" {
		t.Fatal("the plan shares the default types")
	}
}

func TestPlanLayoutAndMappings(t *testing.T) {
	cases := []struct {
		name                  string
		cc                    func(*crm.CallCenter)
		cd                    crm.CallData
		onNone, onOne, onMany crm.Action
		updates               map[string]string
	}{
		{"seed", nil, inbound(),
			crm.Action{Kind: "new", Type: "Contact", Defaults: seedDefaults}, crm.Action{Kind: "open"}, crm.Action{Kind: "search"}, seedUpdates},
		{"new Lead, any case", func(c *crm.CallCenter) {
			c.Layout = crm.Layout{NoMatch: "NEW", NewRecordType: "lead", SingleMatch: "Open", MultipleMatches: "SEARCH"}
		}, inbound(),
			crm.Action{Kind: "new", Type: "Lead", Defaults: seedDefaults}, crm.Action{Kind: "open"}, crm.Action{Kind: "search"}, seedUpdates},
		{"new without a type is a Contact", func(c *crm.CallCenter) { c.Layout.NewRecordType = "" }, inbound(),
			crm.Action{Kind: "new", Type: "Contact", Defaults: seedDefaults}, crm.Action{Kind: "open"}, crm.Action{Kind: "search"}, seedUpdates},
		{"all none", func(c *crm.CallCenter) {
			c.Layout = crm.Layout{NoMatch: "none", NewRecordType: "Contact", SingleMatch: "none", MultipleMatches: "none"}
		}, inbound(),
			crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, seedUpdates},
		{"empty layout is none", func(c *crm.CallCenter) { c.Layout = crm.Layout{} }, inbound(),
			crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, seedUpdates},
		{"unknown layout values are none", func(c *crm.CallCenter) {
			c.Layout = crm.Layout{NoMatch: "popup", SingleMatch: "yes", MultipleMatches: "list"}
		}, inbound(),
			crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, crm.Action{Kind: "none"}, seedUpdates},
		{"missing sources are empty", nil, crm.CallData{"SearchBy": "DNI__c", "SearchData": "1", "contactId": "c9"},
			crm.Action{Kind: "new", Type: "Contact", Defaults: map[string]string{"neoContactId__c": "c9", "neoBaseId__c": "", "neoCrmId__c": "", "Phone": ""}},
			crm.Action{Kind: "open"}, crm.Action{Kind: "search"},
			map[string]string{"neoContactId__c": "c9", "neoBaseId__c": "", "neoCrmId__c": ""}},
		{"no mappings", func(c *crm.CallCenter) { c.ExternalData, c.DefaultNewRowData = nil, nil }, inbound(),
			crm.Action{Kind: "new", Type: "Contact"}, crm.Action{Kind: "open"}, crm.Action{Kind: "search"}, nil},
		{"mappings without a field are skipped; the last of a field wins", func(c *crm.CallCenter) {
			c.ExternalData = []crm.Mapping{{Field: "", Source: "contactId"}, {Field: "X__c", Source: "callQueue"}, {Field: "X__c", Source: "callCampaing"}}
			c.DefaultNewRowData = []crm.Mapping{{Field: "", Source: "phoneNumber"}}
		}, inbound(),
			crm.Action{Kind: "new", Type: "Contact"}, crm.Action{Kind: "open"}, crm.Action{Kind: "search"}, map[string]string{"X__c": "camp1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := seedCenter()
			if c.cc != nil {
				c.cc(&cc)
			}
			p := crm.PlanCall(c.cd, cc)
			if !reflect.DeepEqual(p.OnNone, c.onNone) {
				t.Errorf("OnNone = %+v, want %+v", p.OnNone, c.onNone)
			}
			if !reflect.DeepEqual(p.OnOne, c.onOne) {
				t.Errorf("OnOne = %+v, want %+v", p.OnOne, c.onOne)
			}
			if !reflect.DeepEqual(p.OnMany, c.onMany) {
				t.Errorf("OnMany = %+v, want %+v", p.OnMany, c.onMany)
			}
			if !reflect.DeepEqual(p.Updates, c.updates) {
				t.Errorf("Updates = %v, want %v", p.Updates, c.updates)
			}
		})
	}
}

func TestPlanActivityLog(t *testing.T) {
	cases := []struct {
		name string
		cc   func(*crm.CallCenter)
		cd   crm.CallData
		want *crm.ActivityPlan
	}{
		{"seed: task, description, inbound", nil, inbound(),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "inbound", Subject: "Inbound call from +5491155550000"}},
		{"saveActivityLog false: no log", func(c *crm.CallCenter) { c.SaveActivityLog = false }, inbound(), nil},
		{"voicecall", func(c *crm.CallCenter) { c.ActivityMode = "voicecall"; c.UseTaskDescriptionField = false }, inbound(),
			&crm.ActivityPlan{Mode: "voicecall", Direction: "inbound", Subject: "Inbound call from +5491155550000"}},
		{"explicit task", func(c *crm.CallCenter) { c.ActivityMode = "task" }, inbound(),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "inbound", Subject: "Inbound call from +5491155550000"}},
		{"unknown mode is task", func(c *crm.CallCenter) { c.ActivityMode = "fax" }, inbound(),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "inbound", Subject: "Inbound call from +5491155550000"}},
		{"predictive dialer: outbound", nil, with(inbound(), "callDialer", "predictive"),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "outbound", Subject: "Outbound call to +5491155550000"}},
		{"no dialer: outbound", nil, with(inbound(), "callDialer", "<del>"),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "outbound", Subject: "Outbound call to +5491155550000"}},
		{"direction wins over callDialer", nil, with(inbound(), "direction", "Outbound"),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "outbound", Subject: "Outbound call to +5491155550000"}},
		{"internal", nil, with(inbound(), "direction", "internal", "phoneNumber", ""),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "internal", Subject: "Internal call"}},
		{"hidden number", nil, with(inbound(), "phoneNumber", ""),
			&crm.ActivityPlan{Mode: "task", UseDescription: true, Direction: "inbound", Subject: "Inbound call"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := seedCenter()
			if c.cc != nil {
				c.cc(&cc)
			}
			if got := crm.PlanCall(c.cd, cc).Log; !reflect.DeepEqual(got, c.want) {
				t.Errorf("Log = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	c1, c2, a1, a2, l1, o1, co1 := rec("Contact", "c1"), rec("Contact", "c2"), rec("Account", "a1"), rec("Account", "a2"), rec("Lead", "l1"), rec("Opportunity", "o1"), rec("Company", "co1")
	prio := func(ts ...string) func(*crm.CallCenter) {
		return func(c *crm.CallCenter) { c.SearchTypePriority = ts }
	}
	layout := func(no, one, many string) func(*crm.CallCenter) {
		return func(c *crm.CallCenter) {
			c.Layout.NoMatch, c.Layout.SingleMatch, c.Layout.MultipleMatches = no, one, many
		}
	}
	cases := []struct {
		name     string
		cc       []func(*crm.CallCenter)
		cd       crm.CallData
		found    []crm.Record
		kind     string
		typ, id  string
		matches  []string // ids
		defaults map[string]string
		updates  map[string]string
	}{
		{"none → new record with defaults", nil, inbound(), nil, "new", "Contact", "", nil, seedDefaults, nil},
		{"none → nothing", []func(*crm.CallCenter){layout("none", "open", "search")}, inbound(), nil, "none", "", "", nil, nil, nil},
		{"none → new Account", []func(*crm.CallCenter){func(c *crm.CallCenter) { c.Layout.NewRecordType = "Account" }}, inbound(), []crm.Record{}, "new", "Account", "", nil, seedDefaults, nil},
		{"hidden number: new without searching", nil, with(inbound(), "SearchData", uuidContact+"-", "CLAVESF", uuidContact+"-", "phoneNumber", ""), nil,
			"new", "Contact", "", nil, map[string]string{"neoContactId__c": uuidContact, "neoBaseId__c": "list1", "neoCrmId__c": "sc1", "Phone": ""}, nil},
		{"hidden number, layout none: nothing", []func(*crm.CallCenter){layout("none", "open", "search")}, with(inbound(), "SearchData", uuidContact+"-", "CLAVESF", uuidContact+"-"), []crm.Record{c1},
			"none", "", "", nil, nil, nil},
		{"one match opens it, with externalData", nil, inbound(), []crm.Record{c1}, "open", "Contact", "c1", []string{"c1"}, nil, seedUpdates},
		{"one Lead match opens it", nil, inbound(), []crm.Record{l1}, "open", "Lead", "l1", []string{"l1"}, nil, seedUpdates},
		{"one match, layout none: nothing, no updates", []func(*crm.CallCenter){layout("new", "none", "search")}, inbound(), []crm.Record{c1}, "none", "", "", []string{"c1"}, nil, nil},
		{"one match with priority of another type still opens", []func(*crm.CallCenter){prio("Account")}, inbound(), []crm.Record{c1}, "open", "Contact", "c1", []string{"c1"}, nil, seedUpdates},
		{"same record twice is one match", nil, inbound(), []crm.Record{c1, c1}, "open", "Contact", "c1", []string{"c1"}, nil, seedUpdates},
		{"several of one type, no priority → search", nil, inbound(), []crm.Record{c1, c2}, "search", "", "", []string{"c1", "c2"}, nil, nil},
		{"several of one type, no priority → nothing", []func(*crm.CallCenter){layout("new", "open", "none")}, inbound(), []crm.Record{c1, c2}, "none", "", "", []string{"c1", "c2"}, nil, nil},
		{"several of one type, priority → search", []func(*crm.CallCenter){prio("Contact", "Account")}, inbound(), []crm.Record{c1, c2}, "search", "", "", []string{"c1", "c2"}, nil, nil},
		{"several of one type, priority → nothing", []func(*crm.CallCenter){prio("Contact"), layout("new", "open", "none")}, inbound(), []crm.Record{c1, c2}, "none", "", "", []string{"c1", "c2"}, nil, nil},
		{"Contact and Account, priority picks the Contact", []func(*crm.CallCenter){prio("Contact", "Account")}, inbound(), []crm.Record{a1, c1}, "open", "Contact", "c1", []string{"c1"}, nil, seedUpdates},
		{"Contact and Account, priority Account first", []func(*crm.CallCenter){prio("Account", "Contact")}, inbound(), []crm.Record{c1, a1}, "open", "Account", "a1", []string{"a1"}, nil, seedUpdates},
		{"seed example by phone: Contact over Account", []func(*crm.CallCenter){prio("Contact", "Account", "Lead", "Opportunity", "Company")},
			with(inbound(), "SearchBy", "phoneNumber", "SearchData", "+5491155550000"), []crm.Record{a1, a2, c1, l1}, "open", "Contact", "c1", []string{"c1"}, nil, seedUpdates},
		{"priority type has several → search among them", []func(*crm.CallCenter){prio("Contact", "Account")}, inbound(), []crm.Record{a1, c1, l1, c2}, "search", "", "", []string{"c1", "c2"}, nil, nil},
		{"priority type has several → nothing", []func(*crm.CallCenter){prio("Contact", "Account"), layout("new", "open", "none")}, inbound(), []crm.Record{a1, c1, c2}, "none", "", "", []string{"c1", "c2"}, nil, nil},
		{"top priority type absent: next one", []func(*crm.CallCenter){prio("Company", "Opportunity", "Lead")}, inbound(), []crm.Record{c1, l1, a1}, "open", "Lead", "l1", []string{"l1"}, nil, seedUpdates},
		{"narrowed to one, single-match layout none: nothing", []func(*crm.CallCenter){prio("Contact"), layout("new", "none", "search")}, inbound(), []crm.Record{c1, a1}, "none", "", "", []string{"c1"}, nil, nil},
		{"several types, no priority → search", nil, inbound(), []crm.Record{c1, a1, o1, co1}, "search", "", "", []string{"c1", "a1", "o1", "co1"}, nil, nil},
		{"several types, no priority → nothing", []func(*crm.CallCenter){layout("none", "open", "none")}, inbound(), []crm.Record{c1, a1}, "none", "", "", []string{"c1", "a1"}, nil, nil},
		{"no record of a priority type → search all", []func(*crm.CallCenter){prio("Company")}, inbound(), []crm.Record{c1, a1}, "search", "", "", []string{"c1", "a1"}, nil, nil},
		{"types compared in any case", []func(*crm.CallCenter){prio("Contact", "Account")}, inbound(), []crm.Record{rec("account", "a1"), rec("contact", "c1")}, "open", "contact", "c1", []string{"c1"}, nil, seedUpdates},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := seedCenter()
			for _, f := range c.cc {
				f(&cc)
			}
			p := crm.PlanCall(c.cd, cc)
			d := p.Decide(c.found)
			if d.Action.Kind != c.kind || d.Action.Type != c.typ || d.Action.RecordID != c.id {
				t.Fatalf("Action = %+v, want %s %s %s (%s)", d.Action, c.kind, c.typ, c.id, d.Reason)
			}
			var ids []string
			for _, r := range d.Matches {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, c.matches) {
				t.Errorf("Matches = %v, want %v", ids, c.matches)
			}
			if !reflect.DeepEqual(d.Action.Defaults, c.defaults) {
				t.Errorf("Defaults = %v, want %v", d.Action.Defaults, c.defaults)
			}
			if !reflect.DeepEqual(d.Updates, c.updates) {
				t.Errorf("Updates = %v, want %v", d.Updates, c.updates)
			}
			if d.Reason == "" {
				t.Error("no reason")
			}
		})
	}
}

// The executor adds the sync id to the decision's defaults: the plan's
// stay as planned.
func TestDecideCopiesMaps(t *testing.T) {
	p := crm.PlanCall(inbound(), seedCenter())
	d := p.Decide(nil)
	d.Action.Defaults["neoSyncId__c"] = "1"
	if _, ok := p.OnNone.Defaults["neoSyncId__c"]; ok {
		t.Fatal("the decision shares the plan's defaults")
	}
	d = p.Decide([]crm.Record{rec("Contact", "c1")})
	d.Updates["x"] = "1"
	if _, ok := p.Updates["x"]; ok {
		t.Fatal("the decision shares the plan's updates")
	}
}

func TestPlanJSON(t *testing.T) {
	cc := seedCenter()
	cc.SearchTypePriority = []string{"Contact"}
	p := crm.PlanCall(inbound(), cc)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"search", "searchBy", "searchData", "priority", "onNone", "onOne", "onMany", "updates", "log"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	if s := m["search"].(map[string]any); s["field"] != "DNI__c" || s["value"] != "31987456" {
		t.Errorf("search = %v", s)
	}
	if l := m["log"].(map[string]any); l["mode"] != "task" || l["useDescription"] != true || l["direction"] != "inbound" {
		t.Errorf("log = %v", l)
	}
	if a := m["onNone"].(map[string]any); a["kind"] != "new" || a["type"] != "Contact" {
		t.Errorf("onNone = %v", a)
	}
	var back crm.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, p)
	}

	np := crm.PlanCall(crm.CallData{}, crm.CallCenter{})
	b, _ = json.Marshal(np)
	m = nil
	_ = json.Unmarshal(b, &m)
	if m["search"] != nil || m["log"] != nil || m["priority"] == nil {
		t.Errorf("empty plan: %s", b)
	}
	back = crm.Plan{}
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, np) {
		t.Errorf("round trip of the empty plan: %+v, %v", back, err)
	}

	d := p.Decide([]crm.Record{rec("Contact", "c1")})
	b, _ = json.Marshal(d)
	m = nil
	_ = json.Unmarshal(b, &m)
	if a := m["action"].(map[string]any); a["kind"] != "open" || a["recordId"] != "c1" || m["reason"] == "" || m["updates"] == nil {
		t.Errorf("decision: %s", b)
	}
}

func TestClaveSFData(t *testing.T) {
	cases := []struct{ v, contactID, want string }{
		{"4711-31987456", "4711", "31987456"},
		{"4711-", "4711", ""},
		{"4711-", "", ""},
		{"4711-20-3198-3", "", "20-3198-3"},
		{uuidContact + "-", "", ""},
		{uuidContact + "-31987456", "", "31987456"},
		{uuidContact + "-31-98", "", "31-98"},
		{uuidContact + "-x", uuidContact, "x"},
		{"31987456", "", "31987456"},
		{"", "", ""},
		{"-", "", ""},
	}
	for _, c := range cases {
		if got := crm.ClaveSFData(c.v, c.contactID); got != c.want {
			t.Errorf("ClaveSFData(%q, %q) = %q, want %q", c.v, c.contactID, got, c.want)
		}
	}
}

func FuzzPlanCall(f *testing.F) {
	f.Add("DNI__c", "31987456", uuidContact+"-31987456", uuidContact, "+5491155550000", "inbound", "Contact|Account", "new", "Lead", "open", "search", "voicecall", "Contact", "c1", true)
	f.Add("phoneNumber", "", "4711-", "4711", "", "", "", "none", "", "none", "none", "task", "Account", "a1", false)
	f.Add("", "+54 (11) 5555-0000", "-", "", "+54", "predictive", "lead|bogus|lead", "NEW", "", "Open", "SEARCH", "", "lead", "", true)
	f.Fuzz(func(t *testing.T, by, data, clave, contactID, phone, dialer, prio, noMatch, newType, single, many, mode, recType, recID string, log bool) {
		cd := crm.CallData{"SearchBy": by, "SearchData": data, "CLAVESF": clave, "contactId": contactID, "phoneNumber": phone, "callDialer": dialer, "direction": dialer}
		var ps []string
		for start, i := 0, 0; i <= len(prio); i++ {
			if i == len(prio) || prio[i] == '|' {
				ps = append(ps, prio[start:i])
				start = i + 1
			}
		}
		cc := crm.CallCenter{SearchTypePriority: ps,
			ExternalData:      []crm.Mapping{{Field: by, Source: data}, {Field: "x", Source: clave}},
			DefaultNewRowData: []crm.Mapping{{Field: phone, Source: "phoneNumber"}, {Field: "", Source: ""}},
			SaveActivityLog:   log, ActivityMode: mode,
			Layout: crm.Layout{NoMatch: noMatch, NewRecordType: newType, SingleMatch: single, MultipleMatches: many}}
		p := crm.PlanCall(cd, cc)
		if p.Search != nil && p.SearchData == "" {
			t.Fatal("a search without data")
		}
		if p.Search != nil && p.Search.Field == "" && p.Search.Phone == "" {
			t.Fatalf("a search by nothing: %+v", p.Search)
		}
		if log != (p.Log != nil) {
			t.Fatal("log plan against saveActivityLog")
		}
		for _, found := range [][]crm.Record{nil, {{Type: recType, ID: recID}}, {{Type: recType, ID: recID}, {Type: newType, ID: recID}, {Type: "Contact", ID: data}}} {
			d := p.Decide(found)
			switch d.Action.Kind {
			case "none", "new", "search":
				if d.Updates != nil {
					t.Fatalf("updates without an opened record: %+v", d)
				}
			case "open":
				if len(d.Matches) != 1 || d.Matches[0].ID != d.Action.RecordID {
					t.Fatalf("open without its record: %+v", d)
				}
			default:
				t.Fatalf("kind %q", d.Action.Kind)
			}
			if d.Action.Kind != "new" && d.Action.Defaults != nil {
				t.Fatalf("defaults outside new: %+v", d)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatal(err)
		}
	})
}
