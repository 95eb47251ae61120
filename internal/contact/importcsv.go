package contact

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/centralita/centralita/internal/problem"
	"github.com/centralita/centralita/internal/store"
)

// Import limits.
const (
	MaxImportBytes  = 10 << 20
	MaxImportRows   = 100_000
	MaxReportErrors = 1000 // errors listed in a report; ErrorCount counts them all
)

// importBatch is how many contacts one INSERT or UPDATE statement writes.
// SQLite (modernc) looks bound parameters up by a linear search, so its
// statements stay small; PostgreSQL pays a round trip per statement.
func importBatch(d store.Dialect) int {
	if d == store.SQLite {
		return sqliteBatch
	}
	return 500
}

var sqliteBatch = 40

// RowError is one problem of an imported file: its row (as in the file,
// the header being row 1), the column (as the header names it; "" for the
// whole row) and why.
type RowError struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// ImportReport is what an import did.
type ImportReport struct {
	Imported   int        // new contacts (or numbers)
	Updated    int        // rows whose key (or number) was already in the list
	Skipped    int        // bad rows, not imported
	Errors     []RowError // at most MaxReportErrors
	ErrorCount int        // every error, including those not listed
}

func (r *ImportReport) add(e RowError) {
	r.ErrorCount++
	if len(r.Errors) < MaxReportErrors {
		r.Errors = append(r.Errors, e)
	}
}

// Err is the error of a report with errors: an Invalid problem with code
// import.invalid per listed error, its field "rows[N].column".
func (r ImportReport) Err() error {
	if r.ErrorCount == 0 {
		return nil
	}
	errs := make([]error, 0, len(r.Errors)+1)
	for _, e := range r.Errors {
		field := fmt.Sprintf("rows[%d]", e.Row)
		if e.Column != "" {
			field += "." + e.Column
		}
		errs = append(errs, problem.Coded(problem.Invalid, "import.invalid", field, "%s", e.Reason))
	}
	if n := r.ErrorCount - len(r.Errors); n > 0 {
		errs = append(errs, problem.Coded(problem.Invalid, "import.invalid", "", "and %d more errors", n))
	}
	return errors.Join(errs...)
}

// fileError reports a problem with the whole file: nothing is imported,
// whatever skipInvalid says.
func fileError(row int, column, format string, args ...any) (ImportReport, error) {
	var r ImportReport
	r.add(RowError{Row: row, Column: column, Reason: fmt.Sprintf(format, args...)})
	return r, r.Err()
}

var errTooLarge = fmt.Errorf("the file is larger than %d bytes", MaxImportBytes)

