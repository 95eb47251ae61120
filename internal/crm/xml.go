package crm

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/centralita/centralita/internal/problem"
)

// The Salesforce call-center definition (reference §1.4, seed 002):
// <callCenter> → <section sortOrder name label> → <item sortOrder name label>value</item>.

// The sections this program interprets.
const (
	SectionGeneral = "reqGeneralInfo"
	SectionOptions = "neotelConfigOptions"
)

// MaxXMLBytes is the largest definition ParseXML reads.
const MaxXMLBytes = 1 << 20

var sectionLabels = map[string]string{SectionGeneral: "General Information", SectionOptions: "Opciones"}

// knownItem is an item of a known section: how to read it into a call
// center and write it back.
type knownItem struct {
	section, name, label string
	get                  func(cc *CallCenter) string
	set                  func(cc *CallCenter, v string) error
}

// knownItems in export order (seed 002's order and labels).
var knownItems = []knownItem{
	{SectionGeneral, "reqInternalName", "InternalName",
		func(cc *CallCenter) string { return cc.InternalName },
		func(cc *CallCenter, v string) error {
			v = strings.TrimSpace(v)
			if !internalNameRE.MatchString(v) {
				return fmt.Errorf("%q must be 1 to 40 letters and digits starting with a letter", v)
			}
			cc.InternalName = v
			return nil
		}},
	{SectionGeneral, "reqDisplayName", "Display Name",
		func(cc *CallCenter) string { return cc.DisplayName },
		func(cc *CallCenter, v string) error {
			v = strings.TrimSpace(v)
			if v == "" || len([]rune(v)) > MaxLabel {
				return fmt.Errorf("must be 1 to %d characters", MaxLabel)
			}
			cc.DisplayName = v
			return nil
		}},
	{SectionGeneral, "reqAdapterUrl", "CTI Adapter URL",
		func(cc *CallCenter) string { return "" }, // ours: <base URL>/softphone/
		func(cc *CallCenter, v string) error { return nil }},
	{SectionGeneral, "reqUseApi", "Use CTI API",
		func(cc *CallCenter) string { return "true" }, // Open CTI
		func(cc *CallCenter, v string) error { _, err := parseBool(v); return err }},
	{SectionGeneral, "reqSoftphoneHeight", "Softphone Height",
		func(cc *CallCenter) string { return strconv.Itoa(cc.SoftphoneHeight) },
		intSetter(func(cc *CallCenter) *int { return &cc.SoftphoneHeight }, MinSoftphoneHeight, MaxSoftphoneHeight)},
	{SectionGeneral, "reqSoftphoneWidth", "Softphone Width",
		func(cc *CallCenter) string { return strconv.Itoa(cc.SoftphoneWidth) },
		intSetter(func(cc *CallCenter) *int { return &cc.SoftphoneWidth }, MinSoftphoneWidth, MaxSoftphoneWidth)},
	{SectionGeneral, "reqSalesforceCompatibilityMode", "Salesforce Compatibility Mode",
		func(cc *CallCenter) string { return cc.CompatibilityMode },
		func(cc *CallCenter, v string) error {
			v = strings.TrimSpace(v)
			if !slices.Contains(CompatibilityModes, v) {
				return fmt.Errorf("%q is not one of %s", v, strings.Join(CompatibilityModes, ", "))
			}
			cc.CompatibilityMode = v
			return nil
		}},
	{SectionOptions, "searchTypePriority", "Prioridad de búsqueda",
		func(cc *CallCenter) string { return strings.Join(cc.SearchTypePriority, "|") },
		func(cc *CallCenter, v string) error {
			var ps []string
			for _, p := range strings.Split(v, "|") {
				if p = strings.TrimSpace(p); p != "" {
					ps = append(ps, p)
				}
			}
			if err := checkPriority(ps); err != nil {
				return err
			}
			cc.SearchTypePriority = ps
			return nil
		}},
	{SectionOptions, "externalData", "Datos de neotel importables a Sf",
		func(cc *CallCenter) string { return FormatMappings(cc.ExternalData) },
		func(cc *CallCenter, v string) error {
			ms, err := ParseMappings(v)
			cc.ExternalData = ms
			return err
		}},
	{SectionOptions, "defaultNewRowData", "Datos default para nuevos Registros",
		func(cc *CallCenter) string { return FormatMappings(cc.DefaultNewRowData) },
		func(cc *CallCenter, v string) error {
			ms, err := ParseMappings(v)
			cc.DefaultNewRowData = ms
			return err
		}},
	boolItem("allowCategorization", "Permite categorización de contactos. (true/false)",
		func(cc *CallCenter) *bool { return &cc.AllowCategorization }),
	boolItem("allowClickToDialSearch", "Permite seleccionar un dato de SF, tomarlo en pantalla y gestionarlo. (ClickToDial)",
		func(cc *CallCenter) *bool { return &cc.AllowClickToDialSearch }),
	boolItem("useTaskDescriptionField", "Utiliza el campo descripción para guardar la información de la gestion.",
		func(cc *CallCenter) *bool { return &cc.UseTaskDescriptionField }),
	boolItem("allowContactRelease", "Permite liberar un contacto sin ser categorizado.",
		func(cc *CallCenter) *bool { return &cc.AllowContactRelease }),
	{SectionOptions, "automaticContactRelease", "Liberar contacto automaticamente al terminar llamado. (Segundos)",
		func(cc *CallCenter) string { return strconv.Itoa(cc.AutomaticContactRelease) },
		func(cc *CallCenter, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < -1 {
				return fmt.Errorf("%q is not -1 (never) or a number of seconds", v)
			}
			cc.AutomaticContactRelease = n
			return nil
		}},
	boolItem("saveActivityLog", "Guardar automáticamente registro de llamada (Task).",
		func(cc *CallCenter) *bool { return &cc.SaveActivityLog }),
	boolItem("allowTextMessage", "Permite enviar un mensaje al cliente por medio de SMS o Whatsapp.",
		func(cc *CallCenter) *bool { return &cc.AllowTextMessage }),
	{SectionOptions, "campaignEntityName", "Permite asociar un id de campaña a un objeto de Salesforce.",
		func(cc *CallCenter) string {
			if cc.CampaignEntityName == "" {
				return "false"
			}
			return cc.CampaignEntityName
		},
		func(cc *CallCenter, v string) error {
			v = strings.TrimSpace(v)
			if v == "" || strings.EqualFold(v, "false") {
				cc.CampaignEntityName = ""
				return nil
			}
			if !objectNameRE.MatchString(v) || strings.EqualFold(v, "true") {
				return fmt.Errorf("%q is not false or a CRM object name", v)
			}
			cc.CampaignEntityName = v
			return nil
		}},
}

