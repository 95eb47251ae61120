package web

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// LoginData fills the OAuth sign-in page. The OAuth fields are echoed back
// as hidden inputs so the POST to /oauth/authorize carries the original
// authorization request.
type LoginData struct {
	ClientID            string
	RedirectURI         string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string
	Scope               string
	Username            string // pre-filled after a failed attempt
	Error               string // shown to the user; also makes the status 401
	Lang                string // "es" for Spanish, anything else English
}

type loginText struct {
	Title, Heading, User, Password, Submit, Product string
}

var loginTexts = map[string]loginText{
	"en": {
		Title:    "Centralita — Sign in",
		Heading:  "Sign in",
		User:     "User",
		Password: "Password",
		Submit:   "Log in",
		Product:  "Centralita contact center",
	},
	"es": {
		Title:    "Centralita — Iniciar sesión",
		Heading:  "Iniciar sesión",
		User:     "Usuario",
		Password: "Contraseña",
		Submit:   "Entrar",
		Product:  "Centro de contacto Centralita",
	},
}

//go:embed login.html
var loginHTML string

var loginTmpl = template.Must(template.New("login").Parse(loginHTML))

// loginCSP: the page has only inline CSS and no scripts at all. No
// form-action directive on purpose: browsers apply it to the redirect that
// follows the POST, which goes to the client's (possibly other-origin)
// redirect_uri.
const loginCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'"

// RenderLogin writes the sign-in page: status 200, or 401 when d.Error is
// set. Nothing is written if the template fails.
func RenderLogin(w http.ResponseWriter, d LoginData) error {
	lang := "en"
	if d.Lang == "es" {
		lang = "es"
	}
	var buf bytes.Buffer
	err := loginTmpl.Execute(&buf, struct {
		LoginData
		T    loginText
		Lang string
	}{d, loginTexts[lang], lang})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The page embeds the state and PKCE challenge of one request.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", loginCSP)
	h.Set("X-Frame-Options", "DENY") // a password form must not be framed
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// LangFromRequest returns "es" when the Accept-Language header ranks
// Spanish above English (or Spanish is acceptable and English is not),
// and "en" otherwise.
func LangFromRequest(r *http.Request) string {
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		fields := strings.Split(part, ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		if tag == "" {
			continue
		}
		q := 1.0
		for _, param := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
			if ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q <= 0 {
			continue // q=0 means "not acceptable"
		}
		prefs = append(prefs, pref{tag, q})
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		primary, _, _ := strings.Cut(p.tag, "-")
		switch primary {
		case "es":
			return "es"
		case "en":
			return "en"
		}
	}
	return "en"
}
