package app

import (
	"os/exec"
	"strings"
	"testing"
)

// The house rules of docs/architecture.md: the HTTP and UI layers sit on top;
// domain packages never import them, nor the composition root.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "github.com/centralita/centralita/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const mod = "github.com/centralita/centralita/"
	top := map[string]bool{"internal/api": true, "internal/web": true, "internal/app": true, "internal/app/apptest": true, "cmd/centralita": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		pkg = strings.TrimPrefix(pkg, mod)
		if top[pkg] {
			continue
		}
		checked++
		for _, imp := range strings.Fields(imports) {
			imp = strings.TrimPrefix(imp, mod)
			if top[imp] {
				t.Errorf("%s imports %s: domain packages must not depend on the HTTP/UI layers or the composition root", pkg, imp)
			}
		}
	}
	if checked < 8 {
		t.Fatalf("only %d domain packages checked; is go list seeing the module?", checked)
	}
}