func boolItem(name, label string, field func(cc *CallCenter) *bool) knownItem {
	return knownItem{SectionOptions, name, label,
		func(cc *CallCenter) string { return strconv.FormatBool(*field(cc)) },
		func(cc *CallCenter, v string) error {
			b, err := parseBool(v)
			*field(cc) = b
			return err
		}}
}

func intSetter(field func(cc *CallCenter) *int, lo, hi int) func(cc *CallCenter, v string) error {
	return func(cc *CallCenter, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("%q is not a number of pixels between %d and %d", v, lo, hi)
		}
		*field(cc) = n
		return nil
	}
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

func findKnown(section, name string) (knownItem, bool) {
	for _, k := range knownItems {
		if k.section == section && k.name == name {
			return k, true
		}
	}
	return knownItem{}, false
}

// xmlMemo remembers how an imported definition wrote its known items when
// that differs from how we would (a trailing '|', another label), so
// exporting gives back the same text while the value is unchanged.
type xmlMemo struct {
	Values map[string]string `json:"values,omitempty"` // "section/item" → text as imported
	Labels map[string]string `json:"labels,omitempty"` // "section" or "section/item" → label as imported
}

func (m xmlMemo) empty() bool { return len(m.Values) == 0 && len(m.Labels) == 0 }

func (m *xmlMemo) setValue(k, v string) {
	if m.Values == nil {
		m.Values = map[string]string{}
	}
	m.Values[k] = v
}

func (m *xmlMemo) setLabel(k, v string) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[k] = v
}

// The document as read.
type xDoc struct {
	XMLName  xml.Name
	Sections []xSection `xml:"section"`
	Other    []xAny     `xml:",any"`
}

