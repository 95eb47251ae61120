package crm

import (
	"bytes"
	"encoding/xml"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/centralita/centralita/internal/problem"
)

func seed002(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed002.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flat reads a definition back as section/item rows, independently of ParseXML.
type flatItem struct{ Section, SectionLabel, Name, Label, Value, SectionOrder, Order string }

func flatten(t testing.TB, data []byte) []flatItem {
	t.Helper()
	var doc xDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var out []flatItem
	for _, s := range doc.Sections {
		for _, it := range s.Items {
			out = append(out, flatItem{s.Name, s.Label, it.Name, it.Label, it.Value, s.SortOrder, it.SortOrder})
		}
	}
	return out
}

func TestParseSeed002(t *testing.T) {
	cc, err := ParseXML(seed002(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Connector = ConnectorSalesforce
	want.Name, want.InternalName, want.DisplayName = "Neotel CTI", "NeotelCTI", "Neotel CTI"
	want.AutomaticContactRelease = -1
	want.memo = cc.memo
	want.normalize()
	if !reflect.DeepEqual(cc, want) {
		t.Fatalf("parsed\n%+v\nwant\n%+v", cc, want)
	}
	if len(cc.DefaultNewRowData) != 4 || cc.DefaultNewRowData[3] != (Mapping{"Phone", "phoneNumber"}) {
		t.Errorf("defaultNewRowData %v", cc.DefaultNewRowData)
	}
	if cc.CampaignEntityName != "" || cc.AllowTextMessage || len(cc.SearchTypePriority) != 0 {
		t.Errorf("options %+v", cc)
	}
}

func TestSeed002RoundTrip(t *testing.T) {
	data := seed002(t)
	cc, err := ParseXML(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExportXML(cc, "https://cc.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseXML(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	again.memo, cc.memo = xmlMemo{}, xmlMemo{}
	if !reflect.DeepEqual(again, cc) {
		t.Errorf("parse(export(parse(seed))) differs:\n%+v\n%+v", again, cc)
	}
	in, exp := flatten(t, data), flatten(t, out)
	if len(in) != len(exp) {
		t.Fatalf("%d items in, %d out:\n%s", len(in), len(exp), out)
	}
	for i := range in {
		w := in[i]
		if w.Name == "reqAdapterUrl" {
			w.Value = "https://cc.example.com/softphone/"
		}
		if exp[i] != w {
			t.Errorf("item %d: got %+v, want %+v", i, exp[i], w)
		}
	}
}

func TestExtraKeptInOrder(t *testing.T) {
	data := []byte(`<callCenter>
  <section sortOrder="2" name="centralitaSettings" label="Centralita">
    <item sortOrder="1" name="tenant" label="Tenant">acme</item>
    <item sortOrder="0" name="serverUrl" label="Server URL">https://x</item>
  </section>
  <section sortOrder="0" name="reqGeneralInfo" label="General Information">
    <item sortOrder="0" name="reqInternalName" label="InternalName">CentralitaCTI</item>
    <item sortOrder="1" name="reqDisplayName" label="Display Name">Centralita</item>
    <item sortOrder="2" name="reqStandbyUrl" label="Standby">https://standby</item>
    <item sortOrder="3" name="reqSoftphoneHeight" label="Height">400</item>
  </section>
  <section sortOrder="1" name="reqDialingOptions" label="Dialing Options">
    <item sortOrder="0" name="reqOutsidePrefix" label="Outside prefix">9</item>
  </section>
</callCenter>`)
	cc, err := ParseXML(data)
	if err != nil {
		t.Fatal(err)
	}
	if cc.SoftphoneHeight != 400 || cc.Name != "Centralita" {
		t.Errorf("%+v", cc)
	}
	wantExtra := []Section{
		{Name: "reqGeneralInfo", Label: "General Information", Items: []Item{{"reqStandbyUrl", "Standby", "https://standby"}}},
		{Name: "reqDialingOptions", Label: "Dialing Options", Items: []Item{{"reqOutsidePrefix", "Outside prefix", "9"}}},
		{Name: "centralitaSettings", Label: "Centralita", Items: []Item{{"serverUrl", "Server URL", "https://x"}, {"tenant", "Tenant", "acme"}}},
	}
	if !reflect.DeepEqual(cc.Extra, wantExtra) {
		t.Fatalf("extra %+v", cc.Extra)
	}
	out, err := ExportXML(cc, "https://cc")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range flatten(t, out) {
		names = append(names, f.SectionOrder+":"+f.Section+"/"+f.Order+":"+f.Name+"="+f.Label)
	}
	got := strings.Join(names, "\n")
	for _, w := range []string{"0:reqGeneralInfo/3:reqUseApi=Use CTI API", "0:reqGeneralInfo/4:reqSoftphoneHeight=Height",
		"0:reqGeneralInfo/7:reqStandbyUrl=Standby", "2:reqDialingOptions/0:reqOutsidePrefix=Outside prefix",
		"3:centralitaSettings/0:serverUrl=Server URL", "3:centralitaSettings/1:tenant=Tenant", "1:neotelConfigOptions/10:campaignEntityName"} {
		if !strings.Contains(got, w) {
			t.Errorf("export lacks %q:\n%s", w, got)
		}
	}
	again, err := ParseXML(out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Extra, cc.Extra) {
		t.Errorf("extra after round trip %+v", again.Extra)
	}
}

func TestParseXMLRejects(t *testing.T) {
	seed := string(seed002(t))
	edit := func(old, new string) string {
		if !strings.Contains(seed, old) {
			t.Fatalf("seed has no %q", old)
		}
		return strings.Replace(seed, old, new, 1)
	}
	long := strings.Repeat("a", 41)
	for _, c := range []struct{ name, xml, want string }{
		{"empty", "", "not XML"},
		{"not xml", "hello, world", "not XML"},
		{"json", `{"callCenter": 1}`, "not XML"},
		{"unclosed", "<callCenter><section>", "not XML"},
		{"two roots", seed + "<callCenter/>", "second root"},
		{"root", `<callcenter><section sortOrder="0" name="reqGeneralInfo" label="x"/></callcenter>`, "want <callCenter>"},
		{"no sections", `<callCenter></callCenter>`, "no <section>"},
		{"no general", `<callCenter><section sortOrder="0" name="other" label="x"/></callCenter>`, "section[reqGeneralInfo]: is required"},
		{"other element", edit(`<section sortOrder="1"`, `<foo/><section sortOrder="1"`), "callCenter: unexpected element <foo>"},
		{"bool", edit(`label="Permite categorización de contactos. (true/false)">true`, `label="Permite categorización de contactos. (true/false)">maybe`),
			`section[neotelConfigOptions].item[allowCategorization]: "maybe" is not true or false`},
		{"release", edit(`(Segundos)">-1`, `(Segundos)">-2`), "section[neotelConfigOptions].item[automaticContactRelease]"},
		{"release text", edit(`(Segundos)">-1`, `(Segundos)">never`), "section[neotelConfigOptions].item[automaticContactRelease]"},
		{"height", edit(`>420<`, `>100<`), "section[reqGeneralInfo].item[reqSoftphoneHeight]"},
		{"width", edit(`>620<`, `>5000<`), "section[reqGeneralInfo].item[reqSoftphoneWidth]"},
		{"compat", edit(`>Lightning<`, `>Mobile<`), "section[reqGeneralInfo].item[reqSalesforceCompatibilityMode]"},
		{"source", edit(`neoCrmId__c-crmId</item>`, `neoCrmId__c-crmIdx</item>`), `section[neotelConfigOptions].item[externalData]: "neoCrmId__c-crmIdx": "crmIdx" is not a call-data name`},
		{"mapping", edit(`neoCrmId__c-crmId</item>`, `neoCrmId__c</item>`), "section[neotelConfigOptions].item[externalData]"},
		{"priority", edit(`búsqueda"></item>`, `búsqueda">Contact|Case</item>`), "section[neotelConfigOptions].item[searchTypePriority]"},
		{"priority twice", edit(`búsqueda"></item>`, `búsqueda">Contact|Contact</item>`), "named twice"},
		{"dup item", edit(`name="allowTextMessage"`, `name="saveActivityLog"`), "item[saveActivityLog].name: item saveActivityLog is named twice"},
		{"dup section", edit(`name="neotelConfigOptions"`, `name="reqGeneralInfo"`), "section reqGeneralInfo is named twice"},
		{"gap", edit(`sortOrder="10"`, `sortOrder="11"`), "item[campaignEntityName].sortOrder: 11 leaves a gap"},
		{"negative", edit(`sortOrder="10"`, `sortOrder="-1"`), `item[campaignEntityName].sortOrder: "-1" is not a non-negative integer`},
		{"twice", edit(`sortOrder="10"`, `sortOrder="9"`), "is used twice"},
		{"section gap", edit(`<section sortOrder="1"`, `<section sortOrder="2"`), "section[neotelConfigOptions].sortOrder: 2 leaves a gap"},
		{"missing sortOrder", edit(`<section sortOrder="1"`, `<section`), "section[neotelConfigOptions].sortOrder"},
		{"long name", edit(`name="allowTextMessage"`, `name="`+long+`"`), "must be 1 to 40 letters and digits"},
		{"non-alnum", edit(`name="allowTextMessage"`, `name="allow_text"`), `name "allow_text" must be 1 to 40 letters and digits`},
		{"reserved", edit(`name="allowTextMessage"`, `name="label"`), `name "label" is reserved`},
		{"internal name", edit(`>NeotelCTI<`, `>9 lives<`), "section[reqGeneralInfo].item[reqInternalName]"},
		{"campaign entity", edit(`Salesforce.">false<`, `Salesforce.">true<`), "section[neotelConfigOptions].item[campaignEntityName]"},
		{"nested", edit(`>true</item>`, `><b>true</b></item>`), "an item holds text only"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseXML([]byte(c.xml))
			if err == nil {
				t.Fatalf("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
			ps := problem.All(err)
			if len(ps) == 0 || ps[0].Kind != problem.Invalid {
				t.Fatalf("not an Invalid problem: %#v", err)
			}
		})
	}
}

func TestMappings(t *testing.T) {
	ms, err := ParseMappings("neoContactId__c-contactId|my-field-phoneNumber||Phone-phoneNumber|")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{{"neoContactId__c", "contactId"}, {"my-field", "phoneNumber"}, {"Phone", "phoneNumber"}}
	if !reflect.DeepEqual(ms, want) {
		t.Fatalf("%v", ms)
	}
	if s := FormatMappings(ms); s != "neoContactId__c-contactId|my-field-phoneNumber|Phone-phoneNumber" {
		t.Errorf("format %q", s)
	}
	if ms, err := ParseMappings(""); err != nil || len(ms) != 0 {
		t.Errorf("empty: %v %v", ms, err)
	}
	for _, bad := range []string{"x", "-contactId", "a-contactid", "a-contactId|a-crmId", "a b-crmId"} {
		if _, err := ParseMappings(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseXML(f *testing.F) {
	f.Add(seed002(f))
	f.Add([]byte(`<callCenter><section sortOrder="0" name="reqGeneralInfo" label="G"><item sortOrder="0" name="reqInternalName" label="I">A</item></section></callCenter>`))
	f.Add([]byte(`<callCenter><section sortOrder="1" name="x" label="y"></section></callCenter>`))
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x><callCenter/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cc, err := ParseXML(data)
		if err != nil {
			return
		}
		// What parses exports, and the export parses to the same options.
		out, err := ExportXML(cc, "https://cc")
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		again, err := ParseXML(out)
		if err != nil {
			t.Fatalf("export does not parse: %v\n%s", err, out)
		}
		var col problem.Collector
		c2 := cc
		c2.clone()
		c2.validate(&col)
		if err := col.Err(); err != nil {
			t.Fatalf("parsed call center does not validate: %v", err)
		}
		if !bytes.Equal(mustExport(t, again), out) {
			t.Fatalf("export is not stable:\n%s\n%s", out, mustExport(t, again))
		}
	})
}

func mustExport(t *testing.T, cc CallCenter) []byte {
	out, err := ExportXML(cc, "https://cc")
	if err != nil {
		t.Fatal(err)
	}
	return out
}