// limited fails once more than n bytes were read.
type limited struct {
	r io.Reader
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if l.n < 0 {
		return k, errTooLarge
	}
	return k, err
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// csvReader prepares a CSV reader: BOM dropped, size bounded, separator
// (',' or ';') taken from the header line.
func csvReader(r io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(&limited{r: r, n: MaxImportBytes}, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, bom) {
		br.Discard(3)
	}
	head, _ := br.Peek(64 << 10)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	cr := csv.NewReader(br)
	cr.Comma = separator(head)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// separator is ';' when the header line has more semicolons than commas
// outside quotes, else ','.
func separator(line []byte) rune {
	commas, semis, quoted := 0, 0, false
	for _, b := range line {
		switch {
		case b == '"':
			quoted = !quoted
		case quoted:
		case b == ',':
			commas++
		case b == ';':
			semis++
		}
	}
	if semis > commas {
		return ';'
	}
	return ','
}

// readErr turns a CSV read error into a whole-file error.
func readErr(err error, row int) (ImportReport, error) {
	if errors.Is(err, errTooLarge) {
		return fileError(row, "", "%s", errTooLarge)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileError(pe.StartLine, "", "the file is not valid CSV: %s", pe.Err)
	}
	return fileError(row, "", "the file could not be read: %s", err)
}

// importRow is a good row waiting to be written.
type importRow struct {
	row int
	rec record
}

// column is what a header cell names.
type column struct {
	header string
	field  Field  // zero for special columns
	kind   string // "field", "timeZone", "ignore"
}

// Import reads a CSV file of contacts into a list. Header cells name schema
// fields by name or label (case-insensitively); the export's own columns
// (id, status, attempts, lastOutcome, category, subcategory) are ignored and
// timeZone sets the contact's zone. A row whose key is already in the list
// updates that contact (the columns of the file; others keep their values).
// Without skipInvalid, any bad row means nothing is written: the report and
// an import.invalid error come back. Problems with the whole file (unknown
// or repeated column, no key column, not CSV, over the limits) always fail.
func (s *Service) Import(ctx context.Context, listID string, r io.Reader, skipInvalid bool) (ImportReport, error) {
	l, sc, err := s.listAndSchema(ctx, s.db, listID)
	if err != nil {
		return ImportReport{}, err
	}
	cr := csvReader(r)
	header, err := cr.Read()
	if err == io.EOF {
		return fileError(1, "", "the file is empty: it needs a header row naming the schema's fields")
	}
	if err != nil {
		return readErr(err, 1)
	}
	cols := make([]column, len(header))
	present := map[string]bool{}
	hasZone := false
	keyField := sc.KeyField()
	var rep ImportReport
	for i, h := range header {
		h = strings.TrimSpace(h)
		cols[i] = column{header: h, kind: "ignore"}
		if h == "" {
			continue
		}
		if f, ok := sc.header(h); ok {
			if present[f.Name] {
				rep.add(RowError{Row: 1, Column: h, Reason: fmt.Sprintf("names field %s again", f.Name)})
				continue
			}
			present[f.Name] = true
			cols[i].field, cols[i].kind = f, "field"
			continue
		}
		switch strings.ToLower(h) {
		case "timezone":
			if hasZone {
				rep.add(RowError{Row: 1, Column: h, Reason: "timeZone is named twice"})
			}
			hasZone, cols[i].kind = true, "timeZone"
		case "id", "status", "attempts", "lastoutcome", "category", "subcategory":
		default:
			rep.add(RowError{Row: 1, Column: h, Reason: "is not a field of the list's schema (by name or label)"})
		}
	}
	if !present[keyField.Name] {
		rep.add(RowError{Row: 1, Column: keyField.Name, Reason: "the file has no column for the key field " + keyField.Name + " (Clave_1)"})
	}
	if rep.ErrorCount > 0 {
		return rep, rep.Err()
	}

	var good []importRow
	seen := map[string]int{} // key → row
	rows := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// No record, so no FieldPos: a CSV error knows its line.
			return readErr(err, 0)
		}
		line, _ := cr.FieldPos(0)
		rows++
		if rows > MaxImportRows {
			return fileError(line, "", "the file has more than %d rows", MaxImportRows)
		}
		if len(rec) != len(cols) {
			rep.add(RowError{Row: line, Reason: fmt.Sprintf("has %d columns, the header has %d", len(rec), len(cols))})
			rep.Skipped++
			continue
		}
		values := make(map[string]string, len(present))
		zone := ""
		for i, c := range cols {
			switch c.kind {
			case "field":
				values[c.field.Name] = rec[i]
			case "timeZone":
				zone = rec[i]
			}
		}
		rc, verrs := checkRecord(sc, l.DefaultCountry, values, zone)
		bad := len(verrs) > 0
		for _, e := range verrs {
			rep.add(RowError{Row: line, Column: headerOf(cols, e.Field), Reason: e.Reason})
		}
		if !bad {
			if rc.key == "" {
				rep.add(RowError{Row: line, Column: headerOf(cols, keyField.Name), Reason: "the key is empty"})
				bad = true
			} else if first, dup := seen[rc.key]; dup {
				rep.add(RowError{Row: line, Column: headerOf(cols, keyField.Name), Reason: fmt.Sprintf("key %q is repeated: already at row %d", rc.key, first)})
				bad = true
			}
		}
		if bad {
			rep.Skipped++
			continue
		}
		seen[rc.key] = line
		good = append(good, importRow{row: line, rec: rc})
	}
	if rep.ErrorCount > 0 && !skipInvalid {
		return rep, rep.Err()
	}
	if err := s.writeImport(ctx, l, sc, good, present, hasZone, &rep); err != nil {
		return ImportReport{}, err
	}
	return rep, nil
}

func headerOf(cols []column, field string) string {
	for _, c := range cols {
		if c.kind == "field" && c.field.Name == field {
			return c.header
		}
		if c.kind == "timeZone" && field == "timeZone" {
			return c.header
		}
	}
	return field
}