type xSection struct {
	SortOrder string  `xml:"sortOrder,attr"`
	Name      string  `xml:"name,attr"`
	Label     string  `xml:"label,attr"`
	Items     []xItem `xml:"item"`
	Other     []xAny  `xml:",any"`
}

type xItem struct {
	SortOrder string `xml:"sortOrder,attr"`
	Name      string `xml:"name,attr"`
	Label     string `xml:"label,attr"`
	Value     string `xml:",chardata"`
	Other     []xAny `xml:",any"`
}

type xAny struct {
	XMLName xml.Name
}

// sortOrders checks that the sortOrders are 0..n-1 (any order in the
// document) and returns the positions in sortOrder order.
func sortOrders(col *problem.Collector, field string, orders []string, names []string) []int {
	pos := make([]int, len(orders))
	for i := range pos {
		pos[i] = -1
	}
	ok := true
	for i, o := range orders {
		n, err := strconv.Atoi(strings.TrimSpace(o))
		f := field + "[" + names[i] + "].sortOrder"
		switch {
		case err != nil || n < 0:
			col.Add(f, "%q is not a non-negative integer", o)
			ok = false
		case n >= len(orders):
			col.Add(f, "%d leaves a gap: sortOrders run from 0 to %d without gaps", n, len(orders)-1)
			ok = false
		case pos[n] >= 0:
			col.Add(f, "%d is used twice", n)
			ok = false
		default:
			pos[n] = i
		}
	}
	if !ok {
		return nil
	}
	return pos
}

func label(name string) string {
	if name == "" {
		return "#"
	}
	return name
}

