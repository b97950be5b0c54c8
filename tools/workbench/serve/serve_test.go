package serve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "TOP-SECRET-OUTSIDE-THE-STORE"

// newStore lays out a store with three runs, the symlinks the workbench
// makes (latest, <workload>/latest), and links that try to leave it.
func newStore(t *testing.T) (root, store string) {
	t.Helper()
	root = t.TempDir()
	store = filepath.Join(root, "store")
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, rel string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	echo := "store/echo/20260305T112642.178Z"
	write(echo+"/results.json", `{"valid?": true, "stats": {"count": 52}, "availability": {"ok-fraction": 1}, "net": {"servers": {"msgs-per-op": 0.0}}}`)
	write(echo+"/results.edn", "{:valid? true}\n")
	write(echo+"/index.html", "<html>echo report</html>")
	write(echo+"/history.txt", "0\t:invoke\t:echo\n")
	bcast := "store/broadcast/20260306T090000.000Z"
	write(bcast+"/results.json", `{"valid?": false, "stats": {"count": 400}, "net": {"servers": {"msgs-per-op": 12.3456}}}`)
	write("store/kafka/20260307T090000.000Z/history.json", "")
	write("secret.txt", secret)

	link("broadcast/20260306T090000.000Z", "store/latest")                       // relative, inside
	link(filepath.Join(root, echo), "store/echo/latest")                         // absolute, inside
	link("../../secret.txt", "store/echo/leak")                                  // relative, outside
	link(root, "store/evil")                                                     // a directory outside
	link(filepath.Join(root, "secret.txt"), filepath.Join(echo, "abs-leak.txt")) // absolute, outside
	return root, store
}

func newServer(t *testing.T) *Server {
	t.Helper()
	_, store := newStore(t)
	s, err := New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func TestRunsPageNewestFirstWithVerdicts(t *testing.T) {
	s := newServer(t)
	rec := get(t, s, "/")
	if rec.Code != 200 {
		t.Fatalf("GET / = %d", rec.Code)
	}
	body := rec.Body.String()
	k := strings.Index(body, "20260307T090000.000Z")
	b := strings.Index(body, "20260306T090000.000Z")
	e := strings.Index(body, "20260305T112642.178Z")
	if k < 0 || b < 0 || e < 0 || !(k < b && b < e) {
		t.Fatalf("runs not listed newest first (kafka %d, broadcast %d, echo %d):\n%s", k, b, e, body)
	}
	for _, want := range []string{"2026-03-05 11:26:42 UTC", `badge incomplete">incomplete`, `badge invalid">invalid`, `badge valid">valid`, "12.35", ">52<"} {
		if !strings.Contains(body, want) {
			t.Errorf("runs page lacks %q", want)
		}
	}
	if strings.Count(body, `href="echo/20260305T112642.178Z/"`) != 1 {
		t.Error("the echo run should be listed exactly once (latest symlinks skipped)")
	}
}

func TestServesRunsThroughSymlinksInside(t *testing.T) {
	s := newServer(t)
	cases := []struct {
		path, want, ctype string
	}{
		{"/echo/20260305T112642.178Z/", "echo report", "text/html"},
		{"/echo/20260305T112642.178Z/results.edn", "{:valid? true}", "text/plain"},
		{"/echo/latest/history.txt", ":invoke", "text/plain"},           // absolute symlink, inside
		{"/latest/results.json", `"valid?": false`, "application/json"}, // relative symlink, inside
		{"/echo/20260305T112642.178Z/?files", "results.edn", "text/html"},
	}
	for _, c := range cases {
		rec := get(t, s, c.path)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), c.want) || !strings.HasPrefix(rec.Header().Get("Content-Type"), c.ctype) {
			t.Errorf("GET %s = %d %q %q; want 200 %s containing %q", c.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String(), c.ctype, c.want)
		}
	}
	if rec := get(t, s, "/echo/20260305T112642.178Z"); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/echo/20260305T112642.178Z/" {
		t.Errorf("a directory without a slash should redirect to one: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := get(t, s, "/no/such/run/"); rec.Code != 404 {
		t.Errorf("missing path = %d, want 404", rec.Code)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", rec.Code)
	}
}

var escapes = []string{
	"/../secret.txt",
	"/%2e%2e/secret.txt",
	"/%2E%2E/%2e%2e/secret.txt",
	"/echo/..%2f..%2fsecret.txt",
	"/echo/%2e%2e%2f%2e%2e%2fsecret.txt",
	"/echo/leak",
	"/evil/secret.txt",
	"/evil/",
	"/echo/20260305T112642.178Z/abs-leak.txt",
	"/echo/latest/abs-leak.txt",
}

func TestRefusesPathsOutsideTheStore(t *testing.T) {
	s := newServer(t)
	for _, p := range escapes {
		rec := get(t, s, p)
		if strings.Contains(rec.Body.String(), secret) {
			t.Errorf("GET %s leaked a file outside the store", p)
		}
		if rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 403 or 404", p, rec.Code)
		}
	}
}

// TestRefusesRawTraversalOverTCP sends the paths exactly as written, so no
// client-side cleaning hides a bug.
func TestRefusesRawTraversalOverTCP(t *testing.T) {
	s := newServer(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, p := range append(escapes, "/echo/../../secret.txt", "/./../secret.txt", "//../secret.txt") {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", p)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("GET %s: %v", p, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if strings.Contains(string(body), secret) {
			t.Errorf("raw GET %s leaked a file outside the store", p)
		}
		if resp.StatusCode == 200 {
			t.Errorf("raw GET %s = 200, want a refusal", p)
		}
	}
}

func TestNewRejectsAMissingStore(t *testing.T) {
	if _, err := New(filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Error("New on a missing store should fail")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := New(f, nil); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New on a file: %v", err)
	}
}

func TestListenAndServeDefaultsToLoopback(t *testing.T) {
	_, store := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- ListenAndServe(ctx, Config{Port: 0, Store: store}, nil, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("server did not start")
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("listening on %s, want loopback by default", addr)
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET / = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}