// writeImport writes good rows in one transaction: new keys inserted in
// batches, known keys updated in batches, then the list's events.
func (s *Service) writeImport(ctx context.Context, l List, sc Schema, good []importRow, present map[string]bool, hasZone bool, rep *ImportReport) error {
	now := store.Millis(s.clock.Now())
	partial := len(present) < len(sc.Fields) // rows must be merged into what is stored
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		existing := map[string]string{} // key → id
		rows, err := tx.QueryContext(ctx, `SELECT contact_key, id FROM contacts WHERE list_id = $1 AND contact_key <> ''`, l.ID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k, id string
			if err := rows.Scan(&k, &id); err != nil {
				rows.Close()
				return err
			}
			existing[k] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		w := &importWriter{ctx: ctx, tx: tx, listID: l.ID, now: now}
		defer w.close()
		var ins, upd []importRow
		var updIDs []string
		for i, g := range good {
			if id, ok := existing[g.rec.key]; ok {
				upd = append(upd, g)
				updIDs = append(updIDs, id)
			} else {
				g.row = i // the ord offset within this import
				ins = append(ins, g)
			}
		}
		per := importBatch(s.db.Dialect)
		w.per = per
		for start := 0; start < len(ins); start += per {
			if err := w.insert(ins[start:min(start+per, len(ins))]); err != nil {
				return err
			}
		}
		for start := 0; start < len(upd); start += per {
			end := min(start+per, len(upd))
			batch, ids := upd[start:end], updIDs[start:end]
			if partial {
				if err := w.merge(sc, batch, ids, present, hasZone); err != nil {
					return err
				}
			}
			if err := w.update(batch, ids); err != nil {
				return err
			}
		}
		rep.Imported, rep.Updated = len(ins), len(upd)
		if err := s.events.Add(ctx, tx, listTopic(l.ID)+".importstatus", ImportStatus{
			Imported: rep.Imported, Updated: rep.Updated, Skipped: rep.Skipped, ErrorCount: rep.ErrorCount}); err != nil {
			return err
		}
		return s.events.Add(ctx, tx, listTopic(l.ID), Change{Action: "updated", Entity: "contactlist", ID: l.ID, Name: l.Name})
	})
}

// importWriter runs the batched statements of one import. Every full batch
// has the same text, so each text is prepared once and reused.
type importWriter struct {
	ctx    context.Context
	tx     *store.Tx
	listID string
	now    int64
	stmts  map[string]*sql.Stmt
	per    int // rows per statement
}

func (w *importWriter) close() {
	for _, st := range w.stmts {
		st.Close()
	}
}

func (w *importWriter) exec(q string, args []any) error {
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	st, ok := w.stmts[q]
	if !ok {
		var err error
		if st, err = w.tx.PrepareContext(w.ctx, q); err != nil {
			return err
		}
		w.stmts[q] = st
	}
	_, err := st.ExecContext(w.ctx, args...)
	return err
}

func valuesList(n, per, start int, tmpl func(b *strings.Builder, p func(int) string)) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		base := start + i*per
		tmpl(&b, func(k int) string { return "$" + strconv.Itoa(base+k) })
	}
	return b.String()
}

func (w *importWriter) insert(batch []importRow) error {
	q := `INSERT INTO contacts (id, list_id, contact_key, data, phones, search, time_zone, status, ord, created_at, modified_at) VALUES ` +
		valuesList(len(batch), 7, 3, func(b *strings.Builder, p func(int) string) {
			fmt.Fprintf(b, "(%s, $1, %s, %s, %s, %s, %s, 'new', %s, $2, $2)", p(0), p(1), p(2), p(3), p(4), p(5), p(6))
		})
	args := make([]any, 0, 2+7*len(batch))
	args = append(args, w.listID, w.now)
	var phones []phoneRow
	for _, g := range batch {
		id := uuid.NewString()
		data, ph := g.rec.json()
		args = append(args, id, g.rec.key, data, ph, g.rec.search(), g.rec.zone, ordOf(w.now, g.row))
		phones = appendPhones(phones, id, g.rec.phones)
	}
	if err := w.exec(q, args); err != nil {
		return err
	}
	return w.insertPhones(phones)
}

type phoneRow struct{ id, phone string }

func appendPhones(out []phoneRow, id string, phones []Phone) []phoneRow {
	for i, p := range phones {
		dup := false
		for _, q := range phones[:i] {
			dup = dup || q.Number == p.Number
		}
		if !dup {
			out = append(out, phoneRow{id, p.Number})
		}
	}
	return out
}

