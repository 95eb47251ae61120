// Package web holds Centralita's browser-facing assets: the admin console
// (a Preact + htm single-page app loaded as plain ES modules through an
// import map, with no build step) and the server-rendered OAuth login page.
//
// Everything is embedded in the binary, so a deployment is one file.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is an embedded file prepared once at start-up, so requests never
// touch the embed.FS or hash anything.
type asset struct {
	name        string // base name, used by http.ServeContent for Range handling
	data        []byte
	etag        string // strong ETag over the served bytes
	version     string // short content hash used in versioned /vendor/ URLs
	contentType string
	csp         string // only for HTML documents
}

// contentTypes is explicit rather than mime.TypeByExtension because the
// system MIME tables differ between hosts and some lack .mjs, and a module
// script served with a non-JavaScript type is refused by browsers.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".ico":  "image/x-icon",
	".png":  "image/png",
	".txt":  "text/plain; charset=utf-8",
	".map":  "application/json",
}

var assets = mustLoadAssets()

func mustLoadAssets() map[string]*asset {
	m, err := loadAssets(staticFS)
	if err != nil {
		panic("web: " + err.Error())
	}
	return m
}

// loadAssets maps URL paths ("/ui/app.js") to prepared assets. The console's
// HTML documents get their /vendor/ references rewritten to content-hashed
// URLs, which is what lets /vendor/ be cached as immutable while an upgrade
// of a vendored library is still picked up at once.
func loadAssets(fsys fs.FS) (map[string]*asset, error) {
	m := map[string]*asset{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		urlPath := strings.TrimPrefix(p, "static")
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		m[urlPath] = &asset{name: path.Base(p), data: data, contentType: ct}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, a := range m {
		sum := sha256.Sum256(a.data)
		a.version = hex.EncodeToString(sum[:6])
	}
	for p, a := range m {
		if path.Ext(p) != ".html" {
			continue
		}
		for vp, va := range m {
			if strings.HasPrefix(vp, "/vendor/") {
				a.data = bytes.ReplaceAll(a.data, []byte(`"`+vp+`"`), []byte(`"`+vp+"?v="+va.version+`"`))
			}
		}
		a.csp = documentCSP(a.data)
	}
	for _, a := range m {
		sum := sha256.Sum256(a.data)
		a.etag = `"` + hex.EncodeToString(sum[:16]) + `"`
	}
	return m, nil
}

var inlineScriptRE = regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`)

// documentCSP allows exactly the page's inline import map (by hash) and
// same-origin scripts: an XSS in the console would otherwise be able to
// read the bearer token out of sessionStorage.
func documentCSP(html []byte) string {
	scriptSrc := "'self'"
	for _, m := range inlineScriptRE.FindAllSubmatch(html, -1) {
		sum := sha256.Sum256(m[1])
		scriptSrc += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'self'; script-src " + scriptSrc +
		"; style-src 'self'; img-src 'self' data:; connect-src 'self'" +
		"; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
}

// Handler serves the console under /ui/, the agent softphone under
// /softphone/, the vendored ES modules under
// /vendor/ and redirects / to the console. Mount it at "/" (and/or at
// "/ui/" and "/vendor/"); any other path is answered with 404.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if p == "/" || p == "/ui" {
		http.Redirect(w, r, "/ui/", http.StatusFound)
		return
	}
	if p == "/softphone" {
		http.Redirect(w, r, "/softphone/", http.StatusFound)
		return
	}
	if !strings.HasPrefix(p, "/ui/") && !strings.HasPrefix(p, "/vendor/") && !strings.HasPrefix(p, "/softphone/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	a, ok := assets[path.Clean(p)]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case a.csp != "" && strings.HasPrefix(p, "/softphone/"):
		// The softphone is framed by the CRM (Salesforce Open CTI) and loads
		// the CRM's opencti_min.js from the origin that frames it.
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", softphoneCSP(a.csp, r.URL.Query().Get("sfdcIframeOrigin")))
		h.Set("Referrer-Policy", "no-referrer")
	case a.csp != "":
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", a.csp)
		h.Set("X-Frame-Options", "DENY")
		// The page is reached with ?code=&state= after login; keep those
		// out of any Referer until the app has replaced the URL.
		h.Set("Referrer-Policy", "no-referrer")
	case strings.HasPrefix(p, "/vendor/") && r.URL.Query().Get("v") == a.version:
		// The URL names the content, so it can never go stale.
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	default:
		// Unversioned URLs: revalidate every time; the ETag makes that a
		// cheap 304.
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.data))
}

// softphoneFrameAncestors are the hosts allowed to frame the softphone:
// Salesforce's domains, and loopback for development and the browser tests.
var softphoneFrameAncestors = "'self' https://*.salesforce.com https://*.force.com https://*.visualforce.com" +
	" https://*.salesforce-setup.com http://localhost:* http://127.0.0.1:*"

var loopbackOriginRE = regexp.MustCompile(`^http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$`)
var salesforceOriginRE = regexp.MustCompile(`^https://[a-z0-9-]+(\.[a-z0-9-]+)*\.(salesforce\.com|force\.com|visualforce\.com|salesforce-setup\.com)(:[0-9]{1,5})?$`)

// softphoneScriptOrigin returns the origin the softphone may load
// opencti_min.js from: the sfdcIframeOrigin parameter when it names a
// Salesforce (or loopback) origin, else "". Anything else would let
// whoever frames the page run script in Centralita's origin.
func softphoneScriptOrigin(origin string) string {
	o := strings.ToLower(strings.TrimRight(origin, "/"))
	if salesforceOriginRE.MatchString(o) || loopbackOriginRE.MatchString(o) {
		return o
	}
	return ""
}

// softphoneCSP is the document CSP of the softphone: framable by the CRM
// hosts, and allowed to load scripts from the validated Salesforce origin.
func softphoneCSP(base, sfdcOrigin string) string {
	csp := strings.Replace(base, "frame-ancestors 'none'", "frame-ancestors "+softphoneFrameAncestors, 1)
	if o := softphoneScriptOrigin(sfdcOrigin); o != "" {
		csp = strings.Replace(csp, "script-src 'self'", "script-src 'self' "+o, 1)
	}
	return csp
}

// assetVersion is used by tests to build versioned vendor URLs.
func assetVersion(urlPath string) (string, error) {
	a, ok := assets[urlPath]
	if !ok {
		return "", fmt.Errorf("no asset %s", urlPath)
	}
	return a.version, nil
}
