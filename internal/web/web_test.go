package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// get sends a request through a mux mounted the way the server mounts the
// handler.
func get(t *testing.T, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", Handler())
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

var importMapRE = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

func importMap(t *testing.T, body string) map[string]string {
	t.Helper()
	m := importMapRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no import map in:\n%s", body)
	}
	var parsed struct{ Imports map[string]string }
	if err := json.Unmarshal([]byte(m[1]), &parsed); err != nil {
		t.Fatalf("import map is not JSON: %v", err)
	}
	return parsed.Imports
}

func TestUIServesIndexWithImportMap(t *testing.T) {
	rec := get(t, "GET", "/ui/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", cc)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `<script type="importmap">`) {
		t.Fatal("no importmap")
	}
	imports := importMap(t, body)
	for _, name := range []string{"preact", "preact/hooks", "htm"} {
		if !strings.HasPrefix(imports[name], "/vendor/") {
			t.Errorf("import map entry %q = %q", name, imports[name])
		}
	}
	if !strings.Contains(body, `src="/ui/app.js"`) {
		t.Error("index does not load /ui/app.js")
	}
}

func TestIndexCSPAllowsExactlyTheImportMap(t *testing.T) {
	rec := get(t, "GET", "/ui/", nil)
	m := importMapRE.FindStringSubmatch(rec.Body.String())
	sum := sha256.Sum256([]byte(m[1]))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' "+want) {
		t.Errorf("CSP %q lacks %s", csp, want)
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline scripts: %q", csp)
	}
}

// Every bare specifier used by the console or the vendored modules must be
// in the import map (hooks.mjs imports "preact", for one), and must resolve
// to the very URL the page uses, or Preact would load twice.
func TestImportMapCoversBareImports(t *testing.T) {
	imports := importMap(t, get(t, "GET", "/ui/", nil).Body.String())
	bare := regexp.MustCompile(`(?:from|import)\s*["']([^"'./][^"']*)["']`)
	for p, a := range assets {
		if !strings.HasSuffix(p, ".js") && !strings.HasSuffix(p, ".mjs") {
			continue
		}
		for _, m := range bare.FindAllStringSubmatch(string(a.data), -1) {
			if _, ok := imports[m[1]]; !ok {
				t.Errorf("%s imports %q, missing from the import map", p, m[1])
			}
		}
	}
	for name, url := range imports {
		path, query, _ := strings.Cut(url, "?")
		a, ok := assets[path]
		if !ok {
			t.Errorf("import map %q -> %q: no such asset", name, url)
			continue
		}
		if query != "v="+a.version {
			t.Errorf("import map %q -> %q: want version %s", name, url, a.version)
		}
	}
}

func TestRelativeImportsExist(t *testing.T) {
	rel := regexp.MustCompile(`from\s*'\./([^']+)'`)
	for p, a := range assets {
		if !strings.HasPrefix(p, "/ui/") || !strings.HasSuffix(p, ".js") {
			continue
		}
		for _, m := range rel.FindAllStringSubmatch(string(a.data), -1) {
			if _, ok := assets["/ui/"+m[1]]; !ok {
				t.Errorf("%s imports ./%s which is not embedded", p, m[1])
			}
		}
	}
}

func TestVendorModulesAreJavaScript(t *testing.T) {
	for _, name := range []string{"preact.mjs", "hooks.mjs", "htm.mjs"} {
		rec := get(t, "GET", "/vendor/"+name, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", name, rec.Code)
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("%s unversioned: Cache-Control %q", name, cc)
		}
		v, err := assetVersion("/vendor/" + name)
		if err != nil {
			t.Fatal(err)
		}
		rec = get(t, "GET", "/vendor/"+name+"?v="+v, nil)
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s versioned: Cache-Control %q", name, cc)
		}
	}
	for _, name := range []string{"app.js", "api.js", "auth.js", "i18n.js"} {
		rec := get(t, "GET", "/ui/"+name, nil)
		if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("/ui/%s: %d %q", name, rec.Code, ct)
		}
	}
	if ct := get(t, "GET", "/ui/style.css", nil).Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css: Content-Type %q", ct)
	}
}

func TestRootRedirectsToUI(t *testing.T) {
	for _, target := range []string{"/", "/ui"} {
		rec := get(t, "GET", target, nil)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/ui/" {
			t.Errorf("%s: %d Location=%q", target, rec.Code, rec.Header().Get("Location"))
		}
	}
}