func (w *importWriter) insertPhones(rows []phoneRow) error {
	per := 2 * w.per
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		q := `INSERT INTO contact_phones (contact_id, list_id, phone) VALUES ` +
			valuesList(len(batch), 2, 2, func(b *strings.Builder, p func(int) string) {
				fmt.Fprintf(b, "(%s, $1, %s)", p(0), p(1))
			})
		args := make([]any, 0, 1+2*len(batch))
		args = append(args, w.listID)
		for _, r := range batch {
			args = append(args, r.id, r.phone)
		}
		if err := w.exec(q, args); err != nil {
			return err
		}
	}
	return nil
}

// merge completes rows of a file that names only some fields with the
// stored values of the others.
func (w *importWriter) merge(sc Schema, batch []importRow, ids []string, present map[string]bool, hasZone bool) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := w.tx.QueryContext(w.ctx, `SELECT id, data FROM contacts WHERE id IN (`+placeholders(1, len(ids))+`)`, args...)
	if err != nil {
		return err
	}
	old := map[string]map[string]string{}
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return err
		}
		m := map[string]string{}
		json.Unmarshal([]byte(data), &m)
		old[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range batch {
		r := &batch[i].rec
		prev := old[ids[i]]
		r.phones = r.phones[:0:0]
		for _, f := range sc.Fields {
			if !present[f.Name] {
				r.data[f.Name] = prev[f.Name]
			}
			if f.Type == TypePhone && r.data[f.Name] != "" {
				r.phones = append(r.phones, Phone{Field: f.Name, Number: r.data[f.Name]})
			}
		}
		if !hasZone || r.zone == "" {
			r.zone = ""
			if len(r.phones) > 0 {
				r.zone = ZoneOf(r.phones[0].Number)
			}
		}
	}
	return nil
}

func (w *importWriter) update(batch []importRow, ids []string) error {
	q := `UPDATE contacts SET data = v.column2, phones = v.column3, search = v.column4, time_zone = v.column5, modified_at = $1 FROM (VALUES ` +
		valuesList(len(batch), 5, 2, func(b *strings.Builder, p func(int) string) {
			fmt.Fprintf(b, "(%s, %s, %s, %s, %s)", p(0), p(1), p(2), p(3), p(4))
		}) + `) AS v WHERE contacts.id = v.column1`
	args := make([]any, 0, 1+5*len(batch))
	args = append(args, w.now)
	var phones []phoneRow
	idArgs := make([]any, len(ids))
	for i, g := range batch {
		data, ph := g.rec.json()
		args = append(args, ids[i], data, ph, g.rec.search(), g.rec.zone)
		phones = appendPhones(phones, ids[i], g.rec.phones)
		idArgs[i] = ids[i]
	}
	if err := w.exec(q, args); err != nil {
		return err
	}
	if _, err := w.tx.ExecContext(w.ctx, `DELETE FROM contact_phones WHERE contact_id IN (`+placeholders(1, len(ids))+`)`, idArgs...); err != nil {
		return err
	}
	return w.insertPhones(phones)
}

// ExportColumns are the columns an export adds after the schema's fields.
var ExportColumns = []string{"id", "status", "attempts", "lastOutcome", "category", "subcategory", "timeZone"}

// Export writes a list's contacts as CSV (comma-separated, UTF-8): a header
// of the schema's field names plus ExportColumns, one row per contact in
// list order. It reads the list in pages, so any size streams.
func (s *Service) Export(ctx context.Context, listID string, w io.Writer) error {
	_, sc, err := s.listAndSchema(ctx, s.db, listID)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := make([]string, 0, len(sc.Fields)+len(ExportColumns))
	for _, f := range sc.Fields {
		head = append(head, f.Name)
	}
	head = append(head, ExportColumns...)
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(head))
	// Keyset paging on (ord, id): no long-lived read transaction.
	lastOrd, lastID := int64(-1), ""
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT `+contactColumns+`, ord FROM contacts WHERE list_id = $1 AND (ord > $2 OR (ord = $2 AND id > $3))
			ORDER BY ord, id LIMIT 1000`, listID, lastOrd, lastID)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var ord int64
			c, err := scanContact(rows, &ord)
			if err != nil {
				rows.Close()
				return err
			}
			n++
			lastOrd, lastID = ord, c.ID
			for i, f := range sc.Fields {
				rec[i] = c.Data[f.Name]
			}
			k := len(sc.Fields)
			copy(rec[k:], []string{c.ID, c.Status, strconv.Itoa(c.Attempts), c.LastOutcome, c.Category, c.Subcategory, c.TimeZone})
			if err := cw.Write(rec); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if n < 1000 {
			return nil
		}
	}
}