// ParseXML reads a call-center definition. The result starts from
// Defaults with the connector "salesforce" and the name of reqDisplayName;
// reqAdapterUrl is ignored (it is ours); unknown sections and the unknown
// items of known sections are kept in Extra. Errors name the section and
// item: section[neotelConfigOptions].item[allowCategorization].
func ParseXML(data []byte) (CallCenter, error) {
	if len(data) > MaxXMLBytes {
		return CallCenter{}, problem.Invalidf("", "the definition is larger than %d bytes", MaxXMLBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var doc xDoc
	if err := d.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return CallCenter{}, problem.Invalidf("", "not XML: the body is empty")
		}
		return CallCenter{}, problem.Invalidf("", "not XML: %v", err)
	}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CallCenter{}, problem.Invalidf("", "not XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return CallCenter{}, problem.Invalidf("", "not XML: a second root element <%s> after </%s>", t.Name.Local, doc.XMLName.Local)
		case xml.CharData:
			if strings.TrimFunc(string(t), unicode.IsSpace) != "" {
				return CallCenter{}, problem.Invalidf("", "not XML: text after </%s>", doc.XMLName.Local)
			}
		}
	}
	if doc.XMLName.Local != "callCenter" {
		return CallCenter{}, problem.Invalidf("", "the root element is <%s>, want <callCenter>", doc.XMLName.Local)
	}

	var col problem.Collector
	for _, o := range doc.Other {
		col.Add("callCenter", "unexpected element <%s>: only <section> elements", o.XMLName.Local)
	}
	if len(doc.Sections) > MaxSections {
		col.Add("callCenter", "at most %d sections, got %d", MaxSections, len(doc.Sections))
		return CallCenter{}, col.Err()
	}
	if len(doc.Sections) == 0 {
		col.Add("callCenter", "no <section>: a definition has at least %s", SectionGeneral)
	}
	seen := map[string]bool{}
	var orders, names []string
	for _, s := range doc.Sections {
		f := "section[" + label(s.Name) + "]"
		if err := checkXMLName(s.Name); err != nil {
			col.Add(f+".name", "%s", err)
		} else if seen[s.Name] {
			col.Add(f+".name", "section %s is named twice", s.Name)
		}
		seen[s.Name] = true
		if err := checkLabel(s.Label); err != nil {
			col.Add(f+".label", "%s", err)
		}
		for _, o := range s.Other {
			col.Add(f, "unexpected element <%s>: only <item> elements", o.XMLName.Local)
		}
		orders, names = append(orders, s.SortOrder), append(names, label(s.Name))
	}
	secPos := sortOrders(&col, "section", orders, names)

	cc := Defaults()
	cc.Connector = ConnectorSalesforce
	if secPos == nil { // bad section sortOrders: still check the sections, in document order
		secPos = make([]int, len(doc.Sections))
		for i := range secPos {
			secPos[i] = i
		}
	}
	for _, i := range secPos {
		s := doc.Sections[i]
		f := "section[" + label(s.Name) + "]"
		if len(s.Items) > MaxItems {
			col.Add(f, "at most %d items, got %d", MaxItems, len(s.Items))
			continue
		}
		_, known := sectionLabels[s.Name]
		if known && s.Label != sectionLabels[s.Name] {
			cc.memo.setLabel(s.Name, s.Label)
		}
		extra := Section{Name: s.Name, Label: s.Label, Items: []Item{}}
		iseen := map[string]bool{}
		var iorders, inames []string
		for _, it := range s.Items {
			g := f + ".item[" + label(it.Name) + "]"
			if err := checkXMLName(it.Name); err != nil {
				col.Add(g+".name", "%s", err)
			} else if iseen[it.Name] {
				col.Add(g+".name", "item %s is named twice", it.Name)
			}
			iseen[it.Name] = true
			if err := checkLabel(it.Label); err != nil {
				col.Add(g+".label", "%s", err)
			}
			if len([]rune(it.Value)) > MaxValue {
				col.Add(g, "the value must be at most %d characters", MaxValue)
			}
			for _, o := range it.Other {
				col.Add(g, "unexpected element <%s>: an item holds text only", o.XMLName.Local)
			}
			iorders, inames = append(iorders, it.SortOrder), append(inames, label(it.Name))
		}
		itemPos := sortOrders(&col, f+".item", iorders, inames)
		if itemPos == nil {
			continue
		}
		for _, j := range itemPos {
			it := s.Items[j]
			k, ok := findKnown(s.Name, it.Name)
			if !ok {
				extra.Items = append(extra.Items, Item{Name: it.Name, Label: it.Label, Value: it.Value})
				continue
			}
			g := f + ".item[" + it.Name + "]"
			if err := k.set(&cc, it.Value); err != nil {
				col.Add(g, "%s", err)
				continue
			}
			key := s.Name + "/" + it.Name
			if it.Name != "reqAdapterUrl" && it.Value != k.get(&cc) {
				cc.memo.setValue(key, it.Value)
			}
			if it.Label != k.label {
				cc.memo.setLabel(key, it.Label)
			}
		}
		if !known || len(extra.Items) > 0 {
			cc.Extra = append(cc.Extra, extra)
		}
	}
	if !seen[SectionGeneral] {
		col.Add("section["+SectionGeneral+"]", "is required")
	} else if cc.InternalName == "" {
		col.Add("section["+SectionGeneral+"].item[reqInternalName]", "is required")
	}
	if err := col.Err(); err != nil {
		return CallCenter{}, err
	}
	cc.Name = cc.DisplayName
	if cc.Name == "" {
		cc.Name = cc.InternalName
	}
	if cc.DisplayName == "" {
		cc.DisplayName = cc.InternalName
	}
	cc.normalize()
	return cc, nil
}

// The document as written.
type oDoc struct {
	XMLName  xml.Name   `xml:"callCenter"`
	Sections []oSection `xml:"section"`
}

type oSection struct {
	SortOrder int     `xml:"sortOrder,attr"`
	Name      string  `xml:"name,attr"`
	Label     string  `xml:"label,attr"`
	Items     []oItem `xml:"item"`
}

type oItem struct {
	SortOrder int    `xml:"sortOrder,attr"`
	Name      string `xml:"name,attr"`
	Label     string `xml:"label,attr"`
	Value     string `xml:",chardata"`
}

// AdapterURL is the softphone's address under a base URL.
func AdapterURL(baseURL string) string { return strings.TrimRight(baseURL, "/") + "/softphone/" }

// ExportXML writes cc as a call-center definition: reqGeneralInfo (with
// reqAdapterUrl = <baseURL>/softphone/), the options section in seed 002's
// order and labels, then Extra; the extra items of a known section follow
// its known ones.
func (s *Service) ExportXML(cc CallCenter, baseURL string) ([]byte, error) {
	return ExportXML(cc, baseURL)
}

