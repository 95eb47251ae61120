package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "centralita")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func runCmd(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The commands work from a fresh data directory, as the README shows them.
func TestCommands(t *testing.T) {
	bin := build(t)
	data := t.TempDir()
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	env := []string{"CENTRALITA_MASTER_KEY=" + key}

	out, err := runCmd(t, bin, nil, "version")
	if err != nil || !strings.HasPrefix(out, "centralita ") {
		t.Fatalf("version: %v %s", err, out)
	}
	migrations, _ := filepath.Glob("../../internal/store/migrations/*.sql")
	out, err = runCmd(t, bin, nil, "migrate", "--data", data)
	if err != nil || len(migrations) == 0 || !strings.Contains(out, "migrations applied: "+strconv.Itoa(len(migrations))+" (sqlite)") {
		t.Fatalf("migrate: %v %s", err, out)
	}
	out, err = runCmd(t, bin, nil, "migrate", "--data", data)
	if err != nil || !strings.Contains(out, "migrations applied: 0") {
		t.Fatalf("second migrate: %v %s", err, out)
	}
	out, err = runCmd(t, bin, env, "admin", "create-user", "--data", data, "--username", "ana", "--name", "Ana", "--password", "s3cret!", "--role", "admin")
	if err != nil || !strings.Contains(out, "user created: ana (Ana)") || !strings.Contains(out, "roles=admin") {
		t.Fatalf("create-user: %v %s", err, out)
	}
	out, err = runCmd(t, bin, env, "admin", "create-user", "--data", data, "--username", "ana", "--password", "x1234")
	if err == nil || !strings.Contains(out, "username") {
		t.Fatalf("duplicate user must fail naming the field: %v %s", err, out)
	}
	out, err = runCmd(t, bin, env, "admin", "create-client", "--data", data, "--name", "CRM sync", "--role", "supervisor")
	if err != nil || !strings.Contains(out, "client secret: ") || strings.Contains(out, "client secret: \n") {
		t.Fatalf("create-client: %v %s", err, out)
	}
	out, err = runCmd(t, bin, env, "admin", "reset-password", "--data", data, "--username", "ana", "--password", "n3w-pass")
	if err != nil || !strings.Contains(out, "password reset for ana") {
		t.Fatalf("reset-password: %v %s", err, out)
	}
	out, err = runCmd(t, bin, nil, "admin", "create-user", "--data", data, "--username", "bob", "--password", "x1234")
	if err == nil || !strings.Contains(out, "master_key") {
		t.Fatalf("admin without a key (and no demo key file) must fail naming master_key: %v %s", err, out)
	}
	out, err = runCmd(t, bin, nil, "serve", "--data", data)
	if err == nil || !strings.Contains(out, "master_key") {
		t.Fatalf("serve without a key: %v %s", err, out)
	}
	out, err = runCmd(t, bin, env, "serve", "--data", data, "--listen", "not-an-address")
	if err == nil || !strings.Contains(out, `setting listen = "not-an-address"`) || !strings.Contains(out, "host:port") {
		t.Fatalf("bad listen: %v %s", err, out)
	}
}

// The demo prints its URL and logins, answers /healthz, and stops cleanly on SIGTERM.
func TestDemoStartsAndStops(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "demo", "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var url, banner string
	deadline := time.After(30 * time.Second)
	for url == "" || !strings.Contains(banner, "demo-client / demo-secret") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited early; output so far:\n%s", banner)
			}
			banner += l + "\n"
			if u, found := strings.CutPrefix(strings.TrimSpace(l), "Centralita demo is ready at "); found {
				url = u
			}
		case <-deadline:
			t.Fatalf("no banner within 30 s:\n%s", banner)
		}
	}
	for _, want := range []string{"admin      / admin", "supervisor / supervisor", "agent1     / agent", "agent5     / agent", "1001..1005"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	res, err := http.Get(url + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, res)
	}
	res.Body.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("demo did not stop within 20 s of SIGTERM")
	}
}