func TestNotFound(t *testing.T) {
	for _, target := range []string{"/favicon.ico", "/vendor/", "/ui/missing.js", "/nope", "/vendor/preact.LICENSE"} {
		if rec := get(t, "GET", target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d", target, rec.Code)
		}
	}
	// Unclean paths never reach the handler through a ServeMux; straight
	// to the handler they must not escape the embedded tree either.
	for _, target := range []string{"/ui/../go.mod", "/vendor/../web.go", "/ui/../../login.go"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = target
		rec := httptest.NewRecorder()
		Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d", target, rec.Code)
		}
	}
}

func TestConditionalGet(t *testing.T) {
	rec := get(t, "GET", "/ui/app.js", nil)
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	rec = get(t, "GET", "/ui/app.js", http.Header{"If-None-Match": {etag}})
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d", rec.Code)
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	if rec := get(t, "HEAD", "/ui/", nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	rec := get(t, "POST", "/ui/", nil)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("POST: %d Allow=%q", rec.Code, rec.Header().Get("Allow"))
	}
}

func TestEmbeddedVendorFilesPresent(t *testing.T) {
	for _, p := range []string{"static/vendor/preact.mjs", "static/vendor/hooks.mjs", "static/vendor/htm.mjs"} {
		if b, err := fs.ReadFile(staticFS, p); err != nil || len(b) < 500 {
			t.Errorf("%s: %v (%d bytes)", p, err, len(b))
		}
	}
}

func TestRenderLoginEscapesAndEchoesFields(t *testing.T) {
	rec := httptest.NewRecorder()
	err := RenderLogin(rec, LoginData{
		ClientID:            "centralita-web",
		RedirectURI:         "https://pbx.example/ui/",
		State:               `st"ate`,
		CodeChallenge:       "abc",
		CodeChallengeMethod: "S256",
		Scope:               "openid",
		Username:            `<script>alert(1)</script>`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusOK {
		t.Errorf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert(1)</script>") {
		t.Fatal("username not escaped")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("escaped username missing:\n%s", body)
	}
	if strings.Contains(body, `role="alert"`) {
		t.Error("alert shown without an error")
	}
	for _, want := range []string{
		`<title>Centralita — Sign in</title>`,
		`method="post" action="/oauth/authorize"`,
		`name="response_type" value="code"`,
		`name="client_id" value="centralita-web"`,
		`name="redirect_uri" value="https://pbx.example/ui/"`,
		`name="state" value="st&#34;ate"`,
		`name="code_challenge" value="abc"`,
		`name="code_challenge_method" value="S256"`,
		`name="scope" value="openid"`,
		`<label for="username">User</label>`,
		`<label for="password">Password</label>`,
		`name="password"`,
		`>Log in</button>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestRenderLoginErrorIs401WithAlert(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := RenderLogin(rec, LoginData{Error: "Wrong <user> or password", Lang: "es"}); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, `<p role="alert">Wrong &lt;user&gt; or password</p>`) {
		t.Errorf("alert missing:\n%s", body)
	}
	for _, want := range []string{`<html lang="es">`, "Centralita — Iniciar sesión", ">Usuario<", ">Contraseña<", ">Entrar</button>"} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestRenderLoginSpanishFromAcceptLanguage(t *testing.T) {
	req := httptest.NewRequest("GET", "/oauth/authorize", nil)
	req.Header.Set("Accept-Language", "es-ES,es;q=0.9")
	rec := httptest.NewRecorder()
	if err := RenderLogin(rec, LoginData{Lang: LangFromRequest(req)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.Body.String(), "<title>Centralita — Iniciar sesión</title>") {
		t.Error("not Spanish")
	}
}

func TestLangFromRequest(t *testing.T) {
	cases := map[string]string{
		"":                              "en",
		"es-ES,es;q=0.9":                "es",
		"es":                            "es",
		"ES-mx":                         "es",
		"en-US,en;q=0.9,es;q=0.8":       "en",
		"fr-FR,fr;q=0.9,es;q=0.8":       "es",
		"de, en;q=0.5, es;q=0.7":        "es",
		"en;q=0.4, es;q=0.3":            "en",
		"es;q=0, en":                    "en",
		"*":                             "en",
		"es-419;q=0.8, en-GB;q=0.8, fr": "es",
		"garbage;;q=abc, es;q=0.2":      "es",
	}
	for header, want := range cases {
		req := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			req.Header.Set("Accept-Language", header)
		}
		if got := LangFromRequest(req); got != want {
			t.Errorf("%q: got %s, want %s", header, got, want)
		}
	}
}