// ParseXML is the package function ParseXML, for callers holding a Service.
func (s *Service) ParseXML(data []byte) (CallCenter, error) { return ParseXML(data) }

// ExportXML is Service.ExportXML without a service.
func ExportXML(cc CallCenter, baseURL string) ([]byte, error) {
	var doc oDoc
	extraOf := map[string][]Item{}
	for _, e := range cc.Extra {
		if _, ok := sectionLabels[e.Name]; ok {
			extraOf[e.Name] = append(extraOf[e.Name], e.Items...)
		}
	}
	for _, sec := range []string{SectionGeneral, SectionOptions} {
		os := oSection{Name: sec, Label: sectionLabels[sec]}
		if l, ok := cc.memo.Labels[sec]; ok {
			os.Label = l
		}
		for _, k := range knownItems {
			if k.section != sec {
				continue
			}
			key := sec + "/" + k.name
			v := k.get(&cc)
			if k.name == "reqAdapterUrl" {
				v = AdapterURL(baseURL)
			} else if raw, ok := cc.memo.Values[key]; ok {
				tmp := cc
				tmp.clone()
				if k.set(&tmp, raw) == nil && k.get(&tmp) == v {
					v = raw
				}
			}
			l := k.label
			if ml, ok := cc.memo.Labels[key]; ok {
				l = ml
			}
			os.Items = append(os.Items, oItem{SortOrder: len(os.Items), Name: k.name, Label: l, Value: v})
		}
		for _, it := range extraOf[sec] {
			os.Items = append(os.Items, oItem{SortOrder: len(os.Items), Name: it.Name, Label: it.Label, Value: it.Value})
		}
		os.SortOrder = len(doc.Sections)
		doc.Sections = append(doc.Sections, os)
	}
	for _, e := range cc.Extra {
		if _, ok := sectionLabels[e.Name]; ok {
			continue
		}
		os := oSection{SortOrder: len(doc.Sections), Name: e.Name, Label: e.Label}
		for _, it := range e.Items {
			os.Items = append(os.Items, oItem{SortOrder: len(os.Items), Name: it.Name, Label: it.Label, Value: it.Value})
		}
		doc.Sections = append(doc.Sections, os)
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	return b.Bytes(), nil
}

// xmlOptions copies what a definition holds from src onto dst: general
// info, the options section and Extra (with the memo of the import).
func xmlOptions(dst *CallCenter, src CallCenter) {
	dst.InternalName, dst.DisplayName = src.InternalName, src.DisplayName
	dst.SoftphoneHeight, dst.SoftphoneWidth, dst.CompatibilityMode = src.SoftphoneHeight, src.SoftphoneWidth, src.CompatibilityMode
	dst.SearchTypePriority, dst.ExternalData, dst.DefaultNewRowData = src.SearchTypePriority, src.ExternalData, src.DefaultNewRowData
	dst.AllowCategorization, dst.AllowClickToDialSearch = src.AllowCategorization, src.AllowClickToDialSearch
	dst.UseTaskDescriptionField, dst.AllowContactRelease = src.UseTaskDescriptionField, src.AllowContactRelease
	dst.AutomaticContactRelease, dst.SaveActivityLog = src.AutomaticContactRelease, src.SaveActivityLog
	dst.AllowTextMessage, dst.CampaignEntityName = src.AllowTextMessage, src.CampaignEntityName
	dst.Extra = src.Extra
	dst.memo = src.memo
}

// ImportXML replaces the options of an existing call center with those of
// a definition; its name, connector, layout, activity mode, settings and
// secrets stay.
func (s *Service) ImportXML(ctx context.Context, id string, data []byte) (CallCenter, error) {
	parsed, err := ParseXML(data)
	if err != nil {
		return CallCenter{}, err
	}
	return s.update(ctx, id, func(old CallCenter) (CallCenter, error) {
		cc := old
		cc.Secrets = nil
		xmlOptions(&cc, parsed)
		return cc, nil
	})
}

// CreateFromXML creates a call center from a definition (see ParseXML).
func (s *Service) CreateFromXML(ctx context.Context, data []byte) (CallCenter, error) {
	cc, err := ParseXML(data)
	if err != nil {
		return CallCenter{}, err
	}
	return s.CreateCallCenter(ctx, cc)
}
